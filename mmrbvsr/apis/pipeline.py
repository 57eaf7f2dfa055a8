"""Decoding, restoration and encoding overlapped: background threads with bounded queues.

:func:`restore_stream` decodes the input in one background thread, restores in the calling
thread and encodes in another background thread, so that the generator does not wait for the
codec and the codec does not wait for the generator. The queues between them are bounded (a
batch of windows ahead at most), so memory stays bounded by the restorer's batch, not by the
video. An exception in either thread reaches the caller as it was raised (same type and
message); on any error or ``KeyboardInterrupt`` both threads are stopped and joined before
the call returns, so no thread is left running.

On a GPU with a ``yuv420p`` video output at the model's size, the frames are quantized,
converted to YUV 4:2:0 (BT.601, limited range: what FFmpeg's swscale writes by default) and
copied to pinned host memory on the GPU, asynchronously on a side stream; the encoder thread
then hands them to the encoder as they are. On a CPU the RGB frames of
:meth:`VideoRestorer.restore_frames` are encoded as usual.
"""
import threading
import time
from collections import deque
from typing import Any, Callable, Iterable, Iterator, Optional, Tuple, Union

import numpy as np
import torch
from torch import Tensor

from .video_io import FrameSink, VideoFileSink

CONVERT_PIXELS = 2**24  # output pixels quantized and converted to YUV at once
_POLL = 0.1  # seconds a blocked thread waits before it looks at the stop flag again
_DONE = object()


class BackgroundIterator:
    """Iterates ``iterable`` in a background thread, at most ``capacity`` items ahead.

    Use as a context manager (or call :meth:`close`): leaving it stops the thread, which then
    closes the iterator it was reading (a generator's ``finally`` runs in that thread).

    Args:
        iterable (Iterable): What to read ahead, e.g. a :class:`FrameSource`.
        capacity (int | callable): Most items buffered; a callable is asked again before each
            item (so a consumer may raise it once it knows its batch size).
        name (str): The thread's name.

    Raises:
        Exception: Whatever iterating ``iterable`` raised, re-raised by ``next()`` once the
            items before it are consumed.
    """

    def __init__(self, iterable: Iterable, capacity: Union[int, Callable[[], int]] = 64,
                 name: str = 'mmrbvsr-reader') -> None:
        self._capacity = capacity if callable(capacity) else (lambda: capacity)
        self._items: deque = deque()
        self._cond = threading.Condition()
        self._stop = False
        self._error: Optional[BaseException] = None
        self._done = False
        self.waited = 0.0  # seconds the consumer waited for items
        self._thread = threading.Thread(target=self._run, args=(iter(iterable), ), name=name,
                                        daemon=True)
        self._thread.start()

    def _run(self, iterator: Iterator) -> None:
        try:
            for item in iterator:
                with self._cond:
                    while not self._stop and len(self._items) >= max(1, self._capacity()):
                        self._cond.wait(_POLL)
                    if self._stop:
                        return
                    self._items.append(item)
                    self._cond.notify_all()
        except BaseException as e:  # noqa: B036 - handed to the consumer
            with self._cond:
                self._error = e
        finally:
            close = getattr(iterator, 'close', None)
            if close is not None:
                try:
                    close()
                except Exception:  # an error while stopping must not hide the first one
                    pass
            with self._cond:
                self._done = True
                self._cond.notify_all()

    def __iter__(self) -> 'BackgroundIterator':
        return self

    def __next__(self) -> Any:
        with self._cond:
            if not self._items and not self._done:
                start = time.perf_counter()
                while not self._items and not self._done:
                    self._cond.wait(_POLL)
                self.waited += time.perf_counter() - start
            if self._items:
                item = self._items.popleft()
                self._cond.notify_all()
                return item
            if self._error is not None:
                error, self._error = self._error, None
                raise error
            raise StopIteration

    def close(self) -> None:
        """Stops the thread and waits for it (it finishes the item it is reading first)."""
        with self._cond:
            self._stop = True
            self._items.clear()
            self._cond.notify_all()
        while self._thread.is_alive():
            self._thread.join(_POLL)

    def __enter__(self) -> 'BackgroundIterator':
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class BackgroundWriter:
    """Calls ``write(item)`` in a background thread for each item put, in order.

    Use as a context manager: a clean exit waits until every item is written (and raises
    the writer's error, if any); an exception stops the thread after the item it is writing.

    Args:
        write (callable): Called with each item, in the background thread.
        capacity (int | callable): Most weight (e.g. frames) waiting to be written;
            :meth:`put` blocks beyond, unless the queue is empty.
        name (str): The thread's name.
    """

    def __init__(self, write: Callable[[Any], None],
                 capacity: Union[int, Callable[[], int]] = 64,
                 name: str = 'mmrbvsr-writer') -> None:
        self._write = write
        self._capacity = capacity if callable(capacity) else (lambda: capacity)
        self._items: deque = deque()  # (item, weight)
        self._weight = 0
        self._cond = threading.Condition()
        self._stop = False
        self._error: Optional[BaseException] = None
        self.waited = 0.0  # seconds put() waited for room
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._items and not self._stop:
                    self._cond.wait(_POLL)
                if self._stop:
                    return
                item, weight = self._items[0]
            if item is _DONE:
                return
            try:
                self._write(item)
            except BaseException as e:  # noqa: B036 - handed to the caller
                with self._cond:
                    self._error = e
                    self._stop = True
                    self._items.clear()
                    self._weight = 0
                    self._cond.notify_all()
                return
            with self._cond:  # dequeued once written: the weight bounds what is held
                if self._stop:  # closed while writing: the queue was dropped
                    return
                self._items.popleft()
                self._weight -= weight
                self._cond.notify_all()

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def put(self, item: Any, weight: int = 1) -> None:
        """Queues ``item``; blocks while the queue is full; raises the writer's error."""
        with self._cond:
            start = time.perf_counter()
            while (not self._stop and item is not _DONE and self._items
                   and self._weight + weight > self._capacity()):
                self._cond.wait(_POLL)
            self.waited += time.perf_counter() - start
            self._raise()
            if self._stop:
                raise RuntimeError('the writer thread has stopped')
            self._items.append((item, weight))
            self._weight += weight
            self._cond.notify_all()

    def finish(self) -> None:
        """Waits until every queued item is written; raises the writer's error, if any."""
        if self._thread.is_alive() and not self._stop:
            self.put(_DONE, 0)
        while self._thread.is_alive():
            self._thread.join(_POLL)
        with self._cond:
            self._raise()

    def close(self) -> None:
        """Stops the thread after the item it is writing (dropping the rest) and waits."""
        with self._cond:
            self._stop = True
            self._items.clear()
            self._weight = 0
            self._cond.notify_all()
        while self._thread.is_alive():
            self._thread.join(_POLL)

    def __enter__(self) -> 'BackgroundWriter':
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.finish()
        else:
            self.close()


