"""Batched windows on a GPU: clips of a batch restored as alone, the YUV path, the default B.

On CUDA the generator takes other paths than on the CPU (both propagation branches in one
grouped step, CUDA graphs keyed by the batch's shapes, fused epilogues): each clip of an
``(n, t, 3, h, w)`` batch must still come out as it would alone. These tests need a GPU
(``bench/gpu/restorer.sh`` runs them); fp32 runs with TF32 off so that 1e-5 is meaningful.
"""
from fractions import Fraction

import numpy as np
import pytest
import torch

from mmrbvsr.apis import VideoRestorer, open_source
from mmrbvsr.apis.pipeline import encodes_yuv_on_device, restore_stream, rgb_to_yuv420p
from mmrbvsr.apis.restorer import FIXED_BYTES, default_batch_windows, window_bytes
from mmrbvsr.apis.video_io import VideoFileSink
from mmrbvsr.models.archs import BasicVSRNet, RealBasicVSRNet

from .conftest import random_frames, write_video
from .test_batch_windows import mixed_frames, restored

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU')


@pytest.fixture
def no_tf32():
    flags = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = flags


def net(threshold: float = 255) -> RealBasicVSRNet:
    torch.manual_seed(0)
    # with threshold 4: the clips below get 3 cleaning passes, the smooth one 1
    generator = RealBasicVSRNet(mid_channels=16, num_propagation_blocks=2,
                                num_cleaning_blocks=2, dynamic_refine_thres=threshold)
    with torch.no_grad():  # a residue that follows the content (see test_batch_windows)
        generator.image_cleaning[-1].bias.zero_()
        generator.image_cleaning[-1].weight.mul_(0.3)
    return generator.eval().cuda()


def test_each_clip_of_a_batch_as_alone(no_tf32):
    # mirrored and plain clips, cleaned 1 and 3 times, in one batch of 4 (graphs on)
    frames = mixed_frames() + random_frames(5, 32, 32, seed=8)
    x = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float().div(255).cuda()
    mirrored = torch.cat([x[:3], x[:3].flip(0)])
    clips = torch.stack([x[0:6], mirrored, x[6:12], x[10:16]])
    generator = net(threshold=4.0)
    with torch.no_grad():
        _, passes = generator.clean(clips, return_passes=True)
        assert BasicVSRNet.mirrored_clips(clips).tolist() == [False, True, False, False]
        assert set(passes.tolist()) == {1, 3}, passes
        for dtype in (None, torch.bfloat16):
            with torch.autocast('cuda', dtype or torch.float32, enabled=dtype is not None):
                batch = generator(clips).float()
                alone = torch.cat([generator(c[None]).float() for c in clips])
            tol = 1e-5 if dtype is None else 0.05
            assert (batch - alone).abs().max().item() <= tol, dtype
    shapes = {key[2][0][0][0] for key in generator.basicvsr._graphs if key[0] == 'both'}
    assert shapes == {1, 4}  # graphs captured per batch size


@pytest.mark.parametrize('dtype, tol', [('fp32', 1e-5), ('bf16', 0.05)])
def test_batched_windows_equal_sequential_on_cuda(no_tf32, dtype, tol):
    # dynamic refinement, then tiles (two per frame: a batch of 3 windows is 6 clips)
    generator = net(threshold=4.0)
    for clip, kwargs in ((mixed_frames(), dict(window=4, overlap=1)),
                         (random_frames(9, 32, 48, seed=9),
                          dict(window=4, overlap=1, tile=32, tile_overlap=8))):
        sequential = restored(generator, clip, device='cuda', dtype=dtype, batch_windows=1,
                              **kwargs)
        batched = restored(generator, clip, device='cuda', dtype=dtype, batch_windows=3,
                           **kwargs)
        assert batched.is_cuda and batched.shape == sequential.shape
        assert (batched - sequential).abs().max().item() <= tol, kwargs


def test_yuv_conversion_on_cuda_equals_cpu():
    frames = torch.from_numpy(np.stack(random_frames(3, 46, 70, seed=4))).permute(0, 3, 1, 2)
    cpu, gpu = rgb_to_yuv420p(frames), rgb_to_yuv420p(frames.cuda()).cpu()
    diff = (cpu.int() - gpu.int()).abs()
    assert diff.max() <= 1 and diff.float().mean() < 1e-3


def test_restore_stream_on_cuda_writes_the_video(no_tf32, tmp_path):
    import av
    clip = write_video(tmp_path / 'in.mp4', random_frames(17, 32, 32, seed=2),
                       audio_seconds=0.6)
    generator = net()
    outs = []
    for device in ('cpu', 'cuda'):
        restorer = VideoRestorer(generator.to(device), device=device, window=6, overlap=2,
                                 batch_windows=2)
        out = tmp_path / f'{device}.mp4'
        with VideoFileSink(out, Fraction(16), crf=0, preset='ultrafast',
                           audio_from=str(clip)) as sink:
            assert encodes_yuv_on_device(restorer, sink) == (device == 'cuda')
            assert restore_stream(restorer, open_source(clip), sink) == (17, (128, 128))
        with av.open(str(out)) as container:
            assert len(container.streams.audio) == 1
            outs.append(np.stack([f.to_ndarray() for f in container.decode(video=0)]))
    # lossless: the CPU path's swscale and the GPU conversion, and CPU vs GPU arithmetic
    assert outs[0].shape == outs[1].shape == (17, 192, 128)
    assert np.abs(outs[0].astype(int) - outs[1].astype(int)).max() <= 2


def test_default_batch_fits_the_memory_model():
    generator = net()
    frames = random_frames(40, 64, 64, seed=1)
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    restorer = VideoRestorer(generator, device='cuda', window=10, overlap=2)
    count = sum(chunk.size(0) for chunk in restorer.restore_chunks(frames))
    batch = restorer.last_batch_windows
    assert count == 40
    assert batch == default_batch_windows(torch.device('cuda'), torch.float32, 10, 64 * 64)
    assert batch == 16  # 64x64 windows are small: the cap
    used = torch.cuda.max_memory_allocated() - base
    assert used <= batch * window_bytes(10, 64 * 64, torch.float32) + FIXED_BYTES, used
    # 40 frames of known length are 5 windows: at least 4 batches, i.e. 2 windows each
    assert sum(chunk.size(0) for chunk in restorer.restore_chunks(frames, 40)) == 40
    assert restorer.last_batch_windows == 2
