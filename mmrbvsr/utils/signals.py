"""Interrupts (Ctrl-C, ``kill``, ``timeout``, a closed terminal) as one exception.

Inside :func:`catch_signals`, SIGINT, SIGTERM and SIGHUP raise :class:`Interrupted` in the main
thread, so ``finally`` blocks and context managers remove temporary outputs on the way out,
and a command can end with one line and the shell's exit status for the signal
(``128 + number``: 130, 143, 129). Code that must not stop half-way (moving a finished output
into place) runs inside :func:`deferred_signals`: a signal arriving there is raised at its end.
"""
import contextlib
import signal
import threading
from typing import Iterator, Optional

HANDLED = tuple(getattr(signal, name) for name in ('SIGINT', 'SIGTERM', 'SIGHUP')
                if hasattr(signal, name))


class Interrupted(KeyboardInterrupt):
    """Raised for SIGINT, SIGTERM or SIGHUP inside :func:`catch_signals`.

    A ``KeyboardInterrupt``, so ``except Exception`` does not swallow it.

    Attributes:
        signum (int): The signal number.
        signame (str): Its name, e.g. ``'SIGTERM'``.
        exit_code (int): ``128 + signum``, the status a shell reports for the signal.
    """

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.signame = signal.Signals(signum).name
        self.exit_code = 128 + signum
        super().__init__(f'interrupted by {self.signame}')


class _State:
    installed = 0  # nesting depth of catch_signals
    deferring = 0  # nesting depth of deferred_signals
    pending: Optional[int] = None  # a signal that arrived while deferring
    raised = False  # Interrupted was raised once; later signals are ignored


def _handler(signum: int, frame) -> None:
    if _State.raised:
        return  # the first one is being handled: let the cleanup finish
    if _State.deferring:
        _State.pending = _State.pending or signum
        return
    _State.raised = True
    raise Interrupted(signum)


@contextlib.contextmanager
def catch_signals() -> Iterator[None]:
    """Turns SIGINT, SIGTERM and SIGHUP into :class:`Interrupted` while inside.

    Only the main thread can install signal handlers; elsewhere this does nothing. After the
    first signal, further ones are ignored until the block is left, so cleanup is not cut short
    by a second Ctrl-C or ``timeout``'s follow-up signal (SIGKILL still ends the process).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, _handler) for s in HANDLED}
    _State.installed += 1
    try:
        yield
    finally:
        _State.installed -= 1
        if not _State.installed:
            _State.raised, _State.pending = False, None
        for s, handler in previous.items():
            signal.signal(s, handler)


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """Holds back :class:`Interrupted` until the block is done (then raises it).

    For short steps that must not stop half-way, such as the renames that publish an output.
    Outside :func:`catch_signals` it changes nothing.
    """
    _State.deferring += 1
    try:
        yield
    finally:
        _State.deferring -= 1
    if not _State.deferring and _State.pending is not None and _State.installed:
        signum, _State.pending = _State.pending, None
        _State.raised = True
        raise Interrupted(signum)
