"""Convergence check of stage 1 on real frames (``--src``, by default the demo-clip crops).

Trains the stage-1 config (shrunk: small generator, 128x128 GT crops, 6-frame clips) for a
few hundred iterations from a fixed seed on clips cut from the frames of ``--src`` (by
default the 15 crops of the RealBasicVSR demo clip in ``tests/data``): 176x176 crops at the
four corners of every frame but the last ``--frames // 2``, degraded on the fly by the
paper's pipeline; and measures on held-out clips (the last ``--frames // 2`` frames, two
other crops, degraded once with a fixed seed):

* output L1: |generator output - GT| (0-1 scale), and
* cleaning L1: |cleaned LR - area x4-downsampled GT|,

before training and at the end. Prints a JSON summary and exits non-zero unless both
fall by at least ``--min-drop`` (relative). Example::

    python tools/check_convergence.py --iters 300 --out work_dirs/convergence.json
"""
import argparse
import copy
import json
import os.path as osp
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

REPO = Path(__file__).resolve().parents[1]
STAGE1 = REPO / 'configs/realbasicvsr/realbasicvsr_wogan-c64b20-2x30x8_8xb2-lr1e-4-300k_reds.py'


def cut_clips(files: list, out: Path, frames: range, crops, num_frames: int) -> None:
    """Writes ``out/<clip>/%08d.png``: windows of ``num_frames`` frames, cropped (x, y, size)."""
    import cv2
    clip = 0
    for start in range(frames.start, frames.stop - num_frames + 1, num_frames):
        for x, y, size in crops:
            folder = out / f'{clip:03d}'
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(num_frames):
                img = cv2.imread(str(files[start + i]))
                cv2.imwrite(str(folder / f'{i:08d}.png'), img[y:y + size, x:x + size])
            clip += 1


