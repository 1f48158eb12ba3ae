"""A progress display for replays and backfills: a redrawn bar on a terminal, plain lines in logs.

`Progress.update` is cheap to call after every batch: it renders at most ~5 times a second on a
terminal (one line redrawn in place) and at most once every 10 s elsewhere (a plain line that
reads well in a log file or under systemd). Rates are over a moving window, so a replay that
slows down shows it at once instead of averaging it away since the start.

The class does no I/O beyond writing to its stream, takes its clock as an argument and never
raises from a closed or broken stream (it goes quiet instead): a progress display must not be
the thing that stops a backfill.
"""

from __future__ import annotations

import glob
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import TextIO

CLEAR_TO_EOL = "\x1b[K"
TTY_INTERVAL = 0.2  # seconds between redraws on a terminal: ~5 a second
PLAIN_INTERVAL = 10.0  # seconds between lines when the stream is a file or a pipe
RATE_WINDOW = 10.0  # seconds of history the rates are computed over
BAR_WIDTH = 20


def replay_total_bytes(paths: Iterable[str]) -> int | None:
    """The bytes a replay of `paths` will read, for the progress percentage and ETA.

    `paths` are the replay inputs: files, globs (expanded as the replay source expands them) or
    "-". Returns None when the total cannot be known: any input is "-" (stdin), or a file cannot
    be measured (vanished, unreadable) — progress then shows counts and rates only, rather than
    stopping the replay over a cosmetic detail.

    A .gz file counts with its *compressed* size, the bytes on disk: the replay source reports
    the compressed bytes it has consumed, so the two agree and the percentage is honest without
    decompressing anything up front.
    """
    total = 0
    for pattern in paths:
        if pattern == "-":
            return None
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not matches:
            return None
        try:
            total += sum(os.path.getsize(path) for path in matches)
        except OSError:
            return None
    return total


def _stream_is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (OSError, ValueError, AttributeError):  # closed, or not a real file
        return False


