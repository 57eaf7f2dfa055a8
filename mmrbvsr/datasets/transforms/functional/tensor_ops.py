"""Blur, resize, noise and JPEG on frames held as torch tensors, e.g. on a GPU.

A clip is a list of CHW float32 tensors in 0-255 (:class:`FramesToTensor` makes it).
Frames of equal size are processed together, one batched call per run of equal sizes
(JPEG: one call for frames of all sizes);
the degradation transforms dispatch here when their frames are tensors, drawing the
same parameters from the sample's generator as on NumPy frames.

- Blur: grouped convolution with each frame's kernel, reflect-101 border (``cv2.filter2D``).
- Resize: ``Wy @ img @ Wx^T`` with OpenCV's own interpolation weights, read off
  ``cv2.resize`` of identity probes, so bilinear, bicubic and area equal ``cv2.resize``.
- Noise: ``torch.randn`` / exact ``torch.poisson`` from a torch generator seeded from the
  sample's generator.
- JPEG: baseline JPEG in float arithmetic (libjpeg's YCbCr, 4:2:0, quality-scaled Annex K
  tables, orthonormal 8x8 DCT, fancy chroma upsampling); it stays within about 1 level of
  libjpeg's integer codec (tested against ``cv2.imencode``).
"""
import contextlib
import functools
from typing import Iterator, List, Sequence, Tuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F

Frames = List[torch.Tensor]

# JPEG Annex K tables (natural order); libjpeg scales them by quality
JPEG_LUMA_Q = np.array(
    [[16, 11, 10, 16, 24, 40, 51, 61], [12, 12, 14, 19, 26, 58, 60, 55],
     [14, 13, 16, 24, 40, 57, 69, 56], [14, 17, 22, 29, 51, 87, 80, 62],
     [18, 22, 37, 56, 68, 109, 103, 77], [24, 35, 55, 64, 81, 104, 113, 92],
     [49, 64, 78, 87, 103, 121, 120, 101], [72, 92, 95, 98, 112, 100, 103, 99]], np.float64)
JPEG_CHROMA_Q = np.array(
    [[17, 18, 24, 47, 99, 99, 99, 99], [18, 21, 26, 66, 99, 99, 99, 99],
     [24, 26, 56, 99, 99, 99, 99, 99], [47, 66, 99, 99, 99, 99, 99, 99],
     [99, 99, 99, 99, 99, 99, 99, 99], [99, 99, 99, 99, 99, 99, 99, 99],
     [99, 99, 99, 99, 99, 99, 99, 99], [99, 99, 99, 99, 99, 99, 99, 99]], np.float64)
LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601: cv2.COLOR_RGB2GRAY, JPEG's Y


def is_tensor_clip(imgs: Sequence) -> bool:
    return len(imgs) > 0 and torch.is_tensor(imgs[0])


def size_runs(imgs: Frames, other: Sequence = ()) -> List[Tuple[int, int]]:
    """(start, end) of the runs of consecutive frames with the same shape (and the same
    ``other[i].shape``, e.g. kernel sizes)."""
    keys = [(x.shape, ) + ((other[i].shape, ) if len(other) else ()) for i, x in enumerate(imgs)]
    runs, start = [], 0
    for i in range(1, len(imgs) + 1):
        if i == len(imgs) or keys[i] != keys[start]:
            runs.append((start, i))
            start = i
    return runs


def luma(x: torch.Tensor) -> torch.Tensor:
    """(n, 3, h, w) RGB -> (n, 1, h, w) luma."""
    return sum(wt * x[:, i:i + 1] for i, wt in enumerate(LUMA))


def round_uint8(x: torch.Tensor) -> torch.Tensor:
    """Round half to even and saturate to [0, 255] (``to_uint8``), kept as float."""
    return torch.round(x).clamp_(0, 255)


@contextlib.contextmanager
def fp32_exact(device: torch.device) -> Iterator[None]:
    """No TF32 in CUDA convolutions and matmuls inside (it rounds to 10-bit mantissas,
    ~0.1 level at 255); the previous settings come back after."""
    if device.type != 'cuda':
        yield
        return
    conv, mm = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = conv, mm


