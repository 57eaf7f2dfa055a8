"""The tensor (GPU) versions of blur, resize, noise and JPEG against OpenCV and closed forms."""
import cv2
import numpy as np
import pytest
import torch

from mmrbvsr.datasets.transforms import (
    Clip,
    FramesToNumpy,
    FramesToTensor,
    RandomBlur,
    RandomNoise,
    RandomVideoCompression,
    jpeg_compress,
    make_kernel,
)
from mmrbvsr.datasets.transforms.functional import tensor_ops as T

DEVICES = ['cpu'] + (['cuda'] if torch.cuda.is_available() else [])


def to_t(img, device='cpu'):
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))).float().to(device)


def to_np(x):
    return x.permute(1, 2, 0).cpu().numpy()


@pytest.mark.parametrize('device', DEVICES)
def test_blur_equals_filter2d(real_frames, device):
    kernels = [make_kernel('aniso', 21, 2., 0.5, 0.7), make_kernel('sinc', 13, omega=1.),
               make_kernel('plateau_iso', 15, 1.5, beta_plateau=1.5), make_kernel('iso', 7, 1.)]
    # 256x256 frames, and 9x7 ones whose border reflects more than once (radius 10 > 7)
    for frames in ([f.astype(np.float32) for f in real_frames[:4]],
                   [cv2.resize(f, (9, 7)).astype(np.float32) for f in real_frames[:4]]):
        out = T.blur_frames([to_t(f, device) for f in frames], kernels)
        for o, f, k in zip(out, frames, kernels):
            np.testing.assert_allclose(to_np(o), cv2.filter2D(f, -1, k), rtol=0, atol=2e-3)


@pytest.mark.parametrize('device', DEVICES)
@pytest.mark.parametrize('interp', [cv2.INTER_LINEAR, cv2.INTER_CUBIC, cv2.INTER_AREA])
def test_resize_equals_cv2(real_frames, device, interp):
    img = real_frames[0][:200, :150].astype(np.float32)
    # down, up, mixed both ways (INTER_AREA changes method), integer factors
    sizes = [(64, 64), (300, 260), (90, 400), (333, 33), (100, 75), (200, 150)]
    out = T.resize_frames([to_t(img, device)] * len(sizes), sizes, interp)
    for o, (h, w) in zip(out, sizes):
        ref = cv2.resize(img, (w, h), interpolation=interp)
        assert o.shape == (3, h, w)
        np.testing.assert_allclose(to_np(o), ref, rtol=0, atol=1e-3)


@pytest.mark.parametrize('device', DEVICES)
def test_gaussian_noise_statistics(device):
    imgs = [torch.full((3, 200, 200), 128., device=device) for _ in range(3)]
    gen = torch.Generator(device=device).manual_seed(0)
    out = T.gaussian_noise(imgs, [1., 10., 30.], False, gen)
    for o, sigma in zip(out, [1., 10., 30.]):
        n = (o - 128).cpu()
        assert abs(n.std().item() - sigma) < 0.02 * sigma and abs(n.mean().item()) < 0.05 * sigma
        assert abs(np.corrcoef(n[0].ravel(), n[1].ravel())[0, 1]) < 0.02
    gray = T.gaussian_noise(imgs[:1], [5.], True, gen)[0] - 128
    assert torch.equal(gray[0], gray[1]) and torch.equal(gray[0], gray[2])


@pytest.mark.parametrize('device', DEVICES)
def test_poisson_noise_statistics(device):
    gen = torch.Generator(device=device).manual_seed(1)
    # one distinct value: vals = 1, noise = scale (Poisson(x) - x): variance x scale^2
    n = T.poisson_noise([torch.full((3, 256, 256), 100., device=device)], [0.5], False,
                        gen)[0] - 100
    assert abs(n.mean().item()) < 0.02 and abs(n.var().item() - 25) < 0.5
    # 200 distinct values: vals = 256, variance x scale^2 / 256
    img = torch.arange(200.).repeat(1000, 1)[None].repeat(3, 1, 1).to(device)
    n = T.poisson_noise([img], [2.], False, gen)[0] - img
    var = n.var(dim=(0, 1)).cpu().numpy()
    np.testing.assert_allclose(var[50:], np.arange(50, 200) * 4 / 256, rtol=0.1)
    gray = T.poisson_noise([img], [2.], True, gen)[0] - img
    assert gray.abs().max() > 0 and torch.equal(gray[0], gray[2])


