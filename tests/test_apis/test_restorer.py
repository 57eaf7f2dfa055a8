import numpy as np
import pytest
import torch
from torch import nn

from mmrbvsr.apis import VideoIOError, VideoRestorer, build_generator
from tests.conftest import DEMO_FRAMES

from .conftest import NearestX4, psnr, random_frames, tiny_generator


def upsampled(frame: np.ndarray) -> np.ndarray:
    return np.repeat(np.repeat(frame, 4, axis=0), 4, axis=1)


@pytest.mark.parametrize('num, window, overlap', [
    (1, 4, 1), (3, 4, 1), (4, 4, 1), (5, 4, 1), (10, 4, 1), (11, 4, 2), (12, 5, 0), (20, 6, 3),
    (23, 6, 3), (9, 2, 1), (7, None, 0)])
def test_windows_keep_every_frame_in_order(num, window, overlap):
    # The stand-in's output for a frame depends on that frame only, so any misplaced, lost or
    # duplicated frame, or crossfade weights not summing to one, shows as a mismatch.
    frames = random_frames(num)
    restorer = VideoRestorer(NearestX4(), window=window, overlap=overlap)
    out = list(restorer.restore_frames(iter(frames)))
    assert len(out) == num
    for i, (lq, hr) in enumerate(zip(frames, out)):
        assert hr.dtype == np.uint8 and hr.shape == (128, 160, 3), i
        np.testing.assert_array_equal(hr, upsampled(lq), err_msg=f'frame {i}')
    limit = num if window is None else window
    assert restorer.stats['max_input_frames'] == min(num, limit)
    assert restorer.stats['max_output_frames'] <= min(num, limit) + overlap


def test_frames_are_yielded_before_the_input_ends():
    frames = random_frames(30)
    consumed = []

    def source():
        for i, frame in enumerate(frames):
            consumed.append(i)
            yield frame

    outputs = VideoRestorer(NearestX4(), window=8, overlap=2).restore_frames(source())
    next(outputs)
    assert len(consumed) == 8  # the first window, not the whole video


def test_window_agrees_with_whole_video_on_real_clip():
    # A real clip (the 15 demo frames of tests/data, area-downscaled to 64x64 for speed)
    # through the tiny RealBasicVSRNet with random but fixed weights.
    import cv2

    from mmrbvsr.apis import open_source
    frames = [cv2.resize(f, (64, 64), interpolation=cv2.INTER_AREA)
              for f in open_source(DEMO_FRAMES)]
    generator = tiny_generator()
    whole = np.stack(list(VideoRestorer(generator, window=None).restore_frames(frames)))
    windowed = np.stack(list(VideoRestorer(generator, window=8, overlap=3)
                             .restore_frames(frames)))
    assert windowed.shape == whole.shape == (15, 256, 256, 3)
    assert psnr(windowed, whole) >= 40
    assert min(psnr(a, b) for a, b in zip(windowed, whole)) >= 40


def test_tiles_blend_to_the_untiled_result():
    frames = random_frames(3, 40, 52)
    whole = list(VideoRestorer(NearestX4(), window=None).restore_frames(frames))
    tiled = list(VideoRestorer(NearestX4(), window=None, tile=16, tile_overlap=4)
                 .restore_frames(frames))
    for a, b in zip(whole, tiled):
        assert np.abs(a.astype(int) - b.astype(int)).max() <= 1  # rounding only


def test_tiles_with_real_network_stay_close():
    frames = random_frames(3, 48, 48, seed=3)
    generator = tiny_generator()
    whole = np.stack(list(VideoRestorer(generator, window=None).restore_frames(frames)))
    tiled = np.stack(list(VideoRestorer(generator, window=None, tile=32, tile_overlap=16)
                          .restore_frames(frames)))
    assert tiled.shape == whole.shape
    assert psnr(tiled, whole) >= 30


@pytest.mark.parametrize('kwargs, size', [
    (dict(out_scale=2), (64, 80)), (dict(out_size=(100, 60)), (60, 100)),
    (dict(out_size=(-1, 96)), (96, 120)), (dict(out_size=(200, -1)), (160, 200))])
def test_output_size(kwargs, size):
    out = next(VideoRestorer(NearestX4(), **kwargs).restore_frames(random_frames(2)))
    assert out.shape == size + (3,)


