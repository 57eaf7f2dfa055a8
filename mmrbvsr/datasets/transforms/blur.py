"""``RandomBlur``: a clip blurred with a random kernel whose parameters drift per frame."""
from typing import Dict, Optional, Sequence, Tuple

import cv2
import numpy as np

from mmrbvsr.registry import TRANSFORMS

from .functional import tensor_ops
from .functional.drift import random_walk
from .functional.filtering import filter_fast, filter_frame, filter_plans
from .functional.kernels import KERNEL_TYPES, make_kernels
from .random import RandomDegradation, check_choices, check_range, get_rng


@TRANSFORMS.register_module()
class RandomBlur(RandomDegradation):
    """Blur a clip with a random kernel whose parameters drift per frame.

    Takes MMagic's ``RandomBlur`` ``params`` unchanged. Kernel type and size are drawn
    per clip; sigma_x, sigma_y, rotation, beta_gaussian, beta_plateau and omega start
    uniform in their range and drift by ``*_step`` per frame (:func:`random_walk`).

    Unlike MMagic, the drifted beta is used as is (MMagic re-draws beta uniformly
    between the drifted value and 1 on every frame, which breaks the step bound), and
    isotropic Gaussian kernels are applied as two 1-D passes.

    Args:
        params: ``kernel_size`` (list of odd ints), ``kernel_list``, ``kernel_prob``,
            ``sigma_x``, ``sigma_y``, ``rotate_angle``, ``beta_gaussian``
            (default [0.5, 4]), ``beta_plateau`` (default [1, 2]), ``omega`` (default
            [pi/3, pi] below size 13, [pi/5, pi] from 13), each with an optional
            ``<name>_step``, and ``prob``.
        keys: The results keys to blur.
    """

    _ranges = ('sigma_x', 'sigma_y', 'rotate_angle', 'beta_gaussian', 'beta_plateau')
    _defaults = dict(sigma_x=(0.2, 3.), sigma_y=(0.2, 3.), rotate_angle=(-np.pi, np.pi),
                     beta_gaussian=(0.5, 4.), beta_plateau=(1., 2.))

    def __init__(self, params: dict, keys: Sequence[str]) -> None:
        super().__init__(params, keys)
        self.kernel_list = list(params['kernel_list'])
        self.kernel_prob = check_choices('RandomBlur kernel_list', self.kernel_list,
                                         params['kernel_prob'], KERNEL_TYPES)
        self.kernel_sizes = list(params['kernel_size'])
        for k in self.kernel_sizes:
            if not isinstance(k, (int, np.integer)) or k < 1 or k % 2 != 1:
                raise ValueError(f'RandomBlur kernel_size must hold odd ints, got {k!r}')
        self.ranges = {n: check_range(f'RandomBlur {n}', params.get(n, self._defaults[n]))
                       for n in self._ranges}
        self.omega = (None if params.get('omega') is None else
                      check_range('RandomBlur omega', params['omega']))
        for n in self._ranges + ('omega', ):
            if params.get(f'{n}_step', 0) < 0:
                raise ValueError(f'RandomBlur {n}_step must be >= 0, got {params[n + "_step"]!r}')

    def omega_range(self, kernel_size: int) -> Tuple[float, float]:
        if self.omega is not None:
            return self.omega
        return (np.pi / 3, np.pi) if kernel_size < 13 else (np.pi / 5, np.pi)

    def sample(self, num: int, rng: np.random.Generator) -> Dict:
        """Draw the clip's kernel type and size and ``num`` frames of drifting parameters."""
        kernel_type = self.kernel_list[rng.choice(len(self.kernel_list), p=self.kernel_prob)]
        kernel_size = int(self.kernel_sizes[rng.integers(len(self.kernel_sizes))])
        if kernel_type == 'sinc':
            names = {'omega': self.omega_range(kernel_size)}
        else:
            names = {'sigma_x': self.ranges['sigma_x']}
            if 'aniso' in kernel_type:
                names.update(sigma_y=self.ranges['sigma_y'],
                             rotate_angle=self.ranges['rotate_angle'])
            if kernel_type.startswith('generalized'):
                names['beta_gaussian'] = self.ranges['beta_gaussian']
            if kernel_type.startswith('plateau'):
                names['beta_plateau'] = self.ranges['beta_plateau']
        walks = {n: random_walk(rng, lo, hi, self.params.get(f'{n}_step', 0), num)
                 for n, (lo, hi) in names.items()}
        return dict(kernel_type=kernel_type, kernel_size=kernel_size, **walks)

    def kernels(self, sampled: Dict) -> list:
        """One (kernel, separable factors or None) pair per frame."""
        kt, ks = sampled['kernel_type'], sampled['kernel_size']
        if kt == 'iso':  # exp(-(x^2+y^2)/2s^2) = g(x) g(y)
            out = []
            for sigma in sampled['sigma_x']:
                g = cv2.getGaussianKernel(ks, float(sigma), cv2.CV_32F)
                out.append((None, (g, g)))
            return out
        kw = {arg: sampled[n] for n, arg in (('sigma_x', 'sigma_x'), ('sigma_y', 'sigma_y'),
                                             ('rotate_angle', 'theta'),
                                             ('beta_gaussian', 'beta_gaussian'),
                                             ('beta_plateau', 'beta_plateau'),
                                             ('omega', 'omega')) if n in sampled}
        return [(k, None) for k in make_kernels(kt, ks, **kw)]

    def get_kernel(self, num_kernels: int,
                   rng: Optional[np.random.Generator] = None) -> list:
        """``num_kernels`` drifting 2-D kernels of one clip (MMagic's method).

        Args:
            num_kernels (int): Number of frames.
            rng (numpy.random.Generator, optional): Where the parameters are drawn from;
                None: a generator seeded from NumPy's global state.
        """
        rng = get_rng({}) if rng is None else rng
        return [k if sep is None else sep[0] @ sep[1].T
                for k, sep in self.kernels(self.sample(num_kernels, rng))]

    def degrade(self, imgs: list, rng: np.random.Generator) -> list:
        kernels = self.kernels(self.sample(len(imgs), rng))
        if tensor_ops.is_tensor_clip(imgs):
            return tensor_ops.blur_frames(
                imgs, [k if sep is None else sep[0] @ sep[1].T for k, sep in kernels])
        if all(img.dtype == np.float32 for img in imgs):
            return [filter_fast(img, *plan) for img, plan in zip(imgs, filter_plans(kernels))]
        return [filter_frame(img, k, sep) for img, (k, sep) in zip(imgs, kernels)]