@functools.lru_cache(maxsize=1024)
def _reflect101(n: int, r: int, device: torch.device) -> torch.Tensor:
    """Indices of a length-``n`` axis padded by ``r`` with reflect-101 (any ``r``)."""
    i = np.arange(-r, n + r)
    if n == 1:
        i = np.zeros_like(i)
    else:
        period = 2 * (n - 1)
        i = np.abs(i) % period
        i = np.where(i >= n, period - i, i)
    return torch.from_numpy(i).to(device)  # cached: no host-to-device copy per frame


def blur_frames(imgs: Frames, kernels: Sequence[np.ndarray]) -> Frames:
    """Correlate frame i with ``kernels[i]`` (odd k x k), reflect-101 border."""
    out = []
    for s, e in size_runs(imgs, kernels):
        x = torch.stack(imgs[s:e])
        n, c, h, w = x.shape
        k = torch.from_numpy(np.stack(kernels[s:e]).astype(np.float32)).to(x.device)
        r = k.shape[-1] // 2
        x = x.index_select(2, _reflect101(h, r, x.device)).index_select(3, _reflect101(
            w, r, x.device)).reshape(1, n * c, h + 2 * r, w + 2 * r)
        weight = k[:, None].expand(n, c, 2 * r + 1, 2 * r + 1).reshape(n * c, 1, 2 * r + 1,
                                                                       2 * r + 1)
        with fp32_exact(x.device):
            y = F.conv2d(x, weight, groups=n * c)
        out += list(y.view(n, c, h, w).unbind(0))
    return out


@functools.lru_cache(maxsize=1024)
def resize_weights(n_in: int, n_out: int, interpolation: int, other_up: bool) -> np.ndarray:
    """OpenCV's (n_out, n_in) weights of one axis, read off ``cv2.resize`` of an identity.

    ``other_up`` says whether the other axis is enlarged: ``INTER_AREA`` averages areas
    only when neither axis is, else it interpolates on both. The probe then doubles its
    other axis, which that interpolation maps to a nearest-neighbour copy.
    """
    other_up = other_up and interpolation == cv2.INTER_AREA
    probe = np.eye(n_in, dtype=np.float32)
    res = cv2.resize(probe, (n_out, n_in * (2 if other_up else 1)), interpolation=interpolation)
    return np.ascontiguousarray(res[::2 if other_up else 1].T)


@functools.lru_cache(maxsize=256)  # <= 256 x 0.8 MB (460 x 460) of device memory
def _resize_weights_on(n_in: int, n_out: int, interpolation: int, other_up: bool,
                       device: torch.device) -> torch.Tensor:
    return torch.from_numpy(resize_weights(n_in, n_out, interpolation, other_up)).to(device)


def resize_frames(imgs: Frames, sizes: Sequence[Tuple[int, int]],
                  interpolation: int) -> Frames:
    """Resize frame i to ``sizes[i]`` = (h, w), equal to ``cv2.resize`` (float32)."""
    out = []
    for img, (h, w) in zip(imgs, sizes):
        h_in, w_in = img.shape[-2:]
        if (h_in, w_in) == (h, w):
            out.append(img)
            continue
        wy = _resize_weights_on(h_in, h, interpolation, w > w_in, img.device)
        wx = _resize_weights_on(w_in, w, interpolation, h > h_in, img.device)
        with fp32_exact(img.device):
            out.append(torch.matmul(torch.matmul(wy, img), wx.t()))
    return out


def _per_frame(values: Sequence[float], n: int, device: torch.device):
    """Per-frame factors to broadcast over (n, c, h, w): a Python float for one frame
    (no host-to-device copy, which would wait for the queued work), else a tensor."""
    if n == 1:
        return float(values[0])
    return torch.tensor(np.asarray(values, np.float32), device=device).view(n, 1, 1, 1)


