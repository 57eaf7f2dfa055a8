import cv2
import numpy as np
import pytest
from scipy import integrate, special, stats

from mmrbvsr.datasets.transforms import RandomBlur, circular_lowpass_kernel, make_kernel
from mmrbvsr.datasets.transforms.blur import KERNEL_TYPES

# the paper's first-order blur (MMagic's stage-1 config)
PARAMS = dict(
    kernel_size=[7, 9, 11, 13, 15, 17, 19, 21],
    kernel_list=list(KERNEL_TYPES),
    kernel_prob=[0.405, 0.225, 0.108, 0.027, 0.108, 0.027, 0.1],
    sigma_x=[0.2, 3], sigma_y=[0.2, 3], rotate_angle=[-3.1416, 3.1416],
    beta_gaussian=[0.5, 4], beta_plateau=[1, 2],
    sigma_x_step=0.02, sigma_y_step=0.02, rotate_angle_step=0.31416,
    beta_gaussian_step=0.05, beta_plateau_step=0.1, omega_step=0.0628)
STEPS = dict(sigma_x=0.02, sigma_y=0.02, rotate_angle=0.31416, beta_gaussian=0.05,
             beta_plateau=0.1, omega=0.0628)


def test_kernel_type_frequencies_match_probabilities():
    blur = RandomBlur(PARAMS, keys=['img'])
    rng = np.random.default_rng(0)
    n = 20000
    types = [blur.sample(1, rng)['kernel_type'] for _ in range(n)]
    observed = np.array([types.count(t) for t in KERNEL_TYPES])
    expected = n * np.array(PARAMS['kernel_prob'])
    assert stats.chisquare(observed, expected).pvalue > 1e-3
    # a wrong distribution is rejected by the same test
    assert stats.chisquare(observed, n * np.full(7, 1 / 7)).pvalue < 1e-6
    sizes = [blur.sample(1, rng)['kernel_size'] for _ in range(4000)]
    counts = np.array([sizes.count(k) for k in PARAMS['kernel_size']])
    assert stats.chisquare(counts).pvalue > 1e-3


def test_parameters_stay_in_range_and_drift_by_at_most_one_step():
    blur = RandomBlur(PARAMS, keys=['img'])
    rng = np.random.default_rng(1)
    seen = set()
    for _ in range(1500):
        s = blur.sample(30, rng)
        for name, values in s.items():
            if not isinstance(values, np.ndarray):
                continue
            seen.add(name)
            lo, hi = ((np.pi / 3 if s['kernel_size'] < 13 else np.pi / 5, np.pi)
                      if name == 'omega' else blur.ranges[name])
            assert np.all((values >= lo) & (values <= hi)), name
            assert np.all(np.abs(np.diff(values)) <= STEPS[name] + 1e-12), name
            assert np.any(np.diff(values) != 0), name  # it does drift
    assert seen == set(STEPS)


@pytest.mark.parametrize('kernel_type', KERNEL_TYPES)
@pytest.mark.parametrize('size', [7, 21])
def test_kernels_sum_to_one(kernel_type, size):
    k = make_kernel(kernel_type, size, sigma_x=1.3, sigma_y=2.1, theta=0.7, beta_gaussian=2.5,
                    beta_plateau=1.4, omega=1.2)
    assert k.shape == (size, size) and k.dtype == np.float32
    assert abs(float(k.sum(dtype=np.float64)) - 1) < 1e-5


def test_sinc_matches_closed_form_and_its_integral():
    omega, size = 1.7, 21
    k = circular_lowpass_kernel(size, omega)
    c = size // 2
    # closed form omega J1(omega r) / (2 pi r), normalised
    y, x = np.mgrid[:size, :size] - c
    r = np.hypot(x, y)
    with np.errstate(invalid='ignore', divide='ignore'):
        ref = omega * special.j1(omega * r) / (2 * np.pi * r)
    ref[c, c] = omega**2 / (4 * np.pi)
    np.testing.assert_allclose(k, ref / ref.sum(), rtol=1e-10, atol=1e-14)
    # independent: the inverse Fourier transform of a disc of radius omega,
    # h(r) = 1/(2 pi) int_0^omega J0(rho r) rho d rho
    for (i, j) in [(c, c), (c, c + 1), (c + 3, c + 4), (0, 0)]:
        rr = np.hypot(i - c, j - c)
        h = integrate.quad(lambda p, r=rr: special.j0(p * r) * p, 0, omega)[0] / (2 * np.pi)
        assert k[i, j] == pytest.approx(h / ref.sum(), rel=1e-7, abs=1e-12)


