"""A private redis-server child, used when no Redis URL is configured.

It listens only on a unix socket inside `<data_dir>/redis/` (directory mode 0700), keeps an
append-only file with `appendfsync everysec`, and is found again after a crash through its pid
file: a leftover that answers PING is reused, one that does not is replaced. A file lock around
start-up keeps two starters from ever running two servers on the same files.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import redis

from streamer.core.logs import get_logger

log = get_logger("streamer.embedded_redis")

# sockaddr_un holds 108 bytes including the terminating NUL.
MAX_SOCKET_PATH = 107


class EmbeddedRedisError(RuntimeError):
    pass


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive flock on `path` for the duration of the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class EmbeddedRedis:
    def __init__(self, data_dir: Path | str, binary: str = "redis-server") -> None:
        self.dir = Path(data_dir).resolve() / "redis"
        self.socket = self.dir / "redis.sock"
        self.pidfile = self.dir / "redis.pid"
        self.binary = binary
        self._child: subprocess.Popen[bytes] | None = None
        self.reused = False

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    # --- queries ------------------------------------------------------------------------

    def ping(self) -> bool:
        if not self.socket.exists():
            return False
        client = redis.Redis(unix_socket_path=str(self.socket), socket_timeout=1.0)
        try:
            return bool(client.ping())
        except (redis.RedisError, OSError):
            return False
        finally:
            client.close()

    def _leftover_pid(self) -> int | None:
        """The pid in the pid file, if that process is alive and is a redis-server."""
        try:
            pid = int(self.pidfile.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return None
        return pid if b"redis-server" in cmdline else None

    # --- life cycle ---------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> None:
        """Make sure exactly one server runs on our files, reusing a healthy leftover."""
        if len(str(self.socket)) > MAX_SOCKET_PATH:
            raise EmbeddedRedisError(
                f"daemon.data_dir: the socket path {self.socket} is longer than "
                f"{MAX_SOCKET_PATH} bytes; choose a shorter data directory"
            )
        if shutil.which(self.binary) is None:
            raise EmbeddedRedisError(
                "redis-server is not installed: run 'make setup' (or "
                "'apt-get install redis-server'), or set redis.url to an existing server"
            )
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o700)
        with file_lock(self.dir / "start.lock"):
            if self.ping():
                self.reused = True
                log.info("embedded_redis_reused", socket=str(self.socket))
                return
            pid = self._leftover_pid()
            if pid is not None:
                log.warning("embedded_redis_replacing_unresponsive", pid=pid)
                _terminate(pid, timeout=5.0)
            with contextlib.suppress(FileNotFoundError):
                self.socket.unlink()
            self._spawn()
            deadline = time.monotonic() + timeout
            while not self.ping():
                if self._child is not None and self._child.poll() is not None:
                    raise EmbeddedRedisError(
                        f"redis-server exited with code {self._child.returncode}; "
                        f"see {self.dir / 'redis.log'}"
                    )
                if time.monotonic() > deadline:
                    self.stop()
                    raise EmbeddedRedisError(f"redis-server did not answer within {timeout}s")
                time.sleep(0.02)
        log.info("embedded_redis_started", socket=str(self.socket), pid=self.pid)

    def _spawn(self) -> None:
        args = [
            self.binary,
            "--port", "0",
            "--unixsocket", str(self.socket),
            "--unixsocketperm", "700",
            "--dir", str(self.dir),
            "--pidfile", str(self.pidfile),
            "--logfile", str(self.dir / "redis.log"),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "",
            "--daemonize", "no",
        ]  # fmt: skip
        # A session of its own: Ctrl-C in a terminal must reach us, not Redis, so that we can
        # still flush our last batches into it before we stop it.
        self._child = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    @property
    def pid(self) -> int | None:
        if self._child is not None:
            return self._child.pid
        return self._leftover_pid()

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM makes redis-server fsync its append-only file and exit."""
        pid = self.pid
        if pid is None:
            return
        _terminate(pid, timeout=timeout, child=self._child)
        self._child = None
        log.info("embedded_redis_stopped", pid=pid)


def _terminate(pid: int, timeout: float, child: subprocess.Popen[bytes] | None = None) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child is not None:
            if child.poll() is not None:
                return
        elif not _alive(pid):
            return
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    if child is not None:
        child.wait(timeout=5)


def _alive(pid: int) -> bool:
    """True while the process runs; a zombie (exited, not yet reaped) counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"
