"""BasicVSRNet against MMagic's, with random and with the released REDS4 weights."""
import math

import av
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmagic.models.editors.basicvsr.basicvsr_net import BasicVSRNet as MMagicBasicVSRNet
from mmengine.runner import load_checkpoint

from mmrbvsr.models.archs import BasicVSRNet
from mmrbvsr.models.archs.blocks import GroupedResidualBlocks


def max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a - b).abs().max().item()


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return 10 * math.log10(1.0 / F.mse_loss(a, b).item())


def read_video(path, num_frames: int) -> torch.Tensor:
    """The first frames of a video as ``(t, 3, h, w)`` RGB in [0, 1]."""
    frames = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            frames.append(frame.to_ndarray(format='rgb24'))
            if len(frames) == num_frames:
                break
    return torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float() / 255.


@pytest.fixture(scope='module')
def small_pair(reds4_converted):
    torch.manual_seed(0)
    ref = MMagicBasicVSRNet(8, 2, spynet_pretrained=str(reds4_converted[1])).eval()
    ours = BasicVSRNet(8, 2).eval()
    ours.load_state_dict(ref.state_dict(), strict=True)
    return ref, ours


@pytest.mark.parametrize('parallel', [False, True])
def test_random_weights_match_mmagic(small_pair, demo_frames, parallel):
    ref, ours = small_pair
    ours.parallel_branches = parallel
    clip = demo_frames(6, 40, 72)  # not multiples of 32: SPyNet resizes
    mirrored = torch.cat([clip[:, :3], clip[:, :3].flip(1)], dim=1)
    with torch.no_grad():
        ref_outs = [ref(lqs) for lqs in (clip, mirrored)]
        # a batch with a plain and a mirrored clip: each as if alone
        out = ours(torch.cat([clip, mirrored]))
    assert max_diff(out[:1], ref_outs[0]) <= 1e-5
    assert max_diff(out[1:], ref_outs[1]) <= 1e-5


@pytest.mark.parametrize('parallel', [False, True])
def test_chunked_reconstruction_matches_mmagic(reds4_converted, demo_frames, parallel):
    """Frames reconstructed in batches of 3, two clips: outputs and gradients. In turn:
    3 + 3 + 1 frames in order; in parallel: frames 3, 2, 4 | 1, 5, 0 | 6, as the two
    branches pass them."""
    pixels = 2 * 3 * 32 * 48
    torch.manual_seed(0)
    ref = MMagicBasicVSRNet(8, 2, spynet_pretrained=str(reds4_converted[1]))
    ours = BasicVSRNet(8, 2, recon_pixels=pixels + 1, parallel_branches=parallel)
    ours.load_state_dict(ref.state_dict(), strict=True)
    ref.double()  # the reference: MMagic in float64
    clips = torch.cat([demo_frames(7, 32, 48), demo_frames(7, 32, 48, top=248, left=308)])
    outs = []
    for net, dtype in ((ref, torch.float64), (ours, torch.float32)):
        outs.append(net(clips.to(dtype)))
        outs[-1].abs().mean().backward()
    assert outs[1].is_contiguous() and outs[1].shape == (2, 7, 3, 128, 192)
    assert max_diff(outs[0], outs[1].double()) <= 1e-5
    ref_params = dict(ref.named_parameters())
    for name, param in ours.named_parameters():
        ref_grad = ref_params[name].grad
        # Sums over many pixels: a relative tolerance. Batched frames change the float32
        # summation order of the HR bias gradients (conv_hr.bias: 9e-4 of the max off the
        # float64 ones): hence 2e-3. MMagic's float32 gradients are no reference: they are
        # up to 9e-4 off too, which would leave the two float32 runs too little room.
        scale = ref_grad.abs().max().item()
        assert (param.grad.double() - ref_grad).abs().max() <= 2e-3 * scale + 1e-7, name


def test_flow_in_chunks_of_pairs_matches_mmagic(reds4_converted, demo_frames, monkeypatch):
    """SPyNet on at most 3 pairs a call (BATCH_PIXELS) gives MMagic's output and gradients."""
    from mmrbvsr.models.archs import basicvsr_net
    monkeypatch.setattr(basicvsr_net, 'BATCH_PIXELS', 3 * 32 * 48)
    torch.manual_seed(0)
    ref = MMagicBasicVSRNet(8, 2, spynet_pretrained=str(reds4_converted[1]))
    ours = BasicVSRNet(8, 2)
    ours.load_state_dict(ref.state_dict(), strict=True)
    calls = []
    ours.spynet.register_forward_hook(lambda mod, args, out: calls.append(out.shape[0]))
    clip = demo_frames(5, 32, 48).requires_grad_()
    outs, grads = [], []
    for net in (ref, ours):
        outs.append(net(clip))
        grads.append(torch.autograd.grad(outs[-1].abs().mean(), clip)[0])
    assert calls == [3, 3, 2]  # 8 pairs (4 each way)
    assert max_diff(outs[0], outs[1]) <= 1e-5
    assert max_diff(grads[0], grads[1]) <= 1e-3 * grads[0].abs().max().item()


