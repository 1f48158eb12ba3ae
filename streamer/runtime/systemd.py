"""Tell systemd how the daemon is doing: the sd_notify protocol, in a few lines of our own.

A message is one datagram of `KEY=VALUE` lines sent to the AF_UNIX socket named by
$NOTIFY_SOCKET (a path, or "@name" for an abstract socket). Under `Type=notify` systemd counts
the service as started only at READY=1, so `systemctl start` returns once Redis answers and
recovery is done; STATUS= shows in `systemctl status`; with `WatchdogSec=` it restarts the
service when WATCHDOG=1 stops coming. Outside systemd there is no NOTIFY_SOCKET and every call
does nothing, so the daemon makes the calls unconditionally.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable, Mapping

from streamer.core.logs import get_logger

log = get_logger("streamer.systemd")


def _positive_int(value: str | None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if number > 0 else None


def _socket_address(name: str) -> bytes | None:
    """NOTIFY_SOCKET as a sockaddr_un path: '@' stands for the leading NUL of abstract names."""
    if name.startswith("/"):
        return os.fsencode(name)
    if name.startswith("@") and len(name) > 1:
        return b"\0" + os.fsencode(name[1:])
    return None  # vsock: and other transports: RestrictAddressFamilies= allows AF_UNIX only


def _one_line(text: str) -> str:
    # A newline would start a new KEY=VALUE pair: a status must not be able to send READY=1.
    return " ".join(text.splitlines())


class Notifier:
    """Sends sd_notify messages. It never raises: a lost status line must not stop ingest.

    Build it with `Notifier.from_env()`; `Notifier()` is one that sends nothing.
    """

    def __init__(self, address: str | None = None, watchdog_usec: int | None = None) -> None:
        self.address = address or None
        self.watchdog_usec = watchdog_usec if watchdog_usec and watchdog_usec > 0 else None
        self.failures = 0
        self._target = _socket_address(address) if address else None
        self._sock: socket.socket | None = None
        self._warned = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, pid: int | None = None) -> Notifier:
        """Read NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID (`env` and `pid` are for tests).

        WATCHDOG_PID names the process systemd watches; a child that inherited the variables
        (a pool worker, redis-server) must not keep the service alive, so only that pid pings.
        """
        env = os.environ if env is None else env
        pid = os.getpid() if pid is None else pid
        address = env.get("NOTIFY_SOCKET") or None
        if address is not None and _socket_address(address) is None:
            log.warning("notify_socket_unsupported", notify_socket=address)
            address = None
        usec = _positive_int(env.get("WATCHDOG_USEC"))
        watchdog_pid = env.get("WATCHDOG_PID")
        if watchdog_pid is not None and _positive_int(watchdog_pid) != pid:
            usec = None
        return cls(address, usec)

    @property
    def enabled(self) -> bool:
        return self._target is not None

    def watchdog_interval(self) -> float | None:
        """Seconds between pings: half of WatchdogSec=, as sd_watchdog_enabled(3) advises."""
        if not self.enabled or self.watchdog_usec is None:
            return None
        return self.watchdog_usec / 2 / 1_000_000

    def notify(self, *fields: str) -> bool:
        """Send `KEY=VALUE` fields as one datagram; True if it left, False otherwise."""
        if self._target is None:
            return False
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                # A full receive queue must drop a ping, never block the event loop.
                self._sock.setblocking(False)
            self._sock.sendto("\n".join(fields).encode(), self._target)
        except OSError as exc:
            self.failures += 1
            if not self._warned:  # once: systemd gone for good would otherwise flood the log
                self._warned = True
                log.warning(
                    "sd_notify_failed",
                    notify_socket=self.address,
                    error=str(exc),
                    note="later failures are not logged",
                )
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        fields = ["READY=1"]
        if status is not None:
            fields.append(f"STATUS={_one_line(status)}")
        return self.notify(*fields)

    def status(self, text: str) -> bool:
        return self.notify(f"STATUS={_one_line(text)}")

    def watchdog(self) -> bool:
        return self.notify("WATCHDOG=1")

    def stopping(self, status: str | None = None) -> bool:
        fields = ["STOPPING=1"]
        if status is not None:
            fields.append(f"STATUS={_one_line(status)}")
        return self.notify(*fields)

    def extend_timeout(self, seconds: float) -> bool:
        """Ask for `seconds` more before the start (or stop) timeout, e.g. while Redis loads a
        large append-only file: a slow start is not a failed one."""
        return self.notify(f"EXTEND_TIMEOUT_USEC={max(1, int(seconds * 1_000_000))}")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _is_healthy(healthy: Callable[[], bool]) -> bool:
    try:
        return bool(healthy())
    except Exception:
        log.exception("health_check_failed")
        return False


async def watchdog_loop(notifier: Notifier, healthy: Callable[[], bool]) -> None:
    """Send WATCHDOG=1 every `watchdog_interval()` while `healthy()` is true; cancel to stop.

    Silence is the point: when the pings stop, systemd kills the service and Restart= starts
    it again. A wedged event loop never gets here; `healthy()` covers what a turning loop can
    still see is broken (a dead process pool, a writer that stopped). It must be quick and not
    block. Returns at once when the watchdog is off (no WatchdogSec=, or another WATCHDOG_PID).
    """
    interval = notifier.watchdog_interval()
    if interval is None:
        return
    withheld = False
    while True:
        if _is_healthy(healthy):
            notifier.watchdog()
            if withheld:
                log.info("watchdog_resumed")
                withheld = False
        elif not withheld:
            log.warning("watchdog_withheld", watchdog_sec=round(interval * 2, 3))
            withheld = True
        await asyncio.sleep(interval)
