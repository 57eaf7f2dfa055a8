from .cleaning_loss import CleaningLoss, downsample_gt
from .gan_loss import GANLoss
from .perceptual_loss import PerceptualLoss, PerceptualVGG
from .pixelwise_loss import CharbonnierLoss, L1Loss, charbonnier_loss, l1_loss

__all__ = [
    'CleaningLoss', 'downsample_gt', 'GANLoss', 'PerceptualLoss', 'PerceptualVGG',
    'CharbonnierLoss', 'L1Loss', 'charbonnier_loss', 'l1_loss'
]
