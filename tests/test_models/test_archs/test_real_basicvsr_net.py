"""RealBasicVSRNet against MMagic's, and its own contract (cleaning, gradients, errors)."""
import pytest
import torch
from mmagic.models.editors.real_basicvsr.real_basicvsr_net import (
    RealBasicVSRNet as MMagicRealBasicVSRNet,
)

from mmrbvsr.models.archs import RealBasicVSRNet
from mmrbvsr.registry import MODELS

SMALL = dict(mid_channels=8, num_propagation_blocks=2, num_cleaning_blocks=2)
TOL = 1e-5


def make_pair(spynet: str, **kwargs):
    """MMagic's net and ours with identical (random) weights and a real SPyNet."""
    cfg = dict(SMALL, spynet_pretrained=str(spynet), **kwargs)
    torch.manual_seed(0)
    ref = MMagicRealBasicVSRNet(**cfg).eval()
    ours = RealBasicVSRNet(**cfg).eval()
    ours.load_state_dict(ref.state_dict(), strict=True)
    return ref, ours


def count_calls(module: torch.nn.Module) -> list:
    calls = []
    module.register_forward_hook(lambda *_: calls.append(1))
    return calls


def make_contraction(net: torch.nn.Module, k: float = 0.99) -> None:
    """Cleaning residue ``-k (x - 0.5)``: each pass shrinks the next residue by ``1 - k``."""
    body, last = net.image_cleaning[0].main, net.image_cleaning[1]
    with torch.no_grad():
        for p in net.image_cleaning.parameters():
            p.zero_()  # zero residual blocks are identities
        for c in range(3):
            body[0].weight[c, c, 1, 1] = 1.0  # copy RGB (>= 0, so LeakyReLU keeps it)
            last.weight[c, c, 1, 1] = -k
        last.bias.fill_(0.5 * k)


def max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a - b).abs().max().item()


@pytest.fixture(scope='module')
def spynet(reds4_converted):
    return reds4_converted[1]


@pytest.fixture(scope='module')
def clip(demo_frames):
    return demo_frames(4, 32, 48)


def test_state_dict_keys_and_size_match_mmagic():
    ref, ours = MMagicRealBasicVSRNet(), RealBasicVSRNet()
    ref_sd, ours_sd = ref.state_dict(), ours.state_dict()
    assert list(ours_sd) == list(ref_sd)
    assert all(ours_sd[k].shape == ref_sd[k].shape for k in ref_sd)
    assert sum(p.numel() for p in ours.parameters()) == 6_294_834
    ours.load_state_dict(ref_sd, strict=True)


@pytest.mark.parametrize('thres', [255, 1.5])
def test_matches_mmagic(spynet, clip, thres):
    ref, ours = make_pair(spynet, dynamic_refine_thres=thres)
    ref_calls = count_calls(ref.image_cleaning)
    with torch.no_grad():
        ref_out, ref_lqs = ref(clip.clone(), return_lqs=True)
        out, lqs = ours(clip, return_lqs=True)
        _, passes = ours.clean(clip, return_passes=True)
    assert out.shape == (1, 4, 3, 128, 192)
    assert passes.tolist() == [len(ref_calls)]
    assert passes.item() == (1 if thres == 255 else 3)  # random weights never converge
    assert max_diff(out, ref_out) <= TOL
    assert max_diff(lqs, ref_lqs) <= TOL


def test_dynamic_refinement_stops_like_mmagic(spynet, clip):
    ref, ours = make_pair(spynet, dynamic_refine_thres=1.5)
    make_contraction(ref)
    make_contraction(ours)
    ref_calls = count_calls(ref.image_cleaning)
    with torch.no_grad():
        ref_out = ref(clip.clone())
        out = ours(clip)
        _, passes = ours.clean(clip, return_passes=True)
    # pass 1 residue ~0.99*0.3 > 1.5/255; pass 2 is 100x smaller, below it
    assert passes.tolist() == [2] and len(ref_calls) == 2
    assert max_diff(out, ref_out) <= TOL


