"""mmrbvsr: RealBasicVSR as an OpenMMLab/MMagic plugin.

``mim`` finds a package's configs, tools and ``model-index.yml`` under
``<site-packages>/mmrbvsr/.mim/`` (``pkg_resources`` location + package name):

* a regular wheel carries copies of ``configs/``, ``tools/`` (less the developer-only
  scripts) and ``model-index.yml`` there (:class:`BuildPyWithMim`);
* an editable install (``pip install -e .``, PEP 660) puts the checkout on ``sys.path``
  with a ``.pth`` file and writes ``mmrbvsr/.mim/`` into site-packages as small files
  that forward to the checkout: tools run the checkout's script, configs inherit the
  checkout's config, ``model-index.yml`` imports the checkout's
  (:class:`EditableWheelWithMim`). Edits in the checkout take effect at once; a config
  or tool added later needs ``pip install -e .`` again to be found by ``mim``.
  site-packages/mmrbvsr holds no ``__init__.py``, so ``import mmrbvsr`` still imports the
  checkout's package (a regular package later on ``sys.path`` wins over a namespace
  portion), which is why the checkout goes on ``sys.path`` rather than behind a meta-path
  finder.
"""
import json
import os
import os.path as osp
import shutil
import stat
import zipfile
from typing import List, Tuple

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py
from setuptools.command.editable_wheel import editable_wheel

HERE = osp.dirname(osp.abspath(__file__))
PACKAGE = 'mmrbvsr'
# what mim reads from <package>/.mim/, taken from the repository root
MIM_SOURCES = ('configs', 'tools', 'model-index.yml')
# repository scripts that need the checkout (its .venv, tests, ../ paths): not shipped
DEV_TOOLS = ('setup_env.sh', 'run_tests.sh', 'run_demo.sh', 'check_convergence.py',
             'fetch_test_media.py')
DEV_TOOL_PATHS = tuple(osp.join('tools', name) for name in DEV_TOOLS)
IGNORED = ('__pycache__', )
IGNORED_SUFFIXES = ('.pyc', )


