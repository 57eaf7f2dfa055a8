"""The ``tools/restore_video.py`` command: parse, check, build, run.

Everything that can be checked without the network is checked first: option values and
combinations, the device and dtype, the config's generator entry, the checkpoint path, the
input's header, the output's name, folder and size, and a trial encode of one frame. A mistake
costs a fraction of a second, not the model's load time (or a checkpoint download).

Errors print one line, ``error: ...``, on a line of their own (exit status 1; usage errors 2).
SIGINT (Ctrl-C), SIGTERM and SIGHUP print one line and exit with 130, 143 and 129; the
temporary output is removed and an existing output is left as it was.
"""
import argparse
import os
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import torch

from mmrbvsr.checkpoint import CheckpointError
from mmrbvsr.models.builder import generator_config, read_config
from mmrbvsr.utils.cli import dtype_speed_warning, parse_device, parse_dtype, parse_out_size
from mmrbvsr.utils.signals import Interrupted, catch_signals

from .restorer import (
    RestoreJob,
    VideoRestorer,
    check_options,
    init_onnx_restorer,
    init_restorer,
    prepare_job,
    run_job,
)
from .video_io import (
    CONTAINER_CODECS,
    DEFAULT_CODEC,
    X26X,
    VideoIOError,
    is_video_path,
    output_kind,
)

# encoder options: None unless given (VideoFileSink has the defaults), so that a value given
# for an output or codec that ignores it is an error rather than silently dropped
ENCODER_OPTIONS = ('codec', 'crf', 'preset', 'bitrate', 'pix_fmt')
BACKENDS = ('pytorch', 'onnxruntime')


def _natural(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f'must be 0 or more, got {value}')
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be at least 1, got {value}')
    return value