# BT.601 limited range, the matrix swscale uses for RGB -> YUV by default
_Y = (65.481, 128.553, 24.966)
_U = (-37.797, -74.203, 112.0)
_V = (112.0, -93.786, -18.214)


_coefficients = {}


def _yuv_coefficients(device: torch.device) -> Tensor:
    # made once per device: a tensor made from a list is a synchronizing upload on a GPU
    coef = _coefficients.get(device)
    if coef is None:
        coef = _coefficients[device] = torch.tensor([_Y, _U, _V], device=device) / 255
    return coef


def rgb_to_yuv420p(rgb: Tensor) -> Tensor:
    """RGB ``uint8`` frames to YUV 4:2:0 planes, as FFmpeg's swscale converts by default.

    BT.601 limited range; chroma is the mean of horizontal pixel pairs, filtered vertically
    with ``[1, 3, 3, 1] / 8`` (swscale's bilinear 2:1 filter, edges repeated), i.e. chroma
    sited left and between the rows. Within 1 of swscale's values (its fixed-point rounding
    differs).

    Args:
        rgb (Tensor): ``(k, 3, h, w)`` ``uint8``, h and w even.

    Returns:
        Tensor: ``(k, h * 3 // 2, w)`` ``uint8``: the Y plane, then U and V, each
        ``(h // 2) * (w // 2)`` values in row order (FFmpeg's ``yuv420p`` layout).
    """
    k, _, h, w = rgb.shape
    if h % 2 or w % 2:
        raise ValueError(f'yuv420p needs an even frame size, got {w}x{h}')
    x = rgb.float()
    coef = _yuv_coefficients(x.device)
    y = torch.einsum('kchw,c->khw', x, coef[0]).add_(16).round_().clamp_(0, 255)
    pairs = (x[..., 0::2] + x[..., 1::2]) * 0.5  # (k, 3, h, w/2)
    padded = torch.cat([pairs[:, :, :1], pairs, pairs[:, :, -1:]], dim=2)
    rows = (padded[:, :, 0:-2:2] + 3 * padded[:, :, 1:-1:2] + 3 * padded[:, :, 2::2]
            + padded[:, :, 3::2]) * 0.125  # (k, 3, h/2, w/2)
    uv = torch.einsum('kchw,dc->kdhw', rows, coef[1:]).add_(128).round_().clamp_(0, 255)
    out = rgb.new_empty(k, h * 3 // 2, w)
    out[:, :h] = y
    out[:, h:].view(k, -1).copy_(uv.reshape(k, -1))
    return out


def quantize(frames: Tensor) -> Tensor:
    """Float frames in [0, 1] to ``uint8`` (x 255, clamped, rounded half to even)."""
    return frames.mul(255).clamp_(0, 255).round_().to(torch.uint8)


_copy_streams = {}


class HostFrames:
    """Frames on their way to host memory: started by the constructor, ready after :meth:`get`.

    On a GPU the copy goes to pinned memory on a side stream, so it overlaps the next batch's
    work; :meth:`get` (in the encoder's thread) waits for it.

    Args:
        frames (Tensor): ``uint8`` frames on any device.
    """

    def __init__(self, frames: Tensor) -> None:
        self._event = None
        if frames.is_cuda:
            device = frames.device
            stream = _copy_streams.get(device)
            if stream is None:
                stream = _copy_streams[device] = torch.cuda.Stream(device)
            stream.wait_stream(torch.cuda.current_stream(device))
            self._host = torch.empty(frames.shape, dtype=frames.dtype, pin_memory=True)
            with torch.cuda.stream(stream):
                self._host.copy_(frames, non_blocking=True)
            frames.record_stream(stream)  # not reused by the allocator before the copy ends
            self._event = torch.cuda.Event(blocking=True)  # the waiting thread sleeps
            self._event.record(stream)
        else:
            self._host = frames

    def get(self) -> np.ndarray:
        if self._event is not None:
            self._event.synchronize()
        return self._host.numpy()


def _yuv_frames(planes: np.ndarray, pix_fmt: str) -> Iterator[Any]:
    """``av.VideoFrame`` objects of ``(k, h * 3 // 2, w)`` yuv420p planes."""
    import av
    h, w = planes.shape[1] * 2 // 3, planes.shape[2]
    for plane in planes:
        frame = av.VideoFrame(w, h, pix_fmt)
        parts = (plane[:h], plane[h:h + h // 4], plane[h + h // 4:])
        if all(p.line_size * p.height == part.size for p, part in zip(frame.planes, parts)):
            for p, part in zip(frame.planes, parts):
                p.update(part)  # one copy each (no row padding at this width)
        else:
            frame = av.VideoFrame.from_ndarray(plane, format=pix_fmt)
        yield frame


def encodes_yuv_on_device(restorer, sink: FrameSink) -> bool:
    """Whether :func:`restore_stream` converts to YUV on the device for ``sink``: a GPU, a
    ``yuv420p`` video file and frames at the model's size (a resize runs on the CPU)."""
    return (restorer.device.type == 'cuda' and isinstance(sink, VideoFileSink)
            and sink.pix_fmt == 'yuv420p' and restorer.out_size is None
            and restorer.out_scale is None)


def restore_stream(restorer, source: Iterable[np.ndarray], sink: FrameSink,
                   on_frames: Optional[Callable[[int], None]] = None,
                   device_yuv: Optional[bool] = None,
                   stats: Optional[dict] = None) -> Tuple[int, Optional[Tuple[int, int]]]:
    """Decodes ``source`` ahead in a thread, restores it, encodes into ``sink`` in a thread.

    Args:
        restorer (VideoRestorer): The restorer.
        source (Iterable[np.ndarray]): RGB ``uint8`` frames (a :class:`FrameSource`).
        sink (FrameSink): Where the frames go; committed or aborted by the caller, after this
            returns or raises (both threads have stopped by then).
        on_frames (callable, optional): Called in the calling thread with the number of
            frames handed to the encoder, for progress.
        device_yuv (bool, optional): Convert to YUV 4:2:0 on the restorer's device (see the
            module docstring). None: where :func:`encodes_yuv_on_device` says so.
        stats (dict, optional): Filled with where the calling thread waited, in seconds:
            ``'frames'`` (for the decoder), ``'encoder'`` (for room in the encoder's queue)
            and ``'flush'`` (for the encoder to finish after the last frame).

    Returns:
        tuple: The number of frames written and the output size ``(width, height)``.
    """
    if device_yuv is None:
        device_yuv = encodes_yuv_on_device(restorer, sink)
    num_frames = getattr(source, 'num_frames', None)  # a FrameSource's, if known
    count, size = 0, None

    def write(item) -> None:
        if isinstance(item, HostFrames):
            for frame in _yuv_frames(item.get(), sink.pix_fmt):
                sink.write(frame)
        else:
            sink.write(item)

    # read ahead: the input frames of one batch of windows; written behind: up to two
    # batches' output frames
    ahead = restorer.frames_per_batch
    writer = BackgroundWriter(write, lambda: 2 * ahead())
    with writer, BackgroundIterator(source, ahead) as frames:
        if device_yuv:
            for chunk in restorer.restore_chunks(frames, num_frames):
                size = (chunk.size(-1), chunk.size(-2))
                # converted in parts: the float temporaries stay small
                for part in chunk.split(max(1, CONVERT_PIXELS // (size[0] * size[1]))):
                    num = part.size(0)
                    writer.put(HostFrames(rgb_to_yuv420p(quantize(part))), num)
                    count += num
                    if on_frames is not None:
                        on_frames(num)
        else:
            for frame in restorer.restore_frames(frames, num_frames):
                writer.put(frame)
                count += 1
                size = (frame.shape[1], frame.shape[0])
                if on_frames is not None:
                    on_frames(1)
        if stats is not None:
            stats.update(frames=frames.waited, encoder=writer.waited)
            flush_start = time.perf_counter()
    if stats is not None:
        stats['flush'] = time.perf_counter() - flush_start
    return count, size
