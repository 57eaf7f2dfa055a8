"""Crops that refuse frames smaller than the crop.

MMagic's ``FixedCrop`` crops such frames to their own size; the clip then fails much later,
e.g. as ``The size of tensor a (128) must match the size of tensor b (96)`` in the loss.
"""
from typing import Optional, Sequence, Tuple

from mmcv.transforms import BaseTransform

from mmrbvsr.registry import TRANSFORMS


class FrameTooSmallError(ValueError):
    """Frames smaller than the configured crop."""


@TRANSFORMS.register_module()
class FixedCrop(BaseTransform):
    """MMagic's ``FixedCrop``, raising :class:`FrameTooSmallError` for frames smaller than
    ``crop_size``, with both sizes, the clip and a frame's path.

    MMagic's transform does the cropping (it is built inside, so that importing mmrbvsr does
    not import ``mmagic.datasets``).

    Args:
        keys (Sequence[str]): The frames to crop (the same window for all).
        crop_size (tuple[int, int]): ``(h, w)`` of the crop.
        crop_pos (tuple[int, int], optional): ``(x, y)`` of the crop; random if None.
    """

    def __init__(self, keys: Sequence[str], crop_size: Tuple[int, int],
                 crop_pos: Optional[Tuple[int, int]] = None) -> None:
        from mmagic.datasets.transforms.crop import FixedCrop as MMagicFixedCrop
        self.crop = MMagicFixedCrop(keys, crop_size, crop_pos)
        self.keys, self.crop_size, self.crop_pos = self.crop.keys, crop_size, crop_pos

    def transform(self, results: dict) -> dict:
        key = self.keys[0]
        frames = results[key]
        frame = frames[0] if isinstance(frames, list) else frames
        height, width = frame.shape[:2]
        crop_h, crop_w = self.crop_size
        if height < crop_h or width < crop_w:
            paths = results.get(f'{key}_path')
            path = paths[0] if isinstance(paths, (list, tuple)) else paths
            raise FrameTooSmallError(
                f'{key} frames of clip {results.get("key")!r} ({path!r}) are {width}x{height}, '
                f'smaller than the {crop_w}x{crop_h} crop (FixedCrop crop_size): use frames '
                'at least that large, or a smaller crop')
        return self.crop.transform(results)

    def __repr__(self) -> str:
        return repr(self.crop)
