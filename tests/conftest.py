import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get('MMRBVSR_SHARED', REPO.parent / 'shared'))


@pytest.fixture(scope='session')
def shared_dir() -> Path:
    assert SHARED.is_dir(), f'../shared not found at {SHARED} (set MMRBVSR_SHARED)'
    return SHARED
