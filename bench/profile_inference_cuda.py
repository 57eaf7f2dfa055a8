"""Where RealBasicVSRNet's GPU inference time goes: phases, kernels, idle gaps.

Runs ours alone (the network of ``benchmark_bf16.py --net realbasicvsr``) on a CUDA
device and prints three tables:

1. per phase (cleaning, flow, propagation steps, reconstruction): calls, host time
   and GPU time between CUDA events around each call, CUDA graphs on;
2. the GPU timeline of one graphed call (torch.profiler): busy time, idle time and
   the longest idle gaps with the kernels around them;
3. an eager call (no CUDA graphs, so each kernel is known by the op that launched
   it): GPU time by phase, launching op, its input shapes and kernel.

    python bench/profile_inference_cuda.py --frames 30
    python bench/profile_inference_cuda.py --frames 30 --spynet spynet.pth --data FRAMES_DIR

The SPyNet comes from ``--spynet`` or else from BasicVSR_REDS4 (``--weights``, by default
the media cache of ``tools/fetch_test_media.py``); the frames from ``--data`` (default:
the demo-clip crops in ``tests/data``).
"""
import argparse
import os.path as osp
import sys
import time
from collections import defaultdict
from contextlib import nullcontext
from pathlib import Path

import torch

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from benchmark_bf16 import build, load_clip  # noqa: E402
from benchmark_inference import size  # noqa: E402
from common import DEMO_FRAMES, machine, media, table  # noqa: E402

PHASES = (('clean', None), ('compute_flow', 'basicvsr'), ('propagate_both', 'basicvsr'),
          ('propagate', 'basicvsr'), ('reconstruct', 'basicvsr'))


class PhaseTimer:
    """Wraps the network's phase methods: record_function labels, host time and CUDA
    events around each call."""

    def __init__(self, net) -> None:
        self.events = defaultdict(list)  # phase -> [(start event, end event)]
        self.host = defaultdict(float)
        self.timing = False
        for name, owner in PHASES:
            obj = getattr(net, owner) if owner else net
            setattr(obj, name, self.wrap(name, getattr(obj, name)))

    def wrap(self, name, fn):
        def call(*args, **kwargs):
            with torch.profiler.record_function(f'phase:{name}'):
                if not self.timing:
                    return fn(*args, **kwargs)
                start, end = (torch.cuda.Event(enable_timing=True) for _ in range(2))
                t = time.perf_counter()
                start.record()
                out = fn(*args, **kwargs)
                end.record()
                self.host[name] += time.perf_counter() - t
                self.events[name].append((start, end))
                return out
        return call

    def rows(self):
        return [(name, len(ev), f'{self.host[name] * 1e3:.2f}',
                 f'{sum(s.elapsed_time(e) for s, e in ev):.2f}')
                for name, ev in self.events.items()]


def phase_of(evt) -> str:
    while evt is not None:
        if evt.name.startswith('phase:'):
            return evt.name[6:]
        evt = evt.cpu_parent
    return '-'


