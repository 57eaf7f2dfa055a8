"""tools/dist_train.sh with 2 gloo processes on CPU vs one process with the same total batch."""
import os
import subprocess
import sys

import torch
from mmengine.runner import Runner

from .helpers import GT_SIZE, REPO, make_clips, tiny_config

ITERS = 2


def deterministic_pipeline():
    """Load, fixed crop, sharpen, area x4 down: no randomness (ranks draw different
    degradations, which would make the runs differ for reasons other than DDP)."""
    lq = GT_SIZE // 4
    return [
        dict(type='GenerateSegmentIndices', interval_list=[1]),  # all frames: start 0
        dict(type='LoadImageFromFile', key='gt', channel_order='rgb'),
        dict(type='SetValues', dictionary=dict(scale=4)),
        dict(type='FixedCrop', keys=['gt'], crop_size=(GT_SIZE, GT_SIZE), crop_pos=(8, 4)),
        dict(type='mmrbvsr.UnsharpMasking', keys=['gt'], kernel_size=51, sigma=0, weight=0.5,
             threshold=10),
        dict(type='mmrbvsr.MirrorSequence', keys=['gt', 'gt_unsharp']),
        dict(type='CopyValues', src_keys=['gt_unsharp'], dst_keys=['img']),
        dict(type='mmrbvsr.RandomResize', keys=['img'],
             params=dict(target_size=(lq, lq), resize_opt=['area'], resize_prob=[1.0])),
        dict(type='mmrbvsr.Clip', keys=['img']),
        dict(type='PackInputs'),
    ]


def test_two_gloo_processes_match_one_process(tmp_path):
    data = make_clips(tmp_path / 'data', num_clips=4, num_frames=3)
    kw = dict(iters=ITERS, num_input_frames=3, seed=0)

    single = tiny_config(1, data, tmp_path / 'single', batch_size=2, **kw)
    single.train_dataloader.dataset.pipeline = deterministic_pipeline()
    runner = Runner.from_cfg(single)
    init = {k: v.clone() for k, v in runner.model.generator.state_dict().items()}
    runner.train()
    ref = runner.model.generator.state_dict()

    dist_cfg = tiny_config(1, data, tmp_path / 'dist', batch_size=1, **kw)
    dist_cfg.train_dataloader.dataset.pipeline = deterministic_pipeline()
    dist_cfg.dump(tmp_path / 'dist.py')
    env = dict(os.environ, PYTHON=sys.executable, OMP_NUM_THREADS='1', PORT='29517')
    proc = subprocess.run(
        ['bash', str(REPO / 'tools' / 'dist_train.sh'), str(tmp_path / 'dist.py'), '2',
         '--work-dir', str(tmp_path / 'dist')], cwd=str(REPO), env=env, capture_output=True,
        text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    log = proc.stdout + proc.stderr
    assert 'Distributed training: True' in log and 'GPU number: 2' in log, log[-3000:]

    ckpt = torch.load(tmp_path / 'dist' / f'iter_{ITERS}.pth', map_location='cpu',
                      weights_only=False)
    got = {k[len('generator.'):]: v for k, v in ckpt['state_dict'].items()
           if k.startswith('generator.')}
    assert set(got) == set(ref)  # no 'generator.module.' keys from the DDP wrappers
    # the updates themselves agree (Adam: each step moves weights by about lr = 1e-4)
    max_update = max((ref[k] - init[k]).abs().max().item() for k in ref)
    max_diff = max((got[k] - ref[k]).abs().max().item() for k in ref)
    assert max_update > 1e-5
    assert max_diff < 1e-2 * max_update, (max_diff, max_update)
