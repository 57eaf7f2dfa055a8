import cv2
import numpy as np
import pytest
from scipy import stats

from mmrbvsr.datasets.transforms import RandomBlur, make_kernel
from mmrbvsr.datasets.transforms.functional.filtering import filter_fast, filter_plans
from mmrbvsr.datasets.transforms.functional.kernels import KERNEL_TYPES

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


def test_fast_filter_isotropic_factors():
    """The isotropic Gaussian's 1-D factors, cropped, against its 2-D kernel."""
    blur = RandomBlur(dict(PARAMS, kernel_list=['iso'], kernel_prob=[1]), keys=['img'])
    img = np.random.default_rng(2).uniform(0, 255, (70, 90, 3)).astype(np.float32)
    for seed in range(4):
        kernels = blur.kernels(blur.sample(3, np.random.default_rng(seed)))
        for (_, (kx, ky)), plan in zip(kernels, filter_plans(kernels)):
            assert plan[0] is None and len(plan[1]) == 1
            ref = cv2.filter2D(img, -1, ky @ kx.T)
            assert np.abs(filter_fast(img, *plan) - ref).max() < 2e-3
