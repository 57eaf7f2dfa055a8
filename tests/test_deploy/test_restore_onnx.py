"""tools/restore_video.py with the onnxruntime backend against the PyTorch backend."""
import importlib.util

import cv2
import numpy as np
import pytest
import torch

from mmrbvsr.deploy import ExportError, check_exported, export_onnx
from mmrbvsr.models.archs import RealBasicVSRNet

from ..test_apis.conftest import write_video
from .conftest import REPO, scene_frames

# a tiny x2 generator: the graph's x2 path, and restoration runs in seconds
TINY = dict(type='mmrbvsr.RealBasicVSRNet', mid_channels=4, num_propagation_blocks=1,
            num_cleaning_blocks=1, dynamic_refine_thres=255, upscale_factor=2)


@pytest.fixture(scope='module')
def tiny_model(tmp_path_factory):
    """Config, checkpoint (a bare state dict) and the graph exported from the two."""
    root = tmp_path_factory.mktemp('tiny')
    config = root / 'tiny.py'
    config.write_text(f'model = dict(generator={TINY!r})\n')
    torch.manual_seed(0)
    generator = RealBasicVSRNet(**{k: v for k, v in TINY.items() if k != 'type'})
    torch.save(generator.state_dict(), root / 'tiny.pth')
    path = export_onnx(config, root / 'tiny.pth', root / 'tiny.onnx')
    return config, root / 'tiny.pth', path


@pytest.fixture(scope='module')
def restore_cli():
    spec = importlib.util.spec_from_file_location('restore_video_cli',
                                                  REPO / 'tools' / 'restore_video.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def read_folder(folder):
    return np.stack([cv2.imread(str(p)) for p in sorted(folder.glob('*.png'))])


def test_onnxruntime_backend_gives_the_pytorch_video(tiny_model, restore_cli, tmp_path):
    config, checkpoint, onnx_path = tiny_model
    clip = write_video(tmp_path / 'in.mp4', scene_frames(11, 48, 56))
    # windows with crossfades and 40-pixel tiles: every path of VideoRestorer
    options = ['--window', '6', '--overlap', '2', '--tile', '40', '--tile-overlap', '8',
               '--no-progress']
    assert restore_cli([str(config), str(checkpoint), str(clip), str(tmp_path / 'pt'),
                        *options]) == 0
    assert restore_cli(['--backend', 'onnxruntime', '--onnx', str(onnx_path), str(clip),
                        str(tmp_path / 'ort'), *options]) == 0
    pt, ort = read_folder(tmp_path / 'pt'), read_folder(tmp_path / 'ort')
    assert pt.shape == ort.shape == (11, 96, 112, 3)
    assert np.abs(pt.astype(int) - ort.astype(int)).max() <= 1


@pytest.mark.parametrize('argv', [
    ['--backend', 'onnxruntime', 'in.mp4', 'out'],  # no --onnx
    ['--onnx', 'm.onnx', 'cfg.py', 'ckpt.pth', 'in.mp4', 'out'],  # config with a graph
    ['--backend', 'pytorch', '--onnx', 'm.onnx', 'in.mp4', 'out'],
    ['--onnx', 'm.onnx', '--refine-threshold', '1.5', 'in.mp4', 'out'],
    ['in.mp4', 'out'],  # the pytorch backend without config and checkpoint
])
def test_backend_options_are_checked(restore_cli, argv):
    with pytest.raises(SystemExit) as info:
        restore_cli(argv)
    assert info.value.code == 2


def test_bf16_and_missing_cuda_provider_are_refused(tiny_model, restore_cli, tmp_path,
                                                    capsys):
    onnx_path = tiny_model[2]
    clip = write_video(tmp_path / 'in.mp4', scene_frames(3, 40, 40))
    assert restore_cli(['--onnx', str(onnx_path), '--dtype', 'bf16', str(clip),
                        str(tmp_path / 'out'), '--no-progress']) == 1
    assert 'computes in float32' in capsys.readouterr().err
    assert not (tmp_path / 'out').exists()


def test_dynamic_refinement_needs_explicit_passes(tmp_path):
    generator = RealBasicVSRNet(mid_channels=4, num_propagation_blocks=1,
                                num_cleaning_blocks=1, dynamic_refine_thres=1.5)
    with pytest.raises(ValueError, match='give cleaning_passes'):
        export_onnx(generator, None, tmp_path / 'refine.onnx')
    assert not list(tmp_path.iterdir())


def test_check_catches_a_graph_that_differs(tiny_model):
    torch.manual_seed(1)  # other weights than the exported ones
    other = RealBasicVSRNet(**{k: v for k, v in TINY.items() if k != 'type'}).eval()
    with pytest.raises(ExportError, match='differs from the generator'):
        check_exported(tiny_model[2], other)
