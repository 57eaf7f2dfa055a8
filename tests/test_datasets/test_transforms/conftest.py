import glob
import os

import cv2
import numpy as np
import pytest


@pytest.fixture(scope='session')
def real_frames(shared_dir) -> list:
    """15 real RGB uint8 frames, 256x256 crops of the RealBasicVSR demo clip."""
    paths = sorted(glob.glob(os.path.join(shared_dir, 'data', 'realbasicvsr_demo_000',
                                          '*.png')))[:15]
    assert len(paths) == 15
    return [np.ascontiguousarray(cv2.cvtColor(cv2.imread(p), cv2.COLOR_BGR2RGB)[52:308, 192:448])
            for p in paths]
