"""Pixel-wise losses: L1 and Charbonnier (a differentiable, robust L1)."""
import torch
import torch.nn as nn

from mmrbvsr.registry import MODELS

REDUCTIONS = ('none', 'mean', 'sum')


def reduce_loss(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    """Reduces an element-wise loss with ``'none'``, ``'mean'`` or ``'sum'``."""
    if reduction == 'mean':
        return loss.mean()
    if reduction == 'sum':
        return loss.sum()
    if reduction == 'none':
        return loss
    raise ValueError(f'reduction must be one of {REDUCTIONS}, got {reduction!r}')


def l1_loss(pred: torch.Tensor, target: torch.Tensor, reduction: str = 'mean') -> torch.Tensor:
    """Mean absolute error ``|pred - target|``."""
    return reduce_loss((pred - target).abs(), reduction)


def charbonnier_loss(pred: torch.Tensor,
                     target: torch.Tensor,
                     eps: float = 1e-12,
                     reduction: str = 'mean') -> torch.Tensor:
    """Charbonnier loss ``sqrt((pred - target)^2 + eps)``."""
    return reduce_loss(torch.sqrt((pred - target)**2 + eps), reduction)


def _check_common(loss_weight: float, reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f'reduction must be one of {REDUCTIONS}, got {reduction!r}')
    if loss_weight < 0:
        raise ValueError(f'loss_weight must be >= 0, got {loss_weight}')


@MODELS.register_module()
class L1Loss(nn.Module):
    """L1 (mean absolute error) loss, as MMagic's ``L1Loss`` without masks.

    Args:
        loss_weight (float): Multiplies the loss. Default: 1.0.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``. Default: ``'mean'``.

    Examples:
        >>> L1Loss()(torch.zeros(2), torch.tensor([1., 3.]))
        tensor(2.)
    """

    def __init__(self, loss_weight: float = 1.0, reduction: str = 'mean') -> None:
        super().__init__()
        _check_common(loss_weight, reduction)
        self.loss_weight = loss_weight
        self.reduction = reduction

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Computes the weighted loss between same-shaped ``pred`` and ``target``."""
        return self.loss_weight * l1_loss(pred, target, self.reduction)


@MODELS.register_module()
class CharbonnierLoss(nn.Module):
    """Charbonnier loss, the robust rho of the paper (MMagic's eps by default).

    Args:
        loss_weight (float): Multiplies the loss. Default: 1.0.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``. Default: ``'mean'``.
        eps (float): Curvature near zero, added to the squared error. Default: 1e-12.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 reduction: str = 'mean',
                 eps: float = 1e-12) -> None:
        super().__init__()
        _check_common(loss_weight, reduction)
        if eps <= 0:
            raise ValueError(f'eps must be > 0, got {eps}')
        self.loss_weight = loss_weight
        self.reduction = reduction
        self.eps = eps

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Computes the weighted loss between same-shaped ``pred`` and ``target``."""
        return self.loss_weight * charbonnier_loss(pred, target, self.eps, self.reduction)
