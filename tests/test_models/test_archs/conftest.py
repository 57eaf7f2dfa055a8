"""Fixtures for the network tests: real frames and the converted BasicVSR_REDS4 weights."""
from pathlib import Path
from typing import Tuple

import numpy as np
import pytest
import torch
from PIL import Image

from mmrbvsr.checkpoint import convert_checkpoint


def demo_clip(shared: Path, num_frames: int, height: int, width: int, top: int = 100,
              left: int = 200, start: int = 0) -> torch.Tensor:
    """A ``(1, t, 3, h, w)`` crop of the official demo clip (real night footage), in [0, 1]."""
    files = sorted((shared / 'data' / 'realbasicvsr_demo_000').glob('*.png'))
    frames = [np.asarray(Image.open(f).convert('RGB'))[top:top + height, left:left + width]
              for f in files[start:start + num_frames]]
    clip = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float() / 255.
    return clip.unsqueeze(0).contiguous()


@pytest.fixture(scope='session')
def demo_frames(shared_dir):
    """``demo_frames(t, h, w, **crop)`` -> a real clip ``(1, t, 3, h, w)``."""
    def make(num_frames: int, height: int, width: int, **kwargs) -> torch.Tensor:
        return demo_clip(shared_dir, num_frames, height, width, **kwargs)
    return make


@pytest.fixture(scope='session')
def reds4_converted(shared_dir, tmp_path_factory) -> Tuple[Path, Path]:
    """``BasicVSR_REDS4.pth`` converted to our layout: (BasicVSRNet file, SPyNet file)."""
    out = tmp_path_factory.mktemp('reds4')
    net, spynet = out / 'basicvsr_reds4.pth', out / 'spynet.pth'
    convert_checkpoint(str(shared_dir / 'weights' / 'BasicVSR_REDS4.pth'), str(net), str(spynet),
                       strict=True)
    return net, spynet
