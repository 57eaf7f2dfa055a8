"""Packaging: the sdist, the wheel built from it, and ``mim`` after regular and editable installs.

``mim`` looks for ``configs/``, ``tools/`` and ``model-index.yml`` under
``<site-packages>/mmrbvsr/.mim``. The installs go into throw-away virtual environments that
see the running interpreter's site-packages through a ``.pth`` file, so nothing is
downloaded (``--no-deps --no-build-isolation``).
"""
import email
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Dict, List

import cv2
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
_SKIP = shutil.ignore_patterns('.venv', '.git', 'work_dirs', '.mim', '__pycache__', '*.egg-info',
                               '.pytest_cache', '.ruff_cache')
# build outputs, caches and data sets at the top of a developer's checkout
TOP_LEVEL_SKIP = {'build', 'dist', 'data', '.whl', '.cache', '.gpu'}
DEV_TOOLS = {'setup_env.sh', 'run_tests.sh', 'run_demo.sh', 'check_convergence.py',
             'fetch_test_media.py'}
DEMO_CONFIG = 'realbasicvsr_demo_stage1.py'
MODEL_NAMES = ('realbasicvsr_c64b20-1x30x8_8xb1-lr5e-5-150k_reds',
               'realbasicvsr_wogan-c64b20-2x30x8_8xb2-lr1e-4-300k_reds')


def run(cmd: List[str], cwd: Path, env: Dict[str, str] = None) -> str:
    res = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True,
                         text=True)
    assert res.returncode == 0, f'{cmd} failed:\n{res.stdout[-3000:]}\n{res.stderr[-5000:]}'
    return res.stdout + res.stderr


def _ignore(folder: str, names: List[str]) -> set:
    skipped = set(_SKIP(folder, names))
    if Path(folder) == REPO:
        skipped |= TOP_LEVEL_SKIP & set(names)
    return skipped


def copy_checkout(dst: Path) -> Path:
    shutil.copytree(REPO, dst, ignore=_ignore)
    return dst


def repo_files(folder: str) -> set:
    return {str(p.relative_to(REPO)) for p in (REPO / folder).rglob('*')
            if p.is_file() and '__pycache__' not in p.parts and p.suffix != '.pyc'}


@pytest.fixture(scope='module')
def sdist(tmp_path_factory) -> Path:
    src = copy_checkout(tmp_path_factory.mktemp('src') / 'mmrbvsr')
    out = tmp_path_factory.mktemp('sdist')
    code = f'import setuptools.build_meta as b; print(b.build_sdist({str(out)!r}))'
    run([sys.executable, '-c', code], cwd=src)
    (path, ) = out.glob('mmrbvsr-*.tar.gz')
    return path


@pytest.fixture(scope='module')
def wheel(sdist, tmp_path_factory) -> Path:
    """A wheel built from the unpacked sdist (what ``pip install mmrbvsr`` from PyPI does)."""
    unpacked = tmp_path_factory.mktemp('unpacked')
    with tarfile.open(sdist) as tar:
        tar.extractall(unpacked)
    (src, ) = unpacked.iterdir()
    out = tmp_path_factory.mktemp('wheel')
    run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q', '-w',
         out, src], cwd=unpacked)
    (path, ) = out.glob('mmrbvsr-*.whl')
    return path


def test_sdist_carries_what_the_wheel_ships(sdist):
    with tarfile.open(sdist) as tar:
        names = {n.split('/', 1)[1] for n in tar.getnames() if '/' in n}
    assert repo_files('configs') <= names
    assert repo_files('tools') <= names
    assert {'model-index.yml', 'LICENSE', 'NOTICE', 'requirements/constraints.txt',
            'requirements/tests.txt'} <= names
    assert not any(n.startswith(('mmrbvsr/.mim', 'tests/')) for n in names)


def test_wheel_from_sdist_ships_configs_tools_and_model_index(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        meta = email.message_from_string(
            zf.read(next(n for n in names if n.endswith('.dist-info/METADATA'))).decode())
    mim = {n[len('mmrbvsr/.mim/'):] for n in names if n.startswith('mmrbvsr/.mim/')}
    shipped_tools = {f for f in repo_files('tools') if Path(f).name not in DEV_TOOLS}
    assert {'tools/train.py', 'tools/slurm_train.sh', 'tools/publish_model.py',
            'tools/dataset_converters/reds/preprocess_reds_dataset.py'} <= shipped_tools
    assert mim == repo_files('configs') | shipped_tools | {'model-index.yml'}
    assert not any(n.startswith('tests/') for n in names)
    assert {n.rsplit('/', 1)[1] for n in names if '.dist-info/licenses/' in n} >= {'LICENSE',
                                                                                  'NOTICE'}
    urls = dict(u.split(', ', 1) for u in meta.get_all('Project-URL'))
    assert urls['Paper'] == 'https://arxiv.org/abs/2111.12704'
    assert set(meta.get_all('Provides-Extra')) >= {'tools', 'tests'}


def test_building_without_configs_fails_instead_of_shipping_an_empty_mim(sdist, tmp_path):
    with tarfile.open(sdist) as tar:
        tar.extractall(tmp_path)
    (src, ) = tmp_path.iterdir()
    shutil.rmtree(src / 'configs')
    res = subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps',
                          '--no-build-isolation', '-q', '-w', str(tmp_path / 'out'), str(src)],
                         cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode != 0
    assert 'configs not found' in res.stdout + res.stderr
    assert not list(tmp_path.rglob('*.whl'))


