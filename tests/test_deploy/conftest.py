from pathlib import Path

import numpy as np
import torch

from mmrbvsr.datasets.demo import load_photo, render_clip

REPO = Path(__file__).resolve().parents[2]
PHOTOS = ('astronaut.png', 'chelsea.png', 'coffee.png', 'motorcycle_left.png')


def scene_frames(num: int, h: int, w: int, seed: int = 0) -> np.ndarray:
    """A real photograph (scikit-image's samples) filmed by a moving hand-held camera:
    RGB uint8 ``(num, h, w, 3)``."""
    rng = np.random.default_rng(seed)
    size = max(h, w)
    frames = render_clip(load_photo(PHOTOS[seed % len(PHOTOS)]), size, num, rng)
    top, left = (size - h) // 2, (size - w) // 2
    return np.stack([f[top:top + h, left:left + w] for f in frames])


def scene_clip(num: int, h: int, w: int, seed: int = 0) -> torch.Tensor:
    """``scene_frames`` as a ``(1, num, 3, h, w)`` float clip in [0, 1]."""
    frames = torch.from_numpy(scene_frames(num, h, w, seed))
    return frames.permute(0, 3, 1, 2).float().div(255).unsqueeze(0)