@pytest.mark.parametrize('device', DEVICES)
def test_jpeg_close_to_libjpeg(real_frames, device):
    frames = [real_frames[0].astype(np.float32), real_frames[5][:101, :77].astype(np.float32)]
    errors = []
    for q in (30, 50, 75, 95):
        for f in frames:
            ours = to_np(T.jpeg_compress([to_t(f, device)], [q])[0])
            ref = jpeg_compress(f, q)
            assert np.array_equal(ours, np.rint(ours)) and 0 <= ours.min() and ours.max() <= 255
            # float DCT and rounding against libjpeg's integer codec: about 1 level
            assert np.abs(ours - ref).mean() < 1.2
            e_ours, e_ref = np.abs(ours - f).mean(), np.abs(ref - f).mean()
            assert abs(e_ours / e_ref - 1) < 0.05
            errors.append(e_ours)
    # lower quality, larger error
    assert errors[0] > errors[2] > errors[4] > errors[6]
    gray = real_frames[0][..., :1].astype(np.float32)
    ours = to_np(T.jpeg_compress([to_t(gray, device)], [50])[0])
    ref = jpeg_compress(gray, 50)
    assert ours.shape == gray.shape and np.abs(ours - ref).mean() < 1.2


@pytest.mark.parametrize('device', DEVICES)
def test_jpeg_batch_of_mixed_sizes_equals_frame_by_frame(real_frames, device):
    """Frames of different sizes (odd, not multiples of 8 or 16) and qualities coded in one
    batch: each as if coded alone, and the chroma edges are each frame's own."""
    crops = [(64, 64), (61, 77), (64, 64), (33, 47), (101, 90)]
    frames = [to_t(real_frames[i][:h, :w].astype(np.float32), device)
              for i, (h, w) in enumerate(crops)]
    qualities = [30, 50, 95, 10, 75]
    batch = T.jpeg_compress(frames, qualities)
    for f, q, out in zip(frames, qualities, batch):
        alone = T.jpeg_compress([f], [q])[0]
        assert out.shape == f.shape
        if device == 'cpu':
            assert torch.equal(out, alone)
        else:
            # cuBLAS's batched matmul rounds differently for another batch size, and a
            # coefficient on a quantisation boundary goes the other way: its 8x8 block
            # changes (H200: 1.6% of a frame's pixels, at most 4 levels)
            diff = (out - alone).abs()
            assert diff.mean() < 0.25 and (diff > 0).float().mean() < 0.05
    gray = [f[:1] for f in frames]
    for f, q, out in zip(gray, qualities, T.jpeg_compress(gray, qualities)):
        diff = (out - T.jpeg_compress([f], [q])[0]).abs()
        assert diff.max() == 0 if device == 'cpu' else diff.mean() < 0.25


def test_jpeg_quant_table_is_libjpegs():
    # libjpeg: scale 5000 / q below 50, 200 - 2 q above; (t * scale + 50) / 100 in [1, 255]
    assert T.jpeg_quant_table(T.JPEG_LUMA_Q, 50)[0, 0] == 16
    assert T.jpeg_quant_table(T.JPEG_LUMA_Q, 100).max() == 1
    assert T.jpeg_quant_table(T.JPEG_LUMA_Q, 10)[0, 0] == (16 * 500 + 50) // 100
    assert T.jpeg_quant_table(T.JPEG_CHROMA_Q, 1).max() == 255


