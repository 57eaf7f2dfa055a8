"""MMagic 1.2.0's classes and ours side by side: every class we register under a name MMagic
also has takes every keyword of MMagic's signature, with MMagic's meaning, and gives MMagic's
output for the same input, or the deviation listed in docs/mmagic_compatibility.md.

MMagic's signatures are read with ``inspect``, so a keyword MMagic adds, or one a case here
leaves out, fails ``test_every_mmagic_keyword_is_exercised``. No VGG weights are downloaded:
MMagic's torchvision VGG factory is replaced by an unweighted one, ours is built with
``PerceptualVGG.init_weights`` patched (as MMagic's tests do) and gets MMagic's weights.
"""
import copy
import inspect
import types
from collections import OrderedDict
from unittest import mock

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmcv.transforms import BaseTransform
from mmengine.model import BaseModel, BaseModule
from mmengine.registry import DefaultScope

import mmrbvsr.registry as ours_registry
from tests.conftest import DEMO_FRAMES, REPO

# every name both registries hold, and MMagic's unregistered PerceptualVGG (its tests use it)
MODELS = ('BasicVSRNet', 'CharbonnierLoss', 'GANLoss', 'L1Loss', 'PerceptualLoss',
          'RealBasicVSR', 'RealBasicVSRNet', 'UNetDiscriminatorWithSpectralNorm')
TRANSFORMS = ('Clip', 'DegradationsWithShuffle', 'FixedCrop', 'LoadImageFromFile',
              'MirrorSequence', 'RandomBlur', 'RandomJPEGCompression', 'RandomNoise',
              'RandomResize', 'RandomVideoCompression', 'UnsharpMasking')
PAIRS = MODELS + TRANSFORMS + ('PerceptualVGG', )

# (class, method, argument): defaults that differ from MMagic's, with the reason in the docs
DOCUMENTED_DEFAULTS = {('RandomJPEGCompression', '__init__', 'bgr2rgb')}
# methods of the base classes are MMEngine's/MMCV's, the same for both
BASES = (nn.Module, BaseModel, BaseModule, BaseTransform, object)

KERNEL_TYPES = ('iso', 'aniso', 'generalized_iso', 'generalized_aniso', 'plateau_iso',
                'plateau_aniso', 'sinc')
GEN = dict(type='RealBasicVSRNet', mid_channels=4, num_propagation_blocks=1,
           num_cleaning_blocks=1, dynamic_refine_thres=255, spynet_pretrained=None,
           is_fix_cleaning=False, is_sequential_cleaning=False)
REAL_BASICVSR = dict(
    generator=GEN,
    discriminator=dict(type='UNetDiscriminatorWithSpectralNorm', in_channels=3, mid_channels=4,
                       skip_connection=True),
    gan_loss=dict(type='GANLoss', gan_type='vanilla', loss_weight=5e-2, real_label_val=1.0,
                  fake_label_val=0),
    pixel_loss=dict(type='L1Loss', loss_weight=1.0, reduction='mean'),
    cleaning_loss=dict(type='L1Loss', loss_weight=1.0, reduction='mean'),
    perceptual_loss=dict(type='PerceptualLoss', layer_weights={'2': 0.1, '7': 0.1},
                         vgg_type='vgg19', perceptual_weight=1.0, style_weight=0,
                         norm_img=False),
    is_use_sharpened_gt_in_pixel=True, is_use_sharpened_gt_in_percep=True,
    is_use_sharpened_gt_in_gan=False, is_use_ema=True,
    train_cfg=dict(disc_steps=1, disc_init_steps=0, disc_repeat=1, start_iter=-1),
    test_cfg=None, init_cfg=None,
    data_preprocessor=dict(type='DataPreprocessor', mean=[0.] * 3, std=[255.] * 3))
DETERMINISTIC_DEGRADATIONS = [
    dict(type='RandomBlur', params=dict(kernel_size=[7], kernel_list=['sinc'], kernel_prob=[1],
                                        omega=[1.2, 1.2])),
    dict(type='RandomResize', params=dict(resize_opt=['bicubic'], resize_prob=[1],
                                          target_size=(16, 28))),
    # bgr2rgb=False: MMagic builds its entries from ``params`` and ``keys`` only
    [dict(type='RandomJPEGCompression', params=dict(quality=[30, 30]), bgr2rgb=False),
     dict(type='RandomJPEGCompression', params=dict(quality=[60, 60]), bgr2rgb=False)],
]

