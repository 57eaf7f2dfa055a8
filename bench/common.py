"""Shared by the benchmarks: machine description, timing, side-by-side tables."""
import os
import platform
import time
from typing import Callable, List, Sequence, Tuple

import torch


def cpu_name() -> str:
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown CPU'


def machine() -> str:
    cpu = cpu_name()
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no GPU'
    return (f'{cpu}, {os.cpu_count()} cores ({torch.get_num_threads()} torch threads), {gpu}, '
            f'torch {torch.__version__}, Python {platform.python_version()}')


def timeit(fn: Callable[[], object], repeat: int, warmup: int = 1) -> List[float]:
    """Wall seconds of ``repeat`` calls of ``fn`` after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return times


def measure(fn: Callable[[], object]) -> Tuple[float, float]:
    """Wall and process CPU seconds of one call of ``fn``.

    On a shared machine the CPU time is the steadier figure: waiting for a core
    counts in the wall time only.
    """
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - wall, time.process_time() - cpu


def table(rows: Sequence[Sequence[object]],
          header: Sequence[str] = ('figure', 'MMagic 1.2.0', 'mmrbvsr', 'ratio')) -> str:
    """A Markdown table; floats get 3 significant digits."""

    def fmt(v):
        return f'{v:.3g}' if isinstance(v, float) else str(v)

    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    lines += ['| ' + ' | '.join(fmt(v) for v in row) + ' |' for row in rows]
    return '\n'.join(lines)
