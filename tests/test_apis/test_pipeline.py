"""The background reader and writer of restore_stream, and the YUV conversion on the device."""
import threading
import time
from fractions import Fraction

import numpy as np
import pytest
import torch

from mmrbvsr.apis import VideoIOError, VideoRestorer, open_source
from mmrbvsr.apis.pipeline import (
    BackgroundIterator,
    BackgroundWriter,
    restore_stream,
    rgb_to_yuv420p,
)
from mmrbvsr.apis.video_io import VideoFileSink

from .conftest import NearestX4, random_frames, write_video


def our_threads() -> list:
    return [t.name for t in threading.enumerate() if t.name.startswith('mmrbvsr-')]


def settle(counter: list, seconds: float = 0.3) -> int:
    """The value of ``counter[0]`` once it has stopped changing."""
    last = -1
    while counter[0] != last:
        last = counter[0]
        time.sleep(seconds)
    return last


def test_reader_reads_ahead_at_most_capacity():
    consumed = [0]

    def source():
        for i in range(100):
            consumed[0] += 1
            yield i

    with BackgroundIterator(source(), capacity=5) as items:
        assert settle(consumed) == 6  # 5 buffered, 1 waiting for room, nothing taken yet
        assert [next(items) for _ in range(3)] == [0, 1, 2]
        assert settle(consumed) == 9
        assert list(items) == list(range(3, 100))
    assert our_threads() == []


def test_reader_hands_on_the_error_after_the_frames_before_it():
    closed = []

    def source():
        try:
            yield from range(3)
            raise VideoIOError("'x.mp4' is corrupt or truncated: decoding failed after 3 frames")
        finally:
            closed.append(threading.current_thread().name)

    with BackgroundIterator(source(), capacity=2) as items:
        got = []
        with pytest.raises(VideoIOError, match='decoding failed after 3 frames'):
            for item in items:
                got.append(item)
    assert got == [0, 1, 2]
    assert closed == ['mmrbvsr-reader']  # the generator is closed where it ran
    assert our_threads() == []


def test_reader_stops_when_closed_early():
    closed = []

    def endless():
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.append(True)

    with BackgroundIterator(endless(), capacity=3) as items:
        assert next(items) == 0
    assert closed == [True] and our_threads() == []


def test_writer_writes_in_order_and_raises_its_error():
    written = []
    with BackgroundWriter(written.append, capacity=2) as writer:
        for i in range(20):
            writer.put(i)
    assert written == list(range(20)) and our_threads() == []

    def failing(item):
        if item == 3:
            raise VideoIOError('cannot write frame 3')
        written.append(item)

    written.clear()
    with pytest.raises(VideoIOError, match='cannot write frame 3'):
        with BackgroundWriter(failing, capacity=2) as writer:
            for i in range(50):
                writer.put(i)
    assert written == [0, 1, 2] and our_threads() == []


def test_writer_holds_at_most_capacity():
    gate = threading.Event()
    written = []

    def slow(item):
        gate.wait()
        written.append(item)

    writer = BackgroundWriter(slow, capacity=4)
    done = []
    feeder = threading.Thread(target=lambda: [writer.put(i, 2) or done.append(i)
                                              for i in range(10)])
    feeder.start()
    time.sleep(0.5)
    assert len(done) == 2  # two items of weight 2 queued (one of them being written)
    gate.set()
    feeder.join()
    writer.finish()
    assert written == list(range(10)) and our_threads() == []


@pytest.fixture
def clip(tmp_path):
    return write_video(tmp_path / 'in.mp4', random_frames(23, 32, 32), audio_seconds=0.9)


def test_restore_stream_errors_stop_both_threads(clip, tmp_path):
    restorer = VideoRestorer(NearestX4(), window=6, overlap=2, batch_windows=2)

    def interrupt(num):  # Ctrl-C in the main thread, while both threads work
        raise KeyboardInterrupt

    sink = VideoFileSink(tmp_path / 'out.mp4', 25, preset='ultrafast')
    with pytest.raises(KeyboardInterrupt):
        with sink:
            restore_stream(restorer, open_source(clip), sink, interrupt)
    assert our_threads() == [] and not (tmp_path / 'out.mp4').exists()

    def source():  # Ctrl-C while decoding
        yield from random_frames(8, 32, 32)
        raise KeyboardInterrupt

    sink = VideoFileSink(tmp_path / 'out.mp4', 25, preset='ultrafast')
    with pytest.raises(KeyboardInterrupt):
        with sink:
            restore_stream(restorer, source(), sink)
    assert our_threads() == [] and not (tmp_path / 'out.mp4').exists()

    class FailingSink(VideoFileSink):
        def write(self, frame):
            if self._count == 5:
                raise VideoIOError('disk full after 5 frames')
            super().write(frame)

    with pytest.raises(VideoIOError, match='disk full after 5 frames'):
        with FailingSink(tmp_path / 'out.mp4', 25, preset='ultrafast') as sink:
            restore_stream(restorer, open_source(clip), sink)
    assert our_threads() == [] and not (tmp_path / 'out.mp4').exists()


def swscale_yuv420p(frame: np.ndarray) -> np.ndarray:
    import av
    return av.VideoFrame.from_ndarray(frame, format='rgb24').reformat(
        format='yuv420p').to_ndarray()


@pytest.mark.parametrize('h, w', [(32, 32), (46, 70)])
def test_yuv420p_matches_swscale(h, w):
    import cv2
    noisy = random_frames(2, h, w, seed=7)
    frames = noisy + [cv2.GaussianBlur(f, (0, 0), 2) for f in noisy]
    ours = rgb_to_yuv420p(torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2))
    assert ours.shape == (4, h * 3 // 2, w) and ours.dtype == torch.uint8
    for frame, yuv in zip(frames, ours.numpy()):
        diff = np.abs(yuv.astype(int) - swscale_yuv420p(frame).astype(int))
        assert diff.max() <= 1 and diff.mean() < 0.15, (diff.max(), diff.mean())
    with pytest.raises(ValueError, match='even frame size, got 33x32'):
        rgb_to_yuv420p(torch.zeros(1, 3, 32, 33, dtype=torch.uint8))


def decoded_yuv(path) -> list:
    import av
    with av.open(str(path)) as container:
        return [f.to_ndarray() for f in container.decode(video=0)]


def test_device_yuv_path_writes_the_same_video(clip, tmp_path):
    # lossless x264 (crf 0): the decoded planes are what each path handed to the encoder
    outs = {}
    for device_yuv in (False, True):
        restorer = VideoRestorer(NearestX4(), window=6, overlap=2, batch_windows=3)
        out = tmp_path / f'{device_yuv}.mp4'
        with VideoFileSink(out, Fraction(25), crf=0, preset='ultrafast',
                           audio_from=str(clip)) as sink:
            count, size = restore_stream(restorer, open_source(clip), sink,
                                         device_yuv=device_yuv)
        assert (count, size) == (23, (128, 128))
        outs[device_yuv] = decoded_yuv(out)
    assert len(outs[False]) == len(outs[True]) == 23
    for a, b in zip(outs[False], outs[True]):
        assert np.abs(a.astype(int) - b.astype(int)).max() <= 1


def test_sink_refuses_a_prepared_frame_of_another_format(tmp_path):
    import av
    sink = VideoFileSink(tmp_path / 'out.mp4', 25)
    with pytest.raises(VideoIOError, match='prepared frame must be yuv420p, got rgb24'):
        with sink:
            sink.write(av.VideoFrame(32, 32, 'rgb24'))
    assert not (tmp_path / 'out.mp4').exists()
