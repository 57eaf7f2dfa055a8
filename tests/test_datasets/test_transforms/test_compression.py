import logging
import os
import subprocess
import sys
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from mmengine.logging import MMLogger

from mmrbvsr.datasets.transforms import (
    RandomJPEGCompression,
    RandomVideoCompression,
    encode_decode_video,
    jpeg_compress,
)

REPO = Path(__file__).resolve().parents[3]
AV18 = Path(os.environ.get('MMRBVSR_AV18', REPO / '.venv' / 'av18'))
VIDEO = dict(codec=['libx264', 'h264', 'mpeg4'], codec_prob=[1 / 3.] * 3, bitrate=[1e4, 1e5])


def mae(a, b):
    return float(np.mean([np.abs(x.astype(np.float64) - y).mean() for x, y in zip(a, b)]))


@pytest.fixture(scope='module')
def small_clip(real_frames):
    return [f[64:192, 64:192].copy() for f in real_frames[:10]]


def test_lower_jpeg_quality_gives_larger_error(real_frames):
    frames = real_frames[:5]
    errs = [mae([jpeg_compress(f, q) for f in frames], frames) for q in (30, 60, 95)]
    assert errs[0] > errs[1] > errs[2] > 0
    out = jpeg_compress(frames[0].astype(np.float32) + 300, 50)  # saturates, no wrap-around
    assert out.dtype == np.float32 and out.min() > 240


def test_jpeg_quality_drift():
    t = RandomJPEGCompression(dict(quality=[30, 95], quality_step=3), keys=['img'])
    rng = np.random.default_rng(0)
    for _ in range(1000):
        q = t.sample(30, rng)
        assert np.all((q >= 30) & (q <= 95)) and np.all(np.abs(np.diff(q)) <= 3)
    with pytest.raises(ValueError, match='120'):
        RandomJPEGCompression(dict(quality=[30, 120]), keys=['img'])


@pytest.mark.parametrize('codec', ['libx264', 'mpeg4'])
def test_lower_bitrate_gives_larger_error(codec, small_clip):
    errs = [mae(encode_decode_video(small_clip, codec, br), small_clip) for br in (1e4, 1e5)]
    assert errs[0] > errs[1] > 0


@pytest.mark.parametrize('codec', ['libx264', 'mpeg4'])
def test_video_equals_mmagic(codec, small_clip):
    from mmagic.datasets.transforms import RandomVideoCompression as MMagicVideo
    ref = MMagicVideo(dict(codec=[codec], codec_prob=[1], bitrate=[3e4, 3e4]), keys=['img'])(
        dict(img=[f.astype(np.float32) for f in small_clip]))['img']
    ours = RandomVideoCompression(dict(codec=[codec], codec_prob=[1], bitrate=[3e4, 3e4]),
                                  keys=['img'])(dict(img=small_clip))['img']
    assert len(ours) == len(ref)
    for o, r in zip(ours, ref):
        assert o.dtype == np.float32
        np.testing.assert_array_equal(o, r)


# libx264 reads heap memory it never wrote at these sizes; the same frames then gave 2-5
# different bitstreams in 5 encodes (PyAV 12 and 18) before ``zeroed_heap``
DETERMINISM = (
    'import hashlib, cv2, numpy as np\n'
    'from mmrbvsr.datasets.transforms import encode_decode_video\n'
    'def variants(frames, size):\n'
    '    frames = [cv2.resize(f, (size, size), interpolation=cv2.INTER_AREA) for f in frames]\n'
    '    digests = set()\n'
    '    for i in range(5):\n'
    '        junk = [np.full(10**5 * (i + 1), 255 - i, np.uint8) for _ in range(4)]\n'
    '        del junk  # leaves freed, non-zero heap blocks behind\n'
    '        out = encode_decode_video(frames, "libx264", 50000)\n'
    '        digests.add(hashlib.md5(np.stack(out).tobytes()).hexdigest())\n'
    '    return len(digests)\n')


# the round trip through an MP4 file, as MMagic does it (muxed, demuxed, probed)
MP4_ROUND_TRIP = (
    'import io, av, cv2, numpy as np\n'
    'from mmrbvsr.datasets.transforms import encode_decode_video\n'
    'from mmrbvsr.datasets.transforms.functional.video import zeroed_heap\n'
    'def mp4_round_trip(frames, codec, bitrate):\n'
    '    buf = io.BytesIO()\n'
    '    with zeroed_heap(), av.open(buf, mode="w", format="mp4") as container:\n'
    '        stream = container.add_stream(codec, rate=1)\n'
    '        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]\n'
    '        stream.pix_fmt = "yuv420p"\n'
    '        stream.bit_rate = bitrate\n'
    '        for f in frames + [None]:\n'
    '            frame = None if f is None else av.VideoFrame.from_ndarray(f, format="rgb24")\n'
    '            container.mux(stream.encode(frame))\n'
    '    buf.seek(0)\n'
    '    with av.open(buf, mode="r", format="mp4") as container:\n'
    '        return [f.to_ndarray(format="rgb24")\n'
    '                for f in container.decode(container.streams.video[0])]\n'
    'def same_as_mp4(real):\n'
    '    for codec in ("libx264", "mpeg4"):\n'
    '        for size, bitrate in ((64, 10000), (128, 30000), (200, 100000)):\n'
    '            frames = [cv2.resize(f, (size, size), interpolation=cv2.INTER_AREA)\n'
    '                      for f in real[:12]]\n'
    '            ref = mp4_round_trip(frames, codec, bitrate)\n'
    '            out = encode_decode_video(frames, codec, bitrate)\n'
    '            assert len(out) == len(ref) == len(frames), (codec, size, len(out), len(ref))\n'
    '            for o, r in zip(out, ref):\n'
    '                assert np.array_equal(o, r), (codec, size, bitrate)\n'
    '            assert np.abs(out[3].astype(int) - frames[3]).mean() > 0.5  # it is lossy\n')


