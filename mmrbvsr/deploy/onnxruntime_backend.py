"""Running an exported generator with onnxruntime, in place of the PyTorch generator."""
from pathlib import Path
from typing import Dict, List, Optional, Union

import torch
from torch import Tensor

from mmrbvsr.utils.cli import parse_device

from .onnx_export import INPUT_NAME, METADATA_PREFIX


def _int(meta: Dict[str, str], key: str, path: str) -> int:
    try:
        return int(meta[METADATA_PREFIX + key])
    except (KeyError, ValueError):
        raise ValueError(f'{path} is not a graph of tools/deployment/export_onnx.py: its '
                         f'metadata has no {METADATA_PREFIX + key}') from None


def read_metadata(path: Union[str, Path]) -> Dict[str, str]:
    """The ``mmrbvsr.*`` metadata of a graph of ``export_onnx`` (keys without the prefix),
    read without building an onnxruntime session.

    Raises:
        FileNotFoundError: If there is no file at ``path``.
        ValueError: If it is not such a graph.
    """
    path = str(path)
    if not Path(path).is_file():
        raise FileNotFoundError(f'no ONNX model at {path!r}')
    try:
        import onnx
    except ImportError as e:
        raise ImportError('reading an ONNX model needs onnx: pip install -e .[deploy]') from e
    try:
        model = onnx.load(path, load_external_data=False)
    except Exception as e:  # protobuf's DecodeError and friends
        raise ValueError(f'{path!r} is not an ONNX model ({type(e).__name__}: {e})') from None
    meta = {p.key: p.value for p in model.metadata_props}
    _int(meta, 'upscale_factor', path)  # a graph of export_onnx, or a ValueError
    return {k[len(METADATA_PREFIX):]: v for k, v in meta.items()
            if k.startswith(METADATA_PREFIX)}


class OnnxRuntimeGenerator:
    """An exported generator (``export_onnx``) behind the generator's interface.

    Callable on an ``(n, t, 3, h, w)`` float tensor in [0, 1], returning
    ``(n, t, 3, s*h, s*w)`` float32 on the tensor's device, so that it stands in for
    the generator in ``VideoRestorer``. ``to(device)`` picks the execution provider:
    the CPU's, or CUDA's (``onnxruntime-gpu``) for a CUDA device. Shapes the graph
    does not serve (h or w below its ``min_size``) are refused with ``ValueError``.

    Args:
        path (str | Path): The ``.onnx`` file.
        device (str | torch.device): ``'cpu'`` or a CUDA device. Default: ``'cpu'``.
        threads (int, optional): onnxruntime's intra-op threads; None: its default
            (one per physical core).

    Examples:
        >>> generator = OnnxRuntimeGenerator('realbasicvsr_x4.onnx')
        >>> generator(torch.rand(1, 5, 3, 64, 64)).shape
        torch.Size([1, 5, 3, 256, 256])
    """

    def __init__(self, path: Union[str, Path], device: Union[str, torch.device] = 'cpu',
                 threads: Optional[int] = None) -> None:
        try:
            import onnxruntime as ort
        except ImportError as e:
            raise ImportError('the onnxruntime backend needs onnxruntime: pip install '
                              'onnxruntime (or the deploy extra, pip install -e .[deploy])') from e
        self.path = str(path)
        if not Path(self.path).is_file():
            raise FileNotFoundError(f'no ONNX model at {self.path!r}')
        self.threads = threads
        self._ort = ort
        options = self._options()
        # read the metadata with a CPU session (cheap; the device's session comes in to())
        self.session = ort.InferenceSession(self.path, options, providers=['CPUExecutionProvider'])
        meta = self.session.get_modelmeta().custom_metadata_map
        self.metadata = dict(meta)
        self.upscale_factor = _int(meta, 'upscale_factor', self.path)
        self.min_size = _int(meta, 'min_size', self.path)
        self.min_frames = _int(meta, 'min_frames', self.path)
        self.device = torch.device('cpu')
        self.to(device)

    def _options(self):
        options = self._ort.SessionOptions()
        if self.threads is not None:
            options.intra_op_num_threads = self.threads
        return options

    def providers(self, device: torch.device) -> List:
        """onnxruntime's execution providers for ``device``.

        Raises:
            ValueError: For a CUDA device where this onnxruntime has no CUDA provider.
        """
        if device.type == 'cpu':
            return ['CPUExecutionProvider']
        if device.type == 'cuda':
            available = self._ort.get_available_providers()
            if 'CUDAExecutionProvider' not in available:
                raise ValueError(f'this onnxruntime ({self._ort.__version__}) has no CUDA '
                                 f'execution provider (it has {available}): install '
                                 'onnxruntime-gpu, or use --device cpu')
            return [('CUDAExecutionProvider', {'device_id': device.index or 0}),
                    'CPUExecutionProvider']
        raise ValueError(f'onnxruntime runs on cpu or cuda, not {device}')

    def to(self, device: Union[str, torch.device]) -> 'OnnxRuntimeGenerator':
        """Runs on ``device`` from now on (a new session where the provider changes)."""
        device = parse_device(device)
        providers = self.providers(device)
        if device != self.device:
            self.session = self._ort.InferenceSession(self.path, self._options(),
                                                      providers=providers)
            self.device = device
        return self

    def eval(self) -> 'OnnxRuntimeGenerator':
        """The graph has no training mode: returns itself (as ``nn.Module.eval``)."""
        return self

    def check_input(self, lqs: Tensor) -> None:
        """Raises ``ValueError`` unless the graph serves ``lqs``."""
        shape = tuple(lqs.shape)
        if lqs.dim() != 5 or shape[2] != 3:
            raise ValueError(f'input must be (n, t, 3, h, w) RGB clips, got shape {shape}')
        if shape[0] < 1 or shape[1] < self.min_frames:
            raise ValueError(f'input needs at least one clip and {self.min_frames} frame(s), '
                             f'got shape {shape}')
        if shape[3] < self.min_size or shape[4] < self.min_size:
            raise ValueError(f'the ONNX graph {self.path} serves frames of at least '
                             f'{self.min_size}x{self.min_size} pixels (SPyNet\'s coarsest '
                             f'pyramid level is 1/32 of the frame), got {shape[3]}x{shape[4]} '
                             f'(input shape {shape}); use larger frames or tiles')
        if not lqs.is_floating_point():
            raise TypeError(f'input must be a float tensor in [0, 1], got dtype {lqs.dtype}')

    def __call__(self, lqs: Tensor) -> Tensor:
        """Super-resolves ``(n, t, 3, h, w)`` clips in [0, 1] (not modified)."""
        self.check_input(lqs)
        array = lqs.detach().to('cpu', torch.float32).contiguous().numpy()
        out = self.session.run(None, {INPUT_NAME: array})[0]
        return torch.from_numpy(out).to(lqs.device)
