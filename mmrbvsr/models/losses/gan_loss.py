"""Adversarial losses (MMagic's ``GANLoss`` semantics, without the smgan variant)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmrbvsr.registry import MODELS

GAN_TYPES = ('vanilla', 'lsgan', 'wgan', 'hinge', 'l1')


@MODELS.register_module()
class GANLoss(nn.Module):
    """GAN loss; RealBasicVSR uses ``'vanilla'`` (BCE on logits) with weight 0.05.

    Args:
        gan_type (str): One of ``'vanilla'``, ``'lsgan'``, ``'wgan'``, ``'hinge'``, ``'l1'``.
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

    def forward(self,
                input: torch.Tensor,
                target_is_real: bool,
                is_disc: bool = False) -> torch.Tensor:
        """Computes the loss of discriminator logits ``input``.

        Args:
            input (Tensor): Discriminator output (any shape, e.g. a per-pixel map).
            target_is_real (bool): Whether the target label is "real".
            is_disc (bool): Loss for the discriminator (unweighted). Default: False.
        """
        if self.gan_type == 'wgan':
            loss = -input.mean() if target_is_real else input.mean()
        elif self.gan_type == 'hinge':
            if is_disc:
                loss = F.relu(1 - input if target_is_real else 1 + input).mean()
            else:
                loss = -input.mean()
        else:
            value = self.real_label_val if target_is_real else self.fake_label_val
            target = torch.full_like(input, value)
            if self.gan_type == 'vanilla':
                loss = F.binary_cross_entropy_with_logits(input, target)
            elif self.gan_type == 'lsgan':
                loss = F.mse_loss(input, target)
            else:
                loss = F.l1_loss(input, target)
        return loss if is_disc else loss * self.loss_weight
