import numpy as np
import pytest

from mmrbvsr.datasets.transforms import UnsharpMasking


def test_equals_mmagic_unsharp_masking(real_frames):
    from mmagic.datasets.transforms import UnsharpMasking as MMagicUSM
    kw = dict(kernel_size=51, sigma=0, weight=0.5, threshold=10, keys=['gt'])
    frames = real_frames[:3]
    ours = UnsharpMasking(**kw)(dict(gt=list(frames)))['gt_unsharp']
    ref = MMagicUSM(**kw)(dict(gt=list(frames)))['gt_unsharp']
    for o, r, f in zip(ours, ref, frames):
        assert o.dtype == np.float32 and o.shape == f.shape
        np.testing.assert_allclose(o, r, atol=2e-3)
        assert 0 <= o.min() and o.max() <= 255
        assert np.abs(o - f).max() > 5  # it does sharpen
    single = UnsharpMasking(**kw)(dict(gt=frames[0]))['gt_unsharp']
    np.testing.assert_array_equal(single, ours[0])


def test_flat_image_is_unchanged():
    img = np.full((64, 64, 3), 77, np.uint8)
    out = UnsharpMasking(51, 0, 0.5, 10, ['gt'])(dict(gt=img))['gt_unsharp']
    np.testing.assert_allclose(out, 77, atol=1e-4)


def test_even_kernel_raises():
    with pytest.raises(ValueError, match='50'):
        UnsharpMasking(50, 0, 0.5, 10, ['gt'])
