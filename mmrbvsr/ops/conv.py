"""A conv that runs on NNPACK's fast-convolution kernels on CPU where they are faster.

oneDNN (PyTorch's default CPU convolution) computes a conv directly; NNPACK
transforms it (Winograd F(6x6, 3x3) for 3x3 kernels, 16x16 FFT for larger ones) and
needs far fewer multiplications. On a 2-core Zen 4 (``bench/benchmark_conv.py``), in a
stack of 64-channel residual blocks, a 3x3 conv runs as fast at 180x320 and 1.3-1.4x
faster from 240x320 on (alone, with its data in cache: 1.4-1.5x from 144x256 on), and
SPyNet's 7x7 convs 1.7-4.2x from 24x40 on. Only where that holds is it used: float32
on CPU, stride 1, "same" zero padding, kernels of a size in ``NNPACK_MIN_PIXELS`` and
images of at least that many pixels (and, to bound NNPACK's workspace, not too many:
``NNPACK_MAX_WORK``), one image per call; 3x3 convs only without autograd (in
training their NCHW outputs slow the backward down more than the forward gains).
Gradients are PyTorch's usual convolution backward. The transforms round differently:
outputs differ from oneDNN's by ~1e-6 (FFT) to ~1e-5 (Winograd) relative, and a
non-finite input value spreads over its whole transform tile (8x8 or 16x16 pixels)
instead of the kernel's footprint. GPUs and other dtypes keep PyTorch's own path.

Switch it off with ``switches.set_enabled('nnpack', False)`` or ``MMRBVSR_NNPACK=0`` in
the environment.

On a GPU without autograd the bias, and an activation or residual add that follows,
are applied in one fused pass (``epilogue.py``).
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor
from torch.nn.modules.utils import _pair

from . import cudnn_fused, switches
from .epilogue import (
    apply_epilogue,
    conv_epilogue,
    cudnn_conv_relu,
    cudnn_relu_usable,
    epilogue_usable,
)

# kernel size -> pixels per image from which NNPACK is faster than oneDNN (2-core Zen 4;
# 3x3 in a 20-block residual stack: 180x320 0.98-1.04x, 240x320 1.33x, 360x640 1.4x;
# 7x7 alone: 12x20 0.4-0.6x, 24x40 1.8x, 64x64 2-3x)
NNPACK_MIN_PIXELS = {3: 240 * 320, 7: 32 * 32}
# NNPACK keeps a workspace as large as the largest conv's transformed input and output
# (~7 bytes per pixel and channel in and out for 3x3) for the life of the thread; above
# this many pixels x (in + out channels), e.g. the x4 reconstruction's 360x640 and
# 720x1280 convs, oneDNN is used so that it stays below ~250 MB
NNPACK_MAX_WORK = 32 * 2**20
# fp16/bf16 cuDNN convs on CUDA: output channels padded to a multiple of this
CHANNEL_ALIGN = 8

_available = None  # whether NNPACK initialised, found on first use


def nnpack_available() -> bool:
    """Whether this PyTorch build has NNPACK and it initialised on this CPU."""
    global _available
    if _available is None:
        try:
            _available = bool(torch._nnpack_available())
        except (AttributeError, RuntimeError):
            _available = False
    return _available


def nnpack_enabled() -> bool:
    """Whether the NNPACK path is switched on (it still needs ``nnpack_available()``)."""
    return switches.enabled('nnpack')


def fused_epilogue_usable(x: Tensor, out_channels: int, stride=1) -> bool:
    """Whether a conv of ``x`` to ``out_channels`` (zero padding, a bias) takes the fused
    epilogue (``epilogue.py``)."""
    if x.dim() != 4:
        return False
    sy, sx = _pair(stride)
    return epilogue_usable(x, x.shape[0] * out_channels * x.shape[2] * x.shape[3] // (sy * sx))


def half_on_cuda(x: Tensor) -> bool:
    """Whether a conv of ``x`` runs in fp16/bf16 on CUDA without autograd (autocast's
    dtype where it is on)."""
    if not x.is_cuda or torch.is_grad_enabled():
        return False
    dtype = (torch.get_autocast_dtype('cuda') if torch.is_autocast_enabled('cuda')
             else x.dtype)
    return dtype in (torch.float16, torch.bfloat16)


def conv2d(x: Tensor, weight: Tensor, bias: Optional[Tensor], stride=1, padding=0,
           dilation=1, groups: int = 1, act: Optional[str] = None,
           residual: Optional[Tensor] = None) -> Tensor:
    """``F.conv2d`` (zero padding), then ``act`` and ``residual``: as cuDNN's fused conv +
    ReLU or with the fused epilogue where usable (a GPU without autograd), with
    PyTorch's in-place ops elsewhere. In fp16/bf16 on a GPU without autograd, output
    channels that are not a multiple of ``CHANNEL_ALIGN`` are computed with zero
    filters added, and a conv + bias + residual runs as one cuDNN graph where
    cudnn-frontend is installed (``cudnn_fused.py``)."""
    if groups == 1 and weight.shape[0] % CHANNEL_ALIGN and half_on_cuda(x):
        # e.g. 64 -> 3 (reconstruction, cleaning) or 16 -> 2 (SPyNet): cuDNN pads such
        # outputs itself, in extra passes and slower kernels (the 720x1280 conv_last on
        # an H200: 169 us, 147 us as 64 -> 8); zero filters give the same channels
        pad = -weight.shape[0] % CHANNEL_ALIGN
        padded = F.pad(weight, (0, 0, 0, 0, 0, 0, 0, pad)).contiguous(
            memory_format=torch.channels_last if x.is_contiguous(
                memory_format=torch.channels_last) else torch.contiguous_format)
        y = F.conv2d(x, padded, None, stride, padding, dilation)[:, :weight.shape[0]]
        if bias is not None:
            y = y.add(bias.to(y.dtype).view(1, -1, 1, 1))
        return apply_epilogue(y, act, residual)
    if bias is not None and residual is not None and act is None and cudnn_fused.available():
        w = weight.to(x.dtype)  # autocast's cast (the grouped weights are cast already)
        if cudnn_fused.usable(x, w, residual, stride, dilation):
            out = cudnn_fused.conv_bias_add(x, w, bias, residual, _pair(padding))
            if out is not None:
                return out
    if bias is not None and cudnn_relu_usable(x, weight, act, residual):
        return cudnn_conv_relu(x, weight, bias, stride, padding, dilation, groups)
    if bias is not None and fused_epilogue_usable(x, weight.shape[0], stride):
        return conv_epilogue(F.conv2d(x, weight, None, stride, padding, dilation, groups),
                             bias, act, residual)
    return apply_epilogue(F.conv2d(x, weight, bias, stride, padding, dilation, groups), act,
                          residual)


class Conv2d(nn.Conv2d):
    """``nn.Conv2d`` (same parameters and state-dict keys) with the NNPACK path.

    ``forward(x, act, residual)`` also applies the activation that follows the conv
    (``'relu'`` or ``'leaky_relu'``, slope 0.1) and then adds ``residual``: fused on
    a GPU without autograd, PyTorch's in-place ops elsewhere (the same result).
    """

    def _nnpack_shape(self) -> bool:
        k = self.kernel_size[0]
        return (k in NNPACK_MIN_PIXELS and self.kernel_size == (k, k)
                and self.stride == (1, 1) and self.padding == ((k - 1) // 2, ) * 2
                and self.dilation == (1, 1) and self.groups == 1
                and self.padding_mode == 'zeros')

    def uses_nnpack(self, x: Tensor) -> bool:
        """Whether ``forward(x)`` takes the NNPACK path (then keep ``x`` NCHW-contiguous)."""
        return (switches.enabled('nnpack') and x.dim() == 4 and x.device.type == 'cpu'
                and not (torch.is_grad_enabled() and self.kernel_size == (3, 3))
                and x.dtype == torch.float32 and self.weight.dtype == torch.float32
                and self._nnpack_shape()
                and NNPACK_MIN_PIXELS[self.kernel_size[0]] <= x.shape[2] * x.shape[3]
                <= NNPACK_MAX_WORK // (self.in_channels + self.out_channels)
                and nnpack_available())

    def forward(self, x: Tensor, act: Optional[str] = None,
                residual: Optional[Tensor] = None) -> Tensor:
        if self.uses_nnpack(x):
            return apply_epilogue(self._nnpack_forward(x), act, residual)
        if self.padding_mode != 'zeros':
            return apply_epilogue(super().forward(x), act, residual)
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                      self.groups, act, residual)

    def fusable(self, x: Tensor) -> bool:
        """Whether ``forward(x)`` fuses bias, activation and residual (``epilogue.py``)."""
        return (self.bias is not None and self.padding_mode == 'zeros'
                and fused_epilogue_usable(x, self.out_channels, self.stride))

    def conv_without_bias(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight, None, self.stride, self.padding, self.dilation,
                        self.groups)

    def _nnpack_forward(self, x: Tensor) -> Tensor:
        weight = self.weight.contiguous()
        bias = self.bias if self.bias is not None else x.new_zeros(self.out_channels)
        x = x.contiguous()
        n = x.shape[0]

        def conv(i: int) -> Tensor:  # NNPACK's single-image algorithm; its batched one is slower
            return torch._nnpack_spatial_convolution(x[i:i + 1], weight, bias, self.padding,
                                                     [1, 1])

        if n == 1:
            return conv(0)
        if torch.is_grad_enabled():
            return torch.cat([conv(i) for i in range(n)])
        out = x.new_empty(n, self.out_channels, x.shape[2], x.shape[3])
        for i in range(n):  # written in place: no second copy of the batch's output
            out[i] = conv(i)[0]
        return out
