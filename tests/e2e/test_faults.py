"""Fault injection with real processes: kill -9 the daemon, the redis-server, or both, part-way
through a replay, bring them back, and the result in Redis must be exactly what an undisturbed
run of the same file leaves. Nothing is mocked: a real `tweetheat run`, a real redis-server with
AOF on (`appendfsync everysec`), SIGKILL for every crash.

What each crash exercises (see streamer/commits.py, streamer/journal.py):
- the daemon dies: the next run reads the checkpoint and the journal, re-sends the batches
  journaled but not committed, and the replay resumes at the byte offset after them;
- Redis dies: the daemon keeps reading into its journal, retries until Redis is back, and if
  Redis came back without its last second (a machine crash with `everysec`: the AOF's
  un-fsynced tail is gone, simulated by cutting the AOF back to its size of about a second
  earlier) the checkpoint shows the gap and the lost batches are re-sent from the journal;
- both die: the journal alone carries the batches Redis never took, across the restart.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis

from streamer.config import Settings
from streamer.core.records import Detected
from streamer.delivery.committer import Committer, Recovery
from streamer.delivery.journal import Journal
from streamer.sources.generator import generate
from streamer.storage.connections import redis_client
from streamer.storage.keys import Keys
from streamer.storage.store import Store
from tests.conftest import TWEETHEAT, free_port, wait_for_ping
from tests.daemon import Daemon

LINES = 30_000  # a few seconds of replay at --rate max on 2 cores: room to crash part-way
PREFIX = "tweetheat:"
PIPELINE = f"{PREFIX}pipeline"
CHECKPOINT = f"{PREFIX}checkpoint:replay"
RUN_TIMEOUT = 120.0  # no single daemon run may take longer than this


# --- processes ------------------------------------------------------------------------------


@dataclass
class RedisProc:
    """A redis-server with AOF on, on a fixed loopback port and directory, so that it can be
    killed and started again on the same data."""

    directory: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.directory.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--appendfsync", "everysec",
             # No background rewrite: the AOF stays one growing file whose tail a test can cut.
             "--auto-aof-rewrite-percentage", "0",
             "--dir", str(self.directory),
             "--logfile", str(self.directory / f"redis-{self.starts}.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = self.client()
        try:
            wait_for_ping(client, timeout=15)
        finally:
            client.close()

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, decode_responses=True, socket_timeout=10)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no final fsync."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def aof(self) -> Path:
        """The AOF file the server appends to (Redis 7: the manifest's incr file)."""
        manifest = self.directory / "appendonlydir" / "appendonly.aof.manifest"
        incr = [
            line.split()[1]
            for line in manifest.read_text().splitlines()
            if line.split()[-1:] == ["i"]
        ]
        assert incr, manifest.read_text()
        return manifest.parent / incr[-1]


@pytest.fixture
def cleanup() -> Iterator[list[Any]]:
    """Whatever a test started (Daemon, RedisProc) is stopped however the test ends."""
    started: list[Any] = []
    try:
        yield started
    finally:
        for thing in reversed(started):
            if isinstance(thing, Daemon):
                thing.kill_group()
            else:
                thing.stop()


# --- the data and the undisturbed run -------------------------------------------------------

State = dict[str, Any]


def snapshot(client: redis.Redis) -> State:
    """Everything a batch commit writes, apart from the checkpoint's batch numbering (a
    resumed run may cut its batches elsewhere) and the commit times (checkpoint, points)."""
    langs = sorted(str(lang) for lang in client.smembers(f"{PREFIX}languages"))
    checkpoint = client.hgetall(CHECKPOINT)
    return {
        "languages": langs,
        "stats": {lang: client.hgetall(f"{PREFIX}stats:{lang}") for lang in langs},
        "pipeline": client.hgetall(PIPELINE),
        "hashtags": {lang: client.lrange(f"{PREFIX}hashtag_{lang}", 0, -1) for lang in langs},
        "geo": {lang: _points(client.lrange(f"{PREFIX}geo_{lang}", 0, -1)) for lang in langs},
        "position": checkpoint.get("position"),
    }


def _points(raw: list[Any]) -> list[list[float]]:
    """A geo list's points without their commit times: "[lat, lon, t]" carries the second the
    batch was committed (store.encode_point), which no two runs share; an inferred point's
    source and precision, after the time, are kept."""
    return [[*value[:2], *value[3:]] for value in map(orjson.loads, raw)]


def assert_same(actual: State, expected: State, context: str) -> None:
    """Counts first (the readable failure), then the lists element by element."""
    assert actual["pipeline"] == expected["pipeline"], f"{context}: pipeline counters differ"
    assert actual["languages"] == expected["languages"], f"{context}: languages differ"
    assert actual["stats"] == expected["stats"], f"{context}: per-language counts differ"
    for kind in ("hashtags", "geo"):
        for lang, want in expected[kind].items():
            got = actual[kind][lang]
            assert len(got) == len(want), f"{context}: {kind} {lang}: {len(got)} != {len(want)}"
            first = next((i for i, (a, b) in enumerate(zip(got, want, strict=True)) if a != b), -1)
            assert first == -1, f"{context}: {kind} {lang} differ from item {first}"
    assert actual["position"] == expected["position"], f"{context}: final positions differ"


@dataclass
class Replay:
    path: Path
    baseline: State
    seconds: float  # the undisturbed run's wall time


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replay]:
    """The replay file, and the state an undisturbed run of it leaves in a fresh Redis."""
    work = tmp_path_factory.mktemp("faults-baseline")
    path = work / "demo.ndjson"
    with open(path, "wb") as fh:
        for line, _truth in generate(LINES, seed=7, geo_share=0.4):
            fh.write(line + b"\n")
    server = RedisProc(work / "redis")
    daemon: Daemon | None = None
    try:
        server.start()
        started = time.monotonic()
        daemon = Daemon(run_command(path, server.url, work), _env(), work, work / "run.log")
        assert daemon.wait() == 0, daemon.output()[-4000:]
        seconds = time.monotonic() - started
        client = server.client()
        baseline = snapshot(client)
        client.close()
    finally:
        if daemon is not None:
            daemon.kill_group()
        server.stop()
    # The comparison means something: every line landed, and no list hit its cap (a capped
    # list keeps only its newest entries, which would hide a missing or doubled batch).
    assert int(baseline["pipeline"]["lines"]) == LINES
    assert 0 < int(baseline["pipeline"]["accepted"]) < LINES
    cap = Settings().redis.list_cap
    longest = max(len(v) for kind in ("hashtags", "geo") for v in baseline[kind].values())
    assert 1000 < longest < cap, longest
    yield Replay(path, baseline, seconds)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("TWEETHEAT_REDIS_URL", None)
    env.pop("TWEETHEAT_CONFIG", None)
    return env


