import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from tests.conftest import DEMO_FRAMES

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / 'configs/realbasicvsr/realbasicvsr_videolq_test.py'
TINY = ['model.generator.mid_channels=4', 'model.generator.num_propagation_blocks=1',
        'model.generator.num_cleaning_blocks=1']


def test_config_builds_generator_only_model():
    from mmengine.config import Config
    cfg = Config.fromfile(str(CONFIG))
    assert cfg.model.generator.spynet_pretrained is None
    assert 'discriminator' not in cfg.model and 'perceptual_loss' not in cfg.model
    assert cfg.test_evaluator.metrics == [dict(type='mmrbvsr.VideoNIQE',
                                               frame_indices=(0, 50, 99), all_frames=True,
                                               convert_to='y')]
    assert cfg.test_dataloader.dataset.pipeline[0].filename_tmpl == '{:08d}.png'


@pytest.fixture
def videolq_like(tmp_path):
    """Two clips of 4 real frames (demo_000, area-resized to 96x96) as <root>/<clip>/%08d.png."""
    frames = sorted(DEMO_FRAMES.glob('*.png'))[:8]
    for c, clip in enumerate(('000', '001')):
        (tmp_path / 'VideoLQ' / clip).mkdir(parents=True)
        for i, path in enumerate(frames[4 * c:4 * c + 4]):
            image = cv2.resize(cv2.imread(str(path)), (96, 96), interpolation=cv2.INTER_AREA)
            cv2.imwrite(str(tmp_path / 'VideoLQ' / clip / f'{i:08d}.png'), image)
    return tmp_path / 'VideoLQ'


def test_tools_test_reports_both_niqe_on_a_videolq_like_folder(videolq_like, tmp_path):
    from mmrbvsr.models.archs import RealBasicVSRNet
    torch.manual_seed(0)
    generator = RealBasicVSRNet(mid_channels=4, num_propagation_blocks=1,
                                num_cleaning_blocks=1).state_dict()
    state = {f'{prefix}.{k}': v for prefix in ('generator', 'generator_ema')
             for k, v in generator.items()}
    state['discriminator.conv_0.weight'] = torch.zeros(4, 3, 3, 3)  # ignored at test time
    torch.save({'meta': {}, 'state_dict': state}, tmp_path / 'tiny.pth')
    done = subprocess.run(
        [sys.executable, 'tools/test.py', str(CONFIG), str(tmp_path / 'tiny.pth'), '--work-dir',
         str(tmp_path / 'work'), '--cfg-options', *TINY,
         f'test_dataloader.dataset.data_root={videolq_like}',
         'test_evaluator.metrics.0.frame_indices=[0,3]'],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    logs = done.stdout + done.stderr
    found = {k: float(v) for k, v in
             (item.split(': ') for item in logs.split('Iter(test)')[-1].split('  ')
              if item.startswith('NIQE'))}
    assert set(found) == {'NIQE', 'NIQE_all'}
    assert all(np.isfinite(v) and v > 0 for v in found.values())
