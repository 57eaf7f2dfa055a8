"""Blur kernels: Real-ESRGAN's seven families (Gaussian, generalised Gaussian and plateau,
isotropic and anisotropic, and the sinc low-pass), one at a time or one per frame."""
from typing import Tuple

import numpy as np
from scipy import special

KERNEL_TYPES = ('iso', 'aniso', 'generalized_iso', 'generalized_aniso', 'plateau_iso',
                'plateau_aniso', 'sinc')


def mesh_grid(kernel_size: int) -> Tuple[np.ndarray, np.ndarray]:
    """Return (x, y) coordinates of a ``kernel_size`` square centred at 0."""
    r = np.arange(kernel_size, dtype=np.float64) - (kernel_size - 1) / 2
    return np.meshgrid(r, r)


def quadratic_form(kernel_size: int, sig_x: float, sig_y: float, theta: float) -> np.ndarray:
    """x^T S^-1 x with S = R(theta) diag(sig_x^2, sig_y^2) R(theta)^T, on the kernel grid."""
    x, y = mesh_grid(kernel_size)
    c, s = np.cos(theta), np.sin(theta)
    u, v = c * x + s * y, -s * x + c * y
    return (u / sig_x)**2 + (v / sig_y)**2


def bivariate_gaussian(kernel_size: int, sig_x: float, sig_y: float, theta: float) -> np.ndarray:
    """Normalised (an)isotropic Gaussian kernel, exp(-q / 2)."""
    k = np.exp(-0.5 * quadratic_form(kernel_size, sig_x, sig_y, theta))
    return k / k.sum()


def bivariate_generalized_gaussian(kernel_size: int, sig_x: float, sig_y: float, theta: float,
                                   beta: float) -> np.ndarray:
    """Normalised generalised Gaussian kernel, exp(-q^beta / 2)."""
    k = np.exp(-0.5 * np.power(quadratic_form(kernel_size, sig_x, sig_y, theta), beta))
    return k / k.sum()


def bivariate_plateau(kernel_size: int, sig_x: float, sig_y: float, theta: float,
                      beta: float) -> np.ndarray:
    """Normalised plateau kernel, 1 / (1 + q^beta)."""
    k = 1 / (np.power(quadratic_form(kernel_size, sig_x, sig_y, theta), beta) + 1)
    return k / k.sum()


def circular_lowpass_kernel(kernel_size: int, omega: float) -> np.ndarray:
    """Normalised 2-D sinc (ideal circular low-pass) kernel with cut-off ``omega``.

    k(r) = omega J1(omega r) / (2 pi r), with the limit omega^2 / (4 pi) at r = 0.
    """
    x, y = mesh_grid(kernel_size)
    r = np.hypot(x, y)
    c = (kernel_size - 1) // 2
    r[c, c] = 1  # placeholder, the centre is set to its limit below
    k = omega * special.j1(omega * r) / (2 * np.pi * r)
    k[c, c] = omega**2 / (4 * np.pi)
    return k / k.sum()


def make_kernel(kernel_type: str, kernel_size: int, sigma_x: float = 1., sigma_y: float = 1.,
                theta: float = 0., beta_gaussian: float = 1., beta_plateau: float = 1.,
                omega: float = np.pi) -> np.ndarray:
    """Build one normalised float32 kernel of a family in :data:`KERNEL_TYPES`.

    Isotropic families use ``sigma_x`` only; ``sinc`` uses ``omega`` only.
    """
    if kernel_size % 2 != 1 or kernel_size < 1:
        raise ValueError(f'kernel_size must be a positive odd int, got {kernel_size!r}')
    iso = kernel_type.endswith('iso') and not kernel_type.endswith('aniso')
    sy, th = (sigma_x, 0.) if iso else (sigma_y, theta)
    if kernel_type in ('iso', 'aniso'):
        k = bivariate_gaussian(kernel_size, sigma_x, sy, th)
    elif kernel_type in ('generalized_iso', 'generalized_aniso'):
        k = bivariate_generalized_gaussian(kernel_size, sigma_x, sy, th, beta_gaussian)
    elif kernel_type in ('plateau_iso', 'plateau_aniso'):
        k = bivariate_plateau(kernel_size, sigma_x, sy, th, beta_plateau)
    elif kernel_type == 'sinc':
        k = circular_lowpass_kernel(kernel_size, omega)
    else:
        raise ValueError(f'unknown kernel type {kernel_type!r}, expected one of {KERNEL_TYPES}')
    return k.astype(np.float32)


def make_kernels(kernel_type: str, kernel_size: int, sigma_x=1., sigma_y=1., theta=0.,
                 beta_gaussian=1., beta_plateau=1., omega=np.pi) -> np.ndarray:
    """:func:`make_kernel` for arrays of parameters (one per frame) at once.

    Returns:
        np.ndarray: (n, kernel_size, kernel_size) float32 kernels, equal to
        :func:`make_kernel` of each frame's parameters.
    """
    if kernel_size % 2 != 1 or kernel_size < 1:
        raise ValueError(f'kernel_size must be a positive odd int, got {kernel_size!r}')
    if kernel_type not in KERNEL_TYPES:
        raise ValueError(f'unknown kernel type {kernel_type!r}, expected one of {KERNEL_TYPES}')
    args = [np.asarray(a, dtype=np.float64) for a in (sigma_x, sigma_y, theta, beta_gaussian,
                                                       beta_plateau, omega)]
    n = max(a.size for a in args)
    sx, sy, th, bg, bp, om = (np.broadcast_to(a.reshape(-1), (n, ))[:, None, None]
                              for a in args)
    x, y = mesh_grid(kernel_size)
    if kernel_type == 'sinc':
        r = np.hypot(x, y)
        c = (kernel_size - 1) // 2
        r[c, c] = 1  # placeholder, the centre is set to its limit below
        k = om * special.j1(om * r) / (2 * np.pi * r)
        k[:, c, c] = om[:, 0, 0]**2 / (4 * np.pi)
    else:
        if kernel_type.endswith('iso') and not kernel_type.endswith('aniso'):
            sy, th = sx, np.zeros_like(sx)
        c, s = np.cos(th), np.sin(th)
        q = ((c * x + s * y) / sx)**2 + ((-s * x + c * y) / sy)**2
        if kernel_type in ('iso', 'aniso'):
            k = np.exp(-0.5 * q)
        elif kernel_type.startswith('generalized'):
            k = np.exp(-0.5 * np.power(q, bg))
        else:
            k = 1 / (np.power(q, bp) + 1)
    k /= k.sum(axis=(1, 2), keepdims=True)
    return k.astype(np.float32)
