"""Restoring real videos: bounded-memory streaming, windows, tiles and released checkpoints.

The frame sources and sinks (video files through PyAV, folders of images) are in
:mod:`mmrbvsr.apis.video_io`; ``tools/restore_video.py`` is :mod:`mmrbvsr.apis.command`.
"""
from .progress import FrameProgress
from .restorer import (
    RestoreJob,
    VideoRestorer,
    build_generator,
    init_onnx_restorer,
    init_restorer,
    open_sink,
    prepare_job,
    restore_video,
    run_job,
)
from .video_io import VideoIOError, is_video_path, open_source, output_kind

__all__ = [
    'VideoRestorer', 'build_generator', 'init_restorer', 'init_onnx_restorer', 'open_sink',
    'restore_video',
    'prepare_job', 'run_job', 'RestoreJob', 'FrameProgress', 'VideoIOError', 'is_video_path',
    'open_source', 'output_kind'
]
