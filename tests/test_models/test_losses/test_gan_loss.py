import math

import pytest
import torch

from mmrbvsr.models.losses import GANLoss


def test_vanilla_by_hand():
    logits = torch.tensor([0.0, 2.0])
    loss = GANLoss('vanilla', loss_weight=0.05)
    # -log(sigmoid(x)) averaged
    real = (math.log(2) + math.log(1 + math.exp(-2))) / 2
    fake = (math.log(2) + math.log(1 + math.exp(2))) / 2
    assert loss(logits, True, is_disc=True).item() == pytest.approx(real, rel=1e-6)
    assert loss(logits, False, is_disc=True).item() == pytest.approx(fake, rel=1e-6)
    # the weight applies to the generator only
    assert loss(logits, True).item() == pytest.approx(0.05 * real, rel=1e-6)


@pytest.mark.parametrize('gan_type', ['vanilla', 'lsgan', 'wgan', 'hinge', 'l1'])
def test_matches_mmagic(gan_type, mmagic_losses):
    torch.manual_seed(0)
    pred = torch.randn(2, 1, 8, 8)
    ours = GANLoss(gan_type, real_label_val=0.9, fake_label_val=0.1, loss_weight=0.3)
    theirs = mmagic_losses.GANLoss(gan_type, real_label_val=0.9, fake_label_val=0.1,
                                   loss_weight=0.3)
    for real in (True, False):
        for disc in (True, False):
            torch.testing.assert_close(ours(pred, real, disc), theirs(pred, real, disc))


def test_bad_type():
    with pytest.raises(ValueError, match="'wgan-gp'"):
        GANLoss('wgan-gp')
