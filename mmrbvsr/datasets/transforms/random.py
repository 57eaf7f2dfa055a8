"""Per-sample random generators and the parameter drift of the paper.

Every degradation in this package draws its randomness from one
``numpy.random.Generator`` stored in ``results['rng']``. :class:`SetRandomGenerator`,
the first transform of a pipeline, creates it from a ``numpy.random.SeedSequence``
keyed by

* the base ``seed`` (the config's ``randomness.seed`` or the transform's own),
* the distributed rank,
* the dataloader worker's torch seed (``torch.utils.data.get_worker_info().seed``:
  ``base_seed + worker_id`` where ``base_seed`` is drawn anew from the main
  process' torch generator for every dataloader iterator, i.e. every epoch),
* the sample index (``results['sample_idx']``, set by MMEngine's ``BaseDataset``),
* a per-worker call counter (a sample visited twice gets new degradations).

``SeedSequence`` hashes the whole key, so two workers, ranks or epochs never share
a stream, unlike MMEngine's ``worker_init_fn`` (``np.random.seed(seed + worker_id +
num_workers * rank)``), which gives seed ``s`` worker 1 the stream of seed ``s + 1``
worker 0 and restarts the same streams every epoch when workers are not persistent.

With ``seed_global=True`` (default) the transform also re-seeds NumPy's and Python's
global generators from the sample's stream, so MMagic's loaders, crops and flips
placed after it (they draw from ``np.random``) are keyed the same way.

A transform that finds no generator in ``results`` falls back to one seeded from
NumPy's global state, i.e. it behaves like MMagic's transforms.
"""
import random
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.dist import get_rank

from mmrbvsr.registry import TRANSFORMS

RNG_KEY = 'rng'


def get_rng(results: dict) -> np.random.Generator:
    """Return the sample's generator, or one seeded from NumPy's global state."""
    rng = results.get(RNG_KEY)
    if rng is None:
        rng = np.random.default_rng(np.random.randint(0, 2**31 - 1, size=4))
        results[RNG_KEY] = rng
    return rng


def as_keys(keys: Union[str, Sequence[str]]) -> Union[List[str], Tuple[str, ...]]:
    """The results keys of a transform: a copy of the list or tuple (printed as given, as
    MMagic prints them), a single key as a one-element list."""
    if isinstance(keys, str):
        return [keys]
    return tuple(keys) if isinstance(keys, tuple) else list(keys)


def check_range(name: str, value: Sequence[float]) -> Tuple[float, float]:
    """Validate a ``[low, high]`` config range and return it as floats."""
    if not isinstance(value, (list, tuple)) or len(value) != 2 or value[0] > value[1]:
        raise ValueError(f'{name} must be a [low, high] pair with low <= high, got {value!r}')
    return float(value[0]), float(value[1])


def check_prob(name: str, value: float) -> float:
    """Validate a probability."""
    if not 0 <= value <= 1:
        raise ValueError(f'{name} must be in [0, 1], got {value!r}')
    return float(value)


def check_choices(name: str, choices: Sequence, probs: Sequence[float],
                  allowed: Optional[Sequence] = None) -> np.ndarray:
    """Validate a list of choices and their probabilities; return the probabilities."""
    if len(choices) == 0 or len(choices) != len(probs):
        raise ValueError(f'{name}: {len(choices)} choices {list(choices)!r} but '
                         f'{len(probs)} probabilities {list(probs)!r}')
    if allowed is not None:
        for c in choices:
            if c not in allowed:
                raise ValueError(f'{name}: unknown choice {c!r}, expected one of {list(allowed)}')
    p = np.asarray(probs, dtype=np.float64)
    if np.any(p < 0) or abs(p.sum() - 1) > 1e-6:
        raise ValueError(f'{name}: probabilities {list(probs)!r} must be >= 0 and sum to 1')
    return p / p.sum()


@TRANSFORMS.register_module()
class SetRandomGenerator(BaseTransform):
    """Put the sample's ``numpy.random.Generator`` into ``results['rng']``.

    Place it first in the pipeline; every ``mmrbvsr`` degradation then draws from it.

    Args:
        seed: Base seed. ``None`` takes ``torch.initial_seed()`` of the process that
            first uses the transform, i.e. MMEngine's ``randomness.seed`` when one
            was set, else a random seed.
        use_sample_idx: Key the stream on ``results['sample_idx']``.
        use_worker: Key the stream on the rank, dataloader worker seed and a call
            counter. Set it to ``False`` to make a sample's degradation a pure
            function of ``(seed, sample_idx)`` (e.g. a fixed validation set).
        seed_global: Also seed ``np.random`` and ``random`` from the sample's stream
            (for MMagic's transforms that use them).
    """

    def __init__(self, seed: Optional[int] = None, use_sample_idx: bool = True,
                 use_worker: bool = True, seed_global: bool = True) -> None:
        if seed is not None and (not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f'seed must be a non-negative int or None, got {seed!r}')
        self.seed = seed
        self.use_sample_idx = use_sample_idx
        self.use_worker = use_worker
        self.seed_global = seed_global
        self._calls = 0
        self._entropy: Optional[int] = None

    def _base_seed(self) -> int:
        if self.seed is not None:
            return int(self.seed)
        if self._entropy is None:
            # torch's seed: MMEngine's randomness.seed if set, else random per process
            self._entropy = int(torch.initial_seed())
        return self._entropy

    def transform(self, results: dict) -> dict:
        key = []
        if self.use_sample_idx:
            key.append(int(results.get('sample_idx', 0)))
        if self.use_worker:
            info = torch.utils.data.get_worker_info()
            key += [get_rank(), int(info.seed) if info is not None else 0, self._calls]
            self._calls += 1
        seq = np.random.SeedSequence(self._base_seed(), spawn_key=tuple(key))
        global_seed, stream = seq.spawn(2)
        if self.seed_global:
            np.random.seed(global_seed.generate_state(1)[0])
            random.seed(int(global_seed.generate_state(1)[0]))
        results[RNG_KEY] = np.random.Generator(np.random.PCG64(stream))
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(seed={self.seed}, '
                f'use_sample_idx={self.use_sample_idx}, use_worker={self.use_worker}, '
                f'seed_global={self.seed_global})')


class RandomDegradation(BaseTransform):
    """Base of the degradations: the ``prob`` gate, the keys and single-image input.

    Subclasses implement :meth:`degrade`, which maps a list of HWC frames to a list
    of frames, drawing from ``rng``.

    Args:
        params: The degradation settings (MMagic's ``params`` dict, same keys).
        keys: The results keys to degrade.
    """

    def __init__(self, params: dict, keys: Sequence[str]) -> None:
        if not isinstance(params, dict):
            raise TypeError(f'params must be a dict, got {type(params).__name__}')
        # the caller's dict, printed by __repr__ and never modified
        self.params = params
        self.keys = as_keys(keys)
        self.prob = check_prob(f'{type(self).__name__} prob', params.get('prob', 1))

    def degrade(self, imgs: list, rng: np.random.Generator) -> list:
        raise NotImplementedError

    def transform(self, results: dict) -> dict:
        rng = get_rng(results)
        if self.prob < 1 and rng.uniform() >= self.prob:
            return results
        for key in self.keys:
            imgs = results[key]
            if isinstance(imgs, np.ndarray):
                results[key] = self.degrade([imgs], rng)[0]
            else:
                results[key] = self.degrade(list(imgs), rng)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(params={self.params}, keys={self.keys})'
