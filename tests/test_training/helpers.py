"""Tiny versions of the paper's configs for CPU tests, and a tiny REDS-like data set."""
import uuid
from pathlib import Path
from typing import Optional

import cv2
from mmengine.config import Config

from mmrbvsr.datasets.demo import resize_pipeline
from tests.conftest import DEMO_FRAMES

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / 'configs' / 'realbasicvsr'
STAGE1 = CONFIGS / 'realbasicvsr_wogan-c64b20-2x30x8_8xb2-lr1e-4-300k_reds.py'
STAGE2 = CONFIGS / 'realbasicvsr_c64b20-1x30x8_8xb1-lr5e-5-150k_reds.py'
GT_SIZE = 128  # LQ 32x32: the generator's smallest input


def make_clips(root: Path, num_clips: int = 2, num_frames: int = 4) -> Path:
    """Writes ``root/train/<clip>/%08d.png`` from the real demo clip (256x144 frames)."""
    src = sorted(DEMO_FRAMES.glob('*.png'))
    for c in range(num_clips):
        out = root / 'train' / f'{c:03d}'
        out.mkdir(parents=True, exist_ok=True)
        for i in range(num_frames):
            img = cv2.imread(str(src[(c * 7 + i) % len(src)]))
            cv2.imwrite(str(out / f'{i:08d}.png'), cv2.resize(img, (256, 144),
                                                              interpolation=cv2.INTER_AREA))
    return root


def tiny_options(data_root: Path, iters: int, batch_size: int = 1, num_input_frames: int = 2,
                 seed: Optional[int] = 0, deterministic: bool = False,
                 checkpoint_interval: Optional[int] = None, pipeline=None,
                 stage2: bool = False) -> dict:
    """``--cfg-options`` that shrink a stage config to a few-second CPU run."""
    opts = {
        'experiment_name': f'tiny-{uuid.uuid4().hex[:8]}',
        'model.generator.mid_channels': 4,
        'model.generator.num_propagation_blocks': 1,
        'model.generator.num_cleaning_blocks': 1,
        'model.generator.spynet_pretrained': None,
        'train_dataloader.batch_size': batch_size,
        'train_dataloader.num_workers': 0,
        'train_dataloader.sampler.shuffle': False,
        'train_dataloader.dataset.data_root': str(data_root),
        'train_dataloader.dataset.data_prefix': dict(img='train', gt='train'),
        'train_dataloader.dataset.num_input_frames': num_input_frames,
        'train_cfg.max_iters': iters,
        'train_cfg.val_interval': 10**9,
        'val_dataloader': None, 'val_cfg': None, 'val_evaluator': None,
        'test_dataloader': None, 'test_cfg': None, 'test_evaluator': None,
        'default_hooks.logger.interval': 1,
        'default_hooks.checkpoint.interval': checkpoint_interval or iters,
        'default_hooks.checkpoint.save_best': None,
        'custom_hooks': [dict(type='ExponentialMovingAverageHook', module_keys=('generator_ema', ),
                              interval=1, interp_cfg=dict(momentum=0.001))],
        'randomness': dict(seed=seed, deterministic=deterministic),
        'load_from': None,
    }
    if pipeline is not None:
        opts['train_dataloader.dataset.pipeline'] = pipeline
    if stage2:
        opts.update({'model.discriminator.mid_channels': 4,
                     'model.perceptual_loss.pretrained': None})
    return opts


def tiny_config(stage: int, data_root: Path, work_dir: Path, **kwargs) -> Config:
    """A stage config shrunk by :func:`tiny_options`, with GT crops of ``GT_SIZE``."""
    cfg = Config.fromfile(str(STAGE1 if stage == 1 else STAGE2))
    pipeline = resize_pipeline(cfg.train_dataloader.dataset.pipeline, GT_SIZE)
    cfg.merge_from_dict(tiny_options(data_root, pipeline=pipeline, stage2=stage == 2, **kwargs))
    cfg.work_dir = str(work_dir)
    return cfg
