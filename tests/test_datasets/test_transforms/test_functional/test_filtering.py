"""The filtering engine: every method equals cv2.filter2D."""
import cv2
import numpy as np
import pytest

from mmrbvsr.datasets.transforms.functional.filtering import (
    CROP_TOL,
    crop_kernels,
    dft_size,
    fft_filter2d,
    filter_fast,
    filter_frame,
    filter_plans,
    filter_separable,
    separable_terms,
    tiled_filter2d,
)
from mmrbvsr.datasets.transforms.functional.kernels import KERNEL_TYPES, make_kernel, make_kernels


@pytest.mark.parametrize('shape', [(256, 256, 3), (250, 270, 3), (256, 256), (256, 256, 1),
                                   (300, 200, 3), (40, 30, 3)])
@pytest.mark.parametrize('size', [7, 13, 21])
def test_filter_frame_equals_filter2d(shape, size):
    """The tiled large-kernel path gives cv2.filter2D's pixels exactly."""
    rng = np.random.default_rng(0)
    img = rng.uniform(0, 255, shape).astype(np.float32)
    k = make_kernel('aniso', size, 2.5, 0.7, 0.6)
    ref = cv2.filter2D(img, -1, k).reshape(shape)
    for out in (filter_frame(img, k), tiled_filter2d(img, k), tiled_filter2d(img, k, 48)):
        assert out.shape == shape and out.dtype == np.float32
        np.testing.assert_array_equal(out, ref)


def _family_kernels(kernel_type, size, n=3, seed=0):
    rng = np.random.default_rng(seed)
    return make_kernels(kernel_type, size, sigma_x=rng.uniform(0.2, 3, n),
                        sigma_y=rng.uniform(0.2, 3, n), theta=rng.uniform(-np.pi, np.pi, n),
                        beta_gaussian=rng.uniform(0.5, 4, n), beta_plateau=rng.uniform(1, 2, n),
                        omega=rng.uniform(np.pi / 5, np.pi, n))


@pytest.mark.parametrize('kernel_type', KERNEL_TYPES)
@pytest.mark.parametrize('size', [7, 13, 21])
@pytest.mark.parametrize('shape', [(256, 256, 3), (64, 64, 3), (37, 50, 3), (9, 7, 3),
                                   (30, 40), (20, 20, 1)])
def test_fast_filter_methods_equal_filter2d(kernel_type, size, shape):
    """Cropping, the separable terms and the DFT each stay within 2e-3 (0-255 frames) of
    cv2.filter2D with the full kernel; filter_fast returns one of them."""
    kernels = _family_kernels(kernel_type, size, seed=size)
    img = np.random.default_rng(1).uniform(0, 255, shape).astype(np.float32)
    for k, (cropped, cols, rows) in zip(kernels, filter_plans([(k, None) for k in kernels])):
        ref = cv2.filter2D(img, -1, k).reshape(shape)
        for out in (filter_separable(img, cols, rows), fft_filter2d(img, cropped),
                    fft_filter2d(img, k), filter_fast(img, cropped, cols, rows)):
            assert out.shape == shape and out.dtype == np.float32
            assert np.abs(out - ref).max() < 2e-3


def test_fast_filter_orientation_on_asymmetric_kernels():
    """filter2D correlates (no kernel flip); the separable and DFT paths must too."""
    rng = np.random.default_rng(3)
    img = rng.uniform(0, 255, (40, 50, 3)).astype(np.float32)
    shift = np.zeros((5, 7), np.float32)
    shift[0, 6] = 1  # out[y, x] = img[y - 2, x + 3] inside the frame
    dense = rng.uniform(-1, 1, (7, 5)).astype(np.float32)
    for k in (shift, dense):
        ref = cv2.filter2D(img, -1, k)
        (cols, rows), = separable_terms(k[None], tol=1e-7)
        assert np.abs(filter_separable(img, cols, rows) - ref).max() < 2e-3
        assert np.abs(fft_filter2d(img, k) - ref).max() < 2e-3
        # a flipped kernel (convolution) is far off
        assert np.abs(cv2.filter2D(img, -1, k[::-1, ::-1].copy()) - ref).max() > 10
    np.testing.assert_allclose(filter_separable(img, *separable_terms(shift[None])[0])[2:, :-3],
                               img[:-2, 3:], atol=1e-3)


def test_separable_rank_selection():
    """The fewest terms whose dropped singular values are <= tol of the Frobenius norm."""
    rng = np.random.default_rng(4)
    u, _ = np.linalg.qr(rng.standard_normal((9, 9)))
    v, _ = np.linalg.qr(rng.standard_normal((9, 9)))
    s = np.array([1, 0.1, 1e-3, 1e-8, 0, 0, 0, 0, 0])
    k = ((u * s) @ v.T).astype(np.float32)
    for tol, rank in [(1e-6, 3), (1e-2, 2), (0.5, 1), (1e-12, 9)]:
        (cols, rows), = separable_terms(k[None], tol)
        assert cols.shape == (rank, 9, 1) and rows.shape == (rank, 1, 9)
        approx = np.einsum('rij,rjk->ik', cols.astype(np.float64), rows.astype(np.float64))
        if tol > 1e-7:  # (float32 factors: 1e-7 relative)
            assert np.linalg.norm(approx - k) <= tol * np.linalg.norm(k)
    # an isotropic Gaussian is one term, an anisotropic rotated one several
    assert len(separable_terms(make_kernel('iso', 21, 2.0)[None])[0][0]) == 1
    assert len(separable_terms(make_kernel('aniso', 21, 3.0, 0.5, 0.7)[None])[0][0]) > 3


def test_crop_kernels():
    narrow = np.stack([make_kernel('aniso', 21, 0.8, 0.5, 0.3),
                       make_kernel('aniso', 21, 1.0, 0.5, 0.3)])
    cropped = crop_kernels(narrow)
    h, w = cropped.shape[1:]
    assert h % 2 == 1 and w % 2 == 1 and h < 21 and w < 21  # centred, odd, smaller
    ry, rx = (21 - h) // 2, (21 - w) // 2
    for k, c in zip(narrow, cropped):
        np.testing.assert_array_equal(c, k[ry:21 - ry, rx:21 - rx])
        assert np.abs(k).sum(dtype=np.float64) - np.abs(c).sum(dtype=np.float64) <= CROP_TOL
    # the wider kernel sets the crop; heavy tails (plateau, sinc) are not cropped
    assert crop_kernels(narrow[1:]).shape == (1, h, w)
    assert crop_kernels(make_kernel('plateau_iso', 21, 1.0)[None]).shape == (1, 21, 21)
    assert crop_kernels(make_kernel('sinc', 21, omega=1.0)[None]).shape == (1, 21, 21)


@pytest.mark.parametrize('n', [1, 7, 60, 74, 200, 266, 376])
def test_dft_size(n):
    m = dft_size(n)
    assert m >= n and m % 8 == 0 and cv2.getOptimalDFTSize(m) == m
    assert m < 1.25 * n + 8
