"""flow_warp against MMagic's, and its fp32 sampling coordinates under bf16."""
import pytest
import torch
from mmagic.models.utils import flow_warp as mmagic_flow_warp

from mmrbvsr.ops import flow_warp


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
