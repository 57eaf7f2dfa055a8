"""tools/slurm_train.sh and tools/slurm_test.sh, run through a stand-in ``srun`` on CPU.

The stand-in records its arguments and starts ``--ntasks`` copies of the command with the
variables Slurm gives each task (``SLURM_PROCID``, ``SLURM_NTASKS``, ``SLURM_NODELIST``,
``SLURM_LOCALID``); a stand-in ``scontrol`` resolves the node list as Slurm's does.
"""
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import cv2
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / 'configs/realbasicvsr/demo/realbasicvsr_demo_stage1.py'

SRUN = r"""#!/usr/bin/env bash
printf '%s\n' "$@" > "$SRUN_LOG"
ntasks=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    -p) shift ;;
    --ntasks=*) ntasks="${1#--ntasks=}" ;;
    -*) ;;
    *) break ;;
  esac
  shift
done
pids=()
for ((i = 0; i < ntasks; i++)); do
  SLURM_PROCID=$i SLURM_LOCALID=$i SLURM_NTASKS=$ntasks SLURM_NODELIST=node-[01] "$@" \
    > "$SRUN_LOG.task$i" 2>&1 &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit $status
"""
SCONTROL = """#!/usr/bin/env bash
[[ "$1 $2 $3" == "show hostname node-[01]" ]] && echo 127.0.0.1
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def write_clip(folder: Path, size: int, num_frames: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (max(size // 4, 8), max(size // 4, 8), 3), dtype=np.uint8)
    folder.mkdir(parents=True)
    for i in range(num_frames):
        frame = cv2.resize(np.roll(base, i, axis=1), (size, size), interpolation=cv2.INTER_CUBIC)
        cv2.imwrite(str(folder / f'{i:08d}.png'), frame)


@pytest.fixture
def slurm(tmp_path) -> Dict[str, str]:
    """An environment whose PATH finds the stand-in srun and scontrol."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    for name, text in (('srun', SRUN), ('scontrol', SCONTROL)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith('SLURM_')}
    env.update(PATH=f'{bin_dir}{os.pathsep}{env["PATH"]}', SRUN_LOG=str(tmp_path / 'srun.log'),
               CUDA_VISIBLE_DEVICES='', MASTER_PORT=str(free_port()), PYTHON=sys.executable,
               NO_ALBUMENTATIONS_UPDATE='1')
    return env


TINY = ['model.generator.mid_channels=4', 'model.generator.num_propagation_blocks=1',
        'model.generator.num_cleaning_blocks=1', 'train_dataloader.num_workers=0',
        'train_dataloader.batch_size=1', 'randomness.seed=0']


def run(cmd: List[str], env: Dict[str, str], cwd: Path, log: Path) -> None:
    res = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    tasks = ''.join(p.read_text()[-3000:] for p in sorted(log.parent.glob(log.name + '.task*')))
    assert res.returncode == 0, f'{res.stdout[-2000:]}\n{res.stderr[-2000:]}\n{tasks}'


def test_slurm_train_then_test(slurm, tmp_path):
    data = tmp_path / 'data'
    for c in range(2):
        write_clip(data / 'train' / f'{c:03d}', 136, 3, seed=c)
    write_clip(data / 'val' / 'GT' / '000', 128, 2, seed=9)
    write_clip(data / 'val' / 'BIx4' / '000', 32, 2, seed=9)
    log = Path(slurm['SRUN_LOG'])

    # two tasks (GPUS=2) on one node, both training one iteration over gloo
    env = dict(slurm, GPUS='2', GPUS_PER_NODE='2', CPUS_PER_TASK='1',
               SRUN_ARGS='--quotatype=auto --mem=0')
    run(['bash', REPO / 'tools/slurm_train.sh', 'cpu-part', 'rbvsr', CONFIG, tmp_path / 'wd',
         '--cfg-options', f'train_dataloader.dataset.data_root={data}', 'train_cfg.max_iters=1',
         'val_dataloader=None', 'val_cfg=None', 'val_evaluator=None', 'test_dataloader=None',
         'test_cfg=None', 'test_evaluator=None', *TINY], env, tmp_path, log)
    args = log.read_text().splitlines()
    assert args[:10] == ['-p', 'cpu-part', '--job-name=rbvsr', '--gres=gpu:2', '--ntasks=2',
                         '--ntasks-per-node=2', '--cpus-per-task=1', '--kill-on-bad-exit=1',
                         '--quotatype=auto', '--mem=0']
    assert args[10:16] == [sys.executable, '-u', str(REPO / 'tools/train.py'), str(CONFIG),
                           f'--work-dir={tmp_path / "wd"}', '--launcher=slurm']
    assert args[16:18] == ['--cfg-options', f'train_dataloader.dataset.data_root={data}']
    ckpt = tmp_path / 'wd' / 'iter_1.pth'
    assert ckpt.is_file()
    rank0 = (log.parent / (log.name + '.task0')).read_text()
    # MMEngine's environment report: a distributed run of world size 2
    assert 'Distributed launcher: slurm' in rank0 and 'GPU number: 2' in rank0

    # one task testing the checkpoint on the held-out clip
    env = dict(slurm, GPUS='1', GPUS_PER_NODE='1', MASTER_PORT=str(free_port()))
    run(['bash', REPO / 'tools/slurm_test.sh', 'cpu-part', 'rbvsr-test', CONFIG, ckpt,
         '--work-dir', tmp_path / 'test', '--cfg-options',
         f'test_dataloader.dataset.data_root={data / "val"}', *TINY], env, tmp_path, log)
    args = log.read_text().splitlines()
    assert args[:8] == ['-p', 'cpu-part', '--job-name=rbvsr-test', '--gres=gpu:1', '--ntasks=1',
                        '--ntasks-per-node=1', '--cpus-per-task=5', '--kill-on-bad-exit=1']
    assert args[8:14] == [sys.executable, '-u', str(REPO / 'tools/test.py'), str(CONFIG),
                          str(ckpt), '--launcher=slurm']
    assert 'PSNR' in (log.parent / (log.name + '.task0')).read_text()
