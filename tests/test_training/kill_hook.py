"""A hook that SIGKILLs the training process after an iteration (resume tests)."""
import os
import signal

from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class KillAfterIterHook(Hook):
    """Kills the process right after iteration ``iter`` (after checkpointing)."""

    priority = 'LOWEST'  # after CheckpointHook (VERY_LOW)

    def __init__(self, iter: int) -> None:
        self.iter = iter

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if runner.iter + 1 == self.iter:
            os.kill(os.getpid(), signal.SIGKILL)
