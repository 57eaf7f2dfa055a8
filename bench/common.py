"""Shared by the benchmarks: machine description, timing, side-by-side tables."""
import os
import platform
import time
from typing import Callable, List, Sequence

import torch


def machine() -> str:
    cpu = platform.processor() or 'unknown CPU'
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next(line.split(':', 1)[1].strip() for line in f if 'model name' in line)
    except (OSError, StopIteration):
        pass
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


def table(rows: Sequence[Sequence[object]],
          header: Sequence[str] = ('figure', 'MMagic 1.2.0', 'mmrbvsr', 'ratio')) -> str:
    """A Markdown table; floats get 3 significant digits."""

    def fmt(v):
        return f'{v:.3g}' if isinstance(v, float) else str(v)

    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    lines += ['| ' + ' | '.join(fmt(v) for v in row) + ' |' for row in rows]
    return '\n'.join(lines)
