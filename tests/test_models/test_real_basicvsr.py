"""The training model: losses, both stages' steps, EMA, predictions, MMagic parity."""
import copy
import uuid

import pytest
import torch
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.registry import DefaultScope

from mmrbvsr.models.losses import downsample_gt
from mmrbvsr.registry import MODELS

# tiny generator / discriminator (ours are MMagic-compatible, so both build the same way)
GEN = dict(type='mmrbvsr.RealBasicVSRNet', mid_channels=4, num_propagation_blocks=1,
           num_cleaning_blocks=1, dynamic_refine_thres=255, spynet_pretrained=None)
DISC = dict(type='mmrbvsr.UNetDiscriminatorWithSpectralNorm', in_channels=3, mid_channels=4,
            skip_connection=True)
PREPROCESSOR = dict(type='DataPreprocessor', mean=[0., 0., 0.], std=[255., 255., 255.])
PERCEP = dict(layer_weights={'2': 0.1, '7': 0.1, '16': 1.0, '25': 1.0, '34': 1.0},
              vgg_type='vgg19', perceptual_weight=1.0, style_weight=0, norm_img=False)
GAN = dict(gan_type='vanilla', loss_weight=5e-2, real_label_val=1.0, fake_label_val=0)


@pytest.fixture(autouse=True, scope='module')
def mmagic_scope():
    DefaultScope.get_instance(f'test-rbvsr-{uuid.uuid4()}', scope_name='mmagic')


def model_cfg(stage2: bool, prefix: str = 'mmrbvsr.', **kwargs) -> dict:
    cfg = dict(
        type=f'{prefix}RealBasicVSR', generator=GEN,
        pixel_loss=dict(type=f'{prefix}L1Loss', loss_weight=1.0, reduction='mean'),
        cleaning_loss=dict(type=f'{prefix}CleaningLoss') if prefix else dict(type='L1Loss'),
        is_use_sharpened_gt_in_pixel=True, is_use_ema=True, data_preprocessor=PREPROCESSOR)
    if stage2:
        percep = dict(type=f'{prefix}PerceptualLoss', **PERCEP)
        if prefix:
            percep['pretrained'] = None
        cfg.update(discriminator=DISC, perceptual_loss=percep,
                   gan_loss=dict(type=f'{prefix}GANLoss', **GAN),
                   is_use_sharpened_gt_in_percep=True)
    cfg.update(kwargs)
    return cfg


def make_batch(n: int = 1, t: int = 2, h: int = 32, seed: int = 0) -> dict:
    from mmagic.structures import DataSample
    g = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for _ in range(n):
        gt = torch.rand(t, 3, 4 * h, 4 * h, generator=g) * 255
        inputs.append(torch.rand(t, 3, h, h, generator=g) * 255)
        samples.append(DataSample(gt_img=gt, gt_unsharp=(gt * 1.1).clamp(0, 255)))
    return dict(inputs=inputs, data_samples=samples)


def optim_for(model, lr_g=1e-3, lr_d=1e-3, optim=torch.optim.Adam) -> OptimWrapperDict:
    wrappers = dict(generator=OptimWrapper(optim(model.generator.parameters(), lr_g)))
    if model.discriminator is not None:
        wrappers['discriminator'] = OptimWrapper(optim(model.discriminator.parameters(), lr_d))
    return OptimWrapperDict(**wrappers)


