"""Building blocks shared by the generator (MMagic's key names and parameters)."""
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmengine.model.weight_init import kaiming_init
from torch import Tensor

from mmrbvsr.ops import Conv2d, conv2d, pixel_shuffle_epilogue


def default_init_weights(module: nn.Module, scale: float = 1.0) -> None:
    """Kaiming (fan-in) initialisation of every conv, scaled by ``scale``.

    The same as MMagic's ``default_init_weights``; a small ``scale`` (0.1)
    keeps deep residual stacks stable at the start of training (ESRGAN).
    """
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            kaiming_init(m, a=0, mode='fan_in', bias=0)
            m.weight.data *= scale


def to_channels_last(module: nn.Module) -> nn.Module:
    """Stores the conv weights of ``module`` channels-last (values and keys unchanged).

    oneDNN then neither reorders the weights at every call nor runs the slower
    NCHW kernels; ``load_state_dict`` copies into this layout.
    """
    return module.to(memory_format=torch.channels_last)


def make_layer(block: type, num_blocks: int, **kwargs) -> nn.Sequential:
    """Stacks ``num_blocks`` instances of ``block(**kwargs)``."""
    return nn.Sequential(*[block(**kwargs) for _ in range(num_blocks)])


class ResidualBlockNoBN(nn.Module):
    """Residual block without BN: ``x + res_scale * conv2(relu(conv1(x)))``.

    Args:
        mid_channels (int): Channel number of the features. Default: 64.
        res_scale (float): Scale of the residual before the addition. Default: 1.0.
    """

    def __init__(self, mid_channels: int = 64, res_scale: float = 1.0) -> None:
        super().__init__()
        self.res_scale = res_scale
        self.conv1 = Conv2d(mid_channels, mid_channels, 3, 1, 1, bias=True)
        self.conv2 = Conv2d(mid_channels, mid_channels, 3, 1, 1, bias=True)
        # scaled Kaiming init for residual paths (MSRResNet); EDSR-style keeps the default
        if res_scale == 1.0:
            default_init_weights(self.conv1, 0.1)
            default_init_weights(self.conv2, 0.1)

    def forward(self, x: Tensor) -> Tensor:
        if self.res_scale == 1.0:  # relu and residual add fused into the convs on a GPU
            return self.conv2(self.conv1(x, act='relu'), residual=x)
        out = self.conv2(self.conv1(x, act='relu'))
        return x + out * self.res_scale


class ResidualBlocksWithInputConv(BaseModule):
    """A conv (+ LeakyReLU 0.1) matching the channels, then residual blocks.

    Keys: ``main.0`` (the input conv) and ``main.2.{i}.conv{1,2}`` (the blocks).

    Args:
        in_channels (int): Number of input channels of the first conv.
        out_channels (int): Number of channels of the residual blocks. Default: 64.
        num_blocks (int): Number of residual blocks. Default: 30.
    """

    def __init__(self, in_channels: int, out_channels: int = 64, num_blocks: int = 30) -> None:
        super().__init__()
        self.main = nn.Sequential(
            Conv2d(in_channels, out_channels, 3, 1, 1, bias=True),
            nn.LeakyReLU(negative_slope=0.1, inplace=True),
            make_layer(ResidualBlockNoBN, num_blocks, mid_channels=out_channels),
        )
        to_channels_last(self.main)

    def forward(self, feat: Tensor) -> Tensor:
        """Maps ``(n, in_channels, h, w)`` to ``(n, out_channels, h, w)``.

        The output is channels-last (oneDNN's convolutions run faster on it), or
        NCHW where the convs take NNPACK's path (see ``conv.py``).
        """
        if self.main[0].uses_nnpack(feat):
            feat = feat.contiguous()
        else:
            feat = feat.contiguous(memory_format=torch.channels_last)
        # main[1] (the LeakyReLU) is applied by the conv, fused on a GPU
        return self.main[2](self.main[0](feat, act='leaky_relu'))


