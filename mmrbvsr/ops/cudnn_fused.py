"""cuDNN's fused conv + bias + residual add (GPU inference; optional).

A residual block's second conv is ``x + conv(h) + bias``. PyTorch has no cuDNN op for
it (``torch.cudnn_convolution_add_relu`` ends with a ReLU), so it otherwise runs as the
conv and then a memory-bound epilogue pass (``epilogue.py``). With NVIDIA's
cudnn-frontend installed (``pip install nvidia-cudnn-frontend``), ``conv_bias_add``
builds the operation graph conv -> bias -> add once per shape and runs it as one
cuDNN kernel, without autograd, in fp16/bf16, on channels-last tensors, for convs
without groups (on an H200, 64 channels at 180x320: 16.7 against 19.1 us for the conv
and the epilogue; for the grouped conv of both branches 42 against 35 us, so those
keep the usual path). It rounds
once (the separate ops round after the conv and after each add), so it differs from
them by rounding. Where the package is missing, a graph is not supported or
``MMRBVSR_CUDNN_FUSED=0`` is set (``switches.py``), ``conv_bias_add`` returns None and the
caller takes the usual path.
"""
from typing import Dict, Optional, Tuple

import torch
from torch import Tensor
from torch.nn.modules.utils import _pair

from . import switches
from .epilogue import fused_enabled

try:  # optional
    import cudnn
except Exception:  # ImportError, or a library it cannot load
    cudnn = None

# call signature -> built graph and workspace (None: unsupported); never dropped: CUDA
# graphs captured with a plan launch its kernels on its workspace
_graphs: Dict[tuple, Optional[tuple]] = {}
_handles: Dict[int, object] = {}  # one cuDNN handle per device, for the process


def available() -> bool:
    """Whether cudnn-frontend imported and the path is switched on (``cudnn_fused`` and
    ``fused_epilogue`` in ``switches``)."""
    return cudnn is not None and switches.enabled('cudnn_fused') and fused_enabled()


def usable(x: Tensor, weight: Tensor, residual: Tensor, stride=1, dilation=1) -> bool:
    """Whether ``conv_bias_add`` takes these: CUDA, no autograd, fp16/bf16 and
    channels-last throughout, stride and dilation 1, no groups (for
    both branches' grouped conv, cuDNN's heuristics chose a fused kernel slower than
    the conv and ``conv_epilogue``: 42 against 35 us, ``bench/benchmark_conv_cuda.py``)."""
    cl = torch.channels_last
    return (available() and x.is_cuda and not torch.is_grad_enabled() and x.dim() == 4
            and _pair(stride) == (1, 1) and _pair(dilation) == (1, 1)
            and x.dim() == weight.dim() and x.shape[1] == weight.shape[1]
            and x.dtype in (torch.float16, torch.bfloat16) and weight.dtype == x.dtype
            and residual.dtype == x.dtype and x.is_contiguous(memory_format=cl)
            and weight.is_contiguous(memory_format=cl)
            and residual.is_contiguous(memory_format=cl))


def _handle(device: torch.device):
    index = device.index if device.index is not None else torch.cuda.current_device()
    if index not in _handles:
        with torch.cuda.device(index):
            _handles[index] = cudnn.create_handle()
    return _handles[index]


def _build(x: Tensor, weight: Tensor, residual: Tensor, padding: Tuple[int, int]) -> tuple:
    dtype = {torch.float16: cudnn.data_type.HALF,
             torch.bfloat16: cudnn.data_type.BFLOAT16}[x.dtype]
    k = weight.shape[0]
    graph = cudnn.pygraph(io_data_type=dtype, intermediate_data_type=cudnn.data_type.FLOAT,
                          compute_data_type=cudnn.data_type.FLOAT,
                          handle=_handle(x.device))
    tensor = lambda name, t: graph.tensor(  # noqa: E731
        name=name, dim=list(t.shape), stride=list(t.stride()), data_type=dtype)
    X, W, R = tensor('X', x), tensor('W', weight), tensor('R', residual)
    B = graph.tensor(name='B', dim=[1, k, 1, 1], stride=[k, 1, 1, 1], data_type=dtype)
    y = graph.conv_fprop(image=X, weight=W, padding=list(padding), stride=[1, 1],
                         dilation=[1, 1], compute_data_type=cudnn.data_type.FLOAT)
    y = graph.add(a=graph.bias(input=y, bias=B), b=R)
    y.set_output(True).set_data_type(dtype)
    graph.validate()
    graph.build_operation_graph()
    graph.create_execution_plans([cudnn.heur_mode.A, cudnn.heur_mode.FALLBACK])
    graph.check_support()
    graph.build_plans()
    workspace = torch.empty(max(1, graph.get_workspace_size()), dtype=torch.uint8,
                            device=x.device)
    return graph, (X, W, B, R, y), workspace


def conv_bias_add(x: Tensor, weight: Tensor, bias: Tensor, residual: Tensor,
                  padding: Tuple[int, int]) -> Optional[Tensor]:
    """``conv2d(x, weight, padding=padding) + bias + residual`` (stride 1; groups from
    the weight's input channels) as one cuDNN graph, or None where it is not built.

    The first call of a signature builds the graph (not inside a CUDA graph's
    capture: ``cuda_graph.py`` warms up first); later calls only launch it.
    """
    key = (tuple(x.shape), x.stride(), tuple(weight.shape), weight.stride(),
           residual.stride(), x.dtype, tuple(padding), x.device)
    if key not in _graphs:
        if torch.cuda.is_current_stream_capturing():
            return None
        try:
            _graphs[key] = _build(x, weight, residual, padding)
        except Exception as e:  # unsupported here: the usual path for this shape
            _graphs[key] = None
            switches.record_failure('cudnn_fused', f'conv {key[:3]} {x.dtype}', e)
    entry = _graphs[key]
    if entry is None:
        return None
    graph, (X, W, B, R, Y), workspace = entry
    out = torch.empty_like(residual, memory_format=torch.channels_last)
    handle = _handle(x.device)
    cudnn.set_stream(handle, torch.cuda.current_stream(x.device).cuda_stream)
    graph.execute({X: x, W: weight, B: bias.to(x.dtype).view(1, -1, 1, 1), R: residual,
                   Y: out}, workspace, handle=handle)
    return out
