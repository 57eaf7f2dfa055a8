import numpy as np
import pytest
from scipy import stats

from mmrbvsr.datasets.transforms import DegradationsWithShuffle


def _resize(h):
    return dict(type='RandomResize', params=dict(target_size=(h, h), resize_opt=['area'],
                                                 resize_prob=[1]))


def test_random_order_keeps_groups():
    # [resize 8] vs the group [resize 16, resize 6]: the final size tells the order
    t = DegradationsWithShuffle([_resize(8), [_resize(16), _resize(6)]], keys=['img'])
    rng = np.random.default_rng(0)
    finals = []
    for _ in range(400):
        out = t(dict(img=[np.zeros((32, 32, 3), np.float32)] * 2, rng=rng))['img']
        finals.append(out[0].shape[0])
    assert set(finals) == {6, 8}  # never 16: the group's order is kept
    assert stats.binomtest(finals.count(6), 400, 0.5).pvalue > 1e-3


def test_shuffle_idx_fixes_the_others():
    t = DegradationsWithShuffle([_resize(8), _resize(6), _resize(4)], keys=['img'],
                                shuffle_idx=[0, 1])
    rng = np.random.default_rng(0)
    for _ in range(20):
        out = t(dict(img=[np.zeros((32, 32, 3), np.float32)], rng=rng))['img']
        assert out[0].shape[:2] == (4, 4)
    with pytest.raises(ValueError, match='5'):
        DegradationsWithShuffle([_resize(8)], keys=['img'], shuffle_idx=[5])


def test_builds_our_classes():
    t = DegradationsWithShuffle([_resize(8), dict(type='mmrbvsr.Clip')], keys=['img'])
    assert [type(d).__module__.split('.')[0] for d in t.degradations] == ['mmrbvsr'] * 2
