"""Inference speed and peak memory of RealBasicVSRNet: MMagic 1.2.0 against mmrbvsr.

Every configuration (frames x refinement threshold) runs MMagic's generator on the whole
clip, ours on the whole clip and ours through ``VideoRestorer`` windows, each in a fresh
subprocess so that its peak resident memory (``ru_maxrss``) is its own. Both generators
hold the same random weights (MMagic's defaults: 64 channels, 20 + 20 blocks) and take the
same real frames (``--data``, by default crops of the official demo clip in ``tests/data``,
resized with an area filter); the whole-clip outputs must agree to ``--tol`` (max abs
diff, 1e-4 by default). The runs of the two implementations are interleaved; the table
gives medians (wall and process CPU seconds: the CPU time is less disturbed by other jobs
on a shared machine).

Examples:
    python bench/benchmark_inference.py --frames 10 --size 180x320 --refine-thres 255 1.5
    python bench/benchmark_inference.py --frames 30 100 --size 180x320 --repeat 3
    python bench/benchmark_inference.py --frames 4 --size 90x160     # a few minutes
"""
import argparse
import json
import os
import os.path as osp
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from common import DEMO_FRAMES, machine, table  # noqa: E402

IMPLS = ('mmagic', 'ours', 'restorer')


def load_frames(folder: Path, num: int, height: int, width: int) -> torch.Tensor:
    """``num`` demo frames (looping over the clip) resized (area) to ``height x width``.

    Returns:
        Tensor: ``(1, num, 3, height, width)`` in [0, 1].
    """
    files = sorted(folder.glob('*.png'))
    if not files:
        raise ValueError(f'no PNG frames in {folder}')
    frames = torch.from_numpy(np.stack([np.asarray(Image.open(files[i % len(files)])
                                                   .convert('RGB')) for i in range(num)]))
    frames = frames.permute(0, 3, 1, 2).float() / 255.
    return F.interpolate(frames, size=(height, width), mode='area').unsqueeze(0)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(impl: str, refine_thres: float) -> torch.nn.Module:
    """MMagic's generator seeded with 0, or ours holding the same weights."""
    from mmagic.models.editors.real_basicvsr.real_basicvsr_net import RealBasicVSRNet as MMagicNet
    torch.manual_seed(0)
    ref = MMagicNet(dynamic_refine_thres=refine_thres).eval()
    if impl == 'mmagic':
        return ref
    from mmrbvsr.models.archs import RealBasicVSRNet
    ours = RealBasicVSRNet(dynamic_refine_thres=refine_thres).eval()
    ours.load_state_dict(ref.state_dict(), strict=True)
    return ours


def child(args: argparse.Namespace) -> None:
    """Runs one implementation once; prints a JSON line, saves the output for the diff."""
    net = build(args.impl, args.refine_thres)
    lqs = load_frames(args.data, args.frames, *args.size)
    with torch.no_grad():  # oneDNN primitive creation, outside the timing
        net(lqs[:, :2].clone())
    base = peak_rss_mib()
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    if args.impl == 'restorer':
        from mmrbvsr.apis import VideoRestorer
        restorer = VideoRestorer(net, window=args.window, overlap=args.overlap)
        frames = (lqs[0] * 255).round().byte().permute(0, 2, 3, 1).numpy()
        count = sum(1 for _ in restorer.restore_frames(iter(frames)))
        assert count == args.frames
        out = None
    else:
        with torch.no_grad():
            out = net(lqs.clone())  # MMagic's sequential cleaning writes into its input
    wall, cpu = time.perf_counter() - start_wall, time.process_time() - start_cpu
    if out is not None and args.save:
        torch.save(out, args.save)
    print(json.dumps(dict(wall=wall, cpu=cpu, peak_mib=peak_rss_mib(), base_mib=base)))


