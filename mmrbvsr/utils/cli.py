"""Command lines: the logic behind ``tools/train.py`` and ``tools/test.py`` (MMagic's
arguments), and the parsers of option values the tools and the restorer share.

Being part of ``mmrbvsr``, this module has already registered our modules and the
checkpoint safe globals, even for configs that do not list mmrbvsr in custom_imports.
"""
import argparse
import logging
import os
import os.path as osp
from typing import List, Optional, Tuple, Union

import torch
from mmengine.config import Config, DictAction
from mmengine.logging import print_log

from mmrbvsr.engine.cpu_dist import prepare_cpu_distributed

AMP_DTYPES = ('float16', 'bfloat16')
DATA_ERROR_POLICIES = ('raise', 'skip')
LAUNCHERS = ('none', 'pytorch', 'slurm', 'mpi')
DTYPES = {'fp32': torch.float32, 'float32': torch.float32, 'bf16': torch.bfloat16,
          'bfloat16': torch.bfloat16, 'fp16': torch.float16, 'float16': torch.float16}


def parse_dtype(dtype: Union[str, torch.dtype], device: Union[str, torch.device]) -> torch.dtype:
    """Checks that ``dtype`` (``'fp32'``, ``'bf16'``, ``'fp16'``) can run on ``device``.

    Raises:
        ValueError: For an unknown name or a dtype the device does not support.
    """
    if isinstance(dtype, str):
        if dtype.lower() not in DTYPES:
            raise ValueError(f'unknown dtype {dtype!r}, expected one of fp32, bf16, fp16')
        dtype = DTYPES[dtype.lower()]
    if dtype not in DTYPES.values():
        raise ValueError(f'unsupported dtype {dtype}, expected float32, bfloat16 or float16')
    device = torch.device(device)
    if device.type == 'cuda' and dtype == torch.bfloat16 and not torch.cuda.is_bf16_supported():
        raise ValueError(f'bf16 is not supported on {device}; use fp16 or fp32')
    return dtype


def dtype_speed_warning(dtype: torch.dtype, device: Union[str, torch.device]) -> Optional[str]:
    """A warning when ``dtype`` runs much slower than fp32 on ``device``, else None.

    CPUs without bf16 instructions (AVX512-BF16 or AMX) emulate bf16, and CPUs without
    AMX-FP16 emulate fp16: RealBasicVSR's generator then runs several times slower than in
    fp32 (measured on 64x64 inputs: bf16 5.5x with oneDNN and ATen held to AVX2, fp16 7.3x on
    an AVX512 EPYC).
    """
    if torch.device(device).type != 'cpu' or dtype == torch.float32:
        return None
    if dtype == torch.bfloat16 and not (_cpu_has('avx512_bf16') or _cpu_has('amx_tile')):
        return ('this CPU has no bf16 instructions (AVX512-BF16 or AMX): bf16 is emulated and '
                'runs about 5x slower than fp32 here; use --dtype fp32')
    if dtype == torch.float16 and not _cpu_has('amx_fp16'):
        return ('this CPU has no fp16 arithmetic (AMX-FP16): fp16 is emulated and runs about '
                '7x slower than fp32 here; use --dtype fp32' +
                (' or bf16' if _cpu_has('avx512_bf16') or _cpu_has('amx_tile') else ''))
    return None


def _cpu_has(feature: str) -> bool:
    # torch.cpu's feature checks are private: a PyTorch without one is assumed to have it
    check = getattr(torch.cpu, f'_is_{feature}_supported', None)
    return True if check is None else bool(check())


