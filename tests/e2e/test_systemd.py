"""sd_notify over real AF_UNIX datagram sockets, the watchdog loop, and the unit file."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from streamer.cli.service import (
    CONFIG_TOKEN,
    EXEC_TOKEN,
    UNIT_TEMPLATE,
    USER_TOKEN,
    default_exec_path,
    install_service,
    render_unit,
    systemd_quote,
    unit_warnings,
)
from streamer.config import ConfigError
from streamer.runtime.systemd import Notifier, watchdog_loop

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def short_dir() -> Iterator[Path]:
    # Unix socket paths must fit in 108 bytes; pytest's tmp_path can be longer than that.
    path = Path(tempfile.mkdtemp(dir="/tmp", prefix="sd-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def listener(short_dir: Path) -> Iterator[tuple[socket.socket, str]]:
    """A datagram socket where systemd's would be, and its NOTIFY_SOCKET value."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = str(short_dir / "notify")
    sock.bind(path)
    sock.settimeout(1.0)
    try:
        yield sock, path
    finally:
        sock.close()


def received(sock: socket.socket) -> list[bytes]:
    """Every datagram waiting on `sock`, without waiting for more."""
    out = []
    sock.setblocking(False)
    try:
        while True:
            out.append(sock.recv(4096))
    except BlockingIOError:
        return out
    finally:
        sock.settimeout(1.0)


# --- the protocol -------------------------------------------------------------------------


