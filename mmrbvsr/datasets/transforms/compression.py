"""JPEG compression (quality drifting per frame) and video compression of a whole clip."""
import contextlib
import ctypes
import functools
import io
import logging
import threading
from typing import Iterator, List, NamedTuple, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
from mmengine.logging import print_log

from mmrbvsr.registry import TRANSFORMS

from . import tensor_ops
from .random import RandomDegradation, check_choices, check_range
from .resize import resize_frames, to_uint8

try:
    import av
    from av.video.reformatter import VideoReformatter
except ImportError:  # pragma: no cover - av is a dependency, checked when used
    av = None

FRAME_SIZE_POLICIES = ('first', 'restore')

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


def jpeg_compress(img: np.ndarray, quality: int) -> np.ndarray:
    """JPEG-encode and decode one RGB (or gray) frame with OpenCV; returns float32."""
    x = to_uint8(img)
    color = x.ndim == 3 and x.shape[2] == 3
    if color:
        x = cv2.cvtColor(x, cv2.COLOR_RGB2BGR)  # JPEG's YCbCr needs the true channel order
    ok, buf = cv2.imencode('.jpg', x, [int(cv2.IMWRITE_JPEG_QUALITY), int(quality)])
    if not ok:
        raise RuntimeError(f'cv2.imencode failed on a {x.shape} frame at quality {quality}')
    out = cv2.imdecode(buf, cv2.IMREAD_COLOR if color else cv2.IMREAD_GRAYSCALE)
    if color:
        out = cv2.cvtColor(out, cv2.COLOR_BGR2RGB)
    elif img.ndim == 3:
        out = out[..., None]
    return out.astype(np.float32)


@TRANSFORMS.register_module()
class RandomJPEGCompression(RandomDegradation):
    """JPEG-compress each frame with a quality that drifts per frame.

    Takes MMagic's ``params``: ``quality`` [low, high], ``quality_step`` (default 0),
    ``prob``. As MMagic, the first quality is uniform and rounded, and each next one
    is ``round(clip(q + U(-step, step)))``. Unlike MMagic, RGB frames are encoded with
    their true channel order (MMagic hands RGB to OpenCV as BGR) and the output is
    float32 (MMagic returns uint8).
    """

    def __init__(self, params: dict, keys: Sequence[str]) -> None:
        super().__init__(params, keys)
        self.quality = check_range('RandomJPEGCompression quality', params['quality'])
        if self.quality[0] < 0 or self.quality[1] > 100:
            raise ValueError(f'RandomJPEGCompression quality must be in [0, 100], '
                             f'got {params["quality"]!r}')
        self.step = float(params.get('quality_step', 0))

    def sample(self, num: int, rng: np.random.Generator) -> np.ndarray:
        lo, hi = self.quality
        q = [round(rng.uniform(lo, hi))]
        steps = rng.uniform(-self.step, self.step, num - 1) if num > 1 else []
        for r in steps:
            q.append(round(min(max(q[-1] + r, lo), hi)))
        return np.asarray(q, dtype=np.int64)

    def degrade(self, imgs: list, rng: np.random.Generator) -> list:
        qualities = self.sample(len(imgs), rng)
        if tensor_ops.is_tensor_clip(imgs):
            return tensor_ops.jpeg_compress(imgs, qualities)
        return [jpeg_compress(img, q) for img, q in zip(imgs, qualities)]


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


def _even(n: int) -> int:
    return max(2, n - n % 2)


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


@functools.lru_cache(maxsize=None)
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


