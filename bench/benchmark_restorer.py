"""Video restoration end to end: ours through VideoRestorer against MMagic's own inferencer.

One clip, decoded from a video file and written to an encoded one, by:

- **ours batched**: ``restore_video`` with ``VideoRestorer(batch_windows=B)`` (B: the
  default for the device unless ``--batch-windows``): decoding and encoding in background
  threads, several windows per generator call, on a GPU the YUV conversion there;
- **ours sequential**: the same with ``batch_windows=1``;
- **MMagic whole clip** and **MMagic max_seq_len chunks** (chunks as long as our window):
  MMagic 1.2.0's ``VideoRestorationInferencer`` itself, its ``preprocess``, ``forward`` and
  ``visualize`` called on a stand-in for the inferencer object (the inferencer's
  constructor would build the whole training model: discriminator, VGG19): all frames read
  into memory with mmcv's ``VideoReader``, the generator on the whole clip or on chunks,
  the output written frame by frame with ``tensor2img`` and cv2's ``VideoWriter`` (mp4v).

Frames/s are output frames per wall second from the input file to the closed output file.
Beside them: frames/s of ours with the frames already decoded and no encoding ("compute
only": the generator and the uint8 frames copied back to host memory); the GPU peak
memory; TFLOP/s: the output frames times the generator's FLOPs per frame of a whole-clip
call (``torch.utils.flop_counter`` on MMagic's generator at the clip's frame size with 2
and 3 frames, extrapolated to the clip's length; the windows' overlaps are extra work not
counted); the share of the bf16 dense peak (``--peak-tflops``, ~990 on an H200); with
``--psnr``, PSNR of ours (``--dtype``) against ours in fp32, on the uint8 frames before
encoding. ``--encoder-presets`` times the encoder alone on our output frames (prepared YUV
frames, as the GPU path hands them over), the ceiling of the end-to-end rate.

The generator: RealBasicVSRNet as released (64 channels, 20 + 20 blocks, one cleaning
pass), MMagic's seeded initialisation (no trained RealBasicVSR can be had here), SPyNet from
``--spynet`` if given; the last conv of the cleaning module and of the reconstruction are
scaled by 1/20, so that the output is the upsampled input plus small detail as a trained
model's is: with random weights it is noise that no encoder compresses, which would time the
encoder on content that never occurs (the arithmetic is the same). Both implementations get
the same weights.

The input: ``--input`` (any video: centre-cropped to the aspect ratio, area-resized, looped
back and forth to ``--frames``), else moving textured content (a panned and zoomed random
texture, not trivially compressible); encoded with libx264 (CRF 18) first.

Examples:
    python bench/benchmark_restorer.py --frames 40 --size 64x64                   # CPU
    python bench/benchmark_restorer.py --device cuda --dtype bf16 --frames 300 --size 180x320 \\
        --input bikes.mp4 --psnr --sweep 1 4 8 16 --encoder-presets veryfast medium
"""
import argparse
import io
import math
import os
import os.path as osp
import sys
import tempfile
import time
from fractions import Fraction
from functools import partial
from types import SimpleNamespace
from typing import List, Optional

import numpy as np
import torch

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from common import (  # noqa: E402
    _bare_package,
    import_mmagic_models,
    import_mmagic_transforms,
    machine,
    table,
)

from mmrbvsr.apis import VideoRestorer, open_sink, open_source, restore_video  # noqa: E402
from mmrbvsr.apis.pipeline import (  # noqa: E402
    HostFrames,
    quantize,
    restore_stream,
    rgb_to_yuv420p,
)
from mmrbvsr.apis.restorer import window_bytes  # noqa: E402

# MMagic's RealBasicVSR demo pipeline (its config); for a video its inferencer drops the
# loading steps and keeps PackInputs
DEMO_PIPELINE = [dict(type='GenerateSegmentIndices', interval_list=[1]),
                 dict(type='LoadImageFromFile', key='img', channel_order='rgb'),
                 dict(type='PackInputs')]


