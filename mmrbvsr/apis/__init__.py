"""Restoring real videos: bounded-memory streaming, windows, tiles and released checkpoints."""
from .checkpoint import extract_generator_state_dict, load_generator_weights
from .restorer import (
    VideoRestorer,
    build_generator,
    init_restorer,
    open_sink,
    parse_device,
    parse_dtype,
    parse_out_size,
    restore_video,
)
from .video_io import (
    FrameSink,
    FrameSource,
    ImageFolderSink,
    ImageSequenceSource,
    VideoFileSink,
    VideoFileSource,
    VideoIOError,
    check_frame_size,
    is_video_path,
    open_source,
)

__all__ = [
    'VideoRestorer', 'build_generator', 'init_restorer', 'restore_video', 'open_sink',
    'parse_device', 'parse_dtype', 'parse_out_size', 'extract_generator_state_dict',
    'load_generator_weights', 'FrameSink', 'FrameSource', 'ImageFolderSink',
    'ImageSequenceSource', 'VideoFileSink', 'VideoFileSource', 'VideoIOError', 'is_video_path',
    'open_source', 'check_frame_size'
]
