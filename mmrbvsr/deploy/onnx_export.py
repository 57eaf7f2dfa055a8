"""Exporting the generator to ONNX: dynamic batch, length, height and width.

The graph's input is the generator's input, ``lqs`` ``(n, t, 3, h, w)`` RGB float32 in
[0, 1], and its output the generator's output, ``outputs`` ``(n, t, 3, s*h, s*w)``, for
every ``n, t >= 1`` and ``h, w >= 32`` (``ExportableRealBasicVSR``). What the graph
fixes at export is recorded in the model's metadata (``metadata()``); the exported file
is checked with onnxruntime against the generator on two shapes other than the one it
was traced with before it is written.
"""
import copy
import os
import os.path as osp
import tempfile
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
from mmengine.config import Config
from torch import nn

from mmrbvsr.checkpoint import load_generator_weights
from mmrbvsr.models.builder import build_generator
from mmrbvsr.version import __version__

from .exportable import ExportableRealBasicVSR

#: ONNX opset of the exported graphs (GridSample 16, Resize, Scan)
OPSET = 18
INPUT_NAME, OUTPUT_NAME = 'lqs', 'outputs'
#: the example the graph is traced with: every size a value that none of the others has
#: and none of 0, 1 or a multiple of 32, so that nothing specialises to it
EXAMPLE_SHAPE = (2, 3, 3, 40, 48)
#: shapes the exported file is checked on (other than the example's)
CHECK_SHAPES = ((1, 2, 3, 32, 36), (3, 1, 3, 64, 64))
CHECK_TOLERANCE = 1e-4
METADATA_PREFIX = 'mmrbvsr.'


class ExportError(RuntimeError):
    """The exporter produced a graph whose output differs from the generator's."""


def metadata(wrapper: ExportableRealBasicVSR, generator: nn.Module) -> Dict[str, str]:
    """What an exported graph fixes and expects, as ONNX ``metadata_props``.

    Keys (all prefixed ``mmrbvsr.``): ``version``, ``input`` and ``output`` (layout),
    ``upscale_factor``, ``min_size`` (smallest height and width), ``min_frames``,
    ``cleaning_passes`` (fixed in the graph), ``generator_refine_threshold`` (the
    exported generator's, 0-255 scale, for the record), ``mid_channels``, ``torch``.
    """
    scale = wrapper.upscale_factor
    threshold = getattr(generator, 'dynamic_refine_thres', None)
    values = {
        'version': __version__,
        'input': f'{INPUT_NAME}: (n, t, 3, h, w) float32 RGB in [0, 1]',
        'output': f'{OUTPUT_NAME}: (n, t, 3, {scale}h, {scale}w) float32 RGB, not clamped',
        'upscale_factor': str(scale),
        'min_size': str(wrapper.min_size),
        'min_frames': '1',
        'cleaning_passes': str(wrapper.cleaning_passes),
        'generator_refine_threshold': 'none' if threshold is None else f'{threshold * 255:g}',
        'mid_channels': str(wrapper.basicvsr.mid_channels),
        'torch': torch.__version__,
    }
    return {METADATA_PREFIX + k: v for k, v in values.items()}


def default_cleaning_passes(generator: nn.Module) -> int:
    """1 where the generator runs one cleaning pass in practice (threshold 255, as the
    released configs), 0 without a cleaning module.

    Raises:
        ValueError: For a lower threshold (dynamic refinement, which a graph cannot
            follow): the number of passes must then be chosen.
    """
    threshold = getattr(generator, 'dynamic_refine_thres', None)
    if threshold is None:
        return 0
    if threshold * 255 < 255 and getattr(generator, 'max_cleaning_passes', 1) > 1:
        raise ValueError(f'the generator refines dynamically (threshold {threshold * 255:g} '
                         'on the 0-255 scale): the number of cleaning passes depends on the '
                         'clip and must be fixed for the graph: give cleaning_passes '
                         '(--cleaning-passes)')
    return 1


def strip_node_metadata(model) -> None:
    """Drops the exporter's per-node records (Python stack traces, module paths) from an
    ``onnx_ir`` model, its loop bodies included: three quarters of the file otherwise."""
    from onnx_ir import traversal
    for node in traversal.RecursiveGraphIterator(model.graph):
        node.metadata_props.clear()
        node.doc_string = None


def load_generator(generator_or_config: Union[nn.Module, str, Path, Config, dict],
                   checkpoint: Optional[Union[str, Path]] = None,
                   refine_threshold: Optional[float] = None,
                   prefer_ema: bool = True) -> nn.Module:
    """The generator to export: given, or built from a config and loaded from a checkpoint.

    Args:
        generator_or_config (nn.Module | str | Path | Config | dict): An mmrbvsr
            generator, or a config whose ``model.generator`` is built.
        checkpoint (str | Path, optional): Weights loaded into it (the EMA generator of a
            training checkpoint by default); None keeps the generator's own.
        refine_threshold (float, optional): Overrides the config's dynamic refinement
            threshold (0-255 scale); only with a config.
        prefer_ema (bool): Take ``generator_ema`` when the checkpoint has it.

    Returns:
        nn.Module: The generator in eval mode, float32 on the CPU.
    """
    if isinstance(generator_or_config, nn.Module):
        if refine_threshold is not None:
            raise ValueError('refine_threshold applies to a config; a generator keeps its own '
                             'dynamic_refine_thres')
        generator = generator_or_config
    else:
        generator = build_generator(generator_or_config, refine_threshold)
    if checkpoint is not None:
        load_generator_weights(generator, checkpoint, prefer_ema)
    return generator.float().cpu().eval()


