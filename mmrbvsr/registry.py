"""Child registries of MMagic's, under the scope ``mmrbvsr``.

A config with ``default_scope='mmagic'`` builds our classes with
``type='mmrbvsr.Name'``; the ``locations`` are imported on first use, so no
explicit import is needed. Unscoped names keep resolving to MMagic's classes.
"""
from mmagic.registry import DATASETS as MMAGIC_DATASETS
from mmagic.registry import HOOKS as MMAGIC_HOOKS
from mmagic.registry import METRICS as MMAGIC_METRICS
from mmagic.registry import MODELS as MMAGIC_MODELS
from mmagic.registry import OPTIM_WRAPPERS as MMAGIC_OPTIM_WRAPPERS
from mmagic.registry import TRANSFORMS as MMAGIC_TRANSFORMS
from mmengine.registry import Registry

MODELS = Registry('model', parent=MMAGIC_MODELS, scope='mmrbvsr', locations=['mmrbvsr.models'])
TRANSFORMS = Registry(
    'transform', parent=MMAGIC_TRANSFORMS, scope='mmrbvsr',
    locations=['mmrbvsr.datasets.transforms'])
DATASETS = Registry(
    'dataset', parent=MMAGIC_DATASETS, scope='mmrbvsr', locations=['mmrbvsr.datasets'])
METRICS = Registry(
    'metric', parent=MMAGIC_METRICS, scope='mmrbvsr', locations=['mmrbvsr.evaluation'])
HOOKS = Registry('hook', parent=MMAGIC_HOOKS, scope='mmrbvsr', locations=['mmrbvsr.engine'])
OPTIM_WRAPPERS = Registry(
    'optim_wrapper', parent=MMAGIC_OPTIM_WRAPPERS, scope='mmrbvsr', locations=['mmrbvsr.engine'])

__all__ = ['MODELS', 'TRANSFORMS', 'DATASETS', 'METRICS', 'HOOKS', 'OPTIM_WRAPPERS']
