"""The running daemon as an operator meets it: HTTP health and metrics, systemd's notify
protocol, the unit file command and the progress display. Real processes, a real Redis."""

from __future__ import annotations

import contextlib
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from streamer.cli.service import render_unit
from tests.conftest import TWEETHEAT, free_port
from tests.daemon import Daemon
from tests.e2e.test_end_to_end import write_demo


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def metric(text: str, name: str) -> float:
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert found, f"{name} missing from:\n{text}"
    return float(found.group(1))


def write_config(path: Path, body: str) -> Path:
    path.write_text(body, encoding="utf-8")
    return path


def test_healthz_metrics_and_maps_are_served_while_a_replay_runs(
    redis_url: str, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    data = tmp_path / "demo.ndjson"
    write_demo(data, 3000)
    config = write_config(
        tmp_path / "c.toml", "[maps]\ninterval = 0.5\n[clusters]\nenabled = false\n"
    )
    daemon = Daemon(
        ["--config", str(config), "--replay-file", str(data), "--rate", "500", "--exit-at-eof",
         "--redis-url", redis_url, "--out", str(tmp_path / "out"),
         "--data-dir", str(tmp_path / "data")],
        cli_env, tmp_path,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{daemon.http_port()}"
        daemon.wait_for(lambda: (tmp_path / "out/maps/index.html").exists(), "the first maps")
        status, headers, body = get(f"{base}/healthz")
        health = orjson.loads(body)
        first = get(f"{base}/metrics")[2].decode()
        time.sleep(1.0)
        second = get(f"{base}/metrics")[2].decode()
        page_status, page_headers, page = get(f"{base}/maps/")
        # Every local file the page refers to (Leaflet, the heat plugin, the country outlines,
        # language pages) comes from the daemon too: the page works with no other server.
        linked = sorted(set(re.findall(rb'(?:src|href)="([a-z][^"#:]*)"', page)))
        served = {ref.decode(): get(f"{base}/maps/{ref.decode()}")[0] for ref in linked}
        escape = get(f"{base}/maps/..%2f..%2fc.toml")[0]
    finally:
        code = daemon.finish()
    assert code == 0, daemon.log
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert health["ok"] is True and health["redis_reachable"] and health["pool_alive"]
    assert health["source"] == "replay" and health["lag_seconds"] < 30
    # Counters move between two scrapes while the replay runs, and only upwards.
    read_1, read_2 = (metric(t, "tweetheat_lines_read_total") for t in (first, second))
    assert 0 < read_1 < read_2 <= 3000
    assert metric(second, "tweetheat_posts_accepted_total") > 0
    assert metric(second, "tweetheat_redis_up") == 1
    assert metric(second, 'tweetheat_read_to_commit_seconds_bucket{le="+Inf"}') > 0
    assert "# TYPE tweetheat_lines_read_total counter" in second
    assert page_status == 200 and page_headers["Content-Type"].startswith("text/html")
    assert b"<html" in page.lower() and escape == 404
    assert {"assets/leaflet.js", "assets/leaflet-heat.js", "assets/leaflet.css"} <= set(served)
    assert all(code == 200 for code in served.values()), served


def test_healthz_says_503_while_redis_is_unreachable(
    tmp_path: Path, cli_env: dict[str, str], redis_url: str
) -> None:
    """Redis goes away under a running daemon: /healthz turns 503 and names the cause, the
    backlog shows in /metrics, and nothing is lost when it comes back."""
    import shutil

    port = free_port()
    workdir = tmp_path / "redis"
    workdir.mkdir()
    cmd = [shutil.which("redis-server") or "redis-server", "--port", str(port), "--bind",
           "127.0.0.1", "--save", "", "--appendonly", "yes", "--dir", str(workdir)]  # fmt: skip
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    data = tmp_path / "demo.ndjson"
    write_demo(data, 3000)
    url = f"redis://127.0.0.1:{port}/0"
    daemon = None
    try:
        time.sleep(0.3)
        daemon = Daemon(
            ["--replay-file", str(data), "--rate", "500", "--exit-at-eof", "--redis-url", url,
             "--out", str(tmp_path / "out"), "--data-dir", str(tmp_path / "data")],
            cli_env, tmp_path,
        )  # fmt: skip
        base = f"http://127.0.0.1:{daemon.http_port()}"
        daemon.wait_for(lambda: orjson.loads(get(f"{base}/healthz")[2])["ok"], "healthy")
        server.send_signal(signal.SIGTERM)  # a clean stop: the AOF keeps everything
        server.wait(timeout=10)
        daemon.wait_for(lambda: get(f"{base}/healthz")[0] == 503, "503 during the outage")
        down = orjson.loads(get(f"{base}/healthz")[2])
        time.sleep(1.0)
        metrics = get(f"{base}/metrics")[2].decode()
        server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        code = daemon.finish(timeout=90)
        import redis

        stored = redis.Redis.from_url(url, decode_responses=True).hgetall("tweetheat:pipeline")
    finally:
        if daemon is not None and daemon.proc.poll() is None:
            daemon.proc.kill()
        server.terminate()
        server.wait(timeout=10)
    assert down["ok"] is False and down["redis_reachable"] is False
    assert down["redis_down_s"] >= 0
    assert metric(metrics, "tweetheat_redis_up") == 0
    assert metric(metrics, "tweetheat_backlog_batches") >= 1
    assert metric(metrics, "tweetheat_commit_retries_total") >= 1
    assert code == 0, daemon.log if daemon else ""
    assert int(stored["lines"]) == 3000


def test_a_port_in_use_is_logged_and_ingest_goes_on(
    redis_url: str, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    data = tmp_path / "demo.ndjson"
    write_demo(data, 500)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        daemon = Daemon(
            ["--replay-file", str(data), "--rate", "max", "--exit-at-eof", "--redis-url",
             redis_url, "--http-port", str(port), "--out", str(tmp_path / "out"),
             "--data-dir", str(tmp_path / "data")],
            cli_env, tmp_path,
        )  # fmt: skip
        code = daemon.finish()
    assert code == 0, daemon.log
    assert "http_unavailable" in daemon.log and f"port={port}" in daemon.log
    assert "read=500" in daemon.log


def test_no_http_means_no_listener(redis_url: str, tmp_path: Path, cli_env: dict[str, str]) -> None:
    data = tmp_path / "demo.ndjson"
    write_demo(data, 200)
    daemon = Daemon(
        ["--replay-file", str(data), "--rate", "max", "--exit-at-eof", "--redis-url", redis_url,
         "--no-http", "--out", str(tmp_path / "out"), "--data-dir", str(tmp_path / "data")],
        cli_env, tmp_path,
    )  # fmt: skip
    assert daemon.finish() == 0, daemon.log
    assert "http_listening" not in daemon.log and "read=200" in daemon.log


def test_systemd_hears_ready_status_watchdog_and_stopping(
    redis_url: str, short_tmp: Path, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    """The daemon under a stand-in for systemd: a datagram socket at $NOTIFY_SOCKET."""
    sock_path = short_tmp / "notify"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(sock_path))
    listener.settimeout(0.2)
    heard: list[str] = []
    config = write_config(tmp_path / "c.toml", "[daemon]\nstatus_interval = 0.5\n")
    env = {**cli_env, "NOTIFY_SOCKET": str(sock_path), "WATCHDOG_USEC": "400000"}
    daemon = Daemon(
        ["--config", str(config), "--source", "demo", "--rate", "200", "--redis-url", redis_url,
         "--out", str(tmp_path / "out"), "--data-dir", str(tmp_path / "data")],
        env, tmp_path,
    )  # fmt: skip

    def listen(until: Callable[[], bool], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not until():
            assert time.monotonic() < deadline, f"heard only {heard}:\n{daemon.log}"
            with contextlib.suppress(TimeoutError):
                heard.append(listener.recv(4096).decode())

    try:
        listen(lambda: any("READY=1" in m for m in heard))
        listen(lambda: sum("WATCHDOG=1" in m for m in heard) >= 3)
        listen(lambda: any(m.startswith("STATUS=") and "posts/s" in m for m in heard))
        daemon.proc.send_signal(signal.SIGTERM)
        listen(lambda: any("STOPPING=1" in m for m in heard))
        code = daemon.finish()
    finally:
        listener.close()
        if daemon.proc.poll() is None:
            daemon.proc.kill()
    assert code == 0, daemon.log
    ready = next(i for i, m in enumerate(heard) if "READY=1" in m)
    assert all("READY=1" not in m for m in heard[ready + 1 :])  # once
    status = next(m for m in heard if m.startswith("STATUS=") and "posts/s" in m)
    assert "redis ok" in status and "\n" not in status.strip()


def test_install_service_prints_and_writes_the_unit(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    printed = subprocess.run(
        [TWEETHEAT, "install-service", "--user", "heat", "--config", "/etc/heat/c.toml"],
        env=cli_env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    target = tmp_path / "tweetheat.service"
    wrote = subprocess.run(
        [TWEETHEAT, "install-service", "--write", str(target)],
        env=cli_env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    refused = subprocess.run(
        [TWEETHEAT, "install-service", "--write", str(tmp_path / "missing" / "x.service")],
        env=cli_env, capture_output=True, text=True,
    )  # fmt: skip
    assert "Type=notify" in printed and "User=heat" in printed
    assert "/etc/heat/c.toml" in printed and "WatchdogSec=" in printed
    assert printed == render_unit(TWEETHEAT, user="heat", config="/etc/heat/c.toml")
    assert target.read_text() == render_unit(TWEETHEAT)
    assert "daemon-reload" in wrote.stderr
    assert refused.returncode == 1 and "Traceback" not in refused.stderr


@pytest.mark.parametrize("tty", [False, True])
def test_a_replay_shows_progress(
    tty: bool, redis_url: str, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    """Plain `progress` lines on a pipe; under a terminal (a pty), a bar redrawn in place."""
    data = tmp_path / "demo.ndjson"
    write_demo(data, 3000)
    args = [TWEETHEAT, "run", "--replay-file", str(data), "--rate", "1000", "--exit-at-eof",
            "--redis-url", redis_url, "--out", str(tmp_path / "out"),
            "--data-dir", str(tmp_path / "data")]  # fmt: skip
    if not tty:
        proc = subprocess.run(args, env=cli_env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert re.search(r"^progress 100% read=3000 ", proc.stderr, re.MULTILINE), proc.stderr
        assert not re.search(r"^progress ", proc.stdout, re.MULTILINE)  # the log stays clean
        return
    import os
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # the child: the daemon, on the pty
        os.execve(args[0], args, cli_env)
    seen = bytearray()
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the pty
            break
        if not chunk:
            break
        seen += chunk
    _, wait_status = os.waitpid(pid, 0)
    text = seen.decode(errors="replace")
    assert os.waitstatus_to_exitcode(wait_status) == 0, text
    assert "\r" in text and "posts/s" in text and "100.0%" in text
    assert "read=3,000" in text
    # Log lines start on a clean row: the bar is wiped before each of them.
    assert "\r\x1b[K" in text
    final = [line for line in text.split("\n") if "final_status" in line]
    assert final
    for line in final:  # what stays on screen after the last carriage return: the log line
        assert "posts/s" not in line.split("\r")[-1]


def test_stopping_does_not_wait_for_a_refit_in_progress(
    redis_url: str, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    """A refit on tens of thousands of bios runs for a minute; SIGTERM must not wait for it."""
    config = write_config(tmp_path / "c.toml", "[clusters]\ninterval = 10.0\n")
    daemon = Daemon(
        ["--config", str(config), "--source", "demo", "--rate", "3000", "--redis-url",
         redis_url, "--no-http", "--out", str(tmp_path / "out"),
         "--data-dir", str(tmp_path / "data")],
        cli_env, tmp_path,
    )  # fmt: skip
    try:
        # The first refit starts 10 s in, on ~30,000 users: it is still fitting at 13 s.
        time.sleep(13)
        assert "clusters_refit " not in daemon.log
        daemon.proc.send_signal(signal.SIGTERM)
        code = daemon.finish(timeout=30)
    finally:
        if daemon.proc.poll() is None:
            daemon.proc.kill()
    assert code == 0, daemon.log
    assert "refit_abandoned" in daemon.log and "stopped" in daemon.log


def test_an_unreachable_redis_is_one_line_not_a_traceback(cli_env: dict[str, str]) -> None:
    url = f"redis://:hunter2@127.0.0.1:{free_port()}/0"  # nothing listens there
    proc = subprocess.run(
        [TWEETHEAT, "status", "--redis-url", url],
        env=cli_env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr.startswith("tweetheat: cannot reach Redis:"), proc.stderr
    assert "Traceback" not in proc.stderr and "hunter2" not in proc.stderr


def test_the_line_length_cap_is_configurable(
    redis_url: str, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    """`[source] max_line_bytes`: a longer line is a counted skip, in the reader and the
    detector processes alike, and the lines around it are stored."""
    tweet = b'{"id_str":"%d","text":"the cat sat on the mat with the dog","lang":"en"}'
    data = tmp_path / "long.ndjson"
    long_text = b"the " * 3000  # 12 KB: over a 4 KiB cap, far under the default 1 MB
    data.write_bytes(
        tweet % 1 + b"\n" + b'{"id_str":"2","text":"' + long_text + b'"}\n' + tweet % 3 + b"\n"
    )
    config = write_config(tmp_path / "c.toml", "[source]\nmax_line_bytes = 4096\n")
    daemon = Daemon(
        ["--config", str(config), "--replay-file", str(data), "--rate", "max", "--exit-at-eof",
         "--redis-url", redis_url, "--no-http", "--out", str(tmp_path / "out"),
         "--data-dir", str(tmp_path / "data")],
        cli_env, tmp_path,
    )  # fmt: skip
    assert daemon.finish() == 0, daemon.log
    import redis

    counters = redis.Redis.from_url(redis_url, decode_responses=True).hgetall("tweetheat:pipeline")
    assert counters.get("skipped:too_long") == "1", counters
    assert counters.get("accepted") == "2", counters
    refused = subprocess.run(
        [TWEETHEAT, "run", "--config", str(write_config(tmp_path / "bad.toml",
         "[source]\nmax_line_bytes = 10\n"))],
        env=cli_env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode == 2 and "source.max_line_bytes" in refused.stderr


def test_an_analyst_is_unhealthy_when_its_maps_are_overdue() -> None:
    """`--role analyze` has no source: its lag is how far the maps are behind their interval."""
    from types import SimpleNamespace

    from streamer.runtime.health import AnalystHealth
    from streamer.runtime.http_api import render_prometheus
    from streamer.runtime.metrics import Metrics

    metrics = Metrics()
    metrics.maps_written = 3
    analyst = SimpleNamespace(metrics=metrics, alive=True, last_export=time.monotonic())
    provider = AnalystHealth(analyst, interval=30.0)  # type: ignore[arg-type]
    assert provider.health().is_ok() and provider.overdue() == 0
    analyst.last_export = time.monotonic() - 100  # 70 s late
    late = provider.health()
    assert not late.is_ok(max_lag_s=30.0) and late.lag_seconds >= 70
    text = render_prometheus(provider.metric_families())
    assert metric(text, "tweetheat_maps_written_total") == 3
    assert metric(text, "tweetheat_maps_overdue_seconds") >= 70
