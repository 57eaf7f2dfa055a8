"""Publishing a training checkpoint: weights and meta only, named with its sha256 prefix.

What MMagic's ``tools/model_converters/publish_model.py`` does (drop the optimizer,
save, rename to ``<name>-<first 8 hex digits of the sha256>.pth``), for checkpoints of
torch >= 2.6, where its plain ``torch.load`` refuses the ``HistoryBuffer`` and numpy
values of every Runner checkpoint. Here the input is read weights-only through
:mod:`mmrbvsr.checkpoint.safe_globals`'s allow-list (never by unpickling arbitrary objects),
everything but ``meta`` and ``state_dict`` is dropped (optimizer, message hub, parameter
schedulers, ...: what MMEngine-era OpenMMLab ``publish_model.py`` tools drop), and the numpy
values left in ``meta`` become Python numbers, so that the published file loads with a
plain ``torch.load(..., weights_only=True)``, without mmrbvsr.
"""
import hashlib
import os
import os.path as osp
from dataclasses import dataclass
from typing import Any, List, Sequence

import numpy as np
import torch

from .safe_globals import named_globals_supported, register_checkpoint_safe_globals

DEFAULT_SAVE_KEYS = ('meta', 'state_dict')


@dataclass
class PublishResult:
    """Where :func:`publish_checkpoint` wrote and what it removed."""
    path: str
    sha256: str
    removed_keys: List[str]


def to_builtin(obj: Any) -> Any:
    """``obj`` with numpy scalars and arrays replaced by Python numbers and lists.

    Tensors stay tensors; dicts, lists and tuples are converted recursively.
    """
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, dict):
        return type(obj)((k, to_builtin(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_builtin(v) for v in obj)
    return obj


def published_name(out_file: str, sha256: str) -> str:
    """``work/model.pth`` -> ``work/model-1a2b3c4d.pth`` (MMagic's naming)."""
    stem = out_file[:-len('.pth')] if out_file.endswith('.pth') else out_file
    return f'{stem}-{sha256[:8]}.pth'


def load_checkpoint_weights_only(in_file: str) -> dict:
    """``torch.load`` with ``weights_only=True``, Runner checkpoints' globals allowed."""
    if not osp.isfile(in_file):
        raise FileNotFoundError(f'checkpoint not found: {in_file}')
    register_checkpoint_safe_globals()
    try:
        checkpoint = torch.load(in_file, map_location='cpu', weights_only=True)
    except Exception as e:
        hint = ('' if named_globals_supported() or 'getattr' not in str(e) else
                ' (the HistoryBuffer of Runner checkpoints needs torch >= 2.6 to be read '
                'weights-only)')
        raise ValueError(f'cannot read {in_file} as a weights-only checkpoint{hint}: {e}') \
            from e
    if not isinstance(checkpoint, dict) or 'state_dict' not in checkpoint:
        keys = list(checkpoint)[:10] if isinstance(checkpoint, dict) else type(checkpoint)
        raise ValueError(f'{in_file} is not a training checkpoint with a state_dict '
                         f'(found: {keys})')
    return checkpoint


def publish_checkpoint(in_file: str, out_file: str,
                       save_keys: Sequence[str] = DEFAULT_SAVE_KEYS) -> PublishResult:
    """Writes the published version of ``in_file`` to ``<out_file stem>-<sha8>.pth``.

    Args:
        in_file (str): A Runner checkpoint (``iter_300000.pth``, ...).
        out_file (str): The name before the hash, e.g. ``realbasicvsr_x4.pth``.
        save_keys (Sequence[str]): Top-level keys kept. Default: ``meta``, ``state_dict``.

    Returns:
        PublishResult: The final path, the file's sha256 and the keys removed.
    """
    if 'state_dict' not in save_keys:
        raise ValueError(f'save_keys must include state_dict, got {list(save_keys)}')
    checkpoint = load_checkpoint_weights_only(in_file)
    removed = [k for k in checkpoint if k not in save_keys]
    published = {k: (v if k == 'state_dict' else to_builtin(v)) for k, v in checkpoint.items()
                 if k in save_keys}
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    # written next to the target and renamed once complete: no half-written .pth
    tmp = out_file + '.partial'
    try:
        with open(tmp, 'wb') as f:
            torch.save(published, f)
        digest = hashlib.sha256()
        with open(tmp, 'rb') as f:
            for block in iter(lambda: f.read(1 << 20), b''):
                digest.update(block)
        sha256 = digest.hexdigest()
        final = published_name(out_file, sha256)
        os.replace(tmp, final)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    return PublishResult(path=final, sha256=sha256, removed_keys=removed)
