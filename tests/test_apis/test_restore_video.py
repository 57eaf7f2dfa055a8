from fractions import Fraction

import cv2
import pytest

from mmrbvsr.apis import VideoIOError, VideoRestorer, open_source, restore_video
from tests.conftest import DEMO_FRAMES

from .conftest import NearestX4, write_video

# name: frame rate; 'demo_316x178.mp4' is encoded by the test from tests/data
CLIPS = {'carphone_distorted.mp4': Fraction(30000, 1001),
         'carphone_pristine.mp4': Fraction(30000, 1001), 'demo_316x178.mp4': Fraction(16)}


def demo_frames(num: int, height: int, width: int) -> list:
    """The first ``num`` RGB frames of tests/data's demo clip, cropped to ``height x width``."""
    return [cv2.cvtColor(cv2.imread(str(path))[:height, :width], cv2.COLOR_BGR2RGB)
            for path in sorted(DEMO_FRAMES.glob('*.png'))[:num]]


@pytest.fixture(scope='module')
def demo_clip(tmp_path_factory):
    """The 15 demo frames as H.264 at 16 fps, 316x178: even but no multiple of 16."""
    return write_video(tmp_path_factory.mktemp('demo') / 'demo_316x178.mp4',
                       demo_frames(15, 178, 316), fps=Fraction(16))


def probe(path):
    import av
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        return dict(frames=video.frames, fps=video.average_rate, size=(video.width, video.height),
                    codec=video.codec_context.name, audio=len(container.streams.audio))


@pytest.mark.parametrize('clip', CLIPS)
def test_frame_count_rate_and_size(media, demo_clip, tmp_path, clip):
    # The stand-in generator keeps this about the streaming pipeline, not the network's speed.
    src = demo_clip if clip == demo_clip.name else media(clip)
    source = open_source(src)
    lq_w, lq_h = next(iter(source)).shape[1::-1]
    out = tmp_path / 'out.mp4'
    result = restore_video(VideoRestorer(NearestX4(), window=12, overlap=4), src, out,
                           progress=False, preset='ultrafast')
    info = probe(out)
    assert info['codec'] == 'h264'
    assert info['fps'] == source.fps == CLIPS[clip]
    assert info['size'] == result['size'] == (4 * lq_w, 4 * lq_h)
    assert info['frames'] == result['frames'] == source.num_frames
    assert len(list(open_source(out))) == source.num_frames


def test_corrupt_input_leaves_existing_output_untouched(media, tmp_path):
    # bikes.mp4 (250 frames) zeroed at a twentieth of its length: decoding fails after 17
    # frames, once the sink has written some
    data = bytearray(media('bikes.mp4').read_bytes())
    start = len(data) // 20
    data[start:start + 4000] = bytes(4000)
    (tmp_path / 'corrupt.mp4').write_bytes(bytes(data))
    for output in (tmp_path / 'out.mp4', tmp_path / 'frames'):
        if output.suffix:
            output.write_bytes(b'previous result')
        else:
            output.mkdir()
            (output / 'previous.png').write_bytes(b'previous result')
        with pytest.raises(VideoIOError, match='corrupt or truncated: decoding failed after'):
            restore_video(VideoRestorer(NearestX4(), window=6, overlap=2),
                          tmp_path / 'corrupt.mp4', output, overwrite=True, progress=False)
    assert (tmp_path / 'out.mp4').read_bytes() == b'previous result'
    assert [p.name for p in (tmp_path / 'frames').iterdir()] == ['previous.png']
    assert sorted(p.name for p in tmp_path.iterdir()) == ['corrupt.mp4', 'frames', 'out.mp4']


@pytest.fixture(scope='module')
def small_clip(tmp_path_factory):
    """12 real frames (tests/data's demo clip, area-resized to 64x64) with an audio track."""
    frames = [cv2.resize(f, (64, 64), interpolation=cv2.INTER_AREA)
              for f in demo_frames(12, 288, 356)]
    return write_video(tmp_path_factory.mktemp('clip') / 'small.mp4', frames, fps=Fraction(16),
                       audio_seconds=0.75)


def test_cli_restores_with_released_checkpoint_layout(restore_cli, tiny_config, tiny_checkpoint,
                                                      small_clip, tmp_path, capsys):
    out = tmp_path / 'restored.mp4'
    args = [str(tiny_config), str(tiny_checkpoint), str(small_clip), str(out), '--window', '8',
            '--overlap', '2', '--preset', 'ultrafast', '--refine-threshold', '1.5']
    assert restore_cli(args) == 0
    info = probe(out)
    assert (info['frames'], info['fps'], info['size'], info['audio']) == (12, 16, (256, 256), 1)
    assert 'wrote' in capsys.readouterr().out

    # frames in, PNG folder out, another output size, whole-video mode
    frames = tmp_path / 'frames'
    frames.mkdir()
    for i, frame in enumerate(open_source(small_clip)):
        cv2.imwrite(str(frames / f'{i:03d}.png'), frame[..., ::-1])
    assert restore_cli([str(tiny_config), str(tiny_checkpoint), str(frames / '*.png'),
                        str(tmp_path / 'out_frames'), '--window', '0', '--out-size=-1x96',
                        '--no-progress']) == 0
    written = sorted((tmp_path / 'out_frames').iterdir())
    assert [p.name for p in written] == [f'{i:08d}.png' for i in range(12)]
    assert cv2.imread(str(written[0])).shape == (96, 96, 3)


def test_cli_errors_keep_existing_output(restore_cli, tiny_config, tiny_checkpoint, small_clip,
                                         tmp_path, capsys):
    data = small_clip.read_bytes()
    (tmp_path / 'cut.mp4').write_bytes(data[:len(data) * 2 // 3])
    out = tmp_path / 'out.mp4'
    out.write_bytes(b'previous result')
    base = [str(tiny_config), str(tiny_checkpoint)]
    cases = [
        ([str(tmp_path / 'cut.mp4'), str(out), '--overwrite'], 'corrupt or truncated'),
        ([str(small_clip), str(out)], 'already exists'),
        ([str(small_clip), str(out), '--overwrite', '--codec', 'h999'],
         "unknown video codec 'h999'"),
        ([str(small_clip), str(out), '--window', '8', '--overlap', '6'], 'overlap must be in'),
    ]
    for args, message in cases:
        assert restore_cli(base + args) == 1
        assert message in capsys.readouterr().err
    assert out.read_bytes() == b'previous result'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['cut.mp4', 'out.mp4']
