"""Throughput of the RealBasicVSR training degradations: mmrbvsr vs MMagic 1.2.0.

Both pipelines are built from the same ``degradations`` list of
``configs/_base_/realbasicvsr_pipeline.py`` (MMagic's gets the same ``params`` with
MMagic's class names), run on the same GT clips (15 frames of ``--data``, by default the
demo-clip crops in ``tests/data``, cropped 256x256, flipped) in one process
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
    python bench/benchmark_degradations.py --cores 1 --clips 120 --seeds 0 1 2 3

Each pipeline draws its own codecs, bit rates and frame sizes, and the video
compression is most of the time and bit-identical in both (the same CPU time for the
same draw, within 1%); so the script also times the video compression alone and prints
the ratio with each pipeline's video time replaced by the mean of both ("codec draws
equalized"), the estimate least moved by the draws.
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
    p.add_argument('--data', default=os.path.join(root, 'tests', 'data', 'realbasicvsr_demo_000'),
                   help='folder of PNG frames (default: the demo-clip crops in tests/data)')
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
    p.add_argument('--seeds', type=int, nargs='+', default=[0],
                   help='seeds of the clips and of every pipeline\'s draws; with several, '
                   '--clips clips per seed, one after the other, and the figures pooled')
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


def load_clips(num_clips: int, seed: int) -> list:
    """``num_clips`` lists of ``ARGS.frames`` uint8 RGB crops (random window and flips)."""
    paths = sorted(glob.glob(os.path.join(ARGS.data, '*.png')))
    if len(paths) < ARGS.frames:
        sys.exit(f'need {ARGS.frames} frames in {ARGS.data}, found {len(paths)}')
    frames = [cv2.cvtColor(cv2.imread(p), cv2.COLOR_BGR2RGB) for p in paths]
    h, w = frames[0].shape[:2]
    rng = np.random.default_rng(seed)
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


def build_pipelines(cfg: Config, seed: int) -> dict:
    from mmengine.dataset import Compose

    import mmrbvsr.datasets  # noqa: F401  (registers our transforms)
    usm = dict(kernel_size=51, sigma=0, weight=0.5, threshold=10, keys=['gt'])
    mmagic = to_mmagic([dict(d) for d in cfg.degradations])
    ours = with_options(cfg.degradations)
    pipes = dict(
        ours=[
            dict(type='mmrbvsr.SetRandomGenerator', seed=seed),
            dict(type='mmrbvsr.UnsharpMasking', **usm),
            dict(type='mmrbvsr.MirrorSequence', keys=['gt', 'gt_unsharp']),
            *ours,
        ],
        ours_mirror_after=[
            dict(type='mmrbvsr.SetRandomGenerator', seed=seed),
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
    """Accumulates seconds per pipeline (and seed) and, with --profile, per transform."""

    def __init__(self):
        self.total = defaultdict(float)
        self.cpu = defaultdict(float)
        self.codec = defaultdict(float)  # CPU s in the codec calls
        self.per_seed = defaultdict(float)  # (name, seed) -> CPU s
        self.per_transform = defaultdict(lambda: defaultdict(float))
        self.failed = {}
        self.current = None

    def run(self, name: str, seed: int, pipe, results: dict) -> dict:
        t0, c0 = time.perf_counter(), time.process_time()
        self.current = name
        for t in pipe.transforms:
            t1 = time.process_time()
            results = t(results)
            self.per_transform[name][type(t).__name__] += time.process_time() - t1
        self.current = None
        self.total[name] += time.perf_counter() - t0
        self.cpu[name] += time.process_time() - c0
        self.per_seed[name, seed] += time.process_time() - c0
        return results

    def timed(self, fn):
        """``fn`` with its CPU time added to the running pipeline's codec time."""
        def wrapper(*args, **kwargs):
            c0 = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                if self.current is not None:
                    self.codec[self.current] += time.process_time() - c0
        return wrapper


def time_codecs(timer: Timer) -> None:
    """Count the video compression of both pipelines in ``timer.codec``: each clip's
    whole transform (uint8 rounding, resizing to one size, encoding, decoding, float
    conversion), which costs the same in both for the same draw (within 1%)."""
    from mmrbvsr.datasets.transforms import compression
    cls = compression.RandomVideoCompression
    cls.degrade = timer.timed(cls.degrade)
    if not ARGS.skip_mmagic:
        from mmagic.datasets.transforms import random_degradations as md
        cls = md.RandomVideoCompression
        cls._apply_random_compression = timer.timed(cls._apply_random_compression)


