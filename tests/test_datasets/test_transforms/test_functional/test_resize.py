"""Rounding float frames to uint8."""
import numpy as np

from mmrbvsr.datasets.transforms.functional.resize import to_uint8


def test_to_uint8_rounds_half_to_even_and_saturates():
    x = np.random.default_rng(0).uniform(-80, 340, (33, 17, 3)).astype(np.float32)
    x[0, :8, 0] = [0.5, 1.5, 2.5, -0.5, 254.5, 255.5, -1e6, 1e6]
    x[1, :7, 0] = [-0.0, 0.49999997, -0.49999997, 255.49998, 127.5, 128.5, 3.5]
    for img in (x, x[..., :1], x[..., 0], x.astype(np.float64)):
        out = to_uint8(img)
        assert out.shape == img.shape and out.dtype == np.uint8
        np.testing.assert_array_equal(out, np.clip(np.rint(img), 0, 255).astype(np.uint8))
