"""REDS preparation on a tiny synthetic download, read back by the stage-1 config's dataset."""
import subprocess
import sys
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from mmengine.config import Config

from mmrbvsr.datasets.reds import crop_positions, find_reds_clips, prepare_reds

REPO = Path(__file__).resolve().parents[2]
STAGE1 = REPO / 'configs/realbasicvsr/realbasicvsr_wogan-c64b20-2x30x8_8xb2-lr1e-4-300k_reds.py'
TOOL = REPO / 'tools/dataset_converters/reds/preprocess_reds_dataset.py'
H, W, CROP, STEP = 40, 72, 32, 16
NUM_FRAMES = 15  # the stage configs load 15 frames per sample
# rows [0, 8], columns [0, 16, 32, 40]: the last row and column flush with the edges
SUB_CLIPS = 8


def frame(clip: int, index: int) -> np.ndarray:
    rng = np.random.default_rng(1000 * clip + index)
    return rng.integers(0, 256, (H, W, 3), dtype=np.uint8)


def make_reds(root: Path) -> Path:
    """train_sharp as extracted by unzipping (train/train_sharp/<clip>), val_sharp as a zip."""
    for clip in (0, 1):
        folder = root / 'train' / 'train_sharp' / f'{clip:03d}'
        folder.mkdir(parents=True)
        for i in range(NUM_FRAMES):
            cv2.imwrite(str(folder / f'{i:08d}.png'), frame(clip, i))
    with zipfile.ZipFile(root / 'val_sharp.zip', 'w') as zf:
        for i in range(NUM_FRAMES):
            ok, png = cv2.imencode('.png', frame(100, i))
            zf.writestr(f'val/val_sharp/000/{i:08d}.png', png.tobytes())
    return root


def read_dataset(data_root: Path):
    """The stage-1 config's training dataset, with its loading transforms only."""
    from mmagic.registry import DATASETS
    from mmengine.registry import init_default_scope
    init_default_scope('mmagic')
    cfg = Config.fromfile(str(STAGE1)).train_dataloader.dataset
    loading = [t for t in cfg.pipeline
               if t['type'].split('.')[-1] in ('GenerateSegmentIndices', 'LoadImageFromFile')]
    assert [t['type'] for t in loading] == ['GenerateSegmentIndices', 'mmrbvsr.LoadImageFromFile']
    cfg.update(data_root=str(data_root), pipeline=loading)
    return DATASETS.build(cfg)


def test_crop_positions_match_mmagic_crop_sub_images():
    # MMagic's REDS settings on a 720x1280 frame: 2 rows, 5 columns (the last flush)
    assert crop_positions(720, 480, 240) == [0, 240]
    assert crop_positions(1280, 480, 240) == [0, 240, 480, 720, 800]
    assert crop_positions(1280, 480, 240, thresh_size=80) == [0, 240, 480, 720]
    with pytest.raises(ValueError, match='smaller than crop_size=480'):
        crop_positions(360, 480, 240)


def test_prepared_reds_is_what_the_stage_config_reads(tmp_path):
    root = make_reds(tmp_path / 'REDS')
    summary = prepare_reds(str(root), crop_size=CROP, step=STEP)
    assert (summary.clips, summary.written, summary.sub_clips) == (3, 3, 3 * SUB_CLIPS)
    out = root / 'train_sharp_sub'
    assert sorted(p.name for p in out.iterdir()) == [
        f'{clip}_s{i:03d}' for clip in ('000', '001', '240') for i in range(1, SUB_CLIPS + 1)]
    assert not (root / 'train_sharp_sub.partial').exists()

    dataset = read_dataset(root)
    assert len(dataset) == 3 * SUB_CLIPS
    boxes = [(y, x) for y in (0, 8) for x in (0, 16, 32, 40)]
    for index in (0, 13, len(dataset) - 1):
        sample = dataset[index]
        clip, sub = sample['key'].split('_s')
        source = {'000': 0, '001': 1, '240': 100}[clip]  # val clip 000 became 240
        y, x = boxes[int(sub) - 1]
        assert len(sample['gt']) == NUM_FRAMES
        for i, img in enumerate(sample['gt']):  # RGB, as the config loads it
            expected = frame(source, i)[y:y + CROP, x:x + CROP, ::-1]
            np.testing.assert_array_equal(img, expected)


def test_an_interrupted_run_resumes(tmp_path):
    root = make_reds(tmp_path / 'REDS')
    prepare_reds(str(root), crop_size=CROP, step=STEP)
    out = root / 'train_sharp_sub'
    before = {p: p.read_bytes() for p in out.rglob('*.png')}
    # as if stopped while moving clip 001's sub-clips into place
    for sub in ('001_s005', '001_s006', '001_s007', '001_s008'):
        for p in (out / sub).iterdir():
            p.unlink()
        (out / sub).rmdir()
    summary = prepare_reds(str(root), crop_size=CROP, step=STEP)
    assert (summary.written, summary.skipped, summary.sub_clips) == (1, 2, SUB_CLIPS)
    assert {p: p.read_bytes() for p in out.rglob('*.png')} == before


def test_train_only_and_missing_download(tmp_path):
    root = make_reds(tmp_path / 'REDS')
    assert [c.name for c in find_reds_clips(str(root), include_val=False)] == ['000', '001']
    (tmp_path / 'empty').mkdir()
    with pytest.raises(FileNotFoundError, match='no REDS train_sharp clips'):
        prepare_reds(str(tmp_path / 'empty'), crop_size=CROP, step=STEP)
    with pytest.raises(FileNotFoundError, match='REDS folder not found'):
        prepare_reds(str(tmp_path / 'missing'))


def test_frames_of_different_sizes_are_refused(tmp_path):
    root = make_reds(tmp_path / 'REDS')
    cv2.imwrite(str(root / 'train' / 'train_sharp' / '001' / '00000003.png'),
                np.zeros((H, W + 8, 3), np.uint8))
    with pytest.raises(ValueError, match='frame 00000003.png is 80x40, the first frame 72x40'):
        prepare_reds(str(root), crop_size=CROP, step=STEP)
    # the clip cropped before the error is complete; nothing of clip 001 is in place
    out = root / 'train_sharp_sub'
    assert sorted({p.name.split('_')[0] for p in out.iterdir()}) == ['000']


def test_tool_command_line(tmp_path):
    root = make_reds(tmp_path / 'REDS')
    res = subprocess.run([sys.executable, str(TOOL), '--root-path', str(root), '--crop-size',
                          str(CROP), '--step', str(STEP), '--n-thread', '2', '--no-val'],
                         capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert f'2 clips, 2 cropped into {2 * SUB_CLIPS} sub-clips' in res.stdout
    assert len(list((root / 'train_sharp_sub').iterdir())) == 2 * SUB_CLIPS
