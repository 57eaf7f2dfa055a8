"""Filtering frames with blur kernels, fast: each float32 frame by the cheapest of a direct
sum, separable terms and one DFT per channel, chosen by a cost model."""
from typing import Dict, Optional, Tuple

import cv2
import numpy as np

from .scratch import scratch

# OpenCV's filter2D correlates float32 (and 8-bit) frames by DFT from this kernel area
# on, in blocks of max(4.5 k, 256 - k + 1) pixels: a frame a little larger than that,
# e.g. a 256x256 GT crop, costs four 256x256 DFTs per channel. Tiles of <= 128 pixels
# (of the reflect-101 padded frame) give the same pixels at about half the cost
# (measured gain for frames of (256 - k + 1, 288] pixels a side; none for larger ones).
DFT_MIN_TAPS = 130
DFT_MIN_BLOCK = 256
DFT_MAX_TILED = 288
DFT_TILE = 128
# RandomBlur filters float32 frames by the cheapest of three methods (filter_fast):
# cv2.filter2D's direct sum for small kernels, a sum of separable terms (a 1-D row pass,
# then a 1-D column pass, per term) for kernels of low rank, and a product of DFTs
# (fft_filter2d) otherwise. Kernels are first cropped: outer rows and columns whose
# |weights| sum to <= CROP_TOL are dropped (the kernels sum to 1). Separable terms come
# from the SVD, kept until the dropped singular values have a root sum of squares
# <= SVD_TOL times the kernel's Frobenius norm.
CROP_TOL = 1e-6
SVD_TOL = 1e-6
# CPU cost of each method on float32 frames, in taps of cv2.filter2D's direct sum on the
# same frame (one core, 48-420 pixel frames): direct ~5 + kh kw below DFT_MIN_TAPS,
# filter2D's DFT path above (~110 on frames under FFT_MIN_FRAME pixels a side, ~190 from
# there); a 1-D pass of m taps ~4 + 0.9 m and adding two frames ~1.7; fft_filter2d ~160
# and ~110, but slower (2-4x) once a DFT side exceeds FFT_MAX_SIZE (out of cache).
DIRECT_COST = 5.
DFT_COST = {True: 110., False: 190.}  # keyed by "frame is small"
PASS_COST = (4., 0.9)
ADD_COST = 1.7
FFT_COST = {True: 160., False: 110.}
FFT_MIN_FRAME = 128
FFT_MAX_SIZE = 400


