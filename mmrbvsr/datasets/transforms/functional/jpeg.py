"""JPEG compression of one frame with OpenCV."""
from typing import Optional

import cv2
import numpy as np

from .resize import to_uint8

COLOR_TYPES = ('color', 'grayscale')


def jpeg_compress(img: np.ndarray, quality: int, rgb: bool = True,
                  color_type: Optional[str] = None) -> np.ndarray:
    """JPEG-encode and decode one frame with OpenCV; returns float32.

    Args:
        img (ndarray): (H, W, 3), (H, W, 1) or (H, W) frame, rounded and saturated to
            uint8 first.
        quality (int): JPEG quality, 0-100.
        rgb (bool): A 3-channel frame is RGB: it is handed to OpenCV (which takes BGR) in
            that order, so that JPEG's YCbCr gets the true luma. False hands the channels
            over as they are (MMagic's ``bgr2rgb=False``). Default: True.
        color_type (str, optional): ``None`` keeps the frame's channels; ``'color'``
            decodes three channels (a gray frame is replicated); ``'grayscale'`` decodes
            the luma plane only, as an (H, W) frame (MMagic's meanings). Default: None.
    """
    if color_type not in (None, ) + COLOR_TYPES:
        raise ValueError(f'color_type must be None or one of {COLOR_TYPES}, got {color_type!r}')
    x = to_uint8(img)
    color = x.ndim == 3 and x.shape[2] == 3
    if color and rgb:
        x = cv2.cvtColor(x, cv2.COLOR_RGB2BGR)  # JPEG's YCbCr needs the true channel order
    ok, buf = cv2.imencode('.jpg', x, [int(cv2.IMWRITE_JPEG_QUALITY), int(quality)])
    if not ok:
        raise RuntimeError(f'cv2.imencode failed on a {x.shape} frame at quality {quality}')
    decode_color = color if color_type is None else color_type == 'color'
    out = cv2.imdecode(buf, cv2.IMREAD_COLOR if decode_color else cv2.IMREAD_GRAYSCALE)
    if decode_color and rgb:
        out = cv2.cvtColor(out, cv2.COLOR_BGR2RGB)
    elif color_type is None and img.ndim == 3:
        out = out[..., None]
    return out.astype(np.float32)
