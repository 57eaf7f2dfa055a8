"""CPU time of one video-compression call, mmrbvsr vs MMagic 1.2.0, on the same draws.

Both transforms get the same frames (256x256 crops of ``--frames`` frames of ``--data``,
by default the demo-clip crops in ``tests/data``, resized to an even size drawn in
[38, 384]), the same codec (libx264 p 2/3, mpeg4 1/3) and the
same bit rate (uniform in [1e4, 1e5]), and the two calls alternate in order. Their output
is bit-identical (``tests/.../test_compression.py``); this prints what each costs, so
that the degradation benchmark can treat the video compression as equal work.

Usage::

    python bench/benchmark_video_compression.py --core 0 --draws 60
"""
import argparse
import glob
import os
import sys
import time

import cv2
import numpy as np


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--core', type=int, default=0, help='the one CPU core to run on')
    p.add_argument('--draws', type=int, default=60, help='codec / bit rate / size draws')
    p.add_argument('--frames', type=int, default=15, help='frames per clip')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--data', default=os.path.join(here, '..', 'tests', 'data',
                                                  'realbasicvsr_demo_000'),
                   help='folder of PNG frames (default: the demo-clip crops in tests/data)')
    args = p.parse_args()
    os.sched_setaffinity(0, [args.core])
    cv2.setNumThreads(1)
    from common import cpu_name, import_mmagic_transforms  # bench/ is sys.path[0]
    from mmengine.registry import init_default_scope
    init_default_scope('mmagic')
    import_mmagic_transforms()
    from mmagic.datasets.transforms import RandomVideoCompression as MMagicVideo

    from mmrbvsr.datasets.transforms import RandomVideoCompression
    paths = sorted(glob.glob(os.path.join(args.data, '*.png')))[:args.frames]
    if len(paths) < args.frames:
        sys.exit(f'need {args.frames} frames in {args.data}, found {len(paths)}')
    base = [cv2.cvtColor(cv2.imread(p), cv2.COLOR_BGR2RGB) for p in paths]
    # the crop's corner: in [0, 100) where the frames allow it (360x640 and larger)
    corner = [min(100, n - 255) for n in base[0].shape[:2]]
    if min(corner) < 1:
        sys.exit(f'the frames of {args.data} are smaller than 256x256')
    rng = np.random.default_rng(args.seed)
    cpu = dict(mmagic=0., ours=0.)
    for k in range(args.draws + 1):  # the first is a warm-up
        size = int(rng.integers(19, 193)) * 2
        codec = 'mpeg4' if rng.uniform() < 1 / 3 else 'libx264'
        bitrate = int(rng.integers(10000, 100001))
        y, x = (int(v) for v in rng.integers(0, corner))
        frames = [cv2.resize(b[y:y + 256, x:x + 256], (size, size)).astype(np.float32)
                  for b in base]
        params = dict(codec=[codec], codec_prob=[1], bitrate=[bitrate, bitrate])
        transforms = dict(mmagic=MMagicVideo(params, keys=['img']),
                          ours=RandomVideoCompression(params, keys=['img']))
        for name in (('mmagic', 'ours') if k % 2 else ('ours', 'mmagic')):
            results = dict(img=list(frames), rng=np.random.default_rng(k))
            c0 = time.process_time()
            transforms[name](results)
            if k:
                cpu[name] += time.process_time() - c0
    print(f'machine: {cpu_name()}, core {args.core}; {args.draws} draws of {args.frames} '
          f'frames, sizes 38-384, libx264 / mpeg4, 1e4-1e5 bit/s')
    for name, s in cpu.items():
        print(f'{name:>7}: {1000 * s / args.draws:7.1f} CPU-ms per call')
    print(f'ours / mmagic: {cpu["ours"] / cpu["mmagic"]:.3f}')


if __name__ == '__main__':
    main()
