"""Reading, restoring and writing a real clip with PyAV 18 (the pinned stack has PyAV 12)."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
AV18 = Path(os.environ.get('MMRBVSR_AV18', REPO / '.venv' / 'av18'))

CODE = textwrap.dedent("""
    import sys
    import av, torch, torch.nn.functional as F
    from mmrbvsr.apis import VideoRestorer, restore_video

    class NearestX4(torch.nn.Module):
        def forward(self, lqs):
            n, t, c, h, w = lqs.shape
            return F.interpolate(lqs.flatten(0, 1), scale_factor=4).view(n, t, c, 4 * h, 4 * w)

    src, dst = sys.argv[1:]
    restore_video(VideoRestorer(NearestX4(), window=8, overlap=2), src, dst, progress=False)
    with av.open(src) as a, av.open(dst) as b:
        sa, sb = a.streams.video[0], b.streams.video[0]
        frames_a = sum(1 for _ in a.decode(sa))
        frames_b = [f for f in b.decode(sb)]
        print(av.__version__, frames_a, len(frames_b), sa.average_rate, sb.average_rate,
              sa.codec_context.width, frames_b[0].width, sa.codec_context.height,
              frames_b[0].height)
""")


@pytest.mark.skipif(not (AV18 / 'av').is_dir(), reason=f'PyAV 18 not installed in {AV18}')
def test_restore_video_on_pyav18(media, tmp_path):
    src = media('carphone_distorted.mp4')
    dst = tmp_path / 'out.mp4'
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(AV18), str(REPO)]))
    res = subprocess.run([sys.executable, '-c', CODE, str(src), str(dst)], env=env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    version, n_in, n_out, fps_in, fps_out, w_in, w_out, h_in, h_out = res.stdout.split()
    assert version.startswith('18.')
    assert n_in == n_out and int(n_in) > 0
    assert fps_in == fps_out
    assert (int(w_out), int(h_out)) == (4 * int(w_in), 4 * int(h_in))