def run_command(replay_file: Path, redis_url: str, work: Path) -> list[str]:
    """The same command for the crashed run and the one after it."""
    return [
        TWEETHEAT, "run", "--source", "replay", "--replay-file", str(replay_file),
        "--rate", "max", "--exit-at-eof", "--redis-url", redis_url,
        "--data-dir", str(work / "data"), "--out", str(work / "out"), "--no-http",
    ]  # fmt: skip


# --- crashing things part-way ----------------------------------------------------------------


@dataclass
class Progress:
    lines: int  # lines committed at the last poll
    # (lines committed, AOF size just after reading them), oldest first
    samples: list[tuple[int, int]]


def run_until_part_way(server: RedisProc, daemon: Daemon, seed: int) -> Progress:
    """Poll the committed line count until the daemon is somewhere between 20% and 60% of
    the file (a random point, so repeated runs crash it in different places)."""
    target = int(LINES * random.Random(seed).uniform(0.2, 0.6))
    client = server.client()
    samples: list[tuple[int, int]] = []
    deadline = time.monotonic() + RUN_TIMEOUT
    try:
        while True:
            assert daemon.alive(), f"the daemon exited early:\n{daemon.output()[-4000:]}"
            assert time.monotonic() < deadline, "the replay did not get going"
            lines = int(client.hget(PIPELINE, "lines") or 0)
            samples.append((lines, server.aof().stat().st_size))
            if lines >= target:
                break
            time.sleep(0.02)
    finally:
        client.close()
    assert lines < LINES * 0.75, f"overshot the crash point: {lines} of {LINES} lines"
    return Progress(lines, samples)


