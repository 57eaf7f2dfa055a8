"""Reading checkpoints and finding the weights in them.

MMagic's checkpoints (and the authors' ``RealBasicVSR_x4.pth``, an MMEditing 0.x checkpoint of
the same layout) hold the whole GAN under ``state_dict``: ``generator.*``, ``generator_ema.*``,
``discriminator.*``, maybe ``step_counter`` and perceptual-loss keys. BasicSR's files hold a
network under ``params`` / ``params_ema``. Weights-only loading stays on throughout: importing
``mmrbvsr`` allow-lists the few non-tensor globals of Runner checkpoints (``safe_globals.py``).
"""
import os
import pickle
import re
import warnings
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

from mmengine.runner import CheckpointLoader
from torch import Tensor, nn

StateDict = Dict[str, Tensor]

# where the weights sit inside a checkpoint file, in the order they are looked for
CONTAINER_KEYS = ('state_dict', 'params', 'params_ema')
GENERATOR_PREFIXES = ('generator_ema.', 'generator.')


class CheckpointError(ValueError):
    """A checkpoint that cannot be read: missing, empty, corrupt, not PyTorch's, or unsafe."""


def _describe_failure(name: str, error: BaseException) -> str:
    """One line on why ``name`` could not be loaded, without PyTorch's advice to load it
    unsafely (weights-only loading refuses pickled code on purpose)."""
    text = str(error)
    unsafe = re.search(r'Unsupported global: GLOBAL ([\w.]+)', text)
    if unsafe:
        return (f'checkpoint {name!r} holds Python objects besides weights (e.g. '
                f'{unsafe.group(1)}), which are not loaded because unpickling them can run '
                'arbitrary code; save its state dict (tensors only) and load that')
    if isinstance(error, (pickle.UnpicklingError, UnicodeDecodeError)) or \
            'Unsupported operand' in text or 'invalid load key' in text:
        return f'{name!r} is not a PyTorch checkpoint, or it is corrupt'
    if isinstance(error, EOFError):
        return f'checkpoint {name!r} ends early: it is truncated'
    if 'PytorchStreamReader' in text or 'zip archive' in text:
        return f'checkpoint {name!r} is truncated or corrupt (its zip archive cannot be read)'
    if isinstance(error, OSError) and '://' in name:
        reason = getattr(error, 'reason', None) or text
        return f'cannot download checkpoint {name!r}: {reason}'
    first = text.strip().splitlines()[0] if text.strip() else type(error).__name__
    if 'weights_only' in first:
        first = 'it is not a checkpoint of tensors'
    return f'cannot load checkpoint {name!r}: {first}'


def load_checkpoint_file(filename: str, map_location: str = 'cpu') -> dict:
    """Reads a checkpoint from a path or URL with MMEngine's loaders.

    Weights-only loading stays on (``safe_globals.py``).

    Raises:
        FileNotFoundError: If a path does not exist.
        CheckpointError: If the file is a folder, empty, truncated, corrupt, not a PyTorch
            checkpoint, holds pickled objects other than weights, or cannot be downloaded.
    """
    name = str(filename)
    if '://' not in name:
        if not os.path.exists(name):
            raise FileNotFoundError(f'checkpoint {name!r} does not exist')
        if os.path.isdir(name):
            raise CheckpointError(f'checkpoint {name!r} is a folder, not a file')
        if os.path.getsize(name) == 0:
            raise CheckpointError(f'checkpoint {name!r} is empty (0 bytes)')
    try:
        with warnings.catch_warnings():
            # torch's note on pickle protocols says nothing the error below does not
            warnings.filterwarnings('ignore', message='Detected pickle protocol')
            return CheckpointLoader.load_checkpoint(name, map_location=map_location)
    except Exception as e:
        raise CheckpointError(_describe_failure(name, e)) from None


def _is_state_dict(obj: object) -> bool:
    return isinstance(obj, dict) and len(obj) > 0 and all(
        isinstance(k, str) and isinstance(v, Tensor) for k, v in obj.items())


def unwrap_state_dict(checkpoint: dict, key: Optional[str] = None) -> Tuple[StateDict, str]:
    """Finds the weights in a Runner checkpoint, a BasicSR file or a bare state dict.

    Args:
        checkpoint (dict): What ``torch.load`` returned.
        key (str, optional): Take the weights from this top-level key. By default
            the first of ``state_dict``, ``params``, ``params_ema`` that exists, else
            the checkpoint itself when it is a bare state dict.

    Returns:
        tuple[dict, str]: The state dict and a description of where it was found.
    """
    if not isinstance(checkpoint, dict):
        raise TypeError(f'a checkpoint must be a dict, got {type(checkpoint)}')
    top = ', '.join(map(str, list(checkpoint)[:10]))
    if key is not None:
        if key not in checkpoint or not _is_state_dict(checkpoint[key]):
            raise KeyError(f'no state dict under key {key!r}; top-level keys: {top}')
        return checkpoint[key], f'state dict under key {key!r}'
    for name in CONTAINER_KEYS:
        if name in checkpoint and _is_state_dict(checkpoint[name]):
            others = [k for k in CONTAINER_KEYS if k != name and k in checkpoint]
            kind = 'Runner checkpoint' if 'meta' in checkpoint or 'message_hub' in checkpoint \
                else 'checkpoint'
            note = f' (also present: {", ".join(others)})' if others else ''
            return checkpoint[name], f'{kind}, state dict under key {name!r}{note}'
    if _is_state_dict(checkpoint):
        return checkpoint, 'bare state dict'
    raise ValueError('found no state dict (expected a key among '
                     f'{CONTAINER_KEYS} or a dict of tensors); top-level keys: {top}')


def check_against_model(state_dict: StateDict, model: nn.Module) -> Tuple[List[str], ...]:
    """Compares ``state_dict`` with ``model.state_dict()``.

    Returns:
        tuple[list[str], list[str], list[str]]: Missing keys, unexpected keys, and
        keys whose shapes differ (``'key: source shape vs model shape'``).
    """
    target = model.state_dict()
    missing = sorted(set(target) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(target))
    mismatched = [f'{k}: {tuple(state_dict[k].shape)} vs {tuple(target[k].shape)}'
                  for k in sorted(set(target) & set(state_dict))
                  if state_dict[k].shape != target[k].shape]
    return missing, unexpected, mismatched


def extract_generator_state_dict(checkpoint: dict,
                                 prefer_ema: bool = True) -> Tuple[StateDict, str]:
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
        CheckpointError: If the file is not a readable checkpoint (a ``ValueError``).
        ValueError: If its keys or shapes do not match the generator (e.g. a config with
            other block counts than the checkpoint).
    """
    name = str(checkpoint) if isinstance(checkpoint, (str, Path)) else 'the checkpoint'
    if not isinstance(checkpoint, dict):
        checkpoint = load_checkpoint_file(name)
    try:
        state, prefix = extract_generator_state_dict(checkpoint, prefer_ema)
    except (TypeError, KeyError) as e:
        raise ValueError(f'{name} holds no state dict: {e}') from e
    missing, unexpected, shapes = check_against_model(state, generator)
    if missing or unexpected or shapes:
        details = [f'{len(items)} {label} (e.g. {", ".join(items[:3])})'
                   for label, items in (('missing', missing), ('unexpected', unexpected),
                                        ('shape mismatches', shapes)) if items]
        raise ValueError(
            f'{name} does not fit {type(generator).__name__} (weights taken from prefix '
            f'{prefix!r}): {"; ".join(details)}. Does the config match the checkpoint?')
    generator.load_state_dict(state, strict=True)
    return prefix
