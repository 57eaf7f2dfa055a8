import numpy as np
import pytest
from scipy import stats

from mmrbvsr.datasets.transforms import RandomResize

PARAMS = dict(resize_mode_prob=[0.2, 0.7, 0.1], resize_scale=[0.15, 1.5],
              resize_opt=['bilinear', 'area', 'bicubic'], resize_prob=[1 / 3.] * 3,
              resize_step=0.015, is_size_even=True)


def test_scales_in_range_drift_bounded_sizes_even():
    t = RandomResize(PARAMS, keys=['img'])
    rng = np.random.default_rng(0)
    first = []
    for _ in range(2000):
        s = t.sample(30, 256, 256, rng)
        sc = s['scales']
        assert np.all((sc >= 0.15) & (sc <= 1.5))
        assert np.all(np.abs(np.diff(sc)) <= 0.015 + 1e-12)
        for (h, w), k in zip(s['sizes'], sc):
            assert h % 2 == 0 and w % 2 == 0
            assert h == max(2, 2 * int(256 * k // 2))
        first.append(sc[0])
    first = np.array(first)
    # up / down / keep with p 0.2 / 0.7 / 0.1
    obs = [(first > 1).sum(), (first < 1).sum(), (first == 1).sum()]
    assert stats.chisquare(obs, 2000 * np.array([0.2, 0.7, 0.1])).pvalue > 1e-3


def test_frames_get_different_sizes_and_are_resized():
    frames = [np.full((64, 96, 3), 100, np.float32) for _ in range(30)]
    t = RandomResize(dict(PARAMS, resize_step=0.05, resize_mode_prob=[0, 1, 0]), keys=['img'])
    out = t(dict(img=frames, rng=np.random.default_rng(1)))['img']
    assert len(out) == 30 and len({o.shape for o in out}) > 1
    assert all(o.dtype == np.float32 and o.ndim == 3 for o in out)
    assert all(o.shape[0] <= 64 for o in out)
    np.testing.assert_allclose(out[5], 100, atol=1e-3)


def test_target_size_is_fixed():
    frames = [np.zeros((37, 53, 3), np.uint8)] * 5
    t = RandomResize(dict(target_size=(16, 24), resize_opt=['area'], resize_prob=[1]), ['img'])
    out = t(dict(img=frames))['img']
    assert {o.shape for o in out} == {(16, 24, 3)}


@pytest.mark.parametrize('bad, match', [
    (dict(resize_opt=['nearest', 'area', 'bicubic']), 'nearest'),
    (dict(resize_scale=[1.2, 1.5]), r'\[1.2, 1.5\]'),
    (dict(resize_mode_prob=[0.5, 0.5, 0.5]), 'probabilities'),
    (dict(target_size=(0, 4)), r'\(0, 4\)'),
])
def test_bad_config_raises(bad, match):
    with pytest.raises(ValueError, match=match):
        RandomResize(dict(PARAMS, **bad), keys=['img'])
