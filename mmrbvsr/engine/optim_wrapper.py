"""Mixed precision on any device, bf16 included."""
from contextlib import contextmanager
from typing import Iterator

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper

from mmrbvsr.registry import OPTIM_WRAPPERS

AMP_DTYPES = ('float16', 'bfloat16')


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """An ``OptimWrapper`` whose forward runs under ``torch.autocast``.

    MMEngine's ``AmpOptimWrapper`` refuses to run without a GPU and always uses
    a ``GradScaler``. This one autocasts on the device the model lives on
    (CPU included), which is what bf16 needs: bf16 has fp32's exponent range, so
    no loss scaling. For fp16 on CUDA, prefer MMEngine's ``AmpOptimWrapper``.

    Args:
        dtype (str): 'bfloat16' (default) or 'float16'.
        **kwargs: Passed to :class:`mmengine.optim.OptimWrapper`.
    """

    def __init__(self, dtype: str = 'bfloat16', **kwargs) -> None:
        if dtype not in AMP_DTYPES:
            raise ValueError(f'AutocastOptimWrapper: dtype must be one of {AMP_DTYPES}, '
                             f'got {dtype!r}')
        super().__init__(**kwargs)
        self.dtype = getattr(torch, dtype)

    @contextmanager
    def optim_context(self, model: nn.Module) -> Iterator:
        param = next(model.parameters(), None)
        device_type = param.device.type if param is not None else 'cpu'
        with super().optim_context(model), torch.autocast(device_type, dtype=self.dtype):
            yield
