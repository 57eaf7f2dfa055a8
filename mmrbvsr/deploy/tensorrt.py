"""TensorRT engines from the exported graph, and running them in place of the generator.

An engine serves the shapes of its optimisation profile: clips of ``frames`` (min, opt,
max) frames of ``height x width`` (each min, opt, max). TensorRT 11 builds every network
strongly typed: the engine computes in the precision of the ONNX graph's tensors (the
exported graph is float32; TensorRT may run its float32 convolutions as TF32).
"""
from pathlib import Path
from typing import Tuple, Union

import torch
from torch import Tensor

from .onnx_export import INPUT_NAME, OUTPUT_NAME

Range = Tuple[int, int, int]


def profile_shapes(frames: Range, height: Range, width: Range,
                   batch: Range = (1, 1, 1)) -> Tuple[Tuple[int, ...], ...]:
    """The (min, opt, max) input shapes of an optimisation profile.

    Raises:
        ValueError: Unless each range is ordered and sizes are at least 32 (the graph's
            ``min_size``) and frames at least 1.
    """
    ranges = dict(batch=batch, frames=frames, height=height, width=width)
    for name, (lo, opt, hi) in ranges.items():
        least = 32 if name in ('height', 'width') else 1
        if not least <= lo <= opt <= hi:
            raise ValueError(f'{name} range must satisfy {least} <= min <= opt <= max, '
                             f'got {(lo, opt, hi)}')
    return tuple((batch[i], frames[i], 3, height[i], width[i]) for i in range(3))


def build_engine(onnx_path: Union[str, Path], engine_path: Union[str, Path],
                 frames: Range = (2, 30, 30), height: Range = (32, 180, 360),
                 width: Range = (32, 320, 640), batch: Range = (1, 1, 1),
                 workspace_gib: float = 8.) -> Path:
    """Builds and writes a TensorRT engine for the exported graph.

    Args:
        onnx_path (str | Path): A graph written by ``export_onnx``.
        engine_path (str | Path): The engine file to write.
        frames, height, width, batch (tuple[int, int, int]): The profile's (min, opt, max).
        workspace_gib (float): TensorRT's workspace limit in GiB.

    Returns:
        Path: ``engine_path``.
    """
    import tensorrt as trt

    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx_path)):
        errors = '; '.join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise RuntimeError(f'TensorRT cannot parse {onnx_path}: {errors}')
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, int(workspace_gib * 2**30))
    profile = builder.create_optimization_profile()
    profile.set_shape(INPUT_NAME, *profile_shapes(frames, height, width, batch))
    config.add_optimization_profile(profile)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise RuntimeError(f'TensorRT could not build an engine from {onnx_path}')
    engine_path = Path(engine_path)
    engine_path.write_bytes(bytes(serialized))
    return engine_path


class TensorRTGenerator:
    """A TensorRT engine behind the generator's interface (CUDA tensors in and out).

    Args:
        engine_path (str | Path): An engine from ``build_engine``.
        upscale_factor (int): The exported generator's (the graph's metadata). Default: 4.
    """

    def __init__(self, engine_path: Union[str, Path], upscale_factor: int = 4) -> None:
        import tensorrt as trt

        self.upscale_factor = upscale_factor
        runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
        self.engine = runtime.deserialize_cuda_engine(Path(engine_path).read_bytes())
        if self.engine is None:
            raise RuntimeError(f'TensorRT could not load the engine {engine_path}')
        self.context = self.engine.create_execution_context()
        self.profile = self.engine.get_tensor_profile_shape(INPUT_NAME, 0)

    def to(self, device: Union[str, torch.device]) -> 'TensorRTGenerator':
        if torch.device(device).type != 'cuda':
            raise ValueError(f'a TensorRT engine runs on CUDA, not {device}')
        return self

    def eval(self) -> 'TensorRTGenerator':
        return self

    def check_input(self, lqs: Tensor) -> None:
        lo, _, hi = (tuple(s) for s in self.profile)
        if lqs.dim() != 5 or not all(a <= s <= b for a, s, b in zip(lo, lqs.shape, hi)):
            raise ValueError(f'the engine serves input shapes from {lo} to {hi}, got '
                             f'{tuple(lqs.shape)}')

    def __call__(self, lqs: Tensor) -> Tensor:
        self.check_input(lqs)
        lqs = lqs.to('cuda', torch.float32).contiguous()
        n, t, c, h, w = lqs.shape
        s = self.upscale_factor
        out = lqs.new_empty(n, t, c, s * h, s * w)
        self.context.set_input_shape(INPUT_NAME, tuple(lqs.shape))
        self.context.set_tensor_address(INPUT_NAME, lqs.data_ptr())
        self.context.set_tensor_address(OUTPUT_NAME, out.data_ptr())
        stream = torch.cuda.current_stream()
        if not self.context.execute_async_v3(stream.cuda_stream):
            raise RuntimeError('TensorRT execution failed')
        return out
