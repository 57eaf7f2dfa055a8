"""The fused conv epilogue (bias, activation, residual) equals PyTorch's separate ops.

The kernel is checked on the CPU through Triton's interpreter (float32 and float16;
the interpreter rounds bfloat16 by truncation, unlike a GPU), and whole networks
fused vs unfused on a GPU where there is one.
"""
import os
import subprocess
import sys
import textwrap
from contextlib import nullcontext
from pathlib import Path

import pytest
import torch

from mmrbvsr.models.archs import RealBasicVSRNet
from mmrbvsr.ops.conv import Conv2d
from mmrbvsr.ops.epilogue import (
    apply_epilogue,
    conv_epilogue,
    cudnn_conv_relu,
    cudnn_relu_usable,
    epilogue_usable,
    fused_scope,
    pixel_shuffle_epilogue,
)
from mmrbvsr.ops.switches import set_enabled

REPO = Path(__file__).resolve().parents[2]
cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU')

CHECK = textwrap.dedent('''
    import itertools
    import torch
    import torch.nn.functional as F
    from mmrbvsr.ops import epilogue
    from mmrbvsr.ops.epilogue import (apply_epilogue, conv_epilogue,
                                               pixel_shuffle_epilogue)
    torch.manual_seed(0)
    bad = []
    # int32 indexing, then int64 (as for tensors of 2**31 elements and more)
    for limit in (epilogue.INT32_LIMIT, 0):
        epilogue.INT32_LIMIT = limit
        for dtype in (torch.float32, torch.float16):
            for layout in (torch.contiguous_format, torch.channels_last):
                for act in (None, 'relu', 'leaky_relu'):
                    for residual in (False, True):
                        # several programs: 3840 elements against blocks of 2048
                        for shape in ((2, 5, 7, 9), (1, 64, 6, 10)):
                            y = torch.randn(shape).to(dtype).contiguous(memory_format=layout)
                            y[0, 0, 0, :3] = float('nan')
                            bias = torch.randn(shape[1])
                            res = torch.randn_like(y) if residual else None
                            ref = apply_epilogue(
                                y.clone().add_(bias.to(dtype).view(1, -1, 1, 1)), act, res)
                            out = conv_epilogue(y.clone(), bias, act, res)
                            same = torch.equal(out.nan_to_num(7.), ref.nan_to_num(7.)) and \\
                                torch.equal(out.isnan(), ref.isnan())
                            if not same:
                                bad.append((limit, dtype, layout, act, residual, shape))
                # an output row of 2400 elements spans two blocks; x3 too
                for act, (shape, scale) in itertools.product(
                        (None, 'relu', 'leaky_relu'),
                        (((2, 3 * 4, 5, 7), 2), ((1, 4 * 4, 3, 300), 2), ((1, 2 * 9, 4, 5), 3))):
                    y = torch.randn(shape).to(dtype).contiguous(memory_format=layout)
                    bias = torch.randn(shape[1])
                    ref = F.pixel_shuffle(apply_epilogue(
                        y.clone().add_(bias.to(dtype).view(1, -1, 1, 1)), act), scale)
                    out = pixel_shuffle_epilogue(y.clone(), bias, scale, act)
                    if not torch.equal(out, ref):
                        bad.append(('pixel_shuffle', limit, dtype, layout, act, shape))
    print('MISMATCHES', bad)
''')


