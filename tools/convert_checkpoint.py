"""Convert BasicVSR / RealBasicVSR weights to mmrbvsr's (MMagic's) layout.

Examples:
    # BasicSR's BasicVSR (key 'params') -> BasicVSRNet(num_blocks=30) weights + a SPyNet
    # (tools/fetch_test_media.py puts BasicVSR_REDS4.pth in ~/.cache/mmrbvsr/media)
    python tools/convert_checkpoint.py ~/.cache/mmrbvsr/media/BasicVSR_REDS4.pth \
        --out work_dirs/basicvsr_reds4.pth --spynet-out work_dirs/spynet.pth
    # the (EMA) generator of an MMagic / mmedit RealBasicVSR checkpoint
    python tools/convert_checkpoint.py realbasicvsr_x4.pth --out realbasicvsr_net.pth

Errors print one line (``error: ...``, exit status 1); Ctrl-C, SIGTERM and SIGHUP end with
one line and status 130, 143 or 129, and leave no half-written output.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert BasicVSR (BasicSR or MMagic layout) or RealBasicVSR weights to '
        'mmrbvsr\'s layout, and/or extract a SPyNet checkpoint usable as spynet_pretrained.')
    parser.add_argument('src', help='checkpoint path or URL: a Runner checkpoint, a '
                        'state_dict/params file or a bare state dict')
    parser.add_argument('--out', help='where to write the converted network weights')
    parser.add_argument('--spynet-out', help='where to write the SPyNet weights')
    parser.add_argument('--key', help='top-level key holding the weights (default: the first '
                        'of state_dict, params, params_ema; else the file itself)')
    parser.add_argument('--prefix', help='prefix of the BasicVSR keys, e.g. "generator." '
                        '(default: found; an EMA generator is preferred)')
    parser.add_argument('--strict', action='store_true',
                        help='fail unless every source key matched and the result loads '
                        'strictly into the network it describes')
    args = parser.parse_args(argv)
    if args.out is None and args.spynet_out is None:
        parser.error('nothing to write: give --out and/or --spynet-out')
    return args


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
    # importing mmrbvsr allow-lists Runner checkpoint globals for weights-only torch.load
    from mmrbvsr.checkpoint import convert_checkpoint
    from mmrbvsr.utils.signals import Interrupted, catch_signals
    try:
        with catch_signals():
            _, report = convert_checkpoint(args.src, args.out, args.spynet_out, key=args.key,
                                           prefix=args.prefix, strict=args.strict)
    except Interrupted as e:
        print(f'interrupted by {e.signame}; no output is half-written', file=sys.stderr)
        sys.exit(e.exit_code)
    except (KeyError, TypeError, ValueError, OSError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        sys.exit(f'error: {message}')
    print('\n'.join(report))


if __name__ == '__main__':
    try:
        main()
    except KeyboardInterrupt:  # before the handlers are installed (while importing)
        print('interrupted; nothing written', file=sys.stderr)
        sys.exit(130)
