"""Moving a clip's frames to torch tensors on a device (e.g. a GPU) and back.

Between :class:`FramesToTensor` and :class:`FramesToNumpy` the blur, resize, noise,
JPEG and clip transforms run batched on the device (see ``tensor_ops``); video
compression moves the frames to the CPU for the codec and back.
"""
import os
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmrbvsr.registry import TRANSFORMS

from .functional.tensor_ops import size_runs


def _keys(keys) -> list:
    return [keys] if isinstance(keys, str) else list(keys)


def resolve_device(device: torch.device) -> torch.device:
    """``cuda`` without an index is this process' GPU: ``LOCAL_RANK`` (set by the
    distributed launchers and inherited by spawned dataloader workers, which do not
    inherit ``torch.cuda.set_device``), else the current device."""
    if device.type != 'cuda' or device.index is not None:
        return device
    if 'LOCAL_RANK' in os.environ:
        return torch.device('cuda', int(os.environ['LOCAL_RANK']))
    return torch.device('cuda', torch.cuda.current_device())


@TRANSFORMS.register_module()
class FramesToTensor(BaseTransform):
    """Turn HWC (or HW) frames into CHW float32 tensors (0-255) on ``device``.

    With ``device='cuda'`` the transform needs CUDA in the process that runs the
    pipeline: a dataloader with ``num_workers=0``, or workers started with
    ``multiprocessing_context='spawn'`` (CUDA cannot be used in forked workers).
    ``'cuda'`` without an index means the rank's GPU (:func:`resolve_device`).

    Args:
        keys: The keys holding frames (a list of arrays, or one array).
        device: A torch device string, e.g. ``'cuda'``, ``'cuda:1'`` or ``'cpu'``.
    """

    def __init__(self, keys: Sequence[str], device: str = 'cuda') -> None:
        self.keys = _keys(keys)
        try:
            self.device = torch.device(device)
        except (RuntimeError, TypeError) as e:
            raise ValueError(f'FramesToTensor: bad device {device!r} ({e})') from e
        if self.device.type == 'cuda' and not torch.cuda.is_available():
            raise RuntimeError(f'FramesToTensor: device {device!r} asked for, but CUDA is '
                               'not available in this process')

    def transform(self, results: dict) -> dict:
        device = resolve_device(self.device)
        for key in self.keys:
            imgs = results[key]
            single = isinstance(imgs, np.ndarray)
            imgs = [imgs] if single else list(imgs)
            for i, img in enumerate(imgs):
                if not isinstance(img, np.ndarray) or img.ndim not in (2, 3):
                    raise ValueError(f'FramesToTensor: {key}[{i}] must be an HWC or HW array, '
                                     f'got {type(img).__name__} {getattr(img, "shape", "")}')
            frames = [img if img.ndim == 3 else img[..., None] for img in imgs]
            out = []
            for s, e in size_runs(frames):  # one host-to-device copy per run of sizes
                x = torch.from_numpy(np.stack(frames[s:e]).astype(np.float32, copy=False))
                out += list(x.to(device).permute(0, 3, 1, 2).contiguous().unbind(0))
            results[key] = out[0] if single else out
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(keys={self.keys}, device={str(self.device)!r})'


@TRANSFORMS.register_module()
class FramesToNumpy(BaseTransform):
    """Turn CHW tensors back into HWC float32 arrays on the CPU (arrays pass through).

    Args:
        keys: The keys holding frames.
    """

    def __init__(self, keys: Sequence[str]) -> None:
        self.keys = _keys(keys)

    def transform(self, results: dict) -> dict:
        for key in self.keys:
            imgs = results[key]
            single = torch.is_tensor(imgs)
            imgs = [imgs] if single else list(imgs)
            for i, img in enumerate(imgs):
                if not (torch.is_tensor(img) and img.dim() == 3
                        or isinstance(img, np.ndarray)):
                    raise ValueError(f'FramesToNumpy: {key}[{i}] must be a CHW tensor or an '
                                     f'array, got {type(img).__name__} '
                                     f'{tuple(getattr(img, "shape", ()))}')
            out = []
            for s, e in size_runs(imgs):
                if not torch.is_tensor(imgs[s]):
                    out += imgs[s:e]
                    continue
                x = torch.stack(imgs[s:e]).permute(0, 2, 3, 1).float().cpu().numpy()
                out += list(x)
            results[key] = out[0] if single else out
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(keys={self.keys})'
