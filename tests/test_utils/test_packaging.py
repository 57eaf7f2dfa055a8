"""The package ships configs and tools as ``mmrbvsr/.mim`` (what ``mim`` looks for)."""
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SKIP = shutil.ignore_patterns('.venv', '.git', 'work_dirs', '.mim', '__pycache__', '*.egg-info',
                              'build', 'dist', '.pytest_cache', '.ruff_cache', '.whl', '.cache')


@pytest.fixture(scope='module')
def wheel(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp('src') / 'mmrbvsr'
    shutil.copytree(REPO, src, ignore=SKIP)
    out = tmp_path_factory.mktemp('wheel')
    subprocess.run([
        sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q', '-w',
        str(out), str(src)
    ], check=True)
    wheels = list(out.glob('mmrbvsr-*.whl'))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_ships_configs_and_tools(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    configs = {n for n in names if n.startswith('mmrbvsr/.mim/configs/')}
    tools = {n for n in names if n.startswith('mmrbvsr/.mim/tools/')}
    expected_configs = {
        'mmrbvsr/.mim/configs/' + str(p.relative_to(REPO / 'configs'))
        for p in (REPO / 'configs').rglob('*.py')
    }
    assert expected_configs and expected_configs <= configs
    assert {'mmrbvsr/.mim/tools/train.py', 'mmrbvsr/.mim/tools/test.py',
            'mmrbvsr/.mim/tools/dist_train.sh', 'mmrbvsr/.mim/tools/dist_test.sh'} <= tools
    assert not any(n.startswith('tests/') for n in names)


def test_installed_wheel_imports_and_finds_its_configs(wheel, tmp_path):
    target = tmp_path / 'site'
    subprocess.run([
        sys.executable, '-m', 'pip', 'install', '--no-deps', '-q', '--target',
        str(target), str(wheel)
    ], check=True)
    code = ('import os, mmrbvsr; d = os.path.dirname(mmrbvsr.__file__); '
            'print(d); print(os.path.isfile(os.path.join(d, ".mim", "tools", "train.py")))')
    env = dict(os.environ, PYTHONPATH=str(target))
    out = subprocess.run([sys.executable, '-c', code], cwd=tmp_path, env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    assert Path(out[0]).resolve() == (target / 'mmrbvsr').resolve()
    assert out[1] == 'True'


def test_editable_install_links_mim_to_the_sources():
    # tools/setup_env.sh installs the checkout with `pip install -e .`
    import mmrbvsr
    pkg = Path(mmrbvsr.__file__).resolve().parent
    if pkg != REPO / 'mmrbvsr':
        pytest.skip('mmrbvsr is not installed in editable mode from this checkout')
    for name in ('configs', 'tools'):
        link = pkg / '.mim' / name
        assert link.is_symlink(), f'{link} should link to the sources'
        assert link.resolve() == REPO / name
