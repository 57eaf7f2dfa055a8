"""JPEG compression (quality drifting per frame) and video compression of a whole clip."""
import logging
from typing import Sequence, Tuple

import cv2
import numpy as np
import torch
from mmengine.logging import print_log

from mmrbvsr.registry import TRANSFORMS

from .functional import tensor_ops
from .functional.jpeg import COLOR_TYPES, jpeg_compress
from .functional.resize import resize_frames, to_uint8
from .functional.video import av, decoder_name, encode_decode_video
from .random import RandomDegradation, check_choices, check_range

FRAME_SIZE_POLICIES = ('first', 'restore')


def _even(n: int) -> int:
    return max(2, n - n % 2)


@TRANSFORMS.register_module()
class RandomJPEGCompression(RandomDegradation):
    """JPEG-compress each frame with a quality that drifts per frame.

    Takes MMagic's ``params``: ``quality`` [low, high], ``quality_step`` (default 0),
    ``prob``. As MMagic, the first quality is uniform and rounded, and each next one
    is ``round(clip(q + U(-step, step)))``. The output is float32 (MMagic returns uint8,
    same values).

    Args:
        params: The settings above (MMagic's keys; others are ignored).
        keys: The results keys to compress.
        color_type: ``'color'`` decodes three channels (a gray frame comes back as
            three equal channels), ``'grayscale'`` the luma plane only, as (H, W)
            frames (tensor frames keep a channel axis). Default: ``'color'``.
        bgr2rgb: MMagic's meaning: the frames are RGB and are swapped to OpenCV's BGR
            around the codec, so JPEG's YCbCr gets the true luma. Default: True, unlike
            MMagic's False, which hands the RGB frames of RealBasicVSR's pipeline to
            OpenCV as BGR (wrong luma weights); ``bgr2rgb=False`` gives MMagic's default
            output. With ``'grayscale'`` MMagic ignores it (encodes as BGR); here it
            still applies.
    """

    def __init__(self, params: dict, keys: Sequence[str], color_type: str = 'color',
                 bgr2rgb: bool = True) -> None:
        super().__init__(params, keys)
        self.quality = check_range('RandomJPEGCompression quality', params['quality'])
        if self.quality[0] < 0 or self.quality[1] > 100:
            raise ValueError(f'RandomJPEGCompression quality must be in [0, 100], '
                             f'got {params["quality"]!r}')
        self.step = float(params.get('quality_step', 0))
        if color_type not in COLOR_TYPES:
            raise ValueError(f'RandomJPEGCompression color_type must be one of {COLOR_TYPES}, '
                             f'got {color_type!r}')
        self.color_type = color_type
        self.bgr2rgb = bool(bgr2rgb)

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
            return self._degrade_tensors(imgs, qualities)
        return [jpeg_compress(img, q, self.bgr2rgb, self.color_type)
                for img, q in zip(imgs, qualities)]

    def _degrade_tensors(self, imgs: list, qualities: np.ndarray) -> list:
        """CHW tensor frames: the channel order and color type around the batched codec."""
        gray = self.color_type == 'grayscale'
        ins = []
        for x in imgs:
            if x.size(0) == 3:
                x = x if self.bgr2rgb else x.flip(0)  # the codec takes RGB
                if gray:  # the luma plane, as a color JPEG decoded to gray
                    x = tensor_ops.round_uint8(tensor_ops.luma(x[None]))[0]
            ins.append(x)
        outs = tensor_ops.jpeg_compress(ins, qualities)
        if gray:
            return outs
        # color: gray frames come back as three equal channels
        return [o.repeat(3, 1, 1) if o.size(0) == 1 else (o if self.bgr2rgb else o.flip(0))
                for o in outs]


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
