"""Runner checkpoints load weights-only on torch >= 2.6; other globals stay refused."""
import functools
import itertools
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.logging import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

import mmrbvsr  # noqa: F401  (registers the safe globals)
from mmrbvsr.checkpoint import checkpoint_safe_globals

_RUN_IDS = itertools.count()
WEIGHTS_ONLY_DEFAULT = torch.__version__ >= '2.6'


class ToyDataset(Dataset):

    def __len__(self):
        return 8

    def __getitem__(self, idx):
        x = torch.full((2, ), float(idx))
        return dict(inputs=x, target=x.sum().reshape(1))


class ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, target=None, data_samples=None, mode='loss'):
        return dict(loss=((self.linear(inputs) - target)**2).mean())


def _runner(work_dir, max_iters, **kwargs):
    return Runner(
        model=ToyModel(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=ToyDataset(),
            sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=dict(type='default_collate'),
            batch_size=2,
            num_workers=0),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False),
            logger=dict(type='LoggerHook', interval=1)),
        randomness=dict(seed=0),
        # Runners named by the same second would share one MessageHub
        experiment_name=f'ckpt_{next(_RUN_IDS)}_{os.getpid()}',
        **kwargs)


def _find_types(obj, found):
    found.add(type(obj))
    if isinstance(obj, dict):
        for v in obj.values():
            _find_types(v, found)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _find_types(v, found)
    return found


@pytest.fixture(scope='module')
def runner_checkpoint(tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('run')
    runner = _runner(work_dir, max_iters=4)
    runner.train()
    ckpt = work_dir / 'iter_4.pth'
    assert ckpt.is_file()
    return ckpt, runner.model.linear.weight.detach().clone()


def test_runner_checkpoint_holds_history_buffer_and_numpy(runner_checkpoint):
    ckpt, _ = runner_checkpoint
    content = torch.load(ckpt, weights_only=False)
    types = _find_types(content, set())
    assert HistoryBuffer in types
    assert any(issubclass(t, np.generic) for t in types), types


@pytest.mark.skipif(not WEIGHTS_ONLY_DEFAULT, reason='weights-only is the default from 2.6')
def test_plain_torch_refuses_runner_checkpoint_without_mmrbvsr(runner_checkpoint):
    ckpt, _ = runner_checkpoint
    code = f'import torch; torch.load({str(ckpt)!r})'
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert proc.returncode != 0
    assert 'Weights only load failed' in proc.stderr


def test_runner_checkpoint_loads_weights_only(runner_checkpoint):
    ckpt, weight = runner_checkpoint
    content = torch.load(ckpt, weights_only=True)
    assert isinstance(content['message_hub']['log_scalars']['train/loss'], HistoryBuffer)
    assert torch.equal(content['state_dict']['linear.weight'], weight)


def test_resume_continues_on_current_torch(runner_checkpoint, tmp_path):
    ckpt, weight = runner_checkpoint
    runner = _runner(tmp_path, max_iters=6, resume=True, load_from=str(ckpt))
    runner.train()
    assert runner.iter == 6
    assert (tmp_path / 'iter_6.pth').is_file()
    # the loss history carried over from the first run
    history = runner.message_hub.get_scalar('train/loss')
    assert len(history.data[0]) == 6


def test_load_from_through_mmengine(runner_checkpoint):
    from mmengine.runner import load_checkpoint
    ckpt, weight = runner_checkpoint
    model = ToyModel()
    load_checkpoint(model, str(ckpt), map_location='cpu')
    assert torch.equal(model.linear.weight, weight)


class Payload:

    def __reduce__(self):
        return (os.system, ('echo pwned',))


class GetattrPayload:

    def __reduce__(self):
        return (getattr, (np.ndarray, 'tofile'))


@pytest.mark.parametrize(
    'obj', [Payload(), GetattrPayload(), {'x': Runner}, functools.partial(print, 'x')])
def test_other_globals_are_still_refused(tmp_path, obj):
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': obj}, path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)
    if WEIGHTS_ONLY_DEFAULT:
        with pytest.raises(pickle.UnpicklingError):
            torch.load(path)


def test_allow_list_is_narrow():
    allowed = checkpoint_safe_globals()
    objects = [g[0] if isinstance(g, tuple) else g for g in allowed]
    assert HistoryBuffer in objects
    assert not {getattr, eval, exec, os.system, Runner} & set(objects)
