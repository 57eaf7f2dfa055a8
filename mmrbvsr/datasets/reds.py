"""Preparing REDS for the training configs: overlapping 480x480 sub-clips of all 270 clips.

The stage configs read ``<data_root>/train_sharp_sub/<clip>_s<NNN>/<frame>.png`` with
MMagic's ``BasicFramesDataset`` and no annotation file: every folder is a clip, its
length is its number of frames. :func:`prepare_reds` writes that layout from the REDS
download, as MMagic's ``preprocess_reds_dataset.py`` and ``crop_sub_images.py`` do
together:

* the 240 ``train_sharp`` clips keep their names (000-239) and the 30 ``val_sharp``
  clips become 240-269 (MMagic merges the two sets the same way);
* each 720x1280 frame is cut into ``crop_size`` squares every ``step`` pixels, plus one
  flush with the bottom/right edge when more than ``thresh_size`` pixels would be left
  out (BasicSR's ``extract_subimages``): 480/240/0 gives 2 x 5 = 10 sub-clips a clip.

The download may be the zips (``train_sharp.zip`` or ``train_sharp_partN.zip``, and
``val_sharp.zip``, read without extracting them) or their extracted folders
(``train_sharp/<clip>``, or ``train/train_sharp/<clip>`` as the zips unpack). The
download is only read.

Interrupted runs resume: a clip whose sub-clips are all in place is skipped. A clip's
sub-clips are written to ``<out>.partial/`` and moved into ``<out>`` once complete, so
the training set never holds a half-written sub-clip (a clip found with only part of its
sub-clips, from an interruption between two moves, is written again).
"""
import os
import os.path as osp
import re
import shutil
import zipfile
from dataclasses import dataclass
from multiprocessing import Pool
from typing import Callable, List, Optional, Tuple

import cv2
import numpy as np

# (split, offset added to the clip number), in the order MMagic merges them
SPLITS = (('train_sharp', 0), ('val_sharp', 240))
FRAME_PATTERN = re.compile(r'^\d+\.png$')


@dataclass(frozen=True)
class ClipSource:
    """One REDS clip to crop.

    Attributes:
        name (str): The clip's name in the merged set (``'000'`` ... ``'269'``).
        container (str): The clip's folder, or the zip file holding it.
        frames (tuple[tuple[str, str], ...]): ``(frame name, path or zip member)``, sorted.
    """
    name: str
    container: str
    frames: Tuple[Tuple[str, str], ...]

    @property
    def in_zip(self) -> bool:
        return self.container.endswith('.zip')

    def read(self, index: int, archive: Optional[zipfile.ZipFile] = None) -> np.ndarray:
        """Frame ``index`` as stored (BGR ``uint8``, ``cv2.IMREAD_UNCHANGED``)."""
        name, where = self.frames[index]
        if archive is not None:
            data = np.frombuffer(archive.read(where), np.uint8)
            img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
        else:
            img = cv2.imread(where, cv2.IMREAD_UNCHANGED)
        if img is None:
            raise ValueError(f'cannot decode frame {name} of clip {self.name} '
                             f'({self.container}: {where})')
        return img


def crop_positions(size: int, crop_size: int, step: int, thresh_size: int = 0) -> List[int]:
    """Top (or left) offsets of the crops along one axis of length ``size``.

    Every ``step`` pixels while a whole crop fits, plus one flush with the far edge when
    more than ``thresh_size`` pixels would otherwise be left out.
    """
    if crop_size <= 0 or step <= 0 or thresh_size < 0:
        raise ValueError(f'crop_size and step must be > 0 and thresh_size >= 0, got '
                         f'crop_size={crop_size}, step={step}, thresh_size={thresh_size}')
    if size < crop_size:
        raise ValueError(f'frames of size {size} are smaller than crop_size={crop_size}')
    positions = list(range(0, size - crop_size + 1, step))
    if size - (positions[-1] + crop_size) > thresh_size:
        positions.append(size - crop_size)
    return positions


