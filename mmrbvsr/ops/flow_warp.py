"""Backward warping of images or features with a dense optical flow."""
import torch
import torch.nn.functional as F
from torch import Tensor


def flow_warp(x: Tensor,
              flow: Tensor,
              interpolation: str = 'bilinear',
              padding_mode: str = 'zeros',
              align_corners: bool = True,
              memory_format: torch.memory_format = torch.preserve_format) -> Tensor:
    """Warps ``x`` with ``flow``: ``out(p) = x(p + flow(p))``, sampled with ``grid_sample``.

    The same arithmetic as MMagic's ``flow_warp``, so fp32 results agree bit for bit.
    Coordinates and sampling run in at least fp32 whatever the input dtype (and
    under autocast): bf16 holds integers only up to 256 exactly, so a bf16 grid
    would shift pixels of wider frames by up to one pixel. The result has ``x``'s
    dtype.

    Args:
        x (Tensor): Images or features, shape ``(n, c, h, w)``.
        flow (Tensor): Flow in pixels, shape ``(n, h, w, 2)``; the last dimension
            holds the (x, y) offsets.
        interpolation (str): ``'bilinear'`` or ``'nearest'``. Default: ``'bilinear'``.
        padding_mode (str): ``'zeros'``, ``'border'`` or ``'reflection'``.
            Default: ``'zeros'``.
        align_corners (bool): Passed to ``grid_sample``. Default: True.
        memory_format (torch.memory_format): The result's layout (e.g. channels-last
            for the conv that reads it). Default: ``torch.preserve_format``.

    Returns:
        Tensor: The warped ``x``, shape ``(n, c, h, w)``.
    """
    if x.dim() != 4 or flow.dim() != 4 or flow.size(-1) != 2:
        raise ValueError('flow_warp expects x of shape (n, c, h, w) and flow of shape '
                         f'(n, h, w, 2), got {tuple(x.shape)} and {tuple(flow.shape)}')
    if x.shape[-2:] != flow.shape[1:3]:
        raise ValueError(f'The spatial sizes of input ({tuple(x.shape[-2:])}) and '
                         f'flow ({tuple(flow.shape[1:3])}) are not the same.')
    _, _, h, w = x.size()
    dtype = torch.promote_types(x.dtype, torch.float32)
    grid_y, grid_x = torch.meshgrid(
        torch.arange(0, h, device=flow.device, dtype=dtype),
        torch.arange(0, w, device=flow.device, dtype=dtype),
        indexing='ij')
    grid = torch.stack((grid_x, grid_y), 2)  # (h, w, 2)
    grid_flow = grid + flow.to(dtype)
    # pixel coordinates -> [-1, 1]; torch.sym_max, not max: torch.export traces a builtin
    # max in the body of a scan (mmrbvsr.deploy's loops) as a min (torch 2.14)
    grid_flow_x = 2.0 * grid_flow[..., 0] / torch.sym_max(w - 1, 1) - 1.0
    grid_flow_y = 2.0 * grid_flow[..., 1] / torch.sym_max(h - 1, 1) - 1.0
    grid_flow = torch.stack((grid_flow_x, grid_flow_y), dim=3)
    out = F.grid_sample(
        x.to(dtype), grid_flow, mode=interpolation, padding_mode=padding_mode,
        align_corners=align_corners)
    return out.to(x.dtype, memory_format=memory_format)
