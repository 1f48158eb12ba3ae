"""Several daemons on one Redis: ingest daemons on shares of a replay, one analyst drawing maps.

Real processes and a real redis-server; the answer must equal one daemon doing everything."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest
import redis

from streamer.config import ConfigError, load_settings, override
from tests.conftest import TWEETHEAT
from tests.daemon import Daemon
from tests.e2e.test_end_to_end import write_demo


def contents(r: redis.Redis) -> dict[str, object]:
    """Per language: totals, the hashtag multiset and the set of points (lat, lon only: each
    point also carries its commit time, which differs between runs)."""
    out: dict[str, object] = {}
    for lang in sorted(r.smembers("tweetheat:languages")):
        points = Counter(tuple(p.split(",")[:2]) for p in r.lrange(f"tweetheat:geo_{lang}", 0, -1))
        out[lang] = (
            r.hgetall(f"tweetheat:stats:{lang}"),
            Counter(r.lrange(f"tweetheat:hashtag_{lang}", 0, -1)),
            points,
        )
    return out


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [TWEETHEAT, "run", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=180
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_two_ingest_daemons_and_an_analyst_equal_one_daemon(
    redis_server: str, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    files = [tmp_path / f"part-{n}.ndjson" for n in range(4)]
    for n, path in enumerate(files):
        write_demo(path, 1500, seed=10 + n)
    together, split = f"{redis_server}/1", f"{redis_server}/2"
    for url in (together, split):
        redis.Redis.from_url(url).flushdb()
    glob = str(tmp_path / "part-*.ndjson")
    common = ["--replay-file", glob, "--rate", "max", "--exit-at-eof"]

    run([*common, "--redis-url", together, "--out", str(tmp_path / "out-one"),
         "--data-dir", str(tmp_path / "d-one")], cli_env, tmp_path)  # fmt: skip
    ingest = []
    for i in (1, 2):
        args = [*common, "--role", "ingest", "--partition", f"{i}/2", "--redis-url", split,
                "--out", str(tmp_path / f"out-{i}"),
                "--data-dir", str(tmp_path / f"d-{i}")]  # fmt: skip
        proc = subprocess.Popen(
            [TWEETHEAT, "run", *args], env=cli_env, cwd=tmp_path,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        ingest.append(proc)
    logs = [p.communicate(timeout=180)[0] for p in ingest]
    assert [p.returncode for p in ingest] == [0, 0], logs
    analyst = Daemon(
        ["--role", "analyze", "--redis-url", split,
         "--out", str(tmp_path / "out-analyst"), "--data-dir", str(tmp_path / "d-a")],
        cli_env, tmp_path,
    )  # fmt: skip
    # A lone analyst draws its first maps at once; stop it once it has.
    analyst.wait_for(lambda: "maps_written" in analyst.log, "the analyst's first maps")
    code, _ = analyst.stop(timeout=60)
    analyst_log = analyst.log
    assert code == 0, analyst_log

    one = redis.Redis.from_url(together, decode_responses=True)
    two = redis.Redis.from_url(split, decode_responses=True)
    assert contents(two) == contents(one)
    assert two.hgetall("tweetheat:pipeline") == one.hgetall("tweetheat:pipeline")
    # Each ingest daemon read its own two files and keeps its own checkpoint.
    assert int(two.hget("tweetheat:checkpoint:replay-1of2", "seq") or 0) > 0
    assert int(two.hget("tweetheat:checkpoint:replay-2of2", "seq") or 0) > 0
    assert all("read=3000" in log for log in logs), logs
    # Each ingest daemon keeps its own heartbeat, and `status` shows both.
    status = subprocess.run(
        [TWEETHEAT, "status", "--json", "--redis-url", split], env=cli_env, cwd=tmp_path,
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    daemons = json.loads(status.stdout)["daemons"]
    assert sorted(daemons) == ["replay-1of2", "replay-2of2"]
    assert {beat["state"] for beat in daemons.values()} == {"stopped"}
    assert all(beat["read"] == "3000" for beat in daemons.values()), daemons
    # Ingest daemons draw nothing; the analyst draws the maps of everything.
    assert not (tmp_path / "out-1" / "maps").exists()
    pages = {p.name for p in (tmp_path / "out-analyst" / "maps").glob("*.html")}
    assert "index.html" in pages
    assert {f"{lang}.html" for lang in one.smembers("tweetheat:languages")} <= pages
    assert "role=analyze" in analyst_log and "maps_written" in analyst_log


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"partition": "3/2"}, "source.partition"),
        ({"partition": "0/2"}, "source.partition"),
        ({"partition": "half"}, "source.partition"),
        ({"partition": "1/2", "kind": "demo"}, "only a replay"),
        ({"role": "analyze"}, "set redis.url"),
        ({"role": "sometimes"}, "pipeline.role"),
    ],
)
def test_bad_roles_and_partitions_are_refused(changes: dict[str, str], message: str) -> None:
    base = override(load_settings(None, env={}), kind="replay", replay_files=("x",))
    with pytest.raises(ConfigError, match=message):
        override(base, **changes)


def test_partition_takes_every_nth_file(tmp_path: Path) -> None:
    from streamer.sources.replay import ReplaySource

    for n in range(5):
        (tmp_path / f"{n}.ndjson").write_text("{}\n")
    pattern = [str(tmp_path / "*.ndjson")]
    shares = [ReplaySource(pattern, partition=(i, 2)).paths for i in (1, 2)]
    assert [Path(p).name for p in shares[0]] == ["0.ndjson", "2.ndjson", "4.ndjson"]
    assert [Path(p).name for p in shares[1]] == ["1.ndjson", "3.ndjson"]
