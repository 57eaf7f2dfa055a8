"""Noise samplers against exact distributions and closed forms."""
import numpy as np
import pytest
from scipy import stats

from mmrbvsr.datasets.transforms.functional.noise import (
    box_muller,
    poisson_sample,
    standard_normal,
)


def test_poisson_sampler_matches_exact_poisson():
    rng = np.random.default_rng(3)
    for lam in (1000., 1500., 40000.):  # the normal approximation starts at 1000
        lam_arr = np.full(200000, lam, np.float32)
        approx = poisson_sample(lam_arr, rng)
        exact = rng.poisson(lam, 200000)
        assert np.all(approx == np.rint(approx))
        assert abs(approx.mean() - lam) < 4 * np.sqrt(lam / 200000)
        assert abs(approx.var() / lam - 1) < 0.02
        assert stats.ks_2samp(approx, exact).pvalue > 1e-3
    small = np.full(1000, 3., np.float32)  # exact below the threshold: a Poisson support
    s = poisson_sample(small, rng)
    assert s.min() >= 0 and np.all(s == np.rint(s)) and abs(s.mean() - 3) < 0.3


@pytest.mark.parametrize('sampler', ['box_muller', 'opencv', 'numpy'])
def test_normal_samplers_are_standard_normal(sampler):
    import cv2

    cv2.setRNGSeed(7)
    x = standard_normal((300, 200, 3), np.random.default_rng(7), sampler)
    assert x.shape == (300, 200, 3) and x.dtype == np.float32
    assert abs(x.mean()) < 0.01 and abs(x.std() - 1) < 0.01
    assert stats.kstest(x.ravel()[::7], 'norm').pvalue > 1e-3
    # channels are independent (a flat fill, not one value per pixel)
    assert abs(np.corrcoef(x[..., 0].ravel(), x[..., 2].ravel())[0, 1]) < 0.01


def test_box_muller_closed_form():
    # the transform of the generator's own uniforms, in float64
    x = box_muller(100001, np.random.default_rng(5))
    u = np.random.default_rng(5).random(100002, dtype=np.float32).astype(np.float64)
    r, theta = np.sqrt(-2 * np.log(1 - u[:50001])), 2 * np.pi * u[50001:]
    ref = np.concatenate([r * np.cos(theta), r * np.sin(theta)])[:100001]
    assert x.dtype == np.float32 and x.shape == (100001, )
    np.testing.assert_allclose(x, ref, rtol=0, atol=2e-5)
    # the largest possible |x| (u = 1 - 2^-24) and a million draws against N(0, 1)
    big = box_muller(10**6, np.random.default_rng(6))
    assert np.abs(big).max() <= np.sqrt(48 * np.log(2)) + 1e-5
    assert stats.kstest(big[::3], 'norm').pvalue > 1e-3
    assert abs(stats.kurtosis(big)) < 0.02  # excess kurtosis of N(0, 1): 0
    assert abs(np.corrcoef(big[:-1], big[1:])[0, 1]) < 0.005
