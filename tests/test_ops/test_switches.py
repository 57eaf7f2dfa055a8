"""The fast paths' switches and the record of failed fast paths (``ops/switches.py``)."""
import logging
import subprocess
import sys

import pytest
import torch

from mmrbvsr.ops import cuda_graph, cudnn_fused, switches


@pytest.mark.parametrize('value, expected', [('0', False), ('off', False), ('False', False),
                                             (' no ', False), ('1', True), ('on', True),
                                             ('', True)])
def test_parse_variable(value, expected):
    assert switches.parse_variable(value) is expected


@pytest.mark.parametrize('name', sorted(switches.VARIABLES))
def test_variables_set_the_initial_value(name):
    code = f'from mmrbvsr.ops import switches; print(switches.enabled({name!r}))'
    for value, expected in (('0', 'False'), ('1', 'True')):
        env = {switches.VARIABLES[name]: value, 'PATH': ''}
        out = subprocess.run([sys.executable, '-c', code], env=env, check=True,
                             capture_output=True, text=True).stdout.strip()
        assert out == expected


def test_set_enabled_and_switched_restore():
    before = switches.enabled('nnpack')
    assert switches.set_enabled('nnpack', not before) is before
    assert switches.enabled('nnpack') is (not before)
    switches.set_enabled('nnpack', before)
    with pytest.raises(RuntimeError):
        with switches.switched(nnpack=False, fused_epilogue=False):
            assert not switches.enabled('nnpack') and not switches.enabled('fused_epilogue')
            raise RuntimeError('inside')
    assert switches.enabled('nnpack') is before


def test_bad_names_and_values():
    with pytest.raises(ValueError, match="'nnpak'"):
        switches.enabled('nnpak')
    with pytest.raises(TypeError, match="'yes'"):
        switches.set_enabled('nnpack', 'yes')


def test_failure_logged_once(caplog):
    error = RuntimeError('not supported')
    where = 'a test call site'
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            switches.record_failure('cudnn_fused', where, error)
    assert sum(where in r.getMessage() for r in caplog.records) <= 1
    assert switches.failures()[('cudnn_fused', where)] == 'RuntimeError: not supported'


class _Graph:
    def __init__(self, fn, inputs):
        self.fn, self.inputs = fn, inputs
        self.output = fn(*inputs)

    def replay(self):
        self.output.copy_(self.fn(*self.inputs))


def test_failed_capture_keeps_the_fused_path_for_other_graphs(monkeypatch):
    """A capture that fails with cuDNN's fused convs is redone without them, for that graph
    only: the switch stays on for the process."""
    monkeypatch.setattr(cudnn_fused, 'available', lambda: switches.enabled('cudnn_fused'))
    captured_with = []

    def capture(fn, inputs, amp_dtype, pool=None):
        captured_with.append(switches.enabled('cudnn_fused'))
        if switches.enabled('cudnn_fused') and fn.__name__ == 'fails':
            raise RuntimeError('capture failed')
        static = tuple(x.clone() for x in inputs)
        graph = _Graph(fn, static)
        return graph, static, graph.output

    monkeypatch.setattr(cuda_graph, '_capture', capture)

    def fails(x):
        return x * 2

    def works(x):
        return x + 1

    with switches.switched(cudnn_fused=True):
        cache = {}
        x = torch.arange(4.)
        assert torch.equal(cuda_graph.graphed_call(cache, 'a', fails, [], x), x * 2)
        assert switches.enabled('cudnn_fused')
        assert torch.equal(cuda_graph.graphed_call(cache, 'b', works, [], x), x + 1)
        assert captured_with == [True, False, True]
        assert ('cudnn_fused', "CUDA graph 'a'") in switches.failures()