def test_kernels_match_mmagic():
    from mmagic.datasets.transforms import blur_kernels as bk
    sx, sy, th, size = 1.3, 2.1, 0.7, 15
    np.testing.assert_allclose(
        make_kernel('aniso', size, sx, sy, th), bk.bivariate_gaussian(size, sx, sy, th,
                                                                       is_isotropic=False),
        atol=1e-6)
    np.testing.assert_allclose(
        make_kernel('iso', size, sx), bk.bivariate_gaussian(size, sx, is_isotropic=True),
        atol=1e-6)
    np.testing.assert_allclose(
        make_kernel('generalized_aniso', size, sx, sy, th, beta_gaussian=2.5),
        bk.bivariate_generalized_gaussian(size, sx, sy, th, 2.5, is_isotropic=False), atol=1e-6)
    np.testing.assert_allclose(
        make_kernel('plateau_aniso', size, sx, sy, th, beta_plateau=1.4),
        bk.bivariate_plateau(size, sx, sy, th, 1.4, is_isotropic=False), atol=1e-6)
    np.random.seed(0)
    np.testing.assert_allclose(make_kernel('sinc', size, omega=1.2),
                               bk.random_circular_lowpass_kernel([1.2, 1.2], size), atol=1e-6)


def test_blur_applies_the_sampled_kernels(real_frames):
    frames = [f.astype(np.float32) for f in real_frames[:4]]
    for kernel_type in KERNEL_TYPES:
        params = dict(PARAMS, kernel_list=[kernel_type], kernel_prob=[1])
        blur = RandomBlur(params, keys=['img'])
        out = blur.degrade(frames, np.random.default_rng(3))
        sampled = blur.sample(4, np.random.default_rng(3))
        for i, (f, o, (k, sep)) in enumerate(zip(frames, out, blur.kernels(sampled))):
            if k is None:  # the separable path: the outer product is the iso Gaussian
                k = sep[1] @ sep[0].T
                np.testing.assert_allclose(
                    k, make_kernel('iso', sampled['kernel_size'], float(sampled['sigma_x'][i])),
                    atol=1e-7)
            np.testing.assert_allclose(o, cv2.filter2D(f, -1, k), atol=1e-2)
            assert o.dtype == np.float32
        assert not np.allclose(out[0], frames[0])


def test_prob_and_single_image():
    img = np.random.default_rng(0).uniform(0, 255, (16, 16, 3)).astype(np.float32)
    res = RandomBlur(dict(PARAMS, prob=0), keys=['img'])(dict(img=img))
    assert res['img'] is img
    res = RandomBlur(PARAMS, keys=['img'])(dict(img=img))
    assert isinstance(res['img'], np.ndarray) and res['img'].shape == img.shape


@pytest.mark.parametrize('bad, match', [
    (dict(kernel_size=[8]), '8'),
    (dict(kernel_prob=[0.5, 0.5]), 'probabilities'),
    (dict(kernel_list=['box'] + list(KERNEL_TYPES[1:])), 'box'),
    (dict(sigma_x=[3, 0.2]), r'\[3, 0.2\]'),
    (dict(prob=1.5), '1.5'),
])
def test_bad_config_raises(bad, match):
    with pytest.raises(ValueError, match=match):
        RandomBlur(dict(PARAMS, **bad), keys=['img'])


