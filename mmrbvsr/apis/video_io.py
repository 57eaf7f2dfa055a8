"""Streaming frame sources and sinks: videos (PyAV) and folders of images.

Sources yield RGB ``uint8`` frames of shape ``(h, w, 3)`` one at a time, optionally a range of
them (``start``, ``frames``); sinks take them one at a time. Nothing holds more than one frame,
so memory does not depend on the video length.

Sinks write to a temporary file (or folder) beside the destination and move it into place only in
:meth:`FrameSink.commit`; :meth:`FrameSink.abort` (called on any error or interrupt when a sink
is used as a context manager) deletes the temporary output, so an existing output is never
half-written. Temporary names and the removal of what killed runs leave behind are in
:mod:`mmrbvsr.apis.partial_output`.
"""
import glob
import os
import re
from fractions import Fraction
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple, Union

import numpy as np

from .partial_output import claim, partial_path, publish_file, publish_folder, release

PathLike = Union[str, Path]

VIDEO_EXTENSIONS = ('.mp4', '.mkv', '.mov', '.avi', '.webm', '.m4v', '.flv', '.ts', '.mpg',
                    '.mpeg', '.wmv', '.3gp', '.y4m')
IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp')
DEFAULT_FPS = Fraction(25)
DEFAULT_CODEC = 'libx264'
# containers whose usual codec is not H.264
CONTAINER_CODECS = {'.webm': 'libvpx-vp9', '.y4m': 'rawvideo'}
# containers that hold only some codecs, and say so with unhelpful FFmpeg errors
CONTAINER_ONLY = {'.y4m': ('rawvideo', 'wrapped_avframe')}
NO_AUDIO = ('.y4m', )  # containers without audio streams
# encoders that take --crf and --preset
X26X = ('libx264', 'libx265', 'h264', 'hevc')


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


def _check_range(start: int, frames: Optional[int]) -> None:
    if start < 0:
        raise ValueError(f'the first frame (start) must be 0 or more, got {start}')
    if frames is not None and frames < 1:
        raise ValueError(f'the number of frames must be at least 1, got {frames}')


class FrameSource:
    """A stream of RGB ``uint8`` frames ``(h, w, 3)``.

    Attributes:
        name (str): What the frames come from, for messages.
        fps (Fraction): Frame rate (``DEFAULT_FPS`` for images unless given).
        num_frames (int, optional): Frames this source yields, if known before decoding.
        audio_path (str, optional): A file whose audio stream an output may copy.
        start (int): Index of the first frame taken from the input.
        frames (int, optional): At most this many frames are taken; None for all.
    """

    name: str = ''
    fps: Fraction = DEFAULT_FPS
    num_frames: Optional[int] = None
    audio_path: Optional[str] = None
    start: int = 0
    frames: Optional[int] = None

    @property
    def start_seconds(self) -> float:
        """Where the range starts in the input, in seconds (to cut the audio alike)."""
        return float(self.start / self.fps)

    def frame_size(self) -> Tuple[int, int]:
        """``(width, height)`` of the frames, read without decoding the whole input."""
        raise NotImplementedError

    def __iter__(self) -> Iterator[np.ndarray]:
        raise NotImplementedError


