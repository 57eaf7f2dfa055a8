"""Unreadable training frames (named, or skipped and counted) and frames smaller than the crop."""
import logging
import pickle

import cv2
import numpy as np
import pytest
from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope
from torch.utils.data import DataLoader

from mmrbvsr.datasets.transforms import FrameTooSmallError, UnreadableFrameError
from mmrbvsr.registry import DATASETS, TRANSFORMS


def write_clips(root, sizes=((40, 48), (40, 48)), frames=3):
    """``root/<clip>/%08d.png``: one clip per size (h, w), smooth noise."""
    rng = np.random.default_rng(0)
    for c, (h, w) in enumerate(sizes):
        folder = root / f'{c:03d}'
        folder.mkdir(parents=True)
        for i in range(frames):
            image = cv2.GaussianBlur(rng.integers(0, 256, (h, w, 3), np.uint8), (0, 0), 1.5)
            cv2.imwrite(str(folder / f'{i:08d}.png'), image)
    return root


def truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


def dataset(root, on_error='raise', crop=None):
    pipeline = [
        dict(type='GenerateSegmentIndices', interval_list=[1]),
        dict(type='mmrbvsr.LoadImageFromFile', key='gt', channel_order='rgb',
             on_error=on_error),
    ]
    if crop is not None:
        pipeline.append(dict(type='mmrbvsr.FixedCrop', keys=['gt'], crop_size=crop))
    with DefaultScope.overwrite_default_scope('mmagic'):  # as in the configs
        return DATASETS.build(dict(
            type='BasicFramesDataset', data_root=str(root), data_prefix=dict(img='', gt=''),
            depth=1, num_input_frames=3, pipeline=pipeline))


@pytest.fixture
def log_records():
    """What ``print_log(..., logger='current')`` logs during the test."""
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def test_unreadable_frame_is_named_with_its_clip(tmp_path):
    root = write_clips(tmp_path)
    bad = root / '001' / '00000001.png'
    truncate(bad)
    data = pickle.loads(pickle.dumps(dataset(root)))  # as spawned DataLoader workers get it
    assert data[0]['gt'][0].shape == (40, 48, 3)
    with pytest.raises(UnreadableFrameError) as info:
        data[1]
    message = str(info.value)
    assert message.startswith(f"cannot read frame {str(bad)!r} (clip '001', sample 1): ")
    assert "on_error='skip'" in message and '--on-data-error skip' in message
    # a missing frame too
    (root / '000' / '00000002.png').unlink()
    with pytest.raises(UnreadableFrameError,
                       match=r"00000002.png' \(clip '000', sample 0\): no such file"):
        data[0]


def test_unreadable_frame_from_a_dataloader_worker(tmp_path):
    root = write_clips(tmp_path)
    bad = root / '000' / '00000002.png'
    truncate(bad)
    loader = DataLoader(dataset(root), batch_size=1, num_workers=1, collate_fn=lambda x: x)
    with pytest.raises(UnreadableFrameError, match=rf"cannot read frame {str(bad)!r} "
                       r"\(clip '000', sample 0\)"):
        next(iter(loader))


def test_skip_draws_another_sample_and_counts(tmp_path, log_records):
    from mmrbvsr.datasets.transforms.loading import LoadImageFromFile
    root = write_clips(tmp_path)
    bad = root / '001' / '00000000.png'
    bad.write_text('not an image')
    data = dataset(root, on_error='skip')
    before = LoadImageFromFile.skipped
    sample = data[1]
    assert sample['key'] == '000'  # MMEngine refetched random indices until one loaded
    skips = LoadImageFromFile.skipped - before
    messages = [r.getMessage() for r in log_records if r.levelno == logging.WARNING]
    assert skips >= 1 and len(messages) == skips
    for count, message in enumerate(messages, before + 1):
        assert message == (f"skipped an unreadable sample: cannot read frame {str(bad)!r} "
                           "(clip '001', sample 1): it cannot be decoded (truncated, corrupt "
                           f'or not an image); {count} sample(s) skipped by this process so far')


def test_on_error_is_checked():
    with DefaultScope.overwrite_default_scope('mmagic'):  # as in the configs
        with pytest.raises(ValueError, match="on_error must be one of .*'ignore'"):
            TRANSFORMS.build(dict(type='mmrbvsr.LoadImageFromFile', key='gt',
                                  on_error='ignore'))


def test_frames_smaller_than_the_crop_name_both_sizes(tmp_path):
    root = write_clips(tmp_path, sizes=((40, 48), (24, 48)))
    data = pickle.loads(pickle.dumps(dataset(root, crop=(32, 32))))
    assert [f.shape for f in data[0]['gt']] == [(32, 32, 3)] * 3
    with pytest.raises(FrameTooSmallError) as info:
        data[1]
    assert str(info.value) == (
        f"gt frames of clip '001' ({str(root / '001' / '00000000.png')!r}) are 48x24, smaller "
        'than the 32x32 crop (FixedCrop crop_size): use frames at least that large, or a '
        'smaller crop')


def test_a_missing_frame_is_a_file_not_found_error_as_in_mmagic(tmp_path):
    from mmrbvsr.datasets.transforms.loading import LoadImageFromFile
    loader = LoadImageFromFile('gt', channel_order='rgb')
    missing = tmp_path / '00000000.png'
    for error in (FileNotFoundError, UnreadableFrameError):
        with pytest.raises(error, match=str(missing)):
            loader(dict(gt_path=[str(missing)], key='000'))