def export_program(wrapper: ExportableRealBasicVSR,
                   example_shape: Sequence[int] = EXAMPLE_SHAPE) -> torch.export.ExportedProgram:
    """``torch.export`` of ``wrapper`` with dynamic batch, frames, height and width.

    Size-oblivious reasoning keeps sizes 1 (one clip, one frame, SPyNet's
    coarsest level of a 32-pixel frame) from being specialised at trace time.
    """
    from torch.export import Dim
    from torch.fx.experimental import _config as fx_config

    dims = {0: Dim('batch', min=1), 1: Dim('frames', min=1),
            3: Dim('height', min=wrapper.min_size), 4: Dim('width', min=wrapper.min_size)}
    example = torch.rand(*example_shape)
    with torch.no_grad(), fx_config.patch(backed_size_oblivious=True):
        return torch.export.export(wrapper.eval(), (example, ),
                                   dynamic_shapes={INPUT_NAME: dims}, strict=False)


def check_exported(path: Union[str, Path], generator: nn.Module,
                   shapes: Sequence[Tuple[int, ...]] = CHECK_SHAPES,
                   tolerance: float = CHECK_TOLERANCE) -> float:
    """Runs the ONNX file with onnxruntime's CPU provider against ``generator``.

    Returns:
        float: The largest absolute difference over ``shapes``.

    Raises:
        ExportError: If it exceeds ``tolerance``.
    """
    from .onnxruntime_backend import OnnxRuntimeGenerator

    backend = OnnxRuntimeGenerator(path)
    generator_rng = torch.Generator().manual_seed(0)
    worst = 0.
    for shape in shapes:
        lqs = torch.rand(*shape, generator=generator_rng)
        with torch.no_grad():
            expected = generator(lqs)
        diff = (backend(lqs) - expected).abs().max().item()
        if not diff <= tolerance:  # NaN fails too
            raise ExportError(f'the exported graph differs from the generator by {diff:.3g} '
                              f'(> {tolerance:g}) on input shape {shape}: not written')
        worst = max(worst, diff)
    return worst


def export_onnx(generator_or_config: Union[nn.Module, str, Path, Config, dict],
                checkpoint: Optional[Union[str, Path]],
                out_path: Union[str, Path],
                cleaning_passes: Optional[int] = None,
                refine_threshold: Optional[float] = None,
                prefer_ema: bool = True,
                check: bool = True) -> Path:
    """Exports a RealBasicVSR generator to an ONNX file with dynamic n, t, h and w.

    Args:
        generator_or_config (nn.Module | str | Path | Config | dict): An mmrbvsr
            ``RealBasicVSRNet`` / ``BasicVSRNet``, or a config with ``model.generator``.
        checkpoint (str | Path, optional): Weights to load (``load_generator``).
        out_path (str | Path): The ``.onnx`` file to write (weights inside it). It
            appears only once complete and checked.
        cleaning_passes (int, optional): Cleaning passes in the graph (fixed: dynamic
            refinement depends on the data). None: 1 for generators that refine with
            the released threshold (255), an error for a lower one.
        refine_threshold (float, optional): Overrides the config's dynamic refinement
            threshold (0-255 scale) before the above; recorded in the metadata.
        prefer_ema (bool): Take ``generator_ema`` when the checkpoint has it.
        check (bool): Compare onnxruntime's output with the generator's on
            ``CHECK_SHAPES`` before writing (``check_exported``). Default: True.

    Returns:
        Path: ``out_path``.

    Raises:
        ExportError: If the check fails (nothing is written).
    """
    out_path = Path(out_path)
    if out_path.suffix != '.onnx':
        raise ValueError(f'out_path must end in .onnx, got {str(out_path)!r}')
    if not out_path.parent.is_dir():
        raise FileNotFoundError(f'no folder {str(out_path.parent)!r} to write the model in')
    generator = load_generator(generator_or_config, checkpoint, refine_threshold, prefer_ema)
    passes = default_cleaning_passes(generator) if cleaning_passes is None else cleaning_passes
    # weights that need no gradient: a loop over tensors that need one is traced with its
    # backward's saved sizes, which the ONNX exporter's passes do not take (torch 2.14)
    wrapper = ExportableRealBasicVSR(copy.deepcopy(generator).requires_grad_(False), passes)
    # the graph is checked against the generator where it computes what the generator
    # does, else against the eager export-mode forward
    try:
        reference = generator if passes == default_cleaning_passes(generator) else wrapper
    except ValueError:
        reference = wrapper
    program = export_program(wrapper)
    onnx_program = torch.onnx.export(program, dynamo=True, opset_version=OPSET,
                                     input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                                     external_data=False)
    strip_node_metadata(onnx_program.model)
    onnx_program.model.metadata_props.update(metadata(wrapper, generator))
    fd, tmp = tempfile.mkstemp(suffix='.onnx.tmp', dir=out_path.parent)
    os.close(fd)
    try:
        onnx_program.save(tmp, external_data=False)
        if check:
            check_exported(tmp, reference)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's file is private
        os.replace(tmp, out_path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
    return out_path