class GroupedResidualBlocks:
    """Two ``ResidualBlocksWithInputConv`` of one shape run side by side as one stack.

    Each conv of the pair becomes one grouped conv (``groups=2``) whose weights are
    the two convs' weights concatenated: the input holds the first stack's input
    channels, then the second's, and so does the output. Half the launches of two
    separate stacks (BasicVSR's backward and forward branches, which are independent
    until reconstruction), and on a GPU twice the work per kernel. Gradients reach
    the two stacks' own parameters through the concatenation.

    Args:
        stacks (tuple[ResidualBlocksWithInputConv, ResidualBlocksWithInputConv]):
            The two stacks (same channels and number of blocks).
        weight_dtype (torch.dtype, optional): Cast the concatenated weights and biases
            to this once (autocast's dtype: it would otherwise cast them at every call).
        zeros_at (tuple[int, int], optional): ``(index, count)``: the input of each
            stack gets ``count`` zero channels inserted before channel ``index`` (the
            first conv's weights get zeros there), e.g. to pad BasicVSR's 3 + 64
            input channels to 72, which cuDNN's fp16/bf16 kernels take without
            padding and reordering passes of their own; and the first conv runs as
            one dense conv with a block-diagonal weight (cuDNN splits a grouped conv
            of 72 channels per group into slices: on an H200 ~170 us of GPU time per
            step, for a conv of 1.2 GFLOP). Default: None.
    """

    def __init__(self, stacks: Tuple[ResidualBlocksWithInputConv, ...],
                 weight_dtype: Optional[torch.dtype] = None,
                 zeros_at: Optional[Tuple[int, int]] = None) -> None:
        convs = [[m for m in s.modules() if isinstance(m, nn.Conv2d)] for s in stacks]
        shapes = [[c.weight.shape for c in cs] for cs in convs]
        if len(stacks) != 2 or shapes[0] != shapes[1]:
            raise ValueError(f'need two stacks of the same shape, got {shapes}')
        self.zeros_at = zeros_at
        pairs = [(a.weight, b.weight) for a, b in zip(*convs)]
        if zeros_at is not None:
            at, count = zeros_at
            a, b = (torch.cat([w[:, :at], w.new_zeros(w.shape[0], count, *w.shape[2:]),
                               w[:, at:]], 1) for w in pairs[0])
            # block-diagonal: [[a, 0], [0, b]]
            pairs[0] = (torch.cat([a, torch.zeros_like(a)], 1),
                        torch.cat([torch.zeros_like(b), b], 1))
        self.weights = [torch.cat([a, b]).to(weight_dtype).contiguous(
            memory_format=torch.channels_last) for a, b in pairs]
        # the biases too: the fused ops round them to the conv's dtype first anyway
        self.biases = [torch.cat([a.bias, b.bias]).to(weight_dtype) for a, b in zip(*convs)]

    @property
    def input_groups(self) -> int:
        """Groups of the first conv: 1 (block-diagonal) with ``zeros_at``, else 2."""
        return 1 if self.zeros_at is not None else 2

    def parameters(self) -> List[Tensor]:
        return self.weights + self.biases

    def __call__(self, feat: Tensor) -> Tensor:
        """Maps ``(n, 2 * in_channels, h, w)`` to ``(n, 2 * out_channels, h, w)``
        (channels-last)."""
        w, b = self.weights, self.biases
        feat = feat.contiguous(memory_format=torch.channels_last)
        feat = conv2d(feat, w[0], b[0], padding=1, groups=self.input_groups,
                      act='leaky_relu')
        for i in range(1, len(w), 2):  # residual blocks: x + conv2(relu(conv1(x)))
            out = conv2d(feat, w[i], b[i], padding=1, groups=2, act='relu')
            feat = conv2d(out, w[i + 1], b[i + 1], padding=1, groups=2, residual=feat)
        return feat


class PixelShufflePack(nn.Module):
    """A conv expanding the channels by ``scale_factor ** 2``, then pixel shuffle.

    Args:
        in_channels (int): Number of input channels.
        out_channels (int): Number of output channels.
        scale_factor (int): Upsampling ratio.
        upsample_kernel (int): Kernel size of the conv.
    """

    def __init__(self, in_channels: int, out_channels: int, scale_factor: int,
                 upsample_kernel: int) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.scale_factor = scale_factor
        self.upsample_kernel = upsample_kernel
        self.upsample_conv = Conv2d(
            in_channels, out_channels * scale_factor * scale_factor, upsample_kernel,
            padding=(upsample_kernel - 1) // 2)
        default_init_weights(self, 1)

    def forward(self, x: Tensor, act: Optional[str] = None) -> Tensor:
        """Conv, pixel shuffle; ``act`` (elementwise) is applied by the conv."""
        if self.upsample_conv.fusable(x):  # bias, act and shuffle in one pass
            return pixel_shuffle_epilogue(self.upsample_conv.conv_without_bias(x),
                                          self.upsample_conv.bias, self.scale_factor, act)
        return F.pixel_shuffle(self.upsample_conv(x, act=act), self.scale_factor)
