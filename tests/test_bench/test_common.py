"""bench/common.py: MMagic's RealBasicVSR imported without mmcv's compiled ops or diffusers,
and its data transforms without albumentations.

This is how the GPU box (bench/gpu_carry.sh) runs MMagic's baseline; here the compiled
ops exist, so the test hides them (and diffusers) and checks that MMagic's modules still
import, build and run, and that an mmcv op then raises a clear error.
"""
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent('''
    import sys
    sys.modules['mmcv._ext'] = None  # import raises ImportError: no compiled ops
    sys.modules['diffusers'] = None
    sys.path.insert(0, {bench!r})
    from common import import_mmagic_models
    import_mmagic_models()
    import torch
    from mmagic.registry import MODELS
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmagic'):
        net = MODELS.build(dict(type='RealBasicVSRNet', mid_channels=8,
                                num_propagation_blocks=1, num_cleaning_blocks=1))
        loss = MODELS.build(dict(type='L1Loss'))
        disc = MODELS.build(dict(type='UNetDiscriminatorWithSpectralNorm', in_channels=3))
    with torch.no_grad():
        out = net(torch.rand(1, 2, 3, 32, 32))
    print('shape', tuple(out.shape), type(loss).__name__, type(disc).__name__)
    from mmcv.ops import ModulatedDeformConv2d  # imports; calling an op raises
    try:
        sys.modules['mmcv._ext'].modulated_deform_conv_forward()
    except RuntimeError as e:
        print('op error:', e)
''')


def run_script(script: str) -> str:
    """Run ``script`` (with ``{bench}`` filled in) in a fresh interpreter; its stdout."""
    result = subprocess.run([sys.executable, '-c', script.format(bench=str(REPO / 'bench'))],
                            capture_output=True, text=True, timeout=300, cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_mmagic_realbasicvsr_without_mmcv_ops_or_diffusers():
    out = run_script(SCRIPT)
    assert 'shape (1, 2, 3, 128, 128) L1Loss UNetDiscriminatorWithSpectralNorm' in out
    assert 'op error: mmcv._ext is not installed here: modulated_deform_conv_forward ' \
        'is not available' in out


TRANSFORMS_SCRIPT = textwrap.dedent('''
    import sys
    sys.modules['albumentations'] = None  # as on the GPU box
    sys.path.insert(0, {bench!r})
    from common import import_mmagic_transforms
    import_mmagic_transforms()
    import numpy as np
    from mmagic.registry import TRANSFORMS
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmagic'):
        t = TRANSFORMS.build(dict(type='RandomJPEGCompression', params=dict(quality=[50, 50]),
                                  keys=['img']))
    out = t(dict(img=[np.full((16, 16, 3), 100, np.float32)]))['img'][0]
    print('jpeg', out.shape, int(np.abs(out.astype(float) - 100).max()))
    import albumentations
    try:
        albumentations.Compose()
    except RuntimeError as e:
        print('albu error:', e)
''')


def test_mmagic_transforms_without_albumentations():
    out = run_script(TRANSFORMS_SCRIPT)
    assert 'jpeg (16, 16, 3) ' in out
    assert 'albu error: albumentations is not installed here: Compose' in out
