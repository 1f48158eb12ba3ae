"""Bio clustering inside the daemon and from the command line, on a real Redis."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import orjson
import redis

from streamer.sources.generator import generate
from tests.conftest import TWEETHEAT


def cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TWEETHEAT, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=180
    )


def test_clusters_command_fits_the_window_and_users_get_their_cluster(
    redis_url: str, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    data = tmp_path / "demo.ndjson"
    data.write_bytes(b"".join(line + b"\n" for line, _ in generate(6000, seed=4)))
    common = ["--redis-url", redis_url]
    run = cli("run", "--replay-file", str(data), "--rate", "max", "--exit-at-eof", *common,
              "--out", str(tmp_path / "out"), "--data-dir", str(tmp_path / "d"),
              env=cli_env, cwd=tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    window = r.zcard("tweetheat:users:seen")
    assert window > 1000  # authors of the replayed posts, each once

    out = cli("clusters", "--json", *common, "--out", str(tmp_path / "out"),
              env=cli_env, cwd=tmp_path)  # fmt: skip
    assert out.returncode == 0, out.stderr
    report = orjson.loads(out.stdout)
    assert set(report) >= {"users", "kmeans", "hdbscan"}
    assert report["users"] > 1000 and report["kmeans"]["k"] >= 2
    assert sum(c["size"] for c in report["kmeans"]["clusters"]) == report["users"]
    assert {"id", "size", "top_terms", "sample_bios"} <= set(report["kmeans"]["clusters"][0])
    assert "noise" in report["hdbscan"]
    assert (tmp_path / "out" / "clusters" / "index.html").is_file()
    assert (
        orjson.loads((tmp_path / "out" / "clusters" / "latest.json").read_bytes())["users"]
        == (report["users"])
    )
    assert r.hlen("tweetheat:user_cluster") == window

    some_user = r.zrange("tweetheat:users:seen", -1, -1)[0]
    shown = cli("user", some_user, "--json", *common, env=cli_env, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    user = orjson.loads(shown.stdout)
    assert user["user_id"] == some_user and user["bio"] and isinstance(user["kmeans"], int)
    missing = cli("user", "nobody-here", *common, env=cli_env, cwd=tmp_path)
    assert missing.returncode == 1 and "not in the recent-user window" in missing.stderr


def test_too_few_users_skip_the_refit_with_a_message(
    redis_url: str, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    out = cli("clusters", "--redis-url", redis_url, env=cli_env, cwd=tmp_path)
    assert out.returncode == 1 and "no refit" in out.stderr


def test_the_daemon_refits_in_the_background_and_assigns_newcomers(
    redis_url: str, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    (tmp_path / "config.toml").write_text("[maps]\ninterval = 2.0\n[clusters]\ninterval = 10.0\n")
    proc = subprocess.Popen(
        [TWEETHEAT, "run", "--source", "demo", "--rate", "300", "--redis-url", redis_url,
         "--out", str(tmp_path / "out"), "--data-dir", str(tmp_path / "d")],
        env=cli_env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    latest = tmp_path / "out" / "clusters" / "latest.json"
    try:
        deadline = time.monotonic() + 90
        while not latest.exists():
            assert proc.poll() is None
            assert time.monotonic() < deadline, "no refit within 90 s"
            time.sleep(0.5)
        time.sleep(5)  # newcomers arrive; the 2 s map job assigns them
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, output
    assert "clusters_refit" in output
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    # Every user in the window has a cluster: the refit's users and those seen after it.
    assert r.hlen("tweetheat:user_cluster") == r.zcard("tweetheat:users:seen") > 0
