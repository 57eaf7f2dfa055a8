"""``RandomResize``: up, down or not, with a per-frame drifting scale, or to a fixed size."""
from typing import Sequence

import numpy as np

from mmrbvsr.registry import TRANSFORMS

from .functional import tensor_ops
from .functional.drift import random_walk
from .functional.resize import INTERPOLATIONS, resize_frames, scaled_size
from .random import RandomDegradation, check_choices, check_range


@TRANSFORMS.register_module()
class RandomResize(RandomDegradation):
    """Resize a clip up, down or not, with a scale that drifts per frame.

    Takes MMagic's ``RandomResize`` ``params`` unchanged. The mode (up / down / keep),
    the interpolation and the first scale are drawn per clip; the scale then drifts by
    ``resize_step`` per frame inside ``resize_scale``, so frames get different sizes.
    Sizes are relative to the first frame's size. With ``target_size`` every frame is
    resized to that (h, w) and there is no drift.

    Args:
        params: ``resize_opt`` / ``resize_prob`` (interpolations), and either
            ``target_size`` or ``resize_mode_prob`` (up, down, keep), ``resize_scale``,
            ``resize_step`` (default 0), ``is_size_even`` (default False); ``prob``.
        keys: The results keys to resize.
    """

    def __init__(self, params: dict, keys: Sequence[str]) -> None:
        super().__init__(params, keys)
        self.resize_opt = [o.lower() for o in params['resize_opt']]
        self.resize_prob = check_choices('RandomResize resize_opt', self.resize_opt,
                                         params['resize_prob'], INTERPOLATIONS)
        self.target_size = params.get('target_size')
        if self.target_size is not None:
            ts = self.target_size
            if len(ts) != 2 or min(ts) < 1:
                raise ValueError(f'RandomResize target_size must be (h, w) > 0, got {ts!r}')
        else:
            self.mode_prob = check_choices('RandomResize resize_mode_prob', ['up', 'down', 'keep'],
                                           params['resize_mode_prob'])
            self.scale = check_range('RandomResize resize_scale', params['resize_scale'])
            if not self.scale[0] <= 1 <= self.scale[1] or self.scale[0] <= 0:
                raise ValueError('RandomResize resize_scale must satisfy 0 < low <= 1 <= high, '
                                 f'got {params["resize_scale"]!r}')
            self.step = float(params.get('resize_step', 0))
            if self.step < 0:
                raise ValueError(f'RandomResize resize_step must be >= 0, got {self.step!r}')
            self.even = bool(params.get('is_size_even', False))

    def sample(self, num: int, h: int, w: int, rng: np.random.Generator) -> dict:
        """Draw the interpolation and the ``num`` frame sizes (and scales)."""
        opt = self.resize_opt[rng.choice(len(self.resize_opt), p=self.resize_prob)]
        if self.target_size is not None:
            return dict(interpolation=opt, sizes=[tuple(self.target_size)] * num, scales=None)
        mode = rng.choice(3, p=self.mode_prob)
        lo, hi = self.scale
        start = (rng.uniform(1, hi), rng.uniform(lo, 1), 1.)[mode]
        scales = random_walk(rng, lo, hi, self.step, num, start=start)
        sizes = [scaled_size(h, w, s, self.even) for s in scales]
        return dict(interpolation=opt, sizes=sizes, scales=scales)

    def degrade(self, imgs: list, rng: np.random.Generator) -> list:
        h, w = tensor_ops.frame_hw(imgs[0])
        s = self.sample(len(imgs), h, w, rng)
        fn = tensor_ops.resize_frames if tensor_ops.is_tensor_clip(imgs) else resize_frames
        return fn(imgs, s['sizes'], INTERPOLATIONS[s['interpolation']])
