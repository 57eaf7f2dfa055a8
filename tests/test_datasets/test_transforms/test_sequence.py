import numpy as np
import pytest

from mmrbvsr.datasets.transforms import Clip, MirrorSequence


def test_mirror():
    frames = [np.full((2, 2, 3), i, np.uint8) for i in range(15)]
    out = MirrorSequence(keys=['gt', 'img'])(dict(gt=list(frames), img=list(frames)))
    for key in ('gt', 'img'):
        assert len(out[key]) == 30
        for i in range(30):
            assert out[key][i] is out[key][29 - i] or np.array_equal(out[key][i],
                                                                     out[key][29 - i])
        assert out[key][:15] == frames
    with pytest.raises(TypeError, match='ndarray'):
        MirrorSequence(keys=['gt'])(dict(gt=np.zeros((3, 2, 2, 3))))


@pytest.mark.parametrize('round_', [False, True])
def test_clip(round_):
    x = np.array([[[-3.2, 100.4, 300.0]]], np.float32)
    out = Clip(keys=['img'], round=round_)(dict(img=[x]))['img'][0]
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[[0, 100 if round_ else 100.4, 255]]], rtol=1e-6)
