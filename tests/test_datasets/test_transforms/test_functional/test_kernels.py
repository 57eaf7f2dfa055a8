"""Blur kernels against closed forms and MMagic's."""
import numpy as np
import pytest
from scipy import integrate, special

from mmrbvsr.datasets.transforms.functional.kernels import (
    KERNEL_TYPES,
    circular_lowpass_kernel,
    make_kernel,
)


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


@pytest.mark.parametrize('kernel_type', KERNEL_TYPES)
@pytest.mark.parametrize('size', [7, 21])
def test_vectorised_kernels_equal_make_kernel(kernel_type, size):
    from mmrbvsr.datasets.transforms.functional.kernels import make_kernels
    rng = np.random.default_rng(size)
    p = dict(sigma_x=rng.uniform(0.2, 3, 5), sigma_y=rng.uniform(0.2, 3, 5),
             theta=rng.uniform(-np.pi, np.pi, 5), beta_gaussian=rng.uniform(0.5, 4, 5),
             beta_plateau=rng.uniform(1, 2, 5), omega=rng.uniform(np.pi / 5, np.pi, 5))
    ks = make_kernels(kernel_type, size, **p)
    assert ks.shape == (5, size, size) and ks.dtype == np.float32
    for i, k in enumerate(ks):
        ref = make_kernel(kernel_type, size, **{n: float(v[i]) for n, v in p.items()})
        np.testing.assert_allclose(k, ref, rtol=0, atol=1e-7)
