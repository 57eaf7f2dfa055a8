"""The image operations behind the degradation transforms, as plain functions on numpy
frames (HWC, 0-255) or, in ``tensor_ops``, on batches of torch frames on a device.

Nothing here imports a transform; the registered transforms call these.
"""
from .drift import random_walk
from .filtering import fft_filter2d, filter_fast, filter_frame, filter_plans
from .jpeg import jpeg_compress
from .kernels import KERNEL_TYPES, circular_lowpass_kernel, make_kernel, make_kernels
from .noise import gaussian_noise, poisson_noise
from .resize import resize_frames, scaled_size, to_uint8
from .sharpen import unsharp_mask
from .video import decode_packets, encode_decode_video, encode_video

__all__ = [
    'random_walk', 'fft_filter2d', 'filter_fast', 'filter_frame', 'filter_plans',
    'jpeg_compress', 'KERNEL_TYPES', 'circular_lowpass_kernel', 'make_kernel', 'make_kernels',
    'gaussian_noise', 'poisson_noise', 'resize_frames', 'scaled_size', 'to_uint8',
    'unsharp_mask', 'decode_packets', 'encode_decode_video', 'encode_video'
]
