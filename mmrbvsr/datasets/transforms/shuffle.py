"""A group of degradations applied in a random order (the last stage of the paper)."""
import copy
from typing import List, Optional, Sequence, Union

from mmcv.transforms import BaseTransform
from mmengine.registry import DefaultScope

from mmrbvsr.registry import TRANSFORMS

from .random import as_keys, get_rng

Degradation = Union[dict, Sequence[dict]]

#: The scope in which the degradations are built (the model's rule, see RealBasicVSR).
SUBMODULE_SCOPE = 'mmrbvsr'


@TRANSFORMS.register_module()
class DegradationsWithShuffle(BaseTransform):
    """Apply degradations in a random order; a nested list is a group kept in order.

    Same config, ``shuffle_idx`` and ``repr`` as MMagic's: ``degradations=[a, b, [c, d]]``
    runs a, b and the group (c, d) in one of 3! orders, drawn from the sample's generator.
    Each entry is built in the ``mmrbvsr`` scope, in a script and under a Runner alike
    (``type='RandomBlur'`` is this package's; ``'mmagic.RandomBlur'`` MMagic's), with all
    its arguments, and gets this transform's ``keys`` when it has none (MMagic passes
    ``params`` and ``keys`` only, and accepts only its five degradations).

    Unlike MMagic, the caller's ``degradations`` list is never modified (MMagic replaces
    its entries by the built transforms) and the configured order is kept (MMagic
    reorders its list on every call, so its ``repr`` shows the last call's order).

    Args:
        degradations: The degradation configs.
        keys: The results keys to degrade.
        shuffle_idx: Indices of the entries that are shuffled; ``None`` shuffles all.
    """

    def __init__(self, degradations: List[Degradation], keys: Sequence[str],
                 shuffle_idx: Optional[Sequence[int]] = None) -> None:
        self.keys = as_keys(keys)
        with DefaultScope.overwrite_default_scope(SUBMODULE_SCOPE):
            self.degradations = [self._build(d) for d in degradations]
        n = len(self.degradations)
        # kept as given (MMagic prints it so), None as the list of all indices
        self.shuffle_idx = list(range(n)) if shuffle_idx is None else shuffle_idx
        for i in self.shuffle_idx:
            if not 0 <= i < n:
                raise ValueError(f'DegradationsWithShuffle shuffle_idx {i!r} is out of '
                                 f'range for {n} degradations')

    def _build(self, cfg: Degradation):
        if isinstance(cfg, (list, tuple)):
            return [self._build(c) for c in cfg]
        cfg = copy.deepcopy(cfg)
        cfg.setdefault('keys', self.keys)
        return TRANSFORMS.build(cfg)

    def transform(self, results: dict) -> dict:
        idx = list(self.shuffle_idx)
        order = list(range(len(self.degradations)))
        perm = get_rng(results).permutation(len(idx))
        for i, p in zip(idx, perm):
            order[i] = idx[p]
        for i in order:
            group = self.degradations[i]
            for t in (group if isinstance(group, list) else [group]):
                results = t(results)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(degradations={self.degradations}, '
                f'keys={self.keys}, shuffle_idx={self.shuffle_idx})')
