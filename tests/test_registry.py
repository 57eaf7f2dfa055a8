"""Configs with ``default_scope='mmagic'`` build ``mmrbvsr.`` types and MMagic's own."""
import subprocess
import sys
import textwrap

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from tests.conftest import DEMO_FRAMES, REPO

CONFIG = """
default_scope = 'mmagic'
custom_imports = dict(imports=['mmrbvsr'], allow_failed_imports=False)
model = dict(
    type='mmrbvsr.RealBasicVSR',
    generator=dict(
        type='mmrbvsr.RealBasicVSRNet', mid_channels=4, num_propagation_blocks=1,
        num_cleaning_blocks=1),
    pixel_loss=dict(type='mmrbvsr.L1Loss', loss_weight=1.0, reduction='mean'),
    cleaning_loss=dict(type='mmrbvsr.L1Loss', loss_weight=1.0, reduction='mean'),
    is_use_ema=False,
    data_preprocessor=dict(type='DataPreprocessor', mean=[0.] * 3, std=[255.] * 3))
train_pipeline = [
    dict(type='GenerateSegmentIndices', interval_list=[1]),
    dict(type='LoadImageFromFile', key='img', channel_order='rgb'),
    dict(type='LoadImageFromFile', key='gt', channel_order='rgb'),
    dict(type='mmrbvsr.MirrorSequence', keys=['img', 'gt']),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=1, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='BasicFramesDataset', data_root='{root}', data_prefix=dict(img='', gt=''),
        depth=1, num_input_frames=2, pipeline=train_pipeline))
optim_wrapper = dict(
    constructor='MultiOptimWrapperConstructor',
    generator=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4)))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=1)
work_dir = '{work_dir}'
"""


@pytest.fixture
def clip_root(tmp_path):
    clip = tmp_path / 'frames' / 'clip000'
    clip.mkdir(parents=True)
    for i in range(3):
        src = DEMO_FRAMES / f'{i:08d}.png'
        (clip / src.name).symlink_to(src)
    return tmp_path / 'frames'


def test_runner_builds_plugin_and_mmagic_types(tmp_path, clip_root):
    cfg_file = tmp_path / 'cfg.py'
    cfg_file.write_text(CONFIG.format(root=clip_root, work_dir=tmp_path / 'work'))
    runner = Runner.from_cfg(Config.fromfile(str(cfg_file)))
    assert type(runner.model).__module__ == 'mmrbvsr.models.real_basicvsr'
    assert type(runner.model.generator).__module__.startswith('mmrbvsr.models.archs')
    assert type(runner.model.data_preprocessor).__module__.startswith('mmagic.')

    loader = runner.build_dataloader(runner._train_dataloader)
    dataset = loader.dataset
    assert type(dataset).__name__ == 'BasicFramesDataset'
    assert type(dataset).__module__.startswith('mmagic.datasets')
    transforms = dataset.pipeline.transforms
    assert type(transforms[3]).__module__.startswith('mmrbvsr.datasets.transforms')
    assert type(transforms[0]).__module__.startswith('mmagic.datasets')
    sample = dataset[0]
    # 2 loaded frames mirrored to 4, 288x356 RGB
    assert tuple(sample['inputs'].shape) == (4, 3, 288, 356)
    assert (sample['inputs'][0] == sample['inputs'][3]).all()


def test_unscoped_names_stay_mmagic_and_scoped_names_are_ours():
    import mmagic.registry as mmagic_registry

    import mmrbvsr.registry  # noqa: F401
    with DefaultScope.overwrite_default_scope('mmagic'):
        ours = mmagic_registry.MODELS.get('mmrbvsr.RealBasicVSRNet')
        theirs = mmagic_registry.MODELS.get('RealBasicVSRNet')
    assert ours.__module__.startswith('mmrbvsr.')
    assert theirs.__module__.startswith('mmagic.')
    with DefaultScope.overwrite_default_scope('mmagic'):
        assert mmagic_registry.TRANSFORMS.get('mmrbvsr.RandomBlur').__module__.startswith(
            'mmrbvsr.')
        assert mmagic_registry.TRANSFORMS.get('RandomBlur').__module__.startswith('mmagic.')


LIGHT_IMPORTS = textwrap.dedent("""
    import importlib.abc, sys

    class Block(importlib.abc.MetaPathFinder):
        blocked = ('mmagic.models', 'mmagic.datasets', 'mmcv.ops', 'mmcv.cnn', 'mmagic.apis')

        def find_spec(self, name, path=None, target=None):
            if name.startswith(self.blocked):
                raise ImportError(f'{name} must not be imported')

    sys.meta_path.insert(0, Block())
    import torch
    import mmrbvsr, mmrbvsr.models, mmrbvsr.datasets, mmrbvsr.engine
    from mmrbvsr.registry import MODELS, TRANSFORMS
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmrbvsr'):
        net = MODELS.build(dict(type='RealBasicVSRNet', mid_channels=4,
                                num_propagation_blocks=1, num_cleaning_blocks=1))
    out = net(torch.rand(1, 2, 3, 64, 64))
    print(tuple(out.shape), sorted(m for m in sys.modules if m.startswith('mmcv.')))
""")


def test_models_and_transforms_import_without_mmagic_models_or_mmcv_ops():
    proc = subprocess.run([sys.executable, '-c', LIGHT_IMPORTS], cwd=REPO, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.startswith('(1, 2, 3, 256, 256)')


def test_locations_are_imported_on_demand():
    code = textwrap.dedent("""
        import sys
        from mmengine.registry import DefaultScope
        import mmagic.registry
        import mmrbvsr.registry
        assert 'mmrbvsr.models' not in sys.modules
        with DefaultScope.overwrite_default_scope('mmagic'):
            cls = mmagic.registry.MODELS.get('mmrbvsr.UNetDiscriminatorWithSpectralNorm')
        print(cls.__module__)
    """)
    proc = subprocess.run([sys.executable, '-c', code], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().startswith('mmrbvsr.models.archs')
