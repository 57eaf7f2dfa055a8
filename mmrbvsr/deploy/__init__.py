"""Deployment: the generator exported to ONNX, and onnxruntime and TensorRT backends.

``export_onnx`` writes one graph that serves every batch size, clip length and frame
size of at least 32 pixels (``ExportableRealBasicVSR``: the recurrences as ONNX loops);
``OnnxRuntimeGenerator`` runs it in place of the PyTorch generator (``VideoRestorer``
takes either; ``apis.init_onnx_restorer``). onnx, onnxscript and onnxruntime come with the
``deploy`` extra and are imported only when used.
"""
from .exportable import ExportableRealBasicVSR, spynet_flow
from .onnx_export import ExportError, check_exported, export_onnx, load_generator, metadata
from .onnxruntime_backend import OnnxRuntimeGenerator, read_metadata

__all__ = [
    'ExportableRealBasicVSR', 'spynet_flow', 'ExportError', 'check_exported', 'export_onnx',
    'load_generator', 'metadata', 'OnnxRuntimeGenerator', 'read_metadata'
]
