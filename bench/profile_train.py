"""Where a training step's time goes: MMagic 1.2.0's RealBasicVSR and ours, profiled.

One stage-1 (or stage-2) ``train_step`` of each model (same weights and batch as
``benchmark_train.py``) under ``torch.profiler``: the step's wall time, the share of
convolutions (forward, backward) and, per convolution shape, calls, milliseconds and
the GFLOP/s achieved (direct-conv arithmetic; backward counted as twice the forward).
Compare these with ``bench/benchmark_conv.py``'s figures for one conv to see how close
to the machine's convolution speed the step runs.

    python bench/profile_train.py --frames 10
"""
import argparse
import os.path as osp
import sys
import time
from collections import defaultdict

from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from benchmark_train import build_models, make_batch, optim_wrappers  # noqa: E402
from common import machine, table  # noqa: E402

CONV_OPS = ('aten::mkldnn_convolution', 'aten::convolution_backward',
            'aten::_nnpack_spatial_convolution', 'aten::thnn_conv2d')


def conv_flop(shapes) -> float:
    """Direct-conv FLOPs of a forward conv from the profiler's input shapes."""
    (n, cin, h, w), (cout, _, kh, kw) = shapes[0], shapes[1]
    return 2. * n * h * w * cin * cout * kh * kw


def summarise(prof) -> tuple:
    total = sum(e.self_cpu_time_total for e in prof.key_averages()) / 1e6
    per_shape = defaultdict(lambda: [0, 0., 0.])  # calls, seconds, flop
    for e in prof.key_averages(group_by_input_shape=True):
        if e.key not in CONV_OPS:
            continue
        shapes = e.input_shapes
        if e.key == 'aten::convolution_backward':  # (grad_out, input, weight, ...)
            flop, kind = 2 * conv_flop(shapes[1:3]), 'backward'
        else:
            flop, kind = conv_flop(shapes[:2]), 'forward'
        key = (kind, str(shapes[1] if kind == 'backward' else shapes[0]),
               str(shapes[2] if kind == 'backward' else shapes[1]))
        stats = per_shape[key]
        stats[0] += e.count
        stats[1] += e.self_cpu_time_total / 1e6
        stats[2] += flop * e.count
    return total, per_shape


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--stage', type=int, choices=(1, 2), default=1)
    parser.add_argument('--frames', type=int, default=10)
    parser.add_argument('--lr-size', type=int, default=64)
    parser.add_argument('--top', type=int, default=8, help='conv shapes listed per model')
    args = parser.parse_args()

    theirs, ours = build_models(args.stage, 64, 20)
    batch = make_batch(args.frames, args.lr_size)
    print(f'machine: {machine()}, float32; one stage-{args.stage} step, batch 1 x '
          f'{args.frames} frames, LR {args.lr_size}x{args.lr_size}, after one untimed step')
    for name, model in (('MMagic 1.2.0', theirs), ('mmrbvsr', ours)):
        wrappers = optim_wrappers(model)
        model.train_step(batch, wrappers)
        with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
            start = time.perf_counter()
            model.train_step(batch, wrappers)
            wall = time.perf_counter() - start
        total, per_shape = summarise(prof)
        conv_s = sum(s[1] for s in per_shape.values())
        conv_flop_total = sum(s[2] for s in per_shape.values())
        print(f'\n## {name}: step {wall:.2f} s wall; profiled ops {total:.2f} s, of which '
              f'convolutions {conv_s:.2f} s ({100 * conv_s / total:.0f}%, '
              f'{conv_flop_total / conv_s / 1e9:.0f} GFLOP/s on average)\n')
        rows = [(kind, inp, weight, calls, 1e3 * sec, flop / sec / 1e9)
                for (kind, inp, weight), (calls, sec, flop) in
                sorted(per_shape.items(), key=lambda kv: -kv[1][1])[:args.top]]
        print(table(rows, header=('conv', 'input', 'weight', 'calls', 'ms', 'GFLOP/s')))


if __name__ == '__main__':
    main()
