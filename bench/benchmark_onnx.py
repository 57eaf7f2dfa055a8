"""RealBasicVSRNet with onnxruntime against our PyTorch and MMagic 1.2.0's, same frames.

The three hold the same random weights (MMagic's defaults: 64 channels, 20 + 20 blocks,
seed 0) and take the same real frames (a scikit-image photograph filmed by a moving
camera, ``mmrbvsr.datasets.demo``). The graph is exported from ours (or read from
``--onnx`` if that file exists, else written there). Each backend runs once on the
whole clip after a two-frame warm-up; the table gives wall and process CPU seconds,
frames per second and the largest difference from our PyTorch output. Where a GPU is
there (``--device cuda``), rows for our PyTorch bf16 path and onnxruntime's CUDA
provider are added when they can run, else the reason is printed.

Examples:
    python bench/benchmark_onnx.py --frames 10 --size 64x64
    python bench/benchmark_onnx.py --frames 30 --size 180x320 --onnx /tmp/rbvsr.onnx
"""
import argparse
import os.path as osp
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from common import import_mmagic_models, machine, measure, table  # noqa: E402


def real_frames(num: int, height: int, width: int) -> torch.Tensor:
    """``(1, num, 3, height, width)`` in [0, 1]: a photograph filmed by a moving camera."""
    from mmrbvsr.datasets.demo import load_photo, render_clip
    size = max(height, width)
    frames = render_clip(load_photo('astronaut.png'), size, num, np.random.default_rng(0))
    top, left = (size - height) // 2, (size - width) // 2
    clip = np.stack([f[top:top + height, left:left + width] for f in frames])
    return torch.from_numpy(clip).permute(0, 3, 1, 2).float().div(255).unsqueeze(0)


def run(name, fn, lqs, reference=None):
    """One warm-up on two frames, one timed run; a table row."""
    fn(lqs[:, :2].clone())
    out = None

    def call():
        nonlocal out
        out = fn(lqs).float().cpu()

    wall, cpu = measure(call)
    diff = '-' if reference is None else f'{(out - reference).abs().max().item():.2g}'
    return [name, wall, cpu, lqs.shape[1] / wall, diff], out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--frames', type=int, default=10)
    p.add_argument('--size', default='64x64', help='HEIGHTxWIDTH of the LR frames')
    p.add_argument('--onnx', default=None, help='graph to read, or to write if missing')
    p.add_argument('--device', default='cpu', help='cpu, or cuda for the GPU rows too')
    args = p.parse_args(argv)
    height, width = (int(v) for v in args.size.split('x'))

    import onnxruntime

    from mmrbvsr.deploy import OnnxRuntimeGenerator, export_onnx
    from mmrbvsr.models.archs import RealBasicVSRNet
    import_mmagic_models()
    from mmagic.models.editors.real_basicvsr.real_basicvsr_net import RealBasicVSRNet as MMagicNet

    torch.manual_seed(0)
    mmagic = MMagicNet().eval()
    ours = RealBasicVSRNet().eval()
    ours.load_state_dict(mmagic.state_dict(), strict=True)
    onnx_path = Path(args.onnx or osp.join(tempfile.mkdtemp(), 'realbasicvsr.onnx'))
    if not onnx_path.is_file():
        print(f'exporting to {onnx_path} ...', flush=True)
        export_onnx(ours, None, onnx_path)
    lqs = real_frames(args.frames, height, width)

    print(f'machine: {machine()}; onnxruntime {onnxruntime.__version__} '
          f'({onnxruntime.get_available_providers()})')
    print(f'input: {tuple(lqs.shape)} (real frames), random weights (seed 0), one run each\n')
    rows = []
    with torch.no_grad():
        row, reference = run('mmrbvsr, PyTorch fp32', ours, lqs)
        rows.append(row)
        rows.append(run('MMagic 1.2.0, PyTorch fp32', mmagic, lqs, reference)[0])
        rows.append(run('onnxruntime CPU', OnnxRuntimeGenerator(onnx_path), lqs, reference)[0])
        if args.device.startswith('cuda'):
            cuda = ours.to(args.device)

            def bf16(x):
                with torch.autocast('cuda', dtype=torch.bfloat16):
                    return cuda(x.to(args.device))

            rows.append(run('mmrbvsr, PyTorch bf16 CUDA', bf16, lqs, reference)[0])
            try:
                backend = OnnxRuntimeGenerator(onnx_path, args.device)
            except ValueError as e:
                print(f'onnxruntime CUDA: not run: {e}')
            else:
                rows.append(run('onnxruntime CUDA',
                                lambda x: backend(x.to(args.device)), lqs, reference)[0])
    print(table(rows, header=('backend', 'wall s', 'CPU s', 'frames/s', 'max diff')))


if __name__ == '__main__':
    main()