def test_refinement_decided_per_clip(spynet, clip):
    _, ours = make_pair(spynet, dynamic_refine_thres=1.5)
    make_contraction(ours)
    flat = 0.5 + 0.01 * (clip - 0.5)  # already clean: the first residue is below 1.5/255
    batch = torch.cat([clip, flat])
    with torch.no_grad():
        out, lqs = ours(batch, return_lqs=True)
        _, passes = ours.clean(batch, return_passes=True)
        alone = [ours(c, return_lqs=True) for c in (clip, flat)]
    # MMagic averages over the batch and would clean both clips twice
    assert passes.tolist() == [2, 1]
    for i, (out_i, lqs_i) in enumerate(alone):
        assert max_diff(out[i:i + 1], out_i) <= TOL
        assert torch.equal(lqs[i:i + 1], lqs_i)


def test_sequential_cleaning_matches_and_keeps_input(spynet, clip):
    ref, ours = make_pair(spynet, is_sequential_cleaning=True, dynamic_refine_thres=1.5)
    original = clip.clone()
    with torch.no_grad():
        ref_out = ref(clip.clone())
        out, lqs = ours(clip, return_lqs=True)
        batched = RealBasicVSRNet(**SMALL, dynamic_refine_thres=1.5).eval()
        batched.load_state_dict(ours.state_dict())
        batched_out = batched(clip)
    assert torch.equal(clip, original)  # MMagic's sequential path writes into its input
    assert max_diff(out, ref_out) <= TOL
    assert max_diff(out, batched_out) <= TOL


def test_mirrored_input_matches_and_reuses_flows(spynet, clip):
    ref, ours = make_pair(spynet, dynamic_refine_thres=1.5)
    mirrored = torch.cat([clip[:, :3], clip[:, :3].flip(1)], dim=1)  # t = 6
    flow_batches = []
    ours.basicvsr.spynet.register_forward_hook(
        lambda mod, args, out: flow_batches.append(args[0].shape[0]))
    with torch.no_grad():
        ref_out = ref(mirrored.clone())
        out = ours(mirrored)
    assert flow_batches == [5]  # only the backward flows: t - 1 pairs
    assert max_diff(out, ref_out) <= TOL


def test_clean_on_its_own(spynet, clip):
    _, ours = make_pair(spynet)
    original = clip.clone()
    with torch.no_grad():
        _, lqs = ours(clip, return_lqs=True)
        cleaned = ours.clean(clip)
        frames = ours.clean(clip[0])  # (t, 3, h, w): each frame a one-frame clip
    assert torch.equal(clip, original)
    assert cleaned.shape == clip.shape and frames.shape == clip[0].shape
    assert torch.equal(cleaned, lqs)
    assert max_diff(frames, cleaned[0]) <= TOL
    assert not torch.allclose(cleaned, clip)


def test_gradients_reach_cleaning_and_propagation_not_spynet(clip):
    torch.manual_seed(0)
    net = RealBasicVSRNet(**SMALL)
    out, lqs = net(clip[:, :2], return_lqs=True)
    (out.mean() + lqs.mean()).backward()
    for name in ('image_cleaning', 'basicvsr.backward_resblocks', 'basicvsr.forward_resblocks',
                 'basicvsr.fusion', 'basicvsr.upsample1', 'basicvsr.conv_last'):
        params = list(net.get_submodule(name).parameters())
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in params), name
    assert all(not p.requires_grad and p.grad is None for p in net.basicvsr.spynet.parameters())


def test_is_fix_cleaning_freezes_cleaning_only(clip):
    torch.manual_seed(0)
    net = RealBasicVSRNet(**SMALL, is_fix_cleaning=True)
    net(clip[:, :2]).mean().backward()
    assert all(not p.requires_grad and p.grad is None for p in net.image_cleaning.parameters())
    assert all(p.grad is not None for p in net.basicvsr.backward_resblocks.parameters())


def test_one_frame_clip(clip):
    net = RealBasicVSRNet(**SMALL).eval()
    calls = count_calls(net.basicvsr.spynet)
    with torch.no_grad():
        out = net(clip[:, :1])
    assert out.shape == (1, 1, 3, 128, 192) and not calls


