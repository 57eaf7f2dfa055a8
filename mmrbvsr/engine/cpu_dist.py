"""Distributed training without GPUs (gloo), which MMEngine 0.10.7 cannot start by itself.

Two things break on a CPU-only machine: ``init_dist('pytorch')`` calls
``torch.cuda.set_device`` before creating the process group, and ``Runner.wrap_model``
passes ``device_ids=[LOCAL_RANK]`` to the DDP wrapper, which DDP rejects for CPU
modules. The Runner skips ``init_dist`` when a process group exists, and config values
take precedence over the Runner's ``device_ids``: :func:`prepare_cpu_distributed` uses both.
``--launcher slurm`` (``tools/slurm_train.sh``) hits the same ``set_device`` call; its ranks
come from Slurm's variables, read as MMEngine's ``_init_dist_slurm`` reads them.
"""
import os
import subprocess

import torch
import torch.distributed as dist
from mmengine.config import Config


def slurm_to_torch_env() -> None:
    """Sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and ``MASTER_ADDR/PORT`` from Slurm's."""
    for var in ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_NODELIST'):
        if var not in os.environ:
            raise RuntimeError(f'--launcher slurm needs ${var}; start the job with srun '
                               '(tools/slurm_train.sh)')
    os.environ['RANK'] = os.environ['SLURM_PROCID']
    os.environ['WORLD_SIZE'] = os.environ['SLURM_NTASKS']
    os.environ['LOCAL_RANK'] = os.environ.get('SLURM_LOCALID', os.environ['SLURM_PROCID'])
    os.environ.setdefault('MASTER_PORT', '29500')
    if 'MASTER_ADDR' not in os.environ:
        node_list = os.environ['SLURM_NODELIST']
        os.environ['MASTER_ADDR'] = subprocess.getoutput(
            f'scontrol show hostname {node_list} | head -n1')


def prepare_cpu_distributed(cfg: Config) -> bool:
    """Starts a gloo process group for ``cfg.launcher`` ``'pytorch'`` or ``'slurm'`` when
    CUDA is unavailable.

    Call it after the config is loaded and before ``Runner.from_cfg``. It sets
    ``env_cfg.dist_cfg.backend='gloo'`` and ``model_wrapper_cfg.device_ids=None``.

    Args:
        cfg (Config): The training/test config, with ``launcher`` set.

    Returns:
        bool: Whether anything was changed (False on GPU machines and without a launcher).
    """
    launcher = cfg.get('launcher', 'none')
    if launcher not in ('pytorch', 'slurm') or torch.cuda.is_available():
        return False
    if launcher == 'slurm':
        slurm_to_torch_env()
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
