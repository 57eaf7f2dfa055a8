"""SPyNet optical flow (Ranjan and Black, CVPR 2017), as BasicVSR uses it."""
from typing import List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import MMLogger
from mmengine.model import BaseModule
from mmengine.model.weight_init import kaiming_init
from mmengine.runner import load_checkpoint
from torch import Tensor

from mmrbvsr.ops import Conv2d, flow_warp
from mmrbvsr.registry import MODELS


class SPyNetConv(nn.Module):
    """A conv and an optional in-place ReLU, keyed ``conv.*`` like MMCV's ``ConvModule``.

    Args:
        in_channels (int): Number of input channels.
        out_channels (int): Number of output channels.
        with_relu (bool): Whether a ReLU follows the conv. Default: True.
    """

    def __init__(self, in_channels: int, out_channels: int, with_relu: bool = True) -> None:
        super().__init__()
        self.conv = Conv2d(in_channels, out_channels, 7, 1, 3)
        self.activate = nn.ReLU(inplace=True) if with_relu else None
        # ConvModule's initialisation: Kaiming normal, fan-out, zero bias
        kaiming_init(self.conv, a=0, nonlinearity='relu')

    def forward(self, x: Tensor) -> Tensor:
        # the ReLU (self.activate) is applied by the conv, fused on a GPU
        return self.conv(x, act='relu' if self.activate is not None else None)


class SPyNetBasicModule(nn.Module):
    """One pyramid level: 8 channels (reference, warped support, flow) -> flow residue."""

    def __init__(self) -> None:
        super().__init__()
        self.basic_module = nn.Sequential(
            SPyNetConv(8, 32),
            SPyNetConv(32, 64),
            SPyNetConv(64, 32),
            SPyNetConv(32, 16),
            SPyNetConv(16, 2, with_relu=False),
        )

    def forward(self, tensor_input: Tensor) -> Tensor:
        """Maps ``(b, 8, h, w)`` to a flow residue ``(b, 2, h, w)``."""
        return self.basic_module(tensor_input)


@MODELS.register_module()
class SPyNet(BaseModule):
    """SPyNet: coarse-to-fine optical flow over a six-level image pyramid.

    Paper: Optical Flow Estimation using a Spatial Pyramid Network, CVPR 2017.
    The BasicVSR variant (six basic modules, no batch norm); keys match MMagic's
    ``SPyNet``, so MMagic's SPyNet checkpoints load with ``strict=True``.

    Args:
        pretrained (str, optional): Path or URL of a SPyNet checkpoint, loaded with
            MMEngine's ``load_checkpoint`` (strict): it holds the ``basic_module.*``
            keys only, as MMagic's ``spynet_20210409-c6c1bd09.pth`` and the file that
            ``tools/convert_checkpoint.py --spynet-out`` writes. Default: None.
        init_cfg (dict, optional): MMEngine initialisation config. Default: None.
    """

    def __init__(self, pretrained: Optional[str] = None, init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.basic_module = nn.ModuleList([SPyNetBasicModule() for _ in range(6)])

        # loaded before the mean/std buffers exist, as MMagic does, so that a
        # checkpoint with only the basic modules loads strictly
        if isinstance(pretrained, str):
            load_checkpoint(self, pretrained, strict=True, logger=MMLogger.get_current_instance())
        elif pretrained is not None:
            raise TypeError('pretrained must be a str (path or URL) or None, '
                            f'got {type(pretrained)}')

        self.register_buffer('mean', torch.Tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer('std', torch.Tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def check_frames(self, ref: Tensor, supp: Tensor) -> None:
        """Raises ``ValueError`` unless ``ref`` and ``supp`` are equal-sized ``(n, 3, h, w)``."""
        if ref.dim() != 4 or ref.size(1) != 3 or ref.shape != supp.shape or 0 in ref.shape[2:]:
            raise ValueError('SPyNet expects two frame batches of the same shape (n, 3, h, w), '
                             f'h, w >= 1, got {tuple(ref.shape)} and {tuple(supp.shape)}')

    def _pyramid(self, img: Tensor) -> List[Tensor]:
        """Normalised frames and five 2x average-pooled levels, coarsest first."""
        levels = [(img - self.mean) / self.std]
        for _ in range(5):
            levels.append(F.avg_pool2d(levels[-1], kernel_size=2, stride=2,
                                       count_include_pad=False))
        return levels[::-1]

    def compute_flow(self, ref: Tensor, supp: Tensor) -> Tensor:
        """Flow from ``ref`` to ``supp``, both ``(n, 3, h, w)`` with h, w multiples of 32.

        Returns:
            Tensor: The flow in pixels, shape ``(n, 2, h, w)``.
        """
        n, _, h, w = ref.size()
        # one pyramid pass for both images
        pyramid = self._pyramid(torch.cat([ref, supp], dim=0))

        flow = ref.new_zeros(n, 2, h // 32, w // 32)
        for level, both in enumerate(pyramid):
            ref_l, supp_l = both[:n], both[n:]
            if level == 0:
                flow_up = flow
            else:
                flow_up = F.interpolate(
                    flow, scale_factor=2, mode='bilinear', align_corners=True) * 2.0
            flow_up_hw2 = flow_up.permute(0, 2, 3, 1)
            warped = flow_warp(supp_l, flow_up_hw2, padding_mode='border')
            flow = flow_up + self.basic_module[level](torch.cat([ref_l, warped, flow_up], 1))
        return flow

    def forward(self, ref: Tensor, supp: Tensor) -> Tensor:
        """Flow from ``ref`` to ``supp`` (each ``(n, 3, h, w)``, RGB in [0, 1]).

        The frames are resized (bilinear) to the next multiple of 32 in each dimension
        (the coarsest of the six pyramid levels is 1/32 of the frame), and the flow is
        resized back to ``(h, w)``. Any frame size works, as in MMagic: 16x16 frames are
        upsized to 32x32.

        Returns:
            Tensor: The flow in pixels, shape ``(n, 2, h, w)``; channel 0 is x.
        """
        self.check_frames(ref, supp)
        h, w = ref.shape[2:4]
        w_up = w if (w % 32) == 0 else 32 * (w // 32 + 1)
        h_up = h if (h % 32) == 0 else 32 * (h // 32 + 1)
        if (h_up, w_up) != (h, w):
            ref = F.interpolate(ref, size=(h_up, w_up), mode='bilinear', align_corners=False)
            supp = F.interpolate(supp, size=(h_up, w_up), mode='bilinear', align_corners=False)

        flow = self.compute_flow(ref, supp)
        if (h_up, w_up) != (h, w):
            flow = F.interpolate(flow, size=(h, w), mode='bilinear', align_corners=False)
            # rescale the displacements to the original resolution (no host-to-device
            # copy: a CUDA graph may capture this)
            flow = torch.cat([flow[:, :1] * (w / w_up), flow[:, 1:] * (h / h_up)], 1)
        return flow
