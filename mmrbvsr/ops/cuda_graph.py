"""Replaying a recurrent step as a CUDA graph (inference only).

BasicVSR's propagation runs the same small step (warp, concatenate, 20-30 residual
blocks: some 100 kernels of a few microseconds each at 180x320) once per frame and
branch, so on a GPU the launches, not the arithmetic, bound it. A captured graph
launches the whole step at once. Each distinct call (shapes, strides, dtypes,
autocast dtype, the module's parameters) is captured once, on its first use, and
replayed after; the inputs are copied into the graph's buffers and the output is
returned as a fresh tensor. Graph replay runs the captured kernels: outputs equal
eager ones.
"""
from contextlib import nullcontext
from typing import Callable, Dict, Iterable, Tuple

import torch
from torch import Tensor

from . import cudnn_fused, switches
from .epilogue import fused_scope

MAX_GRAPHS = 16  # captures kept per cache; more are dropped oldest first


def graphs_usable(*tensors: Tensor) -> bool:
    """Whether a step on ``tensors`` may be replayed: CUDA, no autograd, not capturing."""
    return (not torch.is_grad_enabled() and all(t.is_cuda for t in tensors)
            and not torch.cuda.is_current_stream_capturing())


def _capture(fn: Callable[..., Tensor], inputs: Tuple[Tensor, ...], amp_dtype,
             pool=None) -> Tuple[torch.cuda.CUDAGraph, Tuple[Tensor, ...], Tensor]:
    static_inputs = tuple(x.clone() for x in inputs)
    # autocast's weight-cast cache would hand the graph tensors freed after capture:
    # the casts are captured as kernels instead
    amp = (torch.autocast('cuda', dtype=amp_dtype, cache_enabled=False)
           if amp_dtype is not None else nullcontext())
    stream = torch.cuda.Stream(inputs[0].device)
    stream.wait_stream(torch.cuda.current_stream(inputs[0].device))
    # warm-up (library handles, algorithm choice, Triton compilation), then capture;
    # the fused conv epilogues launch little, so a graph holds them at any size
    with torch.cuda.stream(stream), amp, fused_scope():
        for _ in range(2):
            fn(*static_inputs)
    torch.cuda.current_stream(inputs[0].device).wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph, pool=pool, capture_error_mode='thread_local'), amp, \
            fused_scope():
        static_output = fn(*static_inputs)
    return graph, static_inputs, static_output


def graphed_call(cache: Dict, name: str, fn: Callable[..., Tensor],
                 params: Iterable[Tensor], *inputs: Tensor) -> Tensor:
    """``fn(*inputs)``, replayed from a CUDA graph captured on the first such call.

    Args:
        cache (dict): Where the graphs live (e.g. a module attribute).
        name (str): Which step ``fn`` is; steps of one cache need distinct names.
        fn (callable): Takes ``inputs``, returns one tensor; it must launch the same
            kernels on every call with inputs of the same shapes (no host syncs, no
            data-dependent control flow) and read nothing but ``inputs`` and ``params``.
        params (iterable of Tensor): The tensors ``fn`` reads besides ``inputs``
            (a module's parameters and buffers); a new storage (``.to()``, ``.half()``)
            means a new capture.
        *inputs (Tensor): CUDA tensors.

    Returns:
        Tensor: A new tensor equal to ``fn(*inputs)``.
    """
    amp_dtype = (torch.get_autocast_dtype('cuda') if torch.is_autocast_enabled('cuda')
                 else None)
    key = (name, amp_dtype, tuple((x.shape, x.stride(), x.dtype, x.device) for x in inputs),
           tuple(p.data_ptr() for p in params))
    entry = cache.pop(key, None)
    if entry is None:
        try:
            entry = _capture(fn, inputs, amp_dtype, getattr(cache, 'pool', None))
        except Exception as e:
            if not cudnn_fused.available():
                raise
            # cuDNN's fused graphs could not be captured in this step: this graph is
            # captured without them (other steps keep them)
            switches.record_failure('cudnn_fused', f'CUDA graph {name!r}', e)
            with switches.switched(cudnn_fused=False):
                entry = _capture(fn, inputs, amp_dtype, getattr(cache, 'pool', None))
        while len(cache) >= MAX_GRAPHS:
            cache.pop(next(iter(cache)))
    cache[key] = entry  # most recently used last
    graph, static_inputs, static_output = entry
    for static, x in zip(static_inputs, inputs):
        static.copy_(x)
    graph.replay()
    return static_output.clone()


class GraphCache(dict):
    """Captured graphs, keyed by call; a copy or pickle of it starts empty.

    Its graphs share one memory pool, so their intermediates take the memory of the
    largest one, not the sum. That is safe because each replay's output is cloned
    at once: a replay may overwrite what another graph left in the pool (its
    intermediates, its static output once cloned), but not its static inputs, which
    live outside the pool, nor the static outputs of graphs captured before it,
    which stay allocated.
    """

    @property
    def pool(self):
        if getattr(self, '_pool', None) is None:
            self._pool = torch.cuda.graph_pool_handle()
        return self._pool

    def __deepcopy__(self, memo) -> 'GraphCache':
        return GraphCache()

    def __reduce__(self):
        return GraphCache, ()