def build(args, data_root: Path):
    from mmengine.config import Config

    from mmrbvsr.datasets.demo import resize_pipeline
    cfg = Config.fromfile(str(STAGE1))
    cfg.model.generator.update(mid_channels=args.channels, num_propagation_blocks=args.blocks,
                               num_cleaning_blocks=args.blocks, spynet_pretrained=None)
    pipeline = resize_pipeline(cfg.train_dataloader.dataset.pipeline, args.gt_size)
    cfg.train_dataloader.update(batch_size=args.batch_size, num_workers=args.workers,
                                persistent_workers=args.workers > 0)
    cfg.train_dataloader.sampler = dict(type='InfiniteSampler', shuffle=True, seed=args.seed)
    cfg.train_dataloader.dataset.update(
        data_root=str(data_root), data_prefix=dict(img='train', gt='train'),
        num_input_frames=args.frames // 2, pipeline=pipeline)
    held_out = copy.deepcopy(cfg.train_dataloader.dataset)
    held_out.data_prefix = dict(img='held_out', gt='held_out')
    # degraded once: the stream depends only on (seed, sample index)
    held_out.pipeline[0] = dict(type='mmrbvsr.SetRandomGenerator', seed=args.seed + 1,
                                use_worker=False)
    return cfg, held_out


@__import__('torch').no_grad()
def baselines(model, batches) -> dict:
    """No-learning references: bilinear x4 of the LQ, and the LQ itself as "cleaned"."""
    import torch.nn.functional as F

    from mmrbvsr.models.losses import downsample_gt
    out_l1, clean_l1 = [], []
    for data in batches:
        data = model.data_preprocessor(copy.deepcopy(data), True)
        lq, gt = data['inputs'], data['data_samples'].gt_img
        up = F.interpolate(lq.flatten(0, 1), scale_factor=4, mode='bilinear',
                           align_corners=False).view(gt.shape)
        out_l1.append((up - gt).abs().mean().item())
        clean_l1.append((lq - downsample_gt(gt, 4)).abs().mean().item())
    return dict(bilinear_output_l1=sum(out_l1) / len(out_l1),
                uncleaned_lq_l1=sum(clean_l1) / len(clean_l1))


@__import__('torch').no_grad()
def evaluate(model, batches) -> dict:
    from mmrbvsr.models.losses import downsample_gt
    model.eval()
    out_l1, clean_l1 = [], []
    for data in batches:
        data = model.data_preprocessor(copy.deepcopy(data), True)  # normalises the GT too
        out, cleaned = model.generator(data['inputs'], return_lqs=True)
        gt = data['data_samples'].gt_img
        out_l1.append((out - gt).abs().mean().item())
        clean_l1.append((cleaned - downsample_gt(gt, 4)).abs().mean().item())
    model.train()
    return dict(output_l1=sum(out_l1) / len(out_l1), cleaning_l1=sum(clean_l1) / len(clean_l1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--src', default=str(REPO / 'tests/data/realbasicvsr_demo_000'),
                        help='folder of PNG frames, at least 176x176 (default: the 15 '
                        'demo-clip crops in tests/data)')
    parser.add_argument('--iters', type=int, default=300)
    parser.add_argument('--lr', type=float, default=1e-4, help='the paper: 1e-4')
    parser.add_argument('--batch-size', type=int, default=2)
    parser.add_argument('--frames', type=int, default=6, help='frames per clip after mirroring')
    parser.add_argument('--gt-size', type=int, default=128)
    parser.add_argument('--channels', type=int, default=16)
    parser.add_argument('--blocks', type=int, default=2)
    parser.add_argument('--workers', type=int, default=1)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--eval-every', type=int, default=100)
    parser.add_argument('--min-drop', type=float, default=0.2,
                        help='required relative drop of both L1s (default 0.2 = 20%%)')
    parser.add_argument('--out', help='write the JSON summary here too')
    args = parser.parse_args()

    import torch
    from mmengine.dataset import pseudo_collate
    from mmengine.optim import OptimWrapper, OptimWrapperDict
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner, set_random_seed

    import mmrbvsr  # noqa: F401
    from mmrbvsr.registry import DATASETS, MODELS

    t0 = time.time()
    DefaultScope.get_instance('check_convergence', scope_name='mmagic')
    set_random_seed(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        root, size, window = Path(tmp), 176, args.frames // 2
        files = sorted(Path(args.src).glob('*.png'))
        if len(files) < 2 * window:
            parser.error(f'--src {args.src}: needs {2 * window} frames, found {len(files)}')
        import cv2
        h, w = cv2.imread(str(files[0])).shape[:2]
        if min(h, w) < size:
            parser.error(f'--src {args.src}: frames of {h}x{w}, smaller than {size}x{size}')
        # training clips: all but the last window, four corner crops; held out: the last
        # window, a centre crop and one between it and the top-left corner
        x, y = w - size, h - size
        cut_clips(files, root / 'train', range(0, len(files) - window),
                  [(0, 0, size), (x, 0, size), (0, y, size), (x, y, size)], window)
        cut_clips(files, root / 'held_out', range(len(files) - window, len(files)),
                  [(x // 2, y // 2, size), (x // 4, y // 4, size)], window)
        cfg, held_out_cfg = build(args, root)
        held_out = DATASETS.build(held_out_cfg)
        eval_batches = [pseudo_collate([held_out[i]]) for i in range(len(held_out))]
        loader = Runner.build_dataloader(cfg.train_dataloader, seed=args.seed)
        model = MODELS.build(cfg.model)
        optim = OptimWrapperDict(generator=OptimWrapper(
            torch.optim.Adam(model.generator.parameters(), lr=args.lr, betas=(0.9, 0.99))))

        reference = baselines(model, eval_batches)
        print(json.dumps(reference), flush=True)
        history = [dict(iter=0, **evaluate(model, eval_batches))]
        print(json.dumps(history[-1]), flush=True)
        batches = iter(loader)
        for it in range(1, args.iters + 1):
            log = model.train_step(next(batches), optim)
            if it % args.eval_every == 0 or it == args.iters:
                history.append(dict(iter=it, train_loss_pix=log['loss_pix'].item(),
                                    train_loss_clean=log['loss_clean'].item(),
                                    **evaluate(model, eval_batches)))
                print(json.dumps(history[-1]), flush=True)

    start, end = history[0], history[-1]
    summary = dict(
        iters=args.iters, lr=args.lr, batch_size=args.batch_size, frames=args.frames,
        gt_size=args.gt_size, channels=args.channels, blocks=args.blocks, seed=args.seed,
        held_out_clips=len(eval_batches), baselines=reference, history=history,
        output_l1_drop=1 - end['output_l1'] / start['output_l1'],
        cleaning_l1_drop=1 - end['cleaning_l1'] / start['cleaning_l1'],
        wall_time_s=round(time.time() - t0, 1), torch_threads=torch.get_num_threads())
    ok = min(summary['output_l1_drop'], summary['cleaning_l1_drop']) >= args.min_drop
    summary['passed'] = ok
    print(json.dumps(summary, indent=1))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(summary, indent=1))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