@TRANSFORMS.register_module()
class RandomVideoCompression(RandomDegradation):
    """Compress a whole clip as one video, so that inter-frame artifacts appear.

    Codec and bit rate are drawn once per clip (MMagic's ``params``: ``codec``,
    ``codec_prob``, ``bitrate`` [low, high] in bit/s, ``prob``). Frames are rounded
    and saturated to uint8 before encoding (MMagic's ``astype`` wraps values outside
    [0, 255]). Works with PyAV 12 to 18 (MMagic sets ``pict_type='NONE'``, a
    ``TypeError`` on PyAV >= 14's enum).

    Frame sizes may differ after a drifting resize; a video has one size, so all frames
    are resized explicitly (bilinear, as PyAV's implicit rescale in MMagic) to the first
    frame's size, rounded down to even numbers (yuv420p). ``frame_size='first'`` keeps
    that size after decoding (MMagic's effective behaviour); ``'restore'`` resizes each
    decoded frame back to its own size, keeping the size drift.

    An encoder or decoder failure is logged as a warning, counted in
    ``num_failures`` and leaves the clip uncompressed; training goes on.

    Note: in PyAV the encoder name ``h264`` resolves to ``libx264``, so MMagic's three
    choices (libx264, h264, mpeg4) are two encoders, libx264 with p = 2/3.

    Args:
        params: ``codec``, ``codec_prob``, ``bitrate``, optional ``prob``, ``preset``
            (x264 preset, default None = x264's default ``medium``), ``threads``
            (default None = FFmpeg's auto), ``frame_size`` (default ``'first'``).
            With the defaults the output equals MMagic's for the same codec, bit rate
            and uint8 frames.
        keys: The results keys to compress.
    """

    def __init__(self, params: dict, keys: Sequence[str]) -> None:
        super().__init__(params, keys)
        if av is None:
            raise ImportError('RandomVideoCompression needs PyAV: pip install av')
        logging.getLogger('libav').setLevel(logging.ERROR)
        self.codecs = list(params['codec'])
        self.codec_prob = check_choices('RandomVideoCompression codec', self.codecs,
                                        params['codec_prob'])
        self.encoders = {}
        for c in self.codecs:
            try:
                self.encoders[c] = av.codec.Codec(c, 'w').name
            except Exception as e:  # unknown or decoder-only codec names
                raise ValueError(f'RandomVideoCompression: codec {c!r} is not an encoder '
                                 f'in this PyAV/FFmpeg build ({e})') from e
            decoder_name(c)  # a ValueError naming the encoder when nothing decodes it
        lo, hi = check_range('RandomVideoCompression bitrate', params['bitrate'])
        if lo <= 0:
            raise ValueError('RandomVideoCompression bitrate must be > 0, '
                             f'got {params["bitrate"]!r}')
        self.bitrate = (int(lo), int(hi))
        self.preset = params.get('preset')
        self.threads = params.get('threads')
        if self.threads is not None and (not isinstance(self.threads, int) or self.threads < 0):
            raise ValueError(f'RandomVideoCompression threads must be None or an int >= 0, '
                             f'got {self.threads!r}')
        self.frame_size = params.get('frame_size', 'first')
        if self.frame_size not in FRAME_SIZE_POLICIES:
            raise ValueError(f'RandomVideoCompression frame_size must be one of '
                             f'{FRAME_SIZE_POLICIES}, got {self.frame_size!r}')
        self.num_failures = 0

    def sample(self, rng: np.random.Generator) -> Tuple[str, int]:
        codec = self.codecs[rng.choice(len(self.codecs), p=self.codec_prob)]
        bitrate = int(rng.integers(self.bitrate[0], self.bitrate[1] + 1))
        return codec, bitrate

    def degrade(self, imgs: list, rng: np.random.Generator) -> list:
        codec, bitrate = self.sample(rng)
        on_device = tensor_ops.is_tensor_clip(imgs)
        sizes = [tensor_ops.frame_hw(img) for img in imgs]
        size = (_even(sizes[0][0]), _even(sizes[0][1]))
        if on_device:  # resized on the device, one copy to the host for the codec
            x = torch.stack(tensor_ops.resize_frames(imgs, [size] * len(imgs), cv2.INTER_LINEAR))
            frames = list(tensor_ops.round_uint8(x).to(torch.uint8).permute(0, 2, 3, 1).cpu()
                          .numpy())
        else:
            frames = resize_frames([to_uint8(img) for img in imgs], [size] * len(imgs),
                                   cv2.INTER_LINEAR)
        try:
            out = encode_decode_video(frames, codec, bitrate, self.preset, self.threads)
            if len(out) != len(frames):
                raise RuntimeError(f'decoded {len(out)} frames from {len(frames)}')
        except Exception as e:  # a bad clip must not stop training
            self.num_failures += 1
            print_log(f'RandomVideoCompression: {codec} at {bitrate} bit/s failed on '
                      f'{len(frames)} frames of {size} ({type(e).__name__}: {e}); '
                      f'clip left uncompressed ({self.num_failures} failures so far)',
                      logger='current', level=logging.WARNING)
            return imgs if on_device else [img.astype(np.float32) for img in imgs]
        if on_device:
            x = torch.from_numpy(np.stack(out)).to(imgs[0].device).permute(0, 3, 1, 2).float()
            out = list(x.unbind(0))
            if self.frame_size == 'restore':
                out = tensor_ops.resize_frames(out, sizes, cv2.INTER_LINEAR)
            return out
        if self.frame_size == 'restore':
            out = resize_frames(out, sizes, cv2.INTER_LINEAR)
        return [o.astype(np.float32) for o in out]
