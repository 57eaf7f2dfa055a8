"""Windows restored in batches: the same video as window by window.

The generator treats the clips of a batch independently (cleaning passes and the mirrored-clip
check are decided per clip), so a window's output must not depend on the windows it is
batched with: batched and sequential runs agree to 1e-5 before the 8-bit rounding, here
through the real network (tiny, random weights) on the CPU.
"""
import cv2
import numpy as np
import pytest
import torch

from mmrbvsr.apis import VideoRestorer
from mmrbvsr.models.archs import BasicVSRNet, RealBasicVSRNet

from .conftest import NearestX4, random_frames, tiny_generator, write_video

TOL = 1e-5


def restored(generator, frames, **kwargs) -> torch.Tensor:
    """The float output frames, before the 8-bit rounding."""
    return torch.cat(list(VideoRestorer(generator, **kwargs).restore_chunks(frames)))


def refining_generator() -> RealBasicVSRNet:
    """A tiny generator whose cleaning residue follows the content: with a threshold of 2
    (0-255), noisy clips get 3 cleaning passes and smooth ones 1."""
    torch.manual_seed(0)
    net = RealBasicVSRNet(mid_channels=4, num_propagation_blocks=1, num_cleaning_blocks=1,
                          dynamic_refine_thres=2.0).eval()
    with torch.no_grad():
        net.image_cleaning[-1].bias.zero_()
        net.image_cleaning[-1].weight.mul_(0.3)
    return net


def mixed_frames() -> list:
    """5 noisy frames, then 6 smooth ones (32x32)."""
    smooth = [cv2.GaussianBlur(f, (0, 0), 3) for f in random_frames(6, 32, 32, seed=2)]
    return random_frames(5, 32, 32, seed=1) + smooth


def assert_same(batched: torch.Tensor, sequential: torch.Tensor) -> None:
    assert batched.shape == sequential.shape
    assert (batched - sequential).abs().max().item() <= TOL


# (The network's SPyNet is full size: every frame pair costs, so the clips are short.)
@pytest.mark.parametrize('num, window, overlap, batch', [
    (12, 4, 1, 2),  # 3 full windows, then the tail (9-12) beside the last one: 2 batches
    (11, 4, 1, 3),  # 3 full windows that end the video: a last batch of 1 window (no tail)
    (3, 4, 1, 2),  # shorter than a window: one clip of 3 frames
    (9, 4, 0, 2)])  # no overlap: a last batch of the tail alone
def test_batched_windows_equal_sequential(num, window, overlap, batch):
    frames = random_frames(num, 32, 32, seed=num)
    generator = tiny_generator()
    sequential = restored(generator, frames, window=window, overlap=overlap, batch_windows=1)
    batched = restored(generator, frames, window=window, overlap=overlap, batch_windows=batch)
    assert sequential.shape == (num, 3, 128, 128)
    assert_same(batched, sequential)


def test_batched_windows_refine_per_clip():
    # dynamic refinement (threshold 2 < 255): the batch mixes clips cleaned 3 times and once
    generator = refining_generator()
    frames = mixed_frames()
    starts = [0, 3, 6, 7]  # window 4, overlap 1: 3 windows and a tail
    x = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float() / 255
    with torch.no_grad():
        _, passes = generator.clean(torch.stack([x[s:s + 4] for s in starts]),
                                    return_passes=True)
    assert passes.tolist() == [3, 1, 1, 1], passes  # the first window is noisy
    sequential = restored(generator, frames, window=4, overlap=1, batch_windows=1)
    assert_same(restored(generator, frames, window=4, overlap=1, batch_windows=4), sequential)


def test_batched_windows_with_a_mirrored_clip():
    # the first window reads the same backwards (its forward flows are taken from the
    # backward ones); the second does not: the batch mixes both
    frames = random_frames(7, 32, 32, seed=5)
    frames[2:4] = frames[1::-1]
    x = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float()
    assert BasicVSRNet.mirrored_clips(torch.stack([x[0:4], x[3:7]])).tolist() == [True, False]
    generator = tiny_generator()
    sequential = restored(generator, frames, window=4, overlap=1, batch_windows=1)
    assert_same(restored(generator, frames, window=4, overlap=1, batch_windows=2), sequential)


def test_batched_windows_with_tiles():
    # 32x48 frames in 2 tiles of 32 (overlapping by 16): a batch of 2 windows is 4 clips
    frames = random_frames(7, 32, 48, seed=3)
    generator = tiny_generator()
    kwargs = dict(window=4, overlap=1, tile=32, tile_overlap=8)
    sequential = restored(generator, frames, batch_windows=1, **kwargs)
    assert sequential.shape == (7, 3, 128, 192)
    assert_same(restored(generator, frames, batch_windows=2, **kwargs), sequential)


