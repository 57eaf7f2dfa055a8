"""Scratch arrays reused between calls: fresh large temporaries cost page faults.

glibc may serve large allocations with fresh pages (mmap), so a transform that
allocates its temporaries per frame can pay page faults on every call: four separable
blur terms took 1.9 instead of 0.7 ms on a 256x256 frame.
"""
import threading
from typing import List, Tuple

import numpy as np

MAX_SHAPES = 32  # (tag, shape) entries kept per thread, least recently used dropped first
_local = threading.local()


def scratch(shape: Tuple[int, ...], n: int, tag: str = '') -> List[np.ndarray]:
    """``n`` distinct float32 arrays of ``shape``, kept per thread: their contents are
    whatever the last user left, and they must not be returned to a caller. Callers
    that hold arrays of one shape at once use different ``tag``s."""
    cache = getattr(_local, 'arrays', None)
    if cache is None:
        cache = _local.arrays = {}
    key = (tag, tuple(shape))
    arrays = cache.pop(key, None) or []
    cache[key] = arrays  # most recently used last (frame sizes drift: old sizes drop out)
    if len(cache) > MAX_SHAPES:
        del cache[next(iter(cache))]
    while len(arrays) < n:
        arrays.append(np.empty(shape, np.float32))
    return arrays[:n]


def flat(n: int, tag: str) -> np.ndarray:
    """A float32 scratch vector of ``n`` values: a view of a per-thread buffer that grows
    as needed, for temporaries whose shape changes from frame to frame (size drift).
    These buffers are kept apart from :func:`scratch`'s shapes (they take no slot)."""
    buffers = getattr(_local, 'flat', None)  # one buffer per tag (a fixed few) per thread
    if buffers is None:
        buffers = _local.flat = {}
    buf = buffers.get(tag)
    if buf is None or buf.size < n:
        size = 0 if buf is None else buf.size
        buf = buffers[tag] = np.empty(max(n, size + size // 4), np.float32)
    return buf[:n]
