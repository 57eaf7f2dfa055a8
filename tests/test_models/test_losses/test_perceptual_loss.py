import pytest
import torch

from mmrbvsr.models.losses import PerceptualLoss, PerceptualVGG
from mmrbvsr.models.losses.perceptual_loss import vgg_features

# RealBasicVSR stage 2: conv1_2, conv2_2, conv3_4, conv4_4, conv5_4
PAPER_LAYERS = {'2': 0.1, '7': 0.1, '16': 1.0, '25': 1.0, '34': 1.0}


@pytest.fixture(scope='module')
def vgg_ckpt(tmp_path_factory):
    torch.manual_seed(0)
    state = {f'features.{k}': v for k, v in vgg_features('vgg19').state_dict().items()}
    path = tmp_path_factory.mktemp('vgg') / 'vgg19.pth'
    torch.save(state, path)
    return path, state


def test_paper_layers_are_the_named_convs():
    feats = vgg_features('vgg19')
    # counting convs per block: conv1_2 is the 2nd conv, conv5_4 the 16th
    convs = [i for i, m in enumerate(feats) if isinstance(m, torch.nn.Conv2d)]
    names = {convs[1]: 'conv1_2', convs[3]: 'conv2_2', convs[7]: 'conv3_4',
             convs[11]: 'conv4_4', convs[15]: 'conv5_4'}
    assert {str(i) for i in names} == set(PAPER_LAYERS)


def test_builds_without_weights_and_keys_match_mmagic():
    loss = PerceptualLoss(PAPER_LAYERS, style_weight=0, norm_img=False, pretrained=None)
    keys = set(loss.state_dict())
    assert len(keys) == 34  # 16 convs x (weight, bias) + mean + std, as MMagic
    assert {'vgg.mean', 'vgg.std', 'vgg.vgg_layers.0.weight', 'vgg.vgg_layers.34.bias'} <= keys
    assert not any(p.requires_grad for p in loss.parameters())


def test_loads_weights_from_a_path(vgg_ckpt):
    path, state = vgg_ckpt
    vgg = PerceptualVGG(['2', '34'], pretrained=str(path))
    for k, v in vgg.vgg_layers.state_dict().items():
        torch.testing.assert_close(v, state[f'features.{k}'])


def test_url_goes_through_mmengine_loader(vgg_ckpt, monkeypatch):
    from mmengine.runner import checkpoint as ckpt_mod
    _, state = vgg_ckpt
    urls = []

    def fake_load_url(url, *args, **kwargs):
        urls.append(url)
        return dict(state)

    # the download itself is the only thing replaced
    monkeypatch.setattr(ckpt_mod, 'load_url', fake_load_url)
    vgg = PerceptualVGG(['2'], pretrained='torchvision://vgg19')
    assert len(urls) == 1 and 'vgg19' in urls[0] and urls[0].startswith('https://')
    torch.testing.assert_close(vgg.vgg_layers[0].weight, state['features.0.weight'])
    PerceptualVGG(['2'], pretrained='https://example.com/vgg19.pth')
    assert urls[-1] == 'https://example.com/vgg19.pth'


def test_incomplete_checkpoint_raises(tmp_path):
    torch.save({'features.0.weight': torch.zeros(64, 3, 3, 3)}, tmp_path / 'bad.pth')
    with pytest.raises(KeyError, match='features.0.bias'):
        PerceptualVGG(['2'], pretrained=str(tmp_path / 'bad.pth'))


def test_bad_layer_and_type():
    with pytest.raises(ValueError, match="'37'"):
        PerceptualVGG(['37'], pretrained=None)
    with pytest.raises(ValueError, match="'vgg20'"):
        PerceptualVGG(['2'], vgg_type='vgg20', pretrained=None)
    with pytest.raises(ValueError, match="'l3'"):
        PerceptualLoss(PAPER_LAYERS, criterion='l3', pretrained=None)


def _loss_and_grad(loss, x, gt, dtype):
    """``loss(x, gt)`` in ``dtype``: perceptual and style terms, and the gradient to ``x``."""
    x = x.to(dtype, copy=True).requires_grad_()
    percep, style = loss.to(dtype)(x, gt.to(dtype))
    (percep + style).backward()
    return percep.double(), style.double(), x.grad.double()


def test_matches_mmagic(mmagic_losses, monkeypatch):
    """Ours in float32 against MMagic's loss run in float64 (the reference).

    MMagic's float32 result is no reference: its own error depends on the CPU. Where oneDNN
    runs AVX2 kernels (``ONEDNN_MAX_CPU_ISA=AVX2`` on an AVX-512 machine shows it) its input
    gradient is 2.3e-3 of the largest entry off the float64 one, against 6e-7 with AVX-512;
    ours (channels-last) stays within 2e-6 of it with either, and is held to 1e-4.
    """
    import copy

    import torchvision.models.vgg as tv_vgg
    orig = tv_vgg.vgg19
    monkeypatch.setattr(tv_vgg, 'vgg19', lambda pretrained=False, **kw: orig(weights=None))
    torch.manual_seed(0)
    kwargs = dict(layer_weights=PAPER_LAYERS, perceptual_weight=1.0, style_weight=0.5,
                  norm_img=False)
    theirs = mmagic_losses.PerceptualLoss(**kwargs)
    ours = PerceptualLoss(**kwargs, pretrained=None)
    ours.load_state_dict(theirs.state_dict())  # identical key layout
    x, gt = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    p_ref, s_ref, g_ref = _loss_and_grad(copy.deepcopy(theirs), x, gt, torch.float64)
    # our VGG runs channels-last: the gradient to the prediction must still be MMagic's
    p, s, g = _loss_and_grad(ours, x, gt, torch.float32)
    torch.testing.assert_close(p, p_ref, rtol=1e-5, atol=0)
    torch.testing.assert_close(s, s_ref, rtol=1e-5, atol=0)
    assert g_ref.abs().max() > 0
    torch.testing.assert_close(g, g_ref, rtol=0, atol=1e-4 * g_ref.abs().max())
    # the float64 run computes what MMagic's float32 one does (a bound on the latter's own
    # error loose enough for any CPU: that error is not what this tests)
    p32, s32, g32 = _loss_and_grad(theirs, x, gt, torch.float32)
    torch.testing.assert_close(p32, p_ref, rtol=1e-4, atol=0)
    torch.testing.assert_close(s32, s_ref, rtol=1e-4, atol=0)
    torch.testing.assert_close(g32, g_ref, rtol=0, atol=1e-2 * g_ref.abs().max())


def test_disabled_terms_are_none():
    loss = PerceptualLoss({'2': 1.0}, perceptual_weight=0, style_weight=0, pretrained=None)
    assert loss(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8)) == (None, None)
