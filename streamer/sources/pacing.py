"""Pacing a stream to a rate without sleeping once per line."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class Pacer:
    """Lets `n` items through at `rate` per second on average; rate 0 means no pacing.

    Items are due at start + i / rate; the pacer sleeps only when it is ahead of schedule,
    so a slow consumer never builds up a burst debt larger than one second's worth.
    """

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._clock = clock
        self._start: float | None = None
        self._sent = 0

    def chunk_size(self, default: int = 1000) -> int:
        """How many items to hand over at once: about 20 hand-overs a second when paced."""
        if self.rate <= 0:
            return default
        return max(1, min(default, int(self.rate / 20)))

    def delay(self, n: int) -> float:
        """Seconds to wait before sending the next `n` items (and account for them)."""
        if self.rate <= 0:
            return 0.0
        now = self._clock()
        if self._start is None:
            self._start = now
        due = self._start + self._sent / self.rate
        if now - due > 1.0:  # fell behind: forget the debt instead of bursting
            self._start = now - self._sent / self.rate
            due = now
        self._sent += n
        return max(0.0, due - now)

    async def wait(self, n: int) -> None:
        pause = self.delay(n)
        if pause > 0:
            await asyncio.sleep(pause)
