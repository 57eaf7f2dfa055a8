"""Training-step speed: MMagic 1.2.0's RealBasicVSR vs mmrbvsr's, side by side.

Both models start from the same weights and take the same batch (real frames of
``--data``, by default the demo-clip crops in tests/data: random GT crops, the frames
looped, and their bicubic x4 LR);
the first step's losses and updated generator weights are compared, then each
model's step is timed, the two models' steps interleaved (median wall
and process CPU seconds). Stage 1: pixel + cleaning loss. Stage 2 adds the U-Net
discriminator, a VGG19 perceptual loss (random VGG weights: nothing downloads)
and the GAN loss.

    python bench/benchmark_train.py --stage 1 --frames 30 --iters 3
    python bench/benchmark_train.py --stage 2 --frames 10 --iters 3
    python bench/benchmark_train.py --stage 1 --frames 10 --amp-dtype bfloat16   # ours bf16

With ``--amp-dtype`` ours trains under autocast (``AutocastOptimWrapper``, as
``tools/train.py --amp``) while MMagic stays fp32 eager: the losses then differ by the
bf16 rounding. ``--device cuda`` runs both on the GPU.
"""
import argparse
import os.path as osp
import sys
from functools import partial
from pathlib import Path
from unittest import mock

import cv2
import numpy as np
import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from common import DEMO_FRAMES, import_mmagic_models, machine, measure, table  # noqa: E402


def model_cfg(stage: int, prefix: str, mid: int, blocks: int) -> dict:
    loss = dict(type=prefix + 'L1Loss', loss_weight=1.0, reduction='mean')
    cfg = dict(
        type=prefix + 'RealBasicVSR',
        generator=dict(
            type=prefix + 'RealBasicVSRNet', mid_channels=mid,
            num_propagation_blocks=blocks, num_cleaning_blocks=blocks),
        pixel_loss=loss,
        cleaning_loss=loss,
        is_use_sharpened_gt_in_pixel=True,
        is_use_ema=True,
        data_preprocessor=dict(type='DataPreprocessor', mean=[0.] * 3, std=[255.] * 3))
    if stage == 2:
        cfg.update(
            discriminator=dict(
                type=prefix + 'UNetDiscriminatorWithSpectralNorm', in_channels=3,
                mid_channels=64, skip_connection=True),
            perceptual_loss=dict(
                type=prefix + 'PerceptualLoss',
                layer_weights={'2': 0.1, '7': 0.1, '16': 1.0, '25': 1.0, '34': 1.0},
                vgg_type='vgg19', perceptual_weight=1.0, style_weight=0, norm_img=False),
            gan_loss=dict(
                type=prefix + 'GANLoss', gan_type='vanilla', loss_weight=5e-2,
                real_label_val=1.0, fake_label_val=0),
            is_use_sharpened_gt_in_percep=True,
            is_use_sharpened_gt_in_gan=False)
        if prefix:
            cfg['perceptual_loss']['pretrained'] = None
    return cfg


def build_models(stage: int, mid: int, blocks: int):
    from mmagic.registry import MODELS
    from mmengine.registry import DefaultScope
    from torchvision.models import vgg

    import mmrbvsr  # noqa: F401
    import_mmagic_models()
    vgg19 = vgg.vgg19
    # MMagic's PerceptualVGG calls vgg19(pretrained=True), a 548 MB download
    with DefaultScope.overwrite_default_scope('mmagic'), \
            mock.patch.object(vgg, 'vgg19', lambda **kw: vgg19(weights=None)):
        torch.manual_seed(0)
        theirs = MODELS.build(model_cfg(stage, '', mid, blocks))
        ours = MODELS.build(model_cfg(stage, 'mmrbvsr.', mid, blocks))
    missing, unexpected = ours.load_state_dict(theirs.state_dict(), strict=False)
    if missing or unexpected:
        raise RuntimeError(f'state dicts differ: missing {missing}, unexpected {unexpected}')
    return theirs, ours


def optim_wrappers(model, amp_dtype=None):
    """Adam for the generator (and discriminator); under autocast with ``amp_dtype``."""
    from mmengine.optim import OptimWrapper, OptimWrapperDict

    from mmrbvsr.engine import AutocastOptimWrapper

    def wrapper(module):
        optim = torch.optim.Adam(module.parameters(), lr=1e-4, betas=(0.9, 0.99))
        if amp_dtype:
            return AutocastOptimWrapper(dtype=amp_dtype, optimizer=optim)
        return OptimWrapper(optim)

    wrappers = dict(generator=wrapper(model.generator))
    if getattr(model, 'discriminator', None) is not None:
        wrappers['discriminator'] = wrapper(model.discriminator)
    return OptimWrapperDict(**wrappers)