class VideoFileSource(FrameSource):
    """Decodes a video file frame by frame with PyAV.

    Args:
        path (str | Path): The video file.
        fps (Fraction | float, optional): Overrides the stream's frame rate.
        start (int): Index of the first frame to yield (the earlier ones are decoded and
            dropped). Defaults to 0.
        frames (int, optional): Yield at most this many frames. Defaults to None (all).

    Raises:
        VideoIOError: If the file is missing, not a video, has no decodable video stream, is
            empty, truncated or corrupt (raised while iterating for the latter three), its
            frame size changes, or ``start`` is past its end.
    """

    def __init__(self, path: PathLike, fps: Optional[Union[Fraction, float]] = None,
                 start: int = 0, frames: Optional[int] = None) -> None:
        _check_range(start, frames)
        self.name = str(path)
        self.start, self.frames = start, frames
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
            self.total_frames = stream.frames or None
            self._size = (stream.codec_context.width, stream.codec_context.height)
            self.audio_path = self.name if container.streams.audio else None
        finally:
            container.close()
        if self.total_frames is not None:
            if start >= self.total_frames:
                raise VideoIOError(f'start frame {start} is past the end of {self.name!r}, '
                                   f'which has {self.total_frames} frames (0 to '
                                   f'{self.total_frames - 1})')
            left = self.total_frames - start
            self.num_frames = left if frames is None else min(frames, left)

    def _open(self):
        av = _av()
        try:
            return av.open(self.name)
        except (av.error.FFmpegError, OSError, ValueError) as e:
            raise VideoIOError(
                f'cannot read {self.name!r}: not a video PyAV can open, or the file is corrupt '
                f'or truncated ({e})') from e

    def frame_size(self) -> Tuple[int, int]:
        if not all(self._size):
            self._size = next(iter(self)).shape[1::-1]
        return self._size

    def __iter__(self) -> Iterator[np.ndarray]:
        av = _av()
        container = self._open()
        size = None
        count = taken = 0  # frames decoded, frames yielded
        try:
            stream = container.streams.video[0]
            stream.thread_type = 'AUTO'
            try:
                for frame in container.decode(stream):
                    count += 1
                    if count <= self.start:
                        continue
                    array = frame.to_ndarray(format='rgb24')
                    size = check_frame_size(array, size, count - 1, self.name)
                    taken += 1
                    yield array
                    if taken == self.frames:
                        return
            except av.error.FFmpegError as e:
                raise VideoIOError(
                    f'{self.name!r} is corrupt or truncated: decoding failed after {count} '
                    f'frames ({e})') from e
        finally:
            container.close()
        if count == 0:
            raise VideoIOError(f'{self.name!r} contains no decodable video frames')
        if self.total_frames and count < self.total_frames:
            raise VideoIOError(
                f'{self.name!r} is truncated: its header announces {self.total_frames} frames '
                f'but only {count} could be decoded')
        if taken == 0:
            raise VideoIOError(f'start frame {self.start} is past the end of {self.name!r}, '
                               f'which has {count} frames')


class ImageSequenceSource(FrameSource):
    """Reads a list of image files in order, one at a time.

    Args:
        paths (list[str]): Image files, in display order.
        name (str): What they came from (folder or pattern), for messages.
        fps (Fraction | float, optional): Frame rate of the sequence. Defaults to 25.
        start (int): Index of the first image to read. Defaults to 0.
        frames (int, optional): Read at most this many images. Defaults to None (all).
    """

    def __init__(self, paths: List[str], name: str,
                 fps: Optional[Union[Fraction, float]] = None, start: int = 0,
                 frames: Optional[int] = None) -> None:
        _check_range(start, frames)
        if not paths:
            raise VideoIOError(
                f'no frames found in {name!r} (expected images with one of the extensions '
                f'{", ".join(IMAGE_EXTENSIONS)})')
        if start >= len(paths):
            raise VideoIOError(f'start frame {start} is past the end of {name!r}, which has '
                               f'{len(paths)} frames (0 to {len(paths) - 1})')
        self.total_frames = len(paths)
        self.paths = list(paths)[start:None if frames is None else start + frames]
        self.name = name
        self.start, self.frames = start, frames
        self.fps = Fraction(fps) if fps else DEFAULT_FPS
        self.num_frames = len(self.paths)

    def _read(self, index: int) -> np.ndarray:
        import cv2
        path = self.paths[index]
        image = cv2.imread(path, cv2.IMREAD_COLOR)
        if image is None:
            raise VideoIOError(f'cannot read image {path!r} (frame {self.start + index} of '
                               f'{self.name!r})')
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)

    def frame_size(self) -> Tuple[int, int]:
        return self._read(0).shape[1::-1]

    def __iter__(self) -> Iterator[np.ndarray]:
        size = None
        for index in range(len(self.paths)):
            image = self._read(index)
            size = check_frame_size(image, size, self.start + index, self.name)
            yield image


