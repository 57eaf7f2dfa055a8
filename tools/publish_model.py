"""Publish a training checkpoint: keep meta and weights, append the sha256 prefix to the name.

Reads the checkpoint weights-only (safe on torch >= 2.6), drops the optimizer, message hub,
parameter schedulers and anything else outside --save-keys, and writes
OUT_FILE-<sha256[:8]>.pth (MMagic's naming). Example:

    python tools/publish_model.py work_dirs/realbasicvsr_x/iter_150000.pth realbasicvsr_x.pth
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmrbvsr.checkpoint.publish import DEFAULT_SAVE_KEYS, publish_checkpoint  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('in_file', help='input checkpoint')
    p.add_argument('out_file', help='output name; the sha256 prefix is appended')
    p.add_argument('--save-keys', nargs='+', default=list(DEFAULT_SAVE_KEYS),
                   help='top-level keys to keep (default: meta state_dict)')
    return p.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    result = publish_checkpoint(args.in_file, args.out_file, args.save_keys)
    if result.removed_keys:
        print(f'removed: {", ".join(result.removed_keys)}')
    print(f'{result.path} (sha256 {result.sha256})')


if __name__ == '__main__':
    main()
