"""Loss curves (CSV and PNG) of one or more training work dirs, e.g. stage 1 and stage 2."""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmrbvsr.engine.training_log import write_loss_curves  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('work_dirs', nargs='+', help='training work dirs')
    parser.add_argument('--names', nargs='+', help='a label per work dir (default: its name)')
    parser.add_argument('--out', required=True, help='output prefix (writes .csv and .png)')
    args = parser.parse_args()
    names = args.names or [osp.basename(osp.normpath(d)) for d in args.work_dirs]
    for path in write_loss_curves(args.work_dirs, names, args.out):
        print(f'wrote {path}')


if __name__ == '__main__':
    main()
