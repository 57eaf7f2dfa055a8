"""Progress of a restoration by frame: frames done, frames per second, elapsed time and ETA.

Output frames leave the restorer in bursts, one window at a time, and a window of full-size
frames can take minutes on a CPU. So the count also moves inside a window: hooks on the
generator count its propagation steps (one per frame and direction in RealBasicVSRNet's
sequential branches, the CPU path) and advance the count by the share of the window's new
frames those steps stand for. The exact count of written frames replaces the estimate after
each window. Networks without such modules (or graphed CUDA calls) advance by window only.
"""
import sys
import time
from typing import IO, List, Optional, Sequence

from torch import nn

# modules that run once per frame and direction (RealBasicVSRNet.basicvsr's branches)
STEP_MODULES = ('backward_resblocks', 'forward_resblocks')


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return (f'{hours}:{rest // 60:02d}:{rest % 60:02d}' if hours else
            f'{rest // 60}:{rest % 60:02d}')


class FrameProgress:
    """A status line on stderr: ``frame 12/300 (4%)  3.4 frames/s  0:04 elapsed  ETA 1:24``.

    On a terminal the line is redrawn in place (at most every ``interval`` seconds); into a
    file or pipe a new line is written at most every 10 seconds. :meth:`close` ends the line,
    so that anything printed afterwards (an error) starts on its own line.

    Args:
        total (int, optional): Frames expected; None if unknown.
        file (IO, optional): Where to write. Defaults to ``sys.stderr``.
        interval (float, optional): Least seconds between redraws. Defaults to 0.2 on a
            terminal (``tty_interval``), 10 otherwise.
    """

    tty_interval = 0.2

    def __init__(self, total: Optional[int], file: Optional[IO] = None,
                 interval: Optional[float] = None) -> None:
        self.total = total
        self.file = file or sys.stderr
        isatty = getattr(self.file, 'isatty', None)
        self.tty = bool(isatty and isatty())
        if interval is None:
            interval = self.tty_interval if self.tty else 10.0
        self.interval = interval
        self.done = 0.0
        self.start = time.perf_counter()
        self._drawn_at = None
        self._width = 0
        self._open = False  # a line without its newline is on the terminal

    def text(self) -> str:
        """The status line for the current count."""
        elapsed = time.perf_counter() - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        count = f'frame {int(self.done)}'
        if self.total:
            count += f'/{self.total} ({100 * min(self.done / self.total, 1):.0f}%)'
        line = f'{count}  {rate:.2f} frames/s  {_clock(elapsed)} elapsed'
        if self.total and rate > 0:
            line += f'  ETA {_clock(max(self.total - self.done, 0) / rate)}'
        return line

    def update(self, done: float, force: bool = False) -> None:
        """Sets the count (frames, fractions allowed; it never goes back) and redraws."""
        self.done = max(self.done, float(done))
        now = time.perf_counter()
        if not force and self._drawn_at is not None and now - self._drawn_at < self.interval:
            return
        self._drawn_at = now
        line = self.text()
        if self.tty:
            self.file.write('\r' + line.ljust(self._width))
            self._width = len(line)
            self._open = True
        else:
            self.file.write(line + '\n')
        self.file.flush()

    def close(self) -> None:
        """Draws the final count and ends the line."""
        if self._drawn_at is not None or self.done:
            self.update(self.done, force=True)
        if self._open:
            self.file.write('\n')
            self.file.flush()
            self._open = False


class WindowProgress:
    """Feeds a :class:`FrameProgress` with written frames and, between them, network steps.

    Use as a context manager around the restoration; call :meth:`wrote` with the frames
    handed to the output.

    Args:
        meter (FrameProgress): The display.
        generator (nn.Module, optional): The network, to hook. None: written frames only.
        new_frames (int, optional): Frames one window adds to the output (window minus
            overlap); None for the whole video in one window.
        tiles (int): Tiles per frame (each one more clip of the generator's batch).
            Defaults to 1.
    """

    def __init__(self, meter: FrameProgress, generator: Optional[nn.Module],
                 new_frames: Optional[int], tiles: int = 1) -> None:
        self.meter = meter
        self.generator = generator if isinstance(generator, nn.Module) else None
        self.new_frames = new_frames
        self.tiles = max(1, tiles)
        self.written = 0
        self._steps = 0
        self._steps_per_call = 1
        self._clips = 1
        self._handles: List = []

    def _step_modules(self) -> Sequence[nn.Module]:
        return [m for name, m in self.generator.named_modules()
                if name.rsplit('.', 1)[-1] in STEP_MODULES]

    def __enter__(self) -> 'WindowProgress':
        if self.generator is not None:
            self._handles.append(self.generator.register_forward_pre_hook(self._call))
            for module in self._step_modules():
                self._handles.append(module.register_forward_hook(self._step))
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def _call(self, module: nn.Module, args) -> None:
        lqs = args[0] if args else None
        if getattr(lqs, 'dim', lambda: 0)() == 5:
            clips, frames = lqs.shape[:2]
            self._clips = max(1, clips // self.tiles)  # windows in the batch
            self._steps_per_call = 2 * frames  # both directions
        self._steps = 0

    def _step(self, module: nn.Module, args, output) -> None:
        self._steps += 1
        share = self._steps / self._steps_per_call
        expected = self._clips * self.new_frames if self.new_frames else None
        total = self.meter.total
        if total is not None:
            expected = total - self.written if expected is None else min(
                expected, total - self.written)
        if expected:
            self.meter.update(self.written + min(share, 1) * expected)

    def wrote(self, frames: int = 1) -> None:
        """Counts ``frames`` frames handed to the output."""
        self.written += frames
        self.meter.update(self.written)
