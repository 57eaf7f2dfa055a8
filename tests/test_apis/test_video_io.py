from fractions import Fraction

import cv2
import numpy as np
import pytest

from mmrbvsr.apis.video_io import (
    ImageFolderSink,
    VideoFileSink,
    VideoIOError,
    is_video_path,
    open_source,
)

from .conftest import random_frames, write_video


@pytest.mark.parametrize('name, frames, size, fps, audio', [
    ('carphone_distorted.mp4', 120, (144, 176), Fraction(30000, 1001), False),
    ('bikes.mp4', 250, (272, 640), Fraction(25), False),
    ('bigbuckbunny.mp4', 132, (720, 1280), Fraction(25), True)])
def test_video_source(media, name, frames, size, fps, audio):
    source = open_source(media(name))
    decoded = list(source)
    assert source.num_frames == len(decoded) == frames
    assert all(f.shape == size + (3,) and f.dtype == np.uint8 for f in decoded)
    assert source.fps == fps
    assert source.audio_path == (str(media(name)) if audio else None)


def test_folder_and_glob_sources(tmp_path):
    frames = random_frames(11, 16, 24)
    for i, frame in enumerate(frames):  # natural order: 2.png before 10.png
        cv2.imwrite(str(tmp_path / f'{i}.png'), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    (tmp_path / 'notes.txt').write_text('not a frame')
    for spec in (tmp_path, str(tmp_path / '*.png')):
        source = open_source(spec, fps=12.5)
        assert source.num_frames == 11 and source.fps == Fraction(25, 2)
        for a, b in zip(source, frames):
            np.testing.assert_array_equal(a, b)


def test_unreadable_inputs(tmp_path, media):
    data = media('bikes.mp4').read_bytes()
    (tmp_path / 'half.mp4').write_bytes(data[:len(data) // 2])
    # seeded: some random byte strings probe as an audio-only format ('has no video
    # stream', also a clear error), which made os.urandom flaky here
    (tmp_path / 'noise.mp4').write_bytes(np.random.default_rng(0).bytes(4096))
    (tmp_path / 'empty.mp4').write_bytes(b'')
    for name in ('half.mp4', 'noise.mp4', 'empty.mp4'):
        with pytest.raises(VideoIOError, match=f'cannot read .*{name}.*corrupt or truncated'):
            open_source(tmp_path / name)
    with pytest.raises(VideoIOError, match='neither a video file'):
        open_source(tmp_path / 'missing.mp4')
    (tmp_path / 'frames').mkdir()
    with pytest.raises(VideoIOError, match='no frames found'):
        open_source(tmp_path / 'frames')


def test_corrupt_middle_and_truncated_tail(tmp_path, media):
    data = bytearray(media('bikes.mp4').read_bytes())
    middle = len(data) // 2
    data[middle:middle + 4000] = np.random.default_rng(0).integers(0, 256, 4000, np.uint8).tobytes()
    (tmp_path / 'corrupt.mp4').write_bytes(bytes(data))
    with pytest.raises(VideoIOError, match='corrupt or truncated: decoding failed after'):
        list(open_source(tmp_path / 'corrupt.mp4'))

    # moov atom first (faststart): the header survives a cut, the frames do not
    import av
    path = tmp_path / 'faststart.mp4'
    container = av.open(str(path), 'w', options={'movflags': 'faststart'})
    stream = container.add_stream('libx264', rate=25, options={'preset': 'ultrafast'})
    stream.width = stream.height = 64
    for frame in random_frames(40, 64, 64):
        for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format='rgb24')):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)
    container.close()
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    # PyAV 12 fails on the cut packet, PyAV 18 stops early: both must be reported
    with pytest.raises(VideoIOError, match=r'faststart.mp4.* is (corrupt or )?truncated'):
        list(open_source(path))


def test_changing_frame_size(tmp_path):
    for i, frame in enumerate(random_frames(2, 16, 16) + random_frames(1, 16, 18)):
        cv2.imwrite(str(tmp_path / f'{i:03d}.png'), frame)
    with pytest.raises(VideoIOError, match='frame 2 is 18x16 but earlier frames are 16x16'):
        list(open_source(tmp_path))


