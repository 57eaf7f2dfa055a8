"""A run killed after a checkpoint and resumed with --resume ends with the same weights."""
import os
import subprocess
import sys

import pytest
import torch

from .helpers import REPO, make_clips, tiny_config


def _train(cfg_path, work_dir, *extra):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    return subprocess.run(
        [sys.executable, str(REPO / 'tools' / 'train.py'), str(cfg_path), '--work-dir',
         str(work_dir), *extra], cwd=str(REPO), env=env, capture_output=True, text=True,
        timeout=600)


def _state(path):
    return torch.load(path, map_location='cpu', weights_only=False)


# the pipelines keep their libx264 clips: reproducible since ``compression.zeroed_heap``
@pytest.mark.parametrize('stage', [1, 2])
def test_killed_then_resumed_run_matches_uninterrupted_run(tmp_path, stage):
    data = make_clips(tmp_path / 'data', num_clips=3)
    kw = dict(iters=4, checkpoint_interval=2, seed=42, deterministic=True)
    cfg = tiny_config(stage, data, tmp_path / 'unused', **kw)
    cfg.dump(tmp_path / 'full.py')
    killed = tiny_config(stage, data, tmp_path / 'unused', **kw)
    killed.custom_imports = dict(imports=['mmrbvsr', 'tests.test_training.kill_hook'],
                                 allow_failed_imports=False)
    killed.custom_hooks = killed.custom_hooks + [dict(type='KillAfterIterHook', iter=3)]
    killed.dump(tmp_path / 'killed.py')

    ref = _train(tmp_path / 'full.py', tmp_path / 'ref')
    assert ref.returncode == 0, ref.stderr[-3000:]
    run = _train(tmp_path / 'killed.py', tmp_path / 'run')
    assert run.returncode == -9, run.stderr[-3000:]  # SIGKILL during iteration 3
    assert (tmp_path / 'run' / 'iter_2.pth').is_file()
    assert not (tmp_path / 'run' / 'iter_4.pth').exists()
    resumed = _train(tmp_path / 'full.py', tmp_path / 'run', '--resume')
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert 'resumed' in (resumed.stdout + resumed.stderr).lower()

    a, b = _state(tmp_path / 'ref' / 'iter_4.pth'), _state(tmp_path / 'run' / 'iter_4.pth')
    assert a['meta']['iter'] == b['meta']['iter'] == 4
    assert set(a['state_dict']) == set(b['state_dict'])
    for k, v in a['state_dict'].items():
        assert torch.equal(v, b['state_dict'][k]), k
    # the optimizer states match too (the discriminator's in stage 2)
    names = ('generator', 'discriminator') if stage == 2 else ('generator',)
    for name in names:
        sa, sb = a['optimizer'][name]['state'], b['optimizer'][name]['state']
        assert sa
        for i in sa:
            assert torch.equal(sa[i]['exp_avg'], sb[i]['exp_avg'])
    # and the run really trained: weights moved from iteration 2
    mid = _state(tmp_path / 'run' / 'iter_2.pth')['state_dict']
    assert any(not torch.equal(v, mid[k]) for k, v in a['state_dict'].items()
               if k.startswith('generator.'))
