import json

import cv2
import numpy as np
import pytest

from mmrbvsr.datasets.demo import camera_path, prepare_demo_data, resize_pipeline


def test_prepare_demo_data_layout(tmp_path):
    summary = prepare_demo_data(str(tmp_path), clips_per_image=1, num_frames=3, size=64,
                                num_val_frames=2, seed=1)
    assert summary['train'] == 9 and summary['val'] == 2
    assert json.loads((tmp_path / 'demo_data.json').read_text()) == summary
    clip = [cv2.imread(str(p)) for p in sorted((tmp_path / 'train' / '000').glob('*.png'))]
    assert len(clip) == 3 and clip[0].shape == (64, 64, 3)
    # the camera moves: consecutive frames differ but stay alike
    diff = np.abs(clip[0].astype(float) - clip[1].astype(float)).mean()
    assert 0.5 < diff < 60
    gt = cv2.imread(str(tmp_path / 'val' / 'GT' / '001' / '00000001.png'))
    lq = cv2.imread(str(tmp_path / 'val' / 'BIx4' / '001' / '00000001.png'))
    assert gt.shape == (64, 64, 3) and lq.shape == (16, 16, 3)
    # BIx4 is close to the block mean of the GT
    assert np.abs(lq - gt.reshape(16, 4, 16, 4, 3).mean((1, 3))).mean() < 12
    test_lq = cv2.imread(str(tmp_path / 'test' / 'LQ' / '000' / '00000000.png'))
    assert test_lq.shape == (32, 32, 3)


def test_prepare_is_deterministic(tmp_path):
    prepare_demo_data(str(tmp_path / 'a'), 1, 2, 32, 2, seed=3)
    prepare_demo_data(str(tmp_path / 'b'), 1, 2, 32, 2, seed=3)
    for p in sorted((tmp_path / 'a').rglob('*.png')):
        q = tmp_path / 'b' / p.relative_to(tmp_path / 'a')
        assert np.array_equal(cv2.imread(str(p)), cv2.imread(str(q)))


def test_camera_path_is_smooth():
    path = camera_path(20, np.random.default_rng(0))
    steps = np.diff(np.array(path)[:, :2], axis=0)
    assert np.abs(steps).max() < 10 and np.abs(steps).sum() > 1


def test_bad_sizes_raise(tmp_path):
    with pytest.raises(ValueError, match='30'):
        prepare_demo_data(str(tmp_path), size=30)
    with pytest.raises(ValueError, match='100'):
        resize_pipeline([], 100, scale=8)


def test_resize_pipeline_reaches_nested_transforms():
    pipeline = [dict(type='FixedCrop', crop_size=(256, 256)),
                dict(type='mmrbvsr.DegradationsWithShuffle', degradations=[
                    dict(type='X'),
                    [dict(type='mmrbvsr.RandomResize', params=dict(target_size=(64, 64)))]])]
    out = resize_pipeline(pipeline, 128)
    assert out[0]['crop_size'] == (128, 128)
    assert out[1]['degradations'][1][0]['params']['target_size'] == (32, 32)
    assert pipeline[0]['crop_size'] == (256, 256)  # the input is untouched
