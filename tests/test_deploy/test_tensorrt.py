"""The TensorRT engine's profile (TensorRT itself is not installed in CI)."""
import pytest

from mmrbvsr.deploy.tensorrt import profile_shapes


def test_profile_shapes_are_min_opt_max_inputs():
    shapes = profile_shapes(frames=(2, 30, 30), height=(32, 180, 360), width=(32, 320, 640))
    assert shapes == ((1, 2, 3, 32, 32), (1, 30, 3, 180, 320), (1, 30, 3, 360, 640))


@pytest.mark.parametrize('kwargs,match', [
    (dict(frames=(2, 30, 10), height=(32, 64, 64), width=(32, 64, 64)), 'frames range'),
    (dict(frames=(1, 2, 3), height=(16, 64, 64), width=(32, 64, 64)), 'height range'),
    (dict(frames=(0, 2, 3), height=(32, 64, 64), width=(32, 64, 64)), 'frames range'),
])
def test_bad_profiles_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        profile_shapes(**kwargs)
