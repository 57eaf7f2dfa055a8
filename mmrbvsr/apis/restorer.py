"""Restoring videos of any length with a RealBasicVSR generator, in bounded memory.

The generator is bidirectional and recurrent: the output of frame ``i`` depends on every frame
of the clip it is given. A long video is therefore processed in windows of ``window`` frames
that overlap by ``overlap`` frames; in each overlap the outputs of the two windows are
crossfaded linearly, so each window's weak edge (the frames with little context on one side)
gets little weight and no seam shows. Frames are decoded, restored and encoded as a stream.
Several windows can be restored as one batch (``batch_windows``; on a GPU the default is
chosen from the free memory): at most ``(B - 1) x (window - overlap) + window`` input frames
and ``B x window + overlap`` output frames are held at any time. ``window=None`` restores
the whole video as one clip (the paper's setting; memory then grows with the length).

Large frames can be split into overlapping spatial tiles that are each propagated through the
whole window and blended with linear ramps.
"""
import contextlib
import sys
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from torch import nn

from mmrbvsr.checkpoint import load_generator_weights
from mmrbvsr.models.builder import build_generator
from mmrbvsr.utils.cli import parse_device, parse_dtype

from .partial_output import remove_leftovers
from .pipeline import quantize, restore_stream
from .progress import FrameProgress, WindowProgress
from .video_io import (
    FrameSink,
    FrameSource,
    ImageFolderSink,
    VideoFileSink,
    VideoIOError,
    check_frame_size,
    open_source,
    output_kind,
)


def check_options(window: Optional[int] = 30, overlap: Optional[int] = None,
                  tile: Optional[int] = None, tile_overlap: int = 16,
                  out_size: Optional[Tuple[int, int]] = None,
                  out_scale: Optional[float] = None,
                  batch_windows: Optional[int] = None) -> None:
    """Checks the options of :class:`VideoRestorer` (same names and meanings).

    Raises:
        ValueError: Naming the option and the value at fault.
    """
    if window is not None and window < 2:
        raise ValueError(f'window must be at least 2 frames (or None), got {window}')
    if window is None and overlap:
        raise ValueError(f'an overlap ({overlap}) needs windows: without a window the whole '
                         'video is restored at once')
    if window is not None and overlap is not None and not 0 <= overlap <= window // 2:
        # a larger overlap would put frames in three windows
        raise ValueError(f'overlap must be in [0, window // 2] = [0, {window // 2}], '
                         f'got {overlap}')
    if tile is not None and tile < 16:
        raise ValueError(f'tile must be at least 16 pixels (64 recommended), got {tile}')
    if tile is not None and not 0 <= tile_overlap < tile:
        raise ValueError(f'tile_overlap must be in [0, tile) = [0, {tile}), '
                         f'got {tile_overlap}')
    if out_size is not None and out_scale is not None:
        raise ValueError('give out_size or out_scale, not both')
    if out_size is not None and (len(out_size) != 2 or tuple(out_size) == (-1, -1) or any(
            s == 0 or s < -1 for s in out_size)):
        raise ValueError(f'out_size must be (width, height) with positive sides, one of '
                         f'them possibly -1; got {out_size}')
    if out_scale is not None and out_scale <= 0:
        raise ValueError(f'out_scale must be positive, got {out_scale}')
    if batch_windows is not None and (isinstance(batch_windows, bool) or not isinstance(
            batch_windows, int) or batch_windows < 1):
        raise ValueError(f'batch_windows must be a positive int (or None for the '
                         f'default), got {batch_windows!r}')


def _out_size(h: int, w: int, out_size: Optional[Tuple[int, int]],
              out_scale: Optional[float]) -> Optional[Tuple[int, int]]:
    """The output ``(width, height)`` for a ``w x h`` input frame, or None for the model's.

    A ``-1`` in ``out_size`` keeps the aspect ratio; computed sides are rounded to even numbers
    (what yuv420p video needs).
    """
    if out_scale is not None:
        return (int(round(w * out_scale / 2)) * 2, int(round(h * out_scale / 2)) * 2)
    if out_size is None:
        return None
    ow, oh = out_size
    if ow == -1:
        ow = int(round(w * oh / h / 2)) * 2
    elif oh == -1:
        oh = int(round(h * ow / w / 2)) * 2
    return ow, oh


