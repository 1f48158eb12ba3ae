"""Logging: structlog configured once at start-up, one line per event on stdout.

`console` gives `timestamp level event key=value ...` lines that read well in `journalctl -f`
and a terminal alike (no colours unless stdout is a TTY); `json` gives one object per line.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import MutableMapping
from typing import Any

import structlog

from streamer.core.terminal import printable

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}
_LEVELS["error"] = logging.ERROR


def configure_logging(fmt: str = "console", level: str = "info", stream: Any = None) -> None:
    """Daemon logs go to stdout (journald); read commands pass stderr to keep stdout data."""
    stream = stream or sys.stdout
    _configured.update(fmt=fmt, level=level)
    renderer: Any
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(
            colors=stream.isatty(), pad_event_to=0, sort_keys=False
        )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            *([] if fmt == "json" else [escape_for_terminal]),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS.get(level, logging.INFO)),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )


def escape_for_terminal(
    _logger: Any, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Console lines carry stream text (a bad line's detail, a tag): control characters in it
    are shown escaped, so a log line cannot clear the screen or forge another line. A
    traceback keeps its newlines: it is ours."""
    return {
        key: printable(value) if isinstance(value, str) and key != "exception" else value
        for key, value in event.items()
    }


def configure_logging_stream(stream: Any) -> None:
    """Send the logs to another stream, keeping the format and level already configured."""
    configure_logging(_configured["fmt"], _configured["level"], stream)


_configured: dict[str, str] = {"fmt": "console", "level": "info"}


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)


class RateLimitedLog:
    """Log at most one line per key every `interval` seconds, saying how many were suppressed.

    Hostile input can produce thousands of bad lines a second; the log must stay readable.
    """

    def __init__(self, logger: Any, interval: float = 10.0, clock: Any = time.monotonic) -> None:
        self._logger = logger
        self._interval = interval
        self._clock = clock
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def warning(self, key: str, event: str, **kw: Any) -> bool:
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last < self._interval:
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return False
        self._last[key] = now
        suppressed = self._suppressed.pop(key, 0)
        if suppressed:
            kw["suppressed"] = suppressed
        self._logger.warning(event, **kw)
        return True
