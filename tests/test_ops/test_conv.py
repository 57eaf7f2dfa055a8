"""The NNPACK path of ``Conv2d``: when it is taken, and that it computes the same conv."""
import subprocess
import sys

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmrbvsr.models.archs import BasicVSRNet
from mmrbvsr.ops import conv as conv_mod
from mmrbvsr.ops.conv import (
    NNPACK_MAX_WORK,
    NNPACK_MIN_PIXELS,
    Conv2d,
    nnpack_available,
)
from mmrbvsr.ops.switches import set_enabled

needs_nnpack = pytest.mark.skipif(not nnpack_available(), reason='PyTorch built without NNPACK')


@pytest.fixture
def nnpack_on():
    previous = set_enabled('nnpack', True)
    yield
    set_enabled('nnpack', previous)


def reference(conv: nn.Conv2d, x: torch.Tensor) -> torch.Tensor:
    """The conv in float64: an independent reference for both paths."""
    return F.conv2d(x.double(), conv.weight.double(), conv.bias.double(), conv.stride,
                    conv.padding)


@needs_nnpack
@pytest.mark.parametrize('kernel,cin,cout,hw', [
    (3, 64, 64, (240, 320)), (3, 67, 64, (256, 320)), (7, 32, 64, (64, 64)),
    (7, 16, 2, (40, 48))])
