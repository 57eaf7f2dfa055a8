import socket

import pytest
import torch.distributed as dist
from mmengine.config import Config

from mmrbvsr.engine.cpu_dist import prepare_cpu_distributed


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_no_launcher_changes_nothing():
    cfg = Config(dict(launcher='none', env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    assert not prepare_cpu_distributed(cfg)
    assert cfg.env_cfg.dist_cfg.backend == 'nccl' and 'model_wrapper_cfg' not in cfg


def test_missing_torchrun_variables_raise(monkeypatch):
    monkeypatch.delenv('MASTER_PORT', raising=False)
    monkeypatch.setenv('RANK', '0')
    monkeypatch.setenv('WORLD_SIZE', '1')
    monkeypatch.setenv('MASTER_ADDR', '127.0.0.1')
    with pytest.raises(RuntimeError, match='MASTER_PORT'):
        prepare_cpu_distributed(Config(dict(launcher='pytorch')))


def test_gloo_group_and_cpu_ddp_wrapper(monkeypatch):
    for k, v in dict(RANK='0', WORLD_SIZE='1', LOCAL_RANK='0', MASTER_ADDR='127.0.0.1',
                     MASTER_PORT=str(_free_port())).items():
        monkeypatch.setenv(k, v)
    cfg = Config(dict(launcher='pytorch', env_cfg=dict(dist_cfg=dict(backend='nccl')),
                      model_wrapper_cfg=dict(type='MMSeparateDistributedDataParallel')))
    try:
        assert prepare_cpu_distributed(cfg)
        assert dist.is_initialized() and dist.get_backend() == 'gloo'
        assert cfg.env_cfg.dist_cfg.backend == 'gloo'
        assert cfg.model_wrapper_cfg == dict(type='MMSeparateDistributedDataParallel',
                                             device_ids=None)
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
