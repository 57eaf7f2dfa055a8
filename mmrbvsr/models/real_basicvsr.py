"""The RealBasicVSR training model: generator, EMA, losses, optional GAN (Chan et al., 2022)."""
from copy import deepcopy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapperDict

from mmrbvsr.registry import MODELS

from .losses import CleaningLoss

GTData = Tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def set_requires_grad(module: Optional[nn.Module], flag: bool) -> None:
    """Turns gradients of all parameters of ``module`` (if any) on or off."""
    if module is not None:
        for param in module.parameters():
            param.requires_grad = flag


@MODELS.register_module()
class RealBasicVSR(BaseModel):
    """RealBasicVSR for real-world video super-resolution, stage 1 and stage 2.

    "Investigating Tradeoffs in Real-World Video Super-Resolution", Chan et al., CVPR 2022.
    Same constructor, losses, log keys (``loss_pix``, ``loss_clean``, ``loss_perceptual``,
    ``loss_gan``, ``loss_d_real``, ``loss_d_fake``) and state-dict keys as MMagic 1.2.0's
    ``RealBasicVSR``. Stage 1 leaves ``discriminator``/``gan_loss``/``perceptual_loss`` out.

    One training step: the generator maps the LR clip (N, T, 3, h, w) to the output
    (N, T, 3, 4h, 4w) and the cleaned LR frames; the generator loss is

        pixel(out, gt_pixel) + perceptual(out, gt_percep) + gan(D(out))
        + cleaning(cleaned, d(gt_pixel)),

    where ``gt_*`` is the GT or its unsharp-masked version (``is_use_sharpened_gt_in_*``)
    and ``d`` the x4 downsampling of :class:`CleaningLoss`. Then the discriminator takes one
    step on the unsharpened GT (real) and the detached output (fake), frame by frame.
    Optim wrappers are ``optim_wrapper['generator']`` and ``['discriminator']``.

    Args:
        generator (dict): Generator config; with a cleaning loss it must accept
            ``return_lqs=True`` and return ``(out, cleaned_lqs)``.
        discriminator (dict, optional): Discriminator config (stage 2).
        gan_loss (dict, optional): GAN loss config; its weight applies to G only.
        pixel_loss (dict, optional): Output loss config (L1 in the reference).
        cleaning_loss (dict, optional): :class:`CleaningLoss` config; any other pixel loss
            is wrapped in ``CleaningLoss(criterion=<it>)`` (MMagic's area downsampling).
        perceptual_loss (dict, optional): Perceptual loss config (stage 2).
        is_use_sharpened_gt_in_pixel (bool): Pixel and cleaning loss target is the
            sharpened GT. Default: False.
        is_use_sharpened_gt_in_percep (bool): Same for the perceptual loss. Default: False.
        is_use_sharpened_gt_in_gan (bool): Same for the discriminator's real samples.
            Default: False.
        is_use_ema (bool): Keep ``generator_ema`` (updated by MMagic's
            ``ExponentialMovingAverageHook``) and use it for validation, test and
            ``mode='tensor'``. Default: True.
        train_cfg (dict, optional): ``disc_steps`` (G step every n iterations),
            ``disc_init_steps`` (D-only iterations at the start), ``disc_repeat``
            (D steps per iteration). Defaults 1, 0, 1.
        test_cfg (dict, optional): Unused, kept for config compatibility.
        init_cfg (dict, optional): Initialisation config.
        data_preprocessor (dict, optional): E.g. MMagic's ``DataPreprocessor`` with
            ``mean=[0] * 3, std=[255] * 3``.
    """

    def __init__(self,
                 generator: dict,
                 discriminator: Optional[dict] = None,
                 gan_loss: Optional[dict] = None,
                 pixel_loss: Optional[dict] = None,
                 cleaning_loss: Optional[dict] = None,
                 perceptual_loss: Optional[dict] = None,
                 is_use_sharpened_gt_in_pixel: bool = False,
                 is_use_sharpened_gt_in_percep: bool = False,
                 is_use_sharpened_gt_in_gan: bool = False,
                 is_use_ema: bool = True,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg

        self.generator = MODELS.build(generator)
        self.discriminator = MODELS.build(discriminator) if discriminator else None
        self.gan_loss = MODELS.build(gan_loss) if gan_loss else None
        self.pixel_loss = MODELS.build(pixel_loss) if pixel_loss else None
        self.perceptual_loss = MODELS.build(perceptual_loss) if perceptual_loss else None
        self.cleaning_loss = self._build_cleaning_loss(cleaning_loss)
        if not (self.pixel_loss or self.perceptual_loss or self.gan_loss or self.cleaning_loss):
            raise ValueError('RealBasicVSR needs at least one generator loss, got none')
        if (self.gan_loss is None) != (self.discriminator is None):
            raise ValueError('discriminator and gan_loss must be given together, got '
                             f'discriminator={discriminator}, gan_loss={gan_loss}')

        self.is_use_sharpened_gt_in_pixel = is_use_sharpened_gt_in_pixel
        self.is_use_sharpened_gt_in_percep = is_use_sharpened_gt_in_percep
        self.is_use_sharpened_gt_in_gan = is_use_sharpened_gt_in_gan
        self.is_use_ema = is_use_ema
        # moved only by the EMA hook (no optimizer holds it); its parameters keep
        # requires_grad as in MMagic, so MMSeparateDistributedDataParallel wraps it like
        # the generator and the hook's state-dict keys (``module.*``) match
        self.generator_ema = deepcopy(self.generator) if is_use_ema else None

        cfg = train_cfg or {}
        self.disc_steps = self._positive_int(cfg.get('disc_steps', 1), 'disc_steps')
        self.disc_repeat = self._positive_int(cfg.get('disc_repeat', 1), 'disc_repeat')
        self.disc_init_steps = int(cfg.get('disc_init_steps', 0))
        if self.discriminator is None:
            self.disc_repeat = 0
        self.register_buffer('step_counter', torch.tensor(0), persistent=False)

    def state_dict(self, *args, destination=None, prefix: str = '', keep_vars: bool = False):
        """The state dict, with the same keys whether or not submodules are DDP-wrapped.

        ``MMSeparateDistributedDataParallel`` wraps ``generator``, ``generator_ema`` and
        ``discriminator`` in DDP, and MMEngine's Runner saves ``model.state_dict()``:
        without this, distributed checkpoints get ``generator.module.*`` keys that a
        single-process run (test, stage 2 ``load_from``) silently fails to load.
        """
        if args:  # the deprecated positional form of nn.Module.state_dict
            return super().state_dict(*args, destination=destination, prefix=prefix,
                                      keep_vars=keep_vars)
        from mmengine.runner.checkpoint import get_state_dict
        return get_state_dict(self, destination, prefix, keep_vars)

    @staticmethod
    def _positive_int(value: int, name: str) -> int:
        if int(value) != value or value < 1:
            raise ValueError(f'train_cfg.{name} must be a positive integer, got {value!r}')
        return int(value)

    @staticmethod
    def _build_cleaning_loss(cfg: Optional[dict]) -> Optional[nn.Module]:
        if not cfg:
            return None
        loss = MODELS.build(cfg)
        return loss if isinstance(loss, CleaningLoss) else CleaningLoss(criterion=loss)

    # ------------------------------------------------------------------ forward

    def forward(self,
                inputs: torch.Tensor,
                data_samples=None,
                mode: str = 'tensor') -> Union[torch.Tensor, list, Dict[str, torch.Tensor]]:
        """Runs the model on pre-processed ``inputs`` (N, T, 3, h, w) in [0, 1].

        Args:
            inputs (Tensor): Batch of LR clips.
            data_samples (DataSample, optional): Stacked samples from the preprocessor.
            mode (str): ``'tensor'``: the (EMA) generator's output; ``'predict'``: a list
                of MMagic ``DataSample`` with ``output.pred_img`` (T, 3, 4h, 4w) in
                [0, 255] (BGR after ``destruct``); ``'loss'``: the generator's losses.
        """
        if isinstance(inputs, dict):
            inputs = inputs['img']
        if mode == 'tensor':
            return self.forward_tensor(inputs)
        if mode == 'predict':
            return self.forward_inference(inputs, data_samples)
        if mode == 'loss':
            gt_data = self.extract_gt_data(data_samples)
            return self.g_step(self.forward_train(inputs), gt_data)
        raise ValueError(f"mode must be 'tensor', 'predict' or 'loss', got {mode!r}")

    def forward_tensor(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        """Output of the generator (training) or of the EMA generator (otherwise)."""
        if training or self.generator_ema is None:
            return self.generator(inputs)
        return self.generator_ema(inputs)

    def forward_train(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """Generator forward for training: ``(output, cleaned LR frames or None)``."""
        if self.cleaning_loss is None:
            return self.generator(inputs), None
        return self.generator(inputs, return_lqs=True)

    def forward_inference(self, inputs: torch.Tensor, data_samples) -> list:
        """Predictions as a list of MMagic ``DataSample`` (``pred_img``, ``input``)."""
        from mmagic.structures import DataSample  # imported lazily: pulls in mmagic.utils

        feats = self.forward_tensor(inputs)
        feats = self.data_preprocessor.destruct(feats, data_samples)
        predictions = DataSample(pred_img=feats.cpu())
        if data_samples is None:
            return predictions.split()
        data_samples.set_tensor_data(
            {'input': self.data_preprocessor.destruct(inputs, data_samples, 'img')})
        samples = data_samples.split()
        for sample, pred in zip(samples, predictions.split()):
            sample.output = pred
        return samples

    # ----------------------------------------------------------------- training

    def extract_gt_data(self, data_samples) -> GTData:
        """GT targets ``(pixel, perceptual, gan)`` of shape (N, T, 3, H, W) in [0, 1].

        ``gt_img`` is already in [0, 1] (normalised by the preprocessor); ``gt_unsharp``
        (from the ``UnsharpMasking`` transform) stays in [0, 255] and is divided here.
        """
        gt = data_samples.gt_img
        uses_sharp = (self.is_use_sharpened_gt_in_pixel or self.is_use_sharpened_gt_in_percep
                      or self.is_use_sharpened_gt_in_gan)
        if uses_sharp and 'gt_unsharp' not in data_samples:
            raise KeyError('is_use_sharpened_gt_in_* is set but the samples have no '
                           "'gt_unsharp'; add UnsharpMasking to the training pipeline")
        sharp = data_samples.gt_unsharp / 255. if uses_sharp else gt
        return (sharp if self.is_use_sharpened_gt_in_pixel else gt,
                sharp if self.is_use_sharpened_gt_in_percep else gt,
                sharp if self.is_use_sharpened_gt_in_gan else gt)

    def g_step(self, outputs: Tuple[torch.Tensor, Optional[torch.Tensor]],
               gt_data: GTData) -> Dict[str, torch.Tensor]:
        """Generator losses of one batch.

        Args:
            outputs (tuple): ``(output (N, T, 3, H, W), cleaned LR (N, T, 3, h, w))``.
            gt_data (tuple): ``(gt_pixel, gt_percep, gt_gan)`` from :meth:`extract_gt_data`.
        """
        out, cleaned = outputs
        gt_pixel, gt_percep, _ = gt_data
        frames = out.flatten(0, 1)  # losses and D see frames one by one
        losses = {}
        if self.pixel_loss:
            losses['loss_pix'] = self.pixel_loss(frames, gt_pixel.flatten(0, 1))
        if self.perceptual_loss:
            loss_percep, loss_style = self.perceptual_loss(frames, gt_percep.flatten(0, 1))
            if loss_percep is not None:
                losses['loss_perceptual'] = loss_percep
            if loss_style is not None:
                losses['loss_style'] = loss_style
        if self.gan_loss and self.discriminator:
            losses['loss_gan'] = self.gan_loss(
                self.discriminator(frames), target_is_real=True, is_disc=False)
        if self.cleaning_loss:
            losses['loss_clean'] = self.cleaning_loss(cleaned, gt_pixel)
        return losses

    def d_step_with_optim(self, out: torch.Tensor, gt_data: GTData,
                          optim_wrapper: OptimWrapperDict) -> Dict[str, torch.Tensor]:
        """One discriminator update: real (GAN GT) and fake (detached output) frames."""
        d_optim = optim_wrapper['discriminator']
        log_vars = {}
        for name, frames, is_real in (('loss_d_real', gt_data[2], True),
                                      ('loss_d_fake', out.detach(), False)):
            with d_optim.optim_context(self):
                pred = self.discriminator(frames.flatten(0, 1))
                loss = self.gan_loss(pred, target_is_real=is_real, is_disc=True)
            parsed, log = self.parse_losses({name: loss})
            log_vars[name] = log[name]
            d_optim.backward(d_optim.scale_loss(parsed))
        if d_optim.should_update():
            d_optim.step()
            d_optim.zero_grad()
        return log_vars

    def if_run_g(self) -> bool:
        """Whether this iteration updates the generator."""
        step = int(self.step_counter)
        return step % self.disc_steps == 0 and step >= self.disc_init_steps

    def train_step(self, data: Union[dict, Sequence[dict]],
                   optim_wrapper: OptimWrapperDict) -> Dict[str, torch.Tensor]:
        """One training iteration: a generator step, then ``disc_repeat`` D steps.

        Args:
            data (dict | list[dict]): A batch from the dataloader.
            optim_wrapper (OptimWrapperDict): With a ``'generator'`` wrapper, and a
                ``'discriminator'`` one when a discriminator is configured.

        Returns:
            dict[str, Tensor]: Losses for logging.
        """
        if 'generator' not in optim_wrapper:
            raise KeyError("optim_wrapper needs a 'generator' entry (MultiOptimWrapperConstructor"
                           f' with generator=...), got {list(optim_wrapper.keys())}')
        if self.discriminator is not None and 'discriminator' not in optim_wrapper:
            raise KeyError("a discriminator is configured but optim_wrapper has no "
                           f"'discriminator' entry, got {list(optim_wrapper.keys())}")
        g_optim = optim_wrapper['generator']
        data = self.data_preprocessor(data, True)
        inputs, data_samples = data['inputs'], data['data_samples']
        gt_data = self.extract_gt_data(data_samples)

        with g_optim.optim_context(self):
            outputs = self.forward_train(inputs)

        log_vars = {}
        if self.if_run_g():
            set_requires_grad(self.discriminator, False)
            with g_optim.optim_context(self):
                losses = self.g_step(outputs, gt_data)
            parsed, log_g = self.parse_losses(losses)
            g_optim.update_params(parsed)
            log_vars.update(log_g)

        if self.disc_repeat:
            set_requires_grad(self.discriminator, True)
            for _ in range(self.disc_repeat):
                log_vars.update(self.d_step_with_optim(outputs[0], gt_data, optim_wrapper))

        log_vars.pop('loss', None)
        self.step_counter += 1
        return log_vars

    def val_step(self, data: Union[dict, Sequence[dict]]) -> List:
        """Predicts a validation batch (EMA generator): a list of ``DataSample``."""
        data = self.data_preprocessor(data, False)
        return self.forward_inference(data['inputs'], data['data_samples'])

    def test_step(self, data: Union[dict, Sequence[dict]]) -> List:
        """Predicts a test batch (EMA generator): a list of ``DataSample``."""
        return self.val_step(data)
