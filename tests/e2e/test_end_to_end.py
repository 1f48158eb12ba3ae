"""The whole daemon as a user runs it: real processes, a real redis-server, files on disk."""

from __future__ import annotations

import functools
import gzip
import os
import signal
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

import orjson
import pytest
import redis

from streamer.ingest.geolocate import Geolocator, geolocate, load_geolocator
from streamer.sources.generator import Truth, generate
from tests.conftest import TWEETHEAT


def write_demo(path: Path, count: int, seed: int = 3) -> list[Truth]:
    truths = []
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as fh:
        for line, truth in generate(count, seed=seed, geo_share=0.05):
            fh.write(line + b"\n")
            truths.append(truth)
    return truths


def expected_from(truths: list[Truth]) -> tuple[Counter[str], dict[str, list[str]], dict]:
    tweets: Counter[str] = Counter()
    tags: dict[str, list[str]] = defaultdict(list)
    points: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for t in truths:
        if t.kind != "tweet":
            continue
        assert t.lang is not None
        tweets[t.lang] += 1
        tags[t.lang].extend(t.hashtags)
        located = expected_location(t)
        if located is not None:
            points[t.lang].append(located[0])
    return tweets, tags, points


def expected_sources(truths: list[Truth]) -> dict[str, list[str]]:
    """Per language, the source of each expected point, in order."""
    sources: dict[str, list[str]] = defaultdict(list)
    for t in truths:
        located = expected_location(t) if t.kind == "tweet" else None
        if located is not None and t.lang is not None:
            sources[t.lang].append(located[1])
    return sources


def expected_location(t: Truth) -> tuple[tuple[float, float], str] | None:
    """Where the daemon must place a generated post: the evidence ladder (tested on its own in
    tests/unit/test_geolocate.py) over what the generator put in, with the post's language;
    inferred points rounded as the worker rounds them."""
    found = geolocate(_geolocator(), t.geo, t.place_bbox, t.location or None, t.bio, t.lang)
    if found is None:
        return None
    if found.source == "exact":
        return (found.lat, found.lon), "exact"
    return (round(found.lat, 4), round(found.lon, 4)), found.source


@functools.cache
def _geolocator() -> Geolocator:
    return load_geolocator(Path(os.environ["TWEETHEAT_GEO_CACHE_DIR"]))


def flat(points: Sequence[Sequence[float]]) -> list[float]:
    """[(lat, lon), ...] -> [lat, lon, lat, lon, ...]: pytest.approx does not nest."""
    return [value for point in points for value in point]


