"""What a live source reports about its connection: stats, log lines, the slow-consumer watch."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from streamer.core.logs import RateLimitedLog
from streamer.sources.reconnect import Reason, ReconnectPolicy
from streamer.sources.redact import Redactor, redact_url

# Connection states, in the order a healthy source goes through them.
CONNECTING = "connecting"
STREAMING = "streaming"
BACKOFF = "backoff"
STOPPED = "stopped"


@dataclass
class StreamStats:
    """Counters since the source started. `last_error` never holds credentials."""

    state: str = CONNECTING
    url: str = ""  # the instance in use, redacted
    connects: int = 0
    disconnects: dict[str, int] = field(default_factory=dict)
    stalls: int = 0
    bytes: int = 0  # after gzip decoding; for websockets, frame payloads
    messages: int = 0  # lines handed to the pipeline
    keepalives: int = 0
    partial_lines_dropped: int = 0  # a message cut off by a disconnect
    oversized_lines: int = 0  # lines over the parser's limit, handed on cut short
    oversized_skips: int = 0  # Jetstream frames over the client's limit, resumed past
    consumer_waits: int = 0  # times the pipeline took long to ask for the next chunk
    last_status: int | None = None
    last_error: str = ""
    next_delay: float = 0.0

    def count_disconnect(self, reason: str) -> None:
        self.disconnects[reason] = self.disconnects.get(reason, 0) + 1

    def as_dict(self) -> dict[str, Any]:
        """Flat key/value pairs for the status line (`disconnects:<reason>` like `skipped:`)."""
        out: dict[str, Any] = {
            "state": self.state,
            "url": self.url,
            "connects": self.connects,
            "disconnects": sum(self.disconnects.values()),
        }
        for reason, n in sorted(self.disconnects.items()):
            out[f"disconnects:{reason}"] = n
        out.update(
            stalls=self.stalls,
            bytes=self.bytes,
            messages=self.messages,
            keepalives=self.keepalives,
            partial_lines_dropped=self.partial_lines_dropped,
            oversized_lines=self.oversized_lines,
            oversized_skips=self.oversized_skips,
            consumer_waits=self.consumer_waits,
            last_status=self.last_status,
            last_error=self.last_error,
            next_delay_s=round(self.next_delay, 3),
        )
        return out


class ConsumerWatch:
    """Notices when the pipeline took long to ask for the next chunk.

    That is backpressure working (the source stops reading, TCP pushes back), but if it lasts,
    the server may drop a slow client, so it is worth a (rate-limited) line in the log.
    """

    def __init__(
        self,
        source: str,
        stats: StreamStats,
        logger: Any,
        clock: Callable[[], float] = time.monotonic,
        threshold: float = 5.0,
    ) -> None:
        self._source = source
        self._stats = stats
        self._clock = clock
        self._threshold = threshold
        self._log = RateLimitedLog(logger, interval=30.0, clock=clock)
        self._handed_at: float | None = None

    def handed_over(self) -> None:
        self._handed_at = self._clock()

    def asked_again(self) -> None:
        if self._handed_at is None:
            return
        waited = self._clock() - self._handed_at
        self._handed_at = None
        if waited > self._threshold:
            self._stats.consumer_waits += 1
            self._log.warning(
                "reader_waiting",
                "stream_reader_waiting",
                source=self._source,
                waited_s=round(waited, 1),
            )


class ConnectionReport:
    """Keeps the stats and the log in step with a live connection's life, and asks the
    policy for the delay after each disconnect."""

    def __init__(
        self,
        source: str,
        stats: StreamStats,
        policy: ReconnectPolicy,
        logger: Any,
        redact: Redactor,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self._stats = stats
        self._policy = policy
        self._log = logger
        self._redact = redact
        self._clock = clock
        self._connected_at: float | None = None
        self._messages_at_connect = 0

    def connecting(self, url: str) -> None:
        self._stats.state = CONNECTING
        self._stats.url = redact_url(url)

    def connected(self, status: int | None = None, **details: Any) -> None:
        stats = self._stats
        stats.connects += 1
        stats.state = STREAMING
        stats.last_status = status
        self._connected_at = self._clock()
        self._messages_at_connect = stats.messages
        self._log.info(
            "stream_connected",
            source=self._source,
            url=stats.url,
            after_failures=self._policy.failures,
            **details,
        )

    def data_arrived(self) -> None:
        self._policy.on_data()

    def disconnected(self, reason: Reason, status: int | None = None, error: str = "") -> float:
        """Count and log the disconnect; returns the delay before the next attempt."""
        stats = self._stats
        delay = self._policy.on_disconnect(reason)
        stats.count_disconnect(reason.value)
        if reason is Reason.STALL:
            stats.stalls += 1
        if status is not None:
            stats.last_status = status
        if error:
            stats.last_error = self._redact(error)
        stats.next_delay = delay
        stats.state = BACKOFF
        fields: dict[str, Any] = {
            "source": self._source,
            "reason": reason.value,
            "status": status,
            "next_delay_s": round(delay, 2),
            "url": stats.url,
        }
        if self._connected_at is not None:
            fields["connected_s"] = round(self._clock() - self._connected_at, 1)
            fields["messages"] = stats.messages - self._messages_at_connect
            self._connected_at = None
        if error:
            fields["error"] = stats.last_error
        if reason is Reason.AUTH:
            self._log.error("stream_disconnected", **fields, hint=_AUTH_HINT)
        elif reason in _QUIET and delay == 0:  # routine; repeated empty drops are not
            self._log.info("stream_disconnected", **fields)
        else:
            self._log.warning("stream_disconnected", **fields)
        return delay

    def stopped(self) -> None:
        self._stats.state = STOPPED
        self._stats.next_delay = 0.0


_QUIET = (Reason.CLEAN, Reason.OPERATIONAL, Reason.SERVER_DISCONNECT)
_AUTH_HINT = "credentials refused: check the token/keys; retrying slowly"
