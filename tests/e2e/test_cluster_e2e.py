"""Past one machine, end to end (issue 8): two ingest daemons, each on half of a replay, and one
analyze daemon share a 3-master Redis Cluster; one master is killed with SIGKILL mid-run. What
the cluster ends up holding must be what one daemon on one Redis stores from the whole replay:
per-language totals, pipeline counters, top hashtags and map points.

Real processes throughout: `tweetheat run` daemons, redis-server nodes started by
scripts/redis-cluster-local.sh, the read commands (`status/top/points --json`) as a user runs
them.
"""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis.cluster

from streamer.sources.generator import generate
from tests.cluster_helpers import LocalCluster
from tests.conftest import TWEETHEAT
from tests.daemon import Daemon

FILES = 4  # --partition 1/2 reads files 1 and 3, --partition 2/2 files 2 and 4
LINES_PER_FILE = 6000
RATE = 2500  # posts/s per ingest daemon: ~5 s of replay each, room to kill a master mid-run

# Two writers interleave their batches in every hashtag_/geo_ list, so the lists' order is not
# the single daemon's. Caps and windows larger than anything this replay stores make that order
# irrelevant: nothing is trimmed, top hashtags rank every stored tag (ties by tag), and map
# points are compared as multisets of (lat, lon) (each point also carries its commit time,
# which differs between runs by nature).
CONFIG = """
[redis]
list_cap = 1000000
[maps]
interval = 1.0
points = 100000
top_window = 1000000
top_hashtags = 20
assets = "cdn"
[clusters]
enabled = false
"""


def write_replay(directory: Path) -> str:
    directory.mkdir()
    for i in range(FILES):
        with gzip.open(directory / f"part-{i + 1}.ndjson.gz", "wb") as fh:
            for line, _ in generate(LINES_PER_FILE, seed=11 + i, geo_share=0.4):
                fh.write(line + b"\n")
    return str(directory / "part-*.ndjson.gz")


def env() -> dict[str, str]:
    e = dict(os.environ)
    for name in ("TWEETHEAT_REDIS_URL", "TWEETHEAT_CONFIG", "NOTIFY_SOCKET"):
        e.pop(name, None)
    e["TWEETHEAT_HTTP_PORT"] = "0"
    return e


