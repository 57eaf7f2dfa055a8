import cv2
import numpy as np
import pytest

from mmrbvsr.datasets.transforms.functional import banded
from mmrbvsr.datasets.transforms.functional.sharpen import _unsharp_mask_opencv, unsharp_mask

GAUSS51 = cv2.getGaussianKernel(51, 0).astype(np.float32)


@pytest.mark.parametrize('shape', [(256, 256, 3), (97, 130, 3), (40, 300), (26, 26, 1),
                                   (64, 48, 4), (300, 33, 2)])
@pytest.mark.parametrize('ksize', [51, 7])
def test_separable_filter_equals_opencv(shape, ksize):
    kernel = GAUSS51 if ksize == 51 else np.float32([[.05], [.1], [.2], [.3], [.2], [.1], [.05]])
    if min(shape[:2]) <= ksize // 2:
        pytest.skip('one reflection only')
    img = np.random.default_rng(0).uniform(0, 255, shape).astype(np.float32)
    assert banded.usable(img, kernel)
    ref = cv2.sepFilter2D(img, cv2.CV_32F, kernel, kernel).reshape(shape)
    out = banded.separable_filter(img, kernel)
    assert out.shape == shape and out.dtype == np.float32
    np.testing.assert_allclose(out, ref, atol=2e-3)
    # in place, and a second frame of the same shape reuses the scratch arrays
    img2 = img[::-1].copy()
    np.testing.assert_allclose(banded.separable_filter(img2, kernel, out=img2),
                               cv2.sepFilter2D(img[::-1].copy(), cv2.CV_32F, kernel,
                                               kernel).reshape(shape), atol=2e-3)


def test_usable():
    assert not banded.usable(np.zeros((25, 100, 3), np.float32), GAUSS51)  # radius 25
    assert not banded.usable(np.zeros((64, 64, 5), np.float32), GAUSS51)
    assert banded.usable(np.zeros((26, 100), np.float32), GAUSS51)


@pytest.mark.parametrize('shape', [(256, 256, 3), (70, 90, 3), (20, 64, 3)])
def test_unsharp_mask_banded_equals_opencv_path(real_frames, shape):
    h, w = shape[:2]
    img = np.ascontiguousarray(real_frames[0][:h, :w])
    out = unsharp_mask(img, GAUSS51, 0.5, 10)
    ref = _unsharp_mask_opencv(img, GAUSS51, 0.5, 10)
    assert out.shape == img.shape and out.dtype == np.float32
    # a residue within float error of the threshold may flip a mask pixel (~1e-2)
    assert np.abs(out - ref).max() < 2e-2 and np.mean(np.abs(out - ref) > 1e-3) < 1e-4
    assert np.abs(out - img).max() > 5
    # the output is a new array each call, not a reused scratch frame
    assert not np.shares_memory(out, unsharp_mask(img, GAUSS51, 0.5, 10))
