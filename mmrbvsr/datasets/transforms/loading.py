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
MISSING = 'no such file'


class UnreadableFrameError(OSError):
    """A frame file that is missing, truncated or not an image."""


class MissingFrameError(UnreadableFrameError, FileNotFoundError):
    """A frame file that does not exist (a ``FileNotFoundError``, as MMagic raises)."""


@TRANSFORMS.register_module()
class LoadImageFromFile(BaseTransform):
    """MMagic's ``LoadImageFromFile`` with unreadable frames reported, or skipped and counted.

    MMagic's transform does the loading (it is built inside, so that importing mmrbvsr does
    not import ``mmagic.datasets``).

    Args:
        key (str): Results key of the frames (``'gt'``, ``'img'``).
        color_type, channel_order, imdecode_backend, use_cache, to_float32, to_y_channel,
            save_original_img, backend_args: MMagic's, with MMagic's defaults.
        on_error (str): ``'raise'`` to stop at an unreadable frame (default) or ``'skip'`` to
            drop its sample with a warning in the log (see the module docstring).
    """

    skipped = 0  # samples skipped by this process (each DataLoader worker counts its own)

    def __init__(self,
                 key: str,
                 color_type: str = 'color',
                 channel_order: str = 'bgr',
                 imdecode_backend: Optional[str] = None,
                 use_cache: bool = False,
                 to_float32: bool = False,
                 to_y_channel: bool = False,
                 save_original_img: bool = False,
                 backend_args: Optional[dict] = None,
                 on_error: str = 'raise') -> None:
        if on_error not in ON_ERROR:
            raise ValueError(f'on_error must be one of {ON_ERROR}, got {on_error!r}')
        from mmagic.datasets.transforms.loading import LoadImageFromFile as MMagicLoader
        self.loader = MMagicLoader(key, color_type, channel_order, imdecode_backend, use_cache,
                                   to_float32, to_y_channel, save_original_img, backend_args)
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
                return str(path), MISSING
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
            error = MissingFrameError if reason == MISSING else UnreadableFrameError
            raise error(
                f'{message}. Replace the file, or set on_error=\'skip\' on '
                'mmrbvsr.LoadImageFromFile (tools/train.py --on-data-error skip) to skip such '
                'samples')
        LoadImageFromFile.skipped += 1
        print_log(f'skipped an unreadable sample: {message}; {LoadImageFromFile.skipped} '
                  'sample(s) skipped by this process so far', logger='current',
                  level=logging.WARNING)
        return None

    def __repr__(self) -> str:
        # MMagic's, with on_error where it is not the default
        text = repr(self.loader)
        return text if self.on_error == 'raise' else f'{text[:-1]}, on_error={self.on_error!r})'