def test_transforms_dispatch_on_tensors(real_frames):
    frames = [f.astype(np.float32) for f in real_frames[:6]]
    params = dict(kernel_size=[15], kernel_list=['aniso'], kernel_prob=[1], sigma_x=[0.5, 3],
                  sigma_y=[0.5, 3], rotate_angle=[-3.14, 3.14], sigma_x_step=0.02,
                  sigma_y_step=0.02, rotate_angle_step=0.3)
    blur = RandomBlur(params, keys=['img'])
    # the same draws from the same generator, so the same kernels as on arrays
    ref = blur.degrade(frames, np.random.default_rng(3))
    out = blur.degrade([to_t(f) for f in frames], np.random.default_rng(3))
    for o, r in zip(out, ref):
        np.testing.assert_allclose(to_np(o), r, rtol=0, atol=2e-3)
    noise = RandomNoise(dict(noise_type=['gaussian'], noise_prob=[1], gaussian_sigma=[5, 5],
                             gaussian_gray_noise_prob=0), keys=['img'])
    a = noise.degrade([to_t(f) for f in frames], np.random.default_rng(4))
    b = noise.degrade([to_t(f) for f in frames], np.random.default_rng(4))
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert abs(float(torch.stack(a).sub(torch.stack([to_t(f) for f in frames])).std()) - 5) < 0.1


@pytest.mark.parametrize('policy', ['first', 'restore'])
def test_video_on_tensors(real_frames, policy):
    pytest.importorskip('av')
    sizes = [(128 - 2 * i, 127 - 2 * i) for i in range(6)]
    frames = [to_t(cv2.resize(f, (w, h)).astype(np.float32))
              for f, (h, w) in zip(real_frames, sizes)]
    t = RandomVideoCompression(dict(codec=['libx264'], codec_prob=[1], bitrate=[3e4, 3e4],
                                    frame_size=policy), keys=['img'])
    out = t.degrade(frames, np.random.default_rng(0))
    assert t.num_failures == 0 and all(torch.is_tensor(o) for o in out)
    expect = [(128, 126)] * 6 if policy == 'first' else sizes
    assert [tuple(o.shape[1:]) for o in out] == expect
    first = T.resize_frames(frames[:1], [(128, 126)], cv2.INTER_LINEAR)[0]
    err = (out[0] - first).abs().mean().item() if policy == 'first' else None
    assert err is None or 0 < err < 30


def test_frames_to_tensor_and_back(real_frames):
    imgs = [real_frames[0], real_frames[1][:100, :80], real_frames[2][..., 0]]
    res = FramesToTensor(keys=['img'], device='cpu')(dict(img=imgs))
    assert [tuple(x.shape) for x in res['img']] == [(3, 256, 256), (3, 100, 80), (1, 256, 256)]
    assert all(x.dtype == torch.float32 for x in res['img'])
    res = Clip(keys=['img'])(dict(img=[x * 2 - 100 for x in res['img']]))
    back = FramesToNumpy(keys=['img'])(res)['img']
    assert [b.shape for b in back] == [(256, 256, 3), (100, 80, 3), (256, 256, 1)]
    ref = np.clip(real_frames[1][:100, :80].astype(np.float32) * 2 - 100, 0, 255)
    np.testing.assert_array_equal(back[1], ref)


def test_frames_to_tensor_bad_input():
    with pytest.raises(ValueError, match='gpu0'):
        FramesToTensor(keys=['img'], device='gpu0')
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="'cuda'"):
            FramesToTensor(keys=['img'], device='cuda')
    with pytest.raises(ValueError, match=r'img\[1\]'):
        FramesToTensor(keys=['img'], device='cpu')(
            dict(img=[np.zeros((4, 4, 3)), np.zeros((2, 4, 4, 3))]))
    for bad in ([torch.zeros(3, 4, 4), 'frame.png'], [torch.zeros(1, 3, 4, 4)]):
        with pytest.raises(ValueError, match=rf'FramesToNumpy: img\[{len(bad) - 1}\]'):
            FramesToNumpy(keys=['img'])(dict(img=bad))


@pytest.mark.skipif(not torch.cuda.is_available(), reason='CUDA only')
def test_fp32_exact_turns_tf32_off_and_back():
    conv, mm = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    try:
        torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = True
        with T.fp32_exact(torch.device('cuda')):
            assert not torch.backends.cudnn.allow_tf32
            assert not torch.backends.cuda.matmul.allow_tf32
        assert torch.backends.cudnn.allow_tf32 and torch.backends.cuda.matmul.allow_tf32
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = conv, mm