def params(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def changed(before: dict, module) -> set:
    return {k for k, v in module.state_dict().items() if not torch.equal(v, before[k])}


def test_stage1_step_updates_generator_only():
    torch.manual_seed(0)
    model = MODELS.build(model_cfg(stage2=False))
    g0, ema0 = params(model.generator), params(model.generator_ema)
    log = model.train_step(make_batch(), optim_for(model))
    assert set(log) == {'loss_pix', 'loss_clean'}
    assert all(torch.isfinite(v) for v in log.values())
    moved = changed(g0, model.generator)
    assert any(k.startswith('image_cleaning') for k in moved)
    assert any(k.startswith('basicvsr.backward_resblocks') for k in moved)
    assert not any('spynet' in k for k in moved)  # SPyNet stays frozen
    assert not changed(ema0, model.generator_ema)  # only the EMA hook moves it
    assert int(model.step_counter) == 1


def test_stage2_step_updates_generator_and_discriminator():
    torch.manual_seed(0)
    percep = dict(type='mmrbvsr.PerceptualLoss', pretrained=None,
                  **dict(PERCEP, layer_weights={'2': 0.1, '7': 0.1}))  # shallow: fast
    model = MODELS.build(model_cfg(stage2=True, perceptual_loss=percep))
    g0, d0, v0 = params(model.generator), params(model.discriminator), params(
        model.perceptual_loss)
    log = model.train_step(make_batch(), optim_for(model))
    assert set(log) == {'loss_pix', 'loss_clean', 'loss_perceptual', 'loss_gan', 'loss_d_real',
                        'loss_d_fake'}
    assert changed(g0, model.generator)
    assert changed(d0, model.discriminator)
    assert not changed(v0, model.perceptual_loss)
    # D is trainable again after the step, as MMagic leaves it
    assert all(p.requires_grad for p in model.discriminator.parameters())


def test_cleaning_loss_is_against_downsampled_sharpened_gt():
    torch.manual_seed(0)
    model = MODELS.build(model_cfg(stage2=False))
    data = model.data_preprocessor(make_batch(n=2), True)
    gt_data = model.extract_gt_data(data['data_samples'])
    out, cleaned = model.forward_train(data['inputs'])
    assert cleaned.shape == data['inputs'].shape
    losses = model.g_step((out, cleaned), gt_data)
    # by hand: mean over 4x4 blocks of the sharpened GT (0-255 -> 0-1), then mean |diff|
    sharp = data['data_samples'].gt_unsharp / 255.
    n, t, c, h, w = sharp.shape
    target = sharp.reshape(n, t, c, h // 4, 4, w // 4, 4).mean(dim=(4, 6))
    expected = (cleaned - target).abs().mean()
    torch.testing.assert_close(losses['loss_clean'], expected)
    plain = (cleaned - downsample_gt(data['data_samples'].gt_img, 4)).abs().mean()
    assert abs(plain.item() - expected.item()) > 1e-3  # the sharpened GT really is used
    torch.testing.assert_close(losses['loss_pix'], (out - sharp).abs().mean())


def test_charbonnier_cleaning_loss_and_plain_cleaning_loss():
    torch.manual_seed(0)
    m1 = MODELS.build(model_cfg(False, cleaning_loss=dict(
        type='mmrbvsr.CleaningLoss', criterion='charbonnier', eps=1e-6, downsample_mode='bicubic')))
    data = m1.data_preprocessor(make_batch(n=2), True)
    out, cleaned = m1.forward_train(data['inputs'])
    gt_pixel = data['data_samples'].gt_unsharp / 255.
    gt_data = m1.extract_gt_data(data['data_samples'])
    assert gt_data[3] is None  # CleaningLoss downsamples the pixel GT itself
    target = downsample_gt(gt_pixel, 4, 'bicubic')
    torch.testing.assert_close(m1.g_step((out, cleaned), gt_data)['loss_clean'],
                               torch.sqrt((cleaned - target)**2 + 1e-6).mean())
    # a plain pixel loss (MMagic's config) is the model's cleaning_loss, applied to the
    # area-downsampled GT of extract_gt_data
    m2 = MODELS.build(model_cfg(False, cleaning_loss=dict(type='mmrbvsr.L1Loss')))
    assert type(m2.cleaning_loss).__name__ == 'L1Loss'
    m2.load_state_dict(m1.state_dict())
    gt_data = m2.extract_gt_data(data['data_samples'])
    torch.testing.assert_close(gt_data[3], downsample_gt(gt_pixel, 4))
    torch.testing.assert_close(m2.g_step((out, cleaned), gt_data)['loss_clean'],
                               (cleaned - downsample_gt(gt_pixel, 4)).abs().mean())


def test_predictions_are_datasamples_from_the_ema_generator():
    from mmagic.structures import DataSample
    torch.manual_seed(0)
    model = MODELS.build(model_cfg(stage2=False)).eval()
    for p in model.generator_ema.parameters():
        # make EMA and generator differ (adding 0.05 overflowed SPyNet to inf and the
        # output to uniformly saturated pixels, which hid the channel order below)
        p.data.mul_(1.05)
    batch = make_batch(n=2, t=3, h=32)
    with torch.no_grad():
        preds = model.val_step(copy.deepcopy(batch))
        lq = torch.stack(batch['inputs']) / 255.
        ema_out, gen_out = model.generator_ema(lq), model.generator(lq)
        tensor_out = model(lq, mode='tensor')
    assert len(preds) == 2 and all(isinstance(p, DataSample) for p in preds)
    pred = preds[0].output.pred_img
    assert pred.shape == (3, 3, 128, 128) and 0 <= pred.min() and pred.max() <= 255
    torch.testing.assert_close(tensor_out, ema_out)
    # pred_img is the EMA output in 0-255 (DataPreprocessor.destruct); these samples
    # carry no channel order, so it is not flipped to BGR
    # mostly unsaturated, so the comparison below means something
    assert ((pred > 0) & (pred < 255)).float().mean() > 0.5
    torch.testing.assert_close(pred, (ema_out[0] * 255).clamp(0, 255))
    assert not torch.allclose(ema_out, gen_out)
    assert preds[0].input.shape == (3, 3, 32, 32)
    assert 'gt_img' in preds[0]


def test_disc_steps_skips_generator_updates():
    torch.manual_seed(0)
    model = MODELS.build(model_cfg(True, train_cfg=dict(disc_steps=2), perceptual_loss=None))
    optim = optim_for(model)
    assert 'loss_pix' in model.train_step(make_batch(), optim)
    g1 = params(model.generator)
    log = model.train_step(make_batch(seed=1), optim)
    assert 'loss_pix' not in log and 'loss_d_real' in log
    assert not changed(g1, model.generator)


def test_bad_configs_raise():
    with pytest.raises(ValueError, match='gan_loss'):
        MODELS.build(model_cfg(False, discriminator=DISC))
    with pytest.raises(ValueError, match='no'):
        MODELS.build(model_cfg(False, pixel_loss=None, cleaning_loss=None))
    with pytest.raises(ValueError, match='disc_steps.*0'):
        MODELS.build(model_cfg(False, train_cfg=dict(disc_steps=0)))
    model = MODELS.build(model_cfg(True))
    with pytest.raises(KeyError, match='discriminator'):
        model.train_step(make_batch(), OptimWrapperDict(generator=optim_for(model)['generator']))
    batch = make_batch()
    for s in batch['data_samples']:
        del s.gt_unsharp
    with pytest.raises(KeyError, match='gt_unsharp'):
        model.train_step(batch, optim_for(model))
    with pytest.raises(ValueError, match="'train'"):
        model(torch.rand(1, 2, 3, 32, 32), mode="train")


def test_one_step_matches_mmagic(monkeypatch):
    """Same weights, data and optimizers: ours in float32 against MMagic's step in float64.

    MMagic's float32 step is no reference: with oneDNN's AVX2 kernels its weights land
    0.84 of a tolerance of 1e-4 * |w| + 1e-6 from ours (0.39 with AVX-512). Against the
    float64 step both float32 steps move each weight tensor to within 1e-3 of its largest
    update; ours is held to 5e-3 of it (plus 2 ulp of the weight).
    """
    import torchvision.models.vgg as tv_vgg
    orig = tv_vgg.vgg19
    monkeypatch.setattr(tv_vgg, 'vgg19', lambda pretrained=False, **kw: orig(weights=None))
    torch.manual_seed(0)
    theirs_cfg = model_cfg(True, prefix='')
    theirs_cfg['generator'] = dict(GEN, type='RealBasicVSRNet')
    theirs_cfg['discriminator'] = dict(DISC, type='UNetDiscriminatorWithSpectralNorm')
    theirs = MODELS.build(theirs_cfg)
    ours = MODELS.build(model_cfg(True))
    assert set(ours.state_dict()) == set(theirs.state_dict())
    ours.load_state_dict(theirs.state_dict())
    before = {k: v.clone() for k, v in ours.state_dict().items()}
    batch = make_batch()
    batch64 = copy.deepcopy(batch)
    batch64['inputs'] = [x.double() for x in batch64['inputs']]
    for sample in batch64['data_samples']:
        sample.gt_img, sample.gt_unsharp = sample.gt_img.double(), sample.gt_unsharp.double()
    theirs.double()
    # SGD: weight changes are proportional to the gradients (Adam's first step is
    # lr * sign(grad), which float noise flips where a gradient is ~0)
    sgd = dict(lr_g=0.1, lr_d=0.1, optim=torch.optim.SGD)
    log_o = ours.train_step(copy.deepcopy(batch), optim_for(ours, **sgd))
    log_t = theirs.train_step(batch64, optim_for(theirs, **sgd))
    assert set(log_o) == set(log_t)
    for k in log_t:
        torch.testing.assert_close(log_o[k].double(), log_t[k].double(), rtol=1e-5, atol=1e-6)
    sd_t = theirs.state_dict()
    moved = 0
    for k, v in ours.state_dict().items():
        if not v.is_floating_point():
            assert torch.equal(v, sd_t[k]), k
            continue
        assert sd_t[k].dtype == torch.float64, k
        update = sd_t[k] - before[k].double()
        tol = 5e-3 * update.abs().max() + 2 ** -22 * sd_t[k].abs()
        assert ((v.double() - sd_t[k]).abs() <= tol).all(), k
        moved += not torch.equal(v, before[k])
    assert moved > 10  # generator and discriminator weights were updated
