"""One propagation conv on a GPU: cuDNN's conv and our Triton epilogue (``conv_epilogue``)
against cuDNN's fused ops, for one branch (64 -> 64 channels) and both branches as one
grouped conv (128 channels, groups=2), bf16, channels-last, batch 1 at 180x320; with
cuDNN's heuristics and with ``cudnn.benchmark``:

- conv + bias + ReLU (the first conv of a residual block): ``cudnn_conv_relu``
  (``torch.cudnn_convolution_relu``, what ``conv.py`` uses);
- conv + bias + residual add (the second): ``cudnn_fused.conv_bias_add`` (a cuDNN
  graph through cudnn-frontend, where it is installed).

GPU microseconds per call: 200 calls captured in a CUDA graph and replayed (as the
network's steps run), so host launch costs do not count; and the largest error
against a float32 conv of the same bf16 operands.

    python bench/benchmark_conv_cuda.py
"""
import os.path as osp
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from common import machine, table  # noqa: E402

from mmrbvsr.ops import cudnn_fused  # noqa: E402
from mmrbvsr.ops.epilogue import conv_epilogue, cudnn_conv_relu  # noqa: E402


def microseconds(fn, iters: int = 200) -> float:
    """GPU time per call of ``fn``, from a CUDA graph of ``iters`` calls."""
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(3):  # warm-up: algorithm choice, compilation, graph builds
            fn()
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        for _ in range(iters):
            fn()
    graph.replay()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    graph.replay()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / iters * 1000


def case(groups: int, benchmark: bool) -> list:
    """The runs of one conv shape (``groups`` branches)."""
    c = 64 * groups
    x = torch.randn(1, c, 180, 320, device='cuda').bfloat16().contiguous(
        memory_format=torch.channels_last)
    w = (torch.randn(c, 64, 3, 3, device='cuda') * 0.05).bfloat16().contiguous(
        memory_format=torch.channels_last)
    b = torch.randn(c, device='cuda').bfloat16()
    res = torch.randn_like(x)
    conv = F.conv2d(x.float(), w.float(), b.float(), padding=1, groups=groups)
    refs = {'relu': F.relu(conv), 'add': conv + res.float()}
    flop = 2 * 180 * 320 * c * 64 * 9
    runs = [('conv alone (no bias)', None, lambda: F.conv2d(x, w, None, 1, 1, 1, groups)),
            ('conv + conv_epilogue (bias, ReLU)', 'relu',
             lambda: conv_epilogue(F.conv2d(x, w, None, 1, 1, 1, groups), b, 'relu')),
            ('cudnn_conv_relu', 'relu', lambda: cudnn_conv_relu(x, w, b, 1, 1, 1, groups)),
            ('conv + conv_epilogue (bias, residual)', 'add',
             lambda: conv_epilogue(F.conv2d(x, w, None, 1, 1, 1, groups), b, None, res))]
    with torch.no_grad():
        if cudnn_fused.available() and cudnn_fused.conv_bias_add(x, w, b, res, (1, 1)) \
                is not None:
            runs.append(('cudnn_fused.conv_bias_add', 'add',
                         lambda: cudnn_fused.conv_bias_add(x, w, b, res, (1, 1))))
        else:
            print(f'cudnn_fused.conv_bias_add unavailable (cudnn-frontend imported: '
                  f'{cudnn_fused.cudnn is not None})')
    what = 'both branches, groups=2' if groups == 2 else 'one branch'
    rows = []
    with torch.no_grad():
        for name, ref, fn in runs:
            us = microseconds(fn)
            err = '-' if ref is None else f'{(fn().float() - refs[ref]).abs().max().item():.3g}'
            rows.append((f'{what}, cudnn.benchmark {benchmark}', name, us, flop / us / 1e6, err))
    return rows


def main() -> None:
    torch.manual_seed(0)
    rows = []
    for benchmark in (False, True):
        torch.backends.cudnn.benchmark = benchmark
        for groups in (1, 2):
            rows += case(groups, benchmark)
    print(f'machine: {machine()}, bf16, channels-last, 1 x C x 180 x 320, 3x3')
    print(table(rows, header=('conv', 'run', 'us / call', 'TFLOP/s', 'max abs error')))


if __name__ == '__main__':
    main()