# constructor keywords of each case; together they name every keyword of MMagic's signature
CASES = {
    'L1Loss': [dict(loss_weight=0.5, reduction=r, sample_wise=s)
               for r in ('none', 'mean', 'sum') for s in (False, True)],
    'CharbonnierLoss': [dict(loss_weight=0.5, reduction=r, sample_wise=s, eps=1e-6)
                        for r in ('none', 'mean', 'sum') for s in (False, True)],
    'GANLoss': [dict(gan_type=g, real_label_val=0.9, fake_label_val=0.1, loss_weight=0.3)
                for g in ('vanilla', 'lsgan', 'wgan', 'hinge', 'l1', 'smgan')],
    'PerceptualVGG': [dict(layer_name_list=['2', '7'], vgg_type='vgg11', use_input_norm=u,
                           pretrained='torchvision://vgg11') for u in (True, False)],
    'PerceptualLoss': [dict(layer_weights={'2': 0.1, '7': 1.0}, layer_weights_style=style,
                            vgg_type='vgg11', use_input_norm=True, perceptual_weight=1.0,
                            style_weight=0.5, norm_img=True, pretrained='torchvision://vgg11',
                            criterion=c)
                       for style, c in ((None, 'l1'), ({'0': 1.0, '5': 0.5}, 'mse'))],
    'BasicVSRNet': [dict(mid_channels=8, num_blocks=1, spynet_pretrained=None)],
    'RealBasicVSRNet': [dict({k: v for k, v in GEN.items() if k != 'type'},
                             dynamic_refine_thres=thres, is_fix_cleaning=fix,
                             is_sequential_cleaning=seq)
                        for thres, fix, seq in ((255, False, False), (1, True, True))],
    'UNetDiscriminatorWithSpectralNorm': [dict(in_channels=3, mid_channels=4, skip_connection=s)
                                          for s in (True, False)],
    'RealBasicVSR': [REAL_BASICVSR],
    'Clip': [dict(keys=['lq'], a_min=10, a_max=200)],
    'MirrorSequence': [dict(keys=['lq', 'gt'])],
    'UnsharpMasking': [dict(kernel_size=15, sigma=s, weight=0.5, threshold=10, keys=['gt'])
                       for s in (0, 2.)],
    'RandomBlur': [dict(params=dict(kernel_size=[7], kernel_list=[k], kernel_prob=[1],
                                    sigma_x=[1.5, 1.5], sigma_y=[0.8, 0.8],
                                    rotate_angle=[0.5, 0.5], beta_gaussian=[1, 1],
                                    beta_plateau=[1, 1], omega=[1.2, 1.2]), keys=['lq'])
                   for k in KERNEL_TYPES],
    'RandomResize': [dict(params=dict(resize_opt=[o], resize_prob=[1], target_size=size),
                          keys=['lq'])
                     for o in ('bilinear', 'area', 'bicubic', 'lanczos')
                     for size in ((12, 20), (36, 60))],
    'RandomNoise': [dict(params=dict(noise_type=[t], noise_prob=[1], gaussian_sigma=[10, 10],
                                     gaussian_gray_noise_prob=g, poisson_scale=[1, 1],
                                     poisson_gray_noise_prob=g), keys=['lq'])
                    for t in ('gaussian', 'poisson') for g in (0, 1)],
    'RandomJPEGCompression': [dict(params=dict(quality=[30, 30]), keys=['lq'], color_type=c,
                                   bgr2rgb=b)
                              for c in ('color', 'grayscale') for b in (False, True)],
    'RandomVideoCompression': [dict(params=dict(codec=[c], codec_prob=[1], bitrate=[3e4, 3e4]),
                                    keys=['lq']) for c in ('libx264', 'mpeg4')],
    'DegradationsWithShuffle': [dict(degradations=DETERMINISTIC_DEGRADATIONS, keys=['lq'],
                                     shuffle_idx=[])],
    'FixedCrop': [dict(keys=['gt', 'lq'], crop_size=(8, 12), crop_pos=p)
                  for p in ((4, 2), None)],
    'LoadImageFromFile': [dict(key='gt', color_type=c, channel_order=o, imdecode_backend=None,
                               use_cache=u, to_float32=f, to_y_channel=y,
                               save_original_img=s, backend_args=None)
                          for c, o, u, f, y, s in (('color', 'rgb', False, False, False, True),
                                                   ('color', 'bgr', True, True, True, False),
                                                   ('grayscale', 'bgr', False, True, False,
                                                    False))],
}