def read_version() -> str:
    scope: dict = {}
    with open(osp.join(HERE, PACKAGE, 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


def mim_files(root: str = HERE) -> List[Tuple[str, str]]:
    """The files shipped under ``mmrbvsr/.mim/``: ``(path inside .mim, source path)``.

    Raises:
        FileNotFoundError: when ``configs/``, ``tools/`` or ``model-index.yml`` is missing
            (a wheel without them would be useless to ``mim``).
    """
    missing = [name for name in MIM_SOURCES if not osp.exists(osp.join(root, name))]
    if missing:
        raise FileNotFoundError(
            f'{", ".join(missing)} not found in {root}: build mmrbvsr from a checkout or '
            'from its sdist, which carry them')
    files = []
    for name in MIM_SOURCES:
        src = osp.join(root, name)
        if osp.isfile(src):
            files.append((name, src))
            continue
        for dirpath, dirnames, filenames in os.walk(src):
            dirnames[:] = sorted(d for d in dirnames if d not in IGNORED)
            for fname in sorted(filenames):
                rel = osp.relpath(osp.join(dirpath, fname), root)
                if fname.endswith(IGNORED_SUFFIXES) or rel in DEV_TOOL_PATHS:
                    continue
                files.append((rel.replace(os.sep, '/'), osp.join(dirpath, fname)))
    return files


def forwarding_file(rel: str, src: str) -> Tuple[str, bool]:
    """The editable install's stand-in for ``.mim/<rel>``, and whether it is executable.

    Returns ``('', False)`` for files ``mim`` never opens (READMEs, metafiles: the
    model index reaches those through the checkout's ``model-index.yml``).
    """
    src = osp.abspath(src)
    note = '# mmrbvsr is installed in editable mode: this file forwards to the checkout\n'
    if rel == 'model-index.yml':
        return note + f'Import:\n- {json.dumps(src)}\n', False  # a JSON string is YAML
    if rel.startswith('configs/') and rel.endswith('.py'):
        return note + f'_base_ = {src!r}\n', False
    if rel.startswith('tools/') and rel.endswith('.py'):
        return (note + 'import os.path as osp\nimport runpy\nimport sys\n\n'
                f'sys.argv[0] = {src!r}\n'
                'sys.path[0] = osp.dirname(sys.argv[0])  # as when the script itself runs\n'
                "runpy.run_path(sys.argv[0], run_name='__main__')\n"), False
    if rel.startswith('tools/') and rel.endswith('.sh'):
        return f'#!/usr/bin/env bash\n{note}exec bash {_sh_quote(src)} "$@"\n', True
    return '', False


def _sh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


class BuildPyWithMim(build_py):
    """``build_py`` that also copies :func:`mim_files` into ``<build_lib>/mmrbvsr/.mim``.

    The copies are made in the build directory only: the checkout is never changed.
    """

    def run(self) -> None:
        super().run()
        if getattr(self, 'editable_mode', False):
            return  # EditableWheelWithMim writes .mim for editable installs
        dst_root = osp.join(self.build_lib, PACKAGE, '.mim')
        if osp.isdir(dst_root):
            shutil.rmtree(dst_root)
        for rel, src in mim_files():
            dst = osp.join(dst_root, *rel.split('/'))
            os.makedirs(osp.dirname(dst), exist_ok=True)
            shutil.copy2(src, dst)


class _EditableWithMim:
    """setuptools' editable strategy protocol: fills the editable wheel.

    Writes a ``.pth`` with the checkout's root and the forwarding ``mmrbvsr/.mim`` files.
    """

    def __init__(self, name: str, root: str) -> None:
        self.name = name
        self.root = root

    def __call__(self, wheel: zipfile.ZipFile, files: List[str], mapping: dict) -> None:
        wheel.writestr(f'__editable__.{self.name}.pth', f'{self.root}\n')
        for rel, src in mim_files(self.root):
            text, executable = forwarding_file(rel, src)
            if not text:
                continue
            info = zipfile.ZipInfo(f'{PACKAGE}/.mim/{rel}')
            info.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
            wheel.writestr(info, text)

    def __enter__(self) -> '_EditableWithMim':
        return self

    def __exit__(self, *exc_info) -> None:
        pass


class EditableWheelWithMim(editable_wheel):
    """``pip install -e .``: the checkout on ``sys.path`` and ``.mim`` for ``mim``."""

    def _select_strategy(self, name: str, tag: str, build_lib: str) -> _EditableWithMim:
        return _EditableWithMim(name, HERE)


def read_readme() -> str:
    with open(osp.join(HERE, 'README.md'), encoding='utf-8') as f:
        return f.read()


# The oldest versions each checked to run mmrbvsr (requirements/constraints.txt pins the
# stack the whole suite runs on):
#   torch 2.4: torch.get_autocast_dtype, torch.is_autocast_enabled(device) and
#       torch.serialization.add_safe_globals; on 2.4.1 the generator, losses, transforms,
#       restorer and serialization pass their tests (all but those needing mmcv's compiled
#       ops, which must be built for the torch in use);
#   mmengine 0.10.6: older releases fail to import on torch >= 2.5 (their Adafactor clashes
#       with torch.optim.Adafactor); training, resume and test run on 0.10.6;
#   mmagic 1.2.0 (1.1 wants mmcv < 2.1); mmcv: the range mmagic 1.2 asserts;
#   numpy < 2: mmagic 1.2 uses np.bool8, gone in numpy 2 (mmrbvsr's own code runs on numpy 2);
#       numpy 1.23, opencv-python 4.6 and scipy 1.11 pass the transform, restorer and model
#       tests;
#   av 12: PyAV 12 to 18 are tested.
INSTALL_REQUIRES = [
    'torch>=2.4',
    'mmengine>=0.10.6',
    'mmcv>=2.0.0,<2.2.0',
    'mmagic>=1.2.0',
    'numpy>=1.23,<2',
    'opencv-python>=4.6',
    'av>=12.0',
    'scipy>=1.11',
]
EXTRAS_REQUIRE = {
    # tools/prepare_demo_data.py and tools/run_demo.sh film the sample photographs that
    # scikit-image wheels carry (all present from 0.21 on)
    'tools': ['scikit-image>=0.21'],
    'tests': ['pytest', 'ruff==0.8.6', 'scikit-image>=0.21', 'openmim==0.3.9'],
    # ONNX export and the onnxruntime backend (mmrbvsr.deploy); onnx <= 1.22 takes
    # protobuf 4.25 (MMagic's mediapipe needs protobuf < 5)
    'deploy': ['onnx>=1.18,<1.23', 'onnx-ir', 'onnxscript>=0.5', 'onnxruntime>=1.20'],
}

if __name__ == '__main__':
    setup(
        name=PACKAGE,
        version=read_version(),
        description='RealBasicVSR (CVPR 2022) as an MMagic plugin: training, '
        'degradations and bounded-memory video restoration',
        long_description=read_readme(),
        long_description_content_type='text/markdown',
        keywords='computer vision, video super-resolution, real-world, RealBasicVSR, MMagic',
        project_urls={
            'Paper': 'https://arxiv.org/abs/2111.12704',
            'MMagic': 'https://github.com/open-mmlab/mmagic',
            'Released weights': 'https://github.com/open-mmlab/mmagic/tree/main/configs/'
            'real_basicvsr',
            "Authors' code": 'https://github.com/ckkelvinchan/RealBasicVSR',
        },
        classifiers=[
            'License :: OSI Approved :: Apache Software License',
            'Operating System :: OS Independent',
            'Programming Language :: Python :: 3',
            'Topic :: Scientific/Engineering :: Artificial Intelligence',
            'Topic :: Scientific/Engineering :: Image Processing',
        ],
        license='Apache License 2.0',
        python_requires='>=3.8',
        packages=find_packages(include=(PACKAGE, f'{PACKAGE}.*')),
        install_requires=INSTALL_REQUIRES,
        extras_require=EXTRAS_REQUIRE,
        cmdclass={'build_py': BuildPyWithMim, 'editable_wheel': EditableWheelWithMim},
        zip_safe=False,
    )
