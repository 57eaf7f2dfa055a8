import pytest
import torch

from mmrbvsr.models.losses import CharbonnierLoss, L1Loss


def test_l1_by_hand():
    pred = torch.tensor([[0., 2., 3.], [1., -1., 5.]])
    target = torch.tensor([[1., 1., 1.], [1., 1., 1.]])
    # |diff| = 1, 1, 2, 0, 2, 4
    assert L1Loss()(pred, target).item() == pytest.approx(10 / 6)
    assert L1Loss(loss_weight=0.5, reduction='sum')(pred, target).item() == pytest.approx(5.0)
    assert L1Loss(reduction='none')(pred, target).tolist() == [[1, 1, 2], [0, 2, 4]]


def test_charbonnier_by_hand():
    pred, target = torch.tensor([0., 3.]), torch.tensor([0., -1.])
    loss = CharbonnierLoss(eps=1e-2)(pred, target)
    assert loss.item() == pytest.approx((0.1 + (16 + 1e-2)**0.5) / 2, rel=1e-6)
    # it tends to L1 when eps -> 0
    assert CharbonnierLoss()(pred, target).item() == pytest.approx(2.0, rel=1e-6)


@pytest.mark.parametrize('cls', [L1Loss, CharbonnierLoss])
def test_matches_mmagic(cls, mmagic_losses):
    torch.manual_seed(0)
    pred, target = torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8)
    for reduction in ('mean', 'sum'):
        ours = cls(loss_weight=0.7, reduction=reduction)(pred, target)
        theirs = getattr(mmagic_losses, cls.__name__)(
            loss_weight=0.7, reduction=reduction)(pred, target)
        torch.testing.assert_close(ours, theirs)


@pytest.mark.parametrize('kwargs, match', [
    (dict(reduction='avg'), "'avg'"),
    (dict(loss_weight=-1.0), '-1.0'),
])
def test_bad_values_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        L1Loss(**kwargs)
    with pytest.raises(ValueError, match=match):
        CharbonnierLoss(**kwargs)


def test_charbonnier_bad_eps():
    with pytest.raises(ValueError, match='eps'):
        CharbonnierLoss(eps=0)
