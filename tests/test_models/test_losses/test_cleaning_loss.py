import pytest
import torch
import torch.nn.functional as F

from mmrbvsr.models.losses import CharbonnierLoss, CleaningLoss, downsample_gt


def _block_mean(gt: torch.Tensor, s: int) -> torch.Tensor:
    n, t, c, h, w = gt.shape
    return gt.reshape(n, t, c, h // s, s, w // s, s).mean(dim=(4, 6))


def test_l1_against_hand_computation():
    torch.manual_seed(0)
    gt = torch.rand(2, 3, 3, 16, 12)
    cleaned = torch.rand(2, 3, 3, 4, 3)
    expected = (cleaned - _block_mean(gt, 4)).abs().mean()
    torch.testing.assert_close(CleaningLoss()(cleaned, gt), expected)


def test_tiny_example():
    # a 4x4 GT with one bright pixel averages to 1/16 at 1x1
    gt = torch.zeros(1, 1, 1, 4, 4)
    gt[..., 0, 0] = 16.
    assert CleaningLoss()(torch.zeros(1, 1, 1, 1, 1), gt).item() == pytest.approx(1.0)
    assert CleaningLoss(loss_weight=2.)(torch.ones(1, 1, 1, 1, 1), gt).item() == 0.0


def test_charbonnier_and_module_criterion():
    torch.manual_seed(1)
    gt, cleaned = torch.rand(1, 2, 3, 8, 8), torch.rand(1, 2, 3, 2, 2)
    target = _block_mean(gt, 4)
    expected = torch.sqrt((cleaned - target)**2 + 1e-6).mean()
    torch.testing.assert_close(CleaningLoss('charbonnier', eps=1e-6)(cleaned, gt), expected)
    loss = CleaningLoss(criterion=CharbonnierLoss(eps=1e-6), loss_weight=3.)(cleaned, gt)
    torch.testing.assert_close(loss, 3 * expected)


def test_area_matches_mmagic_downsampling():
    # MMagic: F.interpolate(gt, scale_factor=0.25, mode='area', recompute_scale_factor=False)
    gt = torch.rand(6, 3, 32, 24)
    ref = F.interpolate(gt, scale_factor=0.25, mode='area', recompute_scale_factor=False)
    torch.testing.assert_close(downsample_gt(gt, 4), ref)


@pytest.mark.parametrize('mode', ['bilinear', 'bicubic', 'nearest'])
def test_other_downsampling_modes(mode):
    gt = torch.rand(1, 2, 3, 16, 16)
    out = downsample_gt(gt, 4, mode)
    assert out.shape == (1, 2, 3, 4, 4)
    # a constant image stays constant under any of them
    const = downsample_gt(torch.full((1, 1, 3, 16, 16), 0.3), 4, mode)
    torch.testing.assert_close(const, torch.full_like(const, 0.3))
    loss = CleaningLoss(downsample_mode=mode, scale=2)
    assert loss(torch.zeros(1, 2, 3, 8, 8), gt).item() > 0


def test_gradient_reaches_cleaned_frames_only():
    gt = torch.rand(1, 1, 3, 8, 8, requires_grad=True)
    cleaned = torch.rand(1, 1, 3, 2, 2, requires_grad=True)
    CleaningLoss()(cleaned, gt).backward()
    assert cleaned.grad.abs().sum() > 0


def test_errors_name_the_bad_value():
    with pytest.raises(ValueError, match="'l2'"):
        CleaningLoss('l2')
    with pytest.raises(ValueError, match="'lanczos'"):
        CleaningLoss(downsample_mode='lanczos')
    with pytest.raises(ValueError, match='0'):
        CleaningLoss(scale=0)
    with pytest.raises(ValueError, match=r'\(1, 1, 3, 3, 3\)'):
        CleaningLoss()(torch.zeros(1, 1, 3, 3, 3), torch.zeros(1, 1, 3, 8, 8))
    with pytest.raises(ValueError, match='10x8'):
        downsample_gt(torch.zeros(1, 3, 10, 8), 4)