@pytest.mark.parametrize('kernel_type', KERNEL_TYPES)
@pytest.mark.parametrize('size', [7, 21])
def test_vectorised_kernels_equal_make_kernel(kernel_type, size):
    from mmrbvsr.datasets.transforms.blur import make_kernels
    rng = np.random.default_rng(size)
    p = dict(sigma_x=rng.uniform(0.2, 3, 5), sigma_y=rng.uniform(0.2, 3, 5),
             theta=rng.uniform(-np.pi, np.pi, 5), beta_gaussian=rng.uniform(0.5, 4, 5),
             beta_plateau=rng.uniform(1, 2, 5), omega=rng.uniform(np.pi / 5, np.pi, 5))
    ks = make_kernels(kernel_type, size, **p)
    assert ks.shape == (5, size, size) and ks.dtype == np.float32
    for i, k in enumerate(ks):
        ref = make_kernel(kernel_type, size, **{n: float(v[i]) for n, v in p.items()})
        np.testing.assert_allclose(k, ref, rtol=0, atol=1e-7)


@pytest.mark.parametrize('shape', [(256, 256, 3), (250, 270, 3), (256, 256), (256, 256, 1),
                                   (300, 200, 3), (40, 30, 3)])
@pytest.mark.parametrize('size', [7, 13, 21])
def test_filter_frame_equals_filter2d(shape, size):
    """The tiled large-kernel path gives cv2.filter2D's pixels exactly."""
    from mmrbvsr.datasets.transforms.blur import filter_frame, tiled_filter2d
    rng = np.random.default_rng(0)
    img = rng.uniform(0, 255, shape).astype(np.float32)
    k = make_kernel('aniso', size, 2.5, 0.7, 0.6)
    ref = cv2.filter2D(img, -1, k).reshape(shape)
    for out in (filter_frame(img, k), tiled_filter2d(img, k), tiled_filter2d(img, k, 48)):
        assert out.shape == shape and out.dtype == np.float32
        np.testing.assert_array_equal(out, ref)


def _family_kernels(kernel_type, size, n=3, seed=0):
    from mmrbvsr.datasets.transforms.blur import make_kernels
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
    from mmrbvsr.datasets.transforms.blur import (
        fft_filter2d,
        filter_fast,
        filter_plans,
        filter_separable,
    )
    kernels = _family_kernels(kernel_type, size, seed=size)
    img = np.random.default_rng(1).uniform(0, 255, shape).astype(np.float32)
    for k, (cropped, cols, rows) in zip(kernels, filter_plans([(k, None) for k in kernels])):
        ref = cv2.filter2D(img, -1, k).reshape(shape)
        for out in (filter_separable(img, cols, rows), fft_filter2d(img, cropped),
                    fft_filter2d(img, k), filter_fast(img, cropped, cols, rows)):
            assert out.shape == shape and out.dtype == np.float32
            assert np.abs(out - ref).max() < 2e-3


def test_fast_filter_isotropic_factors():
    """The isotropic Gaussian's 1-D factors, cropped, against its 2-D kernel."""
    from mmrbvsr.datasets.transforms.blur import filter_fast, filter_plans
    blur = RandomBlur(dict(PARAMS, kernel_list=['iso'], kernel_prob=[1]), keys=['img'])
    img = np.random.default_rng(2).uniform(0, 255, (70, 90, 3)).astype(np.float32)
    for seed in range(4):
        kernels = blur.kernels(blur.sample(3, np.random.default_rng(seed)))
        for (_, (kx, ky)), plan in zip(kernels, filter_plans(kernels)):
            assert plan[0] is None and len(plan[1]) == 1
            ref = cv2.filter2D(img, -1, ky @ kx.T)
            assert np.abs(filter_fast(img, *plan) - ref).max() < 2e-3


def test_fast_filter_orientation_on_asymmetric_kernels():
    """filter2D correlates (no kernel flip); the separable and DFT paths must too."""
    from mmrbvsr.datasets.transforms.blur import fft_filter2d, filter_separable, separable_terms
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
    from mmrbvsr.datasets.transforms.blur import separable_terms
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
    from mmrbvsr.datasets.transforms.blur import CROP_TOL, crop_kernels
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
    from mmrbvsr.datasets.transforms.blur import dft_size
    m = dft_size(n)
    assert m >= n and m % 8 == 0 and cv2.getOptimalDFTSize(m) == m
    assert m < 1.25 * n + 8
