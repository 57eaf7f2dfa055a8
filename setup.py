"""mmrbvsr: RealBasicVSR as an OpenMMLab/MMagic plugin."""
import os
import os.path as osp
import shutil
import sys

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))
MIM_FILES = ('configs', 'tools')


def read_version() -> str:
    scope: dict = {}
    with open(osp.join(HERE, 'mmrbvsr', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


def add_mim_extension() -> None:
    """Ship ``configs/`` and ``tools/`` as ``mmrbvsr/.mim/`` for MIM.

    Links for editable installs (modern pip runs ``editable_wheel``, older
    pip ``develop``), copies for every other build.
    """
    editable = any(cmd in sys.argv for cmd in ('develop', 'editable_wheel'))
    mim_dir = osp.join(HERE, 'mmrbvsr', '.mim')
    os.makedirs(mim_dir, exist_ok=True)
    for name in MIM_FILES:
        src = osp.join(HERE, name)
        dst = osp.join(mim_dir, name)
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if not osp.exists(src):
            continue
        if editable:
            os.symlink(osp.relpath(src, mim_dir), dst)
        else:
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))


if __name__ == '__main__':
    add_mim_extension()
    with open(osp.join(HERE, 'README.md'), encoding='utf-8') as f:
        long_description = f.read()
    setup(
        name='mmrbvsr',
        version=read_version(),
        description='RealBasicVSR (CVPR 2022) as an MMagic plugin: training, '
        'degradations and bounded-memory video restoration',
        long_description=long_description,
        long_description_content_type='text/markdown',
        license='Apache License 2.0',
        python_requires='>=3.8',
        packages=find_packages(exclude=('tests', 'tests.*', 'configs', 'tools')),
        include_package_data=True,
        package_data={'mmrbvsr': ['.mim/configs/**/*', '.mim/tools/**/*', '.mim/tools/*',
                                  '.mim/configs/*']},
        install_requires=[
            'torch>=1.13',
            'mmengine>=0.10',
            'mmcv>=2.0,<2.2',
            'mmagic>=1.1',
            'numpy',
            'opencv-python',
            'av',
            'scipy',
        ],
        extras_require={
            'tests': ['pytest', 'ruff', 'scikit-image'],
            # ONNX export and the onnxruntime backend (mmrbvsr.deploy); onnx <= 1.22
            # takes protobuf 4.25 (MMagic's mediapipe needs protobuf < 5)
            'deploy': ['onnx>=1.18,<1.23', 'onnx-ir', 'onnxscript>=0.5', 'onnxruntime>=1.20'],
        },
        zip_safe=False,
    )