def mmagic_class(name: str):
    if name == 'PerceptualVGG':
        from mmagic.models.losses import PerceptualVGG
        return PerceptualVGG
    import mmagic.registry
    registry = mmagic.registry.MODELS if name in MODELS else mmagic.registry.TRANSFORMS
    with DefaultScope.overwrite_default_scope('mmagic'):
        return registry.get(name)


def our_class(name: str):
    if name == 'PerceptualVGG':
        from mmrbvsr.models.losses import PerceptualVGG
        return PerceptualVGG
    registry = ours_registry.MODELS if name in MODELS else ours_registry.TRANSFORMS
    return registry.get(f'mmrbvsr.{name}')


def public_methods(cls) -> dict:
    """``__init__``, ``__call__`` and the public methods ``cls`` (not its bases) defines."""
    out = {}
    for klass in cls.__mro__:
        if klass in BASES:
            break
        for name, fn in vars(klass).items():
            if callable(fn) and (name in ('__init__', '__call__') or not name.startswith('_')):
                out.setdefault(name, fn)
    return out


def build_pair(name: str, kwargs: dict):
    """MMagic's instance and ours from deep copies of the same keywords."""
    theirs = mmagic_class(name)(**copy.deepcopy(kwargs))
    ours = our_class(name)(**copy.deepcopy(kwargs))
    return theirs, ours


