from .basicvsr_net import BasicVSRNet, check_lqs
from .blocks import (
                     PixelShufflePack,
                     ResidualBlockNoBN,
                     ResidualBlocksWithInputConv,
                     default_init_weights,
                     make_layer,
)
from .conv import Conv2d, nnpack_available, nnpack_enabled, set_nnpack
from .epilogue import set_fused_epilogue
from .flow_warp import flow_warp
from .real_basicvsr_net import RealBasicVSRNet
from .spynet import SPyNet, SPyNetBasicModule
from .unet_disc import UNetDiscriminatorWithSpectralNorm

__all__ = [
    'BasicVSRNet', 'check_lqs', 'Conv2d', 'nnpack_available', 'nnpack_enabled', 'set_nnpack',
    'set_fused_epilogue',
    'PixelShufflePack', 'ResidualBlockNoBN',
    'ResidualBlocksWithInputConv', 'default_init_weights', 'make_layer', 'flow_warp',
    'RealBasicVSRNet', 'SPyNet', 'SPyNetBasicModule', 'UNetDiscriminatorWithSpectralNorm'
]
