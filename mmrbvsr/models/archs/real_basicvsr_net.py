"""RealBasicVSR generator: image pre-cleaning, then BasicVSR propagation."""
from typing import Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor

from mmrbvsr.ops import Conv2d
from mmrbvsr.registry import MODELS

from .basicvsr_net import BasicVSRNet, batch_pixels, check_lqs, in_batches
from .blocks import ResidualBlocksWithInputConv, to_channels_last


@MODELS.register_module()
class RealBasicVSRNet(BaseModule):
    """RealBasicVSR network for real-world video super-resolution.

    Paper: Investigating Tradeoffs in Real-World Video Super-Resolution, CVPR 2022.
    The image-cleaning module (residual blocks predicting a residue that is added
    to each frame) runs before a BasicVSR whose SPyNet is frozen. Cleaning is
    repeated (dynamic refinement) while the mean absolute residue of a clip is
    at least ``dynamic_refine_thres``, at most ``max_cleaning_passes`` times.

    State-dict keys match MMagic's ``RealBasicVSRNet`` (``image_cleaning.*``,
    ``basicvsr.*``). Differences from MMagic, none of which changes the result
    for one clip: refinement is decided per clip (MMagic averages over the whole
    batch), the caller's tensor is never written (MMagic's sequential cleaning
    writes into it), and x2 is available.

    Args:
        mid_channels (int): Channel number of the intermediate features. Default: 64.
        num_propagation_blocks (int): Residual blocks per propagation branch. Default: 20.
        num_cleaning_blocks (int): Residual blocks of the cleaning module. Default: 20.
        dynamic_refine_thres (float): Refinement threshold on the 0-255 scale; cleaning
            stops once a pass changes the clip by less than this on average. 255 (the
            default, as in every released config) means one pass; the paper uses 1.5.
        spynet_pretrained (str, optional): Path or URL of a SPyNet checkpoint. Default: None.
        is_fix_cleaning (bool): Freeze the cleaning module. Default: False.
        is_sequential_cleaning (bool): Clean frame by frame (less memory, slower).
            Default: False.
        max_cleaning_passes (int): Most cleaning passes (MMagic hard-codes 3). Default: 3.
        upscale_factor (int): 4 (the released models) or 2. Default: 4.
        cuda_graphs (bool): Replay the propagation steps from CUDA graphs on a GPU
            without autograd (see ``BasicVSRNet``). Default: True.
        parallel_branches (bool, optional): Run the two propagation branches' steps
            together as grouped convs (see ``BasicVSRNet``); None: on CUDA tensors.
            Default: None.
        init_cfg (dict, optional): MMEngine initialisation config. Default: None.

    Examples:
        >>> net = RealBasicVSRNet(mid_channels=16, num_propagation_blocks=1,
        ...                       num_cleaning_blocks=1)
        >>> net(torch.rand(1, 5, 3, 64, 64)).shape
        torch.Size([1, 5, 3, 256, 256])
        >>> net.clean(torch.rand(1, 5, 3, 64, 64)).shape  # the cleaning module alone
        torch.Size([1, 5, 3, 64, 64])
    """

    def __init__(self,
                 mid_channels: int = 64,
                 num_propagation_blocks: int = 20,
                 num_cleaning_blocks: int = 20,
                 dynamic_refine_thres: float = 255,
                 spynet_pretrained: Optional[str] = None,
                 is_fix_cleaning: bool = False,
                 is_sequential_cleaning: bool = False,
                 max_cleaning_passes: int = 3,
                 upscale_factor: int = 4,
                 cuda_graphs: bool = True,
                 parallel_branches: Optional[bool] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if not dynamic_refine_thres >= 0:
            raise ValueError('dynamic_refine_thres (0-255 scale) must be >= 0, '
                             f'got {dynamic_refine_thres!r}')
        if isinstance(max_cleaning_passes, bool) or not isinstance(max_cleaning_passes, int) \
                or max_cleaning_passes < 1:
            raise ValueError('max_cleaning_passes must be an int >= 1, '
                             f'got {max_cleaning_passes!r}')

        # on the [0, 1] scale of the input, like MMagic's attribute
        self.dynamic_refine_thres = dynamic_refine_thres / 255.
        self.max_cleaning_passes = max_cleaning_passes
        self.is_sequential_cleaning = is_sequential_cleaning
        self.is_fix_cleaning = is_fix_cleaning
        self.upscale_factor = upscale_factor

        # image cleaning module: predicts a residue added to the frame
        self.image_cleaning = nn.Sequential(
            ResidualBlocksWithInputConv(3, mid_channels, num_cleaning_blocks),
            Conv2d(mid_channels, 3, 3, 1, 1, bias=True),
        )
        to_channels_last(self.image_cleaning)
        if is_fix_cleaning:
            self.image_cleaning.requires_grad_(False)

        self.basicvsr = BasicVSRNet(
            mid_channels, num_propagation_blocks, spynet_pretrained,
            upscale_factor=upscale_factor, cuda_graphs=cuda_graphs,
            parallel_branches=parallel_branches)
        self.basicvsr.spynet.requires_grad_(False)

    def _clean_once(self, lqs: Tensor) -> Tuple[Tensor, Tensor]:
        """One cleaning pass over ``(n, t, 3, h, w)`` clips.

        Returns:
            tuple[Tensor, Tensor]: The cleaned clips and each clip's mean absolute
            residue, shape ``(n,)``.
        """
        n, t, c, h, w = lqs.size()
        if self.is_sequential_cleaning:
            # one frame at a time bounds the memory of the cleaning features
            residues = [self.image_cleaning(lqs[:, i]) for i in range(t)]
            residues = torch.stack(residues, dim=1)
            cleaned = lqs + residues
        else:
            flat = lqs.reshape(n * t, c, h, w)
            # in chunks of frames: the features' memory does not grow with the clip
            residues = in_batches(lambda f: self.image_cleaning(f).contiguous(), (flat,),
                                  batch_pixels(flat))
            cleaned = (flat + residues).view(n, t, c, h, w)
        residue_means = residues.abs().reshape(n, -1).mean(dim=1)
        return cleaned, residue_means

    def clean(self,
              lqs: Tensor,
              return_passes: bool = False) -> Union[Tensor, Tuple[Tensor, Tensor]]:
        """Cleans frames with the image-cleaning module and dynamic refinement.

        Usable on its own, e.g. to remove noise and compression artefacts
        without super-resolving. The input is not modified.

        Args:
            lqs (Tensor): Clips ``(n, t, 3, h, w)`` or single frames ``(n, 3, h, w)``
                (each frame then counts as a one-frame clip), RGB in [0, 1].
            return_passes (bool): Also return how many passes each clip got.
                Default: False.

        Returns:
            Tensor | tuple[Tensor, Tensor]: The cleaned frames, same shape as ``lqs``
            (not clamped to [0, 1]), and with ``return_passes`` an int tensor ``(n,)``.
        """
        frames = isinstance(lqs, Tensor) and lqs.dim() == 4
        if frames:
            lqs = lqs.unsqueeze(1)
        check_lqs(lqs)
        n = lqs.size(0)

        passes = torch.zeros(n, dtype=torch.long)
        active = torch.arange(n, device=lqs.device)  # clips still being refined
        for _ in range(self.max_cleaning_passes):
            if active.numel() == n:
                lqs, residue_means = self._clean_once(lqs)
            else:
                cleaned, residue_means = self._clean_once(lqs.index_select(0, active))
                lqs = lqs.index_copy(0, active, cleaned)
            passes[active.cpu()] += 1
            # a clip goes on while its last pass still changed it noticeably
            active = active[residue_means >= self.dynamic_refine_thres]
            if active.numel() == 0:
                break

        if frames:
            lqs = lqs.squeeze(1)
        return (lqs, passes) if return_passes else lqs

    def forward(self,
                lqs: Tensor,
                return_lqs: bool = False) -> Union[Tensor, Tuple[Tensor, Tensor]]:
        """Cleans, then super-resolves LR clips.

        Args:
            lqs (Tensor): LR clips, shape ``(n, t, 3, h, w)``, RGB in [0, 1] (frames
                below 64x64 log a warning, see ``BasicVSRNet``). Not modified.
            return_lqs (bool): Also return the cleaned LR clips (for the cleaning
                loss). Default: False.

        Returns:
            Tensor | tuple[Tensor, Tensor]: HR clips ``(n, t, 3, s*h, s*w)`` (s the
            upscale factor), and with ``return_lqs`` the cleaned clips.
        """
        check_lqs(lqs)
        lqs = self.clean(lqs)
        outputs = self.basicvsr(lqs)
        return (outputs, lqs) if return_lqs else outputs