def test_parallel_branches_launch_half_the_convs(small_pair, demo_frames):
    """The grouped path runs each propagation conv once for both branches."""
    _, ours = small_pair
    clip = demo_frames(4, 32, 48)
    calls, outs = [], {}
    for parallel in (False, True):
        ours.parallel_branches = parallel
        calls.clear()
        with torch.no_grad(), CountConvs(calls):
            outs[parallel] = ours(clip)
        outs[str(parallel)] = (sum(1 for g in calls if g == 1), sum(1 for g in calls if g == 2))
    # 2 branches x 4 frames x (input conv + 2 blocks x 2 convs): 40 convs in turn, 20 grouped
    assert outs['False'][1] == 0 and outs['True'][1] == 4 * 5
    assert outs['False'][0] - outs['True'][0] == 2 * 4 * 5
    assert max_diff(outs[False], outs[True]) <= 1e-6


class CountConvs(torch.overrides.TorchFunctionMode):
    """Records the ``groups`` of every ``F.conv2d`` call."""

    def __init__(self, calls):
        super().__init__()
        self.calls = calls

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is F.conv2d:
            self.calls.append(args[6] if len(args) > 6 else kwargs.get('groups', 1))
        return func(*args, **kwargs)


@pytest.mark.parametrize('grad', [False, True])
def test_parallel_branches_under_autocast(demo_frames, grad):
    """bf16 autocast, frames reconstructed out of order (3, 2, 4 | 1, 5, 0 | 6): the
    bf16 chunks are written into the float32 output; close to the branches in turn."""
    torch.manual_seed(0)
    net = BasicVSRNet(8, 1, recon_pixels=3 * 32 * 48)
    clip = demo_frames(7, 32, 48)
    outs = []
    for parallel in (False, True):
        net.parallel_branches = parallel
        with torch.set_grad_enabled(grad), torch.autocast('cpu', torch.bfloat16):
            outs.append(net(clip))
    assert outs[1].dtype == torch.float32 and outs[1].requires_grad == grad
    assert max_diff(outs[0], outs[1]) <= 0.02


def test_grouped_weights_follow_the_parameters(demo_frames):
    torch.manual_seed(0)
    net = BasicVSRNet(8, 1, parallel_branches=True).eval()
    clip = demo_frames(3, 32, 48)
    with torch.no_grad():
        first = net(clip)
        grouped = net.grouped_resblocks(clip)
        assert net(clip).equal(first) and net.grouped_resblocks(clip) is grouped  # kept
        state = {k: v * 1.5 if 'resblocks' in k and v.dim() == 4 else v
                 for k, v in net.state_dict().items()}
        net.load_state_dict(state)  # copied in place: new versions
        changed = net(clip)
        assert net.grouped_resblocks(clip) is not grouped
        net.parallel_branches = False
        assert max_diff(changed, net(clip)) <= 1e-6 and max_diff(changed, first) > 1e-3
    with torch.autocast('cpu', torch.bfloat16):  # weights cast once, to autocast's dtype
        assert net.grouped_resblocks(clip).weights[0].dtype == torch.bfloat16
    with pytest.raises(TypeError, match='parallel_branches'):
        BasicVSRNet(8, 1, parallel_branches='yes')


def test_grouped_blocks_with_zero_channels(demo_frames):
    """Zero input channels inserted after the LR frame's 3 (as on a GPU, to 72) give
    the same features; ``padded_frames`` builds such frames."""
    torch.manual_seed(0)
    net = BasicVSRNet(16, 2).eval()
    stacks = (net.backward_resblocks, net.forward_resblocks)
    plain, padded = GroupedResidualBlocks(stacks), GroupedResidualBlocks(stacks, None, (3, 5))
    w0 = padded.weights[0]  # one dense conv, block-diagonal, zeros at the padding
    assert w0.shape == (32, 48, 3, 3) and padded.input_groups == 1
    assert not w0[:16, 24:].any() and not w0[16:, :24].any()
    assert not w0[:16, 3:8].any() and not w0[16:, 27:32].any()
    lqs = demo_frames(2, 32, 48)
    feat = torch.randn(1, 32, 32, 48)
    lq_in = BasicVSRNet.padded_frames(lqs, 5)
    assert lq_in.shape == (1, 2, 8, 32, 48) and not lq_in[:, :, 3:].any()
    assert lq_in[:, :, :3].equal(lqs) and lq_in[:, 0].is_contiguous(
        memory_format=torch.channels_last)
    with torch.no_grad():
        x = torch.cat([lqs[:, 0], feat[:, :16], lqs[:, 1], feat[:, 16:]], 1)
        x_pad = torch.cat([lq_in[:, 0], feat[:, :16], lq_in[:, 1], feat[:, 16:]], 1)
        assert max_diff(padded(x_pad), plain(x)) <= 1e-5
    with torch.autocast('cpu', torch.bfloat16):  # in the dtype the conv takes
        assert BasicVSRNet.padded_frames(lqs, 5).dtype == torch.bfloat16


