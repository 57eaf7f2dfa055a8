"""Throughput of the RealBasicVSR training degradations: mmrbvsr vs MMagic 1.2.0.

Both pipelines are built from the same ``degradations`` list of
``configs/_base_/realbasicvsr_pipeline.py`` (MMagic's gets the same ``params`` with
MMagic's class names), run on the same GT clips (15 frames of
``../shared/data/realbasicvsr_demo_000``, cropped 256x256, flipped) in one process
pinned to ``--cores`` cores, with OpenCV, torch, BLAS and codec threads set to that
number, and timed clip by clip, interleaved, so that load from other processes hits
all pipelines alike. Three pipelines:

* ``mmagic``        MMagic's order and classes: mirror 15 -> 30 frames, USM, degrade 30;
* ``ours``          the same work with mmrbvsr (USM on 15, mirror, degrade 30);
* ``ours_mirror_after``  degrade the 15 loaded frames, then mirror (the option);
* ``ours_<device>``  with ``--device``: ``ours`` with the frames as tensors on the device
  (``degradations_gpu``): blur, resize, noise and JPEG batched there, the codec on the CPU.

MMagic's ``RandomVideoCompression`` needs PyAV <= 12 (``pict_type='NONE'``); with a
newer PyAV the MMagic pipeline is reported as failed.

Usage::

    python bench/benchmark_degradations.py --cores 1 --clips 20
"""
import argparse
import os
import sys


def parse_args() -> argparse.Namespace:
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--cores', type=int, default=1, help='CPU cores (and threads) to use')
    p.add_argument('--clips', type=int, default=20, help='timed clips per pipeline')
    p.add_argument('--frames', type=int, default=15, help='frames loaded per clip (L/2)')
    p.add_argument('--crop', type=int, default=256, help='GT crop size')
    p.add_argument('--data', default=os.path.join(root, '..', 'shared', 'data',
                                                  'realbasicvsr_demo_000'))
    p.add_argument('--config', default=os.path.join(root, 'configs', '_base_',
                                                    'realbasicvsr_pipeline.py'))
    p.add_argument('--skip-mmagic', action='store_true', help='time only our pipelines')
    p.add_argument('--preset', default=None,
                   help='x264 preset for our pipelines (default: x264 default, as MMagic)')
    p.add_argument('--codec-threads', type=int, default=None,
                   help='codec threads for our pipelines (default: FFmpeg auto, as MMagic)')
    p.add_argument('--normal-sampler', default=None, choices=['box_muller', 'numpy', 'opencv'],
                   help='normal sampler of our RandomNoise (default: box_muller)')
    p.add_argument('--device', default=None,
                   help="also time ours with blur/resize/noise/JPEG on this torch device "
                   "('cuda'; 'cpu' checks the path)")
    p.add_argument('--seed', type=int, default=0,
                   help='seed of the clips and of every pipeline\'s draws (runs with other '
                   'seeds time other draws of the same distributions)')
    p.add_argument('--profile', action='store_true', help='also print time per transform')
    return p.parse_args()


ARGS = parse_args()
# threads must be fixed before numpy / cv2 / torch load their thread pools
for var in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'):
    os.environ[var] = str(ARGS.cores)
if hasattr(os, 'sched_setaffinity'):
    os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:ARGS.cores])

import copy  # noqa: E402
import glob  # noqa: E402
import random  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402

import av  # noqa: E402
import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from common import cpu_name, import_mmagic_transforms  # noqa: E402  (bench/ is sys.path[0])
from mmengine import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

cv2.setNumThreads(ARGS.cores)
torch.set_num_threads(ARGS.cores)