def open_source(spec: PathLike, fps: Optional[Union[Fraction, float]] = None, start: int = 0,
                frames: Optional[int] = None) -> FrameSource:
    """Opens a video file, a folder of frames or a glob pattern of frames.

    Frames of a folder or pattern are ordered naturally (``2.png`` before ``10.png``).

    Args:
        spec (str | Path): A video file (anything PyAV decodes), a folder of images, or a glob
            pattern such as ``'frames/*.png'``.
        fps (Fraction | float, optional): Overrides the frame rate (images default to 25).
        start (int): Index of the first frame to take. Defaults to 0.
        frames (int, optional): Take at most this many frames. Defaults to None (all).

    Returns:
        FrameSource: The stream of frames.

    Raises:
        VideoIOError: If ``spec`` matches nothing readable, or ``start`` is past its end.
        ValueError: If ``start`` is negative or ``frames`` is less than 1.
    """
    spec = str(spec)
    if os.path.isdir(spec):
        paths = [p for p in glob.glob(os.path.join(glob.escape(spec), '*'))
                 if p.lower().endswith(IMAGE_EXTENSIONS) and os.path.isfile(p)]
        return ImageSequenceSource(sorted(paths, key=_natural_key), spec, fps, start, frames)
    if os.path.isfile(spec):
        return VideoFileSource(spec, fps, start, frames)
    if glob.has_magic(spec):
        paths = [p for p in glob.glob(spec) if os.path.isfile(p)]
        return ImageSequenceSource(sorted(paths, key=_natural_key), spec, fps, start, frames)
    raise VideoIOError(f'input {spec!r} is neither a video file, a folder nor a glob pattern '
                       'that matches files')


def output_kind(path: PathLike) -> str:
    """``'video'`` for a video file name, ``'folder'`` for a folder of PNG frames.

    A folder is an existing folder, a name without an extension, or any name ending in ``/``.

    Raises:
        VideoIOError: For any other extension (e.g. ``.gif`` or ``.png``): neither kind.
    """
    text = str(path)
    if text.endswith(('/', os.sep)) or os.path.isdir(text):
        return 'folder'
    suffix = Path(text).suffix.lower()
    if suffix in VIDEO_EXTENSIONS:
        return 'video'
    if not suffix:
        return 'folder'
    raise VideoIOError(
        f'output {text!r}: unknown extension {suffix!r}. Give a video file '
        f'({", ".join(VIDEO_EXTENSIONS)}) or a folder for PNG frames (a name without an '
        f'extension, or ending in /)')


def is_video_path(path: PathLike) -> bool:
    """Whether ``path`` names a video file (by extension) rather than a folder of frames."""
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS


class FrameSink:
    """Receives frames one by one and publishes them atomically.

    Use as a context manager: a clean exit commits, an exception or interrupt aborts.

    Attributes:
        path (Path): The destination.
        notes (list[str]): Things the user should know (e.g. audio that cannot be kept).
        committed (bool): Whether the output has been published.
    """

    path: Path
    notes: List[str]
    committed: bool = False

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
    if (path.exists() or path.is_symlink()) and not overwrite:
        raise VideoIOError(f'output {str(path)!r} already exists (pass overwrite=True / '
                           '--overwrite to replace it once the new output is complete)')
    if not path.parent.is_dir():
        raise VideoIOError(f'output folder {str(path.parent)!r} does not exist')
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise VideoIOError(f'output folder {str(path.parent)!r} is not writable')


def _published(path: Path) -> VideoIOError:
    return VideoIOError(f'output {str(path)!r} appeared while this one was written (another '
                        'run?); kept it, dropped ours (pass --overwrite to replace it)')


