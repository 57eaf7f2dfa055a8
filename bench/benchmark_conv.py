"""Per-conv speed on CPU: oneDNN (PyTorch's default, channels-last) against NNPACK.

The evidence behind ``mmrbvsr/ops/conv.py``'s choice of path: for the conv
shapes of RealBasicVSR inference (batch 1, float32, no autograd) it prints GFLOP/s of
the direct conv's arithmetic for both, and each one's largest error against a float64
conv relative to the output's largest value. One conv called again and again has its
data in cache; a second table times 20 residual blocks (40 convs, each with its own
weights, ReLU and residual add), which is closer to what the network sees.

    python bench/benchmark_conv.py
    python bench/benchmark_conv.py --repeat 5
"""
import argparse
import os.path as osp
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from common import machine, table  # noqa: E402

# (in channels, out channels, kernel, height, width, where RealBasicVSR has it)
SHAPES = [
    (64, 64, 3, 128, 128, 'residual block, 128x128 frame'),
    (64, 64, 3, 144, 256, 'residual block, 144x256 frame'),
    (64, 64, 3, 192, 256, 'residual block, 192x256 frame'),
    (64, 64, 3, 180, 320, 'residual block, 180x320 frame'),
    (67, 64, 3, 180, 320, 'propagation input conv, 180x320'),
    (64, 256, 3, 180, 320, 'upsample1, 180x320'),
    (64, 64, 3, 360, 640, 'residual block, 360x640 frame'),
    (64, 256, 3, 360, 640, 'upsample2, 180x320 -> x4 (oneDNN: workspace bound)'),
    (64, 64, 3, 720, 1280, 'conv_hr, 180x320 -> x4 (oneDNN: workspace bound)'),
    (8, 32, 7, 192, 320, 'SPyNet level 0, 180x320'),
    (32, 64, 7, 192, 320, 'SPyNet level 0, 180x320'),
    (64, 32, 7, 192, 320, 'SPyNet level 0, 180x320'),
    (32, 64, 7, 64, 64, 'SPyNet level 0, 64x64 training crop'),
    (32, 64, 7, 24, 40, 'SPyNet level 3, 180x320'),
    (32, 64, 7, 12, 20, 'SPyNet level 4, 180x320'),
]


def gflops(fn, flop: float, repeat: int) -> float:
    fn()  # primitive creation / workspace allocation
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return flop * repeat / (time.perf_counter() - start) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--repeat', type=int, default=3)
    args = parser.parse_args()
    if not torch._nnpack_available():
        sys.exit('this PyTorch build has no NNPACK')
    torch.manual_seed(0)
    cl = torch.channels_last
    rows = []
    with torch.no_grad():
        for cin, cout, k, h, w, where in SHAPES:
            x = torch.rand(1, cin, h, w)
            weight, bias = torch.randn(cout, cin, k, k) * 0.05, torch.randn(cout) * 0.1
            pad = k // 2
            flop = 2. * h * w * cin * cout * k * k
            ref = F.conv2d(x.double(), weight.double(), bias.double(), padding=pad)
            x_cl, w_cl = x.contiguous(memory_format=cl), weight.contiguous(memory_format=cl)

            def onednn(x=x_cl, weight=w_cl, bias=bias, pad=pad):
                return F.conv2d(x, weight, bias, padding=pad)

            def nnpack(x=x, weight=weight, bias=bias, pad=pad):
                return torch._nnpack_spatial_convolution(x, weight, bias, [pad, pad], [1, 1])

            scale = ref.abs().max().item()
            err = [(f().double() - ref).abs().max().item() / scale for f in (onednn, nnpack)]
            speed = [gflops(f, flop, args.repeat) for f in (onednn, nnpack)]
            rows.append((f'{cin}->{cout} {k}x{k} at {h}x{w} ({where})', speed[0], speed[1],
                         f'{speed[1] / speed[0]:.2f}x', f'{err[0]:.1e} / {err[1]:.1e}'))
    print(f'machine: {machine()}, float32, batch 1, no autograd; mean of '
          f'{args.repeat} calls after one untimed')
    print(table(rows, header=('conv', 'oneDNN GFLOP/s', 'NNPACK GFLOP/s', 'ratio',
                              'rel. error oneDNN / NNPACK')))
    print()
    print(table(stack_rows(args.repeat), header=(
        '20 residual blocks, 64 channels', 'oneDNN GFLOP/s', 'NNPACK GFLOP/s', 'ratio')))


def stack_rows(repeat: int) -> list:
    """GFLOP/s of a 20-block residual stack, oneDNN (channels-last) against NNPACK."""
    torch._nnpack_available()  # initialises NNPACK
    num = 40
    weights = [torch.randn(64, 64, 3, 3) * 0.02 for _ in range(num)]
    biases = [torch.randn(64) * 0.01 for _ in range(num)]
    weights_cl = [w.contiguous(memory_format=torch.channels_last) for w in weights]

    def stack(x, conv, ws):
        for i in range(0, num, 2):
            out = conv(x, ws[i], biases[i]).relu_()
            x = conv(out, ws[i + 1], biases[i + 1]).add_(x)
        return x

    def onednn(x, w, b):
        return F.conv2d(x, w, b, padding=1)

    def nnpack(x, w, b):
        return torch._nnpack_spatial_convolution(x, w, b, [1, 1], [1, 1])

    rows = []
    with torch.no_grad():
        for h, w in ((128, 128), (180, 320), (240, 320), (270, 480), (360, 640)):
            x = torch.rand(1, 64, h, w)
            x_cl = x.contiguous(memory_format=torch.channels_last)
            flop = 2. * h * w * 64 * 64 * 9 * num
            speed = [gflops(lambda x=x_cl: stack(x, onednn, weights_cl), flop, repeat),
                     gflops(lambda x=x: stack(x, nnpack, weights), flop, repeat)]
            rows.append((f'{h}x{w}', speed[0], speed[1], f'{speed[1] / speed[0]:.2f}x'))
    return rows


if __name__ == '__main__':
    main()
