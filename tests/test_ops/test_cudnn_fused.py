"""cuDNN's fused conv + bias + residual add (``cudnn_fused.py``).

Where cudnn-frontend is missing (as in CI) the path must stay out of the way; on a
GPU with it, the fused graph equals the conv and the adds to bf16 rounding, grouped
or not, eager and inside a CUDA graph's capture, and the network uses it.
"""
import pytest
import torch
import torch.nn.functional as F

from mmrbvsr.models.archs import RealBasicVSRNet
from mmrbvsr.ops import conv as conv_mod
from mmrbvsr.ops import cudnn_fused
from mmrbvsr.ops.cuda_graph import GraphCache, graphed_call
from mmrbvsr.ops.switches import set_enabled

fused_gpu = pytest.mark.skipif(
    not (torch.cuda.is_available() and cudnn_fused.cudnn is not None),
    reason='needs a CUDA GPU and cudnn-frontend')


def test_switches_and_cpu():
    with pytest.raises(TypeError, match='enabled'):
        set_enabled('cudnn_fused', 1)
    x = torch.randn(1, 8, 6, 6).bfloat16().contiguous(memory_format=torch.channels_last)
    w = torch.randn(8, 8, 3, 3).bfloat16().contiguous(memory_format=torch.channels_last)
    assert not cudnn_fused.usable(x, w, x)  # CPU
    previous = set_enabled('cudnn_fused', False)
    try:
        assert not cudnn_fused.available()
    finally:
        set_enabled('cudnn_fused', previous)
    fused = set_enabled('fused_epilogue', False)  # the fused epilogue's switch turns it off too
    try:
        assert not cudnn_fused.available()
    finally:
        set_enabled('fused_epilogue', fused)


@fused_gpu
@pytest.mark.parametrize('groups', [1, 2])
@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_conv_bias_add_equals_separate_ops(groups, dtype):
    torch.manual_seed(0)
    cl = torch.channels_last
    x = torch.randn(2, 32 * groups, 40, 56, device='cuda').to(dtype).contiguous(memory_format=cl)
    w = (torch.randn(32 * groups, 32, 3, 3, device='cuda') * 0.05).to(dtype).contiguous(
        memory_format=cl)
    b = torch.randn(32 * groups, device='cuda')
    res = torch.randn(2, 32 * groups, 40, 56, device='cuda').to(dtype).contiguous(
        memory_format=cl)
    ref = F.conv2d(x.float(), w.float(), b.to(dtype).float(), padding=1, groups=groups) \
        + res.float()
    with torch.no_grad():
        out = cudnn_fused.conv_bias_add(x, w, b, res, (1, 1))
        assert out is not None, 'the graph did not build (see the log)'
        assert out.dtype == dtype and out.is_contiguous(memory_format=cl)
        # one rounding to fp16/bf16 at the end
        tol = (2**-7 if dtype == torch.bfloat16 else 2**-10) * ref.abs().max()
        assert (out.float() - ref).abs().max() <= tol
        # inside a graph capture (built on the warm-up), the same values
        graphed = graphed_call(GraphCache(), 'f', lambda a, r: cudnn_fused.conv_bias_add(
            a, w, b, r, (1, 1)), [w, b], x, res)
        assert torch.equal(graphed, out)
        # through conv2d's dispatch: the fused graph without groups; grouped (slower
        # fused), the conv and the epilogue
        via = conv_mod.conv2d(x, w, b.to(dtype), padding=1, groups=groups, residual=res)
        assert cudnn_fused.usable(x, w, res) == (groups == 1)
        assert torch.equal(via, out) if groups == 1 else (
            (via.float() - ref).abs().max() <= 2 * tol)


@fused_gpu
def test_network_uses_it_and_stays_close():
    torch.manual_seed(0)
    net = RealBasicVSRNet(mid_channels=16, num_propagation_blocks=2,
                          num_cleaning_blocks=2).cuda().eval()
    clip = torch.rand(1, 5, 3, 64, 64, device='cuda')
    calls = []
    real = cudnn_fused.conv_bias_add

    def counted(*args):
        out = real(*args)
        calls.append(out is not None)
        return out

    cudnn_fused.conv_bias_add = counted
    try:
        with torch.no_grad(), torch.autocast('cuda', torch.bfloat16):
            fused = net(clip).float()
            previous = set_enabled('cudnn_fused', False)
            try:
                plain = net(clip).float()
            finally:
                set_enabled('cudnn_fused', previous)
    finally:
        cudnn_fused.conv_bias_add = real
    assert calls and all(calls)
    assert (fused - plain).abs().max() <= 0.05