def _ramp(length: int, ramp: int, start: bool, end: bool) -> torch.Tensor:
    """A 1-D blending weight: 1 inside, rising linearly over ``ramp`` samples at open edges."""
    weight = torch.ones(length)
    if ramp > 0:
        rise = (torch.arange(ramp, dtype=torch.float32) + 1) / (ramp + 1)
        if start:
            weight[:ramp] = torch.minimum(weight[:ramp], rise)
        if end:
            weight[-ramp:] = torch.minimum(weight[-ramp:], rise.flip(0))
    return weight


def _tile_weight(height: int, width: int, ramp: int, edges: Tuple[bool, ...]) -> torch.Tensor:
    """A tile's blending weight; ``edges``: whether it blends at the top, bottom, left, right."""
    return (_ramp(height, ramp, edges[0], edges[1])[:, None] *
            _ramp(width, ramp, edges[2], edges[3])[None, :])


def _fade_weight(length: int) -> torch.Tensor:
    """The next window's weight over an overlap of ``length`` frames (1/(n+1) ... n/(n+1))."""
    return (torch.arange(length, dtype=torch.float32) + 1) / (length + 1)


def _tile_starts(size: int, tile: int, overlap: int) -> Sequence[int]:
    if size <= tile:
        return [0]
    starts = list(range(0, size - tile, tile - overlap))
    return starts + [size - tile]


# Memory model of one window on a GPU, for the default ``batch_windows`` (bytes; LR pixels
# of the window's clips, tiles included, with D the feature dtype's size: 2 for bf16/fp16,
# 4 for fp32). Per LR pixel and frame: input and cleaned frames (24), both flow directions
# and their step-major copy (32), the padded frames (8 D), the propagation features held
# until both branches have passed a frame (at most half the window: 64 D on average over
# the window), the float32 x4 output (192) and the crossfaded overlap (96): 344 + 72 D.
# Per LR pixel of one frame per clip: the reconstruction of one frame (the x2 and x4
# features before and after the pixel shuffles, ~3072 D). Besides, the cleaning module's
# and SPyNet's activations (chunks of BATCH_PIXELS_CUDA = 2^21 LR pixels) and the output's
# conversion take a fixed ~3 GiB. Measured peaks are in bench/gpu/restorer.sh's log.
WINDOW_BYTES_PER_PIXEL_FRAME = 344
WINDOW_BYTES_PER_PIXEL_FRAME_D = 72
RECON_BYTES_PER_PIXEL_D = 3072
FIXED_BYTES = 3 * 2**30
MEMORY_SHARE = 0.7  # of the free memory: the model is an estimate
# A batch fills the GPU's convolutions once a propagation step sees about this many LR
# pixels (n clips x h x w: 10 windows at 180x320, 2 at 540x960); larger batches add memory
# and latency, and leave fewer batches in a short video to overlap decoding and encoding.
SATURATION_PIXELS = 2**19
MAX_BATCH_WINDOWS = 16
# A video of known length gets at least this many batches, so that decoding the first and
# encoding the last batch (the GPU's idle time) are a small part of the run.
MIN_BATCHES = 4


def window_bytes(frames: int, pixels: int, dtype: torch.dtype) -> int:
    """Estimated GPU bytes one window of ``frames`` frames of ``pixels`` LR pixels adds to a
    batch (the memory model above)."""
    d = 4 if dtype == torch.float32 else 2
    return (frames * pixels * (WINDOW_BYTES_PER_PIXEL_FRAME + WINDOW_BYTES_PER_PIXEL_FRAME_D * d)
            + pixels * RECON_BYTES_PER_PIXEL_D * d)


