"""Faults injected into the real command lines: interrupts, killed runs, bad input, bad data.

Signals go to ``tools/restore_video.py`` run as a process, once its temporary output exists
(mid-write); everything else runs the same command-line functions in this process (the model
is a tiny generator, so each case takes a fraction of a second once PyTorch is imported).
"""
import hashlib
import importlib.util
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path
from typing import Optional

import cv2
import numpy as np
import pytest
import torch

from mmrbvsr.apis import command, open_source
from mmrbvsr.apis.progress import FrameProgress
from tests.test_apis.conftest import write_video

REPO = Path(__file__).resolve().parents[2]
RESTORE = REPO / 'tools' / 'restore_video.py'
HOST = re.sub(r'[^A-Za-z0-9-]', '-', socket.gethostname())[:63]


def frames(num: int, size: int = 32, seed: int = 0):
    """Smoothly moving noise: a real-looking clip for flow, cheap to restore."""
    rng = np.random.default_rng(seed)
    base = cv2.GaussianBlur(rng.integers(0, 256, (size * 2, size * 2, 3), np.uint8), (0, 0), 2)
    return [np.ascontiguousarray(np.roll(base, i, axis=1)[:size, :size]) for i in range(num)]


@pytest.fixture(scope='module')
def long_clip(tmp_path_factory) -> Path:
    """300 frames with audio: far more than a run gets through before it is signalled.

    Noise: the restored frames compress badly, so the first window fills the muxer's buffer.
    """
    rng = np.random.default_rng(0)
    noise = [rng.integers(0, 256, (32, 32, 3), np.uint8) for _ in range(300)]
    return write_video(tmp_path_factory.mktemp('long') / 'long.mp4', noise, fps=Fraction(25),
                       audio_seconds=12)


@pytest.fixture(scope='module')
def short_clip(tmp_path_factory) -> Path:
    return write_video(tmp_path_factory.mktemp('short') / 'short.mp4', frames(16, seed=1),
                       fps=Fraction(16), audio_seconds=1)


def snapshot(folder: Path) -> dict:
    """Every entry under ``folder`` (hidden ones too): kind, permissions and content hash."""
    out = {}
    for path in sorted(folder.rglob('*')):
        info = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
        out[str(path.relative_to(folder))] = (stat.S_IFMT(info.st_mode),
                                              stat.S_IMODE(info.st_mode), digest)
    return out


