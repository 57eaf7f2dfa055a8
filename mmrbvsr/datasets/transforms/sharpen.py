"""``UnsharpMasking``: the sharpened GT (Real-ESRGAN's USM) beside the GT."""
from typing import Sequence

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmrbvsr.registry import TRANSFORMS

from .functional.sharpen import unsharp_mask
from .random import as_keys


@TRANSFORMS.register_module()
class UnsharpMasking(BaseTransform):
    """Add ``<key>_unsharp``: the unsharp-masked frames of each key.

    Same arguments and output as MMagic's ``UnsharpMasking``; the 51x51 Gaussian is
    applied as two 1-D passes. It is per frame and deterministic, so it may run
    before :class:`MirrorSequence` (on L/2 frames) with an identical result.

    Args:
        kernel_size: Odd size of the Gaussian kernel.
        sigma: Its standard deviation (0: OpenCV's default for the size).
        weight: Weight of the details.
        threshold: Residues above this (0-255) count as details.
        keys: The keys to sharpen.
    """

    def __init__(self, kernel_size: int, sigma: float, weight: float, threshold: float,
                 keys: Sequence[str]) -> None:
        if kernel_size % 2 == 0 or kernel_size < 1:
            raise ValueError(f'kernel_size must be a positive odd int, got {kernel_size!r}')
        self.kernel_size = kernel_size
        self.sigma = sigma
        self.weight = weight
        self.threshold = threshold
        self.keys = as_keys(keys)
        self.kernel = cv2.getGaussianKernel(kernel_size, sigma).astype(np.float32)

    def transform(self, results: dict) -> dict:
        for key in self.keys:
            imgs = results[key]
            fn = lambda x: unsharp_mask(x, self.kernel, self.weight, self.threshold)  # noqa: E731
            results[f'{key}_unsharp'] = (fn(imgs) if isinstance(imgs, np.ndarray) else
                                         [fn(x) for x in imgs])
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(keys={self.keys}, kernel_size={self.kernel_size}, '
                f'sigma={self.sigma}, weight={self.weight}, threshold={self.threshold})')