def test_x2(clip):
    net = RealBasicVSRNet(**SMALL, upscale_factor=2).eval()
    with torch.no_grad():
        out = net(clip[:, :2])
    assert out.shape == (1, 2, 3, 64, 96)
    # every x4 key but upsample2 loads into x2 (mid_channels 64)
    x4 = RealBasicVSRNet(num_propagation_blocks=1, num_cleaning_blocks=1).state_dict()
    x2 = RealBasicVSRNet(num_propagation_blocks=1, num_cleaning_blocks=1, upscale_factor=2)
    missing, unexpected = x2.load_state_dict(x4, strict=False)
    assert missing == []
    assert sorted(unexpected) == ['basicvsr.upsample2.upsample_conv.bias',
                                  'basicvsr.upsample2.upsample_conv.weight']


@pytest.mark.parametrize('shape', [(1, 3, 64, 64), (1, 2, 4, 64, 64), (1, 2, 1, 64, 64),
                                   (1, 2, 3, 0, 64), (1, 2, 3, 64, 0), (1, 2, 3, 64, 64, 1)])
def test_bad_input_names_the_shape(shape):
    net = RealBasicVSRNet(**SMALL)
    with pytest.raises(ValueError, match=str(shape).replace('(', r'\(').replace(')', r'\)')):
        net(torch.rand(shape))


def test_bad_arguments():
    with pytest.raises(ValueError, match='upscale_factor'):
        RealBasicVSRNet(**SMALL, upscale_factor=3)
    with pytest.raises(ValueError, match='max_cleaning_passes'):
        RealBasicVSRNet(**SMALL, max_cleaning_passes=0)
    with pytest.raises(ValueError, match='dynamic_refine_thres'):
        RealBasicVSRNet(**SMALL, dynamic_refine_thres=-1)


def test_max_cleaning_passes(clip):
    net = RealBasicVSRNet(**SMALL, dynamic_refine_thres=0, max_cleaning_passes=5).eval()
    with torch.no_grad():
        _, passes = net.clean(clip[:, :1], return_passes=True)
    assert passes.tolist() == [5]


def test_built_from_registry():
    from mmengine.registry import DefaultScope
    # an earlier Runner may have left 'mmagic' as the default scope
    with DefaultScope.overwrite_default_scope('mmrbvsr'):
        net = MODELS.build(dict(type='RealBasicVSRNet', **SMALL))
    assert type(net) is RealBasicVSRNet
    from mmagic.registry import MODELS as MMAGIC_MODELS
    with DefaultScope.overwrite_default_scope('mmagic'):
        scoped = MMAGIC_MODELS.build(dict(type='mmrbvsr.RealBasicVSRNet', **SMALL))
    assert type(scoped) is RealBasicVSRNet


def test_gradients_match_mmagic(spynet, clip):
    """Ours in float32 against MMagic in float64: ours is up to 4e-4 of a tensor's largest
    gradient off it, MMagic's float32 run up to 2e-4 (AVX2) and no reference."""
    ref, ours = make_pair(spynet)
    ref.double()
    for net, dtype in ((ref.train(), torch.float64), (ours.train(), torch.float32)):
        out, lqs = net(clip[:, :3].to(dtype, copy=True), return_lqs=True)
        (out.abs().mean() + lqs.abs().mean()).backward()
    ref_params = dict(ref.named_parameters())
    for name, param in ours.named_parameters():
        ref_grad = ref_params[name].grad
        assert (param.grad is None) == (ref_grad is None), name
        if ref_grad is not None:  # sums over many pixels: a relative tolerance
            scale = ref_grad.abs().max().item()
            assert (param.grad.double() - ref_grad).abs().max() <= 1e-3 * scale + 1e-7, name


def test_cleaning_in_chunks_of_frames_matches_mmagic(spynet, clip, monkeypatch):
    """With BATCH_PIXELS at 3 frames, cleaning runs 3 + 1 frames a call, same output."""
    from mmrbvsr.models.archs import basicvsr_net
    monkeypatch.setattr(basicvsr_net, 'BATCH_PIXELS', 3 * 32 * 48)
    ref, ours = make_pair(spynet, dynamic_refine_thres=1.5)
    calls = []
    ours.image_cleaning.register_forward_hook(lambda mod, args, out: calls.append(out.shape[0]))
    with torch.no_grad():
        ref_out, ref_lqs = ref(clip.clone(), return_lqs=True)
        out, lqs = ours(clip, return_lqs=True)
    assert calls[:2] == [3, 1] and len(calls) % 2 == 0
    assert max_diff(out, ref_out) <= TOL and max_diff(lqs, ref_lqs) <= TOL