def torch_generator(rng: np.random.Generator, device: torch.device) -> torch.Generator:
    """A torch generator on ``device`` seeded from the sample's generator."""
    return torch.Generator(device=device).manual_seed(int(rng.integers(2**63)))


def gaussian_noise(imgs: Frames, sigmas: Sequence[float], gray: bool,
                   gen: torch.Generator) -> Frames:
    """Add N(0, sigma_i^2) noise to frame i; gray noise is one plane for all channels."""
    out = []
    for s, e in size_runs(imgs):
        x = torch.stack(imgs[s:e])
        n, c, h, w = x.shape
        noise = torch.randn((n, 1 if gray else c, h, w), generator=gen, device=x.device)
        out += list((x + noise * _per_frame(sigmas[s:e], n, x.device)).unbind(0))
    return out


def poisson_noise(imgs: Frames, scales: Sequence[float], gray: bool,
                  gen: torch.Generator) -> Frames:
    """Add ``scale_i`` times Poisson noise to frame i, as :func:`noise.poisson_noise`
    (exact Poisson counts; gray noise is computed on the luma)."""
    out = []
    for s, e in size_runs(imgs):
        x = torch.stack(imgs[s:e])
        n, c = x.shape[:2]
        y = round_uint8(luma(x) if gray and c == 3 else x)
        # distinct values per frame, rounded up to a power of two, without a host sync
        offs = torch.arange(n, device=x.device).view(n, 1, 1, 1) * 256
        hist = torch.bincount((y.long() + offs).flatten(), minlength=256 * n).view(n, 256)
        vals = torch.exp2(torch.ceil(torch.log2(torch.count_nonzero(hist, dim=1).float())))
        vals = vals.view(n, 1, 1, 1)
        noise = torch.poisson(y * vals, generator=gen) / vals - y
        out += list((x + noise * _per_frame(scales[s:e], n, x.device)).unbind(0))
    return out


@functools.lru_cache(maxsize=None)  # bounded: 101 qualities per device
def _quant_tables_on(quality: int, device: torch.device) -> Tuple[torch.Tensor, torch.Tensor]:
    """The luma and chroma tables of ``quality`` on ``device`` (101 qualities at most)."""
    return tuple(torch.tensor(jpeg_quant_table(t, quality), dtype=torch.float32, device=device)
                 for t in (JPEG_LUMA_Q, JPEG_CHROMA_Q))


