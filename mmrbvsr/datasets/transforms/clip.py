"""Final clipping (and optional rounding) of the degraded frames."""
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmrbvsr.registry import TRANSFORMS

from .random import as_keys


@TRANSFORMS.register_module()
class Clip(BaseTransform):
    """Clip frames to [a_min, a_max] as float32; ``round=True`` also rounds them.

    MMagic's ``Clip`` arguments and ``repr``; the output is float32 (MMagic keeps the
    input's dtype: the same values for uint8 and float32 frames). MMagic only clips;
    the authors' MMEditing 0.x pipeline also rounds (``Quantize``), so that the LQ holds
    values a real 8-bit video can hold.

    Args:
        keys: The keys to clip.
        a_min: Lower limit. Default: 0.
        a_max: Upper limit. Default: 255.
        round: Round to integers after clipping. Default: False.
    """

    def __init__(self, keys: Sequence[str], a_min: float = 0, a_max: float = 255,
                 round: bool = False) -> None:
        if not a_min <= a_max:
            raise ValueError(f'Clip needs a_min <= a_max, got a_min={a_min!r}, a_max={a_max!r}')
        self.keys = as_keys(keys)
        self.a_min = a_min
        self.a_max = a_max
        self.round = round

    def _clip(self, img: np.ndarray) -> np.ndarray:
        if torch.is_tensor(img):
            out = img.float().clamp(self.a_min, self.a_max)
            return out.round_() if self.round else out
        out = np.clip(img.astype(np.float32, copy=False), self.a_min, self.a_max)
        return np.rint(out, out=out) if self.round else out

    def transform(self, results: dict) -> dict:
        for key in self.keys:
            imgs = results[key]
            results[key] = (self._clip(imgs) if isinstance(imgs, (np.ndarray, torch.Tensor)) else
                            [self._clip(x) for x in imgs])
        return results

    def __repr__(self) -> str:
        # MMagic's (which prints no keys), plus ``round`` where it is on
        extra = ', round=True' if self.round else ''
        return f'{self.__class__.__name__}(a_min={self.a_min}, a_max={self.a_max}{extra})'
