"""Inference speed of RealBasicVSRNet: MMagic 1.2.0 against mmrbvsr, identical weights.

Runs both generators (random weights, MMagic's defaults: 64 channels, 20 + 20 blocks, one
cleaning pass) on real frames of the official demo clip, checks that the outputs agree,
and prints a side-by-side table. Times are the fastest of ``--repeat`` interleaved runs
(wall and process CPU seconds: the CPU time is less disturbed by other jobs on the machine).

Examples:
    python bench/benchmark_inference.py                      # 10 frames, 180x320 -> 720x1280
    python bench/benchmark_inference.py --frames 4 --height 90 --width 160   # a few minutes
"""
import argparse
import os.path as osp
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from common import machine, table  # noqa: E402

DEMO = Path(__file__).resolve().parents[2] / 'shared' / 'data' / 'realbasicvsr_demo_000'


def load_frames(folder: Path, num: int, height: int, width: int) -> torch.Tensor:
    """The first ``num`` demo frames resized (area) to ``height x width``: (1, t, 3, h, w)."""
    files = sorted(folder.glob('*.png'))[:num]
    if len(files) < num:
        raise ValueError(f'{folder} has {len(files)} frames, {num} asked for')
    frames = torch.from_numpy(np.stack([np.asarray(Image.open(f).convert('RGB'))
                                        for f in files])).permute(0, 3, 1, 2).float() / 255.
    return F.interpolate(frames, size=(height, width), mode='area').unsqueeze(0)


def run(net: torch.nn.Module, lqs: torch.Tensor):
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    with torch.no_grad():
        out = net(lqs.clone())
    return out, time.perf_counter() - start_wall, time.process_time() - start_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--frames', type=int, default=10)
    parser.add_argument('--height', type=int, default=180)
    parser.add_argument('--width', type=int, default=320)
    parser.add_argument('--repeat', type=int, default=2)
    parser.add_argument('--data', type=Path, default=DEMO)
    args = parser.parse_args()

    from mmagic.models.editors.real_basicvsr.real_basicvsr_net import RealBasicVSRNet as MMagicNet

    import mmrbvsr  # noqa: F401
    from mmrbvsr.models.archs import RealBasicVSRNet

    torch.manual_seed(0)
    ref = MMagicNet().eval()
    ours = RealBasicVSRNet().eval()
    ours.load_state_dict(ref.state_dict(), strict=True)
    lqs = load_frames(args.data, args.frames, args.height, args.width)

    times = {'mmagic': [], 'ours': []}
    run(ours, lqs[:, :2])  # warm-up (oneDNN primitive creation)
    run(ref, lqs[:, :2])
    for _ in range(args.repeat):
        ref_out, *ref_t = run(ref, lqs)
        out, *our_t = run(ours, lqs)
        times['mmagic'].append(ref_t)
        times['ours'].append(our_t)
    diff = (out - ref_out).abs().max().item()

    wall = {k: min(t[0] for t in v) for k, v in times.items()}
    cpu = {k: min(t[1] for t in v) for k, v in times.items()}
    n = args.frames
    rows = [
        ('wall s per clip', wall['mmagic'], wall['ours'], wall['mmagic'] / wall['ours']),
        ('wall s per frame', wall['mmagic'] / n, wall['ours'] / n, wall['mmagic'] / wall['ours']),
        ('CPU s per clip', cpu['mmagic'], cpu['ours'], cpu['mmagic'] / cpu['ours']),
        ('max abs diff of outputs', '-', f'{diff:.2e}', '-'),
    ]
    print(f'machine: {machine()}, dtype float32')
    print(f'input: {n} frames of {DEMO.name} resized to {args.height}x{args.width} -> '
          f'{4 * args.height}x{4 * args.width}; best of {args.repeat} interleaved runs\n')
    print(table(rows))
    if diff > 1e-4:
        sys.exit(f'outputs differ by {diff:.2e} > 1e-4')


if __name__ == '__main__':
    main()
