"""Gaussian and Poisson noise on one frame (0-255 units), color or gray."""
from typing import Tuple

import cv2
import numpy as np

from .resize import to_uint8
from .scratch import flat
from .tensor_ops import LUMA

NOISE_TYPES = ('gaussian', 'poisson')
NORMAL_SAMPLERS = ('box_muller', 'numpy', 'opencv')
_LUMA = np.array(LUMA, dtype=np.float32)


def box_muller(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` float32 N(0, 1) samples by the Box-Muller transform of ``rng``'s uniforms.

    With 24-bit float32 uniforms u, v: ``sqrt(-2 log(1 - u)) * (cos, sin)(2 pi v)``,
    one pair of normals per pair of uniforms; |x| <= sqrt(48 ln 2) = 5.77 (a tail of
    8e-9). Vectorised float32 ufuncs: 2.3-3x faster than ``rng.standard_normal``.
    """
    m = (n + 1) // 2
    u = rng.random(dtype=np.float32, out=flat(2 * m, 'uniforms'))  # a reused temporary
    r, theta = u[:m], u[m:]
    np.subtract(np.float32(1), r, out=r)  # (0, 1]: log is finite
    np.log(r, out=r)
    r *= np.float32(-2)
    np.sqrt(r, out=r)
    theta *= np.float32(2 * np.pi)
    out = np.empty(2 * m, dtype=np.float32)
    np.cos(theta, out=out[:m])
    np.sin(theta, out=out[m:])
    out[:m] *= r
    out[m:] *= r
    return out[:n]


def standard_normal(shape: Tuple[int, ...], rng: np.random.Generator,
                    sampler: str = 'box_muller') -> np.ndarray:
    """float32 N(0, 1) samples of ``shape``.

    ``'box_muller'`` (:func:`box_muller`) and ``'numpy'`` (the generator's ziggurat)
    draw from ``rng``; ``'opencv'`` fills with ``cv2.randn`` from OpenCV's per-thread
    generator (a ziggurat sampler), which the caller seeds with ``cv2.setRNGSeed``
    (see :meth:`RandomNoise.degrade`).
    """
    if sampler == 'box_muller':
        return box_muller(int(np.prod(shape)), rng).reshape(shape)
    if sampler == 'numpy':
        return rng.standard_normal(shape, dtype=np.float32)
    out = np.empty(shape, dtype=np.float32)
    cv2.randn(out.reshape(-1), 0., 1.)  # a flat single-channel view: unit std everywhere
    return out


def _add_noise(img: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """``img + noise`` in float32; (h, w, 1) gray noise broadcasts over the channels."""
    if img.ndim == 2:
        noise = noise[..., 0]
    elif noise.shape[-1] == 1 and img.shape[-1] == 3:
        # one plane to three by OpenCV: NumPy's broadcast over a last axis of 3 is 6x slower
        noise = cv2.cvtColor(noise, cv2.COLOR_GRAY2RGB)
    if noise.shape == img.shape:
        return np.add(noise, img, out=noise, dtype=np.float32)
    return img.astype(np.float32, copy=False) + noise


def gaussian_noise(img: np.ndarray, sigma: float, gray: bool, rng: np.random.Generator,
                   sampler: str = 'box_muller') -> np.ndarray:
    """Add N(0, sigma^2) noise (0-255 units); gray noise is one plane for all channels.

    See :func:`standard_normal` for ``sampler``.
    """
    h, w = img.shape[:2]
    c = 1 if gray or img.ndim == 2 else img.shape[2]
    noise = standard_normal((h, w, c), rng, sampler)
    noise *= np.float32(sigma)
    return _add_noise(img, noise)


def poisson_sample(lam: np.ndarray, rng: np.random.Generator, exact_below: float = 1000.,
                   sampler: str = 'box_muller', any_below: bool = True) -> np.ndarray:
    """Poisson(lam) samples as float32, exact where lam < ``exact_below``.

    Above it the rounded normal N(lam, lam) is used (skewness 1 / sqrt(lam) < 0.032),
    which is 3-5x faster than NumPy's exact sampler; ``exact_below=inf`` is exact.
    The normals come from :func:`standard_normal` with ``sampler``; the exact counts
    always from ``rng``. ``any_below=False`` tells that no lam is below ``exact_below``
    (the search is skipped).
    """
    lam = lam.astype(np.float32, copy=False)
    if not np.isfinite(exact_below):
        return rng.poisson(lam).astype(np.float32)
    out = standard_normal(lam.shape, rng, sampler)
    out *= np.sqrt(lam, out=flat(lam.size, 'sqrt').reshape(lam.shape))
    out += lam
    np.rint(out, out=out)
    if any_below:
        small = lam < exact_below
        if small.any():
            out[small] = rng.poisson(lam[small])
    return out


def poisson_noise(img: np.ndarray, scale: float, gray: bool, rng: np.random.Generator,
                  exact_below: float = 1000., sampler: str = 'box_muller') -> np.ndarray:
    """Add ``scale`` times Poisson (shot) noise, as Real-ESRGAN / MMagic.

    The image is rounded to integers in [0, 255] and multiplied by ``vals``, the
    number of distinct values rounded up to a power of two; the noise is
    ``Poisson(x * vals) / vals - x``, computed on the luma for gray noise. See
    :func:`poisson_sample` for ``exact_below`` and ``sampler``.
    """
    x = img.astype(np.float32, copy=False)
    if gray and x.ndim == 3:
        x = (x @ _LUMA)[..., None]
    x = to_uint8(x)
    # np.unique sorts; a histogram of the uint8 values counts them in one pass
    # (OpenCV's: 2.5x faster than np.bincount, which widens the values to int64)
    hist = cv2.calcHist([np.ascontiguousarray(x).reshape(x.shape[0], -1)], [0], None, [256],
                        [0, 256])
    vals = np.float32(2.0**np.ceil(np.log2(np.count_nonzero(hist))))
    # x * vals is exact (integers times a power of two): the histogram tells whether any
    # count is drawn exactly
    any_below = bool(hist[np.arange(256) * float(vals) < exact_below].any())
    # x as float32 and the Poisson means in reused temporaries (fresh ones cost page faults)
    xf = flat(x.size, 'poisson_x').reshape(x.shape)
    np.copyto(xf, x)
    lam = np.multiply(xf, vals, out=flat(x.size, 'poisson_lam').reshape(x.shape))
    x = xf
    noise = poisson_sample(lam, rng, exact_below, sampler, any_below)
    noise /= vals
    noise -= x
    noise *= np.float32(scale)
    return _add_noise(img, noise)
