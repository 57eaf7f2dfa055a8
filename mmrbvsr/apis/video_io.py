"""Streaming frame sources and sinks: videos (PyAV) and folders of images.

Sources yield RGB ``uint8`` frames of shape ``(h, w, 3)`` one at a time; sinks take them one at a
time. Nothing holds more than one frame, so memory does not depend on the video length.

Sinks write to a temporary file (or folder) beside the destination and move it into place only in
:meth:`FrameSink.commit`; :meth:`FrameSink.abort` (called on any error when a sink is used as a
context manager) deletes the temporary output, so an existing output is never half-written.
"""
import glob
import os
import re
import shutil
import tempfile
import uuid
from fractions import Fraction
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple, Union

import numpy as np

PathLike = Union[str, Path]

VIDEO_EXTENSIONS = ('.mp4', '.mkv', '.mov', '.avi', '.webm', '.m4v', '.flv', '.ts', '.mpg',
                    '.mpeg', '.wmv', '.3gp', '.y4m')
IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp')
DEFAULT_FPS = Fraction(25)


class VideoIOError(RuntimeError):
    """An input that cannot be read or an output that cannot be written."""


def _av():
    # PyAV is only needed once a video is read or written.
    try:
        import av
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise VideoIOError('reading and writing videos needs PyAV: pip install av') from e
    return av


def _natural_key(path: str) -> List[Union[int, str]]:
    return [int(t) if t.isdigit() else t for t in re.split(r'(\d+)', os.path.basename(path))]


def check_frame_size(frame: np.ndarray, expected: Optional[Tuple[int, int]], index: int,
                     name: str) -> Tuple[int, int]:
    """Returns ``(h, w)`` of ``frame``; raises if it differs from ``expected``."""
    size = frame.shape[:2]
    if expected is not None and size != expected:
        raise VideoIOError(
            f'{name}: frame {index} is {size[1]}x{size[0]} but earlier frames are '
            f'{expected[1]}x{expected[0]}; all frames of a video must have the same size')
    return size


class FrameSource:
    """A stream of RGB ``uint8`` frames ``(h, w, 3)``.

    Attributes:
        name (str): What the frames come from, for messages.
        fps (Fraction): Frame rate (``DEFAULT_FPS`` for images unless given).
        num_frames (int, optional): Frame count if known before decoding.
        audio_path (str, optional): A file whose audio stream an output may copy.
    """

    name: str = ''
    fps: Fraction = DEFAULT_FPS
    num_frames: Optional[int] = None
    audio_path: Optional[str] = None

    def __iter__(self) -> Iterator[np.ndarray]:
        raise NotImplementedError


class VideoFileSource(FrameSource):
    """Decodes a video file frame by frame with PyAV.

    Args:
        path (str | Path): The video file.
        fps (Fraction | float, optional): Overrides the stream's frame rate.

    Raises:
        VideoIOError: If the file is missing, not a video, has no decodable video stream, is
            empty, truncated or corrupt (raised while iterating for the latter three), or its
            frame size changes.
    """

    def __init__(self, path: PathLike, fps: Optional[Union[Fraction, float]] = None) -> None:
        self.name = str(path)
        if not os.path.isfile(path):
            raise VideoIOError(f'input video {self.name!r} does not exist')
        container = self._open()
        try:
            if not container.streams.video:
                raise VideoIOError(f'{self.name!r} has no video stream')
            stream = container.streams.video[0]
            if stream.codec_context is None:
                raise VideoIOError(f'{self.name!r}: unknown video codec (this PyAV/FFmpeg build '
                                   'has no decoder for it)')
            rate = stream.average_rate or stream.guessed_rate
            self.fps = Fraction(fps) if fps else (Fraction(rate) if rate else DEFAULT_FPS)
            self.num_frames = stream.frames or None
            self.audio_path = self.name if container.streams.audio else None
        finally:
            container.close()

    def _open(self):
        av = _av()
        try:
            return av.open(self.name)
        except (av.error.FFmpegError, OSError, ValueError) as e:
            raise VideoIOError(
                f'cannot read {self.name!r}: not a video PyAV can open, or the file is corrupt '
                f'or truncated ({e})') from e

    def __iter__(self) -> Iterator[np.ndarray]:
        av = _av()
        container = self._open()
        size = None
        count = 0
        try:
            stream = container.streams.video[0]
            stream.thread_type = 'AUTO'
            try:
                for frame in container.decode(stream):
                    array = frame.to_ndarray(format='rgb24')
                    size = check_frame_size(array, size, count, self.name)
                    count += 1
                    yield array
            except av.error.FFmpegError as e:
                raise VideoIOError(
                    f'{self.name!r} is corrupt or truncated: decoding failed after {count} '
                    f'frames ({e})') from e
        finally:
            container.close()
        if count == 0:
            raise VideoIOError(f'{self.name!r} contains no decodable video frames')
        if self.num_frames and count < self.num_frames:
            raise VideoIOError(
                f'{self.name!r} is truncated: its header announces {self.num_frames} frames '
                f'but only {count} could be decoded')


