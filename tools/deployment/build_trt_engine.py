"""Build a TensorRT engine from a graph of tools/deployment/export_onnx.py.

The engine serves the profile's range of window lengths and frame sizes (each given as
MIN,OPT,MAX). TensorRT 11 builds strongly typed networks: the engine computes in the
graph's precision (float32; TF32 convolutions where TensorRT picks them). Needs the
tensorrt package and a GPU.

Example:
    python tools/deployment/build_trt_engine.py realbasicvsr_x4.onnx realbasicvsr_x4.engine \
        --frames 2,30,30 --height 32,180,360 --width 32,320,640
"""
import argparse
import sys
import time

from mmrbvsr.deploy.tensorrt import build_engine, profile_shapes


def triple(text: str):
    try:
        values = tuple(int(v) for v in text.split(','))
    except ValueError:
        values = ()
    if len(values) != 3:
        raise argparse.ArgumentTypeError(f'expected MIN,OPT,MAX, got {text!r}')
    return values


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('onnx', help='graph written by tools/deployment/export_onnx.py')
    p.add_argument('engine', help='the engine file to write')
    p.add_argument('--frames', type=triple, default=(2, 30, 30), help='window length range')
    p.add_argument('--height', type=triple, default=(32, 180, 360), help='frame height range')
    p.add_argument('--width', type=triple, default=(32, 320, 640), help='frame width range')
    p.add_argument('--batch', type=triple, default=(1, 1, 1), help='clips per call range')
    p.add_argument('--workspace', type=float, default=8., help='workspace limit in GiB')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        profile_shapes(args.frames, args.height, args.width, args.batch)
        start = time.perf_counter()
        path = build_engine(args.onnx, args.engine, args.frames, args.height, args.width,
                            args.batch, args.workspace)
    except ImportError as e:
        print(f'error: TensorRT is not installed here ({e})', file=sys.stderr)
        return 1
    except (ValueError, RuntimeError, FileNotFoundError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    print(f'wrote {path} in {time.perf_counter() - start:.0f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
