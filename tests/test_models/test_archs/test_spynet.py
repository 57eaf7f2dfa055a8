"""SPyNet against MMagic's, with the real pretrained SPyNet."""
import pytest
import torch
from mmagic.models.editors.basicvsr.basicvsr_net import SPyNet as MMagicSPyNet

from mmrbvsr.models.archs import SPyNet


def test_keys_match_mmagic():
    ref, ours = MMagicSPyNet(None), SPyNet()
    assert list(ours.state_dict()) == list(ref.state_dict())
    ours.load_state_dict(ref.state_dict(), strict=True)


@pytest.mark.parametrize('size', [(64, 96), (40, 72)])
def test_pretrained_flow_matches_mmagic(reds4_converted, demo_frames, size):
    spynet_file = str(reds4_converted[1])
    ref, ours = MMagicSPyNet(spynet_file).eval(), SPyNet(spynet_file).eval()
    for key, value in ref.state_dict().items():
        assert torch.equal(ours.state_dict()[key], value), key
    clip = demo_frames(3, *size)[0]
    with torch.no_grad():
        flow = ours(clip[:-1], clip[1:])
        ref_flow = ref(clip[:-1], clip[1:])
    assert flow.shape == (2, 2, *size)
    assert (flow - ref_flow).abs().max() <= 1e-5
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


def test_init_weights_keeps_pretrained(reds4_converted):
    """A Runner calls ``init_weights()`` before training: the pretrained SPyNet must survive."""
    from mmrbvsr.models.archs import RealBasicVSRNet
    net = RealBasicVSRNet(8, 1, 1, spynet_pretrained=str(reds4_converted[1]))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    net.init_weights()
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