def tiled_filter2d(img: np.ndarray, kernel: np.ndarray, tile: int = DFT_TILE) -> np.ndarray:
    """``cv2.filter2D(img, -1, kernel)`` computed tile by tile (same pixels).

    The frame is padded once (reflect-101, filter2D's border) by the kernel radius; each
    tile of at most ``tile`` x ``tile`` output pixels is filtered from its padded window.
    """
    h, w = img.shape[:2]
    kh, kw = kernel.shape
    ry, rx = kh // 2, kw // 2
    pad = cv2.copyMakeBorder(img, ry, kh - 1 - ry, rx, kw - 1 - rx, cv2.BORDER_REFLECT_101)
    out = np.empty_like(img)
    ty, tx = -(-h // -(-h // tile)), -(-w // -(-w // tile))  # equal tiles, each <= tile
    for y in range(0, h, ty):
        th = min(ty, h - y)
        for x in range(0, w, tx):
            tw = min(tx, w - x)
            res = cv2.filter2D(pad[y:y + th + kh - 1, x:x + tw + kw - 1], -1, kernel)
            out[y:y + th, x:x + tw] = res[ry:ry + th, rx:rx + tw].reshape(
                out[y:y + th, x:x + tw].shape)
    return out


def filter_frame(img: np.ndarray, kernel: np.ndarray,
                 sep: Optional[Tuple[np.ndarray, np.ndarray]] = None) -> np.ndarray:
    """Convolve one HWC frame (reflect-101 border, as ``cv2.filter2D``).

    ``sep`` gives the row and column factors of a separable kernel, which is faster.
    Large kernels on frames a little larger than OpenCV's DFT block (such as the
    256x256 GT crop) are applied by :func:`tiled_filter2d`.
    """
    if sep is not None:
        return cv2.sepFilter2D(img, -1, sep[0], sep[1]).reshape(img.shape)
    lo = DFT_MIN_BLOCK - max(kernel.shape) + 1
    if kernel.size >= DFT_MIN_TAPS and all(lo < n <= DFT_MAX_TILED for n in img.shape[:2]):
        return tiled_filter2d(img, kernel)
    return cv2.filter2D(img, -1, kernel).reshape(img.shape)


def crop_radius(profiles: np.ndarray, tol: float) -> int:
    """Entries that can be dropped at each end of every profile in ``profiles``.

    Args:
        profiles: (n, k) non-negative weights along one kernel axis, one row per kernel.
        tol: The most weight that may be dropped from a profile (both ends together).
    """
    k = profiles.shape[-1]
    ends = profiles[:, :k // 2] + profiles[:, ::-1][:, :k // 2]  # entries j from either end
    dropped = np.cumsum(ends, axis=1).max(axis=0)  # dropping 1, 2, ... from each end
    return int(np.count_nonzero(dropped <= tol))


def crop_kernels(kernels: np.ndarray, tol: float = CROP_TOL) -> np.ndarray:
    """Drop the outer rows and columns of (n, k, k) kernels whose |weights| sum to <= ``tol``.

    The crop is centred and the same for all kernels (a view). Each kernel loses at most
    ``tol`` of absolute weight, so a filtered 0-255 frame changes by at most 255 ``tol``.
    """
    a = np.abs(kernels)
    ry = crop_radius(a.sum(axis=2), tol / 2)
    a = a[:, ry:a.shape[1] - ry]
    rx = crop_radius(a.sum(axis=1), tol / 2)
    return kernels[:, ry:kernels.shape[1] - ry, rx:kernels.shape[2] - rx]


def separable_terms(kernels: np.ndarray, tol: float = SVD_TOL) -> list:
    """Split each of (n, h, w) kernels into separable terms, by its SVD.

    Returns:
        list: per kernel, (cols, rows): (r, h, 1) and (r, 1, w) float32 arrays with
        ``kernel ~= sum(cols[j] @ rows[j])``, where r is the fewest terms whose dropped
        singular values have a root sum of squares <= ``tol`` times the kernel's
        Frobenius norm.
    """
    u, s, vt = np.linalg.svd(kernels.astype(np.float64))
    tail = np.sqrt(np.cumsum(s[:, ::-1]**2, axis=1)[:, ::-1])  # tail[:, j] = |s[:, j:]|
    ranks = np.count_nonzero(tail > tol * tail[:, :1], axis=1)
    return [((ui[:, :r] * si[:r]).T[:, :, None].astype(np.float32),
             vi[:r, None, :].astype(np.float32)) for ui, si, vi, r in zip(u, s, vt, ranks)]


def filter_plans(kernels: list) -> list:
    """Per frame, the (kernel, cols, rows) arguments of :func:`filter_fast`, from
    :meth:`RandomBlur.kernels`' (kernel, separable factors or None) pairs.

    Kernels are cropped together (:func:`crop_kernels`) and split into separable terms
    (:func:`separable_terms`). Separable factors (the isotropic Gaussian) are cropped
    alone and get no 2-D kernel, i.e. always run as two 1-D passes.
    """
    if all(sep is not None for _, sep in kernels):
        plans = []
        for _, (kx, ky) in kernels:
            kx, ky = kx.reshape(1, -1), ky.reshape(1, -1)
            rx = crop_radius(np.abs(kx), CROP_TOL / 2)
            ry = crop_radius(np.abs(ky), CROP_TOL / 2)
            plans.append((None, np.ascontiguousarray(ky[:, ry:ky.size - ry]).reshape(1, -1, 1),
                          np.ascontiguousarray(kx[:, rx:kx.size - rx]).reshape(1, 1, -1)))
        return plans
    cropped = crop_kernels(np.stack([k if sep is None else sep[1] @ sep[0].T
                                     for k, sep in kernels]))
    return [(np.ascontiguousarray(k), cols, rows)
            for k, (cols, rows) in zip(cropped, separable_terms(cropped))]


def dft_size(n: int) -> int:
    """The DFT length used for ``n`` samples: the smallest 2^a 3^b 5^c >= n with a >= 3
    (lengths with few factors of 2, such as 75, 225 or 375, are 1.3-2x slower)."""
    m = cv2.getOptimalDFTSize(n)
    while m % 8:
        m = cv2.getOptimalDFTSize(m + 1)
    return m


def fft_filter2d(img: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """``cv2.filter2D(img, -1, kernel)`` of a float32 frame by DFTs (equal to float error).

    The frame is padded (reflect-101, filter2D's border) and each channel is correlated
    with the kernel by one DFT of the padded size (:func:`dft_size`); OpenCV's own DFT
    path splits a 256x256 frame into several blocks and costs about twice as much.
    """
    h, w = img.shape[:2]
    c = img.shape[2] if img.ndim == 3 else 1
    kh, kw = kernel.shape
    ry, rx = kh // 2, kw // 2
    ny, nx = dft_size(h + kh - 1), dft_size(w + kw - 1)
    spectrum, f = scratch((ny, nx), 2)
    spectrum[:kh, :kw] = kernel
    spectrum[:kh, kw:] = 0
    spectrum = cv2.dft(spectrum, spectrum, 0, kh)  # the rows below kh are taken as zeros
    # rows and columns past h + kh - 1, w + kw - 1 only reach outputs that are dropped
    planes = scratch((ny, nx), 2 + c)[2:]
    padded = cv2.copyMakeBorder(img, ry, ny - h - ry, rx, nx - w - rx, cv2.BORDER_REFLECT_101,
                                dst=scratch((ny, nx, c), 1)[0] if c > 1 else planes[0])
    planes = cv2.split(padded, planes) if c > 1 else [padded]
    out = []
    for plane in planes:
        f = cv2.dft(plane, f, 0, h + kh - 1)
        f = cv2.mulSpectrums(f, spectrum, 0, f, conjB=True)
        plane = cv2.idft(f, plane, cv2.DFT_SCALE | cv2.DFT_REAL_OUTPUT, h)  # the first h rows
        out.append(plane[:h, :w])
    return (cv2.merge(out) if c > 1 else out[0].copy()).reshape(img.shape)


def filter_separable(img: np.ndarray, cols: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Filter a frame with ``sum(cols[j] @ rows[j])``: per term a row pass, then a column
    pass (``cv2.filter2D``, reflect-101 border)."""
    x = img[..., 0] if img.ndim == 3 and img.shape[2] == 1 else img  # as cv2 returns it
    # scratch frames reused across terms: fresh large temporaries cost page faults
    tmp = cv2.filter2D(x, -1, rows[0])
    out = cv2.filter2D(tmp, -1, cols[0])
    term = np.empty_like(out) if len(cols) > 1 else None
    for col, row in zip(cols[1:], rows[1:]):
        cv2.filter2D(x, -1, row, dst=tmp)
        cv2.filter2D(tmp, -1, col, dst=term)
        cv2.add(out, term, dst=out)
    return out.reshape(img.shape)


def filter_costs(frame_shape: Tuple[int, ...], kernel_shape: Tuple[int, int],
                 rank: int) -> Dict[str, float]:
    """Estimated cost of each method of :func:`filter_fast`, in direct taps."""
    h, w = kernel_shape
    taps = h * w
    small = min(frame_shape[:2]) < FFT_MIN_FRAME
    big = max(dft_size(n + k - 1) for n, k in zip(frame_shape[:2], kernel_shape)) > FFT_MAX_SIZE
    return dict(
        direct=DIRECT_COST + taps if taps < DFT_MIN_TAPS else DFT_COST[small],
        separable=rank * (2 * PASS_COST[0] + PASS_COST[1] * (h + w)) + (rank - 1) * ADD_COST,
        fft=float('inf') if big else FFT_COST[small])


def filter_fast(img: np.ndarray, kernel: Optional[np.ndarray], cols: np.ndarray,
                rows: np.ndarray) -> np.ndarray:
    """Filter a float32 frame with ``kernel`` ~= ``sum(cols[j] @ rows[j])`` (reflect-101
    border, as ``cv2.filter2D``) by the cheapest of :func:`filter_frame`,
    :func:`filter_separable` and :func:`fft_filter2d`. ``kernel=None``: separable only.
    """
    if kernel is None:
        return filter_separable(img, cols, rows)
    costs = filter_costs(img.shape, kernel.shape, len(cols))
    method = min(costs, key=costs.get)
    if method == 'separable':
        return filter_separable(img, cols, rows)
    if method == 'fft':
        return fft_filter2d(img, kernel)
    return filter_frame(img, kernel)