def parse_device(device: Union[str, torch.device]) -> torch.device:
    """Checks that ``device`` exists here.

    Raises:
        ValueError: For a malformed name or an unavailable device.
    """
    try:
        device = torch.device(device)
    except RuntimeError as e:
        raise ValueError(f'unknown device {device!r} (expected e.g. cpu, cuda, cuda:1)') from e
    if device.type == 'cuda':
        if not torch.cuda.is_available():
            raise ValueError(f'device {str(device)!r} requested but CUDA is not available')
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(f'device {str(device)!r} does not exist: '
                             f'{torch.cuda.device_count()} CUDA device(s)')
    elif device.type == 'mps' and not torch.backends.mps.is_available():
        raise ValueError('device mps requested but it is not available')
    return device


def parse_out_size(text: str) -> Tuple[int, int]:
    """Parses ``'1920x1080'``, ``'-1x1080'`` or ``'1080p'`` into ``(width, height)``.

    Raises:
        ValueError: If ``text`` is none of these forms.
    """
    text = text.strip().lower()
    try:
        if text.endswith('p'):
            return (-1, int(text[:-1]))
        width, height = (int(v) for v in text.split('x'))
        return (width, height)
    except ValueError:
        raise ValueError(f'output size {text!r} is not WIDTHxHEIGHT (e.g. 1920x1080, -1x1080) '
                         'or HEIGHTp (e.g. 1080p)') from None


def _common_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config, as key=value pairs, e.g. '
        'train_dataloader.batch_size=1 model.generator.mid_channels=16')
    parser.add_argument('--launcher', choices=LAUNCHERS, default='none', help='job launcher')
    # torch.distributed.launch passes --local-rank (torchrun sets LOCAL_RANK instead)
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def train_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description='Train a RealBasicVSR model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--resume', action='store_true',
                        help='resume from the latest checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true',
                        help='enable automatic mixed precision training')
    parser.add_argument('--amp-dtype', choices=AMP_DTYPES, default='float16',
                        help='dtype of --amp (bfloat16 also works on CPU)')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the learning rate with the total batch size')
    parser.add_argument('--on-data-error', choices=DATA_ERROR_POLICIES, default=None,
                        help='at an unreadable training frame: raise (stop, naming the file; '
                        "the configs' default) or skip the sample (each skip is logged and "
                        'counted); sets on_error of every mmrbvsr.LoadImageFromFile of the '
                        'training data')
    _common_args(parser)
    return parser


def _loaders(node) -> list:
    """The ``mmrbvsr.LoadImageFromFile`` dicts anywhere inside a config node."""
    if isinstance(node, dict):
        found = [node] if node.get('type') == 'mmrbvsr.LoadImageFromFile' else []
        return found + [d for v in node.values() for d in _loaders(v)]
    if isinstance(node, (list, tuple)):
        return [d for v in node for d in _loaders(v)]
    return []


def set_data_error_policy(cfg: Config, policy: str) -> int:
    """Sets ``on_error`` of every ``mmrbvsr.LoadImageFromFile`` of the training data.

    Returns:
        int: How many loaders were changed.

    Raises:
        ValueError: For an unknown policy, or a training pipeline without such a loader.
    """
    if policy not in DATA_ERROR_POLICIES:
        raise ValueError(f'--on-data-error must be one of {DATA_ERROR_POLICIES}, got {policy!r}')
    loaders = _loaders(cfg.get('train_dataloader'))
    if not loaders:
        raise ValueError('--on-data-error needs mmrbvsr.LoadImageFromFile in the training '
                         'pipeline (MMagic\'s LoadImageFromFile cannot skip unreadable frames)')
    for loader in loaders:
        loader['on_error'] = policy
    return len(loaders)


def test_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description='Test (and evaluate) a RealBasicVSR model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', nargs='?', default=None,
                        help='checkpoint path or URL (default: the config\'s load_from)')
    parser.add_argument('--out', help='dump the evaluation results to this pickle file')
    _common_args(parser)
    return parser


def load_config(args: argparse.Namespace) -> Config:
    """Reads the config and applies the options every tool shares."""
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file not found: {args.config!r}')
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    # MMEngine 0.10.7 cannot start distributed runs without a GPU: use gloo
    prepare_cpu_distributed(cfg)
    # work_dir priority: CLI > config > ./work_dirs/<config name>
    if args.work_dir:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    return cfg