def run_seed(cfg: Config, seed: int, timer: Timer, shapes: dict) -> list:
    """Time ``ARGS.clips`` clips of every pipeline for one seed; returns the names."""
    pipes = build_pipelines(cfg, seed)
    clips = load_clips(ARGS.clips + 1, seed)
    for i, clip in enumerate(clips):
        for name, pipe in pipes.items():
            if name in timer.failed:
                continue
            np.random.seed(seed * 1000003 + i)
            random.seed(seed * 1000003 + i)
            results = dict(gt=list(clip), sample_idx=i)
            try:
                if i == 0:  # warm-up (imports, codec init), not timed
                    out = pipe(results)
                else:
                    out = timer.run(name, seed, pipe, results)
            except Exception as e:  # MMagic's codec on PyAV >= 14
                timer.failed[name] = f'{type(e).__name__}: {e}'
                continue
            shapes[name] = (len(out['img']), out['img'][0].shape, out['img'][0].dtype)
    return list(pipes)


def main() -> None:
    init_default_scope('mmagic')
    if not ARGS.skip_mmagic:
        import_mmagic_transforms()
    cfg = Config.fromfile(ARGS.config)
    timer, shapes = Timer(), {}
    time_codecs(timer)
    for seed in ARGS.seeds:
        names = run_seed(cfg, seed, timer, shapes)

    n = ARGS.clips * len(ARGS.seeds)
    print(f'machine: {cpu_name()}, {os.cpu_count()} logical CPUs, {ARGS.cores} used '
          f'(affinity {sorted(os.sched_getaffinity(0))}); PyAV {av.__version__}, '
          f'OpenCV {cv2.__version__}, numpy {np.__version__}, torch {torch.__version__}')
    if ARGS.device and torch.device(ARGS.device).type == 'cuda':
        print(f'device: {torch.cuda.get_device_name(torch.device(ARGS.device))}')
    print(f'{ARGS.clips} clips of {ARGS.frames} frames {ARGS.crop}x{ARGS.crop} per pipeline and '
          f'seed, seeds {ARGS.seeds}, timed interleaved; our x264 preset '
          f'{ARGS.preset or "default (medium)"}, codec threads {ARGS.codec_threads or "auto"}, '
          f'normal sampler {ARGS.normal_sampler or "box_muller (default)"}')
    print(f'load average during the run: {os.getloadavg()[0]:.1f} (1 min)')
    print('clips per CPU-second (= clips/s per core when the cores are not shared; CPU time '
          'of all threads of the process) and wall-clock clips/s:')
    rates, wall = {}, {}
    for name in names:
        if name in timer.failed:
            print(f'{name:>18}: FAILED ({timer.failed[name]})')
            continue
        rates[name] = n / timer.cpu[name]
        wall[name] = n / timer.total[name]
        print(f'{name:>18}: {rates[name]:7.3f} clips/CPU-s ({1000 / rates[name]:7.1f} CPU-ms/clip'
              f', codec {1000 * timer.codec[name] / n:6.1f}), wall {wall[name]:7.3f} clips/s '
              f'on {ARGS.cores} core(s), output {shapes[name]}')
    if 'mmagic' in rates:
        m = timer.cpu['mmagic']
        for name in [n for n in rates if n != 'mmagic']:
            per_seed = ', '.join(
                f'{timer.per_seed["mmagic", s] / timer.per_seed[name, s]:.2f}x'
                for s in ARGS.seeds)
            equalized = ''
            if name != 'ours_mirror_after':  # the same codec work as MMagic's: 30 frames
                codec = (timer.codec['mmagic'] + timer.codec[name]) / 2
                equalized = (m - timer.codec['mmagic'] + codec) / (
                    timer.cpu[name] - timer.codec[name] + codec)
                equalized = f'; codec draws equalized {equalized:.2f}x'
            print(f'speed-up {name} / mmagic: {rates[name] / rates["mmagic"]:.2f}x per CPU-second,'
                  f' {wall[name] / wall["mmagic"]:.2f}x wall{equalized}; per seed {per_seed}')
    if ARGS.profile:
        for name, per in timer.per_transform.items():
            print(f'-- {name} (CPU-ms per clip)')
            for t, s in sorted(per.items(), key=lambda kv: -kv[1]):
                print(f'   {t:>26}: {1000 * s / n:8.1f}')


if __name__ == '__main__':
    main()