def _clips_in_folder(folder: str, offset: int) -> List[ClipSource]:
    clips = []
    for clip in sorted(os.listdir(folder)):
        path = osp.join(folder, clip)
        if not (clip.isdigit() and osp.isdir(path)):
            continue
        frames = tuple((f, osp.join(path, f)) for f in sorted(os.listdir(path))
                       if FRAME_PATTERN.match(f))
        if frames:
            clips.append(ClipSource(f'{int(clip) + offset:03d}', path, frames))
    return clips


def _clips_in_zips(zips: List[str], split: str, offset: int) -> List[ClipSource]:
    member = re.compile(rf'(?:^|/){split}/(\d+)/(\d+\.png)$')
    clips = []
    for zip_path in zips:
        grouped = {}
        with zipfile.ZipFile(zip_path) as zf:
            for name in zf.namelist():
                match = member.search(name)
                if match:
                    grouped.setdefault(match.group(1), []).append((match.group(2), name))
        clips += [ClipSource(f'{int(clip) + offset:03d}', zip_path, tuple(sorted(frames)))
                  for clip, frames in sorted(grouped.items())]
    return clips


def find_reds_clips(root: str, include_val: bool = True) -> List[ClipSource]:
    """The clips of the REDS download in ``root`` (extracted folders or zips), merged.

    Raises:
        FileNotFoundError: when no ``train_sharp`` clips are found.
        ValueError: when two sources give the same merged clip name.
    """
    clips: List[ClipSource] = []
    for split, offset in SPLITS:
        if split == 'val_sharp' and not include_val:
            continue
        prefix = split.split('_')[0]  # the zips unpack to train/train_sharp/<clip>
        folders = [osp.join(root, split), osp.join(root, prefix, split),
                   osp.join(root, split, prefix, split)]
        found = next((f for f in folders if osp.isdir(f) and _clips_in_folder(f, offset)), None)
        if found is not None:
            clips += _clips_in_folder(found, offset)
            continue
        zips = sorted(osp.join(root, f) for f in os.listdir(root)
                      if re.fullmatch(rf'{split}(_part\d+)?\.zip', f))
        split_clips = _clips_in_zips(zips, split, offset)
        if not split_clips and split == 'train_sharp':
            raise FileNotFoundError(
                f'no REDS train_sharp clips in {root}: expected train_sharp.zip (or '
                'train_sharp_partN.zip) or the folder train_sharp/<clip>/<frame>.png')
        clips += split_clips
    names = [c.name for c in clips]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f'clips {duplicates} are found more than once in {root}')
    return clips


def _sub_clip_dirs(out: str, clip: str, count: int) -> List[str]:
    return [osp.join(out, f'{clip}_s{i:03d}') for i in range(1, count + 1)]


def _is_complete(dirs: List[str], frames: Tuple[Tuple[str, str], ...]) -> bool:
    names = {f for f, _ in frames}
    return all(osp.isdir(d) and names <= set(os.listdir(d)) for d in dirs)