def test_batched_frames_with_out_size():
    # the same uint8 frames after the resize (cv2, on the CPU) too
    frames = random_frames(7, 32, 40, seed=4)
    generator = tiny_generator()
    outs = [list(VideoRestorer(generator, window=4, overlap=1, out_size=(100, -1),
                               batch_windows=b).restore_frames(frames)) for b in (1, 3)]
    assert len(outs[0]) == len(outs[1]) == 7
    for a, b in zip(*outs):
        assert a.shape == (80, 100, 3)
        assert np.abs(a.astype(int) - b.astype(int)).max() <= 1


@pytest.mark.parametrize('num, window, overlap, batch, inputs, outputs', [
    (40, 10, 4, 3, 22, 34),  # 2 x 6 + 10 input frames; 3 x 10 output frames + 4 pending
    (30, 10, 4, 8, 30, 50),  # 4 windows and a tail, all in the last batch
    (7, 10, 4, 3, 7, 7),
    (13, 6, 0, 2, 12, 12)])
def test_batch_holds_batch_times_window_frames(num, window, overlap, batch, inputs, outputs):
    frames = random_frames(num)
    restorer = VideoRestorer(NearestX4(), window=window, overlap=overlap,
                             batch_windows=batch)
    out = list(restorer.restore_frames(frames))
    assert len(out) == num
    for lq, hr in zip(frames, out):  # every frame in place (the stand-in is per frame)
        np.testing.assert_array_equal(hr, np.repeat(np.repeat(lq, 4, 0), 4, 1))
    assert restorer.stats == {'max_input_frames': inputs, 'max_output_frames': outputs}
    assert restorer.last_batch_windows == batch


def test_batch_windows_argument():
    assert VideoRestorer(NearestX4()).batch_windows is None
    restorer = VideoRestorer(NearestX4())
    list(restorer.restore_frames(random_frames(3)))
    assert restorer.last_batch_windows == 1  # the default on a CPU
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match=f'batch_windows must be a positive int.*{bad}'):
            VideoRestorer(NearestX4(), batch_windows=bad)


def test_cli_batched_video_equals_sequential(restore_cli, tiny_config, tiny_checkpoint,
                                             tmp_path, capsys):
    # through tools/restore_video.py: resized output, the input's audio copied
    import av
    clip = write_video(tmp_path / 'in.mp4', random_frames(10, 32, 32, seed=6),
                       audio_seconds=0.4)
    videos = []
    for batch in ('1', '3'):
        out = tmp_path / f'out{batch}.mp4'
        assert restore_cli([str(tiny_config), str(tiny_checkpoint), str(clip), str(out),
                            '--window', '4', '--overlap', '1', '--batch-windows', batch,
                            '--out-size=-1x96', '--preset', 'ultrafast', '--crf', '0',
                            '--no-progress']) == 0
        with av.open(str(out)) as container:
            assert len(container.streams.audio) == 1
            videos.append(np.stack([f.to_ndarray(format='rgb24')
                                    for f in container.decode(video=0)]))
    assert videos[0].shape == videos[1].shape == (10, 96, 96, 3)
    assert np.abs(videos[0].astype(int) - videos[1].astype(int)).max() <= 1
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:  # a usage error, before the model loads
        restore_cli([str(tiny_config), str(tiny_checkpoint), str(clip),
                     str(tmp_path / 'bad.mp4'), '--batch-windows', '0'])
    assert exit_.value.code == 2
    assert "argument --batch-windows: must be at least 1, got 0" in capsys.readouterr().err
    assert not (tmp_path / 'bad.mp4').exists()


def test_default_batch_windows_on_a_gpu(monkeypatch):
    # the rule's arithmetic, with the GPU's free memory stubbed: 70% of it less 3 GiB over
    # the memory model of one window, at most 2^19 LR pixels per step, 16 windows, and a
    # quarter of the video's windows
    from mmrbvsr.apis import restorer as module
    free = {'value': 80 * 2**30}
    monkeypatch.setattr(torch.cuda, 'mem_get_info', lambda device: (free['value'], 0))
    monkeypatch.setattr(torch.cuda, 'memory_stats', lambda device: {})
    cuda = torch.device('cuda')

    def batch(frames, pixels, windows=None, dtype=torch.bfloat16):
        return module.default_batch_windows(cuda, dtype, frames, pixels, windows)

    assert module.window_bytes(30, 100, torch.bfloat16) == 30 * 100 * 488 + 100 * 6144
    assert module.window_bytes(30, 100, torch.float32) == 30 * 100 * 632 + 100 * 12288
    assert batch(30, 180 * 320) == 10  # ceil(2^19 / 57600): the GPU is full
    assert batch(30, 64 * 64) == 16  # the cap
    assert batch(30, 540 * 960) == 2
    assert batch(30, 180 * 320, windows=15) == 4  # at least 4 batches
    free['value'] = 10 * 2**30  # (7 - 3) GiB for 1.2 GB per 180x320 bf16 window
    assert batch(30, 180 * 320) == 3
    # nothing fits (65 GB a 1080p fp32 window): still one window at a time
    assert batch(30, 1080 * 1920, dtype=torch.float32) == 1
    assert module.default_batch_windows(torch.device('cpu'), torch.float32, 30, 100) == 1
