"""Real-ESRGAN's U-Net discriminator with spectral normalisation."""
from typing import Optional

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor
from torch.nn.utils import spectral_norm

from mmrbvsr.registry import MODELS

from .blocks import to_channels_last


@MODELS.register_module()
class UNetDiscriminatorWithSpectralNorm(BaseModule):
    """A U-Net discriminator with spectral normalisation and a per-pixel output.

    Paper: Real-ESRGAN: Training Real-World Blind Super-Resolution with Pure
    Synthetic Data, ICCVW 2021. Keys match MMagic's class of the same name
    (``conv_0``, ``conv_{1..8}.weight_{orig,u,v}``, ``conv_9``).

    Args:
        in_channels (int): Channel number of the input.
        mid_channels (int): Channel number of the first features. Default: 64.
        skip_connection (bool): Add the encoder features to the decoder's.
            Default: True.
        init_cfg (dict, optional): MMEngine initialisation config. Default: None.
    """

    def __init__(self,
                 in_channels: int,
                 mid_channels: int = 64,
                 skip_connection: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.skip_connection = skip_connection
        ch = mid_channels

        self.conv_0 = nn.Conv2d(in_channels, ch, kernel_size=3, stride=1, padding=1)
        # downsample
        self.conv_1 = spectral_norm(nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=False))
        self.conv_2 = spectral_norm(nn.Conv2d(ch * 2, ch * 4, 4, 2, 1, bias=False))
        self.conv_3 = spectral_norm(nn.Conv2d(ch * 4, ch * 8, 4, 2, 1, bias=False))
        # upsample
        self.conv_4 = spectral_norm(nn.Conv2d(ch * 8, ch * 4, 3, 1, 1, bias=False))
        self.conv_5 = spectral_norm(nn.Conv2d(ch * 4, ch * 2, 3, 1, 1, bias=False))
        self.conv_6 = spectral_norm(nn.Conv2d(ch * 2, ch, 3, 1, 1, bias=False))
        # final layers
        self.conv_7 = spectral_norm(nn.Conv2d(ch, ch, 3, 1, 1, bias=False))
        self.conv_8 = spectral_norm(nn.Conv2d(ch, ch, 3, 1, 1, bias=False))
        self.conv_9 = nn.Conv2d(ch, 1, 3, 1, 1)

        self.upsample = nn.Upsample(scale_factor=2, mode='bilinear', align_corners=False)
        self.lrelu = nn.LeakyReLU(negative_slope=0.2, inplace=True)
        # channels-last: 1.3-2x faster convs at 256x256 in oneDNN, forward and backward
        to_channels_last(self)

    def forward(self, img: Tensor) -> Tensor:
        """Scores every pixel of ``(n, in_channels, h, w)`` images, h and w multiples of 8.

        Returns:
            Tensor: Logits, shape ``(n, 1, h, w)``.
        """
        if img.dim() != 4 or img.size(1) != self.in_channels:
            raise ValueError(f'{self.__class__.__name__} expects images of shape '
                             f'(n, {self.in_channels}, h, w), got {tuple(img.shape)}')
        if img.size(2) % 8 != 0 or img.size(3) % 8 != 0:
            raise ValueError(f'{self.__class__.__name__} needs a height and width divisible by 8 '
                             f'(three stride-2 levels), got shape {tuple(img.shape)}')

        img = img.contiguous(memory_format=torch.channels_last)
        feat_0 = self.lrelu(self.conv_0(img))
        # downsample
        feat_1 = self.lrelu(self.conv_1(feat_0))
        feat_2 = self.lrelu(self.conv_2(feat_1))
        feat_3 = self.lrelu(self.conv_3(feat_2))
        # upsample, with skip connections
        feat_4 = self.lrelu(self.conv_4(self.upsample(feat_3)))
        if self.skip_connection:
            feat_4 = feat_4 + feat_2
        feat_5 = self.lrelu(self.conv_5(self.upsample(feat_4)))
        if self.skip_connection:
            feat_5 = feat_5 + feat_1
        feat_6 = self.lrelu(self.conv_6(self.upsample(feat_5)))
        if self.skip_connection:
            feat_6 = feat_6 + feat_0
        # final layers
        out = self.lrelu(self.conv_7(feat_6))
        out = self.lrelu(self.conv_8(out))
        return self.conv_9(out)
