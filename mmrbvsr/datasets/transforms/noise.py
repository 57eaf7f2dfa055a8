"""``RandomNoise``: Gaussian or Poisson noise, color or gray, with a per-frame drifting level."""
from typing import Sequence

import cv2
import numpy as np

from mmrbvsr.registry import TRANSFORMS

from .functional import tensor_ops
from .functional.drift import random_walk
from .functional.noise import NOISE_TYPES, NORMAL_SAMPLERS, gaussian_noise, poisson_noise
from .random import RandomDegradation, check_choices, check_prob, check_range


@TRANSFORMS.register_module()
class RandomNoise(RandomDegradation):
    """Add Gaussian or Poisson noise whose level drifts per frame; no clipping (as MMagic).

    Takes MMagic's ``RandomNoise`` ``params`` unchanged. Noise type and the gray flag
    are drawn per clip; sigma (Gaussian, 0-255 units) or scale (Poisson) drift per
    frame by ``gaussian_sigma_step`` / ``poisson_scale_step``.

    Poisson counts above ``poisson_exact_below`` (default 1000; ``float('inf')`` for
    exact sampling everywhere) are drawn from the rounded normal approximation, see
    :func:`poisson_sample`.

    The normals (Gaussian noise, approximated Poisson counts) come from the sample's
    NumPy generator, by the Box-Muller transform of its uniforms
    (``normal_sampler='box_muller'``, the default) or by its ziggurat (``'numpy'``,
    2.3-3x slower), or from OpenCV's ``cv2.randn`` (``'opencv'``), seeded once per clip
    and key from the sample's generator; OpenCV's generator has 32-bit seeds, so among
    ~1e5 noisy clips two may share a noise stream.

    Args:
        params: ``noise_type``, ``noise_prob``, ``gaussian_sigma``,
            ``gaussian_gray_noise_prob``, ``poisson_scale``, ``poisson_gray_noise_prob``,
            ``gaussian_sigma_step``, ``poisson_scale_step`` (defaults 0), ``prob``,
            ``poisson_exact_below``, ``normal_sampler`` (one of :data:`NORMAL_SAMPLERS`).
        keys: The results keys to degrade.
    """

    def __init__(self, params: dict, keys: Sequence[str]) -> None:
        super().__init__(params, keys)
        self.noise_type = [t.lower() for t in params['noise_type']]
        self.noise_prob = check_choices('RandomNoise noise_type', self.noise_type,
                                        params['noise_prob'], NOISE_TYPES)
        self.level, self.gray_prob, self.step = {}, {}, {}
        for t, name in (('gaussian', 'gaussian_sigma'), ('poisson', 'poisson_scale')):
            if t in self.noise_type:
                self.level[t] = check_range(f'RandomNoise {name}', params[name])
                self.gray_prob[t] = check_prob(f'RandomNoise {t}_gray_noise_prob',
                                               params[f'{t}_gray_noise_prob'])
                self.step[t] = float(params.get(f'{name}_step', 0))
                if self.step[t] < 0:
                    raise ValueError(f'RandomNoise {name}_step must be >= 0, '
                                     f'got {self.step[t]!r}')

        self.exact_below = float(params.get('poisson_exact_below', 1000.))
        if self.exact_below < 0:
            raise ValueError(f'RandomNoise poisson_exact_below must be >= 0, '
                             f'got {self.exact_below!r}')
        self.sampler = params.get('normal_sampler', 'box_muller')
        if self.sampler not in NORMAL_SAMPLERS:
            raise ValueError(f'RandomNoise normal_sampler must be one of {NORMAL_SAMPLERS}, '
                             f'got {self.sampler!r}')

    def sample(self, num: int, rng: np.random.Generator) -> dict:
        """Draw the noise type, the gray flag and ``num`` drifting levels."""
        t = self.noise_type[rng.choice(len(self.noise_type), p=self.noise_prob)]
        gray = bool(rng.uniform() < self.gray_prob[t])
        levels = random_walk(rng, *self.level[t], self.step[t], num)
        return dict(noise_type=t, gray=gray, levels=levels)

    def degrade(self, imgs: list, rng: np.random.Generator) -> list:
        s = self.sample(len(imgs), rng)
        if tensor_ops.is_tensor_clip(imgs):  # torch's normal and exact Poisson samplers
            gen = tensor_ops.torch_generator(rng, imgs[0].device)
            fn = (tensor_ops.gaussian_noise
                  if s['noise_type'] == 'gaussian' else tensor_ops.poisson_noise)
            return fn(imgs, s['levels'], s['gray'], gen)
        if self.sampler == 'opencv':  # one OpenCV stream per clip, keyed by the sample
            cv2.setRNGSeed(int(rng.integers(2**31)))
        if s['noise_type'] == 'gaussian':
            return [gaussian_noise(img, lvl, s['gray'], rng, self.sampler)
                    for img, lvl in zip(imgs, s['levels'])]
        return [poisson_noise(img, lvl, s['gray'], rng, self.exact_below, self.sampler)
                for img, lvl in zip(imgs, s['levels'])]