def _amp_wrapper(wrapper: dict, dtype: str, cuda: bool) -> None:
    kind = wrapper.get('type', 'OptimWrapper')
    if kind in ('AmpOptimWrapper', 'mmrbvsr.AutocastOptimWrapper'):
        print_log('AMP is already enabled in the config.', logger='current',
                  level=logging.WARNING)
        return
    if kind != 'OptimWrapper':
        raise ValueError(f'--amp needs optim wrappers of type OptimWrapper, got {kind!r}')
    if cuda and dtype == 'float16':
        wrapper.update(type='AmpOptimWrapper', loss_scale='dynamic', dtype=dtype)
    else:
        # bf16 needs no loss scaling, and MMEngine's AmpOptimWrapper refuses CPUs
        wrapper.update(type='mmrbvsr.AutocastOptimWrapper', dtype=dtype)


def enable_amp(cfg: Config, dtype: str = 'float16', cuda: Optional[bool] = None) -> None:
    """Switches every optim wrapper of ``cfg`` to mixed precision in ``dtype``."""
    if dtype not in AMP_DTYPES:
        raise ValueError(f'--amp-dtype must be one of {AMP_DTYPES}, got {dtype!r}')
    if cuda is None:
        cuda = torch.cuda.is_available()
    optim_wrapper = cfg.optim_wrapper
    if 'constructor' not in optim_wrapper or \
            optim_wrapper['constructor'] == 'DefaultOptimWrapperConstructor':
        _amp_wrapper(optim_wrapper, dtype, cuda)
        return
    for val in optim_wrapper.values():
        if isinstance(val, dict) and ('type' in val or 'optimizer' in val):
            _amp_wrapper(val, dtype, cuda)


def train(argv: Optional[List[str]] = None) -> None:
    args = train_parser().parse_args(argv)
    from mmengine.runner import Runner

    cfg = load_config(args)
    if args.amp:
        enable_amp(cfg, args.amp_dtype)
    if args.on_data_error is not None:
        set_data_error_policy(cfg, args.on_data_error)
    if args.resume:
        cfg.resume = True
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise ValueError('--auto-scale-lr needs auto_scale_lr.base_batch_size in the config')
        cfg.auto_scale_lr.enable = True
    runner = Runner.from_cfg(cfg)
    print_log(f'Working directory: {cfg.work_dir}', logger='current')
    runner.train()
    print_log(f'Checkpoints saved under {cfg.work_dir}', logger='current')


def test(argv: Optional[List[str]] = None) -> dict:
    args = test_parser().parse_args(argv)
    from mmengine.runner import Runner

    cfg = load_config(args)
    if args.checkpoint is not None:
        cfg.load_from = args.checkpoint
    if args.out:
        add_dump_results(cfg, args.out)
    return Runner.from_cfg(cfg).test()


def add_dump_results(cfg: Config, out: str) -> None:
    """Adds MMEngine's ``DumpResults`` to every test evaluator of ``cfg``."""
    if not out.endswith(('.pkl', '.pickle')):
        raise ValueError(f'--out must be a .pkl or .pickle file, got {out!r}')
    dump = dict(type='DumpResults', out_file_path=out)
    evaluator = cfg.get('test_evaluator')
    if evaluator is None:
        raise ValueError('--out needs a test_evaluator in the config')
    if isinstance(evaluator, dict) and 'metrics' in evaluator:
        metrics = evaluator['metrics']
        evaluator['metrics'] = (list(metrics) if isinstance(metrics, (list, tuple)) else
                                [metrics]) + [dump]
    elif isinstance(evaluator, dict):
        cfg.test_evaluator = [evaluator, dump]
    else:
        cfg.test_evaluator = list(evaluator) + [dump]