# --- mim after a regular and an editable install ------------------------------------------


def site_dirs() -> List[str]:
    """The running interpreter's package folders, for a child venv's ``.pth`` file.

    The repository itself (on ``PYTHONPATH`` or as the cwd) is left out: the child must
    import the installed mmrbvsr. A virtual environment inside the checkout (``.venv``)
    is kept.
    """
    import site
    dirs = list(site.getsitepackages()) + [
        p for p in sys.path if 'site-packages' in p or 'dist-packages' in p]
    out = []
    for d in dirs:
        path = Path(d).resolve()
        inside_repo = path == REPO or (REPO in path.parents and 'site-packages' not in path.parts)
        if path.is_dir() and not inside_repo and str(path) not in out:
            out.append(str(path))
    return out


def make_venv(path: Path) -> Path:
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip', str(path)], check=True)
    (python, ) = path.glob('bin/python')
    purelib = run([python, '-c', 'import sysconfig; print(sysconfig.get_path("purelib"))'],
                  cwd=path).strip()
    Path(purelib, 'outer_site.pth').write_text('\n'.join(site_dirs()) + '\n')
    return python


def child_env() -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'PYTHONHOME')}
    env['NO_ALBUMENTATIONS_UPDATE'] = '1'
    return env


def pip_install(python: Path, *args, cwd: Path) -> None:
    run([python, '-m', 'pip', 'install', '-q', '--no-deps', '--no-build-isolation',
         '--ignore-installed', *args], cwd=cwd, env=child_env())


def make_clips(root: Path, num_clips: int = 2, num_frames: int = 3, size: int = 136) -> Path:
    """``root/train/<clip>/%08d.png``: smooth random frames moving one pixel a frame."""
    rng = np.random.default_rng(0)
    for c in range(num_clips):
        base = rng.integers(0, 256, (size // 4, size // 4, 3), dtype=np.uint8)
        (root / 'train' / f'{c:03d}').mkdir(parents=True)
        for i in range(num_frames):
            frame = cv2.resize(np.roll(base, i, axis=1), (size, size),
                               interpolation=cv2.INTER_CUBIC)
            cv2.imwrite(str(root / 'train' / f'{c:03d}' / f'{i:08d}.png'), frame)
    return root


def check_mim(python: Path, work: Path, data: Path) -> str:
    """``mim list``, ``mim search mmrbvsr`` and a one-iteration ``mim train mmrbvsr CONFIG``.

    Returns the training config ``mim train`` resolved (dumped into the work dir).
    """
    env = child_env()
    listed = run([python, '-m', 'mim', 'list'], cwd=work, env=env)
    assert any(line.split()[:1] == ['mmrbvsr'] for line in listed.splitlines()), listed
    found = run([python, '-m', 'mim', 'search', 'mmrbvsr'], cwd=work, env=env)
    for name in MODEL_NAMES:
        assert f'config id: {name}' in found
    assert 'videolq/niqe_(y)     3.7662' in found

    out = run([python, '-m', 'mim', 'train', 'mmrbvsr', DEMO_CONFIG, '--work-dir', work / 'wd',
               '--cfg-options', f'train_dataloader.dataset.data_root={data}',
               'train_cfg.max_iters=1', 'train_dataloader.num_workers=0',
               'train_dataloader.batch_size=1', 'model.generator.mid_channels=4',
               'model.generator.num_propagation_blocks=1',
               'model.generator.num_cleaning_blocks=1', 'val_dataloader=None', 'val_cfg=None',
               'val_evaluator=None', 'test_dataloader=None', 'test_cfg=None',
               'test_evaluator=None'], cwd=work, env=env)
    assert 'Training finished successfully' in out, out[-3000:]
    assert (work / 'wd' / 'iter_1.pth').is_file()
    return (work / 'wd' / DEMO_CONFIG).read_text()


@pytest.fixture(scope='module')
def clips(tmp_path_factory) -> Path:
    pytest.importorskip('mim', reason='openmim (requirements/tests.txt) is not installed')
    return make_clips(tmp_path_factory.mktemp('clips'))


def test_mim_after_a_regular_install(wheel, clips, tmp_path):
    python = make_venv(tmp_path / 'venv')
    pip_install(python, wheel, cwd=tmp_path)
    site = Path(run([python, '-c', 'import mmrbvsr; print(mmrbvsr.__file__)'], cwd=tmp_path,
                    env=child_env()).strip()).parent
    assert (tmp_path / 'venv') in site.parents
    assert (site / '.mim' / 'tools' / 'train.py').is_file()
    check_mim(python, tmp_path, clips)


def test_mim_after_an_editable_install(clips, tmp_path):
    checkout = copy_checkout(tmp_path / 'checkout')
    python = make_venv(tmp_path / 'venv')
    pip_install(python, '-e', checkout, cwd=tmp_path)
    imported = run([python, '-c', 'import mmrbvsr; print(mmrbvsr.__file__)'], cwd=tmp_path,
                   env=child_env()).strip()
    assert Path(imported) == checkout / 'mmrbvsr' / '__init__.py'
    # the checkout is live: an edit made after the install reaches `mim train`
    config = next(checkout.rglob(DEMO_CONFIG))
    config.write_text(config.read_text() + "\nedited_after_install = 'yes'\n")
    dumped = check_mim(python, tmp_path, clips)
    assert "edited_after_install = 'yes'" in dumped
    # nothing was written into the checkout's package
    assert not (checkout / 'mmrbvsr' / '.mim').exists()