def launcher(evt) -> str:
    """The outermost aten op above ``evt`` below the phase label, with its shapes."""
    top = evt
    while evt is not None and not evt.name.startswith('phase:'):
        if evt.name.startswith('aten::'):
            top = evt
        evt = evt.cpu_parent
    shapes = [s for s in (top.input_shapes or []) if s][:3]
    return f'{top.name} {shapes}'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--frames', type=int, default=30)
    parser.add_argument('--size', type=size, default='180x320', help='LR HxW')
    parser.add_argument('--weights', default=None,
                        help='BasicVSR checkpoint whose SPyNet is used without --spynet '
                        '(default: BasicVSR_REDS4.pth from the media cache)')
    parser.add_argument('--spynet', default=None)
    parser.add_argument('--data', type=Path, default=DEMO_FRAMES, help='folder of PNG frames')
    parser.add_argument('--fp32', action='store_true', help='no bf16 autocast')
    parser.add_argument('--rows', type=int, default=30)
    parser.add_argument('--device', default='cuda', help='cpu: a smoke test of the script')
    args = parser.parse_args()
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile

    device = torch.device(args.device)
    if args.spynet is None:
        args.weights = args.weights or media('BasicVSR_REDS4.pth')
    _, ours = build('realbasicvsr', args.weights, args.spynet)
    ours.eval().to(device)
    lqs = load_clip(args.frames, *args.size, args.data).to(device)
    timer = PhaseTimer(ours)

    def run(graphs=True):
        ours.basicvsr.cuda_graphs = graphs
        amp = (nullcontext() if args.fp32 else torch.autocast(device.type, torch.bfloat16))
        with torch.no_grad(), amp:
            out = ours(lqs)
        if device.type == 'cuda':
            torch.cuda.synchronize()
        return out

    for graphs in (True, False, True):  # capture, compile, warm
        run(graphs)
    print(f'# RealBasicVSRNet, {args.frames} frames {args.size[0]}x{args.size[1]}, '
          f'{"fp32" if args.fp32 else "bf16 autocast"}; {machine()}')

    timer.timing = True
    t = time.perf_counter()
    run()
    wall = time.perf_counter() - t
    timer.timing = False
    print(f'\n## phases, CUDA graphs on: wall {wall * 1e3:.1f} ms\n')
    print(table(timer.rows(), header=('phase', 'calls', 'host ms', 'GPU ms (events)')))

    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        run()
    kernels = sorted((e for e in prof.events() if e.device_type == DeviceType.CUDA
                      and not e.name.startswith('phase:')), key=lambda e: e.time_range.start)
    busy, gaps, end = 0., [], None
    for i, k in enumerate(kernels):
        s, e = k.time_range.start, k.time_range.end
        if end is not None and s > end:
            gaps.append((s - end, kernels[i - 1].name[:50], k.name[:50]))
        busy += max(0., e - max(s, end if end is not None else s))  # the union's growth
        end = e if end is None else max(end, e)
    span = end - kernels[0].time_range.start if kernels else 0.
    print(f'\n## GPU timeline, CUDA graphs on (profiled): {len(kernels)} kernels, span '
          f'{span / 1e3:.1f} ms, busy {busy / 1e3:.1f} ms, idle {(span - busy) / 1e3:.1f} ms '
          f'in {len(gaps)} gaps\n')
    gaps.sort(reverse=True)
    print(table([(f'{g:.0f}', a, b) for g, a, b in gaps[:12]],
                header=('idle us', 'after kernel', 'before kernel')))
    by_name = defaultdict(lambda: [0, 0.])
    for k in kernels:
        by_name[k.name[:70]][0] += 1
        by_name[k.name[:70]][1] += k.time_range.elapsed_us()
    print('\n' + table([(n, c, f'{us / 1e3:.2f}') for n, (c, us) in
                        sorted(by_name.items(), key=lambda x: -x[1][1])[:args.rows]],
                       header=('kernel (graphed call)', 'count', 'ms')))

    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA],
                 record_shapes=True) as prof:
        run(graphs=False)
    rows, phases = defaultdict(lambda: [0, 0.]), defaultdict(float)
    for evt in prof.events():
        for k in evt.kernels:
            phase = phase_of(evt)
            phases[phase] += k.duration
            key = (phase, launcher(evt)[:90], k.name[:45])
            rows[key][0] += 1
            rows[key][1] += k.duration
    print('\n## eager call (no CUDA graphs): GPU ms by phase\n')
    print(table([(p, f'{us / 1e3:.2f}') for p, us in sorted(phases.items(), key=lambda x: -x[1])],
                header=('phase', 'GPU ms')))
    print('\n' + table([(p, op, k, c, f'{us / 1e3:.2f}') for (p, op, k), (c, us) in
                        sorted(rows.items(), key=lambda x: -x[1][1])[:args.rows]],
                       header=('phase', 'launching op [shapes]', 'kernel', 'count', 'ms')))


if __name__ == '__main__':
    main()
