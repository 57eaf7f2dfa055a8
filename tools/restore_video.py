"""Restore a real low-quality video with RealBasicVSR (x4, or any output size).

Example (the released checkpoint URL is in docs/restoration.md):
    python tools/restore_video.py \
        configs/realbasicvsr/realbasicvsr_c64b20-1x30x8_8xb1-lr5e-5-150k_reds.py \
        CHECKPOINT_PATH_OR_URL input.mp4 output.mp4
"""
import argparse
import sys

from mmrbvsr.apis import VideoIOError, init_restorer, is_video_path, restore_video
from mmrbvsr.utils.cli import parse_out_size


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config', help='RealBasicVSR config (only model.generator is built)')
    p.add_argument('checkpoint', help='checkpoint path or URL (MMagic, MMEditing 0.x or the '
                   "authors' RealBasicVSR_x4.pth; the EMA generator is preferred)")
    p.add_argument('input', help='video file, folder of frames or glob pattern (quote it)')
    p.add_argument('output', help='video file (.mp4, .mkv, ...) or a folder for PNG frames')
    g = p.add_argument_group('model')
    g.add_argument('--device', default='cpu', help='cpu, cuda, cuda:1, ... (default: cpu)')
    g.add_argument('--dtype', default='fp32', choices=['fp32', 'bf16', 'fp16'],
                   help='compute precision, under autocast (default: fp32)')
    g.add_argument('--refine-threshold', type=float, default=None,
                   help='dynamic refinement threshold, 0-255 scale (paper: 1.5; default: the '
                   "config's, 255 = one cleaning pass)")
    g.add_argument('--no-ema', action='store_true',
                   help='use the generator, not generator_ema, of a training checkpoint')
    g = p.add_argument_group('memory')
    g.add_argument('--window', type=int, default=30,
                   help='frames propagated together; 0 = the whole video at once (default: 30)')
    g.add_argument('--overlap', type=int, default=None,
                   help='frames shared and crossfaded by consecutive windows, at most '
                   'window // 2 (default: min(10, window // 2))')
    g.add_argument('--tile', type=int, default=None,
                   help='split frames into square tiles of this many input pixels')
    g.add_argument('--tile-overlap', type=int, default=16,
                   help='input pixels shared by neighbouring tiles (default: 16)')
    g.add_argument('--batch-windows', type=int, default=None,
                   help='windows restored together as one batch, same output (default: 1 on '
                   'a CPU; on a GPU chosen from the free memory and the frame size)')
    g = p.add_argument_group('output')
    size = g.add_mutually_exclusive_group()
    size.add_argument('--out-size', type=parse_out_size, default=None,
                      help='WIDTHxHEIGHT, -1xHEIGHT or HEIGHTp (e.g. 1080p): resize the x4 '
                      'result (area filter down, Lanczos up)')
    size.add_argument('--out-scale', type=float, default=None,
                      help='output size as a multiple of the input (default: 4)')
    g.add_argument('--fps', type=float, default=None,
                   help="frame rate (default: the input's; 25 for frames)")
    g.add_argument('--codec', default='libx264', help='video encoder (default: libx264)')
    g.add_argument('--crf', type=int, default=18,
                   help='x264/x265 quality, lower is better (default: 18)')
    g.add_argument('--preset', default='medium', help='x264/x265 preset (default: medium)')
    g.add_argument('--bitrate', type=int, default=None, help='bit/s instead of a CRF')
    g.add_argument('--pix-fmt', default='yuv420p', help='encoder pixel format (yuv420p)')
    g.add_argument('--no-audio', action='store_true', help="don't copy the input's audio")
    g.add_argument('--overwrite', action='store_true',
                   help='replace an existing output (only once the new one is complete)')
    g.add_argument('--no-progress', action='store_true', help='hide the progress bar')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        restorer = init_restorer(
            args.config, args.checkpoint, refine_threshold=args.refine_threshold,
            prefer_ema=not args.no_ema, device=args.device, dtype=args.dtype,
            window=args.window or None, overlap=args.overlap, tile=args.tile,
            tile_overlap=args.tile_overlap, out_size=args.out_size, out_scale=args.out_scale,
            batch_windows=args.batch_windows)
        video_options = dict(codec=args.codec, crf=args.crf, preset=args.preset,
                             bitrate=args.bitrate, pix_fmt=args.pix_fmt)
        result = restore_video(
            restorer, args.input, args.output, fps=args.fps, copy_audio=not args.no_audio,
            overwrite=args.overwrite, progress=not args.no_progress,
            **(video_options if is_video_path(args.output) else {}))
    except (VideoIOError, ValueError, FileNotFoundError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    print(f"wrote {result['output']}: {result['frames']} frames, "
          f"{result['size'][0]}x{result['size'][1]}, {float(result['fps']):.3f} fps, "
          f"{result['seconds']:.1f} s")
    return 0


if __name__ == '__main__':
    sys.exit(main())
