"""The generator's forward written for export: one graph for every clip length and size.

``RealBasicVSRNet.forward`` is written for PyTorch's speed: Python loops over frames,
batches sized by the frame, shortcuts taken on data (mirrored clips, clips that need no
more cleaning, sizes that SPyNet takes without resizing). Traced, each of these is
frozen at the example's shape and values. ``ExportableRealBasicVSR`` computes the same
function with the generator's own submodules, written so that ``torch.export`` keeps
every decision in the graph:

- the cleaning and the recurrences over frames are ``scan`` loops (ONNX ``Scan``), one
  frame per step (its SPyNet flow, then its propagation step), so the graph serves any
  number of frames and, besides the backward branch's features (kept for the forward
  branch, as in the generator), holds one frame's activations at a time;
- dynamic refinement (another cleaning pass while a clip still changes) is data
  dependent: the number of passes is fixed at export (``cleaning_passes``, 1 as the
  released configs run);
- SPyNet always resizes to a multiple of 32 (bilinear resizing to the same size is an
  exact identity), so the graph serves every height and width of at least 32;
- flows are computed in both directions for every clip (PyTorch reuses the backward
  flows of a mirror-extended clip: the same numbers, up to rounding).

The first step of each branch warps the zero initial features like any other step (a
warp of zeros is zeros), with a flow from the frame to itself, so no step is special.
"""
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch._higher_order_ops.scan import scan

from mmrbvsr.models.archs import BasicVSRNet, RealBasicVSRNet, SPyNet
from mmrbvsr.ops import switched

#: the switches of the fast paths, all off
FAST_PATHS_OFF = dict(nnpack=False, fused_epilogue=False, cudnn_fused=False)


def spynet_flow(spynet: SPyNet, ref: Tensor, supp: Tensor) -> Tensor:
    """``spynet(ref, supp)`` for any size of at least 32: always resized to multiples of 32.

    Args:
        spynet (SPyNet): The flow network.
        ref (Tensor): Reference frames ``(n, 3, h, w)``.
        supp (Tensor): Supporting frames ``(n, 3, h, w)``.

    Returns:
        Tensor: The flow from ``ref`` to ``supp`` in pixels, ``(n, 2, h, w)``.
    """
    h, w = ref.shape[-2:]
    h_up, w_up = (h + 31) // 32 * 32, (w + 31) // 32 * 32
    ref = F.interpolate(ref, size=(h_up, w_up), mode='bilinear', align_corners=False)
    supp = F.interpolate(supp, size=(h_up, w_up), mode='bilinear', align_corners=False)
    flow = spynet.compute_flow(ref, supp)
    flow = F.interpolate(flow, size=(h, w), mode='bilinear', align_corners=False)
    return torch.cat([flow[:, :1] * (w / w_up), flow[:, 1:] * (h / h_up)], 1)


