"""Pixel-wise losses: L1 and Charbonnier (a differentiable, robust L1), with masks."""
from typing import Optional

import torch
import torch.nn as nn

from mmrbvsr.registry import MODELS

REDUCTIONS = ('none', 'mean', 'sum')
# keeps a mean over an all-zero mask finite (MMagic's value)
MASK_EPS = 1e-12


def reduce_loss(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    """Reduces an element-wise loss with ``'none'``, ``'mean'`` or ``'sum'``."""
    if reduction == 'mean':
        return loss.mean()
    if reduction == 'sum':
        return loss.sum()
    if reduction == 'none':
        return loss
    raise ValueError(f'reduction must be one of {REDUCTIONS}, got {reduction!r}')


def mask_reduce_loss(loss: torch.Tensor,
                     weight: Optional[torch.Tensor] = None,
                     reduction: str = 'mean',
                     sample_wise: bool = False) -> torch.Tensor:
    """Weights an element-wise loss by a mask and reduces it (MMagic's semantics).

    With a ``weight``, ``'mean'`` is the mean over the masked region
    (``sum(loss * weight) / sum(weight)``), or with ``sample_wise`` the mean over the
    samples of each sample's masked mean; ``'sum'`` and ``'none'`` apply the weight.

    Args:
        loss (Tensor): Element-wise loss, (N, C, ...).
        weight (Tensor, optional): Element-wise weights, same number of dimensions,
            with C or 1 channel (broadcast over the channels). Default: None.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``. Default: ``'mean'``.
        sample_wise (bool): Per-sample masked mean first (``'mean'`` with a weight
            only). Default: False.
    """
    if weight is not None:
        if weight.dim() != loss.dim() or weight.size(1) not in (1, loss.size(1)):
            raise ValueError(f'weight of shape {tuple(weight.shape)} does not fit the loss of '
                             f'shape {tuple(loss.shape)} (same dimensions, 1 or '
                             f'{loss.size(1)} channels)')
        loss = loss * weight
    if weight is None or reduction != 'mean':
        return reduce_loss(loss, reduction)
    if weight.size(1) == 1:
        weight = weight.expand_as(loss)
    if sample_wise:
        per_sample = weight.sum(dim=tuple(range(1, loss.dim())), keepdim=True)
        return (loss / (per_sample + MASK_EPS)).sum() / weight.size(0)
    return loss.sum() / (weight.sum() + MASK_EPS)


def l1_loss(pred: torch.Tensor,
            target: torch.Tensor,
            weight: Optional[torch.Tensor] = None,
            reduction: str = 'mean',
            sample_wise: bool = False) -> torch.Tensor:
    """Mean absolute error ``|pred - target|``, masked by ``weight`` (MMagic's arguments)."""
    return mask_reduce_loss((pred - target).abs(), weight, reduction, sample_wise)


def charbonnier_loss(pred: torch.Tensor,
                     target: torch.Tensor,
                     weight: Optional[torch.Tensor] = None,
                     reduction: str = 'mean',
                     sample_wise: bool = False,
                     eps: float = 1e-12) -> torch.Tensor:
    """Charbonnier loss ``sqrt((pred - target)^2 + eps)``, masked by ``weight``."""
    return mask_reduce_loss(torch.sqrt((pred - target)**2 + eps), weight, reduction,
                            sample_wise)


def _check_common(loss_weight: float, reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f'reduction must be one of {REDUCTIONS}, got {reduction!r}')
    if loss_weight < 0:
        raise ValueError(f'loss_weight must be >= 0, got {loss_weight}')


@MODELS.register_module()
class L1Loss(nn.Module):
    """L1 (mean absolute error) loss; MMagic's ``L1Loss`` arguments and masks.

    Args:
        loss_weight (float): Multiplies the loss. Default: 1.0.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``. Default: ``'mean'``.
        sample_wise (bool): With a ``weight`` and ``'mean'``: average each sample's
            masked mean over the samples (instead of one mean over all masked
            elements). Default: False.

    Examples:
        >>> L1Loss()(torch.zeros(2), torch.tensor([1., 3.]))
        tensor(2.)
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 reduction: str = 'mean',
                 sample_wise: bool = False) -> None:
        super().__init__()
        _check_common(loss_weight, reduction)
        self.loss_weight = loss_weight
        self.reduction = reduction
        self.sample_wise = sample_wise

    def forward(self,
                pred: torch.Tensor,
                target: torch.Tensor,
                weight: Optional[torch.Tensor] = None,
                **kwargs) -> torch.Tensor:
        """Computes the weighted loss between same-shaped ``pred`` and ``target``.

        Args:
            pred (Tensor): Prediction, (N, C, H, W) or any shape.
            target (Tensor): Target, same shape.
            weight (Tensor, optional): Element-wise weights (a mask), (N, C or 1, H, W).
                Default: None.
            **kwargs: Ignored (MMagic's signature).
        """
        return self.loss_weight * l1_loss(pred, target, weight, self.reduction,
                                          self.sample_wise)


@MODELS.register_module()
class CharbonnierLoss(nn.Module):
    """Charbonnier loss, the robust rho of the paper; MMagic's arguments and masks.

    Args:
        loss_weight (float): Multiplies the loss. Default: 1.0.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``. Default: ``'mean'``.
        sample_wise (bool): See :class:`L1Loss`. Default: False.
        eps (float): Curvature near zero, added to the squared error. Default: 1e-12.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 reduction: str = 'mean',
                 sample_wise: bool = False,
                 eps: float = 1e-12) -> None:
        super().__init__()
        _check_common(loss_weight, reduction)
        if eps <= 0:
            raise ValueError(f'eps must be > 0, got {eps}')
        self.loss_weight = loss_weight
        self.reduction = reduction
        self.sample_wise = sample_wise
        self.eps = eps

    def forward(self,
                pred: torch.Tensor,
                target: torch.Tensor,
                weight: Optional[torch.Tensor] = None,
                **kwargs) -> torch.Tensor:
        """Computes the weighted loss; arguments as :meth:`L1Loss.forward`."""
        return self.loss_weight * charbonnier_loss(pred, target, weight, self.reduction,
                                                   self.sample_wise, self.eps)
