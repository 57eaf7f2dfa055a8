"""Resizing frames, and rounding float frames to uint8."""
from typing import List, Sequence, Tuple

import cv2
import numpy as np

INTERPOLATIONS = dict(bilinear=cv2.INTER_LINEAR, bicubic=cv2.INTER_CUBIC, area=cv2.INTER_AREA,
                      lanczos=cv2.INTER_LANCZOS4)


def to_uint8(img: np.ndarray) -> np.ndarray:
    """Round half to even and saturate to uint8, as ``cv2.saturate_cast`` (and
    ``np.clip(np.rint(img), 0, 255)``) for |values| < 2^31; MMagic's codec path wraps.
    """
    if img.dtype == np.uint8:
        return img
    if img.dtype == np.float32:
        # negatives to 0, then |x| rounded and saturated: two fast passes, 2x faster than
        # cv2.add(img, 0, dtype=CV_8U)
        x = cv2.threshold(img, 0, 0, cv2.THRESH_TOZERO)[1]
        return cv2.convertScaleAbs(x).reshape(img.shape)
    return cv2.add(img, 0., dtype=cv2.CV_8U).reshape(img.shape)


def scaled_size(h: int, w: int, scale: float, even: bool) -> Tuple[int, int]:
    """(h, w) times ``scale``, floored (to even numbers if ``even``), at least 1 (2)."""
    h_out, w_out = h * scale, w * scale
    if even:
        return max(2, 2 * int(h_out // 2)), max(2, 2 * int(w_out // 2))
    return max(1, int(h_out)), max(1, int(w_out))


def resize_frames(imgs: Sequence[np.ndarray], sizes: Sequence[Tuple[int, int]],
                  interpolation: int) -> List[np.ndarray]:
    """Resize frame i to ``sizes[i]`` = (h, w) with a cv2 interpolation flag."""
    out = []
    for img, (h, w) in zip(imgs, sizes):
        res = img if img.shape[:2] == (h, w) else cv2.resize(img, (w, h),
                                                             interpolation=interpolation)
        if res.ndim == 2 and img.ndim == 3:  # cv2 drops a single channel axis
            res = res[..., None]
        out.append(res)
    return out
