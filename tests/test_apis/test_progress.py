"""Progress by frame: network steps move the count inside a window; the line ends cleanly."""
import io
import re

import numpy as np

from mmrbvsr.apis import FrameProgress, VideoRestorer, restore_video
from mmrbvsr.apis.video_io import open_source

from .conftest import random_frames, tiny_generator, write_video


class Recorder(FrameProgress):
    def __init__(self, total):
        super().__init__(total, file=io.StringIO(), interval=0)
        self.counts = []

    def update(self, done, force=False):
        super().update(done, force)
        self.counts.append(self.done)


def test_count_moves_inside_windows(tmp_path):
    src = write_video(tmp_path / 'in.mp4', random_frames(16, 32, 32))
    meter = Recorder(16)
    restorer = VideoRestorer(tiny_generator(), window=8, overlap=2)
    result = restore_video(restorer, src, tmp_path / 'out', progress=meter)
    assert result['frames'] == 16 and meter.done == 16
    counts = np.array(meter.counts)
    assert np.all(np.diff(counts) >= 0)
    # before the first window's 6 frames are written, the count rises through its steps:
    # 16 propagation steps (8 frames, both directions) stand for the 6 new frames
    first = counts[:np.argmax(counts >= 1)]
    before = counts[counts < 6]
    assert len(before) >= 12 and len(set(np.round(before, 3))) >= 12, before
    assert all(0 < c < 6 for c in before[1:]) and len(first) >= 2
    line = meter.file.getvalue().splitlines()[-1]
    assert re.fullmatch(r'frame 16/16 \(100%\)  \d+\.\d\d frames/s  0:\d\d elapsed  ETA 0:00',
                        line)


def test_terminal_line_is_redrawn_and_ended():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    meter = FrameProgress(None, file=Terminal(), interval=0)
    for done in (1, 2.5, 2, 30):
        meter.update(done)
    meter.close()
    text = meter.file.getvalue()
    assert text.endswith('\n') and text.count('\n') == 1
    draws = text[:-1].split('\r')[1:]
    assert [d.split()[1] for d in draws] == ['1', '2', '2', '30', '30']  # never backwards
    assert all('frames/s' in d and 'ETA' not in d for d in draws)  # no total, no ETA


def test_frame_range_of_frames_and_videos(tmp_path):
    frames = random_frames(10, 32, 32)
    src = write_video(tmp_path / 'in.mkv', frames)
    decoded = list(open_source(src))
    source = open_source(src, start=3, frames=4)
    assert source.num_frames is None  # MKV: no frame count in the header
    assert [f.tobytes() for f in source] == [f.tobytes() for f in decoded[3:7]]
    assert len(list(open_source(src, start=8, frames=5))) == 2
    assert source.start_seconds == 3 / 25
