"""``--amp`` / ``--amp-dtype``: bf16 and fp16 optim wrappers, CPU included."""
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

from mmrbvsr.engine import AutocastOptimWrapper
from mmrbvsr.utils.cli import enable_amp


class Points(Dataset):

    def __len__(self):
        return 4

    def __getitem__(self, idx):
        return dict(inputs=torch.full((4, ), float(idx)))


class RecordingModel(BaseModel):
    """Records the dtype its layer computes in."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 1)
        self.seen = []

    def forward(self, inputs, data_samples=None, mode='loss'):
        out = self.linear(inputs)
        self.seen.append(out.dtype)
        return dict(loss=out.float().pow(2).mean())


def _run(work_dir, optim_wrapper):
    model = RecordingModel()
    runner = Runner(
        model=model,
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=Points(),
            sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=dict(type='default_collate'),
            batch_size=2),
        optim_wrapper=optim_wrapper,
        train_cfg=dict(by_epoch=False, max_iters=2),
        default_hooks=dict(checkpoint=None),
        default_scope='mmagic')
    before = model.linear.weight.detach().clone()
    runner.train()
    return model, before


def test_bf16_autocast_on_cpu_trains_through_runner(tmp_path):
    wrapper = dict(
        type='mmrbvsr.AutocastOptimWrapper', dtype='bfloat16',
        optimizer=dict(type='SGD', lr=0.1))
    model, before = _run(tmp_path, wrapper)
    assert model.seen == [torch.bfloat16] * 2
    assert model.linear.weight.dtype == torch.float32  # master weights stay fp32
    assert not torch.equal(model.linear.weight, before)


def test_plain_wrapper_stays_fp32(tmp_path):
    model, _ = _run(tmp_path, dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1)))
    assert model.seen == [torch.float32] * 2


def test_bad_dtype_is_named():
    opt = torch.optim.SGD(nn.Linear(1, 1).parameters(), lr=0.1)
    with pytest.raises(ValueError, match="'int8'"):
        AutocastOptimWrapper(dtype='int8', optimizer=opt)


@pytest.mark.parametrize('dtype,cuda,expected', [
    ('bfloat16', False, 'mmrbvsr.AutocastOptimWrapper'),
    ('float16', False, 'mmrbvsr.AutocastOptimWrapper'),
    ('bfloat16', True, 'mmrbvsr.AutocastOptimWrapper'),
    ('float16', True, 'AmpOptimWrapper'),
])
def test_enable_amp_rewrites_gan_optim_wrappers(dtype, cuda, expected):
    cfg = Config(dict(optim_wrapper=dict(
        constructor='MultiOptimWrapperConstructor',
        generator=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=5e-5)),
        discriminator=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4)))))
    enable_amp(cfg, dtype, cuda=cuda)
    for key in ('generator', 'discriminator'):
        assert cfg.optim_wrapper[key].type == expected
        assert cfg.optim_wrapper[key].dtype == dtype


def test_enable_amp_single_wrapper_and_errors():
    cfg = Config(dict(optim_wrapper=dict(type='OptimWrapper', optimizer=dict(type='SGD'))))
    enable_amp(cfg, 'bfloat16', cuda=False)
    assert cfg.optim_wrapper.type == 'mmrbvsr.AutocastOptimWrapper'
    with pytest.raises(ValueError, match="'fp8'"):
        enable_amp(cfg, 'fp8')
    cfg = Config(dict(optim_wrapper=dict(type='ApexOptimWrapper', optimizer=dict(type='SGD'))))
    with pytest.raises(ValueError, match='ApexOptimWrapper'):
        enable_amp(cfg, 'bfloat16', cuda=False)
