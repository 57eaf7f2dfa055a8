"""VGG perceptual (and style) loss with MMagic's layer indexing and state-dict keys.

The VGG weights come from ``pretrained`` (a local path, an ``http(s)://`` URL or
``torchvision://vgg19``, read with MMEngine's checkpoint loaders by
``PerceptualVGG.init_weights``) or, with ``pretrained=None``, stay randomly initialised
(for tests and offline demos; the loss is then not a perceptual measure). MMagic 1.2.0
downloads torchvision's ImageNet VGG whatever ``pretrained`` says.
"""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.logging import MMLogger, print_log
from mmengine.runner.checkpoint import CheckpointLoader
from torchvision.models import vgg as tv_vgg

from mmrbvsr.models.archs.blocks import to_channels_last
from mmrbvsr.registry import MODELS

# torchvision's layer configurations of ``vgg.features``
VGG_CONFIGS = {'vgg11': 'A', 'vgg13': 'B', 'vgg16': 'D', 'vgg19': 'E'}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def vgg_features(vgg_type: str) -> nn.Sequential:
    """Builds torchvision's ``vgg.features`` (no classifier, no weights) for ``vgg_type``."""
    batch_norm = vgg_type.endswith('_bn')
    base = vgg_type[:-3] if batch_norm else vgg_type
    if base not in VGG_CONFIGS:
        names = sorted(VGG_CONFIGS) + [k + '_bn' for k in sorted(VGG_CONFIGS)]
        raise ValueError(f'vgg_type must be one of {names}, got {vgg_type!r}')
    return tv_vgg.make_layers(tv_vgg.cfgs[VGG_CONFIGS[base]], batch_norm=batch_norm)


def load_vgg_features(features: nn.Sequential, pretrained: str) -> None:
    """Loads the ``features.*`` part of a VGG checkpoint into ``features``.

    Args:
        features (nn.Sequential): Possibly truncated ``vgg.features``.
        pretrained (str): Path, URL or ``torchvision://<name>``; any checkpoint whose
            (``state_dict``-unwrapped) keys start with ``features.``.
    """
    ckpt = CheckpointLoader.load_checkpoint(pretrained, map_location='cpu')
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else ckpt
    wanted = {k: v for k, v in state.items() if k.startswith('features.')}
    wanted = {k[len('features.'):]: v for k, v in wanted.items()}
    own = features.state_dict()
    missing = sorted(set(own) - set(wanted))
    if missing:
        raise KeyError(f'VGG checkpoint {pretrained!r} lacks features.{missing[0]} '
                       f'({len(missing)} keys missing)')
    features.load_state_dict({k: wanted[k] for k in own})


class VGGFeatures(nn.Module):
    """The ``features`` part of a torchvision VGG (no classifier): what
    :meth:`PerceptualVGG.init_weights` loads, with torchvision's ``features.*`` keys."""

    def __init__(self, vgg_type: str) -> None:
        super().__init__()
        self.features = vgg_features(vgg_type)