def default_batch_windows(device: torch.device, dtype: torch.dtype, frames: int,
                          pixels: int, windows: Optional[int] = None) -> int:
    """Windows per batch on ``device`` for windows of ``frames`` frames of ``pixels`` LR
    pixels each (tiles included): 1 on a CPU; on a GPU as many as ``MEMORY_SHARE`` of the
    free memory holds by the memory model, at most enough to saturate the GPU
    (``SATURATION_PIXELS``), ``MAX_BATCH_WINDOWS`` and, for a video of ``windows`` windows,
    a ``MIN_BATCHES``-th of them."""
    if device.type != 'cuda':
        return 1
    few = MAX_BATCH_WINDOWS if windows is None else -(-windows // MIN_BATCHES)
    free, _ = torch.cuda.mem_get_info(device)
    stats = torch.cuda.memory_stats(device)
    # memory the caching allocator holds but does not use is free for the batch too
    free += stats.get('reserved_bytes.all.current', 0) - stats.get(
        'allocated_bytes.all.current', 0)
    fits = int((free * MEMORY_SHARE - FIXED_BYTES) // window_bytes(frames, pixels, dtype))
    saturating = -(-SATURATION_PIXELS // pixels)
    return max(1, min(fits, saturating, few, MAX_BATCH_WINDOWS))


class VideoRestorer:
    """Restores streams of frames with a RealBasicVSR generator, window by window.

    Windows are restored ``batch_windows`` at a time as one ``(B, t, 3, h, w)`` batch (with
    tiles: every tile of every window as one more clip), so that on a GPU every convolution
    sees several frames; each window's result is the same as alone (the generator treats the
    clips of a batch independently: cleaning passes and mirrored-clip checks are per clip),
    and the windows are crossfaded and emitted in order as before.

    Args:
        generator (nn.Module): Maps ``(n, t, 3, h, w)`` in [0, 1] to ``(n, t, 3, sh, sw)``
            (any callable on such tensors, e.g. another runtime's session, works too).
        device (str | torch.device): Where the generator runs. Defaults to ``'cpu'``.
        dtype (str | torch.dtype): ``'fp32'``, ``'bf16'`` or ``'fp16'`` (autocast). Defaults
            to ``'fp32'``.
        window (int, optional): Frames propagated together. None restores the whole video at
            once (memory grows with its length). Defaults to 30.
        overlap (int, optional): Frames shared by consecutive windows and crossfaded, at most
            ``window // 2``. Defaults to ``min(10, window // 2)``.
        tile (int, optional): Side of square spatial tiles in input pixels; None for whole
            frames. Defaults to None.
        tile_overlap (int): Input pixels shared by neighbouring tiles. Defaults to 16.
        out_size (tuple[int, int], optional): Output ``(width, height)``; ``-1`` for one side
            keeps the aspect ratio. The x4 result is resized (area filter when shrinking,
            Lanczos when enlarging). Defaults to None (x4).
        out_scale (float, optional): Output size as a multiple of the input size, instead of
            ``out_size``. Defaults to None.
        batch_windows (int, optional): Windows restored together. None: 1 on a CPU; on a GPU
            chosen from the free memory and the frame size (``default_batch_windows``).
            Memory grows with ``batch_windows x window``. Defaults to None.

    Examples:
        >>> restorer = VideoRestorer(generator, window=30, overlap=10)
        >>> for frame in restorer.restore_frames(frames):  # RGB uint8 (h, w, 3) each
        ...     sink.write(frame)
    """

    def __init__(self, generator: nn.Module, device: Union[str, torch.device] = 'cpu',
                 dtype: Union[str, torch.dtype] = 'fp32', window: Optional[int] = 30,
                 overlap: Optional[int] = None, tile: Optional[int] = None, tile_overlap: int = 16,
                 out_size: Optional[Tuple[int, int]] = None,
                 out_scale: Optional[float] = None,
                 batch_windows: Optional[int] = None) -> None:
        check_options(window, overlap, tile, tile_overlap, out_size, out_scale, batch_windows)
        if overlap is None:
            overlap = 0 if window is None else min(10, window // 2)
        self.device = parse_device(device)
        self.dtype = parse_dtype(dtype, self.device)
        self.generator = generator.to(self.device).eval() if isinstance(
            generator, nn.Module) else generator
        self.window = window
        self.overlap = overlap if window is not None else 0
        self.tile = tile
        self.tile_overlap = tile_overlap
        self.out_size = out_size
        self.out_scale = out_scale
        self.batch_windows = batch_windows
        # The most frames held at once during the last run: memory is proportional to these.
        self.stats = {'max_input_frames': 0, 'max_output_frames': 0}
        # windows per batch in the last run (batch_windows, or the default chosen for it)
        self.last_batch_windows: Optional[int] = None
        self.last_input_size: Optional[Tuple[int, int]] = None  # (h, w) of the last run
        self._device_cache: Dict[Any, torch.Tensor] = {}

    def frames_per_batch(self) -> int:
        """Input frames one batch of windows consumes (for reading ahead): the batch's
        windows less their overlaps, once the batch size is known (the window before)."""
        if self.window is None:
            return 64
        step = self.window - self.overlap
        return max(self.window, (self.last_batch_windows or 1) * step)

    def _on_device(self, key: Any, make: Callable[..., torch.Tensor], *args) -> torch.Tensor:
        # small constant tensors (blending weights) built once, then reused on the device
        tensor = self._device_cache.get(key)
        if tensor is None:
            tensor = self._device_cache[key] = make(*args).to(self.device)
        return tensor

    def _forward(self, lqs: torch.Tensor) -> torch.Tensor:
        """Runs the generator on ``(n, t, 3, h, w)``, returns float32 on its device."""
        if lqs.size(1) == 1:  # the recurrence needs two frames; a still is its own neighbour
            return self._forward(lqs.expand(-1, 2, -1, -1, -1).contiguous())[:, :1]
        try:
            with torch.autocast(self.device.type, dtype=self.dtype,
                                enabled=self.dtype != torch.float32):
                out = self.generator(lqs.to(self.device))
        except RuntimeError as e:
            if self.dtype != torch.float32 and 'not implemented for' in str(e):
                raise ValueError(f'{self.dtype} is not supported on {self.device} by this '
                                 f'PyTorch build ({e}); use fp32') from e
            raise
        return out.float()

    def _tiles(self, h: int, w: int) -> Optional[Tuple[int, int, list]]:
        """``(tile_h, tile_w, [(y, x), ...])`` of a ``h x w`` frame, or None untiled."""
        if self.tile is None or (h <= self.tile and w <= self.tile):
            return None
        tile_h, tile_w = min(self.tile, h), min(self.tile, w)
        return tile_h, tile_w, [(y, x) for y in _tile_starts(h, tile_h, self.tile_overlap)
                                for x in _tile_starts(w, tile_w, self.tile_overlap)]

    @torch.inference_mode()
    def restore_clips(self, lqs: torch.Tensor) -> torch.Tensor:
        """Restores clips, tiled if ``tile`` is set: every tile of every clip in one batch.

        Args:
            lqs (Tensor): ``(n, t, 3, h, w)`` in [0, 1].

        Returns:
            Tensor: ``(n, t, 3, sh, sw)`` float32 on the restorer's device, not clamped.
        """
        lqs = lqs.to(self.device)
        n, h, w = lqs.size(0), lqs.size(-2), lqs.size(-1)
        tiles = self._tiles(h, w)
        if tiles is None:
            return self._forward(lqs)
        tile_h, tile_w, starts = tiles
        # the tiles as more clips, tile by tile: clip i of tile k is row k * n + i
        patches = self._forward(torch.cat([lqs[..., y:y + tile_h, x:x + tile_w]
                                           for y, x in starts]))
        scale = patches.size(-1) // tile_w
        out = patches.new_zeros(patches.shape[:3] + (h * scale, w * scale))[:n]
        weight_sum = patches.new_zeros((h * scale, w * scale))
        ramp = self.tile_overlap * scale
        for k, (y, x) in enumerate(starts):
            edges = (y > 0, y + tile_h < h, x > 0, x + tile_w < w)  # which sides blend
            weight = self._on_device(('tile', tile_h, tile_w, scale, ramp) + edges,
                                     _tile_weight, tile_h * scale, tile_w * scale, ramp,
                                     edges)
            region = (..., slice(y * scale, (y + tile_h) * scale),
                      slice(x * scale, (x + tile_w) * scale))
            out[region] += patches[k * n:(k + 1) * n] * weight
            weight_sum[region[1:]] += weight
        return out / weight_sum

    def restore_clip(self, lqs: torch.Tensor) -> torch.Tensor:
        """Restores one clip, tiled if ``tile`` is set.

        Args:
            lqs (Tensor): ``(t, 3, h, w)`` in [0, 1].

        Returns:
            Tensor: ``(t, 3, sh, sw)`` float32 on the CPU, not clamped.
        """
        return self.restore_clips(lqs.unsqueeze(0))[0].cpu()

    def _to_frames(self, hr: torch.Tensor, size: Optional[Tuple[int, int]]
                   ) -> Iterator[np.ndarray]:
        """``(k, 3, H, W)`` float in [0, 1] -> RGB uint8 frames at ``size`` = (width, height)."""
        frames = quantize(hr)
        frames = frames.permute(0, 2, 3, 1).contiguous().cpu().numpy()
        for frame in frames:
            if size is None or size == (frame.shape[1], frame.shape[0]):
                yield frame
                continue
            import cv2
            shrink = size[0] <= frame.shape[1] and size[1] <= frame.shape[0]
            yield cv2.resize(frame, size, interpolation=cv2.INTER_AREA if shrink
                             else cv2.INTER_LANCZOS4)

    def _restore_windows(self, frames: Sequence[np.ndarray], first: int,
                         starts: Sequence[int], length: int) -> torch.Tensor:
        """Restores the windows ``[s, s + length)`` for ``s`` in ``starts`` as one batch;
        ``frames`` are the input frames from index ``first`` on."""
        end = starts[-1] + length
        needed = frames[starts[0] - first:end - first]
        if self.device.type == 'cuda':  # pinned: the upload does not wait for the GPU
            staged = torch.empty((len(needed), ) + needed[0].shape, dtype=torch.uint8,
                                 pin_memory=True)
            np.stack(needed, out=staged.numpy())
            uploaded = staged.to(self.device, non_blocking=True)
        else:
            uploaded = torch.from_numpy(np.stack(needed))  # (m, h, w, 3)
        offsets = [s - starts[0] for s in starts]
        clips = torch.stack([uploaded[o:o + length] for o in offsets])  # (n, t, h, w, 3)
        lqs = clips.permute(0, 1, 4, 2, 3).float() / 255
        return self.restore_clips(lqs)

    def restore_chunks(self, frames: Iterable[np.ndarray],
                       num_frames: Optional[int] = None) -> Iterator[torch.Tensor]:
        """Restores a stream of frames, yielding the output in order as soon as it is final.

        Reads ahead the frames of ``batch_windows`` windows, restores them as one batch and
        yields their outputs, crossfaded where windows overlap.

        Args:
            frames (Iterable[np.ndarray]): RGB ``uint8`` frames ``(h, w, 3)`` of equal size.
            num_frames (int, optional): How many frames to expect, if known (the default
                ``batch_windows`` then leaves several batches to overlap with the codec).

        Yields:
            Tensor: ``(k, 3, sH, sW)`` float32 output frames on the restorer's device, in
            [0, 1] (not clamped, not resized to ``out_size``); one output frame per input
            frame over all chunks.

        Raises:
            VideoIOError: If there are no frames or their size changes.
            ValueError: If a frame is not RGB ``uint8``.
        """
        self.stats = {'max_input_frames': 0, 'max_output_frames': 0}
        window, overlap = self.window, self.overlap
        step = None if window is None else window - overlap
        batch = 1 if window is None else self.batch_windows
        self.last_batch_windows = batch
        inputs: list = []  # input frames [first, read)
        first = read = 0
        next_start = 0  # of the next full window not yet restored
        pending = None  # outputs of frames [emitted, last_end), to crossfade with the next window
        emitted = last_end = 0
        size = None

        def merge(outputs: torch.Tensor, start: int, final: bool) -> Iterator[torch.Tensor]:
            # Crossfades `pending` into the window's outputs, then emits everything but the
            # tail that the next window overlaps.
            nonlocal pending, emitted, last_end
            end = start + outputs.size(0)
            if pending is not None:
                n = pending.size(0)
                new_weight = self._on_device(('fade', n), _fade_weight, n)
                new = outputs[emitted - start:last_end - start]
                yield pending + (new - pending) * new_weight[:, None, None, None]
            keep = 0 if final else overlap
            if end - keep > last_end:
                yield outputs[last_end - start:end - keep - start]
            pending = outputs[end - keep - start:].clone() if keep else None
            emitted, last_end = end - keep, end

        def run(starts: Sequence[int], length: int, final: bool) -> Iterator[torch.Tensor]:
            held = len(starts) * length + (0 if pending is None else pending.size(0))
            self.stats['max_output_frames'] = max(self.stats['max_output_frames'], held)
            outputs = self._restore_windows(inputs, first, starts, length)
            for i, start in enumerate(starts):
                yield from merge(outputs[i], start, final and i == len(starts) - 1)

        for frame in frames:
            if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
                raise ValueError(f'frame {read} must be RGB uint8 (h, w, 3), got '
                                 f'{frame.dtype} {frame.shape}')
            size = check_frame_size(frame, size, read, 'input')
            self.last_input_size = size
            if batch is None:  # the default, now that the frame size is known
                tiles = self._tiles(*size)
                pixels = size[0] * size[1] if tiles is None else (
                    tiles[0] * tiles[1] * len(tiles[2]))
                windows = None if not num_frames else max(
                    1, -(-(num_frames - overlap) // step))
                batch = default_batch_windows(self.device, self.dtype, window, pixels, windows)
                self.last_batch_windows = batch
            inputs.append(frame)
            read += 1
            if window is not None:
                # kept: the next windows' frames, and the last `window` for a tail window
                drop = min(next_start, read - window) - first
                if drop > 0:
                    del inputs[:drop]
                    first += drop
            self.stats['max_input_frames'] = max(self.stats['max_input_frames'], len(inputs))
            if window is not None and read == next_start + (batch - 1) * step + window:
                starts = [next_start + i * step for i in range(batch)]
                yield from run(starts, window, final=False)
                next_start += batch * step
        if read == 0:
            raise VideoIOError('no frames to restore: the input is empty')
        # the windows that fit, then the tail: the last `window` frames (or all of a short
        # video) where frames are left over; at most `batch` windows
        length = read if window is None else min(window, read)
        starts = [] if window is None else list(range(next_start, read - window + 1, step))
        if (starts[-1] + window if starts else last_end) < read:
            starts.append(read - length)
        if starts:
            yield from run(starts, length, final=True)
        elif pending is not None:
            yield pending
            pending = None

    def restore_frames(self, frames: Iterable[np.ndarray],
                       num_frames: Optional[int] = None) -> Iterator[np.ndarray]:
        """Restores a stream of frames, yielding each output frame as soon as it is final.

        Args:
            frames (Iterable[np.ndarray]): RGB ``uint8`` frames ``(h, w, 3)`` of equal size.
            num_frames (int, optional): How many frames to expect, if known (see
                :meth:`restore_chunks`).

        Yields:
            np.ndarray: RGB ``uint8`` output frames, in order, one per input frame.

        Raises:
            VideoIOError: If there are no frames or their size changes.
            ValueError: If a frame is not RGB ``uint8``.
        """
        for chunk in self.restore_chunks(frames, num_frames):
            size = _out_size(*self.last_input_size, self.out_size, self.out_scale)
            yield from self._to_frames(chunk, size)


def init_restorer(config: Union[str, Path, Config], checkpoint: Optional[Union[str, Path]],
                  refine_threshold: Optional[float] = None, prefer_ema: bool = True,
                  **kwargs: Any) -> VideoRestorer:
    """Builds the generator of ``config``, loads ``checkpoint`` and wraps it in a restorer.

    Args:
        config (str | Path | Config): A RealBasicVSR config; only ``model.generator`` is built.
        checkpoint (str | Path, optional): Path or URL of a released MMagic / MMEditing / authors'
            checkpoint (EMA generator preferred) or a bare generator state dict. None keeps
            random weights (for tests only).
        refine_threshold (float, optional): Dynamic refinement threshold on the 0-255 scale.
        prefer_ema (bool): Take ``generator_ema`` when the checkpoint has it.
        **kwargs: Passed to :class:`VideoRestorer` (device, dtype, window, overlap, tile, ...).

    Returns:
        VideoRestorer: Ready to restore.
    """
    generator = build_generator(config, refine_threshold)
    if checkpoint is not None:
        load_generator_weights(generator, checkpoint, prefer_ema)
    return VideoRestorer(generator, **kwargs)


def init_onnx_restorer(onnx_path: Union[str, Path], device: Union[str, torch.device] = 'cpu',
                       dtype: Union[str, torch.dtype] = 'fp32', threads: Optional[int] = None,
                       **kwargs: Any) -> VideoRestorer:
    """A ``VideoRestorer`` running an exported generator with onnxruntime
    (``mmrbvsr.deploy.OnnxRuntimeGenerator``).

    Windows, crossfades, tiles and the output size work as with the PyTorch generator
    (:func:`init_restorer`).

    Args:
        onnx_path (str | Path): A graph written by ``tools/deployment/export_onnx.py``.
        device (str | torch.device): ``'cpu'`` (onnxruntime's CPU provider) or a CUDA
            device (its CUDA provider, ``onnxruntime-gpu``). Default: ``'cpu'``.
        dtype (str | torch.dtype): Must be ``'fp32'``: the graph computes in float32.
        threads (int, optional): onnxruntime's intra-op threads.
        **kwargs: Passed to :class:`VideoRestorer` (window, overlap, tile, ...).

    Returns:
        VideoRestorer: Ready to restore.
    """
    from mmrbvsr.deploy import OnnxRuntimeGenerator
    if dtype not in ('fp32', torch.float32):
        raise ValueError(f'the ONNX graph computes in float32: dtype must be fp32, got {dtype!r}')
    generator = OnnxRuntimeGenerator(onnx_path, device, threads)
    return VideoRestorer(generator, device=device, dtype='fp32', **kwargs)


def open_sink(output: Union[str, Path], fps: Fraction, audio_from: Optional[str] = None,
              overwrite: bool = False, **video_options: Any) -> FrameSink:
    """A video sink for a video file name, a PNG folder sink for a folder (:func:`output_kind`).

    Raises:
        VideoIOError: For a name that is neither, or a destination that cannot be written.
        ValueError: For encoder options with a folder output.
    """
    if _output_kind(output, video_options) == 'video':
        return VideoFileSink(output, fps, audio_from=audio_from, overwrite=overwrite,
                             **video_options)
    return ImageFolderSink(output, overwrite=overwrite)


def _output_kind(output: Union[str, Path], video_options: Dict[str, Any]) -> str:
    kind = output_kind(output)
    if kind == 'folder' and video_options:
        raise ValueError(f'encoder options ({", ".join(sorted(video_options))}) apply to video '
                         f'files, but {str(output)!r} is a folder of PNG frames')
    return kind


def output_size(width: int, height: int, scale: int = 4,
                out_size: Optional[Tuple[int, int]] = None,
                out_scale: Optional[float] = None) -> Tuple[int, int]:
    """The ``(width, height)`` of the output frames for ``width x height`` input frames."""
    return _out_size(height, width, out_size, out_scale) or (width * scale, height * scale)


@dataclass
class RestoreJob:
    """What a restoration reads and writes, checked before any model is built.

    Attributes:
        source (FrameSource): The frames to restore.
        sink (FrameSink): Where they go (nothing written yet).
        size (tuple[int, int]): Output ``(width, height)``.
        existed (bool): Whether the output existed before (it is kept on any failure).
        notes (list[str]): Things the user should know (leftovers removed, audio dropped).
    """

    source: FrameSource
    sink: FrameSink
    size: Tuple[int, int]
    existed: bool
    notes: List[str] = field(default_factory=list)


def prepare_job(input: Union[str, Path], output: Union[str, Path], scale: int = 4,
                out_size: Optional[Tuple[int, int]] = None, out_scale: Optional[float] = None,
                fps: Optional[float] = None, start: int = 0, frames: Optional[int] = None,
                copy_audio: bool = True, overwrite: bool = False,
                note: Optional[Callable[[str], None]] = None,
                **video_options: Any) -> RestoreJob:
    """Opens the input and checks the output, in a fraction of a second, before any model.

    Reads the input's header (or first image), checks the output name, folder and size, and
    for a video output encodes one trial frame with the encoder options (and copies one audio
    packet) so that what FFmpeg would refuse is known before any work. Temporary outputs that
    killed runs to the same destination left behind are removed.

    Args:
        input, output, fps, copy_audio, overwrite, **video_options: As in
            :func:`restore_video`.
        scale (int): The network's upsampling factor. Defaults to 4.
        out_size, out_scale: As in :class:`VideoRestorer`.
        start (int): Index of the first input frame to restore. Defaults to 0.
        frames (int, optional): Restore at most this many frames. Defaults to None (all).
        note (callable, optional): Called at once with each note (leftovers removed, audio
            a container cannot hold), so that none is lost to a later error. Defaults to
            printing ``note: ...`` on stderr.

    Returns:
        RestoreJob: The opened input and the unwritten output.

    Raises:
        VideoIOError: For unreadable inputs, unwritable outputs and encoder settings FFmpeg
            refuses.
        ValueError: For bad option values or combinations.
    """
    check_options(out_size=out_size, out_scale=out_scale)
    kind = _output_kind(output, video_options)
    source = open_source(input, fps, start, frames)
    width, height = source.frame_size()
    size = output_size(width, height, scale, out_size, out_scale)
    note = note or (lambda text: print(f'note: {text}', file=sys.stderr, flush=True))
    notes = remove_leftovers(Path(output))
    for text in notes:
        note(text)
    existed = Path(output).exists()
    if kind == 'video':
        audio_end = None if frames is None else float((start + frames) / source.fps)
        sink = VideoFileSink(output, source.fps,
                             audio_from=source.audio_path if copy_audio else None,
                             overwrite=overwrite, audio_start=source.start_seconds,
                             audio_end=audio_end, **video_options)
        for text in sink.notes:
            note(text)
        sink.check(*size)
    else:
        sink = ImageFolderSink(output, overwrite=overwrite)
    return RestoreJob(source, sink, size, existed, notes + sink.notes)


def _window_progress(restorer: VideoRestorer, job: RestoreJob,
                     meter: FrameProgress) -> WindowProgress:
    window = restorer.window
    tiles = 1
    if restorer.tile is not None:
        width, height = job.source.frame_size()
        tiles = restorer._tiles(height, width)
        tiles = 1 if tiles is None else len(tiles[2])
    return WindowProgress(meter, getattr(restorer, 'generator', None),
                          None if window is None else window - restorer.overlap, tiles)


def run_job(restorer: VideoRestorer, job: RestoreJob,
            progress: Union[bool, FrameProgress] = True) -> Dict[str, Any]:
    """Restores the frames of a :func:`prepare_job` job into its output.

    The input is decoded and the output encoded in background threads
    (:func:`~mmrbvsr.apis.pipeline.restore_stream`); both have stopped when this returns or
    raises, before the output is committed or removed.

    Args:
        restorer (VideoRestorer): The restorer.
        job (RestoreJob): What to read and write.
        progress (bool | FrameProgress): Show progress by frame on stderr (or on this meter).

    Returns:
        dict: ``frames``, ``fps``, ``size`` (output width, height), ``seconds``, ``output``.
    """
    meter = FrameProgress(job.source.num_frames) if progress is True else (progress or None)
    start = time.perf_counter()
    watch = _window_progress(restorer, job, meter) if meter is not None else None
    try:
        with job.sink, watch or contextlib.nullcontext():
            count, out_size = restore_stream(restorer, job.source, job.sink,
                                             None if watch is None else watch.wrote)
    finally:
        if meter is not None:
            meter.close()
    return {'frames': count, 'fps': job.source.fps, 'size': out_size,
            'seconds': time.perf_counter() - start, 'output': str(job.sink.path)}


def restore_video(restorer: VideoRestorer, input: Union[str, Path], output: Union[str, Path],
                  fps: Optional[float] = None, copy_audio: bool = True, overwrite: bool = False,
                  progress: Union[bool, FrameProgress] = True, start: int = 0,
                  frames: Optional[int] = None, **video_options: Any) -> Dict[str, Any]:
    """Restores a video file, folder or glob of frames into a video file or a PNG folder.

    Frames stream from the decoder through the restorer into the encoder; the output appears
    at ``output`` only once complete (an existing one is replaced only then, and only with
    ``overwrite``). On any error or interrupt the temporary output is removed.

    Args:
        restorer (VideoRestorer): The restorer.
        input (str | Path): Video file, folder of frames or glob pattern.
        output (str | Path): A video file (``.mp4``, ``.mkv``, ``.y4m``, ...) or a folder for
            PNG frames (a name without an extension, or ending in ``/``).
        fps (float, optional): Frame rate, for frame inputs (default 25) or to override.
        copy_audio (bool): Copy the input's audio stream into a video output (the part that
            goes with the frames restored).
        overwrite (bool): Replace an existing output.
        progress (bool | FrameProgress): Show progress by frame, with frames per second and
            ETA, on stderr.
        start (int): Index of the first input frame to restore. Defaults to 0.
        frames (int, optional): Restore at most this many frames. Defaults to None (all).
        **video_options: Encoder options of :class:`VideoFileSink` (codec, crf, preset,
            bitrate, pix_fmt, options).

    Returns:
        dict: ``frames``, ``fps``, ``size`` (output width, height), ``seconds``, ``output``.

    Raises:
        VideoIOError: For unreadable, empty, truncated or corrupt inputs, unknown codecs, an
            unknown output extension or an existing output without ``overwrite``.
        ValueError: For encoder options with a folder output.
    """
    scale = getattr(getattr(restorer, 'generator', None), 'upscale_factor', 4)
    job = prepare_job(input, output, scale, restorer.out_size, restorer.out_scale, fps, start,
                      frames, copy_audio, overwrite, **video_options)
    return run_job(restorer, job, progress)
