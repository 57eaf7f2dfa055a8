"""On/off switches of the fast paths, and the record of paths that failed.

Each fast path (``nnpack``, ``fused_epilogue``, ``cudnn_fused``) is on unless its
``MMRBVSR_*`` variable says ``0``, ``false`` or ``off`` when the package is imported;
``set_enabled`` changes it for the whole process, ``switched`` for a ``with`` block.

A fast path that fails on one call (a shape cuDNN does not support, a CUDA graph
that cannot be captured with it) is not switched off for the process: the caller
takes the usual path for that call and reports it with ``record_failure``, which
logs each (path, where) once and keeps it for ``failures()``.
"""
import logging
import os
from contextlib import contextmanager
from typing import Dict, Iterator, Tuple

from mmengine.logging import print_log

#: switch name -> the environment variable that sets its initial value
VARIABLES = {
    'nnpack': 'MMRBVSR_NNPACK',
    'fused_epilogue': 'MMRBVSR_FUSED_EPILOGUE',
    'cudnn_fused': 'MMRBVSR_CUDNN_FUSED',
}
OFF_VALUES = ('0', 'false', 'off', 'no')


def parse_variable(value: str) -> bool:
    """``'0'``, ``'false'``, ``'off'`` or ``'no'`` (any case) -> False, else True."""
    return value.strip().lower() not in OFF_VALUES


_enabled: Dict[str, bool] = {
    name: parse_variable(os.environ.get(variable, '1')) for name, variable in VARIABLES.items()
}
# (path, where) -> the error's text; one entry per failing call site (bounded by the
# distinct shapes and graph keys a process meets)
_failures: Dict[Tuple[str, str], str] = {}


def _check_name(name: str) -> None:
    if name not in _enabled:
        raise ValueError(f'unknown switch {name!r}, expected one of {sorted(_enabled)}')


def enabled(name: str) -> bool:
    """Whether the fast path ``name`` is switched on."""
    _check_name(name)
    return _enabled[name]


def set_enabled(name: str, value: bool) -> bool:
    """Switches the fast path ``name`` on or off; returns the previous setting."""
    _check_name(name)
    if not isinstance(value, bool):
        raise TypeError(f'{name}: enabled must be a bool, got {value!r}')
    previous, _enabled[name] = _enabled[name], value
    return previous


@contextmanager
def switched(**values: bool) -> Iterator[None]:
    """Sets switches for a ``with`` block, e.g. ``switched(nnpack=False)``."""
    previous = {name: set_enabled(name, value) for name, value in values.items()}
    try:
        yield
    finally:
        for name, value in previous.items():
            _enabled[name] = value


def record_failure(path: str, where: str, error: BaseException) -> None:
    """Notes that fast path ``path`` failed at ``where`` (logged once per pair)."""
    _check_name(path)
    key = (path, where)
    if key not in _failures:
        _failures[key] = f'{type(error).__name__}: {str(error)[:200]}'
        print_log(f'{path} unavailable for {where}, the usual path runs there: '
                  f'{_failures[key]}', 'current', logging.WARNING)


def failures() -> Dict[Tuple[str, str], str]:
    """The failures recorded so far, ``(path, where) -> error``."""
    return dict(_failures)