def start_restore(args, **kwargs) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get(
        'PYTHONPATH', '')]))
    return subprocess.Popen([sys.executable, str(RESTORE), *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def mid_write(folder: Path) -> Optional[Path]:
    """The run's temporary output once it holds restored frames, else None.

    A video's temporary file first holds the trial frame encoded before the model loads (a
    black frame, a few hundred bytes) and grows by the muxer's 32 KB buffer; 16 KB are frames.
    """
    for path in folder.iterdir():
        if '.partial-' in path.name and (path.is_file() and path.stat().st_size > 16384 or
                                         path.is_dir() and any(path.iterdir())):
            return path
    return None


def wait_mid_write(proc: subprocess.Popen, folder: Path, timeout: float = 240) -> Path:
    """Waits until the run has written frames into its temporary output; returns that path."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        partial = mid_write(folder)
        if partial is not None:
            return partial
        if proc.poll() is not None:
            pytest.fail(f'the run ended before writing: {proc.communicate()}')
        time.sleep(0.01)
    proc.kill()
    pytest.fail('no temporary output appeared')


def cli(args) -> int:
    """``tools/restore_video.py ARGS`` in this process; its exit status."""
    return command.main([str(a) for a in args])


def restore_args(tiny_config, tiny_checkpoint, src, out, *extra):
    return [tiny_config, tiny_checkpoint, src, out, '--window', '4', '--overlap', '1',
            '--preset', 'ultrafast', *extra] if Path(out).suffix else \
        [tiny_config, tiny_checkpoint, src, out, '--window', '4', '--overlap', '1', *extra]


SIGNAL_CASES = [  # signal, output, whether an output exists (replaced with --overwrite)
    (signal.SIGTERM, 'out.mp4', True),
    (signal.SIGTERM, 'frames_out', True),
    (signal.SIGHUP, 'out.mov', True),
    (signal.SIGINT, 'out.mp4', False),  # with the progress line on
]


@pytest.mark.parametrize('case', SIGNAL_CASES, ids=lambda c: f'{c[0].name}-{c[1]}')
def test_signal_mid_write_leaves_the_folder_as_it_was(case, long_clip, tiny_config,
                                                      tiny_checkpoint, tmp_path):
    signum, output, existing = case
    src = tmp_path / 'in.mp4'
    src.write_bytes(long_clip.read_bytes())
    out = tmp_path / output
    if existing and out.suffix:
        out.write_bytes(b'previous result')
    elif existing:
        out.mkdir()
        (out / 'previous.png').write_bytes(b'previous result')
    before = snapshot(tmp_path)
    extra = ['--overwrite'] + ([] if signum == signal.SIGINT else ['--no-progress'])
    proc = start_restore(restore_args(tiny_config, tiny_checkpoint, src, out, *extra))
    wait_mid_write(proc, tmp_path)
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signum, stderr
    assert 'Traceback' not in stderr and 'KeyboardInterrupt' not in stderr
    state = 'left as it was' if existing else 'not written'
    assert f'interrupted by {signum.name}: {str(out)!r} {state}' in stderr.splitlines()
    assert snapshot(tmp_path) == before


def test_leftovers_of_a_killed_run_are_removed_by_the_next_run(long_clip, short_clip,
                                                               tiny_config, tiny_checkpoint,
                                                               tmp_path, capsys):
    out = tmp_path / 'out.mp4'
    proc = start_restore(restore_args(tiny_config, tiny_checkpoint, long_clip, out,
                                      '--no-progress'))
    leftover = wait_mid_write(proc, tmp_path)
    proc.kill()
    proc.wait()
    assert leftover.name == f'.out.mp4.partial-{proc.pid}-{HOST}.mp4' and leftover.exists()
    # what the next run must not touch: a live process's output (pid 1 always runs), another
    # host's (shared folders), and files that only look alike
    keep = [f'.out.mp4.partial-1-{HOST}.mp4', f'.out.mp4.partial-{proc.pid}-otherhost.mp4',
            '.out.mp4.partial-notes.txt', f'.other.mp4.partial-{proc.pid}-{HOST}.mp4']
    for name in keep:
        (tmp_path / name).write_bytes(b'not ours to delete')

    assert cli(restore_args(tiny_config, tiny_checkpoint, short_clip, out,
                                     '--no-progress')) == 0
    err = capsys.readouterr().err
    assert f"note: removed {str(leftover)!r}, left by an interrupted run" in err.splitlines()
    assert not leftover.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(keep + ['out.mp4'])
    assert len(list(open_source(out))) == 16


def test_folder_moved_aside_by_a_killed_replacement_is_put_back(short_clip, tiny_config,
                                                                tiny_checkpoint, tmp_path,
                                                                capsys):
    # killed between the two renames of a replacement: the old folder aside, the new one done
    dead = subprocess.run([sys.executable, '-c', 'import os; print(os.getpid())'],
                          capture_output=True, text=True).stdout.strip()
    aside = tmp_path / f'.restored.partial-{dead}-{HOST}.old'
    aside.mkdir()
    (aside / 'previous.png').write_bytes(b'previous result')
    done = tmp_path / f'.restored.partial-{dead}-{HOST}'
    done.mkdir()
    (done / '00000000.png').write_bytes(b'new result')
    out = tmp_path / 'restored'
    assert cli(restore_args(tiny_config, tiny_checkpoint, short_clip, out)) == 1
    err = capsys.readouterr().err
    assert 'already exists' in err and 'restored' in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ['restored']
    assert [p.name for p in out.iterdir()] == ['previous.png']


def test_png_folders_get_the_umask_permissions(short_clip, tiny_config, tiny_checkpoint,
                                               tmp_path):
    old = os.umask(0o022)
    try:
        assert cli(restore_args(tiny_config, tiny_checkpoint, short_clip,
                                         tmp_path / 'png', '--no-progress')) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / 'png').stat().st_mode) == 0o755
    assert {stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / 'png').iterdir()} == {0o644}


def test_y4m_output(short_clip, tiny_config, tiny_checkpoint, tmp_path, capsys):
    out = tmp_path / 'out.y4m'
    assert cli(restore_args(tiny_config, tiny_checkpoint, short_clip, out)[:4] +
               ['--frames', '6', '--no-progress']) == 0
    err = capsys.readouterr().err
    assert f"note: a .y4m file holds no audio: the audio of {str(short_clip)!r} is not " \
           'copied' in err.splitlines()
    import av
    with av.open(str(out)) as container:
        assert container.format.name == 'yuv4mpegpipe'
        assert container.streams.video[0].codec_context.name == 'rawvideo'
    restored = list(open_source(out))
    assert len(restored) == 6 and restored[0].shape == (128, 128, 3)
    # rawvideo is what y4m holds: another codec is refused up front
    assert cli([tiny_config, tiny_checkpoint, short_clip, tmp_path / 'b.y4m',
                         '--codec', 'libx264']) == 1
    assert 'a .y4m file holds only rawvideo or wrapped_avframe video' in capsys.readouterr().err


def test_frame_range_of_a_video(short_clip, tiny_config, tiny_checkpoint, tmp_path, capsys):
    from mmrbvsr.apis import VideoRestorer
    from tests.test_apis.conftest import tiny_generator
    args = [tiny_config, tiny_checkpoint, short_clip]
    assert cli(args + [tmp_path / 'png', '--start', '5', '--frames', '4', '--window',
                                '0', '--no-progress']) == 0
    written = sorted((tmp_path / 'png').iterdir())
    assert len(written) == 4
    # the checkpoint's EMA generator on input frames 5..8, whole
    expected = VideoRestorer(tiny_generator(1), window=None).restore_frames(
        list(open_source(short_clip))[5:9])
    for path, frame in zip(written, expected):
        np.testing.assert_array_equal(cv2.imread(str(path))[..., ::-1], frame)

    # a video output keeps the audio of those frames: 6 frames at 16 fps
    out = tmp_path / 'part.mkv'
    assert cli(args + [out, '--start', '8', '--frames', '6', '--preset',
                                'ultrafast', '--no-progress']) == 0
    import av
    with av.open(str(out)) as container:
        audio = container.streams.audio[0]
        ends = [float((p.pts + p.duration) * p.time_base)
                for p in container.demux(audio) if p.pts is not None]
    assert len(list(open_source(out))) == 6
    assert 6 / 16 - 0.05 < max(ends) < 6 / 16 + 0.05
    assert cli(args + [tmp_path / 'x.mp4', '--start', '16']) == 1
    assert "start frame 16 is past the end of" in capsys.readouterr().err


BAD_REQUESTS = [
    (['{out}/out.gif'], "unknown extension '.gif'"),
    (['{out}/out.png'], "unknown extension '.png'"),
    (['{out}/png', '--window', '0', '--overlap', '2'], '--overlap 2 needs windows'),
    (['{out}/png', '--crf', '20'], "--crf apply to video files, but '{out}/png' is a folder"),
    (['{out}/a.mp4', '--codec', 'mpeg4', '--preset', 'slow'], '--preset apply to libx264'),
    (['{out}/a.mp4', '--crf', '20', '--bitrate', '100000'], 'give --crf or --bitrate'),
    (['{out}/a.mp4', '--out-size', '101x64'], 'yuv420p output needs an even frame size'),
    (['{out}/a.webm', '--codec', 'libx264'], "'webm' format does not support 'libx264'"),
    (['{out}/a.mp4', '--preset', 'fastest'], "cannot encode libx264 video (yuv420p, options "
     "{{'crf': '18', 'preset': 'fastest'}})"),
    (['{out}/a.mp4', '--pix-fmt', 'rgb24'], "libx264 cannot encode pixel format 'rgb24'"),
    (['{out}/a.mp4', '--codec', 'h999'], "unknown video codec 'h999'"),
    (['{out}/missing/a.mp4'], "output folder '{out}/missing' does not exist"),
    (['{out}/exists.mp4'], "output '{out}/exists.mp4' already exists"),
    (['{out}/a.mp4', '--start', '99'], 'start frame 99 is past the end'),
    (['{out}/a.mp4', '--window', '1'], 'window must be at least 2'),
    (['{out}/a.mp4', '--device', 'cuda:7'], "device 'cuda:7'"),
]


@pytest.mark.parametrize('extra, message', BAD_REQUESTS)
def test_bad_requests_fail_before_the_model_is_built(extra, message, short_clip, tiny_config,
                                                     tiny_checkpoint, tmp_path, capsys,
                                                     monkeypatch):
    monkeypatch.setattr(command, 'build_restorer', lambda *a: pytest.fail('model built'))
    (tmp_path / 'exists.mp4').write_bytes(b'previous result')
    extra = [e.format(out=tmp_path) for e in extra]
    begin = time.perf_counter()
    assert cli([tiny_config, tiny_checkpoint, short_clip, *extra]) == 1
    seconds = time.perf_counter() - begin
    err = capsys.readouterr().err
    assert err.startswith('error: ') and err.count('\n') == 1, err
    assert message.format(out=tmp_path) in err, err
    assert seconds < 3  # the model's load alone takes longer
    assert sorted(p.name for p in tmp_path.iterdir()) == ['exists.mp4']


def test_input_and_checkpoint_faults(short_clip, tiny_config, tiny_checkpoint, tmp_path, capsys,
                                     monkeypatch):
    monkeypatch.setattr(command, 'build_restorer', lambda *a: pytest.fail('model built'))
    (tmp_path / 'text.mp4').write_text('not a video\n' * 100)
    (tmp_path / 'empty.pth').write_bytes(b'')
    cases = [
        ([tiny_config, tiny_checkpoint, tmp_path / 'nothing.mp4'], 'nothing.mp4'),
        ([tiny_config, tiny_checkpoint, tmp_path / 'text.mp4'], "cannot read '"),
        ([tiny_config, tmp_path / 'nothing.pth', short_clip], 'nothing.pth\' does not exist'),
        ([tiny_config, tmp_path / 'empty.pth', short_clip], 'is empty (0 bytes)'),
        ([tmp_path / 'nothing.py', tiny_checkpoint, short_clip], "config file '"),
        # a URL would be downloaded only after every other check
        ([tiny_config, 'http://127.0.0.1:9/x.pth', short_clip, tmp_path / 'o.gif'],
         'unknown extension'),
    ]
    for args, message in cases:
        if len(args) == 3:
            args = args + [tmp_path / 'out.mp4']
        assert cli(args) == 1
        err = capsys.readouterr().err
        assert err.startswith('error: ') and message in err and err.count('\n') == 1, err


def test_broken_checkpoints_and_configs_are_one_line_errors(short_clip, tiny_config, tmp_path,
                                                            capsys):
    (tmp_path / 'garbage.pth').write_bytes(np.random.default_rng(0).bytes(3000))
    torch.save({'state_dict': {'a': torch.zeros(3)}}, tmp_path / 'whole.pth')
    data = (tmp_path / 'whole.pth').read_bytes()
    (tmp_path / 'cut.pth').write_bytes(data[:len(data) // 2])
    torch.save({'net': torch.nn.Linear(2, 2)}, tmp_path / 'pickled.pth')
    typo = tmp_path / 'typo.py'
    typo.write_text(tiny_config.read_text().replace('RealBasicVSRNet', 'RealBasicVSRNett'))
    cases = [
        (tiny_config, tmp_path / 'garbage.pth', 'is not a PyTorch checkpoint, or it is corrupt'),
        (tiny_config, tmp_path / 'cut.pth', 'is truncated or corrupt'),
        (tiny_config, tmp_path / 'pickled.pth', 'holds Python objects besides weights (e.g. '
         'torch.nn.modules.linear.Linear)'),
        (tiny_config, tmp_path / 'whole.pth', 'does not fit RealBasicVSRNet'),
        (typo, tmp_path / 'whole.pth', "model.generator type 'mmrbvsr.RealBasicVSRNett' is "
         'not a known model'),
    ]
    for config, checkpoint, message in cases:
        assert cli([config, checkpoint, short_clip, tmp_path / 'out.mp4',
                             '--no-progress']) == 1
        err = capsys.readouterr().err
        assert message in err and 'weights_only' not in err and 'Traceback' not in err, err
        assert err.splitlines()[-1].startswith('error: ')
    assert not (tmp_path / 'out.mp4').exists()


def test_bf16_on_a_cpu_without_bf16_is_announced(short_clip, tiny_config, tiny_checkpoint,
                                                 tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(torch.cpu, '_is_avx512_bf16_supported', lambda: False)
    monkeypatch.setattr(torch.cpu, '_is_amx_tile_supported', lambda: False)
    assert cli([tiny_config, tiny_checkpoint, short_clip, tmp_path / 'png',
                         '--dtype', 'bf16', '--frames', '2', '--no-progress']) == 0
    assert 'warning: this CPU has no bf16 instructions (AVX512-BF16 or AMX): bf16 is ' \
        'emulated and runs about 5x slower than fp32 here; use --dtype fp32' in \
        capsys.readouterr().err.splitlines()


def test_progress_line_and_errors_on_a_line_of_their_own(short_clip, tiny_config,
                                                         tiny_checkpoint, tmp_path, capsys,
                                                         monkeypatch):
    class Terminal:  # stderr as a terminal: the progress line is redrawn with \r
        def __init__(self):
            self.text = ''

        def write(self, text):
            self.text += text

        def flush(self):
            pass

        def isatty(self):
            return True

    # 12 frames, the 9th truncated: the run fails after the first windows are written
    (tmp_path / 'in').mkdir()
    for i, frame in enumerate(frames(12, seed=2)):
        cv2.imwrite(str(tmp_path / 'in' / f'{i:03d}.png'), frame)
    data = (tmp_path / 'in' / '008.png').read_bytes()
    (tmp_path / 'in' / '008.png').write_bytes(data[:len(data) // 2])
    terminal = Terminal()
    monkeypatch.setattr(sys, 'stderr', terminal)
    monkeypatch.setattr(FrameProgress, 'tty_interval', 0.0)  # every update drawn, however fast
    assert cli([tiny_config, tiny_checkpoint, tmp_path / 'in', tmp_path / 'out.mp4',
                '--window', '4', '--overlap', '1']) == 1
    # the status line, redrawn in place, then the error on a line of its own (loggers that
    # earlier tests left writing to their captured output may add lines before)
    lines = terminal.text.split('\n')
    assert lines[-2:] == [f"error: cannot read image {str(tmp_path / 'in' / '008.png')!r} "
                          f"(frame 8 of {str(tmp_path / 'in')!r})", '']
    draws = lines[-3].split('\r')[1:]
    assert len(draws) >= 3 and all(
        re.fullmatch(r'frame \d+/12 \(\d+%\)  \d+\.\d\d frames/s  0:\d\d elapsed'
                     r'(  ETA 0:\d\d)? *', draw) for draw in draws), terminal.text
    assert not (tmp_path / 'out.mp4').exists()


def load_tool(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / 'tools' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_convert_checkpoint_errors_are_one_line(tmp_path, capsys):
    tool = load_tool('convert_checkpoint')
    (tmp_path / 'garbage.pth').write_bytes(np.random.default_rng(1).bytes(3000))
    (tmp_path / 'empty.pth').write_bytes(b'')
    torch.save({'state_dict': {'backward_resblocks.main.0.weight': torch.zeros(1)}},
               tmp_path / 'ok.pth')
    out = str(tmp_path / 'out.pth')
    cases = [
        (['garbage.pth', '--out', out], "garbage.pth' is not a PyTorch checkpoint"),
        (['empty.pth', '--out', out], "empty.pth' is empty (0 bytes)"),
        (['nothing.pth', '--out', out], "nothing.pth' does not exist"),
        (['ok.pth', '--out', str(tmp_path / 'no' / 'out.pth')], 'output folder'),
        (['ok.pth', '--out', str(tmp_path)], 'is a folder; give a file name'),
        (['ok.pth', '--out', str(tmp_path / 'ok.pth')], 'would overwrite the source'),
        (['ok.pth', '--key', 'params', '--out', out], "no state dict under key 'params'"),
    ]
    for args, message in cases:
        args = [str(tmp_path / args[0]), *args[1:]]
        with pytest.raises(SystemExit) as exit_info:
            tool.main(args)
        assert exit_info.value.code.startswith('error: ') and message in exit_info.value.code
        assert 'weights_only' not in exit_info.value.code
    assert sorted(p.name for p in tmp_path.iterdir()) == ['empty.pth', 'garbage.pth', 'ok.pth']

    # the real process: no traceback, one line, status 1
    res = subprocess.run([sys.executable, str(REPO / 'tools' / 'convert_checkpoint.py'),
                          str(tmp_path / 'garbage.pth'), '--out', out], capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 1
    assert res.stderr.splitlines()[-1].startswith('error: ') and 'Traceback' not in res.stderr
    assert 'weights_only' not in res.stderr


def test_prepare_demo_data_refuses_sizes_the_demo_cannot_train(tmp_path, capsys):
    tool = load_tool('prepare_demo_data')
    with pytest.raises(SystemExit) as exit_info:
        tool.main(['--out', str(tmp_path / 'demo'), '--size', '96'])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err == ('error: --size 96 is too small for the demo configs, which crop 128x128 GT '
                   'patches (LQ 32x32, the smallest input the generator takes): use --size 128 '
                   'or more\n')
    assert not (tmp_path / 'demo').exists()


def test_training_names_an_unreadable_frame_or_skips_it_when_asked(tmp_path, monkeypatch):
    """``tools/train.py`` on a clip with a truncated PNG, read by a DataLoader worker."""
    from mmrbvsr.datasets.transforms.loading import LoadImageFromFile
    from mmrbvsr.utils.cli import train
    # the count is per process: forked workers inherit what earlier tests here counted
    monkeypatch.setattr(LoadImageFromFile, 'skipped', 0)
    from tests.test_datasets.test_transforms.test_loading import truncate, write_clips
    from tests.test_training.helpers import tiny_config as tiny_training_config
    root = tmp_path / 'data'
    write_clips(root / 'train', sizes=((144, 176), (144, 176)))
    bad = root / 'train' / '001' / '00000001.png'
    truncate(bad)
    cfg = tiny_training_config(1, root, tmp_path / 'work', iters=2)
    cfg.merge_from_dict({'train_dataloader.num_workers': 1,
                         'train_dataloader.sampler.shuffle': True})
    # the stage-1 loading and crop, then just a resize to LQ: MMEngine formats the whole
    # config with yapf several times per run, seconds for the full degradation pipeline
    pipeline = cfg.train_dataloader.dataset.pipeline
    cfg.train_dataloader.dataset.pipeline = [
        *[t for t in pipeline[:pipeline.index(next(
            t for t in pipeline if t['type'] == 'mmrbvsr.MirrorSequence'))]],
        dict(type='CopyValues', src_keys=['gt_unsharp'], dst_keys=['img']),
        dict(type='mmrbvsr.RandomResize', params=dict(target_size=(32, 32),
                                                      resize_opt=['area'], resize_prob=[1]),
             keys=['img']),
        dict(type='PackInputs')]
    for key in [k for k in cfg if 'pipeline' in k or 'degradations' in k or 'dataset' in k]:
        cfg.pop(key)
    cfg.dump(str(tmp_path / 'tiny_stage1.py'))

    with pytest.raises(OSError, match=rf"cannot read frame {str(bad)!r} \(clip '001', "
                       r'sample 1\): it cannot be decoded'):
        train([str(tmp_path / 'tiny_stage1.py')])

    train([str(tmp_path / 'tiny_stage1.py'), '--on-data-error', 'skip', '--work-dir',
           str(tmp_path / 'skip')])
    log = next((tmp_path / 'skip').rglob('*.log')).read_text()
    assert (tmp_path / 'skip' / 'iter_2.pth').is_file()
    assert f"skipped an unreadable sample: cannot read frame {str(bad)!r} (clip '001', " \
        'sample 1)' in log
    assert '1 sample(s) skipped by this process so far' in log


def test_demo_config_on_frames_smaller_than_its_crop(tmp_path):
    """Demo data of 96x96 (not from the tool, which refuses it): a clear error, both sizes."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from mmrbvsr.datasets.demo import prepare_demo_data
    from mmrbvsr.datasets.transforms import FrameTooSmallError
    from mmrbvsr.registry import DATASETS
    prepare_demo_data(str(tmp_path), clips_per_image=1, num_frames=3, size=96, num_val_frames=2)
    cfg = Config.fromfile(str(REPO / 'configs' / 'realbasicvsr' / 'demo' /
                              'realbasicvsr_demo_stage1.py'))
    cfg.train_dataloader.dataset.data_root = str(tmp_path)
    with DefaultScope.overwrite_default_scope('mmagic'):
        data = DATASETS.build(cfg.train_dataloader.dataset)
    with pytest.raises(FrameTooSmallError, match=r"gt frames of clip '000' \(.*00000000.png'\) "
                       r'are 96x96, smaller than the 128x128 crop'):
        data[0]