def test_packets_decode_as_the_mp4_file(real_frames):
    """The decoder takes the encoder's packets (no MP4 muxing): the same frames."""
    namespace = {}
    exec(MP4_ROUND_TRIP, namespace)
    namespace['same_as_mp4'](real_frames)


@pytest.mark.parametrize('size', [100, 192, 320])
def test_libx264_same_frames_same_video(real_frames, size):
    namespace = {}
    exec(DETERMINISM, namespace)
    assert namespace['variants'](real_frames, size) == 1


def test_h264_is_libx264():
    assert av.codec.Codec('h264', 'w').name == 'libx264'
    assert RandomVideoCompression(VIDEO, keys=['img']).encoders['h264'] == 'libx264'


@pytest.mark.parametrize('policy', ['first', 'restore'])
def test_frames_of_different_sizes(policy, small_clip):
    import cv2
    sizes = [(128 - 2 * i, 127 - 2 * i) for i in range(len(small_clip))]  # odd widths too
    frames = [cv2.resize(f, (w, h)).astype(np.float32) for f, (h, w) in zip(small_clip, sizes)]
    t = RandomVideoCompression(dict(VIDEO, frame_size=policy), keys=['img'])
    out = t(dict(img=frames, rng=np.random.default_rng(0)))['img']
    assert t.num_failures == 0 and len(out) == len(frames)
    expect = [(128, 126)] * len(frames) if policy == 'first' else sizes
    assert [o.shape[:2] for o in out] == expect
    h, w = out[-1].shape[:2]
    assert 0 < mae(out[-1:], [cv2.resize(frames[-1], (w, h))]) < 30


def test_encoder_failure_is_logged_not_raised(small_clip):
    # mjpeg refuses yuv420p: a real encoder error
    t = RandomVideoCompression(dict(codec=['mjpeg'], codec_prob=[1], bitrate=[1e4, 1e5]),
                               keys=['img'])
    records = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        out = t(dict(img=small_clip))['img']
    finally:
        logger.removeHandler(handler)
    assert t.num_failures == 1
    assert any('mjpeg' in r.getMessage() and 'failed' in r.getMessage() for r in records)
    for o, f in zip(out, small_clip):
        assert o.dtype == np.float32
        np.testing.assert_array_equal(o, f)


def test_bad_video_config_raises():
    with pytest.raises(ValueError, match='no_such_codec'):
        RandomVideoCompression(dict(VIDEO, codec=['no_such_codec', 'h264', 'mpeg4']), ['img'])
    with pytest.raises(ValueError, match='square'):
        RandomVideoCompression(dict(VIDEO, frame_size='square'), ['img'])
    with pytest.raises(ValueError, match=r'\[100000.0, 10000.0\]'):
        RandomVideoCompression(dict(VIDEO, bitrate=[1e5, 1e4]), ['img'])


def test_video_bitrate_range_and_codec_frequencies():
    t = RandomVideoCompression(VIDEO, keys=['img'])
    rng = np.random.default_rng(0)
    draws = [t.sample(rng) for _ in range(3000)]
    assert all(10000 <= b <= 100000 for _, b in draws)
    for c in VIDEO['codec']:
        assert abs(sum(d[0] == c for d in draws) / 3000 - 1 / 3) < 0.04