def jpeg_quant_table(base: np.ndarray, quality: int) -> np.ndarray:
    """libjpeg's ``jpeg_set_quality`` scaling of a base table (baseline, 1..255)."""
    quality = min(max(int(quality), 1), 100)
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return np.clip((base * scale + 50) // 100, 1, 255)


@functools.lru_cache(maxsize=None)  # bounded: one 8x8 matrix per device
def _dct_matrix(device: torch.device) -> torch.Tensor:
    """Orthonormal 8-point DCT-II (JPEG's 1/4 C(u) C(v) normalisation in 2-D)."""
    u, x = np.meshgrid(np.arange(8), np.arange(8), indexing='ij')
    d = np.sqrt(2 / 8) * np.cos((2 * x + 1) * u * np.pi / 16)
    d[0] /= np.sqrt(2)
    return torch.from_numpy(d.astype(np.float32)).to(device)


def _code_blocks(plane: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Quantise and reconstruct (n, H, W) level-shifted samples, H and W multiples of 8,
    with per-frame tables ``q`` (n, 8, 8)."""
    n, h, w = plane.shape
    d = _dct_matrix(plane.device)
    b = plane.view(n, h // 8, 8, w // 8, 8).transpose(2, 3)  # n, by, bx, 8, 8
    q = q.view(n, 1, 1, 8, 8)
    coef = torch.round(d @ b @ d.t() / q) * q
    rec = d.t() @ coef @ d
    return rec.transpose(2, 3).reshape(n, h, w)


def _padded_batch(imgs: Frames, multiple: int) -> torch.Tensor:
    """Frames of any sizes in one (n, c, H, W) batch, H and W the largest size rounded
    up to ``multiple``; each frame's edges replicated to fill its part (libjpeg pads a
    frame to whole MCUs so), one pad per run of equal sizes."""
    h = max(x.shape[-2] for x in imgs)
    w = max(x.shape[-1] for x in imgs)
    h, w = h + -h % multiple, w + -w % multiple
    runs = [F.pad(torch.stack(imgs[s:e]), (0, w - imgs[s].shape[-1], 0, h - imgs[s].shape[-2]),
                  mode='replicate') for s, e in size_runs(imgs)]
    return runs[0] if len(runs) == 1 else torch.cat(runs)


def _replicate_beyond(x: torch.Tensor, sizes: Sequence[Tuple[int, int]]) -> torch.Tensor:
    """(n, k, H, W) with frame i's rows from ``sizes[i][0]`` and columns from
    ``sizes[i][1]`` on replaced by its last valid row / column."""
    n, k, h, w = x.shape
    if all(s == (h, w) for s in sizes):
        return x
    limits = torch.tensor(sizes, device=x.device) - 1  # (n, 2)
    rows = torch.minimum(torch.arange(h, device=x.device), limits[:, :1])  # (n, h)
    cols = torch.minimum(torch.arange(w, device=x.device), limits[:, 1:])  # (n, w)
    x = x.gather(2, rows[:, None, :, None].expand(n, k, h, w))
    return x.gather(3, cols[:, None, None, :].expand(n, k, h, w))


def jpeg_compress(imgs: Frames, qualities: Sequence[int]) -> Frames:
    """JPEG-encode and decode frame i at ``qualities[i]`` (RGB: YCbCr 4:2:0; 1 channel:
    gray), as libjpeg at its defaults; returns float frames of integers in [0, 255].

    Frames of all sizes go in one batch (``_padded_batch``): 8x8 blocks are coded
    independently, and the chroma upsampling sees each frame's own edges."""
    sizes = [tuple(x.shape[-2:]) for x in imgs]
    x = round_uint8(_padded_batch(list(imgs), 16))
    n, c, h, w = x.shape
    dev = x.device
    tables = [_quant_tables_on(int(q), dev) for q in qualities]
    with fp32_exact(dev):
        y = x if c == 1 else round_uint8(luma(x))
        y = round_uint8(_code_blocks(y[:, 0] - 128, torch.stack([t[0] for t in tables])) + 128)
        if c == 1:
            return [y[i, None, :hi, :wi] for i, (hi, wi) in enumerate(sizes)]
        r, g, b = x.unbind(1)
        cb = round_uint8(-0.168736 * r - 0.331264 * g + 0.5 * b + 128)
        cr = round_uint8(0.5 * r - 0.418688 * g - 0.081312 * b + 128)
        chroma = round_uint8(F.avg_pool2d(torch.stack([cb, cr], 1), 2))  # h2v2
        qc = torch.stack([t[1] for t in tables])
        hc, wc = chroma.shape[-2:]
        chroma = chroma.reshape(n * 2, hc, wc) - 128
        chroma = round_uint8(_code_blocks(chroma, qc.repeat_interleave(2, 0)) + 128)
        # fancy upsampling: each frame's real chroma samples, triangle-filtered (its
        # edges repeated)
        chroma = _replicate_beyond(chroma.view(n, 2, hc, wc),
                                   [((hi + 1) // 2, (wi + 1) // 2) for hi, wi in sizes])
        chroma = F.interpolate(chroma, scale_factor=2, mode='bilinear', align_corners=False)
        cb, cr = chroma[:, 0] - 128, chroma[:, 1] - 128
        rgb = round_uint8(torch.stack([y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr,
                                       y + 1.772 * cb], 1))
    return [rgb[i, :, :hi, :wi] for i, (hi, wi) in enumerate(sizes)]


def frame_hw(img) -> Tuple[int, int]:
    """(h, w) of an HWC array or a CHW tensor."""
    return tuple(img.shape[-2:]) if torch.is_tensor(img) else tuple(img.shape[:2])
