import logging
import sys

import pytest
from mmengine.logging import MMLogger

from tests.test_apis.conftest import tiny_checkpoint, tiny_config  # noqa: F401


class CurrentStdout:
    """Writes to whatever ``sys.stdout`` is at the time (pytest swaps it per test)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


@pytest.fixture(autouse=True)
def loggers_write_to_the_current_stdout():
    """MMEngine's loggers keep the stdout of the test that created them, closed after it;
    logging there prints '--- Logging error ---' tracebacks into later tests' stderr."""
    MMLogger.get_current_instance()  # one exists
    for logger in list(MMLogger._instance_dict.values()):
        for handler in logger.handlers:
            if type(handler) is logging.StreamHandler:
                handler.stream = CurrentStdout()  # (setStream would flush the closed one)
    yield