def frames(n: int = 3, h: int = 24, w: int = 40, seed: int = 0) -> list:
    """Smooth uint8 RGB frames with a little noise (compression sees real structure)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = (127 + 100 * np.sin(x / 3.) * np.cos(y / 4.))[..., None] * np.array([1, 0.8, 0.6])
    return [np.clip(base + rng.normal(0, 5, base.shape), 0, 255).astype(np.uint8)
            for _ in range(n)]


def float_frames(imgs: list) -> list:
    """float32 frames off the integers (rounding and truncation agree on them)."""
    return [f.astype(np.float32) + 0.25 for f in imgs]


def run(transform, imgs, key: str = 'lq') -> list:
    return transform({key: [f.copy() for f in imgs]})[key]


def assert_frames_equal(ours, theirs, atol=0.):
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        assert o.shape == t.shape
        np.testing.assert_allclose(o.astype(np.float64), t.astype(np.float64), rtol=0, atol=atol)


@pytest.fixture
def unweighted_vgg(monkeypatch):
    """MMagic's PerceptualVGG calls ``torchvision.models.vgg.<type>(pretrained=True)``: an
    unweighted VGG ``features`` instead (no download, no 120M-parameter classifier); ours
    gets ``init_weights`` patched (recorded)."""
    import torchvision.models.vgg as tv_vgg

    from mmrbvsr.models.losses import PerceptualVGG
    for name, cfg in (('vgg11', 'A'), ('vgg19', 'E')):
        monkeypatch.setattr(tv_vgg, name, lambda pretrained=False, cfg=cfg, **kw:
                            types.SimpleNamespace(features=tv_vgg.make_layers(tv_vgg.cfgs[cfg])))
    with mock.patch.object(PerceptualVGG, 'init_weights') as init_weights:
        yield init_weights


# ------------------------------------------------------------------------ interfaces


def test_the_pairs_are_every_shared_name():
    import mmagic.registry
    with DefaultScope.overwrite_default_scope('mmagic'):
        for ours, theirs, names in ((ours_registry.MODELS, mmagic.registry.MODELS, MODELS),
                                    (ours_registry.TRANSFORMS, mmagic.registry.TRANSFORMS,
                                     TRANSFORMS)):
            ours.import_from_location()
            theirs.import_from_location()
            assert set(ours.module_dict) & set(theirs.module_dict) == set(names)


@pytest.mark.parametrize('name', PAIRS)
def test_signatures_take_every_mmagic_argument(name):
    """Each public method of MMagic's class exists in ours; MMagic's arguments are the first
    of ours, in order (positional and keyword calls work), with MMagic's defaults."""
    theirs, ours = public_methods(mmagic_class(name)), public_methods(our_class(name))
    ours.setdefault('__call__', our_class(name).__call__)  # BaseTransform's
    for method, fn in theirs.items():
        assert method in ours, f'{name}.{method} is missing'
        sig_t, sig_o = inspect.signature(fn), inspect.signature(ours[method])
        named = [p for p in sig_t.parameters.values()
                 if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        assert list(sig_o.parameters)[:len(named)] == [p.name for p in named], \
            f'{name}.{method}{sig_o} does not start with MMagic{sig_t}'
        for p in named:
            q = sig_o.parameters[p.name]
            assert q.kind in (p.kind, q.POSITIONAL_OR_KEYWORD), (name, method, p.name)
            if (name, method, p.name) not in DOCUMENTED_DEFAULTS:
                assert q.default == p.default, (name, method, p.name, q.default, p.default)
            else:
                assert q.default != p.default
        if any(p.kind == p.VAR_KEYWORD for p in sig_t.parameters.values()):
            assert any(p.kind == p.VAR_KEYWORD for p in sig_o.parameters.values()), \
                f'{name}.{method} must take **kwargs as MMagic'


@pytest.mark.parametrize('name', PAIRS)
def test_every_mmagic_keyword_is_exercised(name):
    params = inspect.signature(mmagic_class(name).__init__).parameters
    named = {k for k, p in params.items()
             if k != 'self' and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    for case in CASES[name]:
        assert named <= set(case), f'{name}: {sorted(named - set(case))} not given'


def test_the_compatibility_table_names_every_class():
    doc = (REPO / 'docs' / 'mmagic_compatibility.md').read_text()
    for name in PAIRS:
        assert f'`{name}`' in doc, name


# ------------------------------------------------------------------------- losses


@pytest.mark.parametrize('name', ['L1Loss', 'CharbonnierLoss'])
def test_pixel_losses_with_masks(name):
    g = torch.Generator().manual_seed(0)
    pred, target = torch.rand(2, 3, 8, 8, generator=g), torch.rand(2, 3, 8, 8, generator=g)
    mask = (torch.rand(2, 1, 8, 8, generator=g) > 0.5).float()
    weights = (None, mask, mask.expand(2, 3, 8, 8).contiguous() * 0.5)
    for case in CASES[name]:
        theirs, ours = build_pair(name, case)
        for weight in weights:
            expected = theirs(pred, target, weight)
            torch.testing.assert_close(ours(pred, target, weight), expected)
            torch.testing.assert_close(ours(pred, target, weight=weight, extra=1), expected)
    # sample-wise: each sample's masked mean, then their mean
    ours = our_class('L1Loss')(sample_wise=True)
    per_sample = [((pred[i] - target[i]).abs() * mask[i]).sum() / (mask[i].sum() * 3)
                  for i in range(2)]
    torch.testing.assert_close(ours(pred, target, mask), sum(per_sample) / 2)


def test_gan_losses_with_masks():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 1, 8, 8, generator=g)
    mask = (torch.rand(2, 1, 8, 8, generator=g) > 0.5).float()
    small_mask = (torch.rand(2, 1, 6, 5, generator=g) > 0.5).float()
    for case in CASES['GANLoss']:
        theirs, ours = build_pair('GANLoss', case)
        for m in ((mask, small_mask) if case['gan_type'] == 'smgan' else (None, mask)):
            for real in (True, False):
                for disc in (True, False):
                    torch.testing.assert_close(ours(logits, real, disc, m),
                                               theirs(logits, real, disc, m))
                    torch.testing.assert_close(
                        ours(logits, target_is_real=real, is_disc=disc, mask=m),
                        theirs(logits, real, disc, m))
    with pytest.raises(ValueError, match='mask'):
        our_class('GANLoss')('smgan')(logits, True)  # MMagic: AttributeError on None


def test_perceptual_vgg(unweighted_vgg):
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    for case in CASES['PerceptualVGG']:
        unweighted_vgg.reset_mock()
        theirs, ours = build_pair('PerceptualVGG', case)
        # MMagic's loading hook, called with the VGG and the weights' address
        (model, pretrained), _ = unweighted_vgg.call_args
        assert pretrained == 'torchvision://vgg11' and isinstance(model.features, nn.Sequential)
        ours.load_state_dict(theirs.state_dict())
        out_t, out_o = theirs(x), ours(x)
        assert list(out_o) == list(out_t) == ['2', '7']
        for k in out_t:
            torch.testing.assert_close(out_o[k], out_t[k], rtol=1e-5, atol=1e-5)


def test_perceptual_loss(unweighted_vgg):
    g = torch.Generator().manual_seed(0)
    x, gt = torch.rand(2, 3, 32, 32, generator=g) * 2 - 1, torch.rand(2, 3, 32, 32, generator=g)
    for case in CASES['PerceptualLoss']:
        theirs, ours = build_pair('PerceptualLoss', case)
        ours.load_state_dict(theirs.state_dict())
        for o, t in zip(ours(x, gt), theirs(x, gt)):
            assert t is not None
            torch.testing.assert_close(o, t, rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------- networks


@pytest.mark.parametrize('name', ['BasicVSRNet', 'RealBasicVSRNet'])
@pytest.mark.parametrize('hw', [(16, 16), (24, 40)])
def test_networks_on_small_frames(name, hw):
    """Frames below SPyNet's 32x32 pyramid and BasicVSR's 64x64 design size: MMagic's output
    (SPyNet works on an upsized copy), with MMagic's warning."""
    for case in CASES[name]:
        torch.manual_seed(0)
        theirs, ours = build_pair(name, case)
        ours.load_state_dict(theirs.state_dict())
        lqs = torch.rand(1, 2, 3, *hw, generator=torch.Generator().manual_seed(1))
        spynet = ours.spynet if name == 'BasicVSRNet' else ours.basicvsr.spynet
        with torch.no_grad():
            # the flows are far from zero, so warping is compared too
            assert spynet(lqs[:, 0], lqs[:, 1]).abs().mean() > 0.05
            if name == 'RealBasicVSRNet':
                (out_t, lq_t), (out_o, lq_o) = (theirs(lqs.clone(), return_lqs=True),
                                                ours(lqs.clone(), return_lqs=True))
                torch.testing.assert_close(lq_o, lq_t, rtol=0, atol=1e-5)
            else:
                out_t, out_o = theirs(lqs.clone()), ours(lrs=lqs.clone())
        assert out_o.shape == (1, 2, 3, 4 * hw[0], 4 * hw[1])
        torch.testing.assert_close(out_o, out_t, rtol=0, atol=1e-5)
        net_t = theirs if name == 'BasicVSRNet' else theirs.basicvsr
        net_o = ours if name == 'BasicVSRNet' else ours.basicvsr
        assert net_o._raised_warning and net_t._raised_warning  # below 64x64
        if name == 'RealBasicVSRNet':
            assert ([p.requires_grad for p in ours.parameters()]
                    == [p.requires_grad for p in theirs.parameters()])


def test_basicvsr_mirror_check():
    theirs, ours = build_pair('BasicVSRNet', CASES['BasicVSRNet'][0])
    clip = torch.rand(2, 3, 3, 16, 16)
    for lrs in (torch.cat([clip, clip.flip(1)], 1), torch.rand(2, 6, 3, 16, 16)):
        theirs.check_if_mirror_extended(lrs)
        ours.check_if_mirror_extended(lrs)
        assert ours.is_mirror_extended == theirs.is_mirror_extended


def test_unet_discriminator():
    img = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    for case in CASES['UNetDiscriminatorWithSpectralNorm']:
        torch.manual_seed(0)
        theirs, ours = build_pair('UNetDiscriminatorWithSpectralNorm', case)
        ours.load_state_dict(theirs.state_dict())
        for train in (True, False):  # training mode also advances the spectral norms
            theirs.train(train)
            ours.train(train)
            torch.testing.assert_close(ours(img), theirs(img), rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(ours.state_dict(), theirs.state_dict(), rtol=1e-5, atol=1e-6)


def _batch(t: int = 2, h: int = 16):
    from mmagic.structures import DataSample
    g = torch.Generator().manual_seed(0)
    gt = torch.rand(t, 3, 4 * h, 4 * h, generator=g) * 255
    return dict(inputs=[torch.rand(t, 3, h, h, generator=g) * 255],
                data_samples=[DataSample(gt_img=gt, gt_unsharp=(gt * 1.1).clamp(0, 255))])


def test_real_basicvsr_model(unweighted_vgg):
    """Every keyword of MMagic's RealBasicVSR, the same config: the same sub-modules' state,
    the same training step (16x16 LR frames), predictions and tensors."""
    from mmengine.optim import OptimWrapper, OptimWrapperDict

    from mmrbvsr.models.losses import L1Loss
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmagic'):  # MMagic's DataPreprocessor
        theirs = mmagic_class('RealBasicVSR')(**copy.deepcopy(REAL_BASICVSR))
    ours = our_class('RealBasicVSR')(**copy.deepcopy(REAL_BASICVSR))
    assert set(ours.state_dict()) == set(theirs.state_dict())
    ours.load_state_dict(theirs.state_dict())
    # unscoped sub-module types are ours; the cleaning loss is the configured loss
    assert type(ours.cleaning_loss) is L1Loss
    assert all(type(m).__module__.startswith('mmrbvsr.') for m in (
        ours.generator, ours.discriminator, ours.gan_loss, ours.pixel_loss, ours.perceptual_loss))
    assert type(ours.data_preprocessor) is type(theirs.data_preprocessor)
    for attr in ('is_use_sharpened_gt_in_pixel', 'is_use_sharpened_gt_in_percep',
                 'is_use_sharpened_gt_in_gan', 'is_use_ema', 'disc_steps', 'disc_repeat',
                 'disc_init_steps', 'start_iter', 'train_cfg', 'test_cfg'):
        assert getattr(ours, attr) == getattr(theirs, attr), attr

    def optim(model):
        return OptimWrapperDict(
            generator=OptimWrapper(torch.optim.SGD(model.generator.parameters(), 0.1)),
            discriminator=OptimWrapper(torch.optim.SGD(model.discriminator.parameters(), 0.1)))

    log_o = ours.train_step(_batch(), optim(ours))
    log_t = theirs.train_step(_batch(), optim(theirs))
    assert set(log_o) == set(log_t) == {'loss_pix', 'loss_clean', 'loss_perceptual', 'loss_gan',
                                        'loss_d_real', 'loss_d_fake'}
    for k in log_t:
        torch.testing.assert_close(log_o[k], log_t[k], rtol=1e-5, atol=1e-6)
    sd_t = theirs.state_dict()
    for k, v in ours.state_dict().items():
        torch.testing.assert_close(v, sd_t[k], rtol=1e-4, atol=1e-6)

    with torch.no_grad():
        pred_o, pred_t = ours.val_step(_batch()), theirs.val_step(_batch())
        torch.testing.assert_close(pred_o[0].output.pred_img, pred_t[0].output.pred_img,
                                   rtol=0, atol=1e-3)
        lqs = torch.rand(1, 2, 3, 16, 16)
        torch.testing.assert_close(ours(lqs, mode='tensor'), theirs(lqs, mode='tensor'),
                                   rtol=0, atol=1e-5)
        torch.testing.assert_close(ours(lqs, None, 'tensor', training=True),
                                   theirs(lqs, None, 'tensor', training=True), rtol=0, atol=1e-5)


# --------------------------------------------------------------------- transforms


@pytest.mark.parametrize('name', ['Clip', 'MirrorSequence', 'UnsharpMasking', 'RandomBlur',
                                  'RandomResize', 'RandomVideoCompression'])
def test_deterministic_transforms(name):
    """Same output and repr; randomness fixed by the config (single choices, empty ranges).
    Our outputs are float32 where MMagic's are uint8 (same values)."""
    imgs = frames()
    for case in CASES[name]:
        theirs, ours = build_pair(name, case)
        assert repr(ours) == repr(theirs)
        for inputs in (imgs, float_frames(imgs)):
            if name == 'MirrorSequence':
                out_t = theirs(dict(lq=list(inputs), gt=list(inputs)))
                out_o = ours(dict(lq=list(inputs), gt=list(inputs)))
                for k in ('lq', 'gt'):
                    assert [id(x) for x in out_o[k]] == [id(x) for x in out_t[k]]
                continue
            if name == 'UnsharpMasking':  # adds gt_unsharp
                out_o = ours(dict(gt=list(inputs)))['gt_unsharp']
                out_t = theirs(dict(gt=list(inputs)))['gt_unsharp']
                assert_frames_equal(out_o, out_t, atol=2e-3)
                continue
            tol = 2e-4 if name == 'RandomBlur' else 0  # separable or not: float rounding
            assert_frames_equal(run(ours, inputs), run(theirs, inputs), tol)
            if name == 'Clip':
                single_o, single_t = ours(dict(lq=inputs[0])), theirs(dict(lq=inputs[0]))
                assert_frames_equal([single_o['lq']], [single_t['lq']])


@pytest.mark.parametrize('name', ['RandomBlur', 'RandomResize', 'RandomNoise',
                                  'RandomJPEGCompression', 'RandomVideoCompression'])
def test_prob_zero_skips(name):
    """``params['prob']``: with 0 both leave the frames as they are."""
    imgs = frames()
    case = copy.deepcopy(CASES[name][0])
    case['params']['prob'] = 0
    theirs, ours = build_pair(name, case)
    assert repr(ours) == repr(theirs)
    for t in (ours, theirs):
        out = t(dict(lq=list(imgs)))['lq']
        assert all(o is i for o, i in zip(out, imgs))


def test_load_image_from_file():
    paths = [str(p) for p in sorted(DEMO_FRAMES.glob('*.png'))[:3]]
    for case in CASES['LoadImageFromFile']:
        theirs, ours = build_pair('LoadImageFromFile', case)
        assert repr(ours) == repr(theirs)
        out_t = theirs(dict(gt_path=list(paths), key='000'))
        out_o = ours(dict(gt_path=list(paths), key='000'))
        assert sorted(out_o) == sorted(out_t)
        for key, value in out_t.items():
            if isinstance(value, list) and value and isinstance(value[0], np.ndarray):
                assert_frames_equal(out_o[key], value)
            else:
                assert out_o[key] == value, key


def test_fixed_crop():
    imgs = frames(h=24, w=40)
    for case in CASES['FixedCrop']:
        theirs, ours = build_pair('FixedCrop', case)
        assert repr(ours) == repr(theirs)
        np.random.seed(3)
        out_t = theirs(dict(gt=list(imgs), lq=list(imgs)))
        np.random.seed(3)
        out_o = ours(dict(gt=list(imgs), lq=list(imgs)))
        assert sorted(out_o) == sorted(out_t)
        for key in ('gt', 'lq'):
            assert_frames_equal(out_o[key], out_t[key])
            assert out_o[key][0].shape[:2] == (8, 12)
        for key in set(out_t) - {'gt', 'lq'}:
            assert out_o[key] == out_t[key], key


def test_random_jpeg_compression():
    imgs = frames()
    for case in CASES['RandomJPEGCompression']:
        theirs, ours = build_pair('RandomJPEGCompression', case)
        assert repr(ours) == repr(theirs)
        for inputs in (imgs, float_frames(imgs)):
            out_o = run(ours, inputs)
            assert all(o.dtype == np.float32 for o in out_o)
            if case['color_type'] == 'grayscale' and case['bgr2rgb']:
                # documented: MMagic ignores bgr2rgb for grayscale (encodes RGB as BGR);
                # ours swaps to the true order, i.e. MMagic's on channel-swapped frames
                out_t = run(theirs, [f[..., ::-1].copy() for f in inputs])
            else:
                out_t = run(theirs, inputs)
            assert_frames_equal(out_o, out_t)
    # documented: the default channel order is the true one (MMagic's bgr2rgb=True)
    ours = our_class('RandomJPEGCompression')(dict(quality=[30, 30]), ['lq'])
    theirs = mmagic_class('RandomJPEGCompression')(dict(quality=[30, 30]), ['lq'], bgr2rgb=True)
    assert_frames_equal(run(ours, imgs), run(theirs, imgs))


def test_random_noise_statistics():
    """Noise is drawn from other generators: compare its level and gray structure."""
    imgs = float_frames(frames(n=4, h=64, w=64))
    for case in CASES['RandomNoise']:
        theirs, ours = build_pair('RandomNoise', case)
        assert repr(ours) == repr(theirs)
        noise = {}
        for who, t in (('ours', ours), ('theirs', theirs)):
            out = run(t, imgs)
            assert all(o.dtype == np.float32 and o.shape == i.shape for o, i in zip(out, imgs))
            noise[who] = np.stack([o - i for o, i in zip(out, imgs)])
            gray = case['params']['gaussian_gray_noise_prob'] == 1
            spread = np.abs(noise[who] - noise[who][..., :1]).max()
            assert (spread < 1e-3) == gray, (case, who, spread)
        ratio = noise['ours'].std() / noise['theirs'].std()
        assert 0.93 < ratio < 1.07, (case, ratio)
        assert abs(noise['ours'].mean()) < 0.1 * noise['ours'].std()


def test_degradations_with_shuffle():
    imgs = frames()
    for case in CASES['DegradationsWithShuffle']:
        theirs, ours = build_pair('DegradationsWithShuffle', case)
        assert repr(ours) == repr(theirs)
        assert_frames_equal(run(ours, imgs), run(theirs, imgs))
    # repr of the shuffled forms, MMagic's test's configuration (a tuple stays a tuple)
    for shuffle_idx in (None, (1, 2), [0, 2]):
        config = copy.deepcopy(DETERMINISTIC_DEGRADATIONS)
        theirs = mmagic_class('DegradationsWithShuffle')(
            copy.deepcopy(config), ['lq'], shuffle_idx=shuffle_idx)
        ours = our_class('DegradationsWithShuffle')(config, ['lq'], shuffle_idx=shuffle_idx)
        assert repr(ours) == repr(theirs)
        assert config == DETERMINISTIC_DEGRADATIONS  # documented: ours never modifies it
    mmagic_config = copy.deepcopy(DETERMINISTIC_DEGRADATIONS)
    mmagic_class('DegradationsWithShuffle')(mmagic_config, ['lq'])
    assert mmagic_config != DETERMINISTIC_DEGRADATIONS  # MMagic replaces the entries


# ------------------------------------------------------------------ the scope rule


@pytest.fixture
def no_default_scope(monkeypatch):
    """A plain script: no MMEngine default scope (tests may have left one behind)."""
    from mmengine.registry import DefaultScope
    monkeypatch.setattr(DefaultScope, '_instance_dict', OrderedDict())
    assert DefaultScope.get_current_instance() is None


SCOPE_MODEL = dict(
    type='mmrbvsr.RealBasicVSR',
    generator=dict(type='RealBasicVSRNet', mid_channels=4, num_propagation_blocks=1,
                   num_cleaning_blocks=1),
    pixel_loss=dict(type='MSELoss'),  # a name only MMagic has
    cleaning_loss=dict(type='L1Loss', loss_weight=1.0, reduction='mean'),
    data_preprocessor=dict(type='DataPreprocessor', mean=[0.] * 3, std=[255.] * 3))
# MMagic's L1Loss asked for by name or by _scope_
MMAGIC_CLEANING = (dict(type='mmagic.L1Loss'), dict(type='L1Loss', _scope_='mmagic'))


def _scope_outcome(model) -> tuple:
    return tuple(type(m).__module__.split('.')[0] for m in (
        model.generator, model.cleaning_loss, model.pixel_loss, model.data_preprocessor))


# generator and cleaning loss: ours; MSELoss and DataPreprocessor: MMagic's
EXPECTED_SCOPES = ('mmrbvsr', 'mmrbvsr', 'mmagic', 'mmagic')


def test_sub_module_scope_in_a_script(no_default_scope):
    from mmrbvsr.models import RealBasicVSR
    cfg = copy.deepcopy(SCOPE_MODEL)
    cfg.pop('type')
    assert _scope_outcome(RealBasicVSR(**cfg)) == EXPECTED_SCOPES
    assert _scope_outcome(ours_registry.MODELS.build(copy.deepcopy(SCOPE_MODEL))) == \
        EXPECTED_SCOPES
    for cleaning in MMAGIC_CLEANING:
        model = RealBasicVSR(**dict(copy.deepcopy(cfg), cleaning_loss=cleaning))
        assert type(model.cleaning_loss).__module__.startswith('mmagic.')
    shuffle = our_class('DegradationsWithShuffle')(
        [dict(type='RandomBlur', params=CASES['RandomBlur'][0]['params']),
         dict(type='mmagic.RandomBlur', params=CASES['RandomBlur'][0]['params'])], ['lq'])
    assert [type(d).__module__.split('.')[0] for d in shuffle.degradations] == \
        ['mmrbvsr', 'mmagic']


@pytest.mark.parametrize('scope', ['mmagic', 'mmrbvsr'])
def test_sub_module_scope_under_any_default_scope(scope):
    import mmagic.registry
    with DefaultScope.overwrite_default_scope(scope):
        model = mmagic.registry.MODELS.build(copy.deepcopy(SCOPE_MODEL))
        assert _scope_outcome(model) == EXPECTED_SCOPES
        for cleaning in MMAGIC_CLEANING:
            cfg = dict(copy.deepcopy(SCOPE_MODEL), cleaning_loss=cleaning)
            assert type(mmagic.registry.MODELS.build(cfg).cleaning_loss).__module__.startswith(
                'mmagic.')


def test_sub_module_scope_under_a_runner(tmp_path):
    from mmengine.config import Config
    from mmengine.runner import Runner

    from mmrbvsr.models.losses import L1Loss
    cfg = Config(dict(default_scope='mmagic', model=copy.deepcopy(SCOPE_MODEL),
                      work_dir=str(tmp_path / 'work')))
    runner = Runner.from_cfg(cfg)
    assert _scope_outcome(runner.model) == EXPECTED_SCOPES
    assert type(runner.model.cleaning_loss) is L1Loss
