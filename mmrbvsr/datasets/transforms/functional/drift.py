"""The paper's per-frame parameter drift."""
from typing import Optional

import numpy as np


def random_walk(rng: np.random.Generator, low: float, high: float, step: float,
                num: int, start: Optional[float] = None) -> np.ndarray:
    """Sample the paper's drift p_{i+1} = p_i + r_{i+1}, kept inside [low, high].

    Args:
        rng: The generator to draw from.
        low, high: The range; the first value is uniform in it unless ``start`` is given.
        step: r_{i+1} is uniform in [-step, step]; 0 keeps the parameter constant.
        num: Number of values (frames).
        start: Optional first value.

    Returns:
        np.ndarray: ``num`` float64 values in [low, high].
    """
    p = rng.uniform(low, high) if start is None else float(start)
    out = np.empty(num, dtype=np.float64)
    out[0] = p
    if num > 1:
        steps = rng.uniform(-step, step, num - 1) if step > 0 else np.zeros(num - 1)
        for i, r in enumerate(steps, start=1):
            p = min(max(p + r, low), high)
            out[i] = p
    return out