class VideoFileSink(FrameSink):
    """Encodes frames into a video file with PyAV (H.264 by default).

    The output is first written to a hidden temporary file in the destination folder and moved
    to ``path`` by :meth:`commit`.

    Args:
        path (str | Path): Destination, e.g. ``out.mp4``; the container follows the extension.
        fps (Fraction | float): Output frame rate.
        codec (str, optional): An FFmpeg encoder name, e.g. ``'libx264'``, ``'libx265'``,
            ``'mpeg4'``. Defaults to the container's usual one: ``libx264``, ``libvpx-vp9`` for
            ``.webm``, ``rawvideo`` for ``.y4m`` (which holds nothing else).
        crf (int, optional): Constant rate factor for x264/x265 (lower is better; 18 is close to
            visually lossless). Ignored when ``bitrate`` is given or the codec has no CRF.
        preset (str, optional): x264/x265 speed preset, e.g. ``'medium'``, ``'slow'``.
        bitrate (int, optional): Target bit rate in bit/s instead of a CRF.
        pix_fmt (str): Encoder pixel format. Defaults to ``'yuv420p'`` (plays everywhere; needs
            even width and height).
        audio_from (str, optional): A media file whose first audio stream is copied (not
            re-encoded) into the output. Containers without audio (``.y4m``) drop it, with a
            note in :attr:`notes`.
        overwrite (bool): Replace an existing ``path`` once the new output is complete.
        options (dict, optional): Further encoder options passed to FFmpeg.
        audio_start (float): Copy the audio from this many seconds into ``audio_from`` on (for
            a range of frames). Defaults to 0.
        audio_end (float, optional): Stop the audio at this many seconds into ``audio_from``
            (at most at the last frame). Defaults to None: all that follows.

    Raises:
        VideoIOError: For an unknown codec or pixel format, a codec the container cannot hold,
            an existing output without ``overwrite``, a missing output folder, an audio stream
            the container cannot hold, or a frame size that is odd with ``yuv420p`` or changes
            between frames.
    """

    def __init__(self, path: PathLike, fps: Union[Fraction, float], codec: Optional[str] = None,
                 crf: Optional[int] = 18, preset: Optional[str] = 'medium',
                 bitrate: Optional[int] = None, pix_fmt: str = 'yuv420p',
                 audio_from: Optional[str] = None, overwrite: bool = False,
                 options: Optional[Dict[str, str]] = None, audio_start: float = 0.0,
                 audio_end: Optional[float] = None) -> None:
        av = _av()
        self.path = Path(path)
        self.notes = []
        self.overwrite = overwrite
        _check_destination(self.path, overwrite)
        if self.path.is_dir():
            raise VideoIOError(f'output {str(self.path)!r} is a folder, expected a video file')
        suffix = self.path.suffix.lower()
        codec = codec or CONTAINER_CODECS.get(suffix, DEFAULT_CODEC)
        try:
            encoder = av.codec.Codec(codec, 'w')
        except Exception as e:
            raise VideoIOError(f'unknown video codec {codec!r}: not an encoder of this PyAV/'
                               'FFmpeg build (try libx264, libx265 or mpeg4)') from e
        if encoder.type != 'video':
            raise VideoIOError(f'codec {codec!r} is not a video encoder')
        if suffix in CONTAINER_ONLY and codec not in CONTAINER_ONLY[suffix]:
            raise VideoIOError(f'a {suffix} file holds only {" or ".join(CONTAINER_ONLY[suffix])} '
                               f'video, not {codec!r} (leave the codec out for {suffix})')
        try:
            av.VideoFormat(pix_fmt)
        except ValueError as e:
            raise VideoIOError(f'unknown pixel format {pix_fmt!r}') from e
        formats = [f.name for f in encoder.video_formats or ()]
        if formats and pix_fmt not in formats:
            raise VideoIOError(f'{codec} cannot encode pixel format {pix_fmt!r}; it takes '
                               f'{", ".join(formats)}')
        if Fraction(fps) <= 0:
            raise VideoIOError(f'frame rate must be positive, got {fps}')
        self.fps = Fraction(fps).limit_denominator(1001 * 1000)
        self.codec = codec
        self.pix_fmt = pix_fmt
        self.bitrate = bitrate
        self.options = dict(options or {})
        if bitrate is None and crf is not None and codec in X26X:
            self.options.setdefault('crf', str(crf))
        if preset is not None and codec in X26X:
            self.options.setdefault('preset', preset)
        if codec in ('libx265', 'hevc'):  # x265 prints its settings to stderr otherwise
            self.options.setdefault('x265-params', 'log-level=error')
        if audio_from and suffix in NO_AUDIO:
            self.notes.append(f'a {suffix} file holds no audio: the audio of {audio_from!r} is '
                              'not copied')
            audio_from = None
        self.audio_from = audio_from
        self.audio_start = float(audio_start)
        self.audio_end = audio_end
        self._tmp = partial_path(self.path, self.path.suffix)
        self._container = None
        self._stream = None
        self._audio = None  # (input container, packet iterator, output stream, next packet)
        self._size = None
        self._count = 0

    def _start(self, height: int, width: int) -> None:
        av = _av()
        if self.pix_fmt in ('yuv420p', 'yuvj420p', 'nv12', 'nv21') and (height % 2 or width % 2):
            raise VideoIOError(f'{self.pix_fmt} output needs an even frame size, got '
                               f'{width}x{height}; choose an even output size')
        claim(self._tmp)
        try:
            self._container = av.open(str(self._tmp), mode='w')
        except (av.error.FFmpegError, OSError, ValueError) as e:
            raise VideoIOError(f'cannot create {str(self.path)!r}: {e}') from e
        try:
            stream = self._container.add_stream(self.codec, rate=self.fps, options=self.options)
        except (av.error.FFmpegError, ValueError) as e:
            raise VideoIOError(f'a {self.path.suffix} file cannot hold {self.codec} video '
                               f'({e})') from e
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
            raise self._audio_error(in_stream, e) from e
        packets = src.demux(in_stream)
        self._audio = [src, packets, out_stream, None]

    def _audio_error(self, in_stream, error: Exception) -> VideoIOError:
        name = getattr(getattr(in_stream, 'codec_context', None), 'name', '?')
        return VideoIOError(f'cannot copy the {name} audio of {self.audio_from!r} into a '
                            f'{self.path.suffix} file ({error}); use another container or '
                            'leave the audio out (--no-audio)')

    def _mux_audio(self, until: Optional[float]) -> None:
        """Copies audio packets that start before ``until`` seconds of output (all if None)."""
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
            seconds = float(stamp * nxt.time_base) - self.audio_start
            if seconds < -1e-6:  # before the range
                nxt = None
                continue
            if until is not None and seconds > until:
                break
            if self.audio_start:
                shift = int(round(self.audio_start / nxt.time_base))
                nxt.pts = None if nxt.pts is None else nxt.pts - shift
                nxt.dts = nxt.dts - shift
            nxt.stream = out_stream
            try:
                self._container.mux(nxt)
            except av.error.FFmpegError as e:
                raise self._audio_error(src.streams.audio[0], e) from e
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
        try:
            for packet in self._stream.encode(video_frame):
                self._container.mux(packet)
        except (av.error.FFmpegError, ValueError) as e:
            raise VideoIOError(f'cannot encode {self.codec} video ({self.pix_fmt}, options '
                               f'{self.options or "none"}) into a {self.path.suffix} file: '
                               f'{e}') from e
        self._count += 1
        self._mux_audio(until=float(self._count / self.fps))

    def check(self, width: int, height: int) -> None:
        """Encodes one black frame of this size (and copies one audio packet) as a trial.

        Finds what only FFmpeg knows (codec options, codecs a container refuses, audio a
        container cannot hold) before any real work; nothing is left behind.

        Raises:
            VideoIOError: Saying what cannot be written.
        """
        av = _av()
        try:
            self.write(np.zeros((height, width, 3), np.uint8))
            for packet in self._stream.encode(None):
                self._container.mux(packet)
            if self._audio is not None:  # one packet is enough to know the container takes it
                src, packets, out_stream, _ = self._audio
                packet = next((p for p in packets if p.dts is not None), None)
                if packet is not None:
                    packet.stream = out_stream
                    try:
                        self._container.mux(packet)
                    except av.error.FFmpegError as e:
                        raise self._audio_error(src.streams.audio[0], e) from e
            self._close()
        except (av.error.FFmpegError, OSError, ValueError) as e:
            raise VideoIOError(f'cannot write {self.codec} video ({self.pix_fmt}, options '
                               f'{self.options or "none"}) into a {self.path.suffix} file: '
                               f'{e}') from e
        finally:
            self.abort()
            self._size, self._count = None, 0

    def commit(self) -> None:
        """Flushes the encoder and moves the finished file to ``path``."""
        av = _av()
        try:
            if self._container is None:
                raise VideoIOError(f'no frames were written to {str(self.path)!r}')
            try:
                for packet in self._stream.encode(None):
                    self._container.mux(packet)
            except (av.error.FFmpegError, ValueError) as e:
                raise VideoIOError(f'cannot finish {str(self.path)!r}: {e}') from e
            end = float(self._count / self.fps)
            self._mux_audio(until=None if self.audio_end is None else
                            min(end, self.audio_end - self.audio_start))
            self._close()
            try:
                publish_file(self._tmp, self.path, self.overwrite)
            except FileExistsError:
                raise _published(self.path) from None
            self.committed = True
        except BaseException:
            self.abort()
            raise

    def _close(self) -> None:
        if self._audio is not None:
            self._audio[0].close()
            self._audio = None
        if self._container is not None:
            container, self._container = self._container, None
            container.close()

    def abort(self) -> None:
        """Drops the temporary file; an existing output stays as it was."""
        try:
            self._close()
        except Exception:  # the temporary file is deleted either way
            pass
        self._container = self._audio = None
        release(self._tmp)


