"""Builds the demo data set from scikit-image's sample photographs (no downloads)."""
import argparse
import os.path as osp
import sys
from typing import List, Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmrbvsr.datasets.demo import (  # noqa: E402
    DEMO_GT_SIZE,
    check_training_size,
    prepare_demo_data,
)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--out', default='data/demo', help='output folder')
    parser.add_argument('--clips-per-image', type=int, default=2)
    parser.add_argument('--frames', type=int, default=10, help='frames per training clip')
    parser.add_argument('--size', type=int, default=DEMO_GT_SIZE,
                        help=f'GT frame size, at least the demo configs\' crop of {DEMO_GT_SIZE} '
                        f'(default: {DEMO_GT_SIZE})')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    try:  # before anything is written
        check_training_size(args.size)
        summary = prepare_demo_data(args.out, args.clips_per_image, args.frames, args.size,
                                    seed=args.seed)
    except (ValueError, ImportError, OSError) as e:
        parser.exit(1, f'error: {e}\n')
    print(f'demo data written to {args.out}: {summary}')


if __name__ == '__main__':
    main()
