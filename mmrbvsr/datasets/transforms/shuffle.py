"""A group of degradations applied in a random order (the last stage of the paper)."""
import copy
from typing import List, Optional, Sequence, Union

from mmcv.transforms import BaseTransform

from mmrbvsr.registry import TRANSFORMS

from .random import get_rng

Degradation = Union[dict, Sequence[dict]]


@TRANSFORMS.register_module()
class DegradationsWithShuffle(BaseTransform):
    """Apply degradations in a random order; a nested list is a group kept in order.

    Same config as MMagic's: ``degradations=[a, b, [c, d]]`` runs a, b and the group
    (c, d) in one of 3! orders. The order is drawn from the sample's generator. Each
    entry is built from this package's registry (``type='RandomBlur'`` or
    ``'mmrbvsr.RandomBlur'``) and gets this transform's ``keys`` when it has none.

    Args:
        degradations: The degradation configs.
        keys: The results keys to degrade.
        shuffle_idx: Indices of the entries that are shuffled; ``None`` shuffles all.
    """

    def __init__(self, degradations: List[Degradation], keys: Sequence[str],
                 shuffle_idx: Optional[Sequence[int]] = None) -> None:
        self.keys = [keys] if isinstance(keys, str) else list(keys)
        self.degradations = [self._build(d) for d in degradations]
        n = len(self.degradations)
        self.shuffle_idx = list(range(n)) if shuffle_idx is None else list(shuffle_idx)
        for i in self.shuffle_idx:
            if not 0 <= i < n:
                raise ValueError(f'DegradationsWithShuffle shuffle_idx {i!r} is out of '
                                 f'range for {n} degradations')

    def _build(self, cfg: Degradation):
        if isinstance(cfg, (list, tuple)):
            return [self._build(c) for c in cfg]
        cfg = copy.deepcopy(cfg)
        cfg.setdefault('keys', self.keys)
        type_ = cfg['type']
        if isinstance(type_, str) and '.' not in type_:
            cfg['type'] = f'mmrbvsr.{type_}'
        return TRANSFORMS.build(cfg)

    def transform(self, results: dict) -> dict:
        order = list(range(len(self.degradations)))
        perm = get_rng(results).permutation(len(self.shuffle_idx))
        for i, p in zip(self.shuffle_idx, perm):
            order[i] = self.shuffle_idx[p]
        for idx in order:
            group = self.degradations[idx]
            for t in (group if isinstance(group, list) else [group]):
                results = t(results)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(degradations={self.degradations}, '
                f'keys={self.keys}, shuffle_idx={self.shuffle_idx})')