def load_clips(num_clips: int) -> list:
    """``num_clips`` lists of ``ARGS.frames`` uint8 RGB crops (random window and flips)."""
    paths = sorted(glob.glob(os.path.join(ARGS.data, '*.png')))
    if len(paths) < ARGS.frames:
        sys.exit(f'need {ARGS.frames} frames in {ARGS.data}, found {len(paths)}')
    frames = [cv2.cvtColor(cv2.imread(p), cv2.COLOR_BGR2RGB) for p in paths]
    h, w = frames[0].shape[:2]
    rng = np.random.default_rng(ARGS.seed)
    clips = []
    for _ in range(num_clips):
        t0 = int(rng.integers(0, len(frames) - ARGS.frames + 1))
        y, x = int(rng.integers(0, h - ARGS.crop + 1)), int(rng.integers(0, w - ARGS.crop + 1))
        flip_h, flip_v = rng.uniform() < 0.5, rng.uniform() < 0.5
        clip = []
        for f in frames[t0:t0 + ARGS.frames]:
            f = f[y:y + ARGS.crop, x:x + ARGS.crop]
            f = f[:, ::-1] if flip_h else f
            f = f[::-1] if flip_v else f
            clip.append(np.ascontiguousarray(f))
        clips.append(clip)
    return clips


def to_mmagic(cfg):
    """Our transform configs with MMagic's class names (same params)."""
    if isinstance(cfg, list):
        return [to_mmagic(c) for c in cfg]
    cfg = copy.deepcopy(cfg)
    cfg['type'] = cfg['type'].replace('mmrbvsr.', '')
    if cfg['type'] == 'DegradationsWithShuffle':
        cfg['degradations'] = to_mmagic(cfg['degradations'])
    return cfg


def with_options(degradations) -> list:
    """A copy of our degradation configs with this run's codec, sampler and device options
    (not given to MMagic's)."""
    degradations = [copy.deepcopy(dict(d)) for d in degradations]
    for d in degradations:
        for v in ([d] if d['type'] != 'mmrbvsr.DegradationsWithShuffle' else d['degradations']):
            if isinstance(v, dict) and v['type'] == 'mmrbvsr.RandomVideoCompression':
                v['params'].update(preset=ARGS.preset, threads=ARGS.codec_threads)
            if isinstance(v, dict) and v['type'] == 'mmrbvsr.RandomNoise' and ARGS.normal_sampler:
                v['params'].update(normal_sampler=ARGS.normal_sampler)
            if isinstance(v, dict) and v['type'] == 'mmrbvsr.FramesToTensor':
                v['device'] = ARGS.device
    return degradations


def build_pipelines(cfg: Config) -> dict:
    from mmengine.dataset import Compose

    import mmrbvsr.datasets  # noqa: F401  (registers our transforms)
    usm = dict(kernel_size=51, sigma=0, weight=0.5, threshold=10, keys=['gt'])
    mmagic = to_mmagic([dict(d) for d in cfg.degradations])
    ours = with_options(cfg.degradations)
    pipes = dict(
        ours=[
            dict(type='mmrbvsr.SetRandomGenerator', seed=ARGS.seed),
            dict(type='mmrbvsr.UnsharpMasking', **usm),
            dict(type='mmrbvsr.MirrorSequence', keys=['gt', 'gt_unsharp']),
            *ours,
        ],
        ours_mirror_after=[
            dict(type='mmrbvsr.SetRandomGenerator', seed=ARGS.seed),
            dict(type='mmrbvsr.UnsharpMasking', **usm),
            *ours,
            dict(type='mmrbvsr.MirrorSequence', keys=['img', 'gt', 'gt_unsharp']),
        ])
    if ARGS.device:  # the config's degradations_gpu on --device
        pipes[f'ours_{ARGS.device}'] = pipes['ours'][:3] + with_options(cfg.degradations_gpu)
    if not ARGS.skip_mmagic:
        pipes = dict(
            mmagic=[
                dict(type='MirrorSequence', keys=['gt']),
                dict(type='UnsharpMasking', **usm),
                *mmagic,
            ], **pipes)
    return {k: Compose(v) for k, v in pipes.items()}


