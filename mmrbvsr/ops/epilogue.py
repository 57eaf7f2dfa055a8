"""A convolution's bias, activation and residual add in one pass (GPU inference).

PyTorch adds a cuDNN convolution's bias in a separate, broadcasting kernel, a
strided one: on an H200 it took 18 us per 180x320x64 bf16 tensor, a quarter of
the bf16 inference time (docs/benchmarks.md); the activation and the residual add
are one more pass each. ``conv_epilogue`` does the three in one vectorised Triton
kernel, rounding after each step as the separate ops do, so the output equals
theirs bit for bit; ``pixel_shuffle_epilogue`` also writes the result pixel-shuffled
(channels-last), replacing the strided copy of ``F.pixel_shuffle``. Used without
autograd on CUDA tensors, inside a CUDA graph's capture (``fused_scope``) or on
large tensors (a Triton launch costs more CPU time than PyTorch's); everywhere else
(and with ``MMRBVSR_FUSED_EPILOGUE=0``, ``switches.py``) the usual ops run. Without autograd, a 3x3
conv followed by a ReLU in fp16/bf16 runs as cuDNN's own fused conv + bias + ReLU
(``cudnn_conv_relu``), which is faster than the conv alone.
"""
from contextlib import contextmanager
from typing import Iterator, Optional

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn.modules.utils import _pair

from . import switches

try:
    import triton
    import triton.language as tl
except ImportError:  # pragma: no cover - triton ships with PyTorch's CUDA wheels
    triton = None

ACTIVATIONS = {None: 0, 'relu': 1, 'leaky_relu': 2}
LEAKY_SLOPE = 0.1  # BasicVSR's LeakyReLU
BLOCK = 2048
INT32_LIMIT = 2**31  # from this many elements (plus a block) the kernels index in int64
# outside a graph capture, conv outputs from this many elements (360x640x64) are fused
EAGER_MIN_NUMEL = 2**23

_scope = 0  # depth of nested fused_scope blocks