def test_video_sink_keeps_fps_and_copies_audio(tmp_path):
    src = write_video(tmp_path / 'in.mp4', random_frames(20, 32, 48), fps=Fraction(30000, 1001),
                      audio_seconds=0.7)
    source = open_source(src)
    assert source.audio_path == str(src)
    out = tmp_path / 'out.mkv'
    with VideoFileSink(out, source.fps, audio_from=source.audio_path, crf=20,
                       preset='ultrafast') as sink:
        for frame in source:
            sink.write(frame)
    import av
    with av.open(str(out)) as container:
        video = container.streams.video[0]
        assert video.codec_context.name == 'h264'
        assert (video.width, video.height) == (48, 32)
        assert video.average_rate == Fraction(30000, 1001)
        assert len(container.streams.audio) == 1
        assert container.streams.audio[0].codec_context.name == 'aac'
    assert len(list(open_source(out))) == 20
    assert sorted(p.name for p in tmp_path.iterdir()) == ['in.mp4', 'out.mkv']


def test_sinks_never_leave_half_written_outputs(tmp_path):
    video, folder = tmp_path / 'old.mp4', tmp_path / 'old_frames'
    video.write_bytes(b'precious')
    folder.mkdir()
    (folder / 'keep.png').write_bytes(b'precious')
    with pytest.raises(VideoIOError, match='already exists'):
        VideoFileSink(video, 25)
    with pytest.raises(VideoIOError, match='already exists'):
        ImageFolderSink(folder)
    for sink in (VideoFileSink(video, 25, overwrite=True),
                 ImageFolderSink(folder, overwrite=True)):
        with pytest.raises(RuntimeError, match='boom'):
            with sink:
                for frame in random_frames(3, 16, 16):
                    sink.write(frame)
                raise RuntimeError('boom')
    assert video.read_bytes() == b'precious'
    assert [p.name for p in folder.iterdir()] == ['keep.png']
    assert sorted(p.name for p in tmp_path.iterdir()) == ['old.mp4', 'old_frames']

    with ImageFolderSink(folder, overwrite=True, filename_tmpl='{:04d}.png', start_idx=1) as sink:
        for frame in random_frames(2, 16, 16):
            sink.write(frame)
    assert sorted(p.name for p in folder.iterdir()) == ['0001.png', '0002.png']
    assert sorted(p.name for p in tmp_path.iterdir()) == ['old.mp4', 'old_frames']


def test_sink_errors(tmp_path):
    with pytest.raises(VideoIOError, match="unknown video codec 'nocodec'"):
        VideoFileSink(tmp_path / 'a.mp4', 25, codec='nocodec')
    with pytest.raises(VideoIOError, match='output folder .* does not exist'):
        VideoFileSink(tmp_path / 'missing' / 'a.mp4', 25)
    sink = VideoFileSink(tmp_path / 'a.mp4', 25)
    with pytest.raises(VideoIOError, match='even frame size, got 15x16'):
        with sink:
            sink.write(np.zeros((16, 15, 3), np.uint8))
    sink = VideoFileSink(tmp_path / 'a.mp4', 25)
    with pytest.raises(VideoIOError, match='frame 1 is 18x16 but earlier frames are 16x16'):
        with sink:
            sink.write(np.zeros((16, 16, 3), np.uint8))
            sink.write(np.zeros((16, 18, 3), np.uint8))
    assert list(tmp_path.iterdir()) == []
    assert is_video_path('x.MP4') and not is_video_path('frames')


def test_two_runs_to_one_target(tmp_path):
    """The first to finish publishes; the other neither replaces it nor leaves anything."""
    out = tmp_path / 'out.mp4'
    first, second = VideoFileSink(out, 25), VideoFileSink(out, 25)
    frames = random_frames(2, 16, 16)
    with first:
        first.write(frames[0])
        # one process writes a target once at a time (a second would share the temp name)
        with pytest.raises(FileExistsError, match='already being written by this process'):
            second.write(frames[1])
    assert len(list(open_source(out))) == 1
    out.unlink()
    third = VideoFileSink(out, 25)
    with pytest.raises(VideoIOError, match='appeared while this one was written'):
        with third:
            third.write(frames[1])
            out.write_bytes(b'the other run')
    assert out.read_bytes() == b'the other run'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['out.mp4']


def test_output_kinds(tmp_path):
    from mmrbvsr.apis.video_io import output_kind
    (tmp_path / 'frames.v2').mkdir()
    assert output_kind(tmp_path / 'x.MKV') == 'video' and output_kind(tmp_path / 'x.y4m') == 'video'
    assert output_kind(tmp_path / 'frames') == 'folder'
    assert output_kind(tmp_path / 'frames.v2') == 'folder'  # exists
    assert output_kind(f'{tmp_path}/new.v3/') == 'folder'  # ends in /
    for name in ('x.gif', 'x.png', 'new.v3'):
        with pytest.raises(VideoIOError, match=f"unknown extension '{name[name.rfind('.'):]}'"):
            output_kind(tmp_path / name)