class PerceptualVGG(nn.Module):
    """VGG feature extractor returning the outputs of chosen ``vgg.features`` layers.

    MMagic's arguments, layer names and state-dict keys. The weights are loaded by
    :meth:`init_weights` (MMagic's hook: patch it to build without loading, as MMagic's
    tests do); only ``vgg.features`` is built, never the 120M-parameter classifier.

    Args:
        layer_name_list (list[str]): Indices into ``vgg.features`` (MMagic's naming:
            ``'2'`` is conv1_2 before its ReLU in VGG19, ``'34'`` conv5_4).
        vgg_type (str): ``'vgg19'`` etc. Default: ``'vgg19'``.
        use_input_norm (bool): Normalise [0, 1] inputs with ImageNet statistics.
        pretrained (str, optional): Where the weights come from: a path, an
            ``http(s)://`` URL or ``torchvision://<vgg_type>``; ``None`` keeps the
            random initialisation (a warning is logged). Default: ``'torchvision://vgg19'``.
    """

    def __init__(self,
                 layer_name_list: List[str],
                 vgg_type: str = 'vgg19',
                 use_input_norm: bool = True,
                 pretrained: Optional[str] = 'torchvision://vgg19') -> None:
        super().__init__()
        if isinstance(pretrained, str) and pretrained.startswith('torchvision://') \
                and pretrained[len('torchvision://'):] != vgg_type:
            raise ValueError(f'pretrained={pretrained!r} does not hold the weights of '
                             f'vgg_type={vgg_type!r}')
        self.layer_name_list = [str(k) for k in layer_name_list]
        self.use_input_norm = use_input_norm
        _vgg = VGGFeatures(vgg_type)
        features = _vgg.features
        bad = [k for k in self.layer_name_list if not k.isdigit() or int(k) >= len(features)]
        if bad:
            raise ValueError(f'VGG layer names must be indices in [0, {len(features)}) of '
                             f'{vgg_type}.features, got {bad}')
        if pretrained is not None:
            self.init_weights(_vgg, pretrained)
        else:
            print_log('PerceptualVGG: pretrained=None, VGG weights are random',
                      logger=MMLogger.get_current_instance(), level=30)
        # keep only the layers in use (no unused parameters under DDP)
        self.vgg_layers = features[:max(map(int, self.layer_name_list)) + 1]
        if use_input_norm:
            self.register_buffer('mean', torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
            self.register_buffer('std', torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        self.vgg_layers.requires_grad_(False)
        # channels-last: oneDNN's convs at 256x256 run 1.3-1.5x faster
        to_channels_last(self.vgg_layers)

    def init_weights(self, model: nn.Module, pretrained: str) -> None:
        """Loads the VGG weights ``pretrained`` into ``model`` (MMagic's hook).

        Args:
            model (nn.Module): The VGG to fill: a module with a ``features`` child
                (:class:`VGGFeatures`, or a torchvision VGG).
            pretrained (str): Path, URL or ``torchvision://<name>``; a checkpoint whose
                (``state_dict``-unwrapped) keys start with ``features.``.
        """
        load_vgg_features(model.features, pretrained)

    def forward(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Maps (N, 3, H, W) images in [0, 1] to ``{layer name: feature}``."""
        if self.use_input_norm:
            x = (x - self.mean) / self.std
        x = x.contiguous(memory_format=torch.channels_last)
        output = {}
        for name, module in self.vgg_layers.named_children():
            x = module(x)
            if name in self.layer_name_list:
                output[name] = x.clone()
        return output


@MODELS.register_module()
class PerceptualLoss(nn.Module):
    """Perceptual and style loss on VGG features (MMagic's ``PerceptualLoss`` arguments).

    RealBasicVSR stage 2 uses VGG19 layers ``{'2': .1, '7': .1, '16': 1, '25': 1, '34': 1}``
    (conv1_2, conv2_2, conv3_4, conv4_4, conv5_4), ``perceptual_weight=1``,
    ``style_weight=0``, ``norm_img=False``.

    Args:
        layer_weights (dict): ``{layer index: weight}`` for the perceptual loss.
        layer_weights_style (dict, optional): Same for the style loss; ``None`` uses
            ``layer_weights``.
        vgg_type (str): Default: ``'vgg19'``.
        use_input_norm (bool): ImageNet normalisation of [0, 1] inputs. Default: True.
        perceptual_weight (float): Perceptual loss weight; 0 disables it. Default: 1.0.
        style_weight (float): Style (Gram) loss weight; 0 disables it. Default: 1.0.
        norm_img (bool): Map [-1, 1] inputs to [0, 1] first. Default: True.
        pretrained (str, optional): VGG weights (path, URL, ``torchvision://vgg19``) or
            ``None`` for random weights. Default: ``'torchvision://vgg19'``.
        criterion (str): ``'l1'`` or ``'mse'``. Default: ``'l1'``.
    """

    def __init__(self,
                 layer_weights: Dict[str, float],
                 layer_weights_style: Optional[Dict[str, float]] = None,
                 vgg_type: str = 'vgg19',
                 use_input_norm: bool = True,
                 perceptual_weight: float = 1.0,
                 style_weight: float = 1.0,
                 norm_img: bool = True,
                 pretrained: Optional[str] = 'torchvision://vgg19',
                 criterion: str = 'l1') -> None:
        super().__init__()
        if not layer_weights:
            raise ValueError('layer_weights must name at least one VGG layer')
        criteria = {'l1': nn.L1Loss, 'mse': nn.MSELoss}
        if criterion.lower() not in criteria:
            raise ValueError(f"criterion must be 'l1' or 'mse', got {criterion!r}")
        self.norm_img = norm_img
        self.perceptual_weight = perceptual_weight
        self.style_weight = style_weight
        self.layer_weights = {str(k): v for k, v in layer_weights.items()}
        self.vgg = PerceptualVGG(list(self.layer_weights), vgg_type, use_input_norm, pretrained)
        if layer_weights_style is not None and layer_weights_style != layer_weights:
            self.layer_weights_style = {str(k): v for k, v in layer_weights_style.items()}
            self.vgg_style = PerceptualVGG(
                list(self.layer_weights_style), vgg_type, use_input_norm, pretrained)
        else:
            self.layer_weights_style = self.layer_weights
            self.vgg_style = None
        self.criterion = criteria[criterion.lower()]()

    def forward(self, x: torch.Tensor,
                gt: torch.Tensor) -> Tuple[Optional[torch.Tensor], Optional[torch.Tensor]]:
        """Computes ``(perceptual loss, style loss)``; a disabled term is ``None``.

        Args:
            x (Tensor): (N, 3, H, W) prediction.
            gt (Tensor): (N, 3, H, W) target (not back-propagated).
        """
        if self.norm_img:
            x, gt = (x + 1.) * 0.5, (gt + 1.) * 0.5
        x_feats, gt_feats = self.vgg(x), self.vgg(gt.detach())

        percep_loss = None
        if self.perceptual_weight > 0:
            percep_loss = sum(self.criterion(x_feats[k], gt_feats[k]) * w
                              for k, w in self.layer_weights.items())
            percep_loss = percep_loss * self.perceptual_weight

        style_loss = None
        if self.style_weight > 0:
            if self.vgg_style is not None:
                x_feats, gt_feats = self.vgg_style(x), self.vgg_style(gt.detach())
            style_loss = sum(
                self.criterion(self._gram_mat(x_feats[k]), self._gram_mat(gt_feats[k])) * w
                for k, w in self.layer_weights_style.items())
            style_loss = style_loss * self.style_weight
        return percep_loss, style_loss

    @staticmethod
    def _gram_mat(x: torch.Tensor) -> torch.Tensor:
        """Gram matrix of (N, C, H, W) features, normalised by C * H * W."""
        n, c, h, w = x.shape
        feats = x.reshape(n, c, h * w)
        return feats.bmm(feats.transpose(1, 2)) / (c * h * w)
