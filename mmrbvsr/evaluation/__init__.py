"""Metrics MMagic lacks: NIQE with the VideoLQ frame protocol."""
from .video_niqe import VIDEOLQ_FRAMES, VideoNIQE

__all__ = ['VideoNIQE', 'VIDEOLQ_FRAMES']