def lose_the_last_second(server: RedisProc, progress: Progress) -> int:
    """After a SIGKILL of the server: cut its AOF back to its size of a few batches earlier,
    as a machine crash with `appendfsync everysec` leaves it (the un-fsynced tail is gone).
    Returns the line count the cut keeps."""
    assert server.proc is not None and server.proc.poll() is not None, "kill the server first"
    behind = [s for s in progress.samples if 0 < s[0] <= progress.lines - 1500]
    assert behind, f"no AOF size from well before {progress.lines} lines: {progress.samples}"
    lines, size = behind[-1]
    aof = server.aof()
    assert aof.stat().st_size > size
    os.truncate(aof, size)
    return lines


def committed_lines(server: RedisProc) -> int:
    client = server.client()
    try:
        return int(client.hget(PIPELINE, "lines") or 0)
    finally:
        client.close()


def final_state(server: RedisProc) -> State:
    client = server.client()
    try:
        return snapshot(client)
    finally:
        client.close()


def log_count(output: str, event: str) -> int:
    """How many log lines report `event` (console format: "<time> [level   ] event k=v ...")."""
    return sum(1 for line in output.splitlines() if f"] {event} " in line)


def _seed(request: pytest.FixtureRequest) -> int:
    """A different crash point on every run, printed so that a failure can be replayed."""
    seed = int(os.environ.get("FAULT_SEED", "0")) or random.randrange(1, 1 << 30)
    print(f"{request.node.name}: FAULT_SEED={seed}")
    return seed


# --- the tests --------------------------------------------------------------------------------


def test_daemon_killed_mid_replay_then_rerun_lands_everything_exactly_once(
    replay: Replay, tmp_path: Path, cleanup: list[Any], request: pytest.FixtureRequest
) -> None:
    server = RedisProc(tmp_path / "redis")
    cleanup.append(server)
    server.start()
    cmd = run_command(replay.path, server.url, tmp_path)

    first = Daemon(cmd, _env(), tmp_path, tmp_path / "run1.log")
    cleanup.append(first)
    progress = run_until_part_way(server, first, _seed(request))
    first.kill_group()
    partial = committed_lines(server)
    assert progress.lines <= partial < LINES, "the daemon was not killed part-way"

    second = Daemon(cmd, _env(), tmp_path, tmp_path / "run2.log")
    cleanup.append(second)
    assert second.wait() == 0, second.output()[-4000:]
    log = second.output()
    # It resumed after what the first run committed or journaled: it did not start over.
    assert "resuming input 1 of 1 at byte" in log, log[-4000:]
    read = int(log.split(" stopped read=", 1)[1].split()[0])
    assert read <= LINES - partial, (read, partial)

    assert_same(final_state(server), replay.baseline, f"daemon killed at {partial} lines")


@pytest.mark.parametrize("lose_tail", [False, True], ids=["aof-intact", "aof-lost-last-second"])
def test_redis_killed_mid_replay_the_daemon_rides_it_out_and_resends_what_redis_lost(
    replay: Replay,
    tmp_path: Path,
    cleanup: list[Any],
    request: pytest.FixtureRequest,
    lose_tail: bool,
) -> None:
    server = RedisProc(tmp_path / "redis")
    cleanup.append(server)
    server.start()
    cmd = run_command(replay.path, server.url, tmp_path)
    daemon = Daemon(cmd, _env(), tmp_path, tmp_path / "run.log")
    cleanup.append(daemon)
    progress = run_until_part_way(server, daemon, _seed(request))
    server.kill()
    kept = lose_the_last_second(server, progress) if lose_tail else None
    time.sleep(2.0)
    assert daemon.alive(), f"the daemon died with Redis:\n{daemon.output()[-4000:]}"
    server.start()
    restored = committed_lines(server)
    if kept is not None:
        # Redis really came back without batches it had acknowledged.
        assert restored < progress.lines, (restored, progress.lines)

    assert daemon.wait() == 0, daemon.output()[-4000:]
    log = daemon.output()
    # One process all along: it waited for Redis and carried on, it was never restarted.
    assert log_count(log, "starting") == 1, log[-4000:]
    assert "redis_unavailable" in log and "redis_back" in log, log[-4000:]
    if kept is not None:
        assert "redis_lost_batches" in log, log[-4000:]

    context = f"redis killed at {progress.lines} lines, back with {restored}"
    assert_same(final_state(server), replay.baseline, context)


