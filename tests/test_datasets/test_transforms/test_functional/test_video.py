"""Decoded PyAV frames as RGB arrays."""
import av
import numpy as np
from av.video.reformatter import VideoReformatter

from mmrbvsr.datasets.transforms.functional.video import rgb_array


def test_rgb_array_equals_to_ndarray():

    shared = VideoReformatter()  # one swscale context, re-made when the size changes
    for size in [(64, 64), (38, 62), (66, 130), (64, 64)]:
        x = np.random.default_rng(size[1]).integers(0, 256, (*size, 3), dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(x, format='rgb24').reformat(format='yuv420p')
        ref = frame.to_ndarray(format='rgb24')
        for out in (rgb_array(frame), rgb_array(frame, shared)):
            np.testing.assert_array_equal(out, ref)
            assert out.flags['OWNDATA']  # owns its pixels, no view of the PyAV frame
