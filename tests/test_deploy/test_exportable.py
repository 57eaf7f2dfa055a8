"""The export-mode forward against the generator's own, in eager PyTorch (no export)."""
import pytest
import torch

from mmrbvsr.deploy import ExportableRealBasicVSR
from mmrbvsr.models.archs import BasicVSRNet, RealBasicVSRNet

from .conftest import scene_clip


def test_same_output_as_the_generator_x2_two_passes_mirrored_clip():
    # threshold 0: the generator refines every clip to its max_cleaning_passes (2)
    torch.manual_seed(0)
    generator = RealBasicVSRNet(mid_channels=8, num_propagation_blocks=1,
                                num_cleaning_blocks=1, dynamic_refine_thres=0,
                                max_cleaning_passes=2, upscale_factor=2).eval()
    clip = scene_clip(2, 40, 36, seed=1)
    lqs = torch.cat([torch.cat([clip, clip.flip(1)], 1), scene_clip(4, 40, 36, seed=2)])
    assert generator.basicvsr.mirrored_clips(lqs).tolist() == [True, False]
    with torch.no_grad():
        _, passes = generator.clean(lqs, return_passes=True)
        expected = generator(lqs)
        out = ExportableRealBasicVSR(generator, cleaning_passes=2)(lqs)
    assert passes.tolist() == [2, 2]
    assert out.shape == expected.shape == (2, 4, 3, 80, 72)
    assert (out - expected).abs().max() < 1e-5


def test_basicvsr_has_no_cleaning():
    torch.manual_seed(0)
    assert ExportableRealBasicVSR(BasicVSRNet(mid_channels=8, num_blocks=1)).cleaning_passes == 0


@pytest.mark.parametrize('passes', [0, -1, 1.0, True])
def test_bad_cleaning_passes(passes):
    generator = RealBasicVSRNet(mid_channels=4, num_propagation_blocks=1, num_cleaning_blocks=1)
    with pytest.raises(ValueError, match='cleaning_passes must be an int >= 1'):
        ExportableRealBasicVSR(generator, passes)


def test_other_modules_are_refused():
    with pytest.raises(TypeError, match='expected mmrbvsr.RealBasicVSRNet'):
        ExportableRealBasicVSR(torch.nn.Conv2d(3, 3, 1))
