"""RealBasicVSR's training data: stochastic degradations and sequence sampling.

One family of registered transforms per file; the image operations they run are in
``functional``.
"""
from .blur import RandomBlur
from .clip import Clip
from .compression import RandomJPEGCompression, RandomVideoCompression
from .crop import FixedCrop, FrameTooSmallError
from .device import FramesToNumpy, FramesToTensor
from .functional import (
    circular_lowpass_kernel,
    encode_decode_video,
    gaussian_noise,
    jpeg_compress,
    make_kernel,
    poisson_noise,
    random_walk,
    unsharp_mask,
)
from .loading import LoadImageFromFile, UnreadableFrameError
from .noise import RandomNoise
from .random import SetRandomGenerator, get_rng
from .resize import RandomResize
from .sequence import MirrorSequence
from .sharpen import UnsharpMasking
from .shuffle import DegradationsWithShuffle

__all__ = [
    'SetRandomGenerator', 'get_rng', 'random_walk', 'RandomBlur', 'make_kernel',
    'circular_lowpass_kernel', 'RandomResize', 'RandomNoise', 'gaussian_noise', 'poisson_noise',
    'RandomJPEGCompression', 'RandomVideoCompression', 'jpeg_compress', 'encode_decode_video',
    'UnsharpMasking', 'unsharp_mask', 'MirrorSequence', 'DegradationsWithShuffle', 'Clip',
    'FramesToTensor', 'FramesToNumpy', 'LoadImageFromFile', 'UnreadableFrameError', 'FixedCrop',
    'FrameTooSmallError'
]