def size_arg(text: str):
    h, w = text.lower().split('x')
    return int(h), int(w)


# ---------------------------------------------------------------------------- the clip
def synthetic_frames(num: int, height: int, width: int, seed: int = 0):
    """Moving textured content: a random texture (blurred noise at several scales and
    coloured discs) panned and slowly zoomed."""
    import cv2
    rng = np.random.default_rng(seed)
    side = 2 * max(height, width) + 64
    texture = np.zeros((side, side, 3), np.float32)
    for sigma in (1.0, 3.0, 9.0):
        texture += cv2.GaussianBlur(rng.random((side, side, 3)).astype(np.float32),
                                    (0, 0), sigma) * sigma
    texture = (texture - texture.min()) / (texture.max() - texture.min()) * 255
    for _ in range(side // 8):
        centre = tuple(int(v) for v in rng.integers(0, side, 2))
        colour = tuple(float(v) for v in rng.integers(0, 256, 3))
        cv2.circle(texture, centre, int(rng.integers(3, side // 16)), colour, -1)
    texture = texture.astype(np.uint8)
    for i in range(num):
        zoom = 1.0 + 0.25 * math.sin(i / 40)
        h, w = int(height * zoom), int(width * zoom)
        y = int((side - h - 1) * (0.5 + 0.45 * math.sin(i / 57)))
        x = int((side - w - 1) * (0.5 + 0.45 * math.cos(i / 43)))
        yield cv2.resize(texture[y:y + h, x:x + w], (width, height),
                         interpolation=cv2.INTER_AREA)


def video_frames(path: str, num: int, height: int, width: int):
    """``num`` frames of a video, centre-cropped to ``width / height``, area-resized, looped
    back and forth."""
    import cv2

    from mmrbvsr.apis import open_source
    frames = []
    for frame in open_source(path):
        h, w = frame.shape[:2]
        if w * height > h * width:  # too wide
            cw = h * width // height
            frame = frame[:, (w - cw) // 2:(w - cw) // 2 + cw]
        else:
            ch = w * height // width
            frame = frame[(h - ch) // 2:(h - ch) // 2 + ch]
        frames.append(cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA
                                 if frame.shape[0] >= height else cv2.INTER_CUBIC))
        if len(frames) == num:
            break
    loop = frames + frames[-2:0:-1] if len(frames) > 2 else frames
    return [loop[i % len(loop)] for i in range(num)]


def write_clip(frames, path: str, fps: int = 25) -> None:
    import av
    with av.open(path, mode='w') as container:
        stream = None
        for frame in frames:
            if stream is None:
                stream = container.add_stream('libx264', rate=fps,
                                              options={'crf': '18', 'preset': 'veryfast'})
                stream.height, stream.width = frame.shape[:2]
                stream.pix_fmt = 'yuv420p'
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format='rgb24')):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def decode(path: str) -> List[np.ndarray]:
    from mmrbvsr.apis import open_source
    return list(open_source(path))


# ------------------------------------------------------------------------ the networks
def build(spynet: Optional[str], mid_channels: int, blocks: int):
    """MMagic's RealBasicVSRNet (seeded) and ours with its weights (see the docstring)."""
    import_mmagic_models()
    from mmagic.models.editors.real_basicvsr.real_basicvsr_net import (
        RealBasicVSRNet as MMagicNet,
    )

    from mmrbvsr.models.archs import RealBasicVSRNet
    torch.manual_seed(0)
    kwargs = dict(mid_channels=mid_channels, num_propagation_blocks=blocks,
                  num_cleaning_blocks=blocks)
    theirs, ours = MMagicNet(**kwargs), RealBasicVSRNet(**kwargs)
    if spynet:
        state = torch.load(spynet, map_location='cpu')
        state = state.get('state_dict', state)
        missing, unexpected = theirs.basicvsr.spynet.load_state_dict(state, strict=False)
        if unexpected or set(missing) - {'mean', 'std'}:
            raise RuntimeError(f'SPyNet weights: missing {missing}, unexpected {unexpected}')
    with torch.no_grad():
        for conv in (theirs.image_cleaning[-1], theirs.basicvsr.conv_last):
            conv.weight.mul_(0.05)
            conv.bias.mul_(0.05)
    ours.load_state_dict(theirs.state_dict(), strict=True)
    return theirs.eval(), ours.eval()


def flop_per_frame(net, frames: int, height: int, width: int, device) -> float:
    """FLOPs per frame of a whole-clip call on ``frames`` frames: counted with 2 and 3
    frames (each frame's own work a, each flow pair's b) and extrapolated."""
    from torch.utils.flop_counter import FlopCounterMode
    counts = []
    for t in (2, 3):
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            net(torch.rand(1, t, 3, height, width, device=device))
        counts.append(counter.get_total_flops())
    # F(t) = a t + 2 b (t - 1): F(2) = 2 a + 2 b, F(3) = 3 a + 4 b
    a = 2 * counts[0] - counts[1]
    pair = (counts[0] - 2 * a) / 2
    return a + 2 * pair * (frames - 1) / frames


# ---------------------------------------------------------------------- the runs
def cuda_sync(device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def reset_peak(device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)


def peak_gib(device):
    if device.type != 'cuda':
        return '-'
    return torch.cuda.max_memory_allocated(device) / 2**30


def run_ours(generator, args, batch: Optional[int], src: str, dst: str, dtype: str,
             window=None, overlap=None, warmup: bool = True) -> dict:
    """``restore_video``'s path end to end (a warm-up run first: CUDA graphs, cuDNN)."""
    device = torch.device(args.device)
    restorer = VideoRestorer(generator, device=device, dtype=dtype,
                             window=window or args.window,
                             overlap=args.overlap if overlap is None else overlap,
                             batch_windows=batch)
    options = dict(preset=args.preset, crf=args.crf)
    if warmup and args.warmup:
        restore_video(restorer, src, dst, progress=False, overwrite=True, **options)
        restorer.batch_windows = restorer.last_batch_windows  # the shapes just captured
    reset_peak(device)
    stats = {}  # where the main thread waited
    start = time.perf_counter()
    # restore_video's path (open_source, open_sink, restore_stream), with the waits
    source = open_source(src)
    with open_sink(dst, source.fps, None, True, **options) as sink:
        count, size = restore_stream(restorer, source, sink, stats=stats)
    cuda_sync(device)
    seconds = time.perf_counter() - start
    return dict(frames=count, seconds=seconds, peak=peak_gib(device),
                batch=restorer.last_batch_windows, waits=stats, size=size)


def run_compute(generator, args, batch: Optional[int], frames: List[np.ndarray], dtype: str,
                collect: bool = False, repeat: int = 1, warmup: bool = True) -> dict:
    """Ours on decoded frames, uint8 frames back in host memory, no encoding."""
    device = torch.device(args.device)
    restorer = VideoRestorer(generator, device=device, dtype=dtype, window=args.window,
                             overlap=args.overlap, batch_windows=batch)

    def once(keep):
        out = []
        for chunk in restorer.restore_chunks(frames, len(frames)):
            host = HostFrames(quantize(chunk))  # as restore_stream copies (asynchronously)
            if keep:
                out.append(host)
        cuda_sync(device)
        return [torch.from_numpy(host.get()) for host in out]

    if warmup and args.warmup:
        once(False)
        restorer.batch_windows = restorer.last_batch_windows
    reset_peak(device)
    times, out = [], None
    for i in range(repeat):
        start = time.perf_counter()
        out = once(collect and i == 0)
        times.append(time.perf_counter() - start)
    return dict(seconds=float(np.median(times)), peak=peak_gib(device),
                batch=restorer.last_batch_windows,
                frames=torch.cat(out) if collect else None)


class _Inferencer(SimpleNamespace):
    """What ``VideoRestorationInferencer``'s methods read from ``self``."""


def mmagic_model(generator, device):
    """MMagic's ``BaseEditModel`` around ``generator`` (``mode='tensor'`` calls only the
    generator), with the config attribute its inferencer reads the pipeline from."""
    from mmagic.models.base_models import BaseEditModel
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmagic'):
        model = BaseEditModel(generator=dict(type='RealBasicVSRNet', mid_channels=8,
                                             num_propagation_blocks=1, num_cleaning_blocks=1),
                              pixel_loss=dict(type='L1Loss'))
    model.generator = generator
    model.cfg = Config(dict(demo_pipeline=DEMO_PIPELINE))
    return model.to(device).eval()


def run_mmagic(model, args, src: str, dst: str, max_seq_len: Optional[int]) -> dict:
    """MMagic's video restoration inferencer: preprocess, forward, visualize."""
    from mmengine.registry import DefaultScope
    from mmengine.utils import ProgressBar
    for name in ('mmagic.apis', 'mmagic.apis.inferencers'):
        _bare_package(name)  # not their __init__: it imports every inferencer
    import mmagic.apis.inferencers.video_restoration_inferencer as module
    Inferencer = module.VideoRestorationInferencer
    module.ProgressBar = partial(ProgressBar, file=io.StringIO())  # its progress bar, hidden
    device = torch.device(args.device)
    inferencer = _Inferencer(model=model, device=device, extra_parameters=dict(
        start_idx=0, filename_tmpl='{:08d}.png', window_size=0, max_seq_len=max_seq_len))
    with torch.no_grad():  # CUDA context, cuDNN handles (untimed)
        model(inputs=torch.rand(1, 2, 3, 64, 64, device=device), mode='tensor')
    reset_peak(device)
    try:
        with DefaultScope.overwrite_default_scope('mmagic'):
            start = time.perf_counter()
            inputs = Inferencer.preprocess(inferencer, src)
            preds = Inferencer.forward(inferencer, inputs)
            Inferencer.visualize(inferencer, preds, dst)
            seconds = time.perf_counter() - start
    except torch.cuda.OutOfMemoryError as e:
        return dict(error=f'out of GPU memory ({str(e).splitlines()[0][:80]})',
                    peak=peak_gib(device))
    finally:
        inputs = preds = None
    return dict(frames=int(args.frames), seconds=seconds, peak=peak_gib(device))


def encoder_only(frames: torch.Tensor, dst: str, preset: str, crf: int, device) -> float:
    """Frames/s of the encoder alone on prepared yuv420p frames (the GPU path's), from
    ``(n, 3, h, w)`` uint8 frames."""
    from mmrbvsr.apis.pipeline import _yuv_frames
    from mmrbvsr.apis.video_io import VideoFileSink
    prepared = []
    for part in frames.split(8):  # converted untimed, a few frames at a time
        yuv = rgb_to_yuv420p(part.to(device)).cpu().numpy()
        prepared.extend(_yuv_frames(yuv, 'yuv420p'))
    start = time.perf_counter()
    with VideoFileSink(dst, Fraction(25), preset=preset, crf=crf, overwrite=True) as sink:
        for frame in prepared:
            sink.write(frame)
    return len(prepared) / (time.perf_counter() - start)


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = sum(((x.float() - y.float()) ** 2).mean().item() for x, y in zip(a, b)) / len(a)
    return float('inf') if mse == 0 else 10 * math.log10(255 ** 2 / mse)


def profile_restore(generator, args, batch, src: str, dst: str) -> None:
    """Where the time of one end-to-end run goes: the busy share of the GPU, the kernels,
    where the main thread waited."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as profiler
    device = torch.device(args.device)
    restorer = VideoRestorer(generator, device=device, dtype=args.dtype, window=args.window,
                             overlap=args.overlap, batch_windows=batch)
    options = dict(preset=args.preset, crf=args.crf)
    # warm-up: every graph captured before the profiler starts (a capture under it may fail)
    restore_video(restorer, src, dst, progress=False, overwrite=True, **options)
    restorer.batch_windows = restorer.last_batch_windows
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA]
                                           if device.type == 'cuda' else [])
    stats = {}
    with profiler(activities=activities) as prof:
        start = time.perf_counter()
        source = open_source(src)
        with open_sink(dst, source.fps, None, True, **options) as sink:
            restore_stream(restorer, source, sink, stats=stats)
        cuda_sync(device)
        wall = time.perf_counter() - start
    events = prof.key_averages()
    on_device = device.type == 'cuda'
    key = 'self_device_time_total' if on_device else 'self_cpu_time_total'
    if not hasattr(events[0], key):
        key = 'self_cuda_time_total'
    kind = 'CUDA' if on_device else 'CPU'
    busy = sum(getattr(e, key) for e in events if e.device_type.name == kind) / 1e6
    print(f'\n## profile: end to end, B={restorer.last_batch_windows}, {args.frames} frames, '
          f'{wall:.2f} s wall under the profiler; {busy:.2f} s of '
          f'{"GPU kernels" if on_device else "CPU ops"} ({busy / wall:.0%} of the wall time); '
          f'the main thread waited {stats.get("frames", 0):.2f} s for decoded frames, '
          f'{stats.get("encoder", 0):.2f} s for room in the encoder queue, '
          f'{stats.get("flush", 0):.2f} s for the encoder to finish')
    print(events.table(sort_by=key, row_limit=25, max_name_column_width=70))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--device', default='cpu')
    p.add_argument('--dtype', default=None, help='ours: fp32, bf16, fp16 (default: bf16 on '
                   'CUDA, fp32 on a CPU); MMagic runs fp32 (TF32 convs on CUDA, as PyTorch '
                   'defaults)')
    p.add_argument('--frames', type=int, default=40)
    p.add_argument('--size', type=size_arg, default=(64, 64), help='input HxW')
    p.add_argument('--input', default=None, help='a video to take the frames from '
                   '(default: synthetic moving texture)')
    p.add_argument('--window', type=int, default=30)
    p.add_argument('--overlap', type=int, default=10)
    p.add_argument('--batch-windows', type=int, default=None,
                   help='B of the batched row (default: the device default; 2 on a CPU)')
    p.add_argument('--extra-windows', nargs='*', default=[], metavar='W/O',
                   help='more batched end-to-end rows with window W and overlap O')
    p.add_argument('--preset', default='veryfast', help='x264 preset of our output')
    p.add_argument('--crf', type=int, default=18)
    p.add_argument('--spynet', default=None, help='SPyNet weights (trained flows)')
    p.add_argument('--mid-channels', type=int, default=64)
    p.add_argument('--blocks', type=int, default=20)
    p.add_argument('--no-mmagic', action='store_true')
    p.add_argument('--no-mmagic-whole', action='store_true',
                   help="skip MMagic's whole-clip row (e.g. when it cannot fit)")
    p.add_argument('--psnr', action='store_true',
                   help="ours in fp32 too (PyTorch's defaults: TF32 convs on CUDA), PSNR "
                   'against it')
    p.add_argument('--sweep', type=int, nargs='*', default=[],
                   help='end-to-end rows for these B (windows per batch)')
    p.add_argument('--encoder-presets', nargs='*', default=[],
                   help='time the encoder alone on our output with these x264 presets')
    p.add_argument('--profile', action='store_true',
                   help='print a profile when the target frames/s is not reached')
    p.add_argument('--target-fps', type=float, default=None)
    p.add_argument('--peak-tflops', type=float, default=990.0,
                   help='dense bf16 peak of the GPU (H200: ~990)')
    p.add_argument('--warmup', type=int, default=None,
                   help='1: an untimed run before each timed one (CUDA graphs, cuDNN); '
                   'default: on CUDA only')
    p.add_argument('--out-dir', default=None, help='keep the clips here')
    args = p.parse_args()
    device = torch.device(args.device)
    args.dtype = args.dtype or ('bf16' if device.type == 'cuda' else 'fp32')
    if args.warmup is None:
        args.warmup = int(device.type == 'cuda')
    height, width = args.size
    if args.batch_windows is None and device.type != 'cuda':
        args.batch_windows = 2  # the CPU default is 1: the batched row needs more
    import_mmagic_transforms()
    tmp = args.out_dir or tempfile.mkdtemp(prefix='bench_restorer_')
    os.makedirs(tmp, exist_ok=True)
    src = osp.join(tmp, f'input_{height}x{width}_{args.frames}.mp4')
    frames = (video_frames(args.input, args.frames, height, width) if args.input
              else list(synthetic_frames(args.frames, height, width)))
    write_clip(frames, src)
    frames = decode(src)  # what every run reads
    theirs, ours = build(args.spynet, args.mid_channels, args.blocks)
    flop = flop_per_frame(theirs.to(device), args.frames, height, width, device)
    theirs.cpu()
    ours.to(device)
    out_pixels = 16 * height * width

    print(f'# VideoRestorer end to end: {args.frames} frames {height}x{width} -> '
          f'{4 * height}x{4 * width}, {args.device}, ours {args.dtype}, MMagic fp32, '
          f'window {args.window} overlap {args.overlap}, x264 {args.preset} CRF {args.crf}')
    print(f'machine: {machine()}')
    print(f'input: {args.input or "synthetic moving texture"}; generator: RealBasicVSRNet '
          f'{args.mid_channels} channels, {args.blocks} + {args.blocks} blocks, '
          f'{flop / 1e12:.4f} TFLOP per frame of a whole-clip call (flop_counter on '
          f"MMagic's generator at {height}x{width} with 2 and 3 frames, extrapolated to "
          f'{args.frames})')
    header = ('run', 'frames/s end to end', 'compute-only frames/s', 'GPU peak GiB',
              'TFLOP/s', 'share of bf16 peak', 'notes')
    print(table([], header))  # rows follow as they are measured (a timeout keeps them)
    fps_of = {}

    def add(key, name, result, compute=None, note=''):
        if 'error' in result:
            print(table([(name, result['error'], '-', result.get('peak', '-'), '-', '-', note)],
                        header).splitlines()[-1])
            return None
        fps = fps_of[key] = result['frames'] / result['seconds']
        tflops = fps * flop / 1e12
        compute_fps = (f'{args.frames / compute["seconds"]:.3g}' if compute else '-')
        print(table([(name, fps, compute_fps, result['peak'], tflops,
                      f'{tflops / args.peak_tflops:.1%}', note)], header).splitlines()[-1])
        return fps

    def restorer_note(r, window=None, overlap=None):
        window, overlap = window or args.window, args.overlap if overlap is None else overlap
        steps = max(1, math.ceil((args.frames - window) / (window - overlap)) + 1) \
            if args.frames > window else 1
        computed = steps * min(window, args.frames)
        note = f'B={r["batch"]}, {computed / args.frames:.2f}x frames computed (windows)'
        if r.get('waits'):
            w = r['waits']
            note += (f'; main thread waited {w.get("frames", 0):.2f} s for frames, '
                     f'{w.get("encoder", 0):.2f} s for the encoder, flush '
                     f'{w.get("flush", 0):.2f} s')
        if device.type == 'cuda':
            model_gib = (r['batch'] * window_bytes(window, height * width,
                                                   torch.float32 if args.dtype == 'fp32'
                                                   else torch.bfloat16)) / 2**30
            note += f'; memory model {model_gib:.1f} GiB + fixed'
        return note

    batched = run_ours(ours, args, args.batch_windows, src, osp.join(tmp, 'ours_batched.mp4'),
                       args.dtype)
    compute = run_compute(ours, args, args.batch_windows, frames, args.dtype,
                          collect=args.psnr or bool(args.encoder_presets))
    fps = add('batched', f'mmrbvsr VideoRestorer, batched, {args.dtype}', batched, compute,
              restorer_note(batched))
    sequential = run_ours(ours, args, 1, src, osp.join(tmp, 'ours_sequential.mp4'),
                          args.dtype)
    add('sequential', f'mmrbvsr VideoRestorer, sequential (B=1), {args.dtype}', sequential,
        run_compute(ours, args, 1, frames, args.dtype), restorer_note(sequential))
    if args.psnr:
        reference = run_compute(ours, args, args.batch_windows, frames, 'fp32', collect=True,
                                warmup=False)
        print(table([('mmrbvsr compute only, fp32 (PSNR reference; no warm-up)', '-',
                      f'{args.frames / reference["seconds"]:.3g}', reference['peak'], '-', '-',
                      f'PSNR {args.dtype} vs fp32: '
                      f'{psnr(compute["frames"], reference["frames"]):.2f} dB (uint8 '
                      'frames)')], header).splitlines()[-1])
        reference = None
    if not args.no_mmagic:
        theirs.to(device)  # ours keeps its weights and CUDA graphs on the device
        if device.type == 'cuda':
            torch.cuda.empty_cache()
        model = mmagic_model(theirs, device)
        add('chunks', f'MMagic 1.2.0 inferencer, max_seq_len={args.window}, fp32',
            run_mmagic(model, args, src, osp.join(tmp, 'mmagic_chunks.mp4'), args.window))
        if not args.no_mmagic_whole:
            add('whole', 'MMagic 1.2.0 inferencer, whole clip, fp32',
                run_mmagic(model, args, src, osp.join(tmp, 'mmagic_whole.mp4'), None))
        model = None
        theirs.cpu()
        if device.type == 'cuda':
            torch.cuda.empty_cache()
        ratios = [(f'ours {a} / MMagic {b}', fps_of[a] / fps_of[b])
                  for a in ('batched', 'sequential') for b in ('whole', 'chunks')
                  if a in fps_of and b in fps_of]
        print('\n' + table(ratios, header=('end to end', 'ratio')))
    if args.encoder_presets:
        enc = []
        for preset in args.encoder_presets:
            enc.append((preset, encoder_only(compute['frames'], osp.join(tmp, 'enc.mp4'),
                                             preset, args.crf, device)))
        print(f'\nencoder alone (libx264, CRF {args.crf}, prepared yuv420p frames, '
              f'{os.cpu_count()} cores):')
        print(table(enc, header=('preset', 'frames/s')))
    compute = None
    if args.target_fps and fps is not None:
        met = fps >= args.target_fps
        print(f'\ntarget {args.target_fps:g} frames/s end to end: '
              f'{"reached" if met else "not reached"} ({fps:.1f})')
        if not met and args.profile:
            profile_restore(ours, args, args.batch_windows, src,
                            osp.join(tmp, 'ours_profiled.mp4'))
    if args.extra_windows:
        print('\n' + table([], header))
    for spec in args.extra_windows:
        w, o = (int(v) for v in spec.split('/'))
        extra = run_ours(ours, SimpleNamespace(**{**vars(args), 'window': w, 'overlap': o}),
                         args.batch_windows, src, osp.join(tmp, f'ours_w{w}.mp4'), args.dtype,
                         window=w, overlap=o)
        add(f'w{w}', f'mmrbvsr VideoRestorer, batched, window {w} overlap {o}, {args.dtype}',
            extra, note=restorer_note(extra, w, o))
    if args.sweep:
        print(f'\nend to end by batch size ({args.dtype}):')
        sweep_header = ('B (windows per batch)', 'frames/s', 'GPU peak GiB', 'notes')
        print(table([], sweep_header))
        for b in args.sweep:
            r = run_ours(ours, args, b, src, osp.join(tmp, f'ours_b{b}.mp4'), args.dtype)
            print(table([(b, r['frames'] / r['seconds'], r['peak'], restorer_note(r))],
                        sweep_header).splitlines()[-1])
    print(f'\noutput pixels per frame: {out_pixels}; clips in {tmp}')


if __name__ == '__main__':
    main()
