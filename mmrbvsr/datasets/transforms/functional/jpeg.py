"""JPEG compression of one frame with OpenCV."""
import cv2
import numpy as np

from .resize import to_uint8


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
