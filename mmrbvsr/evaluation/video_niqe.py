"""NIQE of restored videos with the VideoLQ protocol of the RealBasicVSR paper."""
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from mmrbvsr.registry import METRICS

# Frames the authors score on every VideoLQ clip (00000000, 00000050, 00000099.png).
VIDEOLQ_FRAMES = (0, 50, 99)


@METRICS.register_module()
class VideoNIQE(BaseMetric):
    """NIQE of restored clips, on chosen frames and optionally on all frames.

    The paper scores frames 0, 50 and 99 of each of the 50 VideoLQ clips on the Y channel
    (github.com/ckkelvinchan/RealBasicVSR/issues/22); MMagic's ``NIQE`` averages all frames.
    This metric reports both, computing each frame once with MMagic's NIQE (bundled pristine
    parameters, runs offline): ``NIQE`` is the mean over clips of the mean over
    ``frame_indices``, ``NIQE_all`` the same over all frames.

    Args:
        frame_indices (Sequence[int], optional): Frames scored for ``NIQE``. Defaults to
            ``(0, 50, 99)``. None scores all frames for ``NIQE``.
        all_frames (bool): Also report ``NIQE_all`` over every frame (slower). Defaults to True.
        key (str): Prediction key. Defaults to ``'pred_img'``.
        convert_to (str): ``'y'`` (YCbCr luma, the paper's) or ``'gray'``. The predictions are
            BGR, as MMagic's data preprocessor returns them. Defaults to ``'y'``.
        crop_border (int): Pixels cropped at each edge before scoring. Defaults to 0.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the metric names.

    Examples:
        >>> test_evaluator = dict(type='Evaluator', metrics=[
        ...     dict(type='mmrbvsr.VideoNIQE', frame_indices=(0, 50, 99), all_frames=True)])
    """

    SAMPLER_MODE = 'normal'  # read by MMagic's Evaluator to group metrics
    sample_model = 'orig'
    default_prefix = None

    def __init__(self, frame_indices: Optional[Sequence[int]] = VIDEOLQ_FRAMES,
                 all_frames: bool = True, key: str = 'pred_img', convert_to: str = 'y',
                 crop_border: int = 0, collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if convert_to.lower() not in ('y', 'gray'):
            raise ValueError(f"convert_to must be 'y' or 'gray', got {convert_to!r}")
        if frame_indices is not None and (len(frame_indices) == 0 or
                                          any(int(i) < 0 for i in frame_indices)):
            raise ValueError(f'frame_indices must be non-negative frame numbers or None, got '
                             f'{frame_indices}')
        self.frame_indices = None if frame_indices is None else [int(i) for i in frame_indices]
        self.all_frames = all_frames
        self.key = key
        self.convert_to = convert_to.lower()
        self.crop_border = crop_border

    def _frames(self, data_sample: dict) -> torch.Tensor:
        output = data_sample.get('output', data_sample)
        pred = output.get(self.key) if hasattr(output, 'get') else None
        if pred is None:
            raise KeyError(f'prediction {self.key!r} not found in the data sample')
        pred = torch.as_tensor(pred) if not isinstance(pred, torch.Tensor) else pred
        if pred.dim() == 3:
            pred = pred.unsqueeze(0)
        if pred.dim() != 4:
            raise ValueError(f'{self.key} must be (t, c, h, w) or (c, h, w), got '
                             f'{tuple(pred.shape)}')
        return pred.detach().float().cpu()

    def _score(self, frame: torch.Tensor) -> float:
        from mmagic.evaluation.metrics.niqe import niqe
        return float(niqe(frame.numpy(), crop_border=self.crop_border, input_order='CHW',
                          convert_to=self.convert_to))

    def score_clip(self, frames: torch.Tensor, name: str = 'clip') -> Dict[str, float]:
        """NIQE of one clip.

        Args:
            frames (Tensor): ``(t, c, h, w)`` BGR in [0, 255].
            name (str): The clip's name, for messages.

        Returns:
            dict: ``NIQE`` (on ``frame_indices``) and, with ``all_frames``, ``NIQE_all``.

        Raises:
            ValueError: If the clip is shorter than a requested frame index.
        """
        num = frames.size(0)
        if self.frame_indices is not None and max(self.frame_indices) >= num:
            raise ValueError(
                f'clip {name!r} has {num} frames, but frames {self.frame_indices} are scored '
                '(VideoLQ clips have 100); set frame_indices=None to score all frames')
        wanted = set(range(num)) if self.all_frames or self.frame_indices is None \
            else set(self.frame_indices)
        scores = {i: self._score(frames[i]) for i in sorted(wanted)}
        chosen = self.frame_indices if self.frame_indices is not None else range(num)
        result = {'NIQE': float(np.mean([scores[i] for i in chosen]))}
        if self.all_frames and self.frame_indices is not None:
            result['NIQE_all'] = float(np.mean(list(scores.values())))
        return result

    def process(self, data_batch: Optional[Sequence[dict]], data_samples: Sequence[dict]) -> None:
        """Scores each restored clip of a batch."""
        for data_sample in data_samples:
            name = str(data_sample.get('key', len(self.results)))
            self.results.append(self.score_clip(self._frames(data_sample), name))

    def compute_metrics(self, results: List[Dict[str, float]]) -> Dict[str, float]:
        """Averages the clip scores (each clip weighs the same, as in the paper)."""
        return {name: float(np.mean([r[name] for r in results])) for name in results[0]}

    def prepare(self, module: torch.nn.Module, dataloader) -> None:
        """Called by MMagic's Evaluator, which later calls ``evaluate()`` without a size."""
        self.size = len(dataloader.dataset)

    def get_metric_sampler(self, model: torch.nn.Module, dataloader, metrics):
        """MMagic's Evaluator asks each metric group for its sampler: the plain dataloader."""
        return dataloader

    def evaluate(self, size: Optional[int] = None) -> dict:
        """Averages over the ``size`` clips of the dataset (MMEngine's or MMagic's evaluator)."""
        if size is None:
            size = getattr(self, 'size', len(self.results))
        return super().evaluate(size)
