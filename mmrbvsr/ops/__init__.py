"""The network's kernels: convolution dispatch (NNPACK on CPU, fused epilogues and cuDNN
fused ops on GPU), CUDA-graph replay, flow warping, and the switches of the fast paths.

Nothing here imports from ``mmrbvsr.models``; the networks call these.
"""
from .conv import CHANNEL_ALIGN, Conv2d, conv2d, nnpack_available, nnpack_enabled
from .cuda_graph import GraphCache, graphed_call, graphs_usable
from .epilogue import pixel_shuffle_epilogue
from .flow_warp import flow_warp
from .switches import enabled, failures, record_failure, set_enabled, switched

__all__ = [
    'CHANNEL_ALIGN', 'Conv2d', 'conv2d', 'nnpack_available', 'nnpack_enabled', 'GraphCache',
    'graphed_call', 'graphs_usable', 'pixel_shuffle_epilogue', 'flow_warp', 'enabled',
    'failures', 'record_failure', 'set_enabled', 'switched'
]