def tweetheat(*args: str, env: dict[str, str], cwd: Path, timeout: float = 180) -> str:
    proc = subprocess.run(
        [TWEETHEAT, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, f"tweetheat {args[0]} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def test_replay_lands_exactly_what_the_generator_wrote(
    redis_url: str, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    data = tmp_path / "demo.ndjson.gz"
    truths = write_demo(data, 4000)
    out = tmp_path / "out"
    started = int(time.time())
    log = tweetheat(
        "run", "--replay-file", str(data), "--rate", "max", "--exit-at-eof",
        "--redis-url", redis_url, "--out", str(out), "--data-dir", str(tmp_path / "data"),
        env=cli_env, cwd=tmp_path,
    )  # fmt: skip
    finished = time.time()
    assert "source_eof" in log and "maps_written" in log and "stopped" in log

    tweets, tags, points = expected_from(truths)
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    assert set(r.smembers("tweetheat:languages")) == set(tweets)
    for lang, n in tweets.items():
        stats = r.hgetall(f"tweetheat:stats:{lang}")
        assert int(stats["tweets"]) == n, lang
        assert int(stats.get("hashtags", 0)) == len(tags[lang]), lang
        assert int(stats.get("geo", 0)) == len(points[lang]), lang
        assert r.lrange(f"tweetheat:hashtag_{lang}", 0, -1) == tags[lang], lang
        stored = [orjson.loads(p) for p in r.lrange(f"tweetheat:geo_{lang}", 0, -1)]
        assert flat([p[:2] for p in stored]) == pytest.approx(flat(points[lang]), abs=1e-9), lang
        # Each point carries the second its batch was committed, in commit order.
        times = [p[2] for p in stored]
        assert times == sorted(times) and all(started <= t <= finished for t in times), lang

    # Each point carries its source; the stats count them per source.
    sources = expected_sources(truths)
    assert {"exact", "place", "profile"} <= {s for v in sources.values() for s in v}
    for lang in tweets:
        stored = [orjson.loads(p) for p in r.lrange(f"tweetheat:geo_{lang}", 0, -1)]
        assert [p[3] if len(p) == 5 else "exact" for p in stored] == sources[lang], lang
        stats = r.hgetall(f"tweetheat:stats:{lang}")
        by_source = {k[4:]: int(v) for k, v in stats.items() if k.startswith("geo:")}
        assert by_source == Counter(sources[lang]), lang

    counters = r.hgetall("tweetheat:pipeline")
    notices = Counter(t.kind for t in truths if t.kind != "tweet")
    assert int(counters["lines"]) == len(truths)
    assert int(counters["accepted"]) == sum(tweets.values())
    assert int(counters.get("skipped:delete", 0)) == notices["delete"]
    assert int(counters.get("skipped:limit", 0)) == notices["limit"]

    # The read commands report the same numbers, in their documented JSON shapes.
    common = ["--redis-url", redis_url]
    status = orjson.loads(tweetheat("status", "--json", *common, env=cli_env, cwd=tmp_path))
    assert {k: v["tweets"] for k, v in status["languages"].items()} == dict(tweets)
    for lang, row in status["languages"].items():
        assert row["geo_sources"] == Counter(sources[lang]), lang
        share = {s: round(n / tweets[lang], 4) for s, n in Counter(sources[lang]).items()}
        assert row["located_share"] == share, lang
    assert status["redis"]["used_memory"] > 0

    top = orjson.loads(tweetheat("top", "-n", "3", "--json", *common, env=cli_env, cwd=tmp_path))
    for lang, rows in top.items():
        counts = Counter(tags[lang][-5000:])
        want = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        assert [tuple(row) for row in rows] == want, lang

    lang = max(points, key=lambda k: len(points[k]))
    pts = orjson.loads(
        tweetheat("points", "--lang", lang, "-n", "400", "--json", *common, env=cli_env,
                  cwd=tmp_path)
    )  # fmt: skip
    assert flat(pts) == pytest.approx(flat(points[lang][-400:]), abs=1e-9)
    assert len(pts) == min(400, len(points[lang]))
    exact = orjson.loads(
        tweetheat("points", "--lang", lang, "--source", "exact", "--json", *common, env=cli_env,
                  cwd=tmp_path)
    )  # fmt: skip
    want = [p for p, s in zip(points[lang], sources[lang], strict=True) if s == "exact"]
    assert want and flat(exact) == pytest.approx(flat(want[-400:]), abs=1e-9)

    maps = out / "maps"
    assert (maps / "index.html").is_file()
    for lang in tweets:
        assert (maps / f"{lang}.html").is_file(), lang


def test_garbage_is_counted_and_never_stops_the_daemon(
    redis_url: str, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    good = [line for line, t in generate(600, seed=11) if t.kind == "tweet"]
    garbage = [
        b"{not json",
        b'{"text": 5}',
        b"[]",
        b'"just a string"',
        b"\xff\xfe\x00garbage",
        b'{"id_str": "1", "text": "caf\xe9"}',  # Latin-1 byte: not UTF-8
        b'{"delete": {"status": {"id": 1}}}',
        b"",
        b"x" * 1_200_000,  # one line over the 1 MB limit
        b'{"id_str": "3", "text": ["not", "a", "string"]}',
    ]
    data = tmp_path / "mixed.ndjson"
    with open(data, "wb") as fh:
        for i, line in enumerate(good):
            fh.write(line + b"\n")
            if i % 50 == 0:
                fh.write(garbage[(i // 50) % len(garbage)] + b"\n")
    injected = Counter(garbage[(i // 50) % len(garbage)] for i in range(0, len(good), 50))

    log = tweetheat(
        "run", "--replay-file", str(data), "--rate", "max", "--exit-at-eof",
        "--redis-url", redis_url, "--out", str(tmp_path / "out"),
        "--data-dir", str(tmp_path / "data"), env=cli_env, cwd=tmp_path,
    )  # fmt: skip
    assert "bad_input" in log  # logged (rate-limited), not fatal

    r = redis.Redis.from_url(redis_url, decode_responses=True)
    counters = {k: int(v) for k, v in r.hgetall("tweetheat:pipeline").items()}
    assert counters["accepted"] == len(good)
    assert counters["lines"] == len(good) + sum(injected.values())
    skipped = sum(v for k, v in counters.items() if k.startswith("skipped:"))
    assert skipped == sum(injected.values())
    assert counters.get("skipped:bad_json", 0) >= injected[b"{not json"]
    assert counters.get("skipped:too_long", 0) == injected[b"x" * 1_200_000]
    assert counters.get("skipped:bad_utf8", 0) >= 1
    total = sum(int(r.hget(f"tweetheat:stats:{lang}", "tweets") or 0)
                for lang in r.smembers("tweetheat:languages"))  # fmt: skip
    assert total == len(good)


def test_sigterm_drains_everything_read(
    redis_url: str, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    proc = subprocess.Popen(
        [TWEETHEAT, "run", "--source", "demo", "--rate", "400", "--redis-url", redis_url,
         "--out", str(tmp_path / "out"), "--data-dir", str(tmp_path / "data")],
        env=cli_env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        deadline = time.monotonic() + 60
        while int(r.hget("tweetheat:pipeline", "lines") or 0) < 800:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline, "the demo stream did not flow"
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, output
    final = next(line for line in output.splitlines() if "final_status" in line)
    fields = dict(part.split("=", 1) for part in final.split() if "=" in part)
    counters = {k: int(v) for k, v in r.hgetall("tweetheat:pipeline").items()}
    # Every line the reader took in was committed to Redis before exit.
    assert int(fields["read"]) == counters["lines"]
    skipped = sum(v for k, v in counters.items() if k.startswith("skipped:"))
    assert counters["accepted"] + skipped == counters["lines"]
    assert (tmp_path / "out" / "maps" / "index.html").is_file()


def test_embedded_redis_persists_and_is_never_duplicated(
    short_tmp: Path, cli_env: dict[str, str]
) -> None:
    data = short_tmp / "demo.ndjson"
    truths = write_demo(data, 500, seed=5)
    tweets, _, _ = expected_from(truths)
    data_dir = short_tmp / "d"
    run = ["run", "--replay-file", str(data), "--rate", "max", "--exit-at-eof",
           "--data-dir", str(data_dir), "--out", str(short_tmp / "out")]  # fmt: skip
    tweetheat(*run, env=cli_env, cwd=short_tmp)

    redis_dir = data_dir / "redis"
    assert (redis_dir.stat().st_mode & 0o777) == 0o700
    assert any(redis_dir.glob("appendonly*")), list(redis_dir.iterdir())
    assert not _embedded_alive(redis_dir), "the daemon must stop its redis-server on exit"

    # The data survived the restart (AOF); status starts a server just for itself.
    status = orjson.loads(
        tweetheat("status", "--json", "--data-dir", str(data_dir), env=cli_env, cwd=short_tmp)
    )
    assert {k: v["tweets"] for k, v in status["languages"].items()} == dict(tweets)
    assert not _embedded_alive(redis_dir)

    # A leftover server from a crash is reused, not duplicated, and stopped at the end.
    from streamer.storage.embedded_redis import EmbeddedRedis

    leftover = EmbeddedRedis(data_dir)
    leftover.start()
    try:
        log = tweetheat(*run, "--from-start", env=cli_env, cwd=short_tmp)
        assert "embedded_redis_reused" in log
        assert leftover._child is not None
        assert leftover._child.wait(timeout=10) is not None  # the daemon stopped it
    finally:
        leftover.stop()
    status = orjson.loads(
        tweetheat("status", "--json", "--data-dir", str(data_dir), env=cli_env, cwd=short_tmp)
    )
    assert status["languages"]["en"]["tweets"] == 2 * tweets["en"]


def _embedded_alive(redis_dir: Path) -> bool:
    try:
        pid = int((redis_dir / "redis.pid").read_text())
    except (OSError, ValueError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return b"redis-server" in Path(f"/proc/{pid}/cmdline").read_bytes()
