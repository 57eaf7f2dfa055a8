"""Loading released RealBasicVSR checkpoints into a bare generator.

MMagic's checkpoints (and the authors' ``RealBasicVSR_x4.pth``, an MMEditing 0.x checkpoint of
the same layout) hold the whole GAN under ``state_dict``: ``generator.*``, ``generator_ema.*``,
``discriminator.*``, maybe ``step_counter`` and perceptual-loss keys. Only the generator is
wanted for inference, the EMA copy when there is one (it is what the authors evaluate).
Reading the file and finding its state dict is :mod:`mmrbvsr.models.checkpoint`'s job.
"""
from pathlib import Path
from typing import Dict, Tuple, Union

import torch
from torch import nn

from mmrbvsr.models.checkpoint import load_checkpoint_file, unwrap_state_dict

GENERATOR_PREFIXES = ('generator_ema.', 'generator.')


def extract_generator_state_dict(checkpoint: dict,
                                 prefer_ema: bool = True) -> Tuple[Dict[str, torch.Tensor], str]:
    """Picks the generator's weights out of a checkpoint.

    Accepts a full MMagic/MMEditing checkpoint (``state_dict`` with ``generator_ema.`` and/or
    ``generator.`` keys) or a bare generator state dict (e.g. from
    ``tools/convert_checkpoint.py``). A ``module.`` prefix (DistributedDataParallel) is removed.

    Args:
        checkpoint (dict): The loaded checkpoint.
        prefer_ema (bool): Take ``generator_ema`` when both copies are present.

    Returns:
        tuple[dict, str]: The generator's state dict and the prefix it was found under
        (``''`` for a bare state dict).
    """
    state, _ = unwrap_state_dict(checkpoint)
    state = {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state.items()}
    for prefix in (GENERATOR_PREFIXES if prefer_ema else GENERATOR_PREFIXES[::-1]):
        found = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        if found:
            return found, prefix
    return state, ''


def load_generator_weights(generator: nn.Module, checkpoint: Union[str, Path, dict],
                           prefer_ema: bool = True) -> str:
    """Loads a checkpoint's generator weights into ``generator``, strictly.

    Args:
        generator (nn.Module): The bare generator, e.g. ``RealBasicVSRNet``.
        checkpoint (str | Path | dict): A path, an ``http(s)://`` URL (downloaded once into
            the torch hub cache) or an already loaded checkpoint.
        prefer_ema (bool): Take the EMA generator when the checkpoint has one.

    Returns:
        str: The prefix the weights were taken from (``'generator_ema.'``, ``'generator.'`` or
        ``''``).

    Raises:
        FileNotFoundError: If a checkpoint path does not exist.
        ValueError: If the file is not a readable checkpoint, or its keys or shapes do not
            match the generator (e.g. a config with other block counts than the checkpoint).
    """
    name = str(checkpoint) if isinstance(checkpoint, (str, Path)) else 'the checkpoint'
    if not isinstance(checkpoint, dict):
        if '://' not in name and not Path(name).is_file():
            raise FileNotFoundError(f'checkpoint {name!r} does not exist')
        try:
            checkpoint = load_checkpoint_file(name)
        except Exception as e:
            raise ValueError(f'cannot load checkpoint {name!r}: not a PyTorch checkpoint, '
                             f'a failed download, or a corrupt file ({e})') from e
    try:
        state, prefix = extract_generator_state_dict(checkpoint, prefer_ema)
    except (TypeError, KeyError) as e:
        raise ValueError(f'{name} holds no state dict: {e}') from e
    own = generator.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = [f'{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(own[k].shape)}'
              for k in sorted(set(own) & set(state)) if state[k].shape != own[k].shape]
    if missing or unexpected or shapes:
        details = [f'{len(items)} {label} (e.g. {", ".join(items[:3])})'
                   for label, items in (('missing', missing), ('unexpected', unexpected),
                                        ('shape mismatches', shapes)) if items]
        raise ValueError(
            f'{name} does not fit {type(generator).__name__} (weights taken from prefix '
            f'{prefix!r}): {"; ".join(details)}. Does the config match the checkpoint?')
    generator.load_state_dict(state, strict=True)
    return prefix
