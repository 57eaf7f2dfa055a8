"""Distributed training without GPUs (gloo), which MMEngine 0.10.7 cannot start by itself.

Two things break on a CPU-only machine: ``init_dist('pytorch')`` calls
``torch.cuda.set_device`` before creating the process group, and ``Runner.wrap_model``
passes ``device_ids=[LOCAL_RANK]`` to the DDP wrapper, which DDP rejects for CPU
modules. The Runner skips ``init_dist`` when a process group exists, and config values
take precedence over the Runner's ``device_ids``: :func:`prepare_cpu_distributed` uses both.
"""
import os

import torch
import torch.distributed as dist
from mmengine.config import Config


def prepare_cpu_distributed(cfg: Config) -> bool:
    """Starts a gloo process group for ``cfg.launcher == 'pytorch'`` when CUDA is unavailable.

    Call it after the config is loaded and before ``Runner.from_cfg``. It sets
    ``env_cfg.dist_cfg.backend='gloo'`` and ``model_wrapper_cfg.device_ids=None``.

    Args:
        cfg (Config): The training/test config, with ``launcher`` set.

    Returns:
        bool: Whether anything was changed (False on GPU machines and without a launcher).
    """
    if cfg.get('launcher', 'none') != 'pytorch' or torch.cuda.is_available():
        return False
    for var in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        if var not in os.environ:
            raise RuntimeError(f'--launcher pytorch needs ${var}; start the job with torchrun '
                               '(tools/dist_train.sh)')
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
    wrapper = cfg.get('model_wrapper_cfg') or dict(type='MMDistributedDataParallel')
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    return True
