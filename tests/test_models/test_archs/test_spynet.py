"""SPyNet and flow_warp against MMagic's, with the real pretrained SPyNet."""
import pytest
import torch
from mmagic.models.editors.basicvsr.basicvsr_net import SPyNet as MMagicSPyNet
from mmagic.models.utils import flow_warp as mmagic_flow_warp

from mmrbvsr.models.archs import SPyNet, flow_warp


def test_keys_match_mmagic():
    ref, ours = MMagicSPyNet(None), SPyNet()
    assert list(ours.state_dict()) == list(ref.state_dict())
    ours.load_state_dict(ref.state_dict(), strict=True)


@pytest.mark.parametrize('size', [(64, 96), (40, 72)])
def test_pretrained_flow_matches_mmagic(reds4_converted, demo_frames, size):
    """Ours in float32 against MMagic's SPyNet in float64: six pyramid levels of float32
    convs leave both float32 flows ~7e-6 (3e-6 of the largest flow) off the float64 one,
    too close to a fixed 1e-5 between the two float32 runs on every CPU."""
    spynet_file = str(reds4_converted[1])
    ref, ours = MMagicSPyNet(spynet_file).eval(), SPyNet(spynet_file).eval()
    for key, value in ref.state_dict().items():
        assert torch.equal(ours.state_dict()[key], value), key
    clip = demo_frames(3, *size)[0]
    with torch.no_grad():
        flow = ours(clip[:-1], clip[1:])
        ref_flow = ref.double()(clip[:-1].double(), clip[1:].double())
    assert flow.shape == (2, 2, *size) and flow.dtype == torch.float32
    assert (flow.double() - ref_flow).abs().max() <= 2e-5 * ref_flow.abs().max()
    assert flow.abs().mean() > 0.05  # a real flow: the camera and cars move


def test_pretrained_is_strict(tmp_path):
    state = SPyNet().state_dict()  # with mean/std: not a SPyNet checkpoint
    torch.save({'state_dict': state}, tmp_path / 'bad.pth')
    with pytest.raises(RuntimeError, match='mean'):
        SPyNet(str(tmp_path / 'bad.pth'))
    with pytest.raises(TypeError, match='pretrained'):
        SPyNet(pretrained=1)


@pytest.mark.parametrize('shapes', [((1, 3, 64, 64), (1, 3, 64, 32)), ((2, 3, 16, 64),) * 2,
                                    ((2, 4, 64, 64),) * 2])
def test_bad_frames(shapes):
    with pytest.raises(ValueError, match=r'\(' + ', '.join(map(str, shapes[0])) + r'\)'):
        SPyNet()(torch.rand(shapes[0]), torch.rand(shapes[1]))


@pytest.mark.parametrize('padding_mode', ['zeros', 'border'])
def test_flow_warp_matches_mmagic(padding_mode):
    torch.manual_seed(0)
    x, flow = torch.rand(2, 5, 12, 17), torch.randn(2, 12, 17, 2) * 3
    ours = flow_warp(x, flow, padding_mode=padding_mode)
    assert torch.equal(ours, mmagic_flow_warp(x, flow, padding_mode=padding_mode))
    assert torch.equal(flow_warp(x, torch.zeros_like(flow)), x)  # zero flow: identity
    with pytest.raises(ValueError, match='spatial sizes'):
        flow_warp(x, flow[:, :10])


@pytest.mark.parametrize('autocast', [False, True])
def test_flow_warp_keeps_fp32_coordinates_for_bf16(autocast):
    """bf16 holds integers only up to 256: the grid must not be bf16 on 320-wide frames."""
    torch.manual_seed(0)
    x = torch.rand(1, 4, 24, 320).bfloat16()
    flow = (torch.randn(1, 24, 320, 2) * 2).bfloat16()
    with torch.autocast('cpu', dtype=torch.bfloat16, enabled=autocast):
        identity = flow_warp(x, torch.zeros_like(flow))
        warped = flow_warp(x, flow)
    assert identity.dtype == warped.dtype == torch.bfloat16
    # a bf16 grid moves pixels by up to one (errors ~0.5); fp32 coordinates leave ~1e-5
    assert (identity.float() - x.float()).abs().max() <= 1e-4
    # the same as warping in fp32, rounded once at the end
    assert torch.equal(warped, flow_warp(x.float(), flow.float()).bfloat16())


def test_init_weights_keeps_pretrained(reds4_converted):
    """A Runner calls ``init_weights()`` before training: the pretrained SPyNet must survive."""
    from mmrbvsr.models.archs import RealBasicVSRNet
    net = RealBasicVSRNet(8, 1, 1, spynet_pretrained=str(reds4_converted[1]))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    net.init_weights()
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
