"""Export a RealBasicVSR generator to ONNX (dynamic batch, frames, height and width).

The graph maps (n, t, 3, h, w) RGB float32 in [0, 1] to (n, t, 3, 4h, 4w) (x2 models:
2h, 2w) for every n, t >= 1 and h, w >= 32; it is checked against the PyTorch generator
with onnxruntime before it is written. Needs the deploy extra (pip install -e .[deploy]).

Example:
    python tools/deployment/export_onnx.py \
        configs/realbasicvsr/realbasicvsr_c64b20-1x30x8_8xb1-lr5e-5-150k_reds.py \
        CHECKPOINT_PATH_OR_URL realbasicvsr_x4.onnx
"""
import argparse
import sys
import time

from mmrbvsr.deploy import ExportError, export_onnx


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config', help='RealBasicVSR config (only model.generator is built)')
    p.add_argument('checkpoint', help='checkpoint path or URL (MMagic, MMEditing 0.x or the '
                   "authors' RealBasicVSR_x4.pth; the EMA generator is preferred)")
    p.add_argument('out', help='the .onnx file to write')
    p.add_argument('--cleaning-passes', type=int, default=None,
                   help='cleaning passes in the graph (default: 1 for the released threshold, '
                   '255; required for a lower one: dynamic refinement depends on the clip)')
    p.add_argument('--refine-threshold', type=float, default=None,
                   help='dynamic refinement threshold, 0-255 scale (default: the config\'s)')
    p.add_argument('--no-ema', action='store_true',
                   help='use the generator, not generator_ema, of a training checkpoint')
    p.add_argument('--no-check', action='store_true',
                   help='skip the onnxruntime check against the PyTorch generator')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    try:
        path = export_onnx(args.config, args.checkpoint, args.out,
                           cleaning_passes=args.cleaning_passes,
                           refine_threshold=args.refine_threshold, prefer_ema=not args.no_ema,
                           check=not args.no_check)
    except (ExportError, ValueError, FileNotFoundError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    print(f'wrote {path} in {time.perf_counter() - start:.0f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
