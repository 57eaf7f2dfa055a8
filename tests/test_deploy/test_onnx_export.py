"""The exported graph run by onnxruntime against the PyTorch generator.

The released architecture (64 channels, 20 + 20 blocks) with random weights is exported
once for the module. Every clip length in {1, 2, 7, 30} and every size in {64x64, 72x80,
180x320} is compared, not their whole cross product (on 2 cores a 180x320 frame costs
about 14 64x64 ones): ``COMBOS``.
"""
import numpy as np
import onnx
import onnxruntime
import pytest
import torch
import torch.nn.functional as F

from mmrbvsr.deploy import OnnxRuntimeGenerator, export_onnx
from mmrbvsr.models.archs import RealBasicVSRNet

from .conftest import scene_clip

TOLERANCE = 1e-4
# (t, h, w): t = 30 at 64x64, t = 7 at 72x80, 180x320 with t = 2
COMBOS = [(1, 64, 64), (30, 64, 64), (1, 72, 80), (7, 72, 80), (2, 180, 320)]


@pytest.fixture(scope='module')
def released(tmp_path_factory):
    torch.manual_seed(0)
    generator = RealBasicVSRNet().eval()
    path = export_onnx(generator, None, tmp_path_factory.mktemp('onnx') / 'released.onnx')
    return generator, OnnxRuntimeGenerator(path), path


def compare(generator, backend, lqs):
    with torch.no_grad():
        expected = generator(lqs)
    out = backend(lqs)
    assert out.shape == expected.shape
    return (out - expected).abs().max().item()


@pytest.mark.parametrize('t,h,w', COMBOS)
def test_onnxruntime_matches_pytorch(released, t, h, w):
    generator, backend, _ = released
    assert compare(generator, backend, scene_clip(t, h, w)) < TOLERANCE


def test_batch_with_a_mirrored_clip(released):
    # the generator reuses the backward flows of a mirror-extended clip; the graph
    # computes both directions
    generator, backend, _ = released
    clip = scene_clip(3, 64, 72, seed=1)
    lqs = torch.cat([torch.cat([clip, clip.flip(1)], 1), scene_clip(6, 64, 72, seed=2)])
    assert generator.basicvsr.mirrored_clips(lqs).tolist() == [True, False]
    assert compare(generator, backend, lqs) < TOLERANCE


@pytest.mark.parametrize('shape,match', [
    ((1, 2, 3, 31, 64), 'at least 32x32 pixels'),
    ((1, 2, 3, 64, 20), 'at least 32x32 pixels'),
    ((2, 3, 64, 64), r'\(n, t, 3, h, w\)'),
    ((1, 2, 1, 64, 64), r'\(n, t, 3, h, w\)'),
    ((1, 0, 3, 64, 64), 'at least one clip'),
])
def test_shapes_out_of_range_are_refused(released, shape, match):
    with pytest.raises(ValueError, match=match):
        released[1](torch.rand(shape))


def test_metadata_and_dynamic_axes(released):
    _, backend, path = released
    assert backend.upscale_factor == 4 and backend.min_size == 32
    assert backend.metadata['mmrbvsr.cleaning_passes'] == '1'
    assert backend.metadata['mmrbvsr.generator_refine_threshold'] == '255'
    model = onnx.load(str(path), load_external_data=False)
    dims = [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert dims[2] == 3 and all(isinstance(d, str) for d in dims[:2] + dims[3:])
    ops = {node.op_type for node in model.graph.node}
    assert 'Scan' in ops  # the recurrence is a loop in the graph, not unrolled


class ResizeToMultipleOf32(torch.nn.Module):
    """SPyNet's resize in the graph (``spynet_flow``)."""

    def forward(self, x):
        h, w = x.shape[-2:]
        return F.interpolate(x, size=((h + 31) // 32 * 32, (w + 31) // 32 * 32),
                             mode='bilinear', align_corners=False)


def test_resizing_to_the_same_size_is_an_exact_identity(tmp_path):
    dims = {2: torch.export.Dim('h', min=32), 3: torch.export.Dim('w', min=32)}
    program = torch.export.export(ResizeToMultipleOf32(), (torch.rand(2, 3, 40, 48), ),
                                  dynamic_shapes=({0: torch.export.Dim('n'), **dims}, ))
    torch.onnx.export(program, dynamo=True, opset_version=18).save(str(tmp_path / 'r.onnx'))
    session = onnxruntime.InferenceSession(str(tmp_path / 'r.onnx'))
    x = np.random.default_rng(0).random((3, 3, 64, 96), dtype=np.float32) * 2 - 0.5
    assert np.array_equal(session.run(None, {session.get_inputs()[0].name: x})[0], x)
    assert session.run(None, {session.get_inputs()[0].name: x[..., :40, :70]})[0].shape == \
        (3, 3, 64, 96)
