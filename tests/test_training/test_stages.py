"""One Runner iteration of each stage from the paper's configs (shrunk), on CPU."""
import pytest
import torch
from mmengine.runner import Runner

from .helpers import make_clips, tiny_config


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    return make_clips(tmp_path_factory.mktemp('reds'))


def _snapshot(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _changed(before, module):
    return {k for k, v in module.state_dict().items() if not torch.equal(v, before[k])}


@pytest.mark.parametrize('stage', [1, 2])
def test_one_iteration_updates_the_networks(stage, data_root, tmp_path):
    cfg = tiny_config(stage, data_root, tmp_path, iters=1)
    runner = Runner.from_cfg(cfg)
    model = runner.model
    g0, ema0 = _snapshot(model.generator), _snapshot(model.generator_ema)
    d0 = _snapshot(model.discriminator) if stage == 2 else None
    runner.train()
    assert _changed(g0, model.generator)
    # the EMA hook moved generator_ema a little towards the generator
    assert _changed(ema0, model.generator_ema)
    logs = runner.message_hub.log_scalars
    keys = {'train/loss_pix', 'train/loss_clean'}
    if stage == 2:
        assert _changed(d0, model.discriminator)
        keys |= {'train/loss_perceptual', 'train/loss_gan', 'train/loss_d_real',
                 'train/loss_d_fake'}
    assert keys <= set(logs)
    assert (tmp_path / 'iter_1.pth').is_file()


@pytest.mark.parametrize('dtype', ['bfloat16', 'float16'])
def test_amp_iteration_on_cpu(dtype, data_root, tmp_path):
    """``tools/train.py --amp --amp-dtype DTYPE`` (its config change) trains under autocast."""
    from mmrbvsr.utils.cli import enable_amp
    cfg = tiny_config(1, data_root, tmp_path, iters=1)
    enable_amp(cfg, dtype, cuda=False)
    runner = Runner.from_cfg(cfg)
    model = runner.model
    g0 = _snapshot(model.generator)
    seen = []
    hook = model.generator.basicvsr.fusion.register_forward_hook(
        lambda m, i, o: seen.append(o.dtype))
    runner.train()
    hook.remove()
    assert runner.optim_wrapper['generator'].dtype == getattr(torch, dtype)
    assert getattr(torch, dtype) in seen  # convolutions ran in reduced precision
    assert _changed(g0, model.generator)
    assert all(torch.isfinite(p).all() for p in model.generator.parameters())