def read(command: str, url: str, cwd: Path, *args: str) -> Any:
    proc = subprocess.run(
        [TWEETHEAT, command, "--config", "cfg.toml", "--redis-url", url, "--json", *args],
        cwd=cwd, env=env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, f"tweetheat {command} failed:\n{proc.stdout}\n{proc.stderr}"
    return orjson.loads(proc.stdout)


def answers(url: str, cwd: Path) -> dict[str, Any]:
    """What a user asks: totals, counters, top hashtags, and every language's map points."""
    status = read("status", url, cwd)
    top = read("top", url, cwd, "-n", "20", "--window", "1000000")
    points = {
        lang: Counter(map(tuple, read("points", url, cwd, "--lang", lang, "-n", "1000000")))
        for lang in status["languages"]
    }
    return {
        "languages": status["languages"],
        "pipeline": status["pipeline"],
        "top": top,
        "points": points,
    }


@pytest.fixture
def cleanup() -> Iterator[list[Daemon]]:
    daemons: list[Daemon] = []
    try:
        yield daemons
    finally:
        for d in daemons:
            d.kill()


def wait_for(what: str, check: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_two_ingest_daemons_and_an_analyst_on_a_cluster_match_one_daemon_on_one_redis(
    redis_url: str, tmp_path: Path, cleanup: list[Daemon]
) -> None:
    (tmp_path / "cfg.toml").write_text(CONFIG)
    replay = write_replay(tmp_path / "replay")

    # The reference: one daemon, the whole replay, one Redis.
    single = Daemon(
        ["--config", "cfg.toml", "--replay-file", replay, "--rate", "max", "--exit-at-eof",
         "--redis-url", redis_url, "--data-dir", "data-single", "--out", "out-single"],
        env(), tmp_path, tmp_path / "single.log",
    )  # fmt: skip
    cleanup.append(single)
    assert single.wait(300) == 0, single.output()
    expected = answers(redis_url, tmp_path)
    assert sum(row["tweets"] for row in expected["languages"].values()) > 0.9 * FILES * 5000

    cluster = LocalCluster(tmp_path / "cluster").start()
    try:
        url = cluster.url
        analyst = Daemon(
            ["--config", "cfg.toml", "--role", "analyze", "--redis-url", url,
             "--data-dir", "data-analyze", "--out", "out-cluster"],
            env(), tmp_path, tmp_path / "analyze.log",
        )  # fmt: skip
        cleanup.append(analyst)
        ingest = []
        for part, name in ((1, "ingest-a"), (2, "ingest-b")):
            args = [
                "--config", "cfg.toml", "--role", "ingest", "--partition", f"{part}/2",
                "--instance", name, "--replay-file", replay, "--rate", str(RATE),
                "--exit-at-eof", "--redis-url", url, "--data-dir", f"data-{name}",
                "--out", f"out-{name}",
            ]  # fmt: skip
            ingest.append(Daemon(args, env(), tmp_path, tmp_path / f"{name}.log"))
            cleanup.append(ingest[-1])

        # Mid-run: both daemons have committed batches; kill the master serving "en" (the
        # busiest language, so both daemons are writing to it).
        client = cluster.client()
        try:

            def both_going() -> bool:
                seqs = [
                    client.hget(f"tweetheat:checkpoint:{{{name}}}", "seq")
                    for name in ("ingest-a", "ingest-b")
                ]
                return all(s is not None and int(s) >= 10 for s in seqs)

            wait_for("both ingest daemons to commit", both_going)
            victim = cluster.master_of("tweetheat:hashtag_{en}")
            replica = cluster.replica_of(victim)
        finally:
            client.close()
        cluster.kill9(victim)
        killed_at = time.monotonic()
        for d in ingest:
            assert d.proc.poll() is None, "the ingest daemon finished before the kill:\n" + (
                d.output()
            )

        for d in ingest:
            assert d.wait(300) == 0, d.output()
        cluster.wait_master(replica, 60.0)
        outputs = [d.output() for d in ingest]
        assert any("redis_unavailable" in out for out in outputs), outputs
        assert all("batches_lost" not in out for out in outputs), outputs
        # The analyst draws the maps from the cluster, then the last ones when told to stop.
        wait_for(
            "the analyst to export maps after the failover",
            lambda: (
                (tmp_path / "out-cluster" / "maps" / "index.html").exists()
                and time.monotonic() - killed_at > 3
            ),
        )
        analyst.proc.send_signal(signal.SIGTERM)
        assert analyst.wait(120) == 0, analyst.output()

        actual = answers(url, tmp_path)
        assert actual["languages"] == expected["languages"]
        assert actual["pipeline"] == expected["pipeline"]
        assert actual["top"] == expected["top"]
        assert actual["points"] == expected["points"]
        # The same map pages: one per language with points, and the index.
        pages = {p.name for p in (tmp_path / "out-single" / "maps").glob("*.html")}
        assert {p.name for p in (tmp_path / "out-cluster" / "maps").glob("*.html")} == pages
        # Each ingest daemon kept its own checkpoint and counters; readers sum them.
        reader = redis.cluster.RedisCluster(host="127.0.0.1", port=replica, decode_responses=True)
        try:
            assert reader.smembers("tweetheat:instances") == {"ingest-a", "ingest-b"}
            lines = [
                int(reader.hget(f"tweetheat:pipeline:{{{name}}}", "lines") or 0)
                for name in ("ingest-a", "ingest-b")
            ]
            assert all(n > 0 for n in lines) and sum(lines) == expected["pipeline"]["lines"]
        finally:
            reader.close()
    finally:
        for d in cleanup:
            d.kill()
        cluster.stop()
