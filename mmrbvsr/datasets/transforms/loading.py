"""Loading frames with faults reported: the file, the clip and the sample of an unreadable frame.

A truncated or corrupt image makes OpenCV return nothing (``libpng error: ...`` on stderr) and
MMagic's ``LoadImageFromFile`` then fails inside ``cvtColor``, naming neither the file nor the
clip. :class:`LoadImageFromFile` names them, and ``on_error`` chooses what happens next:

- ``'raise'`` (default): the run stops with :class:`UnreadableFrameError`.
- ``'skip'``: a warning naming the file goes to the log with the number of samples this
  process has skipped so far, and the transform returns None, so MMEngine's dataset draws
  another sample (in training; ``max_refetch`` bounds the retries). Never silent.
"""
import logging
from typing import Optional, Tuple

from mmcv.transforms import BaseTransform
from mmengine.logging import print_log

from mmrbvsr.registry import TRANSFORMS

ON_ERROR = ('raise', 'skip')
UNDECODABLE = 'it cannot be decoded (truncated, corrupt or not an image)'


class UnreadableFrameError(OSError):
    """A frame file that is missing, truncated or not an image."""


@TRANSFORMS.register_module()
class LoadImageFromFile(BaseTransform):
    """MMagic's ``LoadImageFromFile`` with unreadable frames reported, or skipped and counted.

    MMagic's transform does the loading (it is built inside, so that importing mmrbvsr does
    not import ``mmagic.datasets``).

    Args:
        key (str): Results key of the frames (``'gt'``, ``'img'``).
        on_error (str): ``'raise'`` to stop at an unreadable frame (default) or ``'skip'`` to
            drop its sample with a warning in the log (see the module docstring).
        **kwargs: MMagic's other ``LoadImageFromFile`` arguments (``channel_order``, ...).
    """

    skipped = 0  # samples skipped by this process (each DataLoader worker counts its own)

    def __init__(self, key: str, on_error: str = 'raise', **kwargs) -> None:
        if on_error not in ON_ERROR:
            raise ValueError(f'on_error must be one of {ON_ERROR}, got {on_error!r}')
        from mmagic.datasets.transforms.loading import LoadImageFromFile as MMagicLoader
        self.loader = MMagicLoader(key, **kwargs)
        self.key = key
        self.on_error = on_error

    def _fault(self, results: dict) -> Optional[Tuple[str, str]]:
        """The first frame of ``results`` that cannot be read, and why; None if all can."""
        paths = results.get(f'{self.key}_path')
        load = type(self.loader)._load_image  # MMagic's read and decode of one file
        for path in paths if isinstance(paths, (list, tuple)) else [paths]:
            try:
                image = load(self.loader, str(path))
            except FileNotFoundError:
                return str(path), 'no such file'
            except Exception as e:
                text = str(e).strip()
                if 'cvtColor' in text or 'imdecode' in text:  # OpenCV decoded nothing
                    return str(path), UNDECODABLE
                return str(path), text.splitlines()[-1] if text else type(e).__name__
            if image is None:
                return str(path), UNDECODABLE
        return None

    def transform(self, results: dict) -> Optional[dict]:
        try:
            return self.loader.transform(results)
        except Exception:
            fault = self._fault(results)
            if fault is None:  # not a frame that cannot be read: MMagic's error as it is
                raise
        path, reason = fault
        where = f'clip {results.get("key")!r}, sample {results.get("sample_idx")}'
        message = f'cannot read frame {path!r} ({where}): {reason}'
        if self.on_error == 'raise':
            raise UnreadableFrameError(
                f'{message}. Replace the file, or set on_error=\'skip\' on '
                'mmrbvsr.LoadImageFromFile (tools/train.py --on-data-error skip) to skip such '
                'samples')
        LoadImageFromFile.skipped += 1
        print_log(f'skipped an unreadable sample: {message}; {LoadImageFromFile.skipped} '
                  'sample(s) skipped by this process so far', logger='current',
                  level=logging.WARNING)
        return None

    def __repr__(self) -> str:
        return f'mmrbvsr.{self.loader!r}'[:-1] + f', on_error={self.on_error})'