def crop_clip(clip: ClipSource, out: str, crop_size: int = 480, step: int = 240,
              thresh_size: int = 0, compression_level: int = 3) -> int:
    """Writes the sub-clips of ``clip`` into ``out`` (``<clip>_s001``, ...).

    Returns:
        int: The number of sub-clips written; 0 when they were all in place already.
    """
    archive = zipfile.ZipFile(clip.container) if clip.in_zip else None
    try:
        first = clip.read(0, archive)
        h, w = first.shape[:2]
        boxes = [(y, x) for y in crop_positions(h, crop_size, step, thresh_size)
                 for x in crop_positions(w, crop_size, step, thresh_size)]
        final = _sub_clip_dirs(out, clip.name, len(boxes))
        if _is_complete(final, clip.frames):
            return 0
        staging = osp.join(out + '.partial', clip.name)
        shutil.rmtree(staging, ignore_errors=True)
        tmp = _sub_clip_dirs(staging, clip.name, len(boxes))
        for d in tmp:
            os.makedirs(d)
        params = [cv2.IMWRITE_PNG_COMPRESSION, compression_level]
        for index, (name, _) in enumerate(clip.frames):
            img = first if index == 0 else clip.read(index, archive)
            if img.shape[:2] != (h, w):
                raise ValueError(f'clip {clip.name}: frame {name} is {img.shape[1]}x'
                                 f'{img.shape[0]}, the first frame {w}x{h}')
            for d, (y, x) in zip(tmp, boxes):
                if not cv2.imwrite(osp.join(d, name), img[y:y + crop_size, x:x + crop_size],
                                   params):
                    raise OSError(f'could not write {osp.join(d, name)}')
    finally:
        if archive is not None:
            archive.close()
    for src, dst in zip(tmp, final):
        if osp.exists(dst):  # left by an interrupted run: replaced by the complete one
            shutil.rmtree(dst)
        os.replace(src, dst)
    os.rmdir(staging)
    return len(boxes)


@dataclass
class PrepareSummary:
    """What :func:`prepare_reds` did."""
    out: str
    clips: int
    written: int  # clips cropped by this run
    skipped: int  # clips already complete
    sub_clips: int  # sub-clips written by this run


def _crop_job(args) -> int:
    clip, kwargs = args
    return crop_clip(clip, **kwargs)


def prepare_reds(root: str, out: Optional[str] = None, crop_size: int = 480, step: int = 240,
                 thresh_size: int = 0, include_val: bool = True, compression_level: int = 3,
                 num_workers: int = 1,
                 progress: Optional[Callable[[int, int], None]] = None) -> PrepareSummary:
    """Crops the REDS download in ``root`` into ``out`` (default ``<root>/train_sharp_sub``).

    Args:
        root (str): The REDS folder (zips or extracted clips).
        out (str, optional): Output folder of the sub-clips.
        crop_size (int): Side of the square sub-images. Default: 480.
        step (int): Stride between sub-images. Default: 240.
        thresh_size (int): Add a crop flush with the far edge when more pixels than this
            would be left out. Default: 0.
        include_val (bool): Merge ``val_sharp`` in as clips 240-269. Default: True.
        compression_level (int): PNG compression, 0-9. Default: 3 (OpenCV's and MMagic's).
        num_workers (int): Clips cropped in parallel. Default: 1.
        progress (callable, optional): Called with ``(clips done, clips)`` after each clip.

    Returns:
        PrepareSummary: The output folder and the counts.
    """
    if not 0 <= compression_level <= 9:
        raise ValueError(f'compression_level must be in [0, 9], got {compression_level}')
    if num_workers < 1:
        raise ValueError(f'num_workers must be >= 1, got {num_workers}')
    crop_positions(crop_size, crop_size, step, thresh_size)  # checks the arguments
    if not osp.isdir(root):
        raise FileNotFoundError(f'REDS folder not found: {root}')
    clips = find_reds_clips(root, include_val)
    out = out or osp.join(root, 'train_sharp_sub')
    os.makedirs(out, exist_ok=True)
    kwargs = dict(out=out, crop_size=crop_size, step=step, thresh_size=thresh_size,
                  compression_level=compression_level)
    jobs = [(clip, kwargs) for clip in clips]
    counts = []
    if num_workers == 1:
        results = map(_crop_job, jobs)
        pool = None
    else:
        pool = Pool(num_workers)
        results = pool.imap(_crop_job, jobs)
    try:
        for count in results:
            counts.append(count)
            if progress is not None:
                progress(len(counts), len(clips))
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    if osp.isdir(out + '.partial') and not os.listdir(out + '.partial'):
        os.rmdir(out + '.partial')
    written = sum(1 for c in counts if c)
    return PrepareSummary(out=out, clips=len(clips), written=written,
                          skipped=len(clips) - written, sub_clips=sum(counts))