def test_nnpack_path_matches_float64_reference(nnpack_on, kernel, cin, cout, hw):
    torch.manual_seed(0)
    conv = Conv2d(cin, cout, kernel, 1, kernel // 2)
    x = torch.rand(2, cin, *hw)
    with torch.no_grad():
        assert conv.uses_nnpack(x)
        out = conv(x)
        ref = reference(conv, x)
        direct = nn.Conv2d.forward(conv, x)
    assert out.shape == ref.shape and out.is_contiguous()
    scale = ref.abs().max().item()
    # Winograd / FFT round differently from the direct conv, but as closely to the truth
    assert (out.double() - ref).abs().max().item() <= 2e-5 * scale
    assert (direct.double() - ref).abs().max().item() <= 2e-5 * scale


@needs_nnpack
def test_nnpack_path_is_deterministic(nnpack_on):
    torch.manual_seed(1)
    conv = Conv2d(64, 64, 3, 1, 1)
    x = torch.rand(1, 64, 240, 320)
    with torch.no_grad():
        assert conv.uses_nnpack(x)
        assert torch.equal(conv(x), conv(x))


@needs_nnpack
def test_which_convs_take_nnpack(nnpack_on):
    x3 = torch.rand(1, 64, 240, 320)
    c3 = Conv2d(64, 64, 3, 1, 1)
    with torch.no_grad():
        assert c3.uses_nnpack(x3)
        assert c3.uses_nnpack(x3.contiguous(memory_format=torch.channels_last))
        # too small for Winograd to pay off
        assert not c3.uses_nnpack(torch.rand(1, 64, 180, 320))
        # workspace bound: the x4 reconstruction's HR convs stay on oneDNN
        big = int((NNPACK_MAX_WORK // 128) ** 0.5) + 8
        assert not c3.uses_nnpack(torch.rand(1, 64, big, big))
        # other dtypes, strides, dilations, groups and kernels
        assert not c3.uses_nnpack(x3.double())
        assert not Conv2d(64, 64, 3, 2, 1).uses_nnpack(x3)
        assert not Conv2d(64, 64, 3, 1, 2, dilation=2).uses_nnpack(x3)
        assert not Conv2d(64, 64, 3, 1, 1, groups=2).uses_nnpack(x3)
        assert not Conv2d(64, 64, 5, 1, 2).uses_nnpack(x3)
        assert not Conv2d(64, 64, 3, 1, 0).uses_nnpack(x3)
        assert not Conv2d(64, 64, 3, 1, 1, padding_mode='reflect').uses_nnpack(x3)
    # 3x3 only without autograd; 7x7 (SPyNet) also in training
    assert not c3.uses_nnpack(x3)
    x7 = torch.rand(1, 32, 64, 64)
    c7 = Conv2d(32, 64, 7, 1, 3)
    assert c7.uses_nnpack(x7)
    assert not c7.uses_nnpack(torch.rand(1, 32, 16, 16))
    assert min(NNPACK_MIN_PIXELS.values()) > 16 * 16


@needs_nnpack
def test_gradients_through_nnpack_path(nnpack_on):
    torch.manual_seed(2)
    conv = Conv2d(8, 16, 7, 1, 3)
    x = torch.rand(2, 8, 48, 48, requires_grad=True)
    assert conv.uses_nnpack(x)
    conv(x).square().sum().backward()
    grads = [x.grad.clone(), conv.weight.grad.clone(), conv.bias.grad.clone()]
    x.grad = None
    conv.zero_grad()
    nn.Conv2d.forward(conv, x).square().sum().backward()
    for ours, theirs in zip(grads, [x.grad, conv.weight.grad, conv.bias.grad]):
        assert torch.allclose(ours, theirs, rtol=1e-4, atol=1e-4 * theirs.abs().max().item())


def test_switch_and_fallback(monkeypatch):
    conv = Conv2d(64, 64, 3, 1, 1)
    x = torch.rand(1, 64, 240, 320)
    previous = set_enabled('nnpack', False)
    try:
        with torch.no_grad():
            assert not conv.uses_nnpack(x)
        set_enabled('nnpack', True)
        monkeypatch.setattr(conv_mod, '_available', False)  # a build without NNPACK
        with torch.no_grad():
            assert not conv.uses_nnpack(x)
            out = conv(x)
        assert torch.equal(out, nn.Conv2d.forward(conv, x))
    finally:
        set_enabled('nnpack', previous)
    with pytest.raises(TypeError, match='bool'):
        set_enabled('nnpack', 'no')


def test_environment_switch():
    code = ('from mmrbvsr.ops.conv import nnpack_enabled; '
            'print(nnpack_enabled())')
    for value, expected in (('0', 'False'), ('off', 'False'), ('1', 'True')):
        out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                             env={'MMRBVSR_NNPACK': value, 'PATH': ''}, check=True)
        assert out.stdout.strip() == expected


def test_state_dict_unchanged():
    """A ``Conv2d`` is an ``nn.Conv2d``: the network's keys stay MMagic's."""
    net = BasicVSRNet(mid_channels=8, num_blocks=1)
    assert isinstance(net.conv_hr, nn.Conv2d)
    plain = nn.Conv2d(64, 64, 3, 1, 1)
    assert net.conv_hr.state_dict().keys() == plain.state_dict().keys()


@needs_nnpack
def test_network_same_with_and_without_nnpack(demo_frames, monkeypatch):
    """BasicVSR at 240x320 (an NNPACK size) gives the oneDNN result within 1e-4."""
    calls = []
    nnpack_conv = torch._nnpack_spatial_convolution
    monkeypatch.setattr(torch, '_nnpack_spatial_convolution',
                        lambda *args: calls.append(args[1].shape) or nnpack_conv(*args))
    torch.manual_seed(3)
    net = BasicVSRNet(mid_channels=16, num_blocks=2).eval()
    lqs = demo_frames(3, 240, 320)
    outs = []
    for enabled in (False, True):
        previous = set_enabled('nnpack', enabled)
        try:
            with torch.no_grad():
                outs.append(net(lqs))
        finally:
            set_enabled('nnpack', previous)
    # the propagation's 3x3 convs and SPyNet's 7x7 ones took NNPACK's path
    assert (16, 16, 3, 3) in calls and (32, 8, 7, 7) in calls
    assert (outs[0] - outs[1]).abs().max().item() <= 1e-4


@pytest.mark.parametrize('act,residual', [(None, False), ('relu', True)])
def test_half_convs_pad_output_channels(monkeypatch, act, residual):
    """In fp16/bf16 on a GPU, 3 (or 2) output channels are computed as 8 with zero
    filters: the same values (here in bf16 on the CPU, as the GPU path would)."""
    assert not conv_mod.half_on_cuda(torch.zeros(1, 1, 1, 1, dtype=torch.bfloat16))
    torch.manual_seed(0)
    x = torch.randn(2, 16, 12, 10).to(torch.bfloat16).contiguous(
        memory_format=torch.channels_last)
    weight, bias = torch.randn(3, 16, 3, 3).to(torch.bfloat16), torch.randn(3)
    res = torch.randn(2, 3, 12, 10).to(torch.bfloat16) if residual else None
    with torch.no_grad():
        expected = conv_mod.apply_epilogue(
            F.conv2d(x, weight, bias.to(torch.bfloat16), padding=1), act, res)
        shapes = []
        conv = F.conv2d
        monkeypatch.setattr(conv_mod, 'half_on_cuda', lambda x: True)
        monkeypatch.setattr(conv_mod.F, 'conv2d',
                            lambda x, w, *a: shapes.append(tuple(w.shape)) or conv(x, w, *a))
        out = conv_mod.conv2d(x, weight, bias, padding=1, act=act, residual=res)
    assert shapes == [(8, 16, 3, 3)] and out.shape == expected.shape
    assert (out.float() - expected.float()).abs().max() <= 0.02 * expected.abs().max()
