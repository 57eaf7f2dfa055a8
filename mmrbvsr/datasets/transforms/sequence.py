"""Temporal mirroring: L/2 loaded frames become a palindromic clip of L frames."""
from typing import Sequence

from mmcv.transforms import BaseTransform

from mmrbvsr.registry import TRANSFORMS

from .random import as_keys


@TRANSFORMS.register_module()
class MirrorSequence(BaseTransform):
    """Extend (x_1, ..., x_n) to (x_1, ..., x_n, x_n, ..., x_1) for each key.

    The paper loads L/2 frames (``GenerateSegmentIndices`` with
    ``num_input_frames=L/2``) and mirrors them to L. Placed before the degradations it
    is MMagic's order (all L frames degraded, with drift, so the LQ clip is not a
    palindrome); placed after them (keys ``img``, ``gt``, ``gt_unsharp``) it halves the
    degradation cost and gives a palindromic LQ clip, for which BasicVSR reuses the
    backward flows. The mirrored second half shares the arrays of the first.

    Args:
        keys: The frame lists to extend.
    """

    def __init__(self, keys: Sequence[str]) -> None:
        self.keys = as_keys(keys)

    def transform(self, results: dict) -> dict:
        for key in self.keys:
            frames = results[key]
            if not isinstance(frames, list):
                raise TypeError(f'MirrorSequence: results[{key!r}] must be a list of '
                                f'frames, got {type(frames).__name__}')
            results[key] = frames + frames[::-1]
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(keys={self.keys})'
