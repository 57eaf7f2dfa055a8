from .basicvsr_net import BasicVSRNet, check_lqs
from .blocks import (
    PixelShufflePack,
    ResidualBlockNoBN,
    ResidualBlocksWithInputConv,
    default_init_weights,
    make_layer,
)
from .real_basicvsr_net import RealBasicVSRNet
from .spynet import SPyNet, SPyNetBasicModule
from .unet_disc import UNetDiscriminatorWithSpectralNorm

__all__ = [
    'BasicVSRNet', 'check_lqs', 'PixelShufflePack', 'ResidualBlockNoBN',
    'ResidualBlocksWithInputConv', 'default_init_weights', 'make_layer', 'RealBasicVSRNet',
    'SPyNet', 'SPyNetBasicModule', 'UNetDiscriminatorWithSpectralNorm'
]
