"""SPyNet against MMagic's, with the real pretrained SPyNet."""
import pytest
import torch
import torch.nn.functional as F
from mmagic.models.editors.basicvsr.basicvsr_net import SPyNet as MMagicSPyNet

from mmrbvsr.models.archs import SPyNet


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


@pytest.mark.parametrize('shapes', [((1, 3, 64, 64), (1, 3, 64, 32)), ((2, 3, 0, 64),) * 2,
                                    ((2, 4, 64, 64),) * 2])
def test_bad_frames(shapes):
    with pytest.raises(ValueError, match=r'\(' + ', '.join(map(str, shapes[0])) + r'\)'):
        SPyNet()(torch.rand(shapes[0]), torch.rand(shapes[1]))


@pytest.mark.parametrize('hw', [(16, 16), (8, 40), (1, 1)])
def test_small_frames_are_upsized(hw):
    """Below 32x32 the flow is computed on a copy upsized to 32 (as MMagic), then resized
    back and rescaled: the flow of an upsized pair, by hand."""
    torch.manual_seed(0)
    net = SPyNet().eval()
    ref, supp = torch.rand(2, 3, *hw), torch.rand(2, 3, *hw)
    h_up, w_up = (-(-s // 32) * 32 for s in hw)
    up = lambda x: F.interpolate(x, size=(h_up, w_up), mode='bilinear',  # noqa: E731
                                 align_corners=False)
    with torch.no_grad():
        flow = net(ref, supp)
        expected = F.interpolate(net.compute_flow(up(ref), up(supp)), size=hw, mode='bilinear',
                                 align_corners=False)
    expected = expected * torch.tensor([hw[1] / w_up, hw[0] / h_up]).view(1, 2, 1, 1)
    assert flow.shape == (2, 2, *hw)
    torch.testing.assert_close(flow, expected)


def test_init_weights_keeps_pretrained(reds4_converted):
    """A Runner calls ``init_weights()`` before training: the pretrained SPyNet must survive."""
    from mmrbvsr.models.archs import RealBasicVSRNet
    net = RealBasicVSRNet(8, 1, 1, spynet_pretrained=str(reds4_converted[1]))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    net.init_weights()
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
