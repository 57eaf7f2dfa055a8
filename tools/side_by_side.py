"""Writes one frame of an input and of its restoration side by side (input | output).

The input frame is enlarged to the output's size with bicubic interpolation, so both halves
show the same region at the same scale.

Example:
    python tools/side_by_side.py tests/data/realbasicvsr_demo_000 work_dirs/restored \
        docs/images/side_by_side.jpg --frame 7 --crop 0 40 240 240
"""
import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp')


def read_frame(folder: Path, index: int) -> np.ndarray:
    """The ``index``-th image (in name order) of ``folder``, BGR uint8."""
    if not folder.is_dir():
        raise FileNotFoundError(f'{str(folder)!r} is not a folder of frames')
    names = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not 0 <= index < len(names):
        raise ValueError(f'frame {index} asked, but {str(folder)!r} holds {len(names)} frames')
    image = cv2.imread(str(names[index]), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f'cannot read image {str(names[index])!r}')
    return image


def side_by_side(lq: np.ndarray, hq: np.ndarray, crop=None, gap: int = 4) -> np.ndarray:
    """``lq`` enlarged to ``hq``'s size, a white gap, then ``hq``; ``crop`` = (top, left,
    height, width) in input pixels."""
    scale = hq.shape[0] / lq.shape[0]
    if abs(hq.shape[1] / lq.shape[1] - scale) > 1e-6:
        raise ValueError(f'output {hq.shape[1]}x{hq.shape[0]} is not a multiple of input '
                         f'{lq.shape[1]}x{lq.shape[0]}')
    if crop is not None:
        top, left, height, width = crop
        if top < 0 or left < 0 or top + height > lq.shape[0] or left + width > lq.shape[1]:
            raise ValueError(f'crop {crop} is outside the {lq.shape[1]}x{lq.shape[0]} input')
        lq = lq[top:top + height, left:left + width]
        s = int(round(scale))
        hq = hq[top * s:(top + height) * s, left * s:(left + width) * s]
    big = cv2.resize(lq, (hq.shape[1], hq.shape[0]), interpolation=cv2.INTER_CUBIC)
    white = np.full((hq.shape[0], gap, 3), 255, np.uint8)
    return np.concatenate([big, white, hq], axis=1)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('input', type=Path, help='folder of input frames')
    p.add_argument('output', type=Path, help='folder of restored frames (same order)')
    p.add_argument('out', type=Path, help='image to write (.png or .jpg)')
    p.add_argument('--frame', type=int, default=0, help='frame index (default: 0)')
    p.add_argument('--crop', type=int, nargs=4, metavar=('TOP', 'LEFT', 'H', 'W'),
                   help='region of the input frame to show')
    args = p.parse_args(argv)
    try:
        image = side_by_side(read_frame(args.input, args.frame),
                             read_frame(args.output, args.frame), args.crop)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        if not cv2.imwrite(str(args.out), image, [cv2.IMWRITE_JPEG_QUALITY, 90]):
            raise ValueError(f'cannot write {str(args.out)!r} (unknown image extension?)')
    except (OSError, ValueError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    print(f'wrote {args.out} ({image.shape[1]}x{image.shape[0]})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
