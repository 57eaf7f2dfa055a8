"""bf16 inference against MMagic's fp32 eager, with trained weights: speed and PSNR.

No RealBasicVSR checkpoint can be had offline, so this runs the released BasicVSR
(``BasicVSR_REDS4.pth`` from the media cache, ``tools/fetch_test_media.py``, or
``--weights``: RealBasicVSR's propagation and upsampling, 30 blocks, without the cleaning
module) on real frames (centre crops of ``--data``, by default the demo-clip crops in
``tests/data``): MMagic 1.2.0's ``BasicVSRNet`` in fp32 eager (the baseline), ours in fp32, ours
under bf16 autocast, and ours under bf16 with MMagic's ``flow_warp`` (whose sampling
grid takes the features' dtype) to show what fp32 warping coordinates are worth. It
prints frames/s, the ratio to MMagic's, PSNR against MMagic's fp32 output, the
achieved TFLOP/s (FLOPs counted by ``torch.utils.flop_counter``) and, on CUDA, the peak
allocated memory; on CUDA ours also runs without CUDA graphs (``cuda_graphs=False``).

``--net realbasicvsr`` runs RealBasicVSRNet instead (one cleaning pass, 20 blocks: the
network whose frame costs ~0.755 TFLOP at 180x320 -> 720p) with BasicVSR_REDS4's
SPyNet and MMagic's seeded initialisation elsewhere: no trained RealBasicVSR can be had
here, and BasicVSR's 30-block propagation cut to 20 blocks diverges (values of 1e32
within 30 frames), so its PSNR measures the arithmetic, not a trained model's output.
``--profile`` prints the CUDA kernels ours spends its bf16 run in.

    python bench/benchmark_bf16.py --frames 6 --size 180x320                 # CPU
    python bench/benchmark_bf16.py --device cuda --frames 30 --size 180x320 --repeat 5
    python bench/benchmark_bf16.py --device cuda --net realbasicvsr --frames 30 --repeat 5
"""
import argparse
import math
import os.path as osp
import sys
import tempfile
from functools import partial
from pathlib import Path
from unittest import mock

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from benchmark_inference import size  # noqa: E402
from common import DEMO_FRAMES, import_mmagic_models, machine, media, table, timeit  # noqa: E402


def load_clip(frames: int, height: int, width: int,
              folder: Path = DEMO_FRAMES) -> torch.Tensor:
    """A centre crop (area-resized when larger than the frames) of the frames in ``folder``
    (looped), in [0, 1]."""
    files = sorted(Path(folder).glob('*.png'))
    if not files:
        sys.exit(f'no PNG frames in {folder}')
    clip = np.stack([np.asarray(Image.open(files[i % len(files)]).convert('RGB'))
                     for i in range(frames)])
    clip = torch.from_numpy(clip).permute(0, 3, 1, 2).float() / 255.
    h, w = clip.shape[-2:]
    if height > h or width > w:
        return F.interpolate(clip, size=(height, width), mode='area').unsqueeze(0)
    top, left = (h - height) // 2, (w - width) // 2
    return clip[..., top:top + height, left:left + width].unsqueeze(0).contiguous()


