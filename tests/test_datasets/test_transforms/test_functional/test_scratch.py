import threading

import numpy as np

from mmrbvsr.datasets.transforms.functional import scratch as scratch_module
from mmrbvsr.datasets.transforms.functional.scratch import MAX_SHAPES, scratch


def test_reused_per_tag_and_shape():
    a, b = scratch((5, 7), 2, 'x')
    assert a.shape == (5, 7) and a.dtype == np.float32 and a is not b
    assert scratch((5, 7), 2, 'x')[1] is b and scratch((5, 7), 1, 'x')[0] is a
    assert scratch((5, 7), 1, 'y')[0] is not a  # another tag, other arrays
    assert scratch((5, 7), 3, 'x')[:2] == [a, b]  # grows, keeps the first ones


def test_least_recently_used_shape_is_dropped():
    scratch_module._local.arrays = {}
    kept = scratch((3, 3), 1, 'kept')[0]
    first = scratch((4, 1), 1)[0]
    for i in range(MAX_SHAPES + 5):
        scratch((4, i + 1), 1)
        assert scratch((3, 3), 1, 'kept')[0] is kept  # used every time: never dropped
    assert len(scratch_module._local.arrays) == MAX_SHAPES
    assert ('', (4, 1)) not in scratch_module._local.arrays
    assert scratch((4, 1), 1)[0] is not first  # dropped long ago: a new array


def test_per_thread():
    mine = scratch((6, 6), 1, 't')[0]
    other = []
    th = threading.Thread(target=lambda: other.append(scratch((6, 6), 1, 't')[0]))
    th.start()
    th.join()
    assert other[0] is not mine


def test_flat_grows_and_reuses():
    from mmrbvsr.datasets.transforms.functional.scratch import flat
    a = flat(10, 'f')
    assert a.shape == (10,) and a.dtype == np.float32
    b = flat(8, 'f')
    assert np.shares_memory(a, b)  # the same buffer, a shorter view
    c = flat(1000, 'f')
    assert c.shape == (1000,) and not np.shares_memory(a, c)  # grown: a new buffer
    assert np.shares_memory(flat(12, 'f'), c) and not np.shares_memory(flat(12, 'g'), c)
