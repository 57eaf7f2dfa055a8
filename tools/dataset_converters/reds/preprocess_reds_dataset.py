"""Prepare REDS for the RealBasicVSR configs: 480x480 sub-clips of the 270 merged clips.

Reads the REDS download in --root-path (train_sharp.zip / train_sharp_partN.zip and
val_sharp.zip, or their extracted folders) and writes <root>/train_sharp_sub/<clip>_s<NNN>/,
the layout the stage configs read (no annotation file). The download is left untouched; an
interrupted run resumes. Example:

    python tools/dataset_converters/reds/preprocess_reds_dataset.py --root-path ./data/REDS
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))))

from mmrbvsr.datasets.reds import prepare_reds  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog='REDS: https://seungjunnah.github.io/Datasets/reds.html')
    p.add_argument('--root-path', required=True, help='the REDS folder (zips or clips)')
    p.add_argument('--out', help='output folder (default: <root-path>/train_sharp_sub)')
    p.add_argument('--crop-size', type=int, default=480, help='sub-image side (default: 480)')
    p.add_argument('--step', type=int, default=240, help='stride (default: 240)')
    p.add_argument('--thresh-size', type=int, default=0,
                   help='add an edge crop when more pixels would be left out (default: 0)')
    p.add_argument('--compression-level', type=int, default=3,
                   help='PNG compression 0-9 (default: 3)')
    p.add_argument('--n-thread', type=int, default=4, help='clips in parallel (default: 4)')
    p.add_argument('--no-val', action='store_true',
                   help='leave out val_sharp (by default merged in as clips 240-269)')
    return p.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)

    def progress(done: int, total: int) -> None:
        print(f'\r{done}/{total} clips', end='\n' if done == total else '', flush=True)

    summary = prepare_reds(args.root_path, out=args.out, crop_size=args.crop_size,
                           step=args.step, thresh_size=args.thresh_size,
                           include_val=not args.no_val,
                           compression_level=args.compression_level,
                           num_workers=args.n_thread, progress=progress)
    print(f'{summary.out}: {summary.clips} clips, {summary.written} cropped into '
          f'{summary.sub_clips} sub-clips, {summary.skipped} already done')


if __name__ == '__main__':
    main()