def format_duration(seconds: float) -> str:
    """`42s`, `3m05s`, `2h07m`: short enough to keep the progress line on one row."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


class Progress:
    """Shows how far a replay got: bytes against `total_bytes`, posts read/stored/skipped.

    On a TTY, one line redrawn in place (`\\r` ... clear to end of line)::

        [########............]  42.0%  1,250 posts/s  ETA 1m23s  read=52,000 stored=50,311 ...

    Elsewhere, at most one plain line every `plain_interval` seconds::

        progress 42% read=52000 stored=50311 skipped=1689 rate=1250/s eta=83s

    With `total_bytes=None` (stdin) there is no bar, percentage or ETA: counts and rate only.
    The rates (posts/s, and bytes/s for the ETA) are over the last `window` seconds.
    `close()` draws the final state and ends the terminal line.
    """

    def __init__(
        self,
        total_bytes: int | None,
        stream: TextIO | None = None,
        is_tty: bool | None = None,
        *,
        now: Callable[[], float] = time.monotonic,
        tty_interval: float = TTY_INTERVAL,
        plain_interval: float = PLAIN_INTERVAL,
        window: float = RATE_WINDOW,
    ) -> None:
        self.total_bytes = total_bytes
        self.stream: TextIO = sys.stderr if stream is None else stream
        self.is_tty = _stream_is_tty(self.stream) if is_tty is None else is_tty
        self.now = now
        self.interval = tty_interval if self.is_tty else plain_interval
        self.window = window
        self.enabled = True
        start = now()
        # (time, done_bytes, posts_read), one every `_sample_every` seconds at most, over the
        # last `window` seconds: the rates come from the oldest of them and the latest update.
        self._samples: deque[tuple[float, int, int]] = deque()
        self._latest: tuple[float, int, int] | None = None
        self._sample_every = min(tty_interval, window / 10)
        # A terminal shows the first update at once; a log waits a full interval for its first
        # line, so a short replay does not print a line of zeros.
        self._last_render = float("-inf") if self.is_tty else start
        self._state: tuple[int, int, int, int] | None = None
        self._rendered_state: tuple[int, int, int, int] | None = None
        self._line_open = False

    # --- public API ---------------------------------------------------------------------------

    def update(self, done_bytes: int, posts_read: int, posts_stored: int, skipped: int) -> None:
        """Record the totals so far; redraw if the last drawing is old enough. Never raises."""
        if not self.enabled:
            return
        t = self.now()
        self._state = (done_bytes, posts_read, posts_stored, skipped)
        self._sample(t, done_bytes, posts_read)
        if t - self._last_render >= self.interval:
            self._render(t)

    def clear(self) -> None:
        """Wipe the terminal line, so that a log line can be printed on a clean row.

        The next `update` draws the line again at once. Does nothing off a terminal.
        """
        if self._line_open:
            self._write("\r" + CLEAR_TO_EOL)
            self._line_open = False
            self._last_render = float("-inf")

    def close(self) -> None:
        """Draw the last state if it was not drawn yet, and end the terminal line."""
        if not self.enabled:
            return
        if self._state is not None and self._state != self._rendered_state:
            self._render(self.now())
        if self._line_open:
            self._write("\n")
            self._line_open = False
        self.enabled = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- rendering ----------------------------------------------------------------------------

    def line(self) -> str:
        """The text of the current state, without `\\r` or escape codes (also for tests)."""
        if self._state is None:
            return ""
        done, read, stored, skipped = self._state
        posts_rate, bytes_rate = self._rates()
        fraction = self._fraction(done)
        eta = self._eta(done, bytes_rate)
        if self.is_tty:
            parts = []
            if fraction is not None:
                filled = int(fraction * BAR_WIDTH)
                parts.append("[" + "#" * filled + "." * (BAR_WIDTH - filled) + "]")
                parts.append(f"{fraction * 100:5.1f}%")
            parts.append("? posts/s" if posts_rate is None else f"{posts_rate:,.0f} posts/s")
            if fraction is not None:
                parts.append("ETA " + ("?" if eta is None else format_duration(eta)))
            parts.append(f"read={read:,} stored={stored:,} skipped={skipped:,}")
            return "  ".join(parts)
        parts = ["progress"]
        if fraction is not None:
            parts.append(f"{fraction * 100:.0f}%")
        parts.append(f"read={read} stored={stored} skipped={skipped}")
        parts.append("rate=?/s" if posts_rate is None else f"rate={posts_rate:.0f}/s")
        if fraction is not None:
            parts.append("eta=?" if eta is None else f"eta={eta:.0f}s")
        return " ".join(parts)

    def _render(self, t: float) -> None:
        text = self.line()
        if self.is_tty:
            self._write(f"\r{text}{CLEAR_TO_EOL}")
            self._line_open = True
        else:
            self._write(text + "\n")
        self._last_render = t
        self._rendered_state = self._state

    def _write(self, text: str) -> None:
        if not self.enabled:
            return
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # BrokenPipeError, or a closed stream: go quiet
            self.enabled = False

    # --- arithmetic ---------------------------------------------------------------------------

    def _sample(self, t: float, done_bytes: int, posts_read: int) -> None:
        self._latest = (t, done_bytes, posts_read)
        samples = self._samples
        if not samples or t - samples[-1][0] >= self._sample_every:
            samples.append(self._latest)
        # Keep one sample at or before the window's start, so the window is always full.
        while len(samples) > 1 and samples[1][0] <= t - self.window:
            samples.popleft()

    def _rates(self) -> tuple[float | None, float | None]:
        """(posts/s, bytes/s) over the window; None until there is a time span to divide by."""
        if not self._samples or self._latest is None:
            return None, None
        t0, bytes0, posts0 = self._samples[0]
        t1, bytes1, posts1 = self._latest
        span = t1 - t0
        if span <= 0:
            return None, None
        return max(0, posts1 - posts0) / span, max(0, bytes1 - bytes0) / span

    def _fraction(self, done: int) -> float | None:
        if self.total_bytes is None:
            return None
        if self.total_bytes <= 0:
            return 1.0
        return min(1.0, max(0.0, done / self.total_bytes))

    def _eta(self, done: int, bytes_rate: float | None) -> float | None:
        if self.total_bytes is None or bytes_rate is None or bytes_rate <= 0:
            return None
        return max(0, self.total_bytes - done) / bytes_rate


class ClearingStream:
    """A log stream that wipes the progress line before each log line, so the two share a
    terminal without log lines landing in the middle of the bar. Everything else is the
    wrapped stream's."""

    def __init__(self, stream: TextIO, progress: Progress) -> None:
        self._stream = stream
        self._progress = progress

    def write(self, text: str) -> int:
        self._progress.clear()
        return self._stream.write(text)

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)