class ImageSequenceSource(FrameSource):
    """Reads a list of image files in order, one at a time.

    Args:
        paths (list[str]): Image files, in display order.
        name (str): What they came from (folder or pattern), for messages.
        fps (Fraction | float, optional): Frame rate of the sequence. Defaults to 25.
    """

    def __init__(self, paths: List[str], name: str,
                 fps: Optional[Union[Fraction, float]] = None) -> None:
        if not paths:
            raise VideoIOError(
                f'no frames found in {name!r} (expected images with one of the extensions '
                f'{", ".join(IMAGE_EXTENSIONS)})')
        self.paths = list(paths)
        self.name = name
        self.fps = Fraction(fps) if fps else DEFAULT_FPS
        self.num_frames = len(self.paths)

    def __iter__(self) -> Iterator[np.ndarray]:
        import cv2
        size = None
        for index, path in enumerate(self.paths):
            image = cv2.imread(path, cv2.IMREAD_COLOR)
            if image is None:
                raise VideoIOError(f'cannot read image {path!r} (frame {index} of {self.name!r})')
            image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
            size = check_frame_size(image, size, index, self.name)
            yield image


def open_source(spec: PathLike, fps: Optional[Union[Fraction, float]] = None) -> FrameSource:
    """Opens a video file, a folder of frames or a glob pattern of frames.

    Frames of a folder or pattern are ordered naturally (``2.png`` before ``10.png``).

    Args:
        spec (str | Path): A video file (anything PyAV decodes), a folder of images, or a glob
            pattern such as ``'frames/*.png'``.
        fps (Fraction | float, optional): Overrides the frame rate (images default to 25).

    Returns:
        FrameSource: The stream of frames.

    Raises:
        VideoIOError: If ``spec`` matches nothing readable.
    """
    spec = str(spec)
    if os.path.isdir(spec):
        paths = [p for p in glob.glob(os.path.join(glob.escape(spec), '*'))
                 if p.lower().endswith(IMAGE_EXTENSIONS) and os.path.isfile(p)]
        return ImageSequenceSource(sorted(paths, key=_natural_key), spec, fps)
    if os.path.isfile(spec):
        return VideoFileSource(spec, fps)
    if glob.has_magic(spec):
        paths = [p for p in glob.glob(spec) if os.path.isfile(p)]
        return ImageSequenceSource(sorted(paths, key=_natural_key), spec, fps)
    raise VideoIOError(f'input {spec!r} is neither a video file, a folder nor a glob pattern '
                       'that matches files')


def _temp_path(dest: Path, suffix: str = '') -> Path:
    # Same folder as the destination, so the final os.replace is atomic.
    return dest.with_name(f'.{dest.name}.partial-{uuid.uuid4().hex[:8]}{suffix}')


