"""Fixtures for the network tests: real frames and the converted BasicVSR_REDS4 weights."""
from pathlib import Path
from typing import Tuple

import numpy as np
import pytest
import torch
from PIL import Image

from mmrbvsr.checkpoint import convert_checkpoint
from tests.conftest import DEMO_FRAMES


def demo_clip(num_frames: int, height: int, width: int, top: int = 48, left: int = 8,
              start: int = 0) -> torch.Tensor:
    """A ``(1, t, 3, h, w)`` crop of the official demo clip (real night footage), in [0, 1]."""
    files = sorted(DEMO_FRAMES.glob('*.png'))[start:start + num_frames]
    assert len(files) == num_frames, f'{DEMO_FRAMES} has no frames {start}..{start + num_frames}'
    frames = [np.asarray(Image.open(f).convert('RGB'))[top:top + height, left:left + width]
              for f in files]
    assert frames[0].shape == (height, width, 3), f'{height}x{width} at ({top}, {left}) too big'
    clip = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float() / 255.
    return clip.unsqueeze(0).contiguous()


@pytest.fixture(scope='session')
def demo_frames():
    """``demo_frames(t, h, w, **crop)`` -> a real clip ``(1, t, 3, h, w)``."""
    return demo_clip


@pytest.fixture(scope='session')
def reds4_converted(reds4_weights, tmp_path_factory) -> Tuple[Path, Path]:
    """``BasicVSR_REDS4.pth`` converted to our layout: (BasicVSRNet file, SPyNet file)."""
    out = tmp_path_factory.mktemp('reds4')
    net, spynet = out / 'basicvsr_reds4.pth', out / 'spynet.pth'
    convert_checkpoint(str(reds4_weights), str(net), str(spynet), strict=True)
    return net, spynet
