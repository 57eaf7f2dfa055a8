"""Checkpoints: reading (weights-only), finding and checking the weights, converting other
layouts (BasicSR, MMEditing 0.x) to ours, publishing trained ones, and the allow-list
weights-only loading needs."""
from .conversion import (
    ConversionResult,
    convert_basicvsr_state_dict,
    convert_checkpoint,
    extract_spynet_state_dict,
)
from .loading import (
    CheckpointError,
    check_against_model,
    extract_generator_state_dict,
    load_checkpoint_file,
    load_generator_weights,
    unwrap_state_dict,
)
from .publish import publish_checkpoint
from .safe_globals import checkpoint_safe_globals, register_checkpoint_safe_globals

__all__ = [
    'ConversionResult', 'convert_basicvsr_state_dict', 'convert_checkpoint',
    'extract_spynet_state_dict', 'CheckpointError', 'check_against_model',
    'extract_generator_state_dict',
    'load_checkpoint_file', 'load_generator_weights', 'unwrap_state_dict',
    'publish_checkpoint', 'checkpoint_safe_globals', 'register_checkpoint_safe_globals'
]
