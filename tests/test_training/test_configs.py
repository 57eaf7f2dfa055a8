"""Every config parses, builds, and carries the paper's hyper-parameters (PAPER.md)."""
import copy
import uuid

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmrbvsr.registry import MODELS

from .helpers import CONFIGS, STAGE1, STAGE2

ALL = sorted(CONFIGS.rglob('*.py'))


@pytest.fixture(autouse=True, scope='module')
def mmagic_scope():
    DefaultScope.get_instance(f'test-configs-{uuid.uuid4()}', scope_name='mmagic')


def _offline(model_cfg: dict) -> dict:
    cfg = copy.deepcopy(model_cfg)
    cfg['generator']['spynet_pretrained'] = None
    if cfg.get('perceptual_loss'):
        cfg['perceptual_loss']['pretrained'] = None
    return cfg


@pytest.mark.parametrize('path', ALL, ids=lambda p: p.stem)
def test_config_parses(path):
    cfg = Config.fromfile(str(path))
    assert cfg.default_scope == 'mmagic'
    assert cfg.custom_imports['imports'] == ['mmrbvsr']
    assert cfg.model.type == 'mmrbvsr.RealBasicVSR'
    if cfg.get('train_dataloader'):
        assert cfg.optim_wrapper.constructor == 'MultiOptimWrapperConstructor'
        assert 'generator' in cfg.optim_wrapper


def test_every_distinct_model_builds():
    models = {}
    for path in ALL:
        model_cfg = _offline(Config.fromfile(str(path)).model.to_dict())
        models.setdefault(repr(model_cfg), (path.stem, model_cfg))
    assert len(models) >= 5  # stage 1, stage 2, no cleaning, the two demo stages
    for name, model_cfg in models.values():
        model = MODELS.build(model_cfg)
        assert model.generator_ema is not None, name
        assert (model.discriminator is None) == ('discriminator' not in model_cfg), name


def test_stage1_hyper_parameters():
    cfg = Config.fromfile(str(STAGE1))
    g = cfg.model.generator
    assert (g.type, g.mid_channels, g.num_propagation_blocks, g.num_cleaning_blocks,
            g.dynamic_refine_thres) == ('mmrbvsr.RealBasicVSRNet', 64, 20, 20, 255)
    assert cfg.model.pixel_loss.type == 'mmrbvsr.L1Loss'
    assert (cfg.model.cleaning_loss.type, cfg.model.cleaning_loss.criterion,
            cfg.model.cleaning_loss.scale, cfg.model.cleaning_loss.downsample_mode) == \
        ('mmrbvsr.CleaningLoss', 'l1', 4, 'area')
    assert cfg.model.is_use_sharpened_gt_in_pixel and cfg.model.is_use_ema
    assert 'discriminator' not in cfg.model and 'perceptual_loss' not in cfg.model
    assert cfg.train_dataloader.batch_size == 2
    assert cfg.train_dataloader.dataset.num_input_frames == 15  # mirrored to 30
    types = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    assert 'mmrbvsr.MirrorSequence' in types
    crop = next(t for t in cfg.train_dataloader.dataset.pipeline
                if t['type'] == 'mmrbvsr.FixedCrop')
    assert crop['crop_size'] == (256, 256)
    usm = next(t for t in cfg.train_dataloader.dataset.pipeline
               if t['type'].endswith('UnsharpMasking'))
    assert (usm['kernel_size'], usm['weight'], usm['threshold']) == (51, 0.5, 10)
    opt = cfg.optim_wrapper.generator.optimizer
    assert (opt.type, opt.lr, tuple(opt.betas)) == ('Adam', 1e-4, (0.9, 0.99))
    assert cfg.train_cfg.max_iters == 300_000
    ema = next(h for h in cfg.custom_hooks if h['type'] == 'ExponentialMovingAverageHook')
    assert ema['interp_cfg']['momentum'] == 0.001 and ema['interval'] == 1
    assert cfg.model_wrapper_cfg.type == 'MMSeparateDistributedDataParallel'
    assert cfg.auto_scale_lr.base_batch_size == 16  # 8 GPUs x 2


def test_stage2_hyper_parameters():
    cfg = Config.fromfile(str(STAGE2))
    m = cfg.model
    assert m.discriminator.type == 'mmrbvsr.UNetDiscriminatorWithSpectralNorm'
    assert (m.discriminator.mid_channels, m.discriminator.skip_connection) == (64, True)
    assert dict(m.perceptual_loss.layer_weights) == {'2': 0.1, '7': 0.1, '16': 1.0,
                                                     '25': 1.0, '34': 1.0}
    assert (m.perceptual_loss.vgg_type, m.perceptual_loss.perceptual_weight,
            m.perceptual_loss.style_weight) == ('vgg19', 1.0, 0)
    assert (m.gan_loss.gan_type, m.gan_loss.loss_weight) == ('vanilla', 5e-2)
    assert m.is_use_sharpened_gt_in_pixel and m.is_use_sharpened_gt_in_percep
    assert not m.is_use_sharpened_gt_in_gan
    assert m.cleaning_loss.type == 'mmrbvsr.CleaningLoss'  # active in both stages
    assert cfg.train_dataloader.batch_size == 1
    assert cfg.optim_wrapper.generator.optimizer.lr == 5e-5
    assert cfg.optim_wrapper.discriminator.optimizer.lr == 1e-4
    assert cfg.train_cfg.max_iters == 150_000
    assert 'realbasicvsr_wogan-c64b20-2x30x8_8xb2-lr1e-4-300k_reds' in cfg.load_from


def test_ablations_change_only_what_they_name():
    base = Config.fromfile(str(STAGE1))
    abl = CONFIGS / 'ablations'
    nocl = Config.fromfile(str(abl / 'realbasicvsr_wogan-nocleaning-c64b20-2x30x8_8xb2-'
                                     'lr1e-4-300k_reds.py'))
    assert nocl.model.generator.type == 'mmrbvsr.BasicVSRNet'
    assert nocl.model.generator.num_blocks == 20 and nocl.model.cleaning_loss is None
    for name, batch, frames in (('3x20x8_8xb3', 3, 10), ('6x10x8_8xb6', 6, 5)):
        cfg = Config.fromfile(str(abl / f'realbasicvsr_wogan-c64b20-{name}-lr1e-4-300k_reds.py'))
        assert cfg.train_dataloader.batch_size == batch
        assert cfg.train_dataloader.dataset.num_input_frames == frames
        # equal budget: frames per GPU and iteration
        assert batch * 2 * frames == base.train_dataloader.batch_size * 30
    load30 = Config.fromfile(str(abl / 'realbasicvsr_wogan-c64b20-2x30x8-load30_8xb2-'
                                       'lr1e-4-300k_reds.py'))
    types = [t['type'] for t in load30.train_dataloader.dataset.pipeline]
    assert load30.train_dataloader.dataset.num_input_frames == 30
    assert 'mmrbvsr.MirrorSequence' not in types
    assert len(types) == len(base.train_dataloader.dataset.pipeline) - 1
    after = Config.fromfile(str(abl / 'realbasicvsr_wogan-c64b20-2x30x8-mirror-after_8xb2-'
                                      'lr1e-4-300k_reds.py'))
    types = [t['type'] for t in after.train_dataloader.dataset.pipeline]
    assert types.index('mmrbvsr.MirrorSequence') > types.index('mmrbvsr.Clip')
    for thres in (1.5, 5):
        cfg = Config.fromfile(str(abl / f'realbasicvsr_videolq_test_refine-thres{thres}.py'))
        assert cfg.model.generator.dynamic_refine_thres == thres