def make_batch(frames: int, lr_size: int, seed: int = 0, folder: Path = DEMO_FRAMES):
    from mmagic.structures import DataSample
    rng = np.random.default_rng(seed)
    files = sorted(Path(folder).glob('*.png'))
    if not files:
        sys.exit(f'no PNG frames in {folder}')
    gt_size = lr_size * 4
    first = cv2.imread(str(files[0]))
    if min(first.shape[:2]) < gt_size:
        sys.exit(f'--lr-size {lr_size}: the {gt_size}x{gt_size} GT crop does not fit the '
                 f'{first.shape[0]}x{first.shape[1]} frames of {folder}')
    y = int(rng.integers(0, first.shape[0] - gt_size + 1))
    x = int(rng.integers(0, first.shape[1] - gt_size + 1))
    gts, lqs = [], []
    for i in range(frames):
        img = cv2.imread(str(files[i % len(files)]))[..., ::-1]
        gt = np.ascontiguousarray(img[y:y + gt_size, x:x + gt_size]).astype(np.float32)
        gts.append(gt)
        lqs.append(cv2.resize(gt, (lr_size, lr_size), interpolation=cv2.INTER_CUBIC))
    gt = torch.from_numpy(np.stack(gts)).permute(0, 3, 1, 2).contiguous()
    lq = torch.from_numpy(np.clip(np.stack(lqs), 0, 255)).permute(0, 3, 1, 2).contiguous()
    return dict(inputs=[lq], data_samples=[DataSample(gt_img=gt, gt_unsharp=gt.clone())])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--stage', type=int, choices=(1, 2), default=1)
    parser.add_argument('--frames', type=int, default=30, help='frames per clip (batch 1)')
    parser.add_argument('--lr-size', type=int, default=64, help='LR crop size')
    parser.add_argument('--iters', type=int, default=3, help='timed steps per model')
    parser.add_argument('--mid-channels', type=int, default=64)
    parser.add_argument('--blocks', type=int, default=20)
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--amp-dtype', choices=('bfloat16', 'float16'), default=None,
                        help='train ours under autocast (MMagic stays fp32)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--data', type=Path, default=DEMO_FRAMES,
                        help='folder of PNG frames (default: the demo-clip crops in tests/data)')
    parser.add_argument('--compare-branches', action='store_true',
                        help='also time ours with parallel_branches on and off')
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    theirs, ours = build_models(args.stage, args.mid_channels, args.blocks)
    theirs.to(args.device)
    ours.to(args.device)
    batch = make_batch(args.frames, args.lr_size, folder=args.data)
    wrappers = {id(theirs): optim_wrappers(theirs),
                id(ours): optim_wrappers(ours, args.amp_dtype)}

    basicvsr = ours.generator.basicvsr

    def step(model, parallel=None):
        basicvsr.parallel_branches = parallel
        return model.train_step(batch, wrappers[id(model)])

    logs_theirs, logs_ours = step(theirs), step(ours)
    weight_diff = max((a - b).abs().max().item() for a, b in zip(
        theirs.generator.state_dict().values(), ours.generator.state_dict().values()))
    variants = {'ours': None}  # parallel_branches: None is on for CUDA, off for CPU
    if args.compare_branches:
        variants.update({'ours, branches in parallel': True, 'ours, branches in turn': False})
    times = {'theirs': [], **{k: [] for k in variants}}
    for _ in range(args.iters):  # interleaved: both see the same load on a shared machine
        times['theirs'].append(measure(lambda: step(theirs)))
        for name, parallel in variants.items():
            times[name].append(measure(partial(step, ours, parallel)))
    wall = {k: float(np.median([t[0] for t in v])) for k, v in times.items()}
    cpu = {k: float(np.median([t[1] for t in v])) for k, v in times.items()}

    dtype = f'ours {args.amp_dtype} autocast, MMagic float32' if args.amp_dtype else 'float32'
    print(f'# Training step, stage {args.stage}: batch 1 x {args.frames} frames, '
          f'LR {args.lr_size}x{args.lr_size}, {dtype}, {args.device}, median of '
          f'{args.iters} interleaved steps each')
    print(f'machine: {machine()}, dtype {dtype}')

    def value(v):
        return float(v.detach()) if torch.is_tensor(v) else float(v)

    rows = [(f'loss {k}, first step', value(logs_theirs[k]), value(logs_ours[k]),
             f'diff {abs(value(logs_theirs[k]) - value(logs_ours[k])):.2e}')
            for k in sorted(logs_theirs)]
    rows.append(('generator weights after step 1, max abs diff', '', f'{weight_diff:.2e}', ''))
    for name in variants:
        suffix = '' if name == 'ours' else f' ({name})'
        rows.append((f'wall s / iteration{suffix}', wall['theirs'], wall[name],
                     f'{wall["theirs"] / wall[name]:.2f}x'))
        rows.append((f'CPU s / iteration{suffix}', cpu['theirs'], cpu[name],
                     f'{cpu["theirs"] / cpu[name]:.2f}x'))
    print(table(rows))


if __name__ == '__main__':
    main()
