"""Cleaning loss: cleaned LR frames against the downsampled GT (RealBasicVSR, Sec. 3)."""
from typing import Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmrbvsr.registry import MODELS

from .pixelwise_loss import REDUCTIONS, charbonnier_loss, l1_loss

DOWNSAMPLE_MODES = ('area', 'bilinear', 'bicubic', 'nearest')
CRITERIA = ('l1', 'charbonnier')


def downsample_gt(gt: torch.Tensor, scale: int, mode: str = 'area') -> torch.Tensor:
    """Downsamples GT frames by an integer ``scale``: ``d(z)`` of the paper.

    ``'area'`` averages ``scale x scale`` blocks (MMagic's choice); ``'bilinear'`` and
    ``'bicubic'`` use an anti-aliased kernel; ``'nearest'`` subsamples.

    Args:
        gt (Tensor): (..., C, H, W) with H and W divisible by ``scale``.
        scale (int): Downsampling factor.
        mode (str): One of ``DOWNSAMPLE_MODES``.

    Returns:
        Tensor: (..., C, H // scale, W // scale).
    """
    if mode not in DOWNSAMPLE_MODES:
        raise ValueError(f'downsample mode must be one of {DOWNSAMPLE_MODES}, got {mode!r}')
    *lead, c, h, w = gt.shape
    if h % scale or w % scale:
        raise ValueError(f'GT size {h}x{w} is not divisible by the scale {scale}')
    x = gt.reshape(-1, c, h, w)
    size = (h // scale, w // scale)
    if mode in ('bilinear', 'bicubic'):
        x = F.interpolate(x, size=size, mode=mode, align_corners=False, antialias=True)
    else:
        x = F.interpolate(x, size=size, mode=mode)
    return x.reshape(*lead, c, *size)


@MODELS.register_module()
class CleaningLoss(nn.Module):
    """rho(x~_i - d(z_i)): cleaned LR frames against the x``scale``-downsampled GT.

    Args:
        criterion (str | nn.Module): ``'l1'`` (MMagic and the authors' configs),
            ``'charbonnier'`` (the paper's robust rho), or a loss module taking
            ``(pred, target)`` (e.g. a built MMagic ``L1Loss``).
        loss_weight (float): Multiplies the loss. Default: 1.0.
        scale (int): Downsampling factor of the GT. Default: 4.
        downsample_mode (str): How the GT is downsampled, see :func:`downsample_gt`.
            Default: ``'area'`` (MMagic).
        reduction (str): ``'mean'``, ``'sum'`` or ``'none'``. Default: ``'mean'``.
        eps (float): Charbonnier epsilon. Default: 1e-12.

    Examples:
        >>> loss = CleaningLoss(scale=2)
        >>> loss(torch.zeros(1, 1, 3, 2, 2), torch.ones(1, 1, 3, 4, 4))
        tensor(1.)
    """

    def __init__(self,
                 criterion: Union[str, nn.Module] = 'l1',
                 loss_weight: float = 1.0,
                 scale: int = 4,
                 downsample_mode: str = 'area',
                 reduction: str = 'mean',
                 eps: float = 1e-12) -> None:
        super().__init__()
        if isinstance(criterion, str) and criterion not in CRITERIA:
            raise ValueError(f'criterion must be one of {CRITERIA} or a module, got {criterion!r}')
        if not isinstance(scale, int) or scale < 1:
            raise ValueError(f'scale must be a positive int, got {scale!r}')
        if downsample_mode not in DOWNSAMPLE_MODES:
            raise ValueError(
                f'downsample_mode must be one of {DOWNSAMPLE_MODES}, got {downsample_mode!r}')
        if reduction not in REDUCTIONS:
            raise ValueError(f'reduction must be one of {REDUCTIONS}, got {reduction!r}')
        if loss_weight < 0:
            raise ValueError(f'loss_weight must be >= 0, got {loss_weight}')
        self.criterion = criterion
        self.loss_weight = loss_weight
        self.scale = scale
        self.downsample_mode = downsample_mode
        self.reduction = reduction
        self.eps = eps

    def forward(self, cleaned_lqs: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
        """Computes the loss.

        Args:
            cleaned_lqs (Tensor): (N, T, C, h, w) output of the cleaning module.
            gt (Tensor): (N, T, C, h * scale, w * scale) GT frames, same range.

        Returns:
            Tensor: The weighted loss.
        """
        target = downsample_gt(gt, self.scale, self.downsample_mode)
        if target.shape != cleaned_lqs.shape:
            raise ValueError(f'cleaned LR frames {tuple(cleaned_lqs.shape)} do not match the '
                             f'GT {tuple(gt.shape)} downsampled x{self.scale}')
        if isinstance(self.criterion, nn.Module):
            return self.loss_weight * self.criterion(cleaned_lqs, target)
        if self.criterion == 'l1':
            loss = l1_loss(cleaned_lqs, target, reduction=self.reduction)
        else:
            loss = charbonnier_loss(cleaned_lqs, target, reduction=self.reduction, eps=self.eps)
        return self.loss_weight * loss
