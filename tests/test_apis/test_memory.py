"""Peak memory of the streaming restorer does not grow with the video length.

Each run is a fresh subprocess reporting its own peak RSS (``ru_maxrss``), so earlier tests
cannot mask growth. The stand-in generator keeps a 1000-frame run fast; the network's own
memory per window does not depend on the video length either way.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO, random_frames, write_video

CHILD = r"""
import json, resource, sys
sys.path.insert(0, {tests!r})
from conftest import NearestX4
from mmrbvsr.apis import VideoRestorer, restore_video
window = None if sys.argv[3] == 'whole' else int(sys.argv[3])
restorer = VideoRestorer(NearestX4(), window=window, overlap=4 if window else 0)
result = restore_video(restorer, sys.argv[1], sys.argv[2], progress=False, preset='ultrafast')
print(json.dumps(dict(frames=result['frames'], stats=restorer.stats,
                      peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
"""


@pytest.fixture(scope='module')
def long_videos(tmp_path_factory):
    root = tmp_path_factory.mktemp('long')
    pattern = random_frames(25, 64, 64)  # repeated: cheap to make, still 1000 real frames
    return {n: write_video(root / f'{n}.mp4', (pattern[i % 25] for i in range(n)))
            for n in (100, 1000)}


def peak(video: Path, window: str, tmp_path: Path) -> dict:
    out = tmp_path / f'{video.stem}_{window}.mp4'
    code = CHILD.format(tests=str(Path(__file__).parent))
    env = dict(os.environ, OMP_NUM_THREADS='1')
    done = subprocess.run([sys.executable, '-c', code, str(video), str(out), window],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


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
