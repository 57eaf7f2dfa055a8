"""Adversarial losses with MMagic's ``GANLoss`` types, arguments and results."""
from typing import Optional, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmrbvsr.registry import MODELS

GAN_TYPES = ('vanilla', 'lsgan', 'wgan', 'hinge', 'l1', 'smgan')


class GaussianBlur(nn.Module):
    """Depthwise 2-D Gaussian blur with zero padding (the soft mask of ``smgan``).

    The kernel is MMagic's: ``exp(-(x - k // 2)^2 / (2 sigma^2))`` normalised, per axis.

    Args:
        kernel_size (tuple[int, int]): Odd kernel height and width. Default: (71, 71).
        sigma (tuple[float, float]): Standard deviations. Default: (10.0, 10.0).
    """

    def __init__(self,
                 kernel_size: Tuple[int, int] = (71, 71),
                 sigma: Tuple[float, float] = (10.0, 10.0)) -> None:
        super().__init__()
        if (not isinstance(kernel_size, tuple) or len(kernel_size) != 2
                or any(not isinstance(k, int) or k <= 0 or k % 2 == 0 for k in kernel_size)):
            raise ValueError(f'kernel_size must be a tuple of two odd positive ints, '
                             f'got {kernel_size!r}')
        if not isinstance(sigma, tuple) or len(sigma) != 2 or min(sigma) <= 0:
            raise ValueError(f'sigma must be a tuple of two positive floats, got {sigma!r}')
        self.kernel_size = kernel_size
        self.sigma = sigma
        self.padding = tuple((k - 1) // 2 for k in kernel_size)
        ky, kx = (self.gaussian(k, s) for k, s in zip(kernel_size, sigma))
        # not a state-dict entry (MMagic's module has none)
        self.register_buffer('kernel', ky[:, None] @ kx[None, :], persistent=False)

    @staticmethod
    def gaussian(kernel_size: int, sigma: float) -> torch.Tensor:
        """Normalised 1-D Gaussian of ``kernel_size`` taps (float32, as MMagic)."""
        x = torch.arange(kernel_size, dtype=torch.float64)
        g = torch.exp((-(x - kernel_size // 2)**2 / float(2 * sigma**2)).float())
        return g / g.sum()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Blurs each channel of ``x`` (n, c, h, w); same shape out."""
        if not torch.is_tensor(x) or x.dim() != 4:
            raise ValueError(f'GaussianBlur expects a (n, c, h, w) tensor, got '
                             f'{tuple(x.shape) if torch.is_tensor(x) else type(x).__name__}')
        c = x.size(1)
        kernel = self.kernel.to(x).expand(c, 1, *self.kernel.shape)
        return F.conv2d(x, kernel, padding=self.padding, groups=c)


@MODELS.register_module()
class GANLoss(nn.Module):
    """GAN loss; RealBasicVSR uses ``'vanilla'`` (BCE on logits) with weight 0.05.

    Args:
        gan_type (str): One of ``'vanilla'``, ``'lsgan'``, ``'wgan'``, ``'hinge'``, ``'l1'``,
            ``'smgan'`` (least squares against a soft mask, for inpainting: the loss needs
            ``mask``; the discriminator's fake target is the Gaussian-blurred mask).
        real_label_val (float): Target for real samples. Default: 1.0.
        fake_label_val (float): Target for fake samples. Default: 0.0.
        loss_weight (float): Weight of the generator's loss; the discriminator's loss
            is never weighted. Default: 1.0.
    """

    def __init__(self,
                 gan_type: str,
                 real_label_val: float = 1.0,
                 fake_label_val: float = 0.0,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if gan_type not in GAN_TYPES:
            raise ValueError(f'gan_type must be one of {GAN_TYPES}, got {gan_type!r}')
        self.gan_type = gan_type
        self.real_label_val = real_label_val
        self.fake_label_val = fake_label_val
        self.loss_weight = loss_weight
        if gan_type == 'smgan':
            self.gaussian_blur = GaussianBlur()

    def get_target_label(self, input: torch.Tensor,
                         target_is_real: bool) -> Union[bool, torch.Tensor]:
        """The target: ``target_is_real`` itself for ``'wgan'``, else a tensor like
        ``input`` filled with the real or fake label."""
        if self.gan_type == 'wgan':
            return target_is_real
        value = self.real_label_val if target_is_real else self.fake_label_val
        return torch.full_like(input, value)

    def forward(self,
                input: torch.Tensor,
                target_is_real: bool,
                is_disc: bool = False,
                mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Computes the loss of discriminator logits ``input``.

        Args:
            input (Tensor): Discriminator output (any shape, e.g. a per-pixel map;
                (n, c, h, w) for ``'smgan'``).
            target_is_real (bool): Whether the target label is "real".
            is_disc (bool): Loss for the discriminator (unweighted). Default: False.
            mask (Tensor, optional): (n, c, h, w) mask; used by ``'smgan'`` only (which
                resizes ``input`` to it), ignored by the other types. Default: None.
        """
        if self.gan_type == 'wgan':
            loss = -input.mean() if target_is_real else input.mean()
        elif self.gan_type == 'hinge':
            if is_disc:
                loss = F.relu(1 - input if target_is_real else 1 + input).mean()
            else:
                loss = -input.mean()
        elif self.gan_type == 'smgan':
            loss = self._smgan(input, target_is_real, is_disc, mask)
        else:
            target = self.get_target_label(input, target_is_real)
            if self.gan_type == 'vanilla':
                loss = F.binary_cross_entropy_with_logits(input, target)
            elif self.gan_type == 'lsgan':
                loss = F.mse_loss(input, target)
            else:
                loss = F.l1_loss(input, target)
        return loss if is_disc else loss * self.loss_weight

    def _smgan(self, input: torch.Tensor, target_is_real: bool, is_disc: bool,
               mask: Optional[torch.Tensor]) -> torch.Tensor:
        if mask is None:
            raise ValueError("gan_type 'smgan' needs a mask, got mask=None")
        if input.shape[2:] != mask.shape[2:]:
            input = F.interpolate(input, size=mask.shape[2:], mode='bilinear',
                                  align_corners=True)
        if is_disc and not target_is_real:
            target = self.gaussian_blur(mask).detach()
        else:
            target = self.get_target_label(input, target_is_real)
        loss = F.mse_loss(input, target)
        if not is_disc:  # MMagic's weighting by the mask, normalised by its mean
            loss = (loss * mask / mask.mean()).mean()
        return loss
