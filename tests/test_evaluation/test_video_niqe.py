import cv2
import numpy as np
import pytest
import torch

from mmrbvsr.evaluation import VIDEOLQ_FRAMES, VideoNIQE
from tests.conftest import DEMO_FRAMES


@pytest.fixture(scope='module')
def images():
    """Four different 192x192 BGR crops of real frames, as (3, h, w) float tensors."""
    paths = sorted(DEMO_FRAMES.glob('*.png'))[:2]
    crops = []
    for path in paths:
        image = cv2.imread(str(path))
        crops += [image[:192, :192], image[-192:, -192:]]
    return [torch.from_numpy(np.ascontiguousarray(c)).permute(2, 0, 1).float() for c in crops]


def reference(frame: torch.Tensor) -> float:
    from mmagic.evaluation.metrics.niqe import niqe
    return float(niqe(frame.numpy(), crop_border=0, input_order='CHW', convert_to='y'))


def test_paper_protocol_scores_frames_0_50_99(images):
    clip = torch.stack([images[3]] * 100)
    for index, image in zip(VIDEOLQ_FRAMES, images):
        clip[index] = image
    metric = VideoNIQE(all_frames=False)
    expected = np.mean([reference(image) for image in images[:3]])
    assert metric.score_clip(clip) == {'NIQE': pytest.approx(expected)}
    assert expected != pytest.approx(reference(images[3]))  # other frames would change it


def test_all_frames_and_clip_average(images):
    metric = VideoNIQE(frame_indices=(0, 2))
    clips = [torch.stack(images), torch.stack(images[::-1])]
    metric.process(None, [{'output': {'pred_img': clip}, 'key': f'clip{i}'}
                          for i, clip in enumerate(clips)])
    scores = [reference(image) for image in images]
    assert metric.results[0]['NIQE'] == pytest.approx((scores[0] + scores[2]) / 2)
    assert metric.results[1]['NIQE'] == pytest.approx((scores[3] + scores[1]) / 2)
    result = metric.compute_metrics(metric.results)
    assert result['NIQE_all'] == pytest.approx(np.mean(scores))
    assert result['NIQE'] == pytest.approx(np.mean(scores))  # each frame once over both clips


def test_short_clip_and_bad_arguments(images):
    with pytest.raises(ValueError, match=r"clip 'short' has 4 frames, but frames \[0, 50, 99\]"):
        VideoNIQE().score_clip(torch.stack(images), 'short')
    with pytest.raises(ValueError, match="convert_to must be 'y' or 'gray', got 'rgb'"):
        VideoNIQE(convert_to='rgb')
    with pytest.raises(ValueError, match='frame_indices'):
        VideoNIQE(frame_indices=(-1, ))


def test_mmagic_evaluator_builds_and_runs_it(images):
    from mmagic.evaluation import Evaluator
    from mmagic.structures import DataSample
    from mmengine.registry import DefaultScope

    with DefaultScope.overwrite_default_scope('mmagic'):
        evaluator = Evaluator(metrics=[dict(type='mmrbvsr.VideoNIQE', frame_indices=(1, ),
                                            prefix='VideoLQ')])

    class Loader:
        dataset = [0]

    evaluator.prepare_metrics(None, Loader())
    [(metrics, _)] = evaluator.prepare_samplers(None, Loader())
    sample = DataSample(key='clip')
    sample.output = DataSample(pred_img=torch.stack(images[:2]))
    evaluator.process([sample], None, metrics)
    result = evaluator.evaluate()
    assert result == {'VideoLQ/NIQE': pytest.approx(reference(images[1])),
                      'VideoLQ/NIQE_all': pytest.approx(np.mean([reference(i)
                                                                 for i in images[:2]]))}