@pytest.mark.parametrize('dtype', ['bf16', 'fp16'])
def test_reduced_precision_matches_fp32(dtype):
    frames = random_frames(3, 32, 32)
    generator = tiny_generator()
    fp32 = np.stack(list(VideoRestorer(generator, window=None).restore_frames(frames)))
    low = np.stack(list(VideoRestorer(generator, window=None, dtype=dtype)
                        .restore_frames(frames)))
    assert psnr(fp32, low) >= 30


@pytest.mark.parametrize('kwargs, match', [
    (dict(window=1), 'window must be at least 2'),
    (dict(window=5, overlap=3), r'overlap must be in \[0, window // 2\] = \[0, 2\], got 3'),
    (dict(window=4, overlap=-1), 'overlap'), (dict(tile=8), 'tile must be'),
    (dict(tile=32, tile_overlap=32), 'tile_overlap'), (dict(out_scale=0), 'out_scale'),
    (dict(out_size=(0, 10)), 'out_size'), (dict(out_size=(10, 10), out_scale=2), 'not both'),
    (dict(dtype='fp8'), "unknown dtype 'fp8'"),
    (dict(device='cuda:7' if not torch.cuda.is_available() else 'cuda:99'), 'cuda'),
    (dict(device='tpu9'), 'unknown device')])
def test_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        VideoRestorer(NearestX4(), **kwargs)


def test_bad_frames():
    restorer = VideoRestorer(NearestX4(), window=4, overlap=1)
    with pytest.raises(VideoIOError, match='no frames'):
        list(restorer.restore_frames([]))
    frames = random_frames(3) + random_frames(1, 32, 44)
    with pytest.raises(VideoIOError, match='frame 3 is 44x32 but earlier frames are 40x32'):
        list(restorer.restore_frames(frames))
    with pytest.raises(ValueError, match='RGB uint8'):
        list(restorer.restore_frames([np.zeros((8, 8, 3), np.float32)]))


def test_build_generator_builds_only_the_generator(tiny_config, monkeypatch):
    # Offline, building the VGG19 perceptual loss or fetching SPyNet would fail; make any
    # attempt fail loudly even where a cache exists.
    def no_download(*args, **kwargs):
        raise AssertionError('inference must not download anything')

    monkeypatch.setattr(torch.hub, 'load_state_dict_from_url', no_download)
    monkeypatch.setattr(torch.hub, 'download_url_to_file', no_download)
    generator = build_generator(tiny_config, refine_threshold=1.5)
    assert type(generator).__name__ == 'RealBasicVSRNet'
    assert not generator.training
    assert generator.dynamic_refine_thres == pytest.approx(1.5 / 255)
    assert not any('vgg' in name or 'discriminator' in name
                   for name, _ in generator.named_modules())
    with pytest.raises(ValueError, match=r'refine threshold must be in \[0, 255\], got 300'):
        build_generator(tiny_config, refine_threshold=300)
    with pytest.raises(ValueError, match='no model.generator'):
        build_generator(dict(model=dict(type='Foo')))


def test_single_frame_stand_in_without_one_frame_support():
    class NeedsTwoFrames(nn.Module):
        def forward(self, lqs):
            assert lqs.size(1) >= 2
            return NearestX4()(lqs)

    frame = random_frames(1)
    out = list(VideoRestorer(NeedsTwoFrames(), window=4, overlap=1).restore_frames(frame))
    np.testing.assert_array_equal(out[0], upsampled(frame[0]))


def test_default_overlap_follows_the_window():
    assert VideoRestorer(NearestX4()).overlap == 10
    assert VideoRestorer(NearestX4(), window=8).overlap == 4
    assert VideoRestorer(NearestX4(), window=None).overlap == 0


@pytest.mark.parametrize('model_type, expected', [('mmrbvsr.RealBasicVSR', 'mmrbvsr'),
                                                  ('RealBasicVSR', 'mmagic')])
def test_unscoped_generator_takes_its_models_scope(model_type, expected):
    """docs/mmagic_compatibility.md: inside our model an unscoped name is ours; inside
    MMagic's, MMagic's."""
    gen = dict(type='RealBasicVSRNet', mid_channels=4, num_propagation_blocks=1,
               num_cleaning_blocks=1)
    generator = build_generator(dict(model=dict(type=model_type, generator=gen)))
    assert type(generator).__module__.split('.')[0] == expected
    explicit = build_generator(dict(model=dict(type=model_type, generator=dict(
        gen, type='mmagic.RealBasicVSRNet'))))
    assert type(explicit).__module__.split('.')[0] == 'mmagic'