def test_redis_and_daemon_both_killed_the_journal_carries_the_backlog_across_restarts(
    replay: Replay, tmp_path: Path, cleanup: list[Any], request: pytest.FixtureRequest
) -> None:
    server = RedisProc(tmp_path / "redis")
    cleanup.append(server)
    server.start()
    cmd = run_command(replay.path, server.url, tmp_path)
    first = Daemon(cmd, _env(), tmp_path, tmp_path / "run1.log")
    cleanup.append(first)
    progress = run_until_part_way(server, first, _seed(request))
    server.kill()
    lose_the_last_second(server, progress)
    time.sleep(1.0)  # the daemon reads on: batches pile up in its journal, none reach Redis
    assert first.alive(), first.output()[-4000:]
    first.kill_group()
    server.start()
    restored = committed_lines(server)
    assert restored < progress.lines, (restored, progress.lines)

    second = Daemon(cmd, _env(), tmp_path, tmp_path / "run2.log")
    cleanup.append(second)
    assert second.wait() == 0, second.output()[-4000:]
    log = second.output()
    # The second run found batches in the journal that Redis did not have, and sent them.
    assert "journal_resend" in log, log[-4000:]
    assert "resuming input 1 of 1 at byte" in log, log[-4000:]

    context = f"both killed at {progress.lines} lines, Redis back with {restored}"
    assert_same(final_state(server), replay.baseline, context)


def test_a_restart_after_the_keep_window_still_resends_what_redis_lost(
    tmp_path: Path, cleanup: list[Any]
) -> None:
    """Regression: Redis lost its last acknowledged batches (its AOF tail) and the daemon died
    too, and the daemon came back only after `journal_keep_seconds`. The journal still held
    those batches, but start-up judged them by their age instead of by Redis's checkpoint and
    forgot them: they were lost, and with them the newest source position, so a replay
    started over from the beginning and counted everything twice."""
    server = RedisProc(tmp_path / "redis")
    cleanup.append(server)
    server.start()
    keep = 0.3
    directory = tmp_path / "journal"
    kept_size = 0

    def batch(n: int) -> tuple[list[Detected], dict[str, int], dict[str, int]]:
        return [Detected("en", (f"tag{n}",), (1.0, float(n)))], {"lines": 1}, {"offset": n}

    async def session(numbers: range) -> tuple[Recovery, Committer]:
        nonlocal kept_size
        client = redis_client(server.url)
        committer = Committer(
            Store(client, Keys(PREFIX)), Journal(directory, 1 << 20, keep_seconds=keep), "t"
        )
        recovery = await committer.recover()
        task = asyncio.create_task(committer.run())
        try:
            for n in numbers:
                await committer.submit(*batch(n), read_at=0.0)
                assert await committer.drain(10)
                if n == 3:
                    kept_size = server.aof().stat().st_size
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            committer.journal.close()
            await client.aclose()
        return recovery, committer

    asyncio.run(session(range(1, 6)))  # batches 1..5, all acknowledged
    server.kill()  # ... and Redis comes back without 4 and 5, as after a machine crash
    os.truncate(server.aof(), kept_size)
    server.start()
    client = server.client()
    try:
        assert client.hget(f"{PREFIX}checkpoint:t", "seq") == "3"
        time.sleep(keep * 3)  # the daemon restarts well after the keep window
        recovery, committer = asyncio.run(session(range(6, 7)))
        assert (recovery.committed, recovery.to_resend) == (3, 2)
        assert recovery.position == {"offset": 5}  # resume after batch 5, not from the start
        assert committer.lost == 0
        assert client.hget(f"{PREFIX}checkpoint:t", "seq") == "6"
        assert client.hget(PIPELINE, "lines") == "6"
        tags = client.lrange(f"{PREFIX}hashtag_en", 0, -1)
        assert tags == [f"tag{n}" for n in range(1, 7)]
    finally:
        client.close()
