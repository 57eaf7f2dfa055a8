"""Weights-only ``torch.load`` of MMEngine/MMagic checkpoints on torch >= 2.6.

MMEngine 0.10.7 calls ``torch.load`` without ``weights_only``; since torch 2.6 that
means weights-only unpickling, which refuses the ``HistoryBuffer`` and numpy values
every Runner checkpoint holds. Rather than turning weights-only loading off, the
few globals these checkpoints contain are allow-listed; anything else is still
refused.
"""
import importlib
import pickle
from typing import List, Tuple, Union

import numpy as np
import torch


def _history_buffer_statistic(obj: object, name: str) -> object:
    """Stands in for ``getattr`` while unpickling, for HistoryBuffer alone.

    A ``HistoryBuffer`` pickles its statistics as ``getattr(HistoryBuffer, 'mean')``;
    a general ``getattr`` would reach far beyond that.
    """
    from mmengine.logging import HistoryBuffer

    statistics = {'min', 'max', 'current', 'mean'} | set(HistoryBuffer._statistics_methods)
    if obj is HistoryBuffer and name in statistics:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'getattr({obj!r}, {name!r}) is not allowed in a weights-only checkpoint')


def checkpoint_safe_globals() -> List[Union[object, Tuple[object, str]]]:
    """The non-tensor globals found in MMEngine Runner and MMagic checkpoints."""
    from mmengine.logging import HistoryBuffer

    multiarray = importlib.import_module(
        'numpy._core.multiarray' if np.__version__ >= '2' else 'numpy.core.multiarray')
    allowed: List[object] = [
        HistoryBuffer,
        multiarray.scalar,
        multiarray._reconstruct,
        np.ndarray,
        np.dtype,
    ]
    # numpy >= 1.25 pickles dtypes as their classes, e.g. numpy.dtypes.Float64DType
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        allowed += [getattr(dtypes, name) for name in dir(dtypes) if name.endswith('DType')]
    # (function, name) entries need torch >= 2.6; torch 2.4/2.5 would fail every
    # weights-only load on them. Their weights-only loads cannot read a HistoryBuffer
    # then, but they are opt-in there: MMEngine's loads are not weights-only before 2.6.
    if named_globals_supported():
        allowed.append((_history_buffer_statistic, 'builtins.getattr'))
    return allowed


def named_globals_supported() -> bool:
    """Whether ``add_safe_globals`` takes ``(function, 'module.name')`` (torch >= 2.6)."""
    return torch.torch_version.TorchVersion(torch.__version__) >= '2.6'


def register_checkpoint_safe_globals() -> bool:
    """Allow-list :func:`checkpoint_safe_globals` for weights-only loading.

    Returns:
        bool: False on torch versions without ``add_safe_globals`` (< 2.4),
        where ``torch.load`` is not weights-only by default anyway.
    """
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is None:
        return False
    add_safe_globals(checkpoint_safe_globals())
    return True
