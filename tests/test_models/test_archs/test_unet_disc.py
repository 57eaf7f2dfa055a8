"""The U-Net discriminator against MMagic's."""
import pytest
import torch
from mmagic.models.editors.real_esrgan.unet_disc import (
    UNetDiscriminatorWithSpectralNorm as MMagicDisc,
)

from mmrbvsr.models.archs import UNetDiscriminatorWithSpectralNorm


@pytest.mark.parametrize('skip_connection', [True, False])
def test_matches_mmagic(demo_frames, skip_connection):
    torch.manual_seed(0)
    ref = MMagicDisc(3, 16, skip_connection)
    ours = UNetDiscriminatorWithSpectralNorm(3, 16, skip_connection)
    assert list(ours.state_dict()) == list(ref.state_dict())
    ours.load_state_dict(ref.state_dict(), strict=True)
    imgs = demo_frames(2, 64, 96)[0]  # (2, 3, 64, 96)
    # train mode runs a power iteration that updates u: both must stay in step
    for mode in ('train', 'train', 'eval'):
        ref.train(mode == 'train')
        ours.train(mode == 'train')
        out, ref_out = ours(imgs), ref(imgs)
        assert out.shape == (2, 1, 64, 96)
        assert (out - ref_out).abs().max() <= 1e-5
    for key, value in ref.state_dict().items():
        assert torch.equal(ours.state_dict()[key], value), key


def test_gradients_match_mmagic(demo_frames):
    """The channels-last convs give MMagic's gradients, to the input and to every weight."""
    torch.manual_seed(0)
    ref = MMagicDisc(3, 16, True)
    ours = UNetDiscriminatorWithSpectralNorm(3, 16, True)
    ours.load_state_dict(ref.state_dict())
    assert ours.conv_7.weight_orig.is_contiguous(memory_format=torch.channels_last)
    imgs = demo_frames(2, 64, 96)[0]
    weights = torch.randn(2, 1, 64, 96)
    grads = []
    for model in (ours, ref):
        x = imgs.clone().requires_grad_()
        (model(x) * weights).sum().backward()
        grads.append([x.grad] + [p.grad for p in model.parameters()])
    for ours_grad, ref_grad in zip(*grads):
        scale = ref_grad.abs().max()
        assert scale > 0
        assert (ours_grad - ref_grad).abs().max() <= 1e-4 * scale


def test_default_size_and_bad_input():
    disc = UNetDiscriminatorWithSpectralNorm(3)
    assert sum(p.numel() for p in disc.parameters()) == 4_376_897
    with pytest.raises(ValueError, match=r'\(1, 3, 20, 32\)'):
        disc(torch.rand(1, 3, 20, 32))
    with pytest.raises(ValueError, match=r'\(1, 1, 16, 16\)'):
        disc(torch.rand(1, 1, 16, 16))
