"""The RealBasicVSR training model: generator, EMA, losses, optional GAN (Chan et al., 2022)."""
from copy import deepcopy
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapperDict
from mmengine.registry import DefaultScope

from mmrbvsr.registry import MODELS

from .losses import CleaningLoss, downsample_gt

GTData = Tuple[torch.Tensor, torch.Tensor, torch.Tensor, Optional[torch.Tensor]]

#: The scope in which the model builds its sub-modules (see :class:`RealBasicVSR`).
SUBMODULE_SCOPE = 'mmrbvsr'


def set_requires_grad(module: Optional[nn.Module], flag: bool) -> None:
    """Turns gradients of all parameters of ``module`` (if any) on or off."""
    if module is not None:
        for param in module.parameters():
            param.requires_grad = flag


@MODELS.register_module()
class RealBasicVSR(BaseModel):
    """RealBasicVSR for real-world video super-resolution, stage 1 and stage 2.

    "Investigating Tradeoffs in Real-World Video Super-Resolution", Chan et al., CVPR 2022.
    Same constructor (defaults included), methods, losses, log keys (``loss_pix``,
    ``loss_clean``, ``loss_perceptual``, ``loss_gan``, ``loss_d_real``, ``loss_d_fake``) and
    state-dict keys as MMagic 1.2.0's ``RealBasicVSR``. Stage 1 leaves
    ``discriminator``/``gan_loss``/``perceptual_loss`` out.

    One training step: the generator maps the LR clip (N, T, 3, h, w) to the output
    (N, T, 3, 4h, 4w) and the cleaned LR frames; the generator loss is

        pixel(out, gt_pixel) + perceptual(out, gt_percep) + gan(D(out))
        + cleaning(cleaned, d(gt_pixel)),

    where ``gt_*`` is the GT or its unsharp-masked version (``is_use_sharpened_gt_in_*``)
    and ``d`` the area downsampling by the generator's scale (MMagic's x4). Then the
    discriminator takes one step on the GAN GT (real) and the detached output (fake),
    frame by frame. Optim wrappers are ``optim_wrapper['generator']`` and
    ``['discriminator']``.

    Sub-modules are built in the ``mmrbvsr`` scope, in a script and under a Runner alike:
    an unscoped ``type`` (``'L1Loss'``) is this package's class where it has one, else
    MMagic's (``'DataPreprocessor'``) or MMEngine's; ``'mmagic.L1Loss'`` (or
    ``_scope_='mmagic'`` in the sub-config) asks for MMagic's class. See
    ``docs/mmagic_compatibility.md``.

    Args:
        generator (dict): Generator config; with a cleaning loss it must accept
            ``return_lqs=True`` and return ``(out, cleaned_lqs)``.
        discriminator (dict, optional): Discriminator config (stage 2).
        gan_loss (dict, optional): GAN loss config; its weight applies to G only.
        pixel_loss (dict, optional): Output loss config (L1 in the reference).
        cleaning_loss (dict, optional): Cleaning loss config: a pixel loss (as in MMagic;
            ``model.cleaning_loss`` is that loss, applied to the area-downsampled GT) or
            :class:`CleaningLoss` (its own criterion and downsampling).
        perceptual_loss (dict, optional): Perceptual loss config (stage 2).
        is_use_sharpened_gt_in_pixel (bool): Pixel and cleaning loss target is the
            sharpened GT. Default: False.
        is_use_sharpened_gt_in_percep (bool): Same for the perceptual loss. Default: False.
        is_use_sharpened_gt_in_gan (bool): Same for the discriminator's real samples.
            Default: False.
        is_use_ema (bool): Keep ``generator_ema`` (updated by MMagic's
            ``ExponentialMovingAverageHook``) and use it for validation, test and
            ``mode='tensor'``. Default: False (MMagic's; the released configs set True).
        train_cfg (dict, optional): ``disc_steps`` (G step every n iterations),
            ``disc_init_steps`` (D-only iterations at the start), ``disc_repeat``
            (D steps per iteration), ``start_iter`` (kept as ``self.start_iter``, as
            MMagic). Defaults 1, 0, 1, -1.
        test_cfg (dict, optional): Unused, kept for config compatibility.
        init_cfg (dict, optional): Initialisation config.
        data_preprocessor (dict | nn.Module, optional): E.g. MMagic's
            ``DataPreprocessor`` with ``mean=[0] * 3, std=[255] * 3``.
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
                 is_use_ema: bool = False,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None) -> None:
        with DefaultScope.overwrite_default_scope(SUBMODULE_SCOPE):
            super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
            self.generator = MODELS.build(generator)
            self.discriminator = MODELS.build(discriminator) if discriminator else None
            self.gan_loss = MODELS.build(gan_loss) if gan_loss else None
            self.pixel_loss = MODELS.build(pixel_loss) if pixel_loss else None
            self.perceptual_loss = MODELS.build(perceptual_loss) if perceptual_loss else None
            self.cleaning_loss = MODELS.build(cleaning_loss) if cleaning_loss else None
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
        if not (self.pixel_loss or self.perceptual_loss or self.gan_loss or self.cleaning_loss):
            raise ValueError('RealBasicVSR needs at least one generator loss, got none')
        if (self.gan_loss is None) != (self.discriminator is None):
            raise ValueError('discriminator and gan_loss must be given together, got '
                             f'discriminator={discriminator}, gan_loss={gan_loss}')
        # the GT is downsampled for a plain cleaning loss by the generator's scale (fixed
        # here: under DDP the generator is wrapped)
        self.clean_scale = int(getattr(self.generator, 'upscale_factor', 4))

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
        self.start_iter = cfg.get('start_iter', -1)
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

    # ------------------------------------------------------------------ forward

    def forward(self,
                inputs: torch.Tensor,
                data_samples=None,
                mode: str = 'tensor',
                **kwargs) -> Union[torch.Tensor, list, Dict[str, torch.Tensor]]:
        """Runs the model on pre-processed ``inputs`` (N, T, 3, h, w) in [0, 1].

        Args:
            inputs (Tensor): Batch of LR clips (or a dict with it under ``'img'``).
            data_samples (DataSample, optional): Stacked samples from the preprocessor.
            mode (str): ``'tensor'``: the (EMA) generator's output; ``'predict'``: a list
                of MMagic ``DataSample`` with ``output.pred_img`` (T, 3, 4h, 4w) in
                [0, 255] (BGR after ``destruct``); ``'loss'``: the generator's losses
                (MMEngine's contract; MMagic returns the generator's outputs there).
            **kwargs: Passed to :meth:`forward_tensor` (``training``).
        """
        if isinstance(inputs, dict):
            inputs = inputs['img']
        if mode == 'tensor':
            return self.forward_tensor(inputs, data_samples, **kwargs)
        if mode == 'predict':
            predictions = self.forward_inference(inputs, data_samples, **kwargs)
            return self.convert_to_datasample(predictions, data_samples, inputs)
        if mode == 'loss':
            batch_gt_data = self.extract_gt_data(data_samples)
            return self.g_step(self.forward_train(inputs, data_samples), batch_gt_data)
        raise ValueError(f"mode must be 'tensor', 'predict' or 'loss', got {mode!r}")

    def forward_tensor(self, inputs: torch.Tensor, data_samples=None,
                       training: bool = False) -> torch.Tensor:
        """Output of the generator (training, or without EMA) or of the EMA generator."""
        if training or not self.is_use_ema or self.generator_ema is None:
            return self.generator(inputs)
        return self.generator_ema(inputs)

    def forward_train(self, batch_inputs: torch.Tensor,
                      data_samples=None) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """Generator forward for training: ``(output, cleaned LR frames or None)``.

        The cleaned frames are asked for (``return_lqs=True``) only with a cleaning loss,
        so that generators without that argument train without one.
        """
        if self.cleaning_loss is None:
            return self.generator(batch_inputs), None
        return self.generator(batch_inputs, return_lqs=True)

    def forward_inference(self, inputs: torch.Tensor, data_samples=None, **kwargs):
        """Predictions as one stacked MMagic ``DataSample`` (``pred_img`` in [0, 255])."""
        from mmagic.structures import DataSample  # imported lazily: pulls in mmagic.utils

        feats = self.forward_tensor(inputs, data_samples, **kwargs)
        feats = self.data_preprocessor.destruct(feats, data_samples)
        return DataSample(pred_img=feats.cpu())

    def convert_to_datasample(self, predictions, data_samples, inputs: Optional[torch.Tensor]
                              ) -> list:
        """Splits the stacked ``predictions`` into the samples' ``output``; the destructed
        ``inputs`` become each sample's ``input``. Without ``data_samples``, the split
        predictions."""
        if data_samples is None:
            return predictions.split()
        if inputs is not None:
            data_samples.set_tensor_data(
                {'input': self.data_preprocessor.destruct(inputs, data_samples, 'img')})
        samples = data_samples.split()
        for sample, pred in zip(samples, predictions.split()):
            sample.output = pred
        return samples

    # ----------------------------------------------------------------- training

    def extract_gt_data(self, data_samples) -> GTData:
        """GT targets ``(gt_pixel, gt_percep, gt_gan, gt_clean)``, as MMagic's.

        The first three are frames (N * T, 3, H, W) in [0, 1]: the GT or its sharpened
        version per ``is_use_sharpened_gt_in_*``. ``gt_clean`` is the pixel GT
        area-downsampled to the LR size (N, T, 3, H / s, W / s) for a plain cleaning loss,
        else None (:class:`CleaningLoss` downsamples the pixel GT itself). ``gt_img`` is
        already in [0, 1] (normalised by the preprocessor); ``gt_unsharp`` (from the
        ``UnsharpMasking`` transform) stays in [0, 255] and is divided here.
        """
        gt = data_samples.gt_img
        uses_sharp = (self.is_use_sharpened_gt_in_pixel or self.is_use_sharpened_gt_in_percep
                      or self.is_use_sharpened_gt_in_gan)
        if uses_sharp and 'gt_unsharp' not in data_samples:
            raise KeyError('is_use_sharpened_gt_in_* is set but the samples have no '
                           "'gt_unsharp'; add UnsharpMasking to the training pipeline")
        sharp = data_samples.gt_unsharp / 255. if uses_sharp else gt
        gt_pixel = sharp if self.is_use_sharpened_gt_in_pixel else gt
        gt_clean = None
        if self.cleaning_loss is not None and not isinstance(self.cleaning_loss, CleaningLoss):
            gt_clean = downsample_gt(gt_pixel, self.clean_scale, 'area')
        c, h, w = gt.shape[-3:]
        return (gt_pixel.reshape(-1, c, h, w),
                (sharp if self.is_use_sharpened_gt_in_percep else gt).reshape(-1, c, h, w),
                (sharp if self.is_use_sharpened_gt_in_gan else gt).reshape(-1, c, h, w),
                gt_clean)

    def g_step(self, batch_outputs: Tuple[torch.Tensor, Optional[torch.Tensor]],
               batch_gt_data: GTData) -> Dict[str, torch.Tensor]:
        """Generator losses of one batch.

        Args:
            batch_outputs (tuple): ``(output (N, T, 3, H, W), cleaned LR (N, T, 3, h, w)
                or None)`` from :meth:`forward_train`.
            batch_gt_data (tuple): From :meth:`extract_gt_data`.
        """
        gt_pixel, gt_percep, _, gt_clean = batch_gt_data
        fake_g_output, fake_g_lq = batch_outputs
        frames = fake_g_output.reshape(gt_pixel.shape)  # losses and D see frames one by one
        losses = {}
        if self.pixel_loss:
            losses['loss_pix'] = self.pixel_loss(frames, gt_pixel)
        if self.perceptual_loss:
            loss_percep, loss_style = self.perceptual_loss(frames, gt_percep)
            if loss_percep is not None:
                losses['loss_perceptual'] = loss_percep
            if loss_style is not None:
                losses['loss_style'] = loss_style
        if self.gan_loss and self.discriminator:
            losses['loss_gan'] = self.gan_loss(
                self.discriminator(frames), target_is_real=True, is_disc=False)
        if self.cleaning_loss:
            if isinstance(self.cleaning_loss, CleaningLoss):
                gt_frames = gt_pixel.view(*fake_g_lq.shape[:2], *gt_pixel.shape[1:])
                losses['loss_clean'] = self.cleaning_loss(fake_g_lq, gt_frames)
            else:
                losses['loss_clean'] = self.cleaning_loss(fake_g_lq, gt_clean)
        return losses

    def d_step_real(self, batch_outputs: torch.Tensor,
                    batch_gt_data: Sequence[torch.Tensor]) -> torch.Tensor:
        """The discriminator's loss on the GAN GT frames (``batch_gt_data[2]``)."""
        pred = self.discriminator(batch_gt_data[2])
        return self.gan_loss(pred, target_is_real=True, is_disc=True)

    def d_step_fake(self, batch_outputs: torch.Tensor,
                    batch_gt_data: Sequence[torch.Tensor]) -> torch.Tensor:
        """The discriminator's loss on the (detached) output frames."""
        pred = self.discriminator(batch_outputs.detach())
        return self.gan_loss(pred, target_is_real=False, is_disc=True)

    def g_step_with_optim(self, batch_outputs: Tuple[torch.Tensor, Optional[torch.Tensor]],
                          batch_gt_data: GTData,
                          optim_wrapper: OptimWrapperDict) -> Dict[str, torch.Tensor]:
        """Generator losses and one generator update; returns the parsed log values."""
        g_optim = optim_wrapper['generator']
        with g_optim.optim_context(self):
            losses = self.g_step(batch_outputs, batch_gt_data)
        parsed, log_vars = self.parse_losses(losses)
        g_optim.update_params(parsed)
        return log_vars

    def d_step_with_optim(self, batch_outputs: torch.Tensor,
                          batch_gt_data: Sequence[torch.Tensor],
                          optim_wrapper: OptimWrapperDict) -> Dict[str, torch.Tensor]:
        """One discriminator update: real (GAN GT) and fake (detached output) frames.

        Args:
            batch_outputs (Tensor): Output frames (N * T, 3, H, W).
            batch_gt_data (tuple): ``(gt_pixel, gt_percep, gt_gan, ...)`` frames.
            optim_wrapper (OptimWrapperDict): With a ``'discriminator'`` wrapper.
        """
        d_optim = optim_wrapper['discriminator']
        log_vars = {}
        for name, step in (('loss_d_real', self.d_step_real), ('loss_d_fake', self.d_step_fake)):
            with d_optim.optim_context(self):
                loss = step(batch_outputs, batch_gt_data)
            parsed, log = self.parse_losses({name: loss})
            log_vars.update(log)
            d_optim.backward(d_optim.scale_loss(parsed))
        if d_optim.should_update():
            d_optim.step()
            d_optim.zero_grad()
        return log_vars

    def if_run_g(self) -> bool:
        """Whether this iteration updates the generator."""
        step = int(self.step_counter)
        return step % self.disc_steps == 0 and step >= self.disc_init_steps

    def if_run_d(self) -> bool:
        """Whether this iteration updates the discriminator (there is one)."""
        return self.discriminator is not None and self.gan_loss is not None

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
        batch_inputs, data_samples = data['inputs'], data['data_samples']
        batch_gt_data = self.extract_gt_data(data_samples)

        with g_optim.optim_context(self):
            batch_outputs = self.forward_train(batch_inputs, data_samples)

        log_vars = {}
        if self.if_run_g():
            set_requires_grad(self.discriminator, False)
            log_vars.update(self.g_step_with_optim(batch_outputs, batch_gt_data, optim_wrapper))

        if self.if_run_d():
            set_requires_grad(self.discriminator, True)
            fake = batch_outputs[0].reshape(batch_gt_data[0].shape)
            for _ in range(self.disc_repeat):
                log_vars.update(
                    self.d_step_with_optim(fake.detach(), batch_gt_data, optim_wrapper))

        log_vars.pop('loss', None)
        self.step_counter += 1
        return log_vars