def spawn(impl: str, frames: int, thres: float, args: argparse.Namespace, save: str) -> dict:
    cmd = [sys.executable, osp.abspath(__file__), '--child', impl, '--frames', str(frames),
           '--size', f'{args.size[0]}x{args.size[1]}', '--refine-thres', str(thres),
           '--window', str(args.window), '--overlap', str(args.overlap),
           '--data', str(args.data), '--save', save]
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f'{impl} failed:\n{proc.stderr[-3000:]}')
    return json.loads(proc.stdout.strip().splitlines()[-1])


def size(text: str):
    h, w = text.lower().split('x')
    return int(h), int(w)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--frames', type=int, nargs='+', default=[10])
    parser.add_argument('--size', type=size, default=(180, 320), help='LR HxW')
    parser.add_argument('--refine-thres', type=float, nargs='+', default=[255.0],
                        help='dynamic refinement thresholds (0-255): 255 = one cleaning pass')
    parser.add_argument('--repeat', type=int, default=1, help='interleaved runs per impl')
    parser.add_argument('--window', type=int, default=8, help='VideoRestorer window')
    parser.add_argument('--overlap', type=int, default=2, help='VideoRestorer overlap')
    parser.add_argument('--no-restorer', action='store_true')
    parser.add_argument('--tol', type=float, default=1e-4)
    parser.add_argument('--data', type=Path, default=DEMO_FRAMES,
                        help='folder of PNG frames (default: the demo-clip crops in tests/data)')
    parser.add_argument('--child', choices=IMPLS, dest='impl', help=argparse.SUPPRESS)
    parser.add_argument('--save', default='', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.impl:
        args.frames, args.refine_thres = args.frames[0], args.refine_thres[0]
        return child(args)

    h, w = args.size
    impls = IMPLS[:2] if args.no_restorer else IMPLS
    print(f'machine: {machine()}, dtype float32')
    print(f'input: frames of {args.data.name} (looped), area-resized to {h}x{w} -> '
          f'{4 * h}x{4 * w}; each figure the median of {args.repeat} interleaved run(s), '
          f'one subprocess per run; restorer: VideoRestorer(window={args.window}, '
          f'overlap={args.overlap}); tolerance {args.tol:g}\n')
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for thres in args.refine_thres:
            for frames in args.frames:
                runs = {impl: [] for impl in impls}
                for _ in range(args.repeat):
                    for impl in impls:
                        runs[impl].append(spawn(impl, frames, thres, args,
                                                osp.join(tmp, f'{impl}.pt')))
                diff = (torch.load(osp.join(tmp, 'mmagic.pt')) -
                        torch.load(osp.join(tmp, 'ours.pt'))).abs().max().item()
                failed |= diff > args.tol
                med = {impl: {k: float(np.median([r[k] for r in rs])) for k in rs[0]}
                       for impl, rs in runs.items()}
                m, o = med['mmagic'], med['ours']
                rows = [
                    ('frames/s (wall)', frames / m['wall'], frames / o['wall'],
                     m['wall'] / o['wall']),
                    ('wall s per clip', m['wall'], o['wall'], m['wall'] / o['wall']),
                    ('CPU s per clip', m['cpu'], o['cpu'], m['cpu'] / o['cpu']),
                    ('peak RSS MiB', m['peak_mib'], o['peak_mib'], m['peak_mib'] / o['peak_mib']),
                    ('peak RSS MiB above warm model', m['peak_mib'] - m['base_mib'],
                     o['peak_mib'] - o['base_mib'], '-'),
                    ('max abs diff of outputs', '-', f'{diff:.2e}', '-'),
                ]
                if 'restorer' in med:
                    r = med['restorer']
                    rows += [('VideoRestorer: frames/s (wall)', '-', frames / r['wall'], '-'),
                             ('VideoRestorer: peak RSS MiB', '-', r['peak_mib'], '-')]
                print(f'## {frames} frames, refine threshold {thres:g}'
                      f'{" (one cleaning pass)" if thres >= 255 else ""}\n')
                print(table(rows) + '\n', flush=True)
    if failed:
        sys.exit(f'outputs differ by more than {args.tol:g}')


if __name__ == '__main__':
    main()