if triton is not None:

    @triton.jit
    def _epilogue_kernel(y_ptr, bias_ptr, res_ptr, numel, plane, CHANNELS: tl.constexpr,
                         CHANNELS_LAST: tl.constexpr, ACT: tl.constexpr,
                         HAS_RESIDUAL: tl.constexpr, SLOPE: tl.constexpr,
                         WIDE: tl.constexpr, BLOCK: tl.constexpr):
        # int32 offsets unless WIDE (2**31 elements or more), and the channel count a
        # constant: the channel of an offset is a mask or a multiply, not an int64
        # division (the pass is memory-bound either way: 10.9 against 11.6 ms of an
        # H200 inference call; the pixel shuffle below gained more)
        pid = tl.program_id(0)
        if WIDE:
            pid = pid.to(tl.int64)
        offs = pid * BLOCK + tl.arange(0, BLOCK)
        mask = offs < numel
        if CHANNELS_LAST:
            c = offs % CHANNELS
        else:
            c = (offs // plane) % CHANNELS
        dtype = y_ptr.dtype.element_ty
        y = tl.load(y_ptr + offs, mask=mask, other=0.).to(tl.float32)
        b = tl.load(bias_ptr + c, mask=mask, other=0.).to(dtype).to(tl.float32)
        y = (y + b).to(dtype).to(tl.float32)  # the bias add_, rounded to y's dtype
        if ACT == 1:
            y = tl.where(y < 0, 0., y)  # NaN stays NaN, as in torch.relu
        elif ACT == 2:
            y = tl.where(y > 0, y, y * SLOPE).to(dtype).to(tl.float32)
        if HAS_RESIDUAL:
            y = y + tl.load(res_ptr + offs, mask=mask, other=0.).to(tl.float32)
        tl.store(y_ptr + offs, y.to(dtype), mask=mask)

    @triton.jit
    def _pixel_shuffle_kernel(y_ptr, bias_ptr, out_ptr, height, width,
                              CHANNELS: tl.constexpr, R: tl.constexpr, ACT: tl.constexpr,
                              SLOPE: tl.constexpr, WIDE: tl.constexpr, BLOCK: tl.constexpr):
        # out (n, CHANNELS, height*R, width*R) channels-last from y (n, CHANNELS*R*R,
        # height, width) channels-last: out[., c, h*R+i, w*R+j] = y[., c*R*R+i*R+j, h, w].
        # Program (row, k) writes the k-th block of output row `row` (n * height * R
        # rows of width * R * CHANNELS elements): no per-element division by a
        # runtime value
        row = tl.program_id(0)
        if WIDE:
            row = row.to(tl.int64)
        row_len = width * (R * CHANNELS)
        offs = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)  # within the row
        mask = offs < row_len
        ho = row % (height * R)
        n = row // (height * R)
        c = offs % CHANNELS
        wo = offs // CHANNELS
        ci = c * (R * R) + (ho % R) * R + wo % R
        src = ((n * height + ho // R) * width + wo // R) * (CHANNELS * R * R) + ci
        dtype = y_ptr.dtype.element_ty
        y = tl.load(y_ptr + src, mask=mask, other=0.).to(tl.float32)
        b = tl.load(bias_ptr + ci, mask=mask, other=0.).to(dtype).to(tl.float32)
        y = (y + b).to(dtype).to(tl.float32)
        if ACT == 1:
            y = tl.where(y < 0, 0., y)
        elif ACT == 2:
            y = tl.where(y > 0, y, y * SLOPE)
        tl.store(out_ptr + row * row_len + offs, y.to(dtype), mask=mask)


def fused_enabled() -> bool:
    """Whether the fused paths are switched on (``switches.enabled('fused_epilogue')``)."""
    return switches.enabled('fused_epilogue')


@contextmanager
def fused_scope() -> Iterator[None]:
    """Fuses every epilogue meanwhile (a graph's warm-up and capture)."""
    global _scope
    _scope += 1
    try:
        yield
    finally:
        _scope -= 1


def epilogue_usable(x: Tensor, out_numel: int) -> bool:
    """Whether a conv on ``x`` with an output of ``out_numel`` elements takes the fused
    path: CUDA, no autograd, Triton, and in ``fused_scope`` or a large output."""
    return (fused_enabled() and triton is not None and x.is_cuda and not torch.is_grad_enabled()
            and (_scope > 0 or out_numel >= EAGER_MIN_NUMEL))


def cudnn_relu_usable(x: Tensor, weight: Tensor, act: Optional[str],
                      residual: Optional[Tensor]) -> bool:
    """Whether a conv of ``x`` followed by ``act`` runs as cuDNN's fused conv + bias +
    ReLU (``cudnn_conv_relu``): a ReLU and no residual, CUDA, no autograd, fp16/bf16,
    channels-last input, 3x3 kernel; off with the fused epilogue."""
    return (fused_enabled() and act == 'relu' and residual is None and x.is_cuda
            and not torch.is_grad_enabled() and x.dtype in (torch.float16, torch.bfloat16)
            and x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last)
            and tuple(weight.shape[-2:]) == (3, 3) and torch.backends.cudnn.enabled)


def cudnn_conv_relu(x: Tensor, weight: Tensor, bias: Tensor, stride, padding, dilation,
                    groups: int) -> Tensor:
    """``relu(conv2d(x, weight, bias))`` in one cuDNN kernel, weights and bias in ``x``'s
    dtype. The bias is added before the output is rounded (the separate ops round
    twice), so it differs from them by rounding. On an H200 (bf16, 180x320, GPU time
    from a CUDA graph, ``bench/benchmark_conv_cuda.py``): 15.3 against 18.0 us for the
    conv and ``conv_epilogue`` at 64 channels; 25.4 against 31.4 us for both branches'
    grouped conv."""
    return torch.cudnn_convolution_relu(x, weight.to(x.dtype), bias.to(x.dtype),
                                        _pair(stride), _pair(padding), _pair(dilation),
                                        groups)


def check_act(act: Optional[str]) -> None:
    if act not in ACTIVATIONS:
        raise ValueError(f'act must be one of {list(ACTIVATIONS)}, got {act!r}')


def apply_epilogue(y: Tensor, act: Optional[str] = None,
                   residual: Optional[Tensor] = None) -> Tensor:
    """The activation (in place) and residual add (in place) with PyTorch's ops."""
    check_act(act)
    if act == 'relu':
        y = F.relu(y, inplace=True)
    elif act == 'leaky_relu':
        y = F.leaky_relu(y, LEAKY_SLOPE, inplace=True)
    return y if residual is None else y.add_(residual)


def _unfused(y: Tensor, bias: Tensor, act: Optional[str],
             residual: Optional[Tensor] = None) -> Tensor:
    """What the kernels compute, with PyTorch's ops (for layouts they do not take)."""
    return apply_epilogue(y.add_(bias.to(y.dtype).view(1, -1, 1, 1)), act, residual)


def conv_epilogue(y: Tensor, bias: Tensor, act: Optional[str] = None,
                  residual: Optional[Tensor] = None) -> Tensor:
    """``apply_epilogue(y + bias, act, residual)`` in one pass, written into ``y``.

    Args:
        y (Tensor): A conv's output without bias ``(n, c, h, w)``, NCHW or
            channels-last contiguous, on CUDA.
        bias (Tensor): The bias ``(c,)``, any float dtype (rounded to ``y``'s first,
            as autocast and the bias add do).
        act (str, optional): ``'relu'``, ``'leaky_relu'`` (slope 0.1) or None.
        residual (Tensor, optional): Added last; any float dtype.

    Returns:
        Tensor: ``y``.
    """
    check_act(act)
    channels_last = y.is_contiguous(memory_format=torch.channels_last)
    if y.dim() != 4 or not (y.is_contiguous() or channels_last) or (
            residual is not None and (residual.shape != y.shape
                                      or residual.stride() != y.stride())):
        return _unfused(y, bias, act, residual)
    numel = y.numel()
    if numel == 0:
        return y
    grid = (triton.cdiv(numel, BLOCK), )
    _epilogue_kernel[grid](
        y, bias, residual if residual is not None else y, numel, y.shape[2] * y.shape[3],
        CHANNELS=y.shape[1], CHANNELS_LAST=channels_last and not y.is_contiguous(),
        ACT=ACTIVATIONS[act], HAS_RESIDUAL=residual is not None, SLOPE=LEAKY_SLOPE,
        WIDE=numel + BLOCK >= INT32_LIMIT, BLOCK=BLOCK)
    return y


def pixel_shuffle_epilogue(y: Tensor, bias: Tensor, scale: int,
                           act: Optional[str] = None) -> Tensor:
    """``F.pixel_shuffle(apply_epilogue(y + bias, act), scale)`` in one pass.

    Args:
        y (Tensor): A conv's output without bias ``(n, c*s*s, h, w)`` on CUDA.
        bias (Tensor): The bias ``(c*s*s,)``.
        scale (int): The pixel-shuffle factor ``s``.
        act (str, optional): ``'relu'``, ``'leaky_relu'`` (slope 0.1) or None.

    Returns:
        Tensor: ``(n, c, s*h, s*w)``, channels-last (a new tensor).
    """
    check_act(act)
    n, cs, h, w = y.shape
    if not y.is_contiguous(memory_format=torch.channels_last) or y.numel() == 0:
        return F.pixel_shuffle(_unfused(y, bias, act), scale)
    out = torch.empty(n, cs // scale**2, h * scale, w * scale, dtype=y.dtype,
                      device=y.device, memory_format=torch.channels_last)
    rows, row_len = n * h * scale, w * scale * out.shape[1]
    _pixel_shuffle_kernel[(rows, triton.cdiv(row_len, BLOCK))](
        y, bias, out, h, w, CHANNELS=out.shape[1], R=scale, ACT=ACTIVATIONS[act],
        SLOPE=LEAKY_SLOPE, WIDE=y.numel() + BLOCK >= INT32_LIMIT, BLOCK=BLOCK)
    return out
