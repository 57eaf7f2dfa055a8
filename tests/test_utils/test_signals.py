"""Signals as one exception, held back where a step must not stop half-way."""
import os
import signal

import pytest

from mmrbvsr.utils.signals import Interrupted, catch_signals, deferred_signals


@pytest.mark.parametrize('signum, code', [(signal.SIGINT, 130), (signal.SIGTERM, 143),
                                          (signal.SIGHUP, 129)])
def test_signals_raise_interrupted(signum, code):
    previous = signal.getsignal(signum)
    with pytest.raises(Interrupted) as info:
        with catch_signals():
            os.kill(os.getpid(), signum)
            for _ in range(10**6):  # the handler runs between bytecodes
                pass
    assert (info.value.signum, info.value.exit_code) == (signum, code)
    assert isinstance(info.value, KeyboardInterrupt)
    assert signal.getsignal(signum) == previous


def test_deferred_signals_finish_the_block_first():
    done = []
    with pytest.raises(Interrupted, match='SIGTERM'):
        with catch_signals():
            with deferred_signals():
                os.kill(os.getpid(), signal.SIGTERM)
                for _ in range(10**6):
                    pass
                done.append('renamed')
            done.append('after')  # not reached: raised at the end of the block
    assert done == ['renamed']


def test_a_second_signal_does_not_cut_the_cleanup_short():
    cleaned = []
    with pytest.raises(Interrupted):
        with catch_signals():
            try:
                os.kill(os.getpid(), signal.SIGINT)
                for _ in range(10**6):
                    pass
            finally:
                os.kill(os.getpid(), signal.SIGTERM)
                for _ in range(10**6):
                    pass
                cleaned.append(True)
    assert cleaned == [True]
