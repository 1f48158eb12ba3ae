"""One `tweetheat run` in the background, for the end-to-end tests.

Its output (stdout and stderr together) goes to a file, read as it comes, so a chatty daemon
never blocks on a full pipe. It runs in its own process group, so that `kill_group()` takes
its pool workers, forkserver and analysis process with it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from tests.conftest import TWEETHEAT

RUN_TIMEOUT = 180.0  # seconds a daemon may take to finish by itself


class Daemon:
    def __init__(
        self, args: Sequence[str], env: dict[str, str], cwd: Path, log: Path | None = None
    ) -> None:
        """`tweetheat run ARGS`; a full command line if args starts with the program itself."""
        command = list(args) if args and args[0] == TWEETHEAT else [TWEETHEAT, "run", *args]
        if log is None:
            log = Path(tempfile.mkstemp(prefix="daemon-", suffix=".log", dir=cwd)[1])
        self.log_path = log
        self._out = open(log, "wb")  # noqa: SIM115 - closed when the process is reaped
        self.proc = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=self._out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def log(self) -> str:
        """Everything the daemon printed so far."""
        return self.log_path.read_text(errors="replace")

    def output(self) -> str:
        return self.log

    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert self.alive(), f"daemon exited early:\n{self.log}"
            assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{self.log}"
            time.sleep(0.05)

    def http_port(self) -> int:
        self.wait_for(lambda: "http_listening" in self.log, "the HTTP endpoint")
        found = re.search(r"http_listening.*?port=(\d+)", self.log)
        assert found, self.log
        return int(found.group(1))

    def wait(self, timeout: float = RUN_TIMEOUT) -> int:
        """The exit code once it finishes by itself; a test failure if it does not in time."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill_group()
            pytest.fail(f"the daemon did not finish in {timeout} s:\n{self.log[-4000:]}")
        finally:
            self._out.close()

    def finish(self, timeout: float = 60) -> int:
        """The exit code; killed (and the test told) if it does not finish in time."""
        return self.wait(timeout)

    def stop(self, timeout: float = 30) -> tuple[int, float]:
        """SIGTERM, then the exit code and how long the stop took."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.wait(timeout)
        return code, time.monotonic() - started

    def kill(self) -> None:
        self.kill_group()

    def kill_group(self) -> None:
        """SIGKILL the whole group, then wait until none of its processes is left."""
        if _group_members(self.pid):
            os.killpg(self.pid, signal.SIGKILL)
        if self.proc.poll() is None:
            self.proc.wait(timeout=10)
        self._out.close()
        deadline = time.monotonic() + 10
        while _group_members(self.pid):
            assert time.monotonic() < deadline, f"process group {self.pid} outlived SIGKILL"
            time.sleep(0.05)


def _group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of a process group."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces, so split after its ")".
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members
