"""One propagation conv + bias + ReLU on a GPU: the conv and our Triton epilogue
(``conv_epilogue``) against cuDNN's fused ``cudnn_conv_relu`` (what ``conv.py`` uses for
a 3x3 conv followed by a ReLU in fp16/bf16 without autograd), for one branch (64 -> 64
channels) and both branches as one grouped conv (128 channels, groups=2), bf16,
channels-last, batch 1 at 180x320; with cuDNN's heuristics and with ``cudnn.benchmark``.
Microseconds per call (CUDA events, 200 calls) and the largest error against a float32
conv of the same bf16 operands.

    python bench/benchmark_conv_cuda.py
"""
import os.path as osp
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from common import machine, table  # noqa: E402

from mmrbvsr.models.archs.epilogue import conv_epilogue, cudnn_conv_relu  # noqa: E402


def microseconds(fn, iters: int = 200) -> float:
    for _ in range(10):
        fn()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(iters):
        fn()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / iters * 1000


def case(groups: int, benchmark: bool) -> list:
    """The three runs of one conv shape (``groups`` branches)."""
    c = 64 * groups
    x = torch.randn(1, c, 180, 320, device='cuda').bfloat16().contiguous(
        memory_format=torch.channels_last)
    w = (torch.randn(c, 64, 3, 3, device='cuda') * 0.05).bfloat16().contiguous(
        memory_format=torch.channels_last)
    b = torch.randn(c, device='cuda').bfloat16()
    ref = F.relu(F.conv2d(x.float(), w.float(), b.float(), padding=1, groups=groups))
    flop = 2 * 180 * 320 * c * 64 * 9
    runs = (('conv alone (no bias)', lambda: F.conv2d(x, w, None, 1, 1, 1, groups)),
            ('conv + conv_epilogue',
             lambda: conv_epilogue(F.conv2d(x, w, None, 1, 1, 1, groups), b, 'relu')),
            ('cudnn_conv_relu', lambda: cudnn_conv_relu(x, w, b, 1, 1, 1, groups)))
    what = 'both branches, groups=2' if groups == 2 else 'one branch'
    rows = []
    with torch.no_grad():
        for name, fn in runs:
            us = microseconds(fn)
            err = (fn().float() - ref).abs().max().item() if 'alone' not in name else None
            rows.append((f'{what}, cudnn.benchmark {benchmark}', name, us, flop / us / 1e6,
                         '-' if err is None else f'{err:.3g}'))
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
