"""Shared by the benchmarks: machine description, timing, side-by-side tables."""
import importlib
import importlib.util
import os
import platform
import sys
import time
import types
from pathlib import Path
from typing import Callable, List, Sequence, Tuple

import torch

REPO = Path(__file__).resolve().parents[1]
# the benchmarks' default frames: 15 real 288x356 crops of the RealBasicVSR demo clip
# (tests/data/README.md); their --data takes any folder of frames instead
DEMO_FRAMES = REPO / 'tests' / 'data' / 'realbasicvsr_demo_000'


def media(name: str) -> str:
    """The cached file ``name`` of ``tools/fetch_test_media.py`` (e.g. ``BasicVSR_REDS4.pth``).

    Exits with the command that fetches it when it is missing.
    """
    spec = importlib.util.spec_from_file_location('fetch_test_media',
                                                  REPO / 'tools' / 'fetch_test_media.py')
    fetch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fetch)
    path = fetch.media_dir() / name
    if not path.is_file():
        sys.exit(f'{name} is not in {path.parent}: fetch it with `{fetch.FETCH_COMMAND}` '
                 '(or `bash tools/setup_env.sh`)')
    return str(path)


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


class _MissingOps(types.ModuleType):
    """Stands in for a missing module (mmcv's compiled ``_ext``, albumentations): every
    function taken from it raises when called."""

    def __getattr__(self, name: str):
        if name.startswith('__'):
            raise AttributeError(name)

        def missing(*args, **kwargs):
            raise RuntimeError(f'{self.__name__} is not installed here: {name} is not '
                               'available (bench/gpu_carry.sh)')

        return missing


def _bare_package(name: str) -> None:
    """Puts package ``name`` in ``sys.modules`` without running its ``__init__``."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    module = types.ModuleType(name)
    module.__path__ = list(spec.submodule_search_locations)
    module.__spec__ = spec
    sys.modules[name] = module
    parent, _, child = name.rpartition('.')
    setattr(sys.modules[parent], child, module)


# the MMagic modules that its RealBasicVSR and BasicVSR (networks, model, losses,
# discriminator, data preprocessor) are made of
BARE = ('mmagic.models', 'mmagic.models.editors', 'mmagic.models.archs')
MMAGIC_MODULES = ('mmagic.structures', 'mmagic.models.archs.upsample',
                  'mmagic.models.archs.sr_backbone', 'mmagic.models.utils',
                  'mmagic.models.base_models',
                  'mmagic.models.data_preprocessors', 'mmagic.models.losses',
                  'mmagic.models.editors.basicvsr', 'mmagic.models.editors.real_basicvsr')


def import_mmagic_transforms() -> None:
    """Imports MMagic 1.2.0's data transforms where albumentations is missing.

    ``mmagic.datasets.transforms`` imports albumentations for two transforms the
    benchmarks do not use; a placeholder stands in where it is not installed (the GPU
    box), and numpy 2 gets back ``np.bool8``.
    """
    import numpy as np
    if not hasattr(np, 'bool8'):
        np.bool8 = np.bool_
    try:
        import albumentations  # noqa: F401
    except ImportError:
        sys.modules['albumentations'] = _MissingOps('albumentations')
    importlib.import_module('mmagic.datasets.transforms')


def import_mmagic_models() -> None:
    """Imports MMagic 1.2.0's RealBasicVSR and BasicVSR, unchanged, with few dependencies.

    ``import mmagic.models`` imports every MMagic model, and with them diffusers,
    transformers and mmcv's compiled ops, none of which RealBasicVSR uses; a GPU box
    without a package registry (``bench/gpu_carry.sh``) has neither diffusers nor
    those ops. So ``mmagic.models``, its ``editors`` and ``archs`` are entered as
    bare packages and only ``MMAGIC_MODULES`` are imported (registering their
    classes, which ``MODELS.build`` then finds). Where mmcv has no compiled ops a
    placeholder ``mmcv._ext`` stands in (any op called raises); numpy 2 gets back
    the ``np.bool8`` alias that MMagic uses at import time.
    """
    import numpy as np
    if not hasattr(np, 'bool8'):
        np.bool8 = np.bool_
    try:
        import mmcv._ext  # noqa: F401
    except ImportError:
        sys.modules['mmcv._ext'] = _MissingOps('mmcv._ext')
    import mmagic  # noqa: F401
    for name in BARE:
        _bare_package(name)
    bare = [sys.modules[name] for name in BARE]
    for name in MMAGIC_MODULES:
        module = importlib.import_module(name)
        for package in bare:  # the names that the packages' __init__ would re-export
            if name.startswith(package.__name__ + '.'):
                names = getattr(module, '__all__', None) or [
                    k for k, v in vars(module).items()
                    if not k.startswith('_') and getattr(v, '__module__', None) == name]
                for key in names:
                    setattr(package, key, getattr(module, key))
