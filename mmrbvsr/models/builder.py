"""Building the generator of a config alone, for inference and export.

Only ``model.generator`` is built: no discriminator, no losses (VGG19 for the perceptual
loss), no EMA copy, and ``spynet_pretrained`` is cleared (the checkpoint holds SPyNet's
weights).
"""
from pathlib import Path
from typing import Optional, Union

from mmengine.config import Config
from mmengine.registry import DefaultScope
from torch import nn


def read_config(config: Union[str, Path, Config, dict]) -> Union[Config, dict]:
    """Reads a config file, with errors that name it.

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: If it cannot be parsed.
    """
    if not isinstance(config, (str, Path)):
        return config
    if not Path(config).is_file():
        raise FileNotFoundError(f'config file {str(config)!r} does not exist')
    try:
        return Config.fromfile(str(config))
    except Exception as e:  # syntax errors, failed imports, bad _base_ paths
        raise ValueError(f'cannot read config {str(config)!r}: {e}') from None


def generator_config(config: Union[str, Path, Config, dict]) -> dict:
    """The ``model.generator`` dict of a config (or of its ``model`` dict), unbuilt.

    An unscoped generator type gets the scope its model builds it in
    (``docs/mmagic_compatibility.md``): ours inside ``mmrbvsr.RealBasicVSR``, MMagic's
    inside MMagic's ``RealBasicVSR`` (or with no model type).

    Raises:
        ValueError: If there is none.
    """
    config = read_config(config)
    model_cfg = config.get('model', config)
    gen_cfg = model_cfg.get('generator') if hasattr(model_cfg, 'get') else None
    if not hasattr(gen_cfg, 'get') or 'type' not in gen_cfg:
        raise ValueError('the config has no model.generator to build (expected a RealBasicVSR '
                         'config such as configs/realbasicvsr/*.py)')
    gen_cfg = dict(gen_cfg)
    kind = str(gen_cfg['type'])
    if '.' not in kind and '_scope_' not in gen_cfg:
        ours = str(model_cfg.get('type', '')).startswith('mmrbvsr.')
        gen_cfg['type'] = f'{"mmrbvsr" if ours else "mmagic"}.{kind}'
    return gen_cfg


def build_generator(config: Union[str, Path, Config, dict],
                    refine_threshold: Optional[float] = None) -> nn.Module:
    """Builds only the generator of a config (``cfg.model.generator``), for inference.

    The discriminator, the losses (VGG19 for the perceptual loss) and the EMA copy are not
    built, and ``spynet_pretrained`` is cleared: the checkpoint holds SPyNet's weights.

    Args:
        config (str | Path | Config | dict): A training or test config, or its ``model`` dict.
        refine_threshold (float, optional): Overrides ``dynamic_refine_thres`` (0-255 scale;
            the paper uses 1.5, the released configs 255, i.e. one cleaning pass).

    Returns:
        nn.Module: The generator in eval mode.

    Raises:
        ValueError: If the config has no generator, names an unknown type or arguments the
            type does not take.
    """
    gen_cfg = generator_config(config)
    if 'spynet_pretrained' in gen_cfg:
        gen_cfg['spynet_pretrained'] = None
    if refine_threshold is not None:
        if not 0 <= refine_threshold <= 255:
            raise ValueError(f'refine threshold must be in [0, 255], got {refine_threshold}')
        gen_cfg['dynamic_refine_thres'] = refine_threshold
    from mmrbvsr.registry import MODELS

    # Our own types are built without importing all of mmagic.models (diffusers, mmcv ops)
    kind = str(gen_cfg['type'])
    scope = gen_cfg.get('_scope_', kind.split('.')[0] if '.' in kind else 'mmagic')
    try:
        with DefaultScope.overwrite_default_scope(scope):
            generator = MODELS.build(gen_cfg)
    except KeyError as e:
        if 'registry' not in str(e):
            raise
        raise ValueError(f'model.generator type {kind!r} is not a known model (mmrbvsr\'s '
                         'generator is mmrbvsr.RealBasicVSRNet)') from None
    except TypeError as e:
        raise ValueError(f'cannot build model.generator {kind!r}: {e}') from None
    return generator.eval()
