import cv2
import numpy as np
import pytest

from tests.conftest import DEMO_FRAMES


@pytest.fixture(scope='session')
def real_frames() -> list:
    """15 real RGB uint8 frames, 256x256 crops of the RealBasicVSR demo clip."""
    paths = sorted(DEMO_FRAMES.glob('*.png'))
    assert len(paths) == 15
    return [np.ascontiguousarray(cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB)[:256, :256])
            for p in paths]
