"""Restore a real low-quality video with RealBasicVSR (x4, or any output size).

Example (the released checkpoint URL is in docs/restoration.md):
    python tools/restore_video.py \
        configs/realbasicvsr/realbasicvsr_c64b20-1x30x8_8xb1-lr5e-5-150k_reds.py \
        CHECKPOINT_PATH_OR_URL input.mp4 output.mp4

The command is :func:`mmrbvsr.apis.command.main`.
"""
import sys


def main(argv=None) -> int:
    from mmrbvsr.apis.command import main as run
    return run(argv)


if __name__ == '__main__':
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # while importing, before the signal handlers are installed
        print('interrupted; nothing written', file=sys.stderr)
        sys.exit(130)