def test_kernel_matches_separate_ops_in_triton_interpreter():
    pytest.importorskip('triton')
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get('PYTHONPATH')) if p)
    env = dict(os.environ, TRITON_INTERPRET='1', PYTHONPATH=path)
    result = subprocess.run([sys.executable, '-c', CHECK], env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'MISMATCHES []' in result.stdout, result.stdout


def test_conv_act_and_residual_on_cpu_are_the_separate_ops():
    torch.manual_seed(0)
    conv = Conv2d(4, 4, 3, 1, 1)
    x, res = torch.randn(2, 4, 8, 8), torch.randn(2, 4, 8, 8)
    with torch.no_grad():
        assert not epilogue_usable(x, 2**30)
        assert torch.equal(conv(x, act='relu'), torch.relu(conv(x)))
        assert torch.equal(conv(x, act='leaky_relu'),
                           torch.nn.functional.leaky_relu(conv(x), 0.1))
        assert torch.equal(conv(x, act='relu', residual=res), torch.relu(conv(x)) + res)
        with pytest.raises(ValueError, match='act must be one of'):
            conv(x, act='gelu')
    with pytest.raises(ValueError, match='act must be one of'):
        apply_epilogue(x.clone(), 'tanh')
    with pytest.raises(TypeError, match='enabled must be a bool'):
        set_enabled('fused_epilogue', 1)


@cuda
@pytest.mark.parametrize('amp', [None, torch.bfloat16, torch.float16])
def test_fused_network_equals_unfused(amp):
    torch.manual_seed(0)
    net = RealBasicVSRNet(mid_channels=16, num_propagation_blocks=2,
                          num_cleaning_blocks=2).cuda().eval()
    clip = torch.rand(1, 5, 3, 64, 96, device='cuda')
    outs = []
    for fused, scope in ((False, nullcontext()), (True, nullcontext()), (True, fused_scope())):
        previous = set_enabled('fused_epilogue', fused)
        try:  # in fused_scope every conv is fused, the pixel shuffles too
            with torch.no_grad(), scope, torch.autocast('cuda', amp or torch.float32,
                                                        enabled=amp is not None):
                outs.append(net(clip))
        finally:
            set_enabled('fused_epilogue', previous)
    # fp16/bf16: the blocks' conv + ReLU run as cuDNN's fused op when fused (eager too),
    # which rounds once instead of twice (at these 16 channels an H200 gave outputs equal
    # to the separate ops', likely PyTorch's fallback where cuDNN has no fused kernel);
    # every other fused op equals the unfused ones
    assert torch.equal(outs[1], outs[2])
    if amp is None:
        assert torch.equal(outs[0], outs[1])
    else:
        assert (outs[0] - outs[1]).abs().max() <= 0.02


def test_cudnn_relu_only_where_it_applies():
    w = torch.randn(8, 8, 3, 3)
    x = torch.randn(1, 8, 16, 16).contiguous(memory_format=torch.channels_last)
    assert not cudnn_relu_usable(x.bfloat16(), w, 'relu', None)  # CPU
    if torch.cuda.is_available():
        x, w = x.cuda(), w.cuda()
        with torch.no_grad():
            assert cudnn_relu_usable(x.bfloat16(), w, 'relu', None)
            assert not cudnn_relu_usable(x, w, 'relu', None)  # fp32
            assert not cudnn_relu_usable(x.half(), w, 'leaky_relu', None)
            assert not cudnn_relu_usable(x.half(), w, 'relu', x.half())  # residual
            assert not cudnn_relu_usable(x.half().contiguous(), w, 'relu', None)  # NCHW
            assert not cudnn_relu_usable(x.half(), w[..., :1, :1], 'relu', None)  # 1x1
        assert not cudnn_relu_usable(x.half(), w, 'relu', None)  # autograd


@cuda
@pytest.mark.parametrize('groups', [1, 2])
def test_cudnn_conv_relu_on_gpu(groups):
    """cuDNN's fused conv + bias + ReLU against a float64 reference: within bf16 rounding
    (one rounding: at most half an ulp of the output, 2^-9 relative)."""
    torch.manual_seed(0)
    x = torch.randn(2, 32 * groups, 45, 80, device='cuda').bfloat16()
    x = x.contiguous(memory_format=torch.channels_last)
    w = (torch.randn(32 * groups, 32, 3, 3, device='cuda') * 0.1).bfloat16()
    b = torch.randn(32 * groups, device='cuda').bfloat16()
    with torch.no_grad():
        out = cudnn_conv_relu(x, w, b, 1, 1, 1, groups)
        ref = torch.relu(torch.nn.functional.conv2d(x.double(), w.double(), b.double(),
                                                    padding=1, groups=groups))
    assert out.dtype == torch.bfloat16 and out.is_contiguous(memory_format=torch.channels_last)
    err = (out.double() - ref).abs()
    assert (err <= ref.abs() * 2**-8 + 1e-6).all(), err.max()


@cuda
@pytest.mark.parametrize('dtype', [torch.float32, torch.bfloat16])
def test_fused_kernel_on_gpu(dtype):
    torch.manual_seed(0)
    for layout in (torch.contiguous_format, torch.channels_last):
        for act in (None, 'relu', 'leaky_relu'):
            y = torch.randn(2, 64, 45, 80, device='cuda').to(dtype)
            y = y.contiguous(memory_format=layout)
            bias, res = torch.randn(64, device='cuda'), torch.randn_like(y)
            ref = apply_epilogue(y.clone().add_(bias.to(dtype).view(1, -1, 1, 1)), act, res)
            assert torch.equal(conv_epilogue(y.clone(), bias, act, res), ref), (layout, act)
            y = y[:, :48].contiguous(memory_format=layout)
            ref = torch.nn.functional.pixel_shuffle(apply_epilogue(
                y.clone().add_(bias[:48].to(dtype).view(1, -1, 1, 1)), act), 4)
            out = pixel_shuffle_epilogue(y.clone(), bias[:48], 4, act)
            assert torch.equal(out, ref), ('pixel_shuffle', layout, act)
