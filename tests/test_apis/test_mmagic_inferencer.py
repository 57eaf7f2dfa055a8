"""MMagic's own inferencer (``MMagicInferencer``, ``demo/mmagic_inference_demo.py``) runs our
configs on a folder of low-quality frames: it reads the configs' ``demo_pipeline``."""
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / 'configs' / 'realbasicvsr'
STAGE2 = CONFIGS / 'realbasicvsr_c64b20-1x30x8_8xb1-lr5e-5-150k_reds.py'
VIDEOLQ = CONFIGS / 'realbasicvsr_videolq_test.py'
NUM_FRAMES, H, W = 4, 32, 40  # SPyNet needs 32 pixels or more


def tiny_config(path: Path, tmp_path: Path) -> Path:
    """``path`` with a tiny generator and no downloads, dumped as a config file."""
    cfg = Config.fromfile(str(path))
    cfg.merge_from_dict({
        'model.generator.mid_channels': 4,
        'model.generator.num_propagation_blocks': 1,
        'model.generator.num_cleaning_blocks': 1,
        'model.generator.spynet_pretrained': None,
    })
    if 'perceptual_loss' in cfg.model:
        cfg.model.perceptual_loss.pretrained = None
        cfg.model.discriminator.mid_channels = 4
    out = tmp_path / f'tiny_{path.name}'
    cfg.dump(str(out))
    return out


def random_checkpoint(config: Path, tmp_path: Path) -> Path:
    from mmagic.registry import MODELS
    from mmengine.registry import init_default_scope
    init_default_scope('mmagic')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(str(config)).model)
    for p in model.generator_ema.parameters():  # the EMA generator is the one that infers
        p.data.uniform_(-0.2, 0.2)
    ckpt = tmp_path / 'random.pth'
    torch.save({'state_dict': model.state_dict()}, ckpt)
    return ckpt


def write_frames(folder: Path) -> np.ndarray:
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (NUM_FRAMES, H, W, 3), dtype=np.uint8)
    folder.mkdir()
    for i, frame in enumerate(frames):
        cv2.imwrite(str(folder / f'{i:08d}.png'), frame[..., ::-1])  # stored as BGR
    return frames


def reference_output(config: Path, ckpt: Path, frames: np.ndarray) -> np.ndarray:
    """Our EMA generator on the RGB frames, as uint8 BGR images (what the inferencer saves)."""
    from mmagic.registry import MODELS
    model = MODELS.build(Config.fromfile(str(config)).model)
    model.load_state_dict(torch.load(ckpt, weights_only=True)['state_dict'])
    lqs = torch.from_numpy(frames).permute(0, 3, 1, 2)[None].float() / 255
    with torch.no_grad():
        out = model.generator_ema.eval()(lqs)[0]
    out = (out.clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).numpy()
    return out[..., ::-1]


def test_mmagic_inferencer_restores_a_folder_of_frames(tmp_path):
    from mmagic.apis import MMagicInferencer
    # the GAN config, as tools/restore_video.py takes it; the other configs inherit its pipelines
    cfg_path = tiny_config(STAGE2, tmp_path)
    assert Config.fromfile(str(cfg_path)).demo_pipeline[1]['key'] == 'img'
    ckpt = random_checkpoint(cfg_path, tmp_path)
    frames = write_frames(tmp_path / 'lq')
    # what demo/mmagic_inference_demo.py --model-name real_basicvsr --model-config ... does
    editor = MMagicInferencer(model_name='real_basicvsr', model_config=str(cfg_path),
                              model_ckpt=str(ckpt), device='cpu')
    editor.infer(video=str(tmp_path / 'lq'), result_out_dir=str(tmp_path / 'out'))
    written = sorted((tmp_path / 'out').glob('*.png'))
    assert [p.name for p in written] == [f'{i:08d}.png' for i in range(NUM_FRAMES)]
    out = np.stack([cv2.imread(str(p)) for p in written])
    assert out.shape == (NUM_FRAMES, 4 * H, 4 * W, 3)
    expected = reference_output(cfg_path, ckpt, frames)
    assert np.abs(out.astype(int) - expected.astype(int)).max() <= 1


def test_without_demo_pipeline_mmagic_falls_back_to_loading_gt(tmp_path):
    from mmagic.apis.inferencers.video_restoration_inferencer import VideoRestorationInferencer
    cfg = Config.fromfile(str(tiny_config(VIDEOLQ, tmp_path)))
    cfg.pop('demo_pipeline')
    write_frames(tmp_path / 'lq')
    inferencer = VideoRestorationInferencer(cfg, None, device='cpu')
    with pytest.raises(FileNotFoundError, match='00000000.png'):
        inferencer(video=str(tmp_path / 'lq'), result_out_dir=str(tmp_path / 'out'))
