"""Final clipping (and optional rounding) of the degraded frames."""
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmrbvsr.registry import TRANSFORMS


@TRANSFORMS.register_module()
class Clip(BaseTransform):
    """Clip frames to [0, 255] as float32; ``round=True`` also rounds them.

    MMagic only clips (``Clip``); the authors' MMEditing 0.x pipeline also rounds
    (``Quantize``), so that the LQ holds values a real 8-bit video can hold.

    Args:
        keys: The keys to clip.
        round: Round to integers after clipping.
    """

    def __init__(self, keys: Sequence[str], round: bool = False) -> None:
        self.keys = [keys] if isinstance(keys, str) else list(keys)
        self.round = round

    def _clip(self, img: np.ndarray) -> np.ndarray:
        if torch.is_tensor(img):
            out = img.float().clamp(0, 255)
            return out.round_() if self.round else out
        out = np.clip(img.astype(np.float32, copy=False), 0, 255)
        return np.rint(out, out=out) if self.round else out

    def transform(self, results: dict) -> dict:
        for key in self.keys:
            imgs = results[key]
            results[key] = (self._clip(imgs) if isinstance(imgs, (np.ndarray, torch.Tensor)) else
                            [self._clip(x) for x in imgs])
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(keys={self.keys}, round={self.round})'