def _out_size(text: str) -> Tuple[int, int]:
    try:
        return parse_out_size(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def build_parser() -> argparse.ArgumentParser:
    """The command's arguments, in groups: model, memory, frames, output."""
    p = argparse.ArgumentParser(
        prog='restore_video.py',
        description='Restore a real low-quality video with RealBasicVSR (x4, or any output '
        'size).')
    p.add_argument('config', nargs='?',
                   help='RealBasicVSR config (only model.generator is built; pytorch backend)')
    p.add_argument('checkpoint', nargs='?', help='checkpoint path or URL (MMagic, MMEditing '
                   "0.x or the authors' RealBasicVSR_x4.pth; the EMA generator is preferred; "
                   'pytorch backend)')
    p.add_argument('input', help='video file, folder of frames or glob pattern (quote it)')
    p.add_argument('output', help='video file (.mp4, .mkv, .y4m, ...) or a folder for PNG '
                   'frames (a name without an extension, or ending in /)')
    g = p.add_argument_group('model')
    g.add_argument('--backend', choices=BACKENDS, default=None,
                   help='pytorch (config and checkpoint) or onnxruntime (--onnx; its CPU '
                   "provider, CUDA's with --device cuda and onnxruntime-gpu); default: "
                   'onnxruntime with --onnx, else pytorch')
    g.add_argument('--onnx', default=None, metavar='MODEL.onnx',
                   help='a graph written by tools/deployment/export_onnx.py, in place of '
                   'config and checkpoint')
    g.add_argument('--device', default='cpu', help='cpu, cuda, cuda:1, ... (default: cpu)')
    g.add_argument('--dtype', default='fp32', choices=['fp32', 'bf16', 'fp16'],
                   help='compute precision, under autocast (default: fp32)')
    g.add_argument('--refine-threshold', type=float, default=None,
                   help='dynamic refinement threshold, 0-255 scale (paper: 1.5; default: the '
                   "config's, 255 = one cleaning pass)")
    g.add_argument('--no-ema', action='store_true',
                   help='use the generator, not generator_ema, of a training checkpoint')
    g = p.add_argument_group('memory')
    g.add_argument('--window', type=_natural, default=30,
                   help='frames propagated together; 0 = the whole video at once (default: 30)')
    g.add_argument('--overlap', type=_natural, default=None,
                   help='frames shared and crossfaded by consecutive windows, at most '
                   'window // 2 (default: min(10, window // 2))')
    g.add_argument('--tile', type=_positive, default=None,
                   help='split frames into square tiles of this many input pixels')
    g.add_argument('--tile-overlap', type=_natural, default=16,
                   help='input pixels shared by neighbouring tiles (default: 16)')
    g.add_argument('--batch-windows', type=_positive, default=None,
                   help='windows restored together as one batch, same output (default: 1 on '
                   'a CPU; on a GPU chosen from the free memory and the frame size)')
    g = p.add_argument_group('frames')
    g.add_argument('--start', type=_natural, default=0,
                   help='index of the first input frame to restore (default: 0)')
    g.add_argument('--frames', type=_positive, default=None,
                   help='restore at most this many frames (default: all)')
    g = p.add_argument_group('output')
    size = g.add_mutually_exclusive_group()
    size.add_argument('--out-size', type=_out_size, default=None,
                      help='WIDTHxHEIGHT, -1xHEIGHT or HEIGHTp (e.g. 1080p): resize the x4 '
                      'result (area filter down, Lanczos up)')
    size.add_argument('--out-scale', type=float, default=None,
                      help='output size as a multiple of the input (default: 4)')
    g.add_argument('--fps', type=float, default=None,
                   help="frame rate (default: the input's; 25 for frames)")
    g.add_argument('--codec', default=None,
                   help='video encoder (default: libx264; libvpx-vp9 for .webm, rawvideo for '
                   '.y4m)')
    g.add_argument('--crf', type=int, default=None,
                   help='x264/x265 quality, lower is better (default: 18)')
    g.add_argument('--preset', default=None, help='x264/x265 preset (default: medium)')
    g.add_argument('--bitrate', type=_positive, default=None, help='bit/s instead of a CRF')
    g.add_argument('--pix-fmt', default=None, help='encoder pixel format (default: yuv420p)')
    g.add_argument('--no-audio', action='store_true', help="don't copy the input's audio")
    g.add_argument('--overwrite', action='store_true',
                   help='replace an existing output (only once the new one is complete)')
    g.add_argument('--no-progress', action='store_true', help='hide the progress line')
    return p


def check_backend(args: argparse.Namespace) -> Optional[str]:
    """Sets ``args.backend`` (default: onnxruntime with ``--onnx``) and returns what is wrong
    with the backend's arguments, or None."""
    if args.backend is None:
        args.backend = 'onnxruntime' if args.onnx else 'pytorch'
    if args.backend == 'pytorch':
        if args.onnx is not None:
            return '--onnx needs --backend onnxruntime'
        if args.checkpoint is None:
            return 'the pytorch backend needs config and checkpoint before input and output'
        return None
    if args.onnx is None:
        return '--backend onnxruntime needs --onnx MODEL.onnx'
    if args.config is not None:
        return 'with --onnx give only input and output: the graph replaces config and checkpoint'
    if args.refine_threshold is not None or args.no_ema:
        return ('--refine-threshold and --no-ema apply at export '
                '(tools/deployment/export_onnx.py), not to an exported graph')
    return None


def encoder_options(args: argparse.Namespace) -> Dict[str, Any]:
    """The encoder options given on the command line (not their defaults)."""
    return {k: getattr(args, k) for k in ENCODER_OPTIONS if getattr(args, k) is not None}


def check_arguments(args: argparse.Namespace) -> List[str]:
    """Checks option values and combinations, the device and the dtype.

    Returns:
        list[str]: Warnings (e.g. a dtype this CPU runs slowly).

    Raises:
        ValueError: For values or combinations that cannot work.
    """
    if args.window == 0 and args.overlap:
        raise ValueError(f'--overlap {args.overlap} needs windows, but --window 0 restores the '
                         'whole video at once; drop --overlap or give a --window')
    check_options(args.window or None, args.overlap, args.tile, args.tile_overlap,
                  args.out_size, args.out_scale, args.batch_windows)
    if args.fps is not None and args.fps <= 0:
        raise ValueError(f'--fps must be positive, got {args.fps}')
    given = encoder_options(args)
    if args.crf is not None and args.bitrate is not None:
        raise ValueError('give --crf or --bitrate, not both')
    suffix = Path(args.output).suffix.lower()
    codec = args.codec or CONTAINER_CODECS.get(suffix, DEFAULT_CODEC)
    x26x_only = [f'--{k}' for k in ('crf', 'preset') if k in given]
    if x26x_only and is_video_path(args.output) and codec not in X26X:
        raise ValueError(f'{" and ".join(x26x_only)} apply to libx264 and libx265, not '
                         f'{codec!r} (use --bitrate for the quality of other codecs)')
    device = parse_device(args.device)
    if args.backend == 'onnxruntime' and args.dtype != 'fp32':
        raise ValueError(f'the ONNX graph computes in float32: --dtype must be fp32, got '
                         f'{args.dtype}')
    warning = dtype_speed_warning(parse_dtype(args.dtype, device), device)
    return [] if warning is None else [warning]


def check_checkpoint(checkpoint: str) -> None:
    """Checks that a local checkpoint exists and is a non-empty file (URLs are not fetched)."""
    if '://' in checkpoint:
        return
    path = Path(checkpoint)
    if not path.exists():
        raise FileNotFoundError(f'checkpoint {checkpoint!r} does not exist')
    if not path.is_file():
        raise CheckpointError(f'checkpoint {checkpoint!r} is not a file')
    if path.stat().st_size == 0:
        raise CheckpointError(f'checkpoint {checkpoint!r} is empty (0 bytes)')


def prepare(args: argparse.Namespace) -> Tuple[Any, RestoreJob]:
    """Everything before the model (warnings and notes go to stderr at once): returns the
    read config and the job."""
    notes = [f'warning: {w}' for w in check_arguments(args)]
    if args.backend == 'onnxruntime':
        from mmrbvsr.deploy import read_metadata
        config, scale = None, int(read_metadata(args.onnx)['upscale_factor'])
    else:
        config = read_config(args.config)
        scale = int(generator_config(config).get('upscale_factor', 4))
        check_checkpoint(args.checkpoint)
    given = encoder_options(args)
    if given and output_kind(args.output) == 'folder':
        options = ', '.join(f'--{k.replace("_", "-")}' for k in given)
        raise ValueError(f'{options} apply to video files, but {args.output!r} is a folder of '
                         'PNG frames')
    for line in notes:
        _print(line)
    return config, prepare_job(args.input, args.output, scale, args.out_size, args.out_scale,
                               args.fps, args.start, args.frames, copy_audio=not args.no_audio,
                               overwrite=args.overwrite, note=lambda n: _print(f'note: {n}'),
                               **given)


def build_restorer(args: argparse.Namespace, config: Any) -> VideoRestorer:
    """Builds the network and loads its weights (the slow part: after every check)."""
    options = dict(device=args.device, dtype=args.dtype, window=args.window or None,
                   overlap=args.overlap, tile=args.tile, tile_overlap=args.tile_overlap,
                   out_size=args.out_size, out_scale=args.out_scale,
                   batch_windows=args.batch_windows)
    if args.backend == 'onnxruntime':
        return init_onnx_restorer(args.onnx, **options)
    return init_restorer(config, args.checkpoint, refine_threshold=args.refine_threshold,
                         prefer_ema=not args.no_ema, **options)


def _print(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main(argv: Optional[List[str]] = None) -> int:
    """Runs the command; returns its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    problem = check_backend(args)
    if problem is not None:
        parser.error(problem)
    job = None
    with catch_signals():
        try:
            config, job = prepare(args)
            restorer = build_restorer(args, config)
            result = run_job(restorer, job, progress=not args.no_progress)
        except Interrupted as e:
            if job is not None and job.sink.committed:
                state = 'was complete and is in place'
            else:  # the temporary output is gone; what is there was there before
                state = 'left as it was' if os.path.lexists(args.output) else 'not written'
            _print(f'interrupted by {e.signame}: {args.output!r} {state}')
            return e.exit_code
        except (VideoIOError, ValueError, OSError, ImportError) as e:
            _print(f'error: {e}')
            return 1
        except torch.OutOfMemoryError:
            _print(f'error: out of memory on {args.device}; lower --window, or give --tile '
                   '(e.g. --tile 128) to restore frames in parts')
            return 1
    size = result['size']
    print(f"wrote {result['output']}: {result['frames']} frames, {size[0]}x{size[1]}, "
          f"{float(result['fps']):.3f} fps, {result['seconds']:.1f} s")
    return 0
