"""Builds the demo data set from scikit-image's sample photographs (no downloads)."""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmrbvsr.datasets.demo import prepare_demo_data  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--out', default='data/demo', help='output folder')
    parser.add_argument('--clips-per-image', type=int, default=2)
    parser.add_argument('--frames', type=int, default=10, help='frames per training clip')
    parser.add_argument('--size', type=int, default=128, help='GT frame size')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    summary = prepare_demo_data(args.out, args.clips_per_image, args.frames, args.size,
                                seed=args.seed)
    print(f'demo data written to {args.out}: {summary}')


if __name__ == '__main__':
    main()
