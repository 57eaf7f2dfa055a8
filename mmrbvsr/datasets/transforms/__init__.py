"""RealBasicVSR's training data: stochastic degradations and sequence sampling."""
from .blur import RandomBlur, circular_lowpass_kernel, make_kernel
from .clip import Clip
from .compression import (
                          RandomJPEGCompression,
                          RandomVideoCompression,
                          encode_decode_video,
                          jpeg_compress,
)
from .device import FramesToNumpy, FramesToTensor
from .noise import RandomNoise, gaussian_noise, poisson_noise
from .random import SetRandomGenerator, get_rng, random_walk
from .resize import RandomResize
from .sequence import MirrorSequence
from .sharpen import UnsharpMasking, unsharp_mask
from .shuffle import DegradationsWithShuffle

__all__ = [
    'SetRandomGenerator', 'get_rng', 'random_walk', 'RandomBlur', 'make_kernel',
    'circular_lowpass_kernel', 'RandomResize', 'RandomNoise', 'gaussian_noise', 'poisson_noise',
    'RandomJPEGCompression', 'RandomVideoCompression', 'jpeg_compress', 'encode_decode_video',
    'UnsharpMasking', 'unsharp_mask', 'MirrorSequence', 'DegradationsWithShuffle', 'Clip',
    'FramesToTensor', 'FramesToNumpy'
]
