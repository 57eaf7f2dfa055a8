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


def test_mmagic_realbasicvsr_without_mmcv_ops_or_diffusers():
    script = SCRIPT.format(bench=str(REPO / 'bench'))
    result = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                            timeout=300, cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'shape (1, 2, 3, 128, 128) L1Loss UNetDiscriminatorWithSpectralNorm' in result.stdout
    assert 'op error: mmcv._ext is not installed here: modulated_deform_conv_forward ' \
        'is not available' in result.stdout


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
    script = TRANSFORMS_SCRIPT.format(bench=str(REPO / 'bench'))
    result = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                            timeout=300, cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'jpeg (16, 16, 3) ' in result.stdout
    assert 'albu error: albumentations is not installed here: Compose' in result.stdout
