"""When to reconnect a live stream: the back-off schedules the platforms publish.

X's streaming guidance: reconnect at once after a clean drop; back off linearly for TCP/IP
errors (+250 ms per attempt, up to 16 s), exponentially for HTTP errors (from 5 s, doubling,
up to 320 s) and exponentially from a minute for 420/429. Jetstream publishes no schedule of
its own, so it uses the same one. This module only does arithmetic: no I/O, no clock, no
sleeping, so every schedule can be tested exactly.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum


class Reason(StrEnum):
    """Why a connection ended (or never started). The values appear in logs and stats."""

    CLEAN = "clean"  # the server ended the stream normally
    OPERATIONAL = "operational_disconnect"  # v2 announced it would close (maintenance)
    SERVER_DISCONNECT = "server_disconnect"  # v1.1 `{"disconnect": ...}` control message
    NETWORK = "network"  # TCP/TLS/websocket failure, or a body cut off mid-way
    STALL = "stall"  # no bytes (keep-alives included) for the stall timeout
    HTTP = "http"  # any other refusal: 5xx, 404, a redirect...
    RATE_LIMITED = "rate_limited"  # 420 Enhance Your Calm, 429 Too Many Requests
    AUTH = "auth"  # 401/403: the credentials are wrong; retrying fast cannot help


def reason_for_status(status: int) -> Reason:
    if status in (401, 403):
        return Reason.AUTH
    if status in (420, 429):
        return Reason.RATE_LIMITED
    return Reason.HTTP


# The schedule each reason follows. A stall is a network problem by another name.
_SCHEDULE = {
    Reason.CLEAN: "drop",
    Reason.OPERATIONAL: "drop",
    Reason.SERVER_DISCONNECT: "drop",
    Reason.NETWORK: "network",
    Reason.STALL: "network",
    Reason.HTTP: "http",
    Reason.RATE_LIMITED: "rate_limit",
    Reason.AUTH: "auth",
}


@dataclass(frozen=True)
class Backoff:
    """The schedules' numbers, in seconds."""

    network_step_s: float = 0.25
    network_max_s: float = 16.0
    http_first_s: float = 5.0
    http_max_s: float = 320.0
    rate_limit_first_s: float = 60.0
    rate_limit_max_s: float = 960.0
    auth_s: float = 300.0
    # Clean drops in a row without a message that still reconnect at once; after that a server
    # that accepts and hangs up immediately is treated like a network error, not a tight loop.
    free_drops: int = 1
    jitter: float = 0.2  # each delay is scaled by a random factor in [1 - jitter, 1 + jitter]


class ReconnectPolicy:
    """Counts consecutive failures per schedule and turns each disconnect into a delay.

    A message received on a connection (`on_data`) proves the stream works and resets every
    count, so the next clean drop reconnects at once again.
    """

    def __init__(self, backoff: Backoff | None = None, rng: random.Random | None = None) -> None:
        self.backoff = backoff or Backoff()
        self._rng = rng or random.Random()
        self._attempts: Counter[str] = Counter()

    @property
    def failures(self) -> int:
        """Disconnects since the last message."""
        return sum(self._attempts.values())

    def on_data(self) -> None:
        self._attempts.clear()

    def on_disconnect(self, reason: Reason) -> float:
        """The delay before the next attempt, jitter included (never negative)."""
        schedule = _SCHEDULE[reason]
        self._attempts[schedule] += 1
        return self._jittered(self._base_delay(schedule, self._attempts[schedule]))

    def _base_delay(self, schedule: str, attempt: int) -> float:
        b = self.backoff
        if schedule == "drop":
            excess = attempt - b.free_drops
            return 0.0 if excess <= 0 else min(b.network_step_s * excess, b.network_max_s)
        if schedule == "network":
            return min(b.network_step_s * attempt, b.network_max_s)
        if schedule == "http":
            return _doubling(b.http_first_s, attempt, b.http_max_s)
        if schedule == "rate_limit":
            return _doubling(b.rate_limit_first_s, attempt, b.rate_limit_max_s)
        return b.auth_s

    def _jittered(self, delay: float) -> float:
        jitter = self.backoff.jitter
        if delay <= 0 or jitter <= 0:
            return max(delay, 0.0)
        return max(0.0, delay * (1.0 + self._rng.uniform(-jitter, jitter)))


def _doubling(first: float, attempt: int, cap: float) -> float:
    # Cap the exponent too: after a day of 429s, 2**attempt must not overflow a float.
    return min(first * 2.0 ** min(attempt - 1, 64), cap)
