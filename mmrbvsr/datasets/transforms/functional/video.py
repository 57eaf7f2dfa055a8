"""Encoding frames as a video and decoding them back (PyAV), bit-identical to MMagic's MP4
round trip."""
import contextlib
import ctypes
import functools
import io
import threading
from typing import Iterator, List, NamedTuple, Optional, Sequence

import numpy as np

try:
    import av
    from av.video.reformatter import VideoReformatter
except ImportError:  # pragma: no cover - av is a dependency, checked when used
    av = None

# glibc's mallopt(M_PERTURB, 255): every heap block malloc returns is zero-filled
M_PERTURB = -6
_perturb_lock = threading.Lock()
_perturb_users = 0


def _mallopt():
    try:
        return ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (macOS, musl, Windows)
        return None


_MALLOPT = _mallopt()


@contextlib.contextmanager
def zeroed_heap() -> Iterator[None]:
    """Zero-fills the heap blocks allocated inside the block (glibc only).

    libx264 (x264 core 164 in PyAV 12, 165 in PyAV 18) reads heap memory it never
    wrote for some frame sizes (e.g. 192, 288, 316, 320 pixels square), so the same
    frames gave different bitstreams from run to run. With new blocks zeroed they
    do not (``tests/.../test_compression.py``). A no-op without glibc.
    """
    global _perturb_users
    if _MALLOPT is None:
        yield
        return
    with _perturb_lock:
        _perturb_users += 1
        if _perturb_users == 1:
            _MALLOPT(M_PERTURB, 255)
    try:
        yield
    finally:
        with _perturb_lock:
            _perturb_users -= 1
            if _perturb_users == 0:
                _MALLOPT(M_PERTURB, 0)


def rgb_array(frame, reformatter=None) -> np.ndarray:
    """A decoded ``av.VideoFrame`` as an HxWx3 uint8 RGB array.

    Same pixels as ``frame.to_ndarray(format='rgb24')`` (the same swscale conversion),
    without its per-frame failing ``import`` lookup (~35 us a frame on PyAV 12). A
    ``VideoReformatter`` shared by the frames of a clip keeps one swscale context
    (``frame.reformat`` makes one per frame: ~12 us).
    """
    rgb = (reformatter.reformat(frame, format='rgb24') if reformatter is not None else
           frame.reformat(format='rgb24'))
    plane = rgb.planes[0]
    h, w = rgb.height, rgb.width
    arr = np.frombuffer(plane, np.uint8)
    if plane.line_size != 3 * w:  # rows are padded
        arr = arr.reshape(-1, plane.line_size)[:h, :3 * w]
    # a copy, so that the array owns its pixels (no reference to the PyAV frame)
    return arr.reshape(h, w, 3).copy()


def encode_decode_video(frames: Sequence[np.ndarray], codec: str, bitrate: int,
                        preset: Optional[str] = None,
                        threads: Optional[int] = None) -> List[np.ndarray]:
    """Encode equal-size uint8 RGB frames as an MP4 video at 1 frame/s, decode them back.

    At 1 frame/s, ``bitrate`` bit/s is the budget of one frame (MMagic's setting).

    Args:
        frames: HxWx3 uint8 frames of one even size.
        codec: A PyAV encoder name (``libx264``, ``h264`` (= libx264), ``mpeg4``, ...).
        bitrate: Target bit rate in bit/s.
        preset: x264 ``preset`` (e.g. ``'veryfast'``); ``None`` keeps the default.
        threads: Encoder and decoder threads; ``None`` keeps FFmpeg's default (auto,
            bit-identical to MMagic's output), 1 avoids oversubscribing the cores
            when many dataloader workers encode at once.

    Returns:
        list[np.ndarray]: The decoded HxWx3 uint8 frames.
    """
    with zeroed_heap():  # libx264's unwritten reads; decoding needs no zeroing
        video = encode_video(frames, codec, bitrate, preset, threads)
    return decode_packets(video, threads)


@functools.lru_cache(maxsize=None)  # bounded: one name per encoder a config lists
def decoder_name(encoder: str) -> str:
    """FFmpeg's decoder for an encoder's format (libx264 -> h264): its descriptor name
    (PyAV >= 13), else FFmpeg's own decoder of the same codec id."""
    codec = av.codec.Codec(encoder, 'w')
    name = getattr(codec, 'canonical_name', None)  # PyAV >= 13
    if name:
        return name
    ids = []
    for n in sorted(av.codecs_available):
        try:
            if av.codec.Codec(n, 'r').id == codec.id:
                ids.append(n)
        except Exception:  # not a decoder
            continue
    if not ids:
        raise ValueError(f'no decoder for the {encoder!r} encoder in this PyAV/FFmpeg build')
    # FFmpeg's native decoders (h264, mpeg4, vp8) before wrappers (libvpx, h264_qsv)
    return min(ids, key=lambda n: (n.startswith('lib') or '_' in n, n))


class EncodedVideo(NamedTuple):
    """The encoder's output: its name, its global header and its packets."""
    encoder: str
    extradata: bytes
    packets: list


def encode_video(frames, codec, bitrate, preset=None, threads=None) -> EncodedVideo:
    """The packets of :func:`encode_decode_video` (same arguments), encoded by a stream
    of an MP4 container as MMagic's (the container sets the encoder's global header and
    rate-control defaults), but not muxed: the decoder takes the packets directly, which
    skips the MP4 demuxer's probing (the same frames, tested)."""
    h, w = frames[0].shape[:2]
    with av.open(io.BytesIO(), mode='w', format='mp4') as container:
        stream = container.add_stream(codec, rate=1)
        stream.width, stream.height = w, h
        stream.pix_fmt = 'yuv420p'
        stream.bit_rate = int(bitrate)
        if threads is not None:
            stream.codec_context.thread_count = threads
        if preset is not None and stream.codec_context.name == 'libx264':
            stream.codec_context.options = {'preset': preset}
        packets = []
        for img in frames:
            packets += stream.encode(av.VideoFrame.from_ndarray(img, format='rgb24'))
        packets += stream.encode(None)
        ctx = stream.codec_context
        return EncodedVideo(ctx.name, bytes(ctx.extradata or b''), packets)


def decode_packets(video: EncodedVideo, threads: Optional[int] = None) -> List[np.ndarray]:
    """Decode :func:`encode_video`'s packets to HxWx3 uint8 RGB frames."""
    ctx = av.CodecContext.create(decoder_name(video.encoder), 'r')
    if video.extradata:
        ctx.extradata = video.extradata
    if threads is not None:
        ctx.thread_count = threads
    frames, reformatter = [], VideoReformatter()
    for packet in video.packets + [None]:  # None flushes
        frames += [rgb_array(f, reformatter) for f in ctx.decode(packet)]
    return frames
