"""BasicVSR: bidirectional recurrent propagation with SPyNet alignment."""
import logging
from functools import partial
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseModule
from torch import Tensor

from mmrbvsr.ops import (
    CHANNEL_ALIGN,
    Conv2d,
    GraphCache,
    flow_warp,
    graphed_call,
    graphs_usable,
)
from mmrbvsr.registry import MODELS

from .blocks import (
    GroupedResidualBlocks,
    PixelShufflePack,
    ResidualBlocksWithInputConv,
    to_channels_last,
)
from .spynet import SPyNet

UPSCALE_FACTORS = (2, 4)
# most LR pixels (frames x h x w) that SPyNet and the cleaning module take in one batched
# call: all frames of a training clip (58 pairs of 64x64), 4 frames at 180x320, so that
# their activations' memory does not grow with the clip's length; on a GPU 36 frames at
# 180x320 (fewer, larger launches; ~1 GB of activations in fp32)
BATCH_PIXELS = 2**18
BATCH_PIXELS_CUDA = 2**21


def batch_pixels(x: Tensor) -> int:
    """``BATCH_PIXELS`` for a tensor on the CPU, ``BATCH_PIXELS_CUDA`` on a GPU."""
    return BATCH_PIXELS_CUDA if x.is_cuda else BATCH_PIXELS