def test_bad_recon_pixels():
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match='recon_pixels'):
            BasicVSRNet(8, 1, recon_pixels=bad)


def test_mirror_detection_is_per_clip():
    clip = torch.rand(3, 4, 3, 8, 8)
    clip[0, 2:] = clip[0, :2].flip(0)
    clip[2] = clip[2, :1]  # a static clip is mirrored too
    assert BasicVSRNet.mirrored_clips(clip).tolist() == [True, False, True]
    assert BasicVSRNet.mirrored_clips(clip[:, :3]).tolist() == [False] * 3


def test_one_frame_and_x2(demo_frames):
    clip = demo_frames(1, 32, 48)
    with torch.no_grad():
        assert BasicVSRNet(8, 1).eval()(clip).shape == (1, 1, 3, 128, 192)
        net = BasicVSRNet(8, 1, upscale_factor=2).eval()
        assert net(demo_frames(2, 32, 48)).shape == (1, 2, 3, 64, 96)
    assert not any(k.startswith('upsample2') for k in net.state_dict())


def test_bad_input():
    net = BasicVSRNet(8, 1)
    for shape in [(2, 3, 64, 64), (1, 2, 2, 64, 64), (1, 2, 3, 0, 64), (1, 0, 3, 64, 64)]:
        with pytest.raises(ValueError, match=r'\(' + ', '.join(map(str, shape)) + r'\)'):
            net(torch.rand(shape))
    with pytest.raises(ValueError, match='upscale_factor'):
        BasicVSRNet(8, 1, upscale_factor=8)


def test_reds4_weights_match_mmagic_and_beat_bicubic(reds4_converted, media):
    """The released BasicVSR (30 blocks) on real video: x4 bicubic-downsampled bikes.mp4."""
    net_file, _ = reds4_converted
    ref, ours = MMagicBasicVSRNet(num_blocks=30).eval(), BasicVSRNet(num_blocks=30).eval()
    load_checkpoint(ref, str(net_file), strict=True)
    load_checkpoint(ours, str(net_file), strict=True)

    # 5 frames, a 160x384 crop (LR 40x96): small enough for 2 CPU cores
    gt = read_video(media('bikes.mp4'), 5)[:, :, 40:200, 128:512]
    lq = F.interpolate(gt, scale_factor=0.25, mode='bicubic', antialias=True).clamp(0, 1)
    assert lq.shape == (5, 3, 40, 96)
    with torch.no_grad():
        out = ours(lq.unsqueeze(0))[0]
        ref_out = ref(lq.unsqueeze(0))[0]
    assert max_diff(out, ref_out) <= 1e-5

    bicubic = F.interpolate(lq, scale_factor=4, mode='bicubic', align_corners=False).clamp(0, 1)
    crop = (slice(None), slice(None), slice(8, -8), slice(8, -8))  # no border effects
    gain = psnr(out.clamp(0, 1)[crop], gt[crop]) - psnr(bicubic[crop], gt[crop])
    print(f'BasicVSR_REDS4 on bikes.mp4: {gain:.2f} dB over bicubic')
    assert gain >= 3.0


def test_bf16_autocast_stays_close_to_fp32(reds4_converted, demo_frames, monkeypatch):
    """Released weights under bf16 autocast: PSNR >= 50 dB against fp32 (bf16 grid: ~41 dB)."""
    from mmagic.models.utils import flow_warp as mmagic_flow_warp

    import mmrbvsr.models.archs.basicvsr_net as basicvsr_module
    import mmrbvsr.models.archs.spynet as spynet_module
    net = BasicVSRNet(num_blocks=30).eval()
    load_checkpoint(net, str(reds4_converted[0]), strict=True)
    lq = demo_frames(3, 64, 288)  # wider than 256: bf16 integers there are 2 apart

    def run(dtype):
        with torch.no_grad(), torch.autocast('cpu', torch.bfloat16, enabled=dtype is not None):
            return net(lq).float().clamp(0, 1)

    ref, bf16 = run(None), run(torch.bfloat16)
    assert psnr(bf16, ref) >= 50
    # the reference: MMagic's flow_warp samples with a grid of the features' dtype
    monkeypatch.setattr(basicvsr_module, 'flow_warp', mmagic_flow_warp)
    monkeypatch.setattr(spynet_module, 'flow_warp', mmagic_flow_warp)
    assert psnr(run(torch.bfloat16), ref) < 45