class ImageFolderSink(FrameSink):
    """Writes frames as PNG files into a folder, published atomically.

    Frames go to a hidden temporary folder beside ``path``, which replaces ``path`` in
    :meth:`commit`. The folder gets the permissions the umask gives, like any other.

    Args:
        path (str | Path): Destination folder.
        filename_tmpl (str): File name of frame ``i``. Defaults to ``'{:08d}.png'``.
        start_idx (int): Index of the first frame. Defaults to 0.
        overwrite (bool): Replace an existing folder once the new frames are complete.
    """

    def __init__(self, path: PathLike, filename_tmpl: str = '{:08d}.png', start_idx: int = 0,
                 overwrite: bool = False) -> None:
        self.path = Path(path)
        self.notes = []
        self.overwrite = overwrite
        _check_destination(self.path, overwrite)
        if self.path.exists() and not self.path.is_dir():
            raise VideoIOError(f'output {str(self.path)!r} is a file, expected a folder')
        self.filename_tmpl = filename_tmpl
        self.start_idx = start_idx
        self._tmp = partial_path(self.path)
        self._open = False
        self._size = None
        self._count = 0

    def write(self, frame: np.ndarray) -> None:
        """Writes one RGB ``uint8`` frame ``(h, w, 3)`` as the next PNG."""
        import cv2
        if not self._open:
            claim(self._tmp)
            self._open = True
            try:
                os.mkdir(self._tmp)  # mode 0o777 minus the umask
            except OSError as e:
                raise VideoIOError(f'cannot create a folder beside {str(self.path)!r}: '
                                   f'{e}') from e
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
            try:
                publish_folder(self._tmp, self.path, self.overwrite)
            except FileExistsError:
                raise _published(self.path) from None
            self._open = False
            self.committed = True
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Drops the temporary folder; an existing output stays as it was."""
        if self._open:
            self._open = False
            release(self._tmp)