@pytest.mark.skipif(not (AV18 / 'av').is_dir(), reason=f'PyAV 18 not installed in {AV18}')
def test_video_compression_on_pyav18(real_frames, tmp_path):
    code = (
        'import av, numpy as np\n'
        'from mmrbvsr.datasets.transforms import RandomVideoCompression\n'
        'assert av.__version__.startswith("18."), av.__version__\n'
        'rng = np.random.default_rng(0)\n'
        'frames = [rng.uniform(0, 255, (64, 64, 3)).astype(np.float32) for _ in range(6)]\n'
        'for c in ("libx264", "h264", "mpeg4"):\n'
        '    t = RandomVideoCompression(dict(codec=[c], codec_prob=[1], bitrate=[1e4, 1e5]),'
        ' keys=["img"])\n'
        '    out = t(dict(img=frames, rng=rng))["img"]\n'
        '    assert t.num_failures == 0 and len(out) == 6 and out[0].shape == (64, 64, 3)\n'
        '    assert np.abs(out[0] - frames[0]).mean() > 1\n'
        + DETERMINISM + MP4_ROUND_TRIP +
        'real = [np.ascontiguousarray(f) for f in np.load(PATH)]\n'
        'assert all(variants(real, s) == 1 for s in (192, 320))\n'
        'same_as_mp4(real)\n'
        '# the reference: MMagic 1.2.0 fails here (pict_type is an enum since PyAV 14)\n'
        'from mmagic.datasets.transforms import RandomVideoCompression as M\n'
        'try:\n'
        '    M(dict(codec=["libx264"], codec_prob=[1], bitrate=[1e4, 1e4]), keys=["img"])('
        'dict(img=frames))\n'
        '    raise SystemExit("MMagic did not fail")\n'
        'except TypeError:\n'
        '    pass\n'
        'print("ok", av.__version__)\n')
    path = tmp_path / 'frames.npy'
    np.save(path, np.stack(real_frames))
    code = code.replace('PATH', repr(str(path)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(AV18), str(REPO)]))
    res = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.startswith('ok 18.')


def _smooth_frames(n=3, h=40, w=56):
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:h, 0:w]
    base = (127 + 100 * np.sin(x / 4.) * np.cos(y / 5.))[..., None] * np.array([1, 0.7, 0.4])
    return [np.clip(base + rng.normal(0, 4, base.shape), 0, 255).astype(np.float32)
            for _ in range(n)]


def test_jpeg_channel_order_and_color_type():
    frames = _smooth_frames()

    def jpeg(imgs, **kw):
        return RandomJPEGCompression(dict(quality=[40, 40]), keys=['img'], **kw)(
            dict(img=[f.copy() for f in imgs]))['img']

    true_order = jpeg(frames)
    assert all(o.shape == f.shape and o.dtype == np.float32 for o, f in zip(true_order, frames))
    # bgr2rgb=False hands the frames to OpenCV unswapped: the true-order codec of the
    # swapped frames, swapped back
    swapped = jpeg([f[..., ::-1] for f in frames], bgr2rgb=True)
    for o, s in zip(jpeg(frames, bgr2rgb=False), swapped):
        np.testing.assert_array_equal(o, s[..., ::-1])
    assert max(np.abs(a - b).max() for a, b in zip(jpeg(frames, bgr2rgb=False), true_order)) > 1
    # grayscale: the luma plane, (H, W); a gray frame comes back as 3 equal channels
    gray = jpeg(frames, color_type='grayscale')
    luma = [cv2.cvtColor(f.astype(np.uint8), cv2.COLOR_RGB2GRAY) for f in frames]
    for g, y in zip(gray, luma):
        assert g.shape == y.shape and np.abs(g - y).mean() < 3
    color = jpeg([y[..., None] for y in luma])
    for c, g in zip(color, jpeg([y[..., None] for y in luma], color_type='grayscale')):
        assert c.shape == g.shape[:2] + (3, )
        np.testing.assert_array_equal(c[..., 0], g)
        np.testing.assert_array_equal(c[..., 1], g)
    with pytest.raises(ValueError, match="'unchanged'"):
        RandomJPEGCompression(dict(quality=[40, 40]), keys=['img'], color_type='unchanged')


@pytest.mark.parametrize('kw', [dict(), dict(bgr2rgb=False), dict(color_type='grayscale'),
                                dict(color_type='grayscale', bgr2rgb=False)])
def test_jpeg_options_on_tensors(kw):
    """The batched torch codec (GPU path) follows the same options as OpenCV's, to about a
    level (its float DCT and rounding); gray output keeps a channel axis on tensors."""
    import torch
    frames = _smooth_frames()
    t = RandomJPEGCompression(dict(quality=[40, 40]), keys=['img'], **kw)
    other = RandomJPEGCompression(dict(quality=[40, 40]), keys=['img'],
                                  **dict(kw, bgr2rgb=not kw.get('bgr2rgb', True)))
    out = t(dict(img=[torch.from_numpy(f.transpose(2, 0, 1).copy()) for f in frames]))['img']
    errors = {}
    for name, ref in (('same', t), ('other', other)):
        ref = [r[..., None] if r.ndim == 2 else r
               for r in ref(dict(img=[f.copy() for f in frames]))['img']]
        assert [tuple(o.permute(1, 2, 0).shape) for o in out] == [r.shape for r in ref]
        errors[name] = np.array([np.abs(o.permute(1, 2, 0).numpy() - r).mean()
                                 for o, r in zip(out, ref)])
    assert errors['same'].mean() < 1.2 and errors['same'].max() < 1.5
    assert np.all(errors['other'] > 2.5 * errors['same'])  # the option is followed
    gray = [torch.from_numpy(f[..., :1].transpose(2, 0, 1).copy()) for f in frames]
    if kw.get('color_type', 'color') == 'color':
        out = t(dict(img=gray))['img']
        assert all(o.shape[0] == 3 and torch.equal(o[0], o[2]) for o in out)
