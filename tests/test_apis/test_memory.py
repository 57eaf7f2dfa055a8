"""Peak memory of the streaming restorer does not grow with the video length.

Each run is a fresh subprocess reporting its own peak RSS (``VmHWM``: the high-water mark of
its own address space; ``ru_maxrss`` would start from the pytest process's when the child is
spawned with vfork), so earlier tests cannot mask growth. The stand-in generator keeps a
1000-frame run fast; the network's own memory per window does not depend on the video length
either way.

Frames are decoded, restored and encoded in three threads, so one thread frees what another
allocated; with glibc's dynamic mmap threshold, freed frames then stay in the heaps (tens of
MB, growing with the logarithm of the length). The runs fix the threshold at its default
(``MALLOC_MMAP_THRESHOLD_``) so that the peak shows what the program holds.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO, random_frames, write_video

pytestmark = pytest.mark.skipif(not Path('/proc/self/status').exists(),
                                reason='reads the peak RSS from /proc (Linux)')

CHILD = r"""
import json, sys
sys.path.insert(0, {tests!r})
from conftest import NearestX4
from mmrbvsr.apis import VideoRestorer, restore_video
def peak_mb():
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM:'):
            return int(line.split()[1]) / 1024
window = None if sys.argv[1] == 'whole' else int(sys.argv[1])
restorer = VideoRestorer(NearestX4(), window=window, overlap=4 if window else 0,
                         batch_windows=int(sys.argv[2]))
for video, out in zip(sys.argv[3::2], sys.argv[4::2]):  # the peak so far after each
    result = restore_video(restorer, video, out, progress=False, preset='ultrafast')
    print(json.dumps(dict(frames=result['frames'], stats=restorer.stats,
                          peak_mb=peak_mb())))
"""


@pytest.fixture(scope='module')
def long_videos(tmp_path_factory):
    root = tmp_path_factory.mktemp('long')
    pattern = random_frames(25, 64, 64)  # repeated: cheap to make, still 1000 real frames
    return {n: write_video(root / f'{n}.mp4', (pattern[i % 25] for i in range(n)))
            for n in (100, 1000)}


def peak(video: Path, window: str, tmp_path: Path, batch_windows: int = 1,
         *more: Path) -> dict:
    """The stats and peak RSS of a fresh process restoring ``video`` (a list of them, one
    after the other, with ``more``)."""
    videos = (video, ) + more
    outs = [tmp_path / f'{v.stem}_{window}_{batch_windows}.mp4' for v in videos]
    code = CHILD.format(tests=str(Path(__file__).parent))
    env = dict(os.environ, OMP_NUM_THREADS='1', MALLOC_MMAP_THRESHOLD_=str(128 * 1024))
    args = [str(p) for pair in zip(videos, outs) for p in pair]
    done = subprocess.run([sys.executable, '-c', code, window, str(batch_windows), *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    results = [json.loads(line) for line in done.stdout.strip().splitlines()[-len(videos):]]
    return results if more else results[0]


def test_peak_memory_is_bounded_independently_of_length(long_videos, tmp_path):
    short, long = peak(long_videos[100], '10', tmp_path), peak(long_videos[1000], '10', tmp_path)
    assert (short['frames'], long['frames']) == (100, 1000)
    for run in (short, long):
        assert run['stats'] == {'max_input_frames': 10, 'max_output_frames': 14}
    # One 256x256 output frame is 0.75 MB as float32, 0.19 MB as uint8: keeping 900 more
    # frames of either would add 170 MB or more (measured here: about 7 MB).
    assert long['peak_mb'] - short['peak_mb'] < 20, (short, long)

    # The same probe sees the unbounded whole-video mode grow, so the bound is not vacuous.
    # 1000 output frames held as float32 are 750 MB; the baseline RSS varies by ~100 MB.
    whole = peak(long_videos[1000], 'whole', tmp_path)
    assert whole['stats']['max_input_frames'] == 1000
    assert whole['peak_mb'] - long['peak_mb'] > 300, (long, whole)


def test_peak_memory_grows_with_the_batch_not_the_video(tmp_path):
    # 8 windows of 10 frames (step 6) per batch: 7 x 6 + 10 = 52 input frames and
    # 8 x 10 + 4 output frames held, for any length. Smaller frames keep it fast: holding
    # 400 more 128x128 output frames would still add 75 MB as float32, 19 MB as uint8.
    pattern = random_frames(25, 32, 32)
    videos = [write_video(tmp_path / f'{n}.mp4', (pattern[i % 25] for i in range(n)))
              for n in (100, 500)]
    # one process, the short video first: the long one then shows in the peak only if it
    # needs more
    short, long = peak(videos[0], '10', tmp_path, 8, videos[1])
    assert (short['frames'], long['frames']) == (100, 500)
    for run in (short, long):
        assert run['stats'] == {'max_input_frames': 52, 'max_output_frames': 84}
    assert long['peak_mb'] - short['peak_mb'] < 10, (short, long)
