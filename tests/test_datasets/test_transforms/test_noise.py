import numpy as np
import pytest

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


def test_bad_normal_sampler_raises():
    with pytest.raises(ValueError, match='torch'):
        RandomNoise(dict(PARAMS, normal_sampler='torch'), keys=['img'])
