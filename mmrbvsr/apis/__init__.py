"""Restoring real videos: bounded-memory streaming, windows, tiles and released checkpoints.

The frame sources and sinks (video files through PyAV, folders of images) are in
:mod:`mmrbvsr.apis.video_io`.
"""
from .restorer import VideoRestorer, build_generator, init_restorer, open_sink, restore_video
from .video_io import VideoIOError, is_video_path, open_source

__all__ = [
    'VideoRestorer', 'build_generator', 'init_restorer', 'open_sink', 'restore_video',
    'VideoIOError', 'is_video_path', 'open_source'
]
