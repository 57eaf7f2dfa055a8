"""RealBasicVSR as an MMagic plugin.

Importing the package (every config does, through ``custom_imports``) registers
the globals MMEngine checkpoints need for weights-only ``torch.load``.
"""
from .checkpoint.safe_globals import register_checkpoint_safe_globals
from .version import __version__

register_checkpoint_safe_globals()

__all__ = ['__version__']