class ExportableRealBasicVSR(nn.Module):
    """``RealBasicVSRNet`` (or ``BasicVSRNet``) as one export-friendly graph.

    Holds the generator's submodules (no copies). Its output equals the generator's,
    up to float rounding, for every input on which the generator runs
    ``cleaning_passes`` cleaning passes: with the released configs' threshold (255)
    one pass, unless a pass changes a clip by more than the whole [0, 1] range on
    average. Meant for ``torch.export``; in eager PyTorch the generator is faster.

    Args:
        generator (RealBasicVSRNet | BasicVSRNet): mmrbvsr's generator, in eval mode.
        cleaning_passes (int): Cleaning passes of every clip (0 for ``BasicVSRNet``).
            Default: 1.

    Examples:
        >>> net = RealBasicVSRNet(mid_channels=16, num_propagation_blocks=1,
        ...                       num_cleaning_blocks=1).eval()
        >>> ExportableRealBasicVSR(net)(torch.rand(1, 3, 3, 40, 36)).shape
        torch.Size([1, 3, 3, 160, 144])
    """

    #: Smallest frame height and width (SPyNet's coarsest pyramid level is 1/32 of it).
    # the exported graph's smallest height and width (torch.export's dynamic dims start here;
    # the PyTorch generator also takes smaller frames)
    min_size = 32

    def __init__(self, generator: nn.Module, cleaning_passes: int = 1) -> None:
        super().__init__()
        if isinstance(generator, RealBasicVSRNet):
            self.image_cleaning = generator.image_cleaning
            self.basicvsr = generator.basicvsr
        elif isinstance(generator, BasicVSRNet):
            self.image_cleaning = None
            self.basicvsr = generator
            cleaning_passes = 0
        else:
            raise TypeError('expected mmrbvsr.RealBasicVSRNet or mmrbvsr.BasicVSRNet, got '
                            f'{type(generator).__module__}.{type(generator).__name__} (an '
                            "MMagic RealBasicVSRNet's weights load into mmrbvsr's as they are)")
        if isinstance(cleaning_passes, bool) or not isinstance(cleaning_passes, int) or \
                cleaning_passes < (1 if self.image_cleaning is not None else 0):
            raise ValueError(f'cleaning_passes must be an int >= 1, got {cleaning_passes!r}')
        self.cleaning_passes = cleaning_passes
        self.upscale_factor = self.basicvsr.upscale_factor

    def forward(self, lqs: Tensor) -> Tensor:
        """Cleans and super-resolves ``(n, t, 3, h, w)`` clips, h and w at least 32.

        Returns:
            Tensor: ``(n, t, 3, s*h, s*w)``, s the upscale factor.
        """
        # the fast paths' ops (NNPACK, Triton epilogues) have no export form; the loop
        # bodies are traced even in eager mode
        with switched(**FAST_PATHS_OFF):
            frames = lqs.transpose(0, 1)  # (t, n, 3, h, w): the loops run over dim 0
            if self.cleaning_passes:
                frames = self.clean(frames)
            t = frames.shape[0]
            # each frame's neighbours, the clip's ends their own (the module's docstring)
            index = torch.arange(t, device=frames.device)
            following = frames.index_select(0, (index + 1).clamp(max=t - 1))
            preceding = frames.index_select(0, (index - 1).clamp(min=0))
            feats_backward = self.propagate_backward(frames, following)
            outputs = self.propagate_forward(frames, preceding, feats_backward)
            return outputs.transpose(0, 1)

    def clean(self, frames: Tensor) -> Tensor:
        """``cleaning_passes`` passes of the cleaning module over ``(t, n, 3, h, w)``,
        one frame per step."""

        def step(previous: Tensor, frame: Tensor) -> Tuple[Tensor, Tensor]:
            for _ in range(self.cleaning_passes):
                frame = frame + self.image_cleaning(frame)
            # a scan needs a carry: the last cleaned frame (unused)
            return frame, frame.clone()

        return scan(step, torch.zeros_like(frames[0]), frames)[1]

    def propagate_backward(self, frames: Tensor, following: Tensor) -> Tensor:
        """The backward branch, last frame first: features ``(t, n, c, h, w)``."""
        basicvsr = self.basicvsr
        _, n, _, h, w = frames.shape

        def step(feat: Tensor, inputs: Tuple[Tensor, Tensor]) -> Tuple[Tensor, Tensor]:
            frame, after = inputs
            flow = spynet_flow(basicvsr.spynet, frame, after)
            feat = basicvsr.propagate('backward', frame, feat, flow).contiguous()
            return feat, feat.clone()  # no output may alias another

        init = frames.new_zeros(n, basicvsr.mid_channels, h, w)
        return scan(step, init, (frames, following), reverse=True)[1]

    def propagate_forward(self, frames: Tensor, preceding: Tensor,
                          feats_backward: Tensor) -> Tensor:
        """The forward branch, each frame reconstructed at its step: ``(t, n, 3, sh, sw)``."""
        basicvsr = self.basicvsr
        _, n, _, h, w = frames.shape

        def step(feat: Tensor,
                 inputs: Tuple[Tensor, Tensor, Tensor]) -> Tuple[Tensor, Tensor]:
            frame, before, feat_backward = inputs
            flow = spynet_flow(basicvsr.spynet, frame, before)
            feat = basicvsr.propagate('forward', frame, feat, flow).contiguous()
            return feat, basicvsr.upsample(feat_backward, feat, frame)

        init = frames.new_zeros(n, basicvsr.mid_channels, h, w)
        return scan(step, init, (frames, preceding, feats_backward))[1]
