"""Publishing a Runner checkpoint weights-only (tools/publish_model.py)."""
import hashlib
import os
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub

from mmrbvsr.checkpoint.publish import publish_checkpoint, published_name, to_builtin
from mmrbvsr.checkpoint.safe_globals import named_globals_supported

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / 'tools' / 'publish_model.py'

# loads a file weights-only in a fresh interpreter that never imported mmrbvsr (no allow-list)
PLAIN_LOAD = """
import sys, torch
try:
    ckpt = torch.load(sys.argv[1], map_location='cpu', weights_only=True)
except Exception as e:
    print('REFUSED', type(e).__name__)
else:
    print('LOADED', sorted(ckpt), repr(ckpt['meta']['seed']), ckpt['meta']['mmengine_version'])
"""


def runner_checkpoint(path: Path) -> dict:
    """What MMEngine's CheckpointHook saves: meta, weights, optimizer, message hub, ..."""
    gen = torch.nn.Conv2d(3, 4, 3)
    state_dict = OrderedDict((f'generator.{k}', v) for k, v in gen.state_dict().items())
    state_dict.update((f'generator_ema.{k}', v + 1) for k, v in gen.state_dict().items())
    optim = torch.optim.Adam(gen.parameters(), lr=1e-4)
    gen(torch.rand(1, 3, 8, 8)).sum().backward()
    optim.step()
    hub = MessageHub.get_instance('test_publish')
    for value in (0.5, 0.25):
        hub.update_scalar('train/loss_pix', np.float64(value))
    hub.update_info('iter', 2)
    ckpt = {
        'meta': {'seed': np.int64(1234), 'iter': 2, 'epoch': 0, 'mmengine_version': '0.10.7',
                 'experiment_name': 'tiny', 'lr': np.float32(1e-4), 'cfg': 'model = dict()'},
        'state_dict': state_dict,
        'optimizer': {'generator': optim.state_dict()},
        'message_hub': hub.state_dict(),
        'param_schedulers': [],
    }
    torch.save(ckpt, path)
    return ckpt


def plain_load(path: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    res = subprocess.run([sys.executable, '-c', PLAIN_LOAD, str(path)], capture_output=True,
                         text=True, env=env, cwd=path.parent)
    assert res.returncode == 0, res.stderr
    return res.stdout.strip()


NEEDS_TORCH_2_6 = pytest.mark.skipif(
    not named_globals_supported(), reason="a HistoryBuffer reads weights-only on torch >= 2.6")


@NEEDS_TORCH_2_6
def test_publish_a_runner_checkpoint(tmp_path):
    src = tmp_path / 'iter_2.pth'
    ckpt = runner_checkpoint(src)
    # what MMagic's publish_model.py (a plain torch.load) meets on torch >= 2.6
    assert plain_load(src) == 'REFUSED UnpicklingError'

    res = subprocess.run([sys.executable, str(TOOL), str(src), str(tmp_path / 'out' / 'tiny.pth')],
                         capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    (out, ) = (tmp_path / 'out').iterdir()
    sha = hashlib.sha256(out.read_bytes()).hexdigest()
    assert out.name == f'tiny-{sha[:8]}.pth'
    assert 'removed: optimizer, message_hub, param_schedulers' in res.stdout
    assert f'sha256 {sha}' in res.stdout

    # the published file needs no allow-list: plain Python values, no HistoryBuffer
    assert plain_load(out) == "LOADED ['meta', 'state_dict'] 1234 0.10.7"
    published = torch.load(out, map_location='cpu', weights_only=True)
    assert list(published['state_dict']) == list(ckpt['state_dict'])
    for key, value in ckpt['state_dict'].items():
        assert torch.equal(published['state_dict'][key], value)
    assert published['meta'] == to_builtin(ckpt['meta'])
    assert type(published['meta']['lr']) is float


@NEEDS_TORCH_2_6
def test_publish_keeps_chosen_keys_and_never_leaves_partial_files(tmp_path):
    src = tmp_path / 'iter_2.pth'
    runner_checkpoint(src)
    result = publish_checkpoint(str(src), str(tmp_path / 'x.pth'),
                                save_keys=('state_dict', 'meta', 'message_hub'))
    assert result.removed_keys == ['optimizer', 'param_schedulers']
    assert sorted(torch.load(result.path, weights_only=True)) == ['message_hub', 'meta',
                                                                   'state_dict']
    assert sorted(p.name for p in tmp_path.iterdir()) == ['iter_2.pth', Path(result.path).name]


class Exploit:
    def __reduce__(self):
        return (os.system, ('touch pwned',))


def test_unsafe_and_wrong_inputs_are_refused(tmp_path):
    evil = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': Exploit()}, evil)
    with pytest.raises(ValueError, match='(?s)cannot read .*evil.pth as a weights-only '
                       'checkpoint: .*system'):
        publish_checkpoint(str(evil), str(tmp_path / 'out.pth'))
    assert not (tmp_path / 'pwned').exists()

    bare = tmp_path / 'bare.pth'
    torch.save({'weight': torch.zeros(1)}, bare)
    with pytest.raises(ValueError, match='not a training checkpoint with a state_dict'):
        publish_checkpoint(str(bare), str(tmp_path / 'out.pth'))
    with pytest.raises(FileNotFoundError, match='checkpoint not found'):
        publish_checkpoint(str(tmp_path / 'missing.pth'), str(tmp_path / 'out.pth'))
    with pytest.raises(ValueError, match='must include state_dict'):
        publish_checkpoint(str(bare), str(tmp_path / 'out.pth'), save_keys=('meta', ))
    assert not list(tmp_path.glob('out*'))


def test_published_name():
    sha = 'abcdef0123456789'
    assert published_name('work/model.pth', sha) == 'work/model-abcdef01.pth'
    # MMagic's out_file.rstrip('.pth') would turn this into 'dep-...'
    assert published_name('depth.pth', sha) == 'depth-abcdef01.pth'
    assert published_name('model', sha) == 'model-abcdef01.pth'