def in_batches(fn, tensors: Tuple[Tensor, ...], max_pixels: int) -> Tensor:
    """``fn(*tensors)`` on slices along dim 0 of at most ``max_pixels`` pixels, concatenated."""
    h, w = tensors[0].shape[-2:]
    size = max(1, max_pixels // (h * w))
    if tensors[0].shape[0] <= size:
        return fn(*tensors)
    return torch.cat([fn(*parts) for parts in zip(*(x.split(size) for x in tensors))])


def check_lqs(lqs: Tensor, min_size: int = 1, name: str = 'lqs') -> None:
    """Raises ``ValueError`` unless ``lqs`` is an ``(n, t, 3, h, w)`` float clip batch.

    Args:
        lqs (Tensor): The input to check.
        min_size (int): Smallest allowed height and width. Default: 1.
        name (str): How the input is called in the message. Default: ``'lqs'``.
    """
    if not isinstance(lqs, Tensor):
        raise TypeError(f'{name} must be a Tensor of shape (n, t, 3, h, w), got {type(lqs)}')
    shape = tuple(lqs.shape)
    if lqs.dim() != 5 or shape[2] != 3:
        raise ValueError(f'{name} must have shape (n, t, 3, h, w) (RGB clips), got {shape}')
    if 0 in shape[:2]:
        raise ValueError(f'{name} needs at least one clip and one frame, got shape {shape}')
    if shape[3] < min_size or shape[4] < min_size:
        raise ValueError(f'{name} height and width must be at least {min_size}, '
                         f'got shape {shape}')
    if not lqs.is_floating_point():
        raise TypeError(f'{name} must be a float tensor in [0, 1], got dtype {lqs.dtype}')


@MODELS.register_module()
class BasicVSRNet(BaseModule):
    """BasicVSR network for video super-resolution, x4 (MMagic's layout) or x2.

    Paper: BasicVSR: The Search for Essential Components in Video Super-Resolution
    and Beyond, CVPR 2021. State-dict keys match MMagic's ``BasicVSRNet``; the x2
    variant has no ``upsample2`` (and its ``upsample1`` outputs 64 channels), so with
    ``mid_channels=64`` every other x4 key loads into it.

    Args:
        mid_channels (int): Channel number of the intermediate features. Default: 64.
        num_blocks (int): Number of residual blocks in each propagation branch.
            Default: 30.
        spynet_pretrained (str, optional): Path or URL of a SPyNet checkpoint.
            Default: None.
        upscale_factor (int): 4 or 2. Default: 4.
        recon_pixels (int): LR pixels (clips x frames x h x w) reconstructed per
            batched call, at least one frame: frames are batched where they are
            small (training crops), one at a time where they are large, which bounds
            the memory of the HR features. Default: 16384 (4 frames of 64x64; a
            30-frame stage-1 step took 25.0 s with it, 28.2 s with 16 frames and
            25.2 s with one frame per call on a 2-core CPU).
        cuda_graphs (bool): On a GPU without autograd, replay SPyNet's batched
            call, each propagation step (warp, concatenation, residual blocks) and
            each reconstruction from a CUDA graph captured on its first use
            (``cuda_graph.py``; the graphs share one memory pool): same output, far
            fewer launches. Default: True.
        parallel_branches (bool, optional): Run step i of the backward branch
            (frame t-1-i) and step i of the forward branch (frame i) together, as
            grouped convs (``GroupedResidualBlocks``): the branches do not read each
            other's features before reconstruction, so the output is the same (up
            to the conv's rounding), with half the launches. None: on CUDA
            tensors only (on a 2-core CPU the grouped convs were ~10% slower in
            training, equal in inference). Default: None.
        init_cfg (dict, optional): MMEngine initialisation config. Default: None.
    """

    def __init__(self,
                 mid_channels: int = 64,
                 num_blocks: int = 30,
                 spynet_pretrained: Optional[str] = None,
                 upscale_factor: int = 4,
                 recon_pixels: int = 16384,
                 cuda_graphs: bool = True,
                 parallel_branches: Optional[bool] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if not isinstance(cuda_graphs, bool):
            raise TypeError(f'cuda_graphs must be a bool, got {cuda_graphs!r}')
        if parallel_branches not in (None, True, False):
            raise TypeError(f'parallel_branches must be None or a bool, got '
                            f'{parallel_branches!r}')
        if isinstance(recon_pixels, bool) or not isinstance(recon_pixels, int) \
                or recon_pixels < 1:
            raise ValueError(f'recon_pixels must be an int >= 1, got {recon_pixels!r}')
        if upscale_factor not in UPSCALE_FACTORS:
            raise ValueError(f'upscale_factor must be one of {UPSCALE_FACTORS}, '
                             f'got {upscale_factor!r}')
        if int(num_blocks) != num_blocks or num_blocks < 0:
            raise ValueError(f'num_blocks must be a non-negative int, got {num_blocks!r}')
        self.mid_channels = mid_channels
        self.upscale_factor = upscale_factor
        self.recon_pixels = recon_pixels
        self.cuda_graphs = cuda_graphs
        self.parallel_branches = parallel_branches
        self._graphs = GraphCache()  # at most ops.cuda_graph.MAX_GRAPHS captures
        # the grouped weights for calls without autograd: one entry, replaced on change
        self._grouped = GraphCache()

        # optical flow network for feature alignment
        self.spynet = SPyNet(pretrained=spynet_pretrained)

        # propagation branches
        self.backward_resblocks = ResidualBlocksWithInputConv(
            mid_channels + 3, mid_channels, num_blocks)
        self.forward_resblocks = ResidualBlocksWithInputConv(
            mid_channels + 3, mid_channels, num_blocks)

        # reconstruction: fusion, pixel-shuffle x2 once (x2) or twice (x4)
        self.fusion = Conv2d(mid_channels * 2, mid_channels, 1, 1, 0, bias=True)
        if upscale_factor == 4:
            self.upsample1 = PixelShufflePack(mid_channels, mid_channels, 2, upsample_kernel=3)
            self.upsample2 = PixelShufflePack(mid_channels, 64, 2, upsample_kernel=3)
        else:
            self.upsample1 = PixelShufflePack(mid_channels, 64, 2, upsample_kernel=3)
            self.upsample2 = None
        self.conv_hr = Conv2d(64, 64, 3, 1, 1)
        self.conv_last = Conv2d(64, 3, 3, 1, 1)
        self.img_upsample = nn.Upsample(
            scale_factor=upscale_factor, mode='bilinear', align_corners=False)
        for layer in (self.fusion, self.upsample1, self.upsample2, self.conv_hr, self.conv_last):
            if layer is not None:
                to_channels_last(layer)

        self._raised_warning = False

    @staticmethod
    def mirrored_clips(lqs: Tensor) -> Tensor:
        """Which clips are mirror-extended (frame i equals frame t-1-i, t even).

        Returns:
            Tensor: A bool tensor of shape ``(n,)``.
        """
        n, t = lqs.shape[:2]
        if t % 2 != 0:
            return torch.zeros(n, dtype=torch.bool, device=lqs.device)
        first, second = lqs[:, :t // 2], lqs[:, t // 2:].flip(1)
        return (first == second).flatten(1).all(dim=1)

    def check_if_mirror_extended(self, lrs: Tensor) -> None:
        """Sets ``self.is_mirror_extended``: whether every clip of ``lrs`` (n, t, c, h, w)
        is mirror-extended (MMagic's method; :meth:`compute_flow` decides per clip)."""
        self.is_mirror_extended = bool(self.mirrored_clips(lrs).all())

    def compute_flow(self, lrs: Tensor) -> Tuple[Tensor, Tensor]:
        """SPyNet flows between neighbours, all pairs in one batched call.

        On a mirror-extended clip the forward flows equal the flipped backward
        flows, so only the backward ones are computed for it.

        Args:
            lrs (Tensor): LR frames, shape ``(n, t, 3, h, w)`` with ``t > 1``.

        Returns:
            tuple[Tensor, Tensor]: ``flows_forward`` (frame i to i-1, used in the
            forward pass) and ``flows_backward`` (frame i to i+1), each
            ``(n, t - 1, 2, h, w)``.
        """
        lqs = lrs  # MMagic's argument name
        n, t, c, h, w = lqs.size()
        lqs_1 = lqs[:, :-1]
        lqs_2 = lqs[:, 1:]
        mirrored = self.mirrored_clips(lqs)
        todo = (~mirrored).nonzero().flatten()
        num_todo = todo.numel()

        refs, supps = [lqs_1.reshape(-1, c, h, w)], [lqs_2.reshape(-1, c, h, w)]
        if num_todo == n:
            refs.append(lqs_2.reshape(-1, c, h, w))
            supps.append(lqs_1.reshape(-1, c, h, w))
        elif num_todo > 0:
            refs.append(lqs_2[todo].reshape(-1, c, h, w))
            supps.append(lqs_1[todo].reshape(-1, c, h, w))
        ref = torch.cat(refs) if len(refs) > 1 else refs[0]
        supp = torch.cat(supps) if len(supps) > 1 else supps[0]
        flows = in_batches(self.flow, (ref, supp), batch_pixels(ref))

        flows_backward = flows[:n * (t - 1)].view(n, t - 1, 2, h, w)
        if num_todo == n:
            flows_forward = flows[n * (t - 1):].view(n, t - 1, 2, h, w)
        else:
            flows_forward = flows_backward.flip(1)
            if num_todo > 0:
                computed = flows[n * (t - 1):].view(num_todo, t - 1, 2, h, w)
                flows_forward = flows_forward.index_copy(0, todo, computed)
        return flows_forward, flows_backward

    def flow(self, ref: Tensor, supp: Tensor) -> Tensor:
        """``self.spynet(ref, supp)``, replayed from a CUDA graph where usable (its
        coarse levels are a few microseconds of GPU work per launch)."""
        if self.cuda_graphs and graphs_usable(ref, supp):
            params = list(self.spynet.parameters()) + list(self.spynet.buffers())
            return graphed_call(self._graphs, 'spynet', self.spynet, params, ref, supp)
        return self.spynet(ref, supp)

    def _propagate(self, resblocks: nn.Module, lq: Tensor, feat: Tensor,
                   flow: Optional[Tensor] = None) -> Tensor:
        if flow is not None:
            feat = flow_warp(feat, flow.permute(0, 2, 3, 1))
        return resblocks(torch.cat([lq, feat], dim=1))

    def propagate(self, branch: str, lq: Tensor, feat: Tensor,
                  flow: Optional[Tensor] = None) -> Tensor:
        """One propagation step: warps ``feat`` with ``flow`` (if given), then refines.

        Args:
            branch (str): ``'backward'`` or ``'forward'``.
            lq (Tensor): The current LR frames ``(n, 3, h, w)``.
            feat (Tensor): The previous step's features ``(n, c, h, w)``.
            flow (Tensor, optional): Flow to the previous frame ``(n, 2, h, w)``.

        Returns:
            Tensor: The new features ``(n, c, h, w)``.
        """
        resblocks = getattr(self, f'{branch}_resblocks')
        inputs = (lq, feat) if flow is None else (lq, feat, flow)
        if self.cuda_graphs and graphs_usable(*inputs):
            return graphed_call(self._graphs, branch, partial(self._propagate, resblocks),
                                resblocks.parameters(), *inputs)
        return self._propagate(resblocks, *inputs)

    def grouped_resblocks(self, x: Tensor) -> GroupedResidualBlocks:
        """Both branches' residual blocks as one grouped stack, for input like ``x``.

        Built at each call under autograd (the concatenation carries the gradients);
        without it, kept while the parameters' storage and versions stay the same.
        """
        stacks = (self.backward_resblocks, self.forward_resblocks)
        dtype = (torch.get_autocast_dtype(x.device.type)
                 if torch.is_autocast_enabled(x.device.type) else None)
        # on a GPU, the 3 + mid input channels padded to a multiple of 8 (zeros after
        # the LR frame's 3, see propagate_both)
        count = -(3 + self.mid_channels) % CHANNEL_ALIGN if x.is_cuda else 0
        zeros_at = (3, count) if count else None
        if torch.is_grad_enabled():
            return GroupedResidualBlocks(stacks, dtype, zeros_at)
        params = [p for s in stacks for p in s.parameters()]
        key = (dtype, zeros_at,
               tuple((p.data_ptr(), p._version, p.dtype, p.device) for p in params))
        if key not in self._grouped:
            self._grouped.clear()
            self._grouped[key] = GroupedResidualBlocks(stacks, dtype, zeros_at)
        return self._grouped[key]

    def _propagate_both(self, grouped: GroupedResidualBlocks, lq_backward: Tensor,
                        lq_forward: Tensor, feat: Tensor,
                        flow: Optional[Tensor] = None) -> Tensor:
        n, c = feat.shape[0], feat.shape[1] // 2
        feat_backward, feat_forward = feat[:, :c], feat[:, c:]
        if flow is not None:  # both warps in one call: (2n, c, h, w)
            warped = flow_warp(torch.cat([feat_backward, feat_forward]),
                               flow.permute(0, 2, 3, 1),
                               memory_format=torch.channels_last)
            feat_backward, feat_forward = warped[:n], warped[n:]
        # channels-last parts give a channels-last input: no reordering pass after
        return grouped(torch.cat([lq_backward, feat_backward, lq_forward, feat_forward], 1))

    def propagate_both(self, grouped: GroupedResidualBlocks, lq_backward: Tensor,
                       lq_forward: Tensor, feat: Tensor,
                       flow: Optional[Tensor] = None) -> Tensor:
        """One step of both branches together (``parallel_branches``).

        Args:
            grouped (GroupedResidualBlocks): From ``grouped_resblocks``.
            lq_backward (Tensor): The backward branch's current LR frames ``(n, 3, h, w)``,
                or ``(n, 3 + k, h, w)`` with k zero channels where ``grouped.zeros_at``
                is ``(3, k)`` (``padded_frames``).
            lq_forward (Tensor): The forward branch's current LR frames.
            feat (Tensor): The previous step's features ``(n, 2c, h, w)``: the
                backward branch's channels, then the forward branch's.
            flow (Tensor, optional): Flows to the previous frames ``(2n, 2, h, w)``,
                the backward branch's first.

        Returns:
            Tensor: The new features ``(n, 2c, h, w)``, laid out as ``feat``.
        """
        inputs = (lq_backward, lq_forward, feat) + ((flow, ) if flow is not None else ())
        if self.cuda_graphs and graphs_usable(*inputs):
            return graphed_call(self._graphs, 'both', partial(self._propagate_both, grouped),
                                grouped.parameters(), *inputs)
        return self._propagate_both(grouped, *inputs)

    def upsample(self, feat_backward: Tensor, feat_forward: Tensor, lq: Tensor) -> Tensor:
        """Fuses the two branches of a batch of frames and reconstructs the HR frames.

        Args:
            feat_backward (Tensor): Backward-branch features ``(b, c, h, w)``.
            feat_forward (Tensor): Forward-branch features ``(b, c, h, w)``.
            lq (Tensor): The LR frames ``(b, 3, h, w)``.

        Returns:
            Tensor: HR frames ``(b, 3, s*h, s*w)``, contiguous (NCHW).
        """
        # each LeakyReLU is applied by the conv before it (fused on a GPU)
        out = self.fusion(torch.cat([feat_backward, feat_forward], dim=1), act='leaky_relu')
        out = self.upsample1(out, act='leaky_relu')
        if self.upsample2 is not None:
            out = self.upsample2(out, act='leaky_relu')
        out = self.conv_hr(out, act='leaky_relu')
        out = self.conv_last(out).contiguous()  # back from channels-last (3 channels)
        return out.add_(self.img_upsample(lq))

    def reconstruct(self, feats_backward: List[Tensor], feats_forward: List[Tensor],
                    lqs: Tensor) -> Tensor:
        """Reconstructs a chunk of ``k`` frames in one batched call.

        Args:
            feats_backward (list[Tensor]): ``k`` backward-branch features ``(n, c, h, w)``.
            feats_forward (list[Tensor]): ``k`` forward-branch features ``(n, c, h, w)``.
            lqs (Tensor): The chunk's LR frames ``(n, k, 3, h, w)``.

        Returns:
            Tensor: HR frames ``(n, k, 3, s*h, s*w)``.
        """
        n, k = lqs.shape[:2]
        # frame-major batch (k * n): concatenating channels-last features keeps the layout
        if k == 1:
            back, fwd = feats_backward[0], feats_forward[0]
        else:
            back, fwd = torch.cat(feats_backward), torch.cat(feats_forward)
        inputs = (back, fwd, lqs.transpose(0, 1).flatten(0, 1))
        if self.cuda_graphs and graphs_usable(*inputs):  # ~12 launches a frame at once
            layers = (self.fusion, self.upsample1, self.upsample2, self.conv_hr, self.conv_last)
            params = [p for m in layers if m is not None for p in m.parameters()]
            out = graphed_call(self._graphs, 'reconstruct', self.upsample, params, *inputs)
        else:
            out = self.upsample(*inputs)
        return out.view(k, n, *out.shape[1:]).transpose(0, 1)

    def forward(self, lrs: Tensor) -> Tensor:
        """Super-resolves LR clips.

        Args:
            lrs (Tensor): LR clips, shape ``(n, t, 3, h, w)``, RGB in [0, 1]. Frames
                below 64x64 work (SPyNet upsizes them to a multiple of 32) and log a
                warning once, as MMagic's.

        Returns:
            Tensor: HR clips, shape ``(n, t, 3, s*h, s*w)`` with s the upscale factor.
        """
        lqs = lrs  # MMagic's argument name
        check_lqs(lqs)
        n, t, c, h, w = lqs.size()
        if (h < 64 or w < 64) and not self._raised_warning:
            print_log(f'{self.__class__.__name__} is designed for input larger than 64x64, '
                      f'but the resolution of current image is {h}x{w}. We recommend you to '
                      'check your input.', 'current', logging.WARNING)
            self._raised_warning = True

        flows = self.compute_flow(lqs) if t > 1 else None
        parallel = self.parallel_branches
        if parallel if parallel is not None else lqs.is_cuda:
            return self._forward_parallel(lqs, flows)
        return self._forward_sequential(lqs, flows)

    def _chunk(self, lqs: Tensor) -> int:
        """Frames reconstructed per batched call (``recon_pixels``)."""
        n, _, _, h, w = lqs.shape
        return max(1, self.recon_pixels // (n * h * w))

    def _forward_sequential(self, lqs: Tensor,
                            flows: Optional[Tuple[Tensor, Tensor]]) -> Tensor:
        """The backward branch over the whole clip, then the forward branch."""
        n, t, c, h, w = lqs.size()
        flows_forward, flows_backward = flows if flows is not None else (None, None)

        # backward-time propagation
        feats_backward: List[Tensor] = [None] * t
        feat_prop = lqs.new_zeros(n, self.mid_channels, h, w)
        for i in range(t - 1, -1, -1):  # no warping for the last frame
            flow = flows_backward[:, i] if i < t - 1 else None
            feat_prop = self.propagate('backward', lqs[:, i], feat_prop, flow)
            feats_backward[i] = feat_prop

        # forward-time propagation; every `chunk` frames are reconstructed in one batched
        # call (MMagic: one frame at a time), bigger convs and fewer weight-gradient sums
        chunk = self._chunk(lqs)
        scale = self.upscale_factor
        outputs = lqs.new_empty(n, t, c, scale * h, scale * w)
        feats_forward: List[Tensor] = []
        feat_prop = lqs.new_zeros(n, self.mid_channels, h, w)
        start = 0
        for i in range(t):  # no warping for the first frame
            flow = flows_forward[:, i - 1] if i > 0 else None
            feat_prop = self.propagate('forward', lqs[:, i], feat_prop, flow)
            feats_forward.append(feat_prop)
            if len(feats_forward) == chunk or i == t - 1:
                outputs[:, start:i + 1] = self.reconstruct(
                    feats_backward[start:i + 1], feats_forward, lqs[:, start:i + 1])
                feats_backward[start:i + 1] = [None] * (i + 1 - start)  # free them
                feats_forward, start = [], i + 1
        return outputs

    @staticmethod
    def padded_frames(lqs: Tensor, count: int) -> Tensor:
        """``lqs`` ``(n, t, c, h, w)`` with ``count`` zero channels appended, each frame
        channels-last, in autocast's dtype where it is on (the conv would cast them)."""
        n, t, c, h, w = lqs.shape
        device = lqs.device.type
        dtype = (torch.get_autocast_dtype(device) if torch.is_autocast_enabled(device)
                 else lqs.dtype)
        padded = lqs.new_zeros(n, t, h, w, c + count, dtype=dtype)
        padded[..., :c] = lqs.permute(0, 1, 3, 4, 2)
        return padded.permute(0, 1, 4, 2, 3)

    def _forward_parallel(self, lqs: Tensor,
                          flows: Optional[Tuple[Tensor, Tensor]]) -> Tensor:
        """Step i runs backward step t-1-i and forward step i at once; frame j is
        reconstructed once both branches have passed it (after step max(j, t-1-j))."""
        n, t, c, h, w = lqs.size()
        grouped = self.grouped_resblocks(lqs)
        lq_in = lqs if grouped.zeros_at is None else self.padded_frames(
            lqs, grouped.zeros_at[1])
        if flows is not None:  # step i's flows: backward frame t-i to t-1-i, forward i to i-1
            flows_forward, flows_backward = flows
            flows = torch.cat([flows_backward.flip(1), flows_forward]).transpose(0, 1).contiguous()
        chunk, scale, mid = self._chunk(lqs), self.upscale_factor, self.mid_channels
        outputs = lqs.new_empty(n, t, c, scale * h, scale * w)
        steps: List[Optional[Tensor]] = [None] * t
        ready: List[Tuple[int, Tensor, Tensor]] = []  # (frame, backward, forward features)
        feat = lq_in.new_zeros(n, 2 * mid, h, w).contiguous(memory_format=torch.channels_last)
        for i in range(t):
            flow = flows[i - 1] if i > 0 else None
            feat = self.propagate_both(grouped, lq_in[:, t - 1 - i], lq_in[:, i], feat, flow)
            steps[i] = feat
            if 2 * i >= t - 1:  # frames i and t-1-i have both branches' features now
                for j in sorted({t - 1 - i, i}):
                    ready.append((j, steps[t - 1 - j][:, :mid], steps[j][:, mid:]))
                steps[i] = steps[t - 1 - i] = None
            while len(ready) >= chunk or (i == t - 1 and ready):
                batch, ready = ready[:chunk], ready[chunk:]
                frames = [j for j, _, _ in batch]
                # frames picked by slicing: an index tensor on a GPU would be a
                # host-to-device copy, which waits for the queued work
                out = self.reconstruct([b for _, b, _ in batch], [f for _, _, f in batch],
                                       torch.stack([lqs[:, j] for j in frames], 1))
                for k, j in enumerate(frames):
                    outputs[:, j] = out[:, k]
        return outputs
