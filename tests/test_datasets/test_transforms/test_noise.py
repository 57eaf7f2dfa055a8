import numpy as np
import pytest
from scipy import stats

from mmrbvsr.datasets.transforms import RandomNoise, gaussian_noise, poisson_noise

PARAMS = dict(noise_type=['gaussian', 'poisson'], noise_prob=[0.5, 0.5], gaussian_sigma=[1, 30],
              gaussian_gray_noise_prob=0.4, poisson_scale=[0.05, 3], poisson_gray_noise_prob=0.4,
              gaussian_sigma_step=0.1, poisson_scale_step=0.005)


def test_gaussian_noise_level_is_sigma():
    img = np.full((256, 256, 3), 128, np.float32)
    out = gaussian_noise(img, 12.5, False, np.random.default_rng(0))
    assert out.dtype == np.float32
    assert abs((out - img).std() - 12.5) < 0.1 and abs((out - img).mean()) < 0.1


def test_poisson_noise_statistics():
    # one distinct value: vals = 1, noise = scale * (Poisson(x) - x): variance x scale^2
    img = np.full((256, 256, 3), 100, np.float32)
    out = poisson_noise(img, 0.5, False, np.random.default_rng(0))
    n = out - img
    assert abs(n.mean()) < 0.02 and abs(n.var() - 100 * 0.25) < 0.5
    # 200 distinct values: vals = 256, variance x scale^2 / 256
    img = np.tile(np.arange(200, dtype=np.float32), (1000, 1))[..., None].repeat(3, 2)
    n = poisson_noise(img, 2.0, False, np.random.default_rng(1)) - img
    var = n.reshape(1000, 200, 3).var(axis=(0, 2))
    np.testing.assert_allclose(var[50:], np.arange(50, 200) * 4 / 256, rtol=0.1)


@pytest.mark.parametrize('fn', [gaussian_noise, poisson_noise])
def test_gray_noise_is_equal_across_channels(fn, real_frames):
    img = real_frames[0].astype(np.float32)
    n = fn(img, 2.0, True, np.random.default_rng(0)) - img
    assert n.std() > 0.05
    # equal up to float32 rounding of (img + n) - img; colour noise differs by whole units
    np.testing.assert_allclose(n[..., 0], n[..., 1], atol=1e-4)
    np.testing.assert_allclose(n[..., 0], n[..., 2], atol=1e-4)
    n = fn(img, 2.0, False, np.random.default_rng(0)) - img
    assert np.abs(n[..., 0] - n[..., 1]).max() > 1


def test_levels_in_range_and_drift_bounded():
    t = RandomNoise(PARAMS, keys=['img'])
    rng = np.random.default_rng(0)
    kinds, grays = [], []
    for _ in range(2000):
        s = t.sample(30, rng)
        lo, hi = t.level[s['noise_type']]
        assert np.all((s['levels'] >= lo) & (s['levels'] <= hi))
        assert np.all(np.abs(np.diff(s['levels'])) <= t.step[s['noise_type']] + 1e-12)
        kinds.append(s['noise_type'])
        grays.append(s['gray'])
    assert abs(kinds.count('gaussian') / 2000 - 0.5) < 0.05
    assert abs(np.mean(grays) - 0.4) < 0.05


def test_transform_on_clip(real_frames):
    frames = [f.astype(np.float32) for f in real_frames[:5]]
    out = RandomNoise(PARAMS, keys=['img'])(dict(img=frames, rng=np.random.default_rng(2)))['img']
    assert len(out) == 5 and all(o.dtype == np.float32 for o in out)
    assert all(not np.array_equal(o, f) for o, f in zip(out, frames))


def test_bad_config_raises():
    with pytest.raises(ValueError, match='speckle'):
        RandomNoise(dict(PARAMS, noise_type=['gaussian', 'speckle']), keys=['img'])
    with pytest.raises(ValueError, match=r'\[30, 1\]'):
        RandomNoise(dict(PARAMS, gaussian_sigma=[30, 1]), keys=['img'])


def test_poisson_sampler_matches_exact_poisson():
    from mmrbvsr.datasets.transforms.noise import poisson_sample
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

    from mmrbvsr.datasets.transforms.noise import standard_normal
    cv2.setRNGSeed(7)
    x = standard_normal((300, 200, 3), np.random.default_rng(7), sampler)
    assert x.shape == (300, 200, 3) and x.dtype == np.float32
    assert abs(x.mean()) < 0.01 and abs(x.std() - 1) < 0.01
    assert stats.kstest(x.ravel()[::7], 'norm').pvalue > 1e-3
    # channels are independent (a flat fill, not one value per pixel)
    assert abs(np.corrcoef(x[..., 0].ravel(), x[..., 2].ravel())[0, 1]) < 0.01


@pytest.mark.parametrize('sampler', ['box_muller', 'opencv', 'numpy'])
def test_noise_reproducible_from_the_sample_generator(sampler, real_frames):
    noise = RandomNoise(dict(PARAMS, normal_sampler=sampler), keys=['img'])
    frames = [f.astype(np.float32) for f in real_frames[:3]]
    for seed in range(6):  # both noise types
        a = noise.degrade(frames, np.random.default_rng(seed))
        b = noise.degrade(frames, np.random.default_rng(seed))
        c = noise.degrade(frames, np.random.default_rng(seed + 100))
        assert all(np.array_equal(x, y) for x, y in zip(a, b))
        assert not all(np.array_equal(x, y) for x, y in zip(a, c))
        assert all(x.dtype == np.float32 for x in a)


def test_box_muller_closed_form():
    # the transform of the generator's own uniforms, in float64
    from mmrbvsr.datasets.transforms.noise import box_muller
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


def test_bad_normal_sampler_raises():
    with pytest.raises(ValueError, match='torch'):
        RandomNoise(dict(PARAMS, normal_sampler='torch'), keys=['img'])
