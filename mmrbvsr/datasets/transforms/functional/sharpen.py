"""Unsharp masking of one frame (Real-ESRGAN's USM), with a separable Gaussian."""
import cv2
import numpy as np

from . import banded
from .scratch import scratch


def unsharp_mask(img: np.ndarray, kernel: np.ndarray, weight: float,
                 threshold: float) -> np.ndarray:
    """Sharpen one frame: ``img + weight * (img - blur(img))`` where details exceed
    ``threshold``, blended with a blurred mask; float32 output in [0, 255].

    Args:
        img: HWC frame, 0-255.
        kernel: The 1-D Gaussian (``cv2.getGaussianKernel``); applied as rows then
            columns, equal to MMagic's 2-D outer-product kernel.
        weight: Weight of the detail (residue).
        threshold: Residues above this (0-255 units) count as detail.
    """
    if not banded.usable(img, kernel):
        return _unsharp_mask_opencv(img, kernel, weight, threshold)
    # the blurs as banded matrix products (BLAS); temporaries are reused scratch
    # frames (fresh ones cost page faults), only the output is a new array
    x, blur, mask = scratch(img.shape, 3, 'usm')
    np.copyto(x, img)
    banded.separable_filter(x, kernel, out=blur)
    residue = np.subtract(x, blur, out=blur)
    np.abs(residue, out=mask)
    cv2.threshold(mask, threshold, 1., cv2.THRESH_BINARY, dst=mask)  # 1 where > threshold
    soft_mask = banded.separable_filter(mask, kernel, out=mask)
    return _blend(x, residue, soft_mask, weight)


def _blend(img: np.ndarray, residue: np.ndarray, soft_mask: np.ndarray,
           weight: float) -> np.ndarray:
    """``soft_mask * clip(img + weight * residue) + (1 - soft_mask) * img``, a new array."""
    sharpened = cv2.scaleAdd(residue, float(weight), img).reshape(img.shape)  # img + w * res
    np.clip(sharpened, 0, 255, out=sharpened)
    sharpened -= img
    sharpened *= soft_mask
    sharpened += img
    return sharpened


def _unsharp_mask_opencv(img: np.ndarray, kernel: np.ndarray, weight: float,
                         threshold: float) -> np.ndarray:
    """:func:`unsharp_mask` with ``cv2.sepFilter2D``, for frames :mod:`banded` does not take."""
    # an 8-bit frame is filtered as is (read as float32 by the filter: same values, cheaper)
    blur = cv2.sepFilter2D(img, cv2.CV_32F, kernel, kernel).reshape(img.shape)
    img = img.astype(np.float32, copy=False)
    residue = np.subtract(img, blur, out=blur)
    mask = np.greater(np.abs(residue), threshold).view(np.uint8)
    soft_mask = cv2.sepFilter2D(mask, cv2.CV_32F, kernel, kernel).reshape(img.shape)
    return _blend(img, residue, soft_mask, weight)
