import importlib.util
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterable, List

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

REPO = Path(__file__).resolve().parents[2]

# A tiny generator with the released checkpoints' layout; the config asks for a discriminator,
# VGG19 perceptual loss and a SPyNet URL, none of which inference may build or download.
TINY_GENERATOR = dict(type='mmrbvsr.RealBasicVSRNet', mid_channels=4, num_propagation_blocks=1,
                      num_cleaning_blocks=1, dynamic_refine_thres=255,
                      spynet_pretrained='https://download.openmmlab.com/mmediting/restorers/'
                      'basicvsr/spynet_20210409-c6c1bd09.pth')
TINY_CONFIG = f"""
default_scope = 'mmagic'
model = dict(
    type='mmrbvsr.RealBasicVSR',
    generator={TINY_GENERATOR!r},
    discriminator=dict(type='UNetDiscriminatorWithSpectralNorm', in_channels=3,
                       mid_channels=4, skip_connection=True),
    pixel_loss=dict(type='L1Loss', loss_weight=1.0, reduction='mean'),
    cleaning_loss=dict(type='L1Loss', loss_weight=1.0, reduction='mean'),
    perceptual_loss=dict(type='PerceptualLoss', layer_weights={{'2': 0.1}},
                         vgg_type='vgg19', perceptual_weight=1.0, style_weight=0,
                         norm_img=False),
    is_use_ema=True,
    data_preprocessor=dict(type='DataPreprocessor', mean=[0., 0., 0.], std=[255., 255., 255.]))
"""


class NearestX4(nn.Module):
    """A stand-in generator whose output for a frame depends on that frame only."""

    def forward(self, lqs: torch.Tensor) -> torch.Tensor:
        n, t = lqs.shape[:2]
        out = F.interpolate(lqs.flatten(0, 1), scale_factor=4, mode='nearest')
        return out.view(n, t, *out.shape[1:])


def tiny_generator(seed: int = 0) -> nn.Module:
    from mmrbvsr.models.archs import RealBasicVSRNet
    torch.manual_seed(seed)
    kwargs = {k: v for k, v in TINY_GENERATOR.items() if k not in ('type', 'spynet_pretrained')}
    return RealBasicVSRNet(**kwargs).eval()


def random_frames(num: int, h: int = 32, w: int = 40, seed: int = 0) -> List[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for _ in range(num)]


def write_video(path: Path, frames: Iterable[np.ndarray], fps=Fraction(25),
                audio_seconds: float = 0) -> Path:
    """Encodes RGB frames with PyAV (and an AAC sine tone when ``audio_seconds``)."""
    import av
    container = av.open(str(path), mode='w')
    frames = iter(frames)
    first = next(frames)
    stream = container.add_stream('libx264', rate=fps, options={'preset': 'ultrafast'})
    stream.height, stream.width = first.shape[:2]
    stream.pix_fmt = 'yuv420p'
    rate = 44100
    audio = container.add_stream('aac', rate=rate) if audio_seconds else None
    for frame in [first, *frames]:
        for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format='rgb24')):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)
    if audio is not None:
        tone = (0.2 * np.sin(2 * np.pi * 440 * np.arange(int(rate * audio_seconds)) / rate))
        for pos in range(0, tone.size, 1024):
            chunk = av.AudioFrame.from_ndarray(tone[None, pos:pos + 1024].astype(np.float32),
                                               format='fltp', layout='mono')
            chunk.sample_rate, chunk.pts, chunk.time_base = rate, pos, Fraction(1, rate)
            for packet in audio.encode(chunk):
                container.mux(packet)
        for packet in audio.encode(None):
            container.mux(packet)
    container.close()
    return path


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float('inf') if mse == 0 else 10 * np.log10(255 ** 2 / mse)


@pytest.fixture(scope='session')
def tiny_config(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp('config') / 'tiny_realbasicvsr.py'
    path.write_text(TINY_CONFIG)
    return path


@pytest.fixture(scope='session')
def tiny_checkpoint(tmp_path_factory) -> Path:
    """A checkpoint laid out like MMagic's releases: G, EMA G, D and a step counter."""
    generator, ema = tiny_generator(0).state_dict(), tiny_generator(1).state_dict()
    state = {f'generator.{k}': v for k, v in generator.items()}
    state.update({f'generator_ema.{k}': v for k, v in ema.items()})
    state['discriminator.conv_0.weight'] = torch.zeros(4, 3, 3, 3)
    state['step_counter'] = torch.tensor(150000)
    path = tmp_path_factory.mktemp('ckpt') / 'tiny_realbasicvsr.pth'
    torch.save({'meta': {'mmedit_version': '0.12.0'}, 'state_dict': state}, path)
    return path


@pytest.fixture(scope='session')
def restore_cli() -> Callable:
    spec = importlib.util.spec_from_file_location('restore_video_cli',
                                                  REPO / 'tools' / 'restore_video.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main