def test_messages_on_a_filesystem_socket(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    notifier = Notifier.from_env({"NOTIFY_SOCKET": path})
    assert notifier.enabled
    assert notifier.ready("redis up, 2 workers")
    assert sock.recv(4096) == b"READY=1\nSTATUS=redis up, 2 workers"
    assert notifier.ready()
    assert sock.recv(4096) == b"READY=1"
    assert notifier.status("50.0 posts/s in")
    assert sock.recv(4096) == b"STATUS=50.0 posts/s in"
    assert notifier.watchdog()
    assert sock.recv(4096) == b"WATCHDOG=1"
    assert notifier.stopping()
    assert sock.recv(4096) == b"STOPPING=1"
    assert notifier.stopping("draining")
    assert sock.recv(4096) == b"STOPPING=1\nSTATUS=draining"
    assert notifier.extend_timeout(2.5)
    assert sock.recv(4096) == b"EXTEND_TIMEOUT_USEC=2500000"
    notifier.close()


def test_a_status_cannot_smuggle_in_another_field(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    notifier = Notifier.from_env({"NOTIFY_SOCKET": path})
    notifier.status("bad input\nREADY=1")
    assert sock.recv(4096) == b"STATUS=bad input READY=1"


def test_messages_on_an_abstract_socket() -> None:
    name = f"tweetheat-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(1.0)
        notifier = Notifier.from_env({"NOTIFY_SOCKET": "@" + name})
        assert notifier.enabled
        assert notifier.ready("up")
        assert notifier.watchdog()
        assert notifier.stopping()
        assert [sock.recv(4096) for _ in range(3)] == [
            b"READY=1\nSTATUS=up",
            b"WATCHDOG=1",
            b"STOPPING=1",
        ]
        notifier.close()


def test_without_notify_socket_nothing_is_sent() -> None:
    for env in ({}, {"NOTIFY_SOCKET": ""}, {"NOTIFY_SOCKET": "vsock:2:1234"}):
        notifier = Notifier.from_env(env)
        assert not notifier.enabled
        assert not notifier.ready("x")
        assert not notifier.status("x")
        assert not notifier.watchdog()
        assert not notifier.stopping()
        assert notifier.failures == 0
    assert not Notifier().enabled


def test_a_missing_socket_is_logged_once_and_never_raises(short_dir: Path) -> None:
    notifier = Notifier.from_env({"NOTIFY_SOCKET": str(short_dir / "gone")})
    assert notifier.enabled
    with capture_logs() as logs:
        assert not notifier.ready()
        assert not notifier.watchdog()
        assert not notifier.status("still here")
    assert notifier.failures == 3
    assert [entry["event"] for entry in logs] == ["sd_notify_failed"]
    assert logs[0]["log_level"] == "warning"


def test_watchdog_interval_is_half_of_watchdog_usec(short_dir: Path) -> None:
    sock = str(short_dir / "notify")
    pid = 4242

    def interval(**env: str) -> float | None:
        return Notifier.from_env({"NOTIFY_SOCKET": sock, **env}, pid=pid).watchdog_interval()

    assert interval(WATCHDOG_USEC="60000000") == 30.0
    assert interval(WATCHDOG_USEC="100000") == 0.05
    assert interval(WATCHDOG_USEC="60000000", WATCHDOG_PID=str(pid)) == 30.0
    # Set for another process (our parent, or we are a child that inherited it): not ours.
    assert interval(WATCHDOG_USEC="60000000", WATCHDOG_PID="1") is None
    assert interval(WATCHDOG_USEC="60000000", WATCHDOG_PID="x") is None
    assert interval() is None
    assert interval(WATCHDOG_USEC="0") is None
    assert interval(WATCHDOG_USEC="soon") is None
    # Nowhere to send the pings: no watchdog either.
    assert Notifier.from_env({"WATCHDOG_USEC": "60000000"}).watchdog_interval() is None
    # The real pid is the default.
    env = {"NOTIFY_SOCKET": sock, "WATCHDOG_USEC": "2000000", "WATCHDOG_PID": str(os.getpid())}
    assert Notifier.from_env(env).watchdog_interval() == 1.0


# --- the watchdog loop --------------------------------------------------------------------


def test_watchdog_pings_only_while_healthy(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    notifier = Notifier.from_env({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "100000"})
    assert notifier.watchdog_interval() == 0.05
    state = {"ok": True}

    async def scenario() -> tuple[list[bytes], list[bytes], list[bytes]]:
        task = asyncio.create_task(watchdog_loop(notifier, lambda: state["ok"]))
        await asyncio.sleep(0.22)
        healthy = received(sock)
        state["ok"] = False  # no await in between: the loop cannot ping after this line
        healthy += received(sock)
        await asyncio.sleep(0.25)
        sick = received(sock)
        state["ok"] = True
        await asyncio.sleep(0.12)
        recovered = received(sock)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return healthy, sick, recovered

    with capture_logs() as logs:
        healthy, sick, recovered = asyncio.run(scenario())
    assert len(healthy) >= 2 and set(healthy) == {b"WATCHDOG=1"}
    assert sick == []
    assert len(recovered) >= 1 and set(recovered) == {b"WATCHDOG=1"}
    events = [entry["event"] for entry in logs]
    assert events == ["watchdog_withheld", "watchdog_resumed"]


def test_a_failing_health_check_counts_as_unhealthy(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    notifier = Notifier.from_env({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "100000"})

    def broken() -> bool:
        raise RuntimeError("pool object gone")

    async def scenario() -> bool:
        task = asyncio.create_task(watchdog_loop(notifier, broken))
        await asyncio.sleep(0.12)
        alive = not task.done()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return alive

    with capture_logs():
        assert asyncio.run(scenario())
    assert received(sock) == []


def test_watchdog_loop_returns_at_once_when_the_watchdog_is_off(
    listener: tuple[socket.socket, str],
) -> None:
    _sock, path = listener
    off = [
        Notifier(),
        Notifier.from_env({"NOTIFY_SOCKET": path}),
        Notifier.from_env({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "100000", "WATCHDOG_PID": "1"}),
    ]
    for notifier in off:
        asyncio.run(asyncio.wait_for(watchdog_loop(notifier, lambda: True), timeout=0.5))


# --- the unit file ------------------------------------------------------------------------


def test_the_scripts_file_is_the_template() -> None:
    assert (REPO / "scripts" / "tweetheat.service").read_bytes() == UNIT_TEMPLATE.encode()
    for token in (EXEC_TOKEN, USER_TOKEN, CONFIG_TOKEN):
        assert token in UNIT_TEMPLATE


def test_render_unit_fills_the_placeholders() -> None:
    unit = render_unit("/opt/tweetheat/bin/tweetheat", user="heat", config="/etc/heat/c.toml")
    for token in (EXEC_TOKEN, USER_TOKEN, CONFIG_TOKEN):
        assert token not in unit
    lines = unit.splitlines()
    exec_start = next(line for line in lines if line.startswith("ExecStart="))
    assert exec_start.startswith(
        "ExecStart=/opt/tweetheat/bin/tweetheat run --config /etc/heat/c.toml --log-format json"
    )
    for expected in (
        "Type=notify",
        "NotifyAccess=main",
        "User=heat",
        "Group=heat",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "StateDirectory=tweetheat",
        "KillMode=mixed",
        "UMask=0077",
        "CapabilityBoundingSet=",
    ):
        assert expected in lines, expected
    for prefix in ("WatchdogSec=", "EnvironmentFile=", "TimeoutStopSec=", "Restart="):
        assert any(line.startswith(prefix) for line in lines), prefix


def test_render_unit_quotes_for_systemd() -> None:
    assert systemd_quote("/usr/bin/python3") == "/usr/bin/python3"
    assert systemd_quote("/opt/my app/tweetheat") == '"/opt/my app/tweetheat"'
    assert systemd_quote("50%") == '"50%%"'
    assert systemd_quote("$HOME") == '"$$HOME"'
    assert systemd_quote('a"b\\c') == '"a\\"b\\\\c"'
    unit = render_unit("'/opt/my app/bin/python' -m streamer.cli", config="/etc/a b/c.toml")
    assert 'ExecStart="/opt/my app/bin/python" -m streamer.cli run --config "/etc/a b/c.toml"' in (
        unit
    )


@pytest.mark.parametrize(
    ("kwargs", "option"),
    [
        ({"exec_path": "tweetheat"}, "exec path"),
        ({"exec_path": ""}, "exec path"),
        ({"exec_path": "'/opt/unbalanced"}, "exec path"),
        ({"exec_path": "/bin/true\nExecStartPre=/bin/evil"}, "exec path"),
        ({"exec_path": "/bin/true", "user": "Heat Map"}, "--user"),
        ({"exec_path": "/bin/true", "user": "root\nUser=root"}, "--user"),
        ({"exec_path": "/bin/true", "config": "config.toml"}, "--config"),
        ({"exec_path": "/bin/true", "config": "/etc/x\n[Service]"}, "--config"),
    ],
)
def test_render_unit_refuses_bad_values(kwargs: dict[str, str], option: str) -> None:
    with pytest.raises(ConfigError, match=f"^{option}"):
        render_unit(**kwargs)


def test_default_exec_path(monkeypatch: pytest.MonkeyPatch, short_dir: Path) -> None:
    beside = Path(os.path.abspath(sys.executable)).with_name("tweetheat")
    assert beside.is_file(), "the test venv has the console script"
    assert default_exec_path() == str(beside)
    lonely = short_dir / "bin" / "python3"
    lonely.parent.mkdir()
    lonely.symlink_to(sys.executable)
    monkeypatch.setattr(sys, "executable", str(lonely))
    assert default_exec_path() == f"{lonely} -m streamer.cli"


def test_unit_warnings_name_what_protecthome_hides(short_dir: Path) -> None:
    script = short_dir / "tweetheat"
    script.write_text("#!/home/someone/venv/bin/python\nprint()\n")
    assert unit_warnings(str(script)) == [f"{script} is not an executable file"]
    script.chmod(0o755)
    warnings = unit_warnings(str(script))
    assert len(warnings) == 1 and "/home/someone/venv/bin/python" in warnings[0]
    script.write_text("#!/bin/sh\necho\n")
    assert unit_warnings(str(script)) == []


def test_install_service_without_a_path_only_returns_the_text(short_dir: Path) -> None:
    text = install_service(None, "/opt/tweetheat/bin/tweetheat")
    assert text == render_unit("/opt/tweetheat/bin/tweetheat")
    assert list(short_dir.iterdir()) == []


def test_install_service_writes_0644_atomically(short_dir: Path) -> None:
    target = short_dir / "tweetheat.service"
    target.write_text("old unit\n")
    old_inode = target.stat().st_ino
    with open(target) as reader:  # a reader of the old file keeps reading the old file
        old_mask = os.umask(0o077)  # the mode is set, not left to the umask
        try:
            text = install_service(target, "/opt/tweetheat/bin/tweetheat", user="heat")
        finally:
            os.umask(old_mask)
        assert reader.read() == "old unit\n"
    assert target.read_text() == text
    assert "User=heat" in text.splitlines()
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert target.stat().st_ino != old_inode  # replaced by a rename, not rewritten in place
    assert sorted(p.name for p in short_dir.iterdir()) == ["tweetheat.service"]


def test_a_failed_install_leaves_the_old_unit(
    short_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = short_dir / "tweetheat.service"
    target.write_text("old unit\n")

    def no_rename(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", no_rename)
    with pytest.raises(OSError, match="disk full"):
        install_service(target, "/opt/tweetheat/bin/tweetheat")
    assert target.read_text() == "old unit\n"
    assert sorted(p.name for p in short_dir.iterdir()) == ["tweetheat.service"]


def test_install_service_wants_a_file_name(short_dir: Path) -> None:
    with pytest.raises(ConfigError, match=r"^--write: .* is a directory"):
        install_service(short_dir, "/opt/tweetheat/bin/tweetheat")


def test_systemd_analyze_accepts_the_unit(short_dir: Path) -> None:
    # A path with a space and a '%' checks the quoting; the command must exist for verify.
    odd = short_dir / "my app" / "tweet%heat"
    odd.parent.mkdir()
    odd.symlink_to(Path(sys.executable).with_name("tweetheat"))
    for name, exec_path in (("a.service", default_exec_path()), ("b.service", f"'{odd}'")):
        unit = short_dir / name
        unit.write_text(render_unit(exec_path))
        done = subprocess.run(
            ["systemd-analyze", "verify", "--man=no", str(unit)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        complaints = [line for line in done.stderr.splitlines() if name in line]
        assert done.returncode == 0 and complaints == [], done.stderr