class FrameSink:
    """Receives frames one by one and publishes them atomically.

    Use as a context manager: a clean exit commits, an exception aborts.
    """

    path: Path

    def write(self, frame: np.ndarray) -> None:
        raise NotImplementedError

    def commit(self) -> None:
        raise NotImplementedError

    def abort(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> 'FrameSink':
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


def _check_destination(path: Path, overwrite: bool) -> None:
    if path.exists() and not overwrite:
        raise VideoIOError(f'output {str(path)!r} already exists (pass overwrite=True / '
                           '--overwrite to replace it once the new output is complete)')
    if not path.parent.is_dir():
        raise VideoIOError(f'output folder {str(path.parent)!r} does not exist')


class VideoFileSink(FrameSink):
    """Encodes frames into a video file with PyAV (H.264 by default).

    The output is first written to a hidden temporary file in the destination folder and moved
    over ``path`` by :meth:`commit`.

    Args:
        path (str | Path): Destination, e.g. ``out.mp4``; the container follows the extension.
        fps (Fraction | float): Output frame rate.
        codec (str): An FFmpeg encoder name, e.g. ``'libx264'``, ``'libx265'``, ``'mpeg4'``.
        crf (int, optional): Constant rate factor for x264/x265 (lower is better; 18 is close to
            visually lossless). Ignored when ``bitrate`` is given or the codec has no CRF.
        preset (str, optional): x264/x265 speed preset, e.g. ``'medium'``, ``'slow'``.
        bitrate (int, optional): Target bit rate in bit/s instead of a CRF.
        pix_fmt (str): Encoder pixel format. Defaults to ``'yuv420p'`` (plays everywhere; needs
            even width and height).
        audio_from (str, optional): A media file whose first audio stream is copied (not
            re-encoded) into the output.
        overwrite (bool): Replace an existing ``path`` once the new output is complete.
        options (dict, optional): Further encoder options passed to FFmpeg.

    Raises:
        VideoIOError: For an unknown codec, an existing output without ``overwrite``, a missing
            output folder, an audio stream the container cannot hold, or a frame size that is
            odd with ``yuv420p`` or changes between frames.
    """

    def __init__(self, path: PathLike, fps: Union[Fraction, float], codec: str = 'libx264',
                 crf: Optional[int] = 18, preset: Optional[str] = 'medium',
                 bitrate: Optional[int] = None, pix_fmt: str = 'yuv420p',
                 audio_from: Optional[str] = None, overwrite: bool = False,
                 options: Optional[Dict[str, str]] = None) -> None:
        av = _av()
        self.path = Path(path)
        _check_destination(self.path, overwrite)
        try:
            av.codec.Codec(codec, 'w')
        except Exception as e:
            raise VideoIOError(f'unknown video codec {codec!r}: not an encoder of this PyAV/'
                               'FFmpeg build (try libx264, libx265 or mpeg4)') from e
        if Fraction(fps) <= 0:
            raise VideoIOError(f'frame rate must be positive, got {fps}')
        self.fps = Fraction(fps).limit_denominator(1001 * 1000)
        self.codec = codec
        self.pix_fmt = pix_fmt
        self.bitrate = bitrate
        self.options = dict(options or {})
        if bitrate is None and crf is not None and codec in ('libx264', 'libx265', 'h264',
                                                             'hevc'):
            self.options.setdefault('crf', str(crf))
        if preset is not None and codec in ('libx264', 'libx265', 'h264', 'hevc'):
            self.options.setdefault('preset', preset)
        self.audio_from = audio_from
        self._tmp = _temp_path(self.path, self.path.suffix)
        self._container = None
        self._stream = None
        self._audio = None  # (input container, packet iterator, output stream, next packet)
        self._size = None
        self._count = 0

    def _start(self, height: int, width: int) -> None:
        av = _av()
        if self.pix_fmt in ('yuv420p', 'yuvj420p', 'nv12') and (height % 2 or width % 2):
            raise VideoIOError(f'{self.pix_fmt} output needs an even frame size, got '
                               f'{width}x{height}; choose an even output size')
        try:
            self._container = av.open(str(self._tmp), mode='w')
        except (av.error.FFmpegError, OSError, ValueError) as e:
            raise VideoIOError(f'cannot create {str(self.path)!r}: {e}') from e
        stream = self._container.add_stream(self.codec, rate=self.fps, options=self.options)
        stream.width, stream.height, stream.pix_fmt = width, height, self.pix_fmt
        if self.bitrate is not None:
            stream.bit_rate = int(self.bitrate)
        self._stream = stream
        if self.audio_from:
            self._open_audio()

    def _open_audio(self) -> None:
        av = _av()
        src = av.open(self.audio_from)
        if not src.streams.audio:
            src.close()
            return
        in_stream = src.streams.audio[0]
        add_from_template = getattr(self._container, 'add_stream_from_template', None)
        try:  # PyAV >= 14 has add_stream_from_template; older versions take template=
            out_stream = (add_from_template(in_stream) if add_from_template
                          else self._container.add_stream(template=in_stream))
        except (av.error.FFmpegError, ValueError, TypeError) as e:
            src.close()
            raise VideoIOError(f'cannot copy the audio of {self.audio_from!r} into '
                               f'{str(self.path)!r}: {e}') from e
        packets = src.demux(in_stream)
        self._audio = [src, packets, out_stream, None]

    def _mux_audio(self, until: Optional[float]) -> None:
        """Copies audio packets that start before ``until`` seconds (all if None)."""
        if self._audio is None:
            return
        src, packets, out_stream, nxt = self._audio
        av = _av()
        while True:
            if nxt is None:
                nxt = next(packets, None)
                if nxt is None:
                    break
                if nxt.dts is None:  # demuxer flush packet
                    nxt = None
                    continue
            stamp = nxt.pts if nxt.pts is not None else nxt.dts
            if until is not None and float(stamp * nxt.time_base) > until:
                break
            nxt.stream = out_stream
            try:
                self._container.mux(nxt)
            except av.error.FFmpegError as e:
                raise VideoIOError(f'cannot copy the audio of {self.audio_from!r} into '
                                   f'{str(self.path)!r}: {e}') from e
            nxt = None
        self._audio[3] = nxt

    def write(self, frame: np.ndarray) -> None:
        """Encodes one RGB ``uint8`` frame ``(h, w, 3)``, or an ``av.VideoFrame`` already in
        the sink's ``pix_fmt`` (encoded without a conversion; see ``pipeline.py``)."""
        av = _av()
        prepared = isinstance(frame, av.VideoFrame)
        if prepared and frame.format.name != self.pix_fmt:
            raise VideoIOError(f'a prepared frame must be {self.pix_fmt}, got '
                               f'{frame.format.name}')
        shape = (frame.height, frame.width) if prepared else frame.shape[:2]
        if self._container is None:
            self._start(*shape)
        self._size = check_frame_size(np.empty(shape + (0, )), self._size, self._count,
                                      str(self.path))
        video_frame = frame if prepared else av.VideoFrame.from_ndarray(
            np.ascontiguousarray(frame), format='rgb24')
        video_frame.pts = self._count
        video_frame.time_base = 1 / self.fps
        for packet in self._stream.encode(video_frame):
            self._container.mux(packet)
        self._count += 1
        self._mux_audio(until=float(self._count / self.fps))

    def commit(self) -> None:
        """Flushes the encoder and moves the finished file over ``path``."""
        try:
            if self._container is None:
                raise VideoIOError(f'no frames were written to {str(self.path)!r}')
            for packet in self._stream.encode(None):
                self._container.mux(packet)
            self._mux_audio(until=None)
            self._close()
            os.replace(self._tmp, self.path)
        except BaseException:
            self.abort()
            raise

    def _close(self) -> None:
        if self._audio is not None:
            self._audio[0].close()
            self._audio = None
        if self._container is not None:
            self._container.close()
            self._container = None

    def abort(self) -> None:
        """Drops the temporary file; an existing output stays as it was."""
        try:
            self._close()
        except Exception:  # the temporary file is deleted either way
            pass
        self._container = None
        if self._tmp.exists():
            self._tmp.unlink()


class ImageFolderSink(FrameSink):
    """Writes frames as PNG files into a folder, published atomically.

    Frames go to a hidden temporary folder beside ``path``, which replaces ``path`` in
    :meth:`commit`.

    Args:
        path (str | Path): Destination folder.
        filename_tmpl (str): File name of frame ``i``. Defaults to ``'{:08d}.png'``.
        start_idx (int): Index of the first frame. Defaults to 0.
        overwrite (bool): Replace an existing folder once the new frames are complete.
    """

    def __init__(self, path: PathLike, filename_tmpl: str = '{:08d}.png', start_idx: int = 0,
                 overwrite: bool = False) -> None:
        self.path = Path(path)
        _check_destination(self.path, overwrite)
        if self.path.exists() and not self.path.is_dir():
            raise VideoIOError(f'output {str(self.path)!r} is a file, expected a folder')
        self.filename_tmpl = filename_tmpl
        self.start_idx = start_idx
        self._tmp = Path(tempfile.mkdtemp(prefix=f'.{self.path.name}.partial-',
                                          dir=self.path.parent))
        self._size = None
        self._count = 0

    def write(self, frame: np.ndarray) -> None:
        """Writes one RGB ``uint8`` frame ``(h, w, 3)`` as the next PNG."""
        import cv2
        self._size = check_frame_size(frame, self._size, self._count, str(self.path))
        file = self._tmp / self.filename_tmpl.format(self.start_idx + self._count)
        if not cv2.imwrite(str(file), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)):
            raise VideoIOError(f'cannot write {str(file)!r}')
        self._count += 1

    def commit(self) -> None:
        """Moves the temporary folder into place (the old one is removed only afterwards)."""
        try:
            if self._count == 0:
                raise VideoIOError(f'no frames were written to {str(self.path)!r}')
            old = None
            if self.path.exists():
                old = _temp_path(self.path, '.old')
                os.replace(self.path, old)
            os.replace(self._tmp, self.path)
        except BaseException:
            self.abort()
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def abort(self) -> None:
        """Drops the temporary folder; an existing output stays as it was."""
        shutil.rmtree(self._tmp, ignore_errors=True)


def is_video_path(path: PathLike) -> bool:
    """Whether ``path`` names a video file (by extension) rather than a folder of frames."""
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS
