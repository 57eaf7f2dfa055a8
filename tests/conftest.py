"""Test media: the committed frames of ``tests/data`` and the cached clips and weights.

The clips and weights are fetched once into the cache by ``tools/fetch_test_media.py``
(``tools/setup_env.sh`` runs it); a test that needs one of them skips when it is missing.
"""
import importlib.util
from pathlib import Path
from typing import Callable

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / 'tests' / 'data'
# 15 frames (288x356 crops) of the RealBasicVSR demo clip; see tests/data/README.md
DEMO_FRAMES = DATA / 'realbasicvsr_demo_000'

_spec = importlib.util.spec_from_file_location('fetch_test_media',
                                               REPO / 'tools' / 'fetch_test_media.py')
fetch_test_media = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fetch_test_media)


def media_path(name: str) -> Path:
    """The cached file ``name`` of ``tools/fetch_test_media.py``; skips the test if missing."""
    if name not in fetch_test_media.MEDIA:
        raise KeyError(f'{name!r} is not one of the test media {list(fetch_test_media.MEDIA)}')
    path = fetch_test_media.media_dir() / name
    if not path.is_file():
        pytest.skip(f'{name} is not in {path.parent}: fetch the test media with '
                    f'`{fetch_test_media.FETCH_COMMAND}` (or `bash tools/setup_env.sh`)')
    return path


@pytest.fixture(scope='session')
def media() -> Callable[[str], Path]:
    """``media('bikes.mp4')`` -> the cached file; the test skips when it is missing."""
    return media_path


@pytest.fixture(scope='session')
def reds4_weights() -> Path:
    """The official ``BasicVSR_REDS4.pth`` (BasicSR layout, key ``params``)."""
    return media_path('BasicVSR_REDS4.pth')