class Timer:
    """Accumulates seconds per pipeline and, with --profile, per transform."""

    def __init__(self):
        self.total = defaultdict(float)
        self.cpu = defaultdict(float)
        self.per_transform = defaultdict(lambda: defaultdict(float))
        self.failed = {}

    def run(self, name: str, pipe, results: dict) -> dict:
        t0, c0 = time.perf_counter(), time.process_time()
        for t in pipe.transforms:
            t1 = time.process_time()
            results = t(results)
            self.per_transform[name][type(t).__name__] += time.process_time() - t1
        self.total[name] += time.perf_counter() - t0
        self.cpu[name] += time.process_time() - c0
        return results


def main() -> None:
    init_default_scope('mmagic')
    if not ARGS.skip_mmagic:
        import_mmagic_transforms()
    cfg = Config.fromfile(ARGS.config)
    pipes = build_pipelines(cfg)
    clips = load_clips(ARGS.clips + 1)
    timer = Timer()
    shapes = {}
    for i, clip in enumerate(clips):
        for name, pipe in pipes.items():
            if name in timer.failed:
                continue
            np.random.seed(ARGS.seed * 1000003 + i)
            random.seed(ARGS.seed * 1000003 + i)
            results = dict(gt=list(clip), sample_idx=i)
            try:
                if i == 0:  # warm-up (imports, codec init), not timed
                    out = pipe(results)
                else:
                    out = timer.run(name, pipe, results)
            except Exception as e:  # MMagic's codec on PyAV >= 14
                timer.failed[name] = f'{type(e).__name__}: {e}'
                continue
            shapes[name] = (len(out['img']), out['img'][0].shape, out['img'][0].dtype)

    print(f'machine: {cpu_name()}, {os.cpu_count()} logical CPUs, {ARGS.cores} used '
          f'(affinity {sorted(os.sched_getaffinity(0))}); PyAV {av.__version__}, '
          f'OpenCV {cv2.__version__}, numpy {np.__version__}, torch {torch.__version__}')
    if ARGS.device and torch.device(ARGS.device).type == 'cuda':
        print(f'device: {torch.cuda.get_device_name(torch.device(ARGS.device))}')
    print(f'{ARGS.clips} clips of {ARGS.frames} frames {ARGS.crop}x{ARGS.crop} per pipeline, '
          f'seed {ARGS.seed}, timed interleaved; our x264 preset '
          f'{ARGS.preset or "default (medium)"}, codec threads {ARGS.codec_threads or "auto"}, '
          f'normal sampler '
          f'{ARGS.normal_sampler or "box_muller (default)"}')
    print(f'load average during the run: {os.getloadavg()[0]:.1f} (1 min)')
    print('clips per CPU-second (= clips/s per core when the cores are not shared; CPU time '
          'of all threads of the process) and wall-clock clips/s:')
    rates, wall = {}, {}
    for name in pipes:
        if name in timer.failed:
            print(f'{name:>18}: FAILED ({timer.failed[name]})')
            continue
        rates[name] = ARGS.clips / timer.cpu[name]
        wall[name] = ARGS.clips / timer.total[name]
        print(f'{name:>18}: {rates[name]:7.3f} clips/CPU-s ({1000 / rates[name]:7.1f} CPU-ms/clip)'
              f', wall {wall[name]:7.3f} clips/s on {ARGS.cores} core(s), output {shapes[name]}')
    if 'mmagic' in rates:
        for name in [n for n in rates if n != 'mmagic']:
            print(f'speed-up {name} / mmagic: {rates[name] / rates["mmagic"]:.2f}x per CPU-second,'
                  f' {wall[name] / wall["mmagic"]:.2f}x wall')
    if ARGS.profile:
        for name, per in timer.per_transform.items():
            print(f'-- {name} (CPU-ms per clip)')
            for t, s in sorted(per.items(), key=lambda kv: -kv[1]):
                print(f'   {t:>26}: {1000 * s / ARGS.clips:8.1f}')


if __name__ == '__main__':
    main()
