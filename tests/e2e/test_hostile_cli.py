"""Hostile settings and hostile data through the real `tweetheat` command and the daemon:
bad configs end in one line and exit 2; stream text prints escaped; a Redis that refuses a
commit stops the daemon with an error; the input caps bound Redis and the map pages; every
bio reaches Redis when a replay ends."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import orjson
import pytest
import redis
from structlog.testing import capture_logs

from streamer.config import (
    ClustersSettings,
    HttpSettings,
    PipelineSettings,
    RedisSettings,
    Settings,
    SourceSettings,
)
from streamer.core.records import Post
from streamer.ingest.parser import parse_payload
from streamer.ingest.worker import init_worker
from streamer.runtime import pipeline as pipeline_module
from streamer.runtime.daemon import EXIT_NOT_STORED, run_daemon
from streamer.runtime.pipeline import Pipeline
from streamer.runtime.pools import process_pool
from streamer.sources.demo import DemoSource
from streamer.sources.generator import generate
from streamer.storage.connections import redis_client
from streamer.storage.keys import Keys
from streamer.storage.store import Store
from tests.conftest import REPO, TWEETHEAT

ESCAPES = "\u001b]0;PWNED\u0007\u001b[2J"


def run_cli(
    *args: str, env: dict[str, str], cwd: Path, timeout: float = 120
) -> tuple[int, str, str]:
    proc = subprocess.run(
        [TWEETHEAT, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    return proc.returncode, proc.stdout, proc.stderr


# --- bad settings: one line, exit 2, from every entry point ----------------------------------

BAD_CONFIGS: list[tuple[str, bytes, str]] = [
    ("list_cap", b"[redis]\nlist_cap = 99999999999999999\n", "redis.list_cap"),
    ("seed", b"[clusters]\nseed = -1\n", "clusters.seed"),
    ("min_users", b"[clusters]\nmin_users = 5\nk_max = 12\n", "clusters.min_users"),
    ("not_utf8", b"[daemon]\nout_dir = '\xff'\n", "config"),
    ("nul_dir", b'[daemon]\ndata_dir = "a\\u0000b"\n', "daemon.data_dir"),
    ("long_dir", b'[daemon]\ndata_dir = "' + b"d" * 300_000 + b'"\n', "daemon.data_dir"),
    ("inf", b"[maps]\ninterval = inf\n", "maps.interval"),
    ("garbage", b"\x00\x01[[[", "config"),
]


@pytest.mark.parametrize(("name", "text", "key"), BAD_CONFIGS, ids=[c[0] for c in BAD_CONFIGS])
def test_a_bad_config_file_is_one_line_and_exit_2(
    tmp_path: Path, cli_env: dict[str, str], name: str, text: bytes, key: str
) -> None:
    config = tmp_path / f"{name}.toml"
    config.write_bytes(text)
    config.chmod(0o600)
    code, out, err = run_cli("status", "--config", str(config), env=cli_env, cwd=tmp_path)
    assert code == 2, err
    assert out == ""
    assert err.count("\n") == 1 and err.startswith(f"tweetheat: config error: {key}: "), err


def test_bad_settings_from_flags_and_environment_are_one_line_and_exit_2(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    directory_config = ("status", "--config", str(tmp_path))
    languages = tmp_path / "langs.toml"
    languages.write_text('[lang]\nlanguages = ["zz", "qq"]\n')
    cases = [
        (directory_config, {}, "config"),
        (("status", "--data-dir", str(a_file)), {}, "daemon.data_dir"),
        (("status",), {"TWEETHEAT_HTTP_PORT": "²"}, "TWEETHEAT_HTTP_PORT"),
        (("parse", "--config", str(languages)), {}, "lang.languages"),
        (("run", "--config", str(languages), "--count", "1"), {}, "lang.languages"),
    ]
    for args, extra_env, key in cases:
        code, _out, err = run_cli(*args, env={**cli_env, **extra_env}, cwd=tmp_path)
        assert code == 2, (args, err)
        assert err.count("\n") == 1 and err.startswith(f"tweetheat: config error: {key}"), err


def test_absurd_counts_for_read_commands_are_usage_errors(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    for args in (
        ("top", "--window", "99999999999999999999"),
        ("points", "--lang", "en", "-n", "0"),
    ):
        code, out, err = run_cli(*args, env=cli_env, cwd=tmp_path)
        assert code == 2 and out == "", err
        assert err.splitlines()[-1].endswith(("got 99999999999999999999", "got 0")), err
        assert "cannot reach Redis" not in err


# --- stream text on the terminal ------------------------------------------------------------


def test_top_and_user_print_stream_text_escaped_and_json_stays_exact(
    redis_url: str, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    r = redis.Redis.from_url(redis_url)
    # As an older version (without the caps) would have stored them.
    r.sadd("tweetheat:languages", "en")
    r.rpush("tweetheat:hashtag_en", ESCAPES, ESCAPES, "rtl\u202egnp")
    bio = f"hello\nkmeans: 999\n{ESCAPES}"
    r.hset("tweetheat:users", "42", orjson.dumps(["\u202eeman", bio, "en", 1.0]))
    r.zadd("tweetheat:users:seen", {"42": 1.0})

    code, out, err = run_cli("top", "--redis-url", redis_url, env=cli_env, cwd=tmp_path)
    assert code == 0, err
    assert "\x1b" not in out and "\u202e" not in out
    assert "#\\x1b]0;PWNED\\x07\\x1b[2J (2)" in out and "\\u202e" in out

    code, out, err = run_cli("user", "42", "--redis-url", redis_url, env=cli_env, cwd=tmp_path)
    assert code == 0, err
    lines = out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "user_id", "screen_name", "bio", "lang", "last_seen", "kmeans", "hdbscan"
    ]  # fmt: skip
    assert "kmeans: None" in lines and "kmeans: 999" not in lines  # no forged line
    assert "\\nkmeans: 999\\n\\x1b]0;PWNED" in out

    code, out, _ = run_cli(
        "user", "42", "--json", "--redis-url", redis_url, env=cli_env, cwd=tmp_path
    )
    assert code == 0 and orjson.loads(out)["bio"] == bio  # --json: exact

    # A heartbeat field and a counter name as a hostile peer on the same Redis could write them.
    r.hset("tweetheat:daemon", mapping={"source": ESCAPES, "updated_at": "0", "state": "x"})
    r.hset("tweetheat:pipeline", f"skipped:{ESCAPES}", 1)
    code, out, err = run_cli("status", "--redis-url", redis_url, env=cli_env, cwd=tmp_path)
    assert code == 0, err
    assert "\x1b" not in out and out.count("\\x1b]0;PWNED") == 2, out
    code, out, _ = run_cli("status", "--json", "--redis-url", redis_url, env=cli_env, cwd=tmp_path)
    assert orjson.loads(out)["daemon"]["source"] == ESCAPES


# --- a Redis that refuses commits -----------------------------------------------------------


def test_a_commit_redis_refuses_stops_the_daemon_nonzero_with_the_journal_intact(
    redis_url: str, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    data = tmp_path / "demo.ndjson"
    data.write_bytes(b"".join(line + b"\n" for line, _ in generate(300, seed=3)))
    r = redis.Redis.from_url(redis_url)
    r.set("tweetheat:pipeline", "not a hash")  # every commit script now fails: WRONGTYPE
    args = ("run", "--replay-file", str(data), "--rate", "max", "--exit-at-eof",
            "--redis-url", redis_url, "--out", str(tmp_path / "out"),
            "--data-dir", str(tmp_path / "data"))  # fmt: skip
    code, out, err = run_cli(*args, env=cli_env, cwd=tmp_path, timeout=120)
    assert code == 3, out + err
    refused = [line for line in out.splitlines() if "stopped_commit_refused" in line]
    assert len(refused) == 1 and "WRONGTYPE" in refused[0], out
    assert "redis_unavailable" not in out  # not mistaken for an outage
    assert "Traceback" not in out + err
    assert "stored=0 " in err.splitlines()[-1], err  # the progress line tells the truth
    journal = tmp_path / "data" / "journal" / "replay"
    assert any(journal.iterdir()), "the batch was not kept"
    # Refused before anything was written: nothing half-applied to send twice later.
    assert r.keys("tweetheat:stats:*") == [] and r.keys("tweetheat:hashtag_*") == []

    r.delete("tweetheat:pipeline")  # fixed: the next run sends the journaled batches
    code, out, err = run_cli(*args, env=cli_env, cwd=tmp_path, timeout=120)
    assert code == 0, out + err
    assert int(r.hget("tweetheat:pipeline", "lines") or 0) == 300
    accepted = int(r.hget("tweetheat:pipeline", "accepted") or 0)
    stats = [int(r.hget(key, "tweets") or 0) for key in r.keys("tweetheat:stats:*")]
    assert accepted > 0 and sum(stats) == accepted  # each post stored once


def test_exit_at_eof_with_batches_left_in_the_journal_exits_nonzero(
    tmp_path: Path, redis_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "demo.ndjson"
    data.write_bytes(b"".join(line + b"\n" for line, _ in generate(50, seed=3)))
    settings = replace(
        _settings(tmp_path),
        source=SourceSettings(kind="replay", replay_files=(str(data),), rate=0.0, exit_at_eof=True),
        redis=RedisSettings(url=f"{redis_server}/0"),
        http=HttpSettings(enabled=False),
    )
    monkeypatch.setattr(pipeline_module, "DRAIN_SECONDS", 1.0)  # the stop waits 20 s otherwise
    r = redis.Redis.from_url(redis_server)
    # Redis answers at start, then refuses every write with NOREPLICAS: a state a retry can
    # outlast, so the daemon journals and retries, until the stop's drain gives up.
    r.config_set("min-replicas-to-write", "1")
    try:
        with capture_logs() as logs:
            code = asyncio.run(run_daemon(settings))
    finally:
        r.config_set("min-replicas-to-write", "0")
    events = [entry["event"] for entry in logs]
    assert code == EXIT_NOT_STORED, events
    assert "redis_unavailable" in events and "stopped_with_unstored_batches" in events


# --- the caps bound Redis and the pages -----------------------------------------------------


def test_hostile_posts_stay_within_the_documented_caps(
    redis_url: str, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    hostile = tmp_path / "hostile.ndjson"
    count = 10
    subprocess.run(
        [sys.executable, str(REPO / "scripts" / "hostile_posts.py"), "--out", str(hostile),
         "--count", str(count), "--many", "10000"],
        check=True, timeout=60,
    )  # fmt: skip
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    before = int(r.info("memory")["used_memory"])
    out = tmp_path / "out"
    code, log, err = run_cli(
        "run", "--replay-file", str(hostile), "--rate", "max", "--exit-at-eof",
        "--redis-url", redis_url, "--out", str(out), "--data-dir", str(tmp_path / "data"),
        env=cli_env, cwd=tmp_path, timeout=180,
    )  # fmt: skip
    assert code == 0, log + err
    posts = 6 * count
    grown = int(r.info("memory")["used_memory"]) - before
    # README, "Input caps": at most 30 tags of 139 characters and one 1,000-character bio per
    # post; 4 bytes a character at worst, and Redis's own overhead per list entry.
    per_post = 30 * (139 * 4 + 64) + 1000 * 4 + 64 * 4 + 512
    assert grown < posts * per_post, grown
    tags = r.lrange("tweetheat:hashtag_en", 0, -1)
    assert max(map(len, tags)) <= 139
    assert all(tag.strip() and "\n" not in tag and "\x1b" not in tag for tag in tags)
    stored_tags = int(r.hget("tweetheat:stats:en", "hashtags") or 0)
    assert stored_tags <= posts * 30
    for user_id in r.hkeys("tweetheat:users"):
        assert len(user_id) <= 256
        _name, bio, _lang, _seen = orjson.loads(r.hget("tweetheat:users", user_id) or "[]")
        assert len(bio) <= 1000
    counters = r.hgetall("tweetheat:pipeline")
    for reason in ("tag_too_long", "too_many_tags", "tag_blank", "tag_bad_chars",
                   "bio_too_long", "text_too_long", "user_id_too_long"):  # fmt: skip
        assert int(counters.get(f"trimmed:{reason}", 0)) > 0, (reason, counters)
    pages = out / "maps"
    sizes = {page.name: page.stat().st_size for page in pages.glob("*.html")}
    # The index lists each language's top 10 tags, a page its points and top tags: bounded by
    # the caps, not by what was written (the file above holds 900 KB tags).
    assert sizes and max(sizes.values()) < 200_000, sizes


# --- every bio reaches Redis when a replay ends ---------------------------------------------


def _settings(tmp_path: Path) -> Settings:
    return replace(
        Settings(),
        source=SourceSettings(kind="demo", rate=0.0, exit_at_eof=True),
        pipeline=PipelineSettings(workers=1, batch_size=500, batch_timeout=0.05),
        clusters=ClustersSettings(enabled=True),
        out_dir=str(tmp_path / "out"),
        data_dir=str(tmp_path / "data"),
        status_interval=60.0,
    )


def test_every_bio_is_stored_at_exit_at_eof_twenty_times_in_a_row(
    redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = 300
    expected = set()
    for line, _truth in generate(lines, seed=5):
        item = parse_payload(line)
        if isinstance(item, Post) and item.user_id is not None and item.bio is not None:
            expected.add(item.user_id)
    assert expected
    admin = redis.Redis.from_url(redis_url, decode_responses=True)
    # One worker pool for all twenty runs: a pool takes seconds to start, and what is tested
    # is the stop of the pipeline's own tasks, not the pool's.
    shared = process_pool(1, init_worker, ("default", ("en", "es", "ja"), os.getpid()))
    monkeypatch.setattr(Pipeline, "_new_pool", lambda self: shared)
    monkeypatch.setattr(Pipeline, "_shutdown_pools", lambda self: None)

    async def one_run(run: int) -> tuple[int, set[str]]:
        admin.flushdb()
        settings = _settings(tmp_path / str(run))
        client = redis_client(redis_url)
        try:
            store = Store(client, Keys(settings.redis.key_prefix))
            pipeline = Pipeline(settings, DemoSource(rate=0, seed=5, count=lines), store)
            metrics = await pipeline.run()
        finally:
            await client.aclose()
        return metrics.accepted, set(admin.hkeys("tweetheat:users"))

    try:
        for run in range(20):
            accepted, users = asyncio.run(one_run(run))
            assert accepted > 0
            assert users == expected, f"run {run}: {len(users)} of {len(expected)} bios stored"
    finally:
        shared.shutdown(wait=True, cancel_futures=True)