def psnr(a: torch.Tensor, b: torch.Tensor):
    """PSNR in dB of ``a`` against ``b`` (clamped to [0, 1]); a message if either has
    non-finite values."""
    bad = [int((~torch.isfinite(x)).sum()) for x in (a, b)]
    if any(bad):
        return f'non-finite values: {bad[0]} (run), {bad[1]} (MMagic)'
    mse = F.mse_loss(a.float().clamp(0, 1), b.float().clamp(0, 1)).item()
    return 10 * math.log10(1 / mse) if mse > 0 else float('inf')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--frames', type=int, default=6)
    parser.add_argument('--size', type=size, default='180x320', help='LR HxW')
    parser.add_argument('--repeat', type=int, default=1, help='timed runs (median)')
    parser.add_argument('--weights', default=None,
                        help='BasicSR BasicVSR checkpoint (default: BasicVSR_REDS4.pth from '
                        'the media cache, tools/fetch_test_media.py)')
    parser.add_argument('--data', type=Path, default=DEMO_FRAMES,
                        help='folder of PNG frames (default: the demo-clip crops in tests/data)')
    parser.add_argument('--net', choices=('basicvsr', 'realbasicvsr'), default='basicvsr')
    parser.add_argument('--spynet', default=None,
                        help='SPyNet checkpoint for --net realbasicvsr (default: taken '
                        'from --weights; bench/gpu_carry.sh packs one with WITH_AV=1)')
    parser.add_argument('--cudnn-benchmark', action='store_true',
                        help='let cuDNN time its algorithms (for MMagic and ours alike)')
    parser.add_argument('--profile', action='store_true',
                        help='print the top CUDA kernels of ours under bf16')
    args = parser.parse_args()
    height, width = args.size
    device = torch.device(args.device)
    torch.backends.cudnn.benchmark = args.cudnn_benchmark

    import_mmagic_models()
    from mmagic.models.utils import flow_warp as mmagic_flow_warp
    from torch.utils.flop_counter import FlopCounterMode

    import mmrbvsr.models.archs.basicvsr_net as basicvsr_module
    import mmrbvsr.models.archs.spynet as spynet_module

    def mmagic_warp(x, flow, memory_format=torch.preserve_format, **kwargs):
        # MMagic's flow_warp, in the layout ours asks for
        return mmagic_flow_warp(x, flow, **kwargs).contiguous(memory_format=memory_format)

    if args.net == 'basicvsr' or args.spynet is None:
        args.weights = args.weights or media('BasicVSR_REDS4.pth')
    theirs, ours = build(args.net, args.weights, args.spynet)
    theirs.eval().to(device)
    ours.eval().to(device)
    graphs = ours.basicvsr if args.net == 'realbasicvsr' else ours
    lqs = load_clip(args.frames, height, width, args.data).to(device)

    def run(net, bf16=False, warp=None, cuda_graphs=True, parallel=None):
        graphs.cuda_graphs, graphs.parallel_branches = cuda_graphs, parallel
        patches = [mock.patch.object(m, 'flow_warp', warp) for m in
                   (basicvsr_module, spynet_module)] if warp else []
        for p in patches:
            p.start()
        try:
            with torch.no_grad(), torch.autocast(device.type, torch.bfloat16, enabled=bf16):
                return net(lqs.clone()).float()
        finally:
            for p in patches:
                p.stop()

    with FlopCounterMode(display=False) as counter:  # ours' NNPACK convs escape the counter
        run(theirs)
    flop = counter.get_total_flops()
    # (name, net, bf16, warp, cuda_graphs, parallel_branches)
    runs = [('MMagic 1.2.0, fp32 eager', theirs, False, None, False, None),
            ('mmrbvsr, fp32', ours, False, None, True, None),
            ('mmrbvsr, bf16 autocast', ours, True, None, True, None),
            # eager: graphs captured with our warp would replay it
            ("mmrbvsr, bf16, MMagic's flow_warp (bf16 grid), no CUDA graphs", ours, True,
             mmagic_warp, False, None)]
    if device.type == 'cuda':  # parallel_branches is on by default there
        runs[2:2] = [('mmrbvsr, fp32, no CUDA graphs', ours, False, None, False, None),
                     ('mmrbvsr, bf16 autocast, no CUDA graphs', ours, True, None, False, None),
                     ('mmrbvsr, bf16 autocast, branches in turn', ours, True, None, True,
                      False)]
    rows, ref, base_fps = [], None, None
    for name, net, *options in runs:
        try:
            out = run(net, *options)  # warm-up (and graph capture)
            if device.type == 'cuda':
                torch.cuda.reset_peak_memory_stats(device)
            secs = float(np.median(timeit(partial(run, net, *options), args.repeat,
                                          warmup=0)))
        except Exception as e:  # one failed variant still leaves the others' figures
            rows.append((name, f'failed: {type(e).__name__}: {e}'[:200]) + ('',) * 5)
            continue
        fps = args.frames / secs
        if ref is None:
            ref, base_fps = out, fps
        peak = (f'{torch.cuda.max_memory_allocated(device) / 2**30:.2f}'
                if device.type == 'cuda' else '-')
        rows.append((name, fps, f'{fps / base_fps:.2f}x', psnr(out, ref),
                     f'{(out - ref).abs().max().item():.1e}', flop / secs / 1e12, peak))
    what = ('BasicVSR_REDS4 (30 blocks)' if args.net == 'basicvsr' else
            'RealBasicVSRNet (20+20 blocks, one cleaning pass; '
            'trained SPyNet, the rest seeded init)')
    print(f'# {what} x4, {args.frames} frames {height}x{width} -> '
          f'{4 * height}x{4 * width}, {args.device}, median of {args.repeat}, '
          f'cudnn.benchmark {args.cudnn_benchmark}')
    print(f'machine: {machine()}')
    print(f'{flop / args.frames / 1e12:.3f} TFLOP per frame (flop_counter)')
    print(table(rows, header=('run', 'frames/s', 'vs MMagic fp32', 'PSNR vs MMagic fp32, dB',
                              'max abs diff', 'TFLOP/s', 'peak GiB (CUDA)')))
    if args.profile:
        profile(partial(run, ours, True))


def build(net: str, weights: str, spynet: str = None):
    """MMagic's network and ours with the same weights (see the module docstring)."""
    import_mmagic_models()
    from mmagic.models.editors.basicvsr.basicvsr_net import BasicVSRNet as MMagicNet
    from mmagic.models.editors.real_basicvsr.real_basicvsr_net import (
        RealBasicVSRNet as MMagicRealNet,
    )
    from mmengine.runner import load_checkpoint

    from mmrbvsr.checkpoint import convert_checkpoint
    from mmrbvsr.models.archs import BasicVSRNet, RealBasicVSRNet

    with tempfile.TemporaryDirectory() as tmp:
        net_file = osp.join(tmp, 'basicvsr.pth')
        if net == 'basicvsr' or spynet is None:
            spynet = osp.join(tmp, 'spynet.pth')
            convert_checkpoint(weights, net_file, spynet, strict=True)
        if net == 'basicvsr':
            theirs, ours = MMagicNet(num_blocks=30), BasicVSRNet(num_blocks=30)
            load_checkpoint(theirs, net_file, map_location='cpu', strict=True)
        else:
            torch.manual_seed(0)
            theirs, ours = MMagicRealNet(), RealBasicVSRNet()
            state = torch.load(spynet, map_location='cpu')
            missing, unexpected = theirs.basicvsr.spynet.load_state_dict(
                state['state_dict'], strict=False)
            if unexpected or set(missing) - {'mean', 'std'}:  # buffers: not in the file
                raise RuntimeError(f'SPyNet weights: missing {missing}, unexpected '
                                   f'{unexpected}')
    ours.load_state_dict(theirs.state_dict(), strict=True)
    return theirs, ours


def profile(fn) -> None:
    """Prints the CUDA kernels that take the most time in one call of ``fn``."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as profiler
    with profiler(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        fn()
        torch.cuda.synchronize()
    events = prof.key_averages()
    key = next(k for k in ('self_device_time_total', 'self_cuda_time_total')
               if hasattr(events[0], k))
    print(events.table(sort_by=key, row_limit=20, max_name_column_width=60))


if __name__ == '__main__':
    main()
