"""Ingest throughput and latency: the product against the seed's pipeline and a speed of light.

Generates N full-size v1.1 payloads into a temporary NDJSON file (`--input realistic`, the
default: scripts/realistic_stream.py, real UDHR sentences in 34 languages with today's shares of
retweets, hashtags, points and places; `--input demo`: streamer.sources.generator, as the demo
source writes them), prints what the input holds, starts a private redis-server (`--save ''
--appendonly no`, unix socket in the temporary directory; `--tcp` for a loopback port) and runs,
with a FLUSHALL between stages:

  seed  scripts/seed_pipeline.py: the seed notebook rebuilt for reference (a reader process, a
        multiprocessing queue hop per tweet, 2 detector processes counting NLTK stopwords, one
        synchronous RPUSH round trip per pushed entry);
  sol   scripts/speed_of_light.py: one process, orjson + pipelined RPUSH, no detection;
  ours  `tweetheat run --source replay --rate max --exit-at-eof` with the default detector. Its
        fixed start-up and shut-down cost is measured on an empty file and subtracted:
        tweets/s = N / (wall(full) - wall(empty)). The daemon starts its worker pool and
        waits for the detectors to be built before it reads, so the empty file's run includes
        that too (daemons before issue 7 started the pool at the first batch: for them the
        second figure, a one-tweet file's run subtracted instead, is the one that leaves the
        detector build out of the rate). A daemon still running 60 s after Redis counted
        every line is stopped (SIGTERM, SIGTERM, SIGKILL) and the stage marked FAILED; its
        rate is then the time to commit every line minus the empty file's time to EOF.

tweets/s counts every line of the input (about 4% are delete and limit notices). Peak RSS is
the largest sum of VmRSS over the stage's process tree, sampled every 0.2 s. Latency (read to
Redis commit) comes from the daemon's own `final_status` log line.

`--steady RATE` instead runs ours alone at `--rate RATE` for `--seconds` (60) and prints its
status lines (every 2 s): rates, queue depths and p99 latency over time, then whether the queue
grew.

    .venv/bin/python scripts/bench.py [--count 200000] [--seed 1] [--workers 2] [--skip seed]
                                      [--input realistic|demo] [--geo on|off]
    .venv/bin/python scripts/bench.py --steady 2000 [--seconds 60]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from streamer.sources.generator import generate  # noqa: E402
from streamer.storage.keys import Keys  # noqa: E402

sys.path.insert(0, str(REPO / "scripts"))
import realistic_stream  # noqa: E402

SCRIPTS = REPO / "scripts"
PYTHON = sys.executable
TWEETHEAT = str(Path(sys.executable).with_name("tweetheat"))
STAGES = ("seed", "sol", "ours")
STAGE_NAMES = {"seed": "seed (reference)", "sol": "speed of light", "ours": "ours (tweetheat)"}
LIST_CAP = 10_000_000  # nothing may be trimmed: every stage must store every entry
RSS_EVERY = 0.2  # seconds between RSS samples
BATCH_SIZE = 500  # the product's default batch: a queue that grows by less is jitter
EMPTY_RUN_TIMEOUT = 60.0  # seconds; start-up and shut-down take a few
EXIT_GRACE = 60.0  # seconds a daemon may take to exit once every line is committed
PIPELINE_KEY = Keys().pipeline  # the daemon's counters; "lines" counts committed lines


# --- the machine ------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def redis_version() -> str:
    try:
        out = subprocess.run(
            [redis_server(), "--version"], capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return "?"
    return next((w[2:] for w in out.split() if w.startswith("v=")), out.strip())


def header(title: str) -> list[str]:
    cores = len(os.sched_getaffinity(0))
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return [
        f"# {title}, {now}",
        f"machine: {cores} cores (nproc), {cpu_model()}, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, "
        f"redis-server {redis_version()}",
    ]


# --- input --------------------------------------------------------------------------------


@dataclass
class Input:
    path: Path
    lines: int = 0
    bytes: int = 0
    tweets: int = 0
    hashtags: int = 0
    points: int = 0


def write_input(path: Path, count: int, seed: int, geo_share: float, kind: str = "demo") -> Input:
    if kind == "realistic":
        written = realistic_stream.write_ndjson(path, count, seed)
        return Input(
            path, written.lines, written.bytes, written.posts, written.hashtags, written.points
        )
    made = Input(path)
    with path.open("wb", buffering=1 << 20) as f:
        for line, truth in generate(count, seed, geo_share):
            f.write(line + b"\n")
            made.lines += 1
            made.bytes += len(line) + 1
            if truth.kind == "tweet":
                made.tweets += 1
                made.hashtags += len(truth.hashtags)
                made.points += truth.geo is not None
    return made


def first_tweet(path: Path) -> bytes:
    with path.open("rb") as f:
        for line in f:
            if b'"text"' in line:
                return line.rstrip(b"\n")
    raise RuntimeError(f"no tweet in {path}")


# --- Redis --------------------------------------------------------------------------------


def redis_server() -> str:
    return shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def private_redis(workdir: Path, tcp: bool) -> Iterator[str]:
    """A fresh redis-server without persistence; yields its URL and stops it on exit."""
    workdir.mkdir(parents=True, exist_ok=True)
    if tcp:
        port = free_port()
        where = ["--port", str(port), "--bind", "127.0.0.1"]
        url = f"redis://127.0.0.1:{port}/0"
    else:
        sock = workdir / "redis.sock"
        where = ["--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700"]
        url = f"unix://{sock}"
    server = subprocess.Popen(
        [redis_server(), *where, "--save", "", "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis.from_url(url)
        for _ in range(200):
            try:
                client.ping()
                break
            except (redis.ConnectionError, FileNotFoundError):
                if server.poll() is not None:
                    raise RuntimeError("redis-server exited at start-up") from None
                time.sleep(0.05)
        else:
            raise RuntimeError("redis-server did not answer within 10 s")
        client.close()
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@dataclass
class Stored:
    hashtags: int
    points: int
    lists: int
    used_memory: int
    keys: int


def stored(client: redis.Redis, keys: Keys) -> Stored:
    """Entries across every hashtag_* and geo_* list under the prefix, and Redis memory."""
    totals = []
    lists = 0
    for pattern in (keys.hashtags("*"), keys.geo("*")):
        names = list(client.scan_iter(match=pattern, count=1000))
        lists += len(names)
        pipe = client.pipeline(transaction=False)
        for name in names:
            pipe.llen(name)
        totals.append(sum(pipe.execute()))
    memory = client.info("memory")
    return Stored(totals[0], totals[1], lists, int(memory["used_memory"]), int(client.dbsize()))


# --- process trees and their memory -------------------------------------------------------


def _ppid_map() -> dict[int, int]:
    parents = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # the command name may hold spaces
        parents[int(entry.name)] = int(fields[1])
    return parents


def process_tree(root: int) -> list[int]:
    """The root pid and all its descendants."""
    children: dict[int, list[int]] = {}
    for pid, ppid in _ppid_map().items():
        children.setdefault(ppid, []).append(pid)
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


def rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


class PeakRss:
    """Samples the summed RSS of a process tree every RSS_EVERY seconds, in a thread."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self.most_processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            pids = process_tree(self.pid)
            self.peak = max(self.peak, sum(rss_bytes(pid) for pid in pids))
            self.most_processes = max(self.most_processes, len(pids))
            self._stop.wait(RSS_EVERY)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


# --- the stages ---------------------------------------------------------------------------


@dataclass
class StageResult:
    stage: str
    seconds: float | None = None  # time to push the whole input, start-up excluded
    peak_rss: int = 0
    stored: Stored | None = None
    error: str = ""
    note: str = ""  # how the time was measured, when not as designed
    alt_rate: float | None = None  # ours, with the one-tweet run subtracted instead
    ours: OursRun | None = None

    def rate(self, lines: int) -> float | None:
        return lines / self.seconds if self.seconds else None


def run_reference(script: str, extra: Sequence[str], data: Input, url: str) -> tuple[float, int]:
    """Run a reference pipeline script in its own process tree; return (seconds, peak RSS)."""
    cmd = [PYTHON, str(SCRIPTS / script), "--file", str(data.path), "--redis-url", url, *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = PeakRss(proc.pid)
    out, err = proc.communicate()
    peak = sampler.stop()
    if proc.returncode != 0:
        raise RuntimeError(f"{script} exited {proc.returncode}: {err.strip()[-2000:]}")
    return float(json.loads(out.strip().splitlines()[-1])["seconds"]), peak


@dataclass
class OursRun:
    wall: float
    returncode: int
    events: list[dict[str, Any]] = field(default_factory=list)
    peak_rss: int = 0
    most_processes: int = 0
    stderr: str = ""
    timed_out: bool = False
    committed_at: float | None = None  # seconds after start when Redis counted every line
    started_at: float = 0.0  # time.time() at start

    def at(self, event: str) -> float | None:
        """Seconds from start to the (last) log line of `event`, by its timestamp."""
        stamp = self.last(event).get("timestamp")
        if not isinstance(stamp, str):
            return None
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() - self.started_at

    @property
    def failed(self) -> bool:
        return self.returncode != 0 or self.timed_out

    def last(self, event: str) -> dict[str, Any]:
        return next((e for e in reversed(self.events) if e.get("event") == event), {})

    def all(self, event: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("event") == event]


# `--no-trends`: the daemon without the trend counts (to measure what they cost).
TRENDS_OFF = False


def write_config(path: Path, status_interval: float | None = None, geo: bool = True) -> Path:
    text = f"[redis]\nlist_cap = {LIST_CAP}\n"
    # The daemons share the gazetteer `make setup` built, as its tests do.
    cache = Path(os.environ.get("TWEETHEAT_GEO_CACHE_DIR", REPO / "data" / "geo")).resolve()
    text += (
        f"\n[geo]\nenabled = {'true' if geo else 'false'}\ncache_dir = {json.dumps(str(cache))}\n"
    )
    if TRENDS_OFF:
        text += "\n[trends]\nenabled = false\n"
    if status_interval is not None:
        text = f"[daemon]\nstatus_interval = {status_interval}\n\n" + text
    path.write_text(text)
    return path


def run_ours(
    replay: Path,
    url: str,
    workdir: Path,
    config: Path,
    rate: str = "max",
    timeout: float = 3600.0,
    expect_lines: int = 0,
) -> OursRun:
    """`tweetheat run` on a replay file until EOF, as a subprocess; its JSON log parsed.

    With `expect_lines`, the daemon's Redis line counter is polled to note when every line is
    committed, and a daemon that has not exited EXIT_GRACE seconds after that is stopped."""
    workdir.mkdir(parents=True, exist_ok=True)
    cmd = [
        TWEETHEAT, "run", "--config", str(config), "--source", "replay",
        "--replay-file", str(replay), "--rate", rate, "--exit-at-eof", "--redis-url", url,
        "--data-dir", str(workdir / "data"), "--out", str(workdir / "out"),
        "--log-format", "json",
    ]  # fmt: skip
    stdout_path, stderr_path = workdir / "stdout.log", workdir / "stderr.log"
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        started_at = time.time()  # to place the log's timestamps
        started = time.perf_counter()
        # A session of its own: on a timeout, the daemon and its pools are stopped together.
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=workdir, start_new_session=True)
        sampler = PeakRss(proc.pid)
        client = redis.Redis.from_url(url)
        committed_at: float | None = None
        timed_out = False
        while (returncode := proc.poll()) is None:
            elapsed = time.perf_counter() - started
            if expect_lines and committed_at is None:
                with contextlib.suppress(redis.RedisError, ValueError, TypeError):
                    if int(client.hget(PIPELINE_KEY, "lines") or 0) >= expect_lines:
                        committed_at = elapsed
            late = committed_at is not None and elapsed > committed_at + EXIT_GRACE
            if elapsed > timeout or late:
                timed_out = True
                returncode = stop_group(proc)
                break
            time.sleep(0.1)
        wall = time.perf_counter() - started
        peak = sampler.stop()
        client.close()
    events = []
    for line in stdout_path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                events.append(json.loads(line))
            except ValueError:
                continue
    stderr = stderr_path.read_text(errors="replace")[-3000:]
    if timed_out:
        why = f"{EXIT_GRACE:.0f} s after committing every line" if committed_at else "in time"
        stderr += f"\n(bench: the daemon did not exit {why}; stopped it)"
    return OursRun(
        wall,
        returncode,
        events,
        peak,
        sampler.most_processes,
        stderr,
        timed_out,
        committed_at,
        started_at,
    )


def stop_group(proc: subprocess.Popen[bytes], grace: float = 10.0) -> int:
    """Stop the daemon: SIGTERM (it drains and exits), a second SIGTERM (it stops at once),
    then SIGKILL to the whole process group it leads."""
    for sig in (signal.SIGTERM, signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            if sig == signal.SIGKILL:
                os.killpg(proc.pid, sig)
            else:
                proc.send_signal(sig)
        try:
            return proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
    return proc.wait()


# --- formatting ---------------------------------------------------------------------------


def mib(n: int | None) -> str:
    if not n:
        return "n/a"
    return f"{n / 2**20:.1f} MiB" if n < 10 * 2**20 else f"{n / 2**20:,.0f} MiB"


def opt(value: Any, fmt: str = "{}") -> str:
    return "n/a" if value is None else fmt.format(value)


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a and b else "n/a"


def table(rows: list[list[str]], right: Sequence[bool]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    out = []
    for n, row in enumerate(rows):
        cells = [
            cell.rjust(w) if r else cell.ljust(w)
            for cell, w, r in zip(row, widths, right, strict=True)
        ]
        out.append("| " + " | ".join(cells) + " |")
        if n == 0:
            rules = [
                "-" * (w + 1) + ":" if r else "-" * (w + 2)
                for w, r in zip(widths, right, strict=True)
            ]
            out.append("|" + "|".join(rules) + "|")
    return out


def describe_input(data: Input, seed: int, geo_share: float, kind: str = "demo") -> str:
    what = (
        f"realistic v1.1 sample (scripts/realistic_stream.py), seed {seed}"
        if kind == "realistic"
        else f"demo v1.1 sample, seed {seed}, geo_share {geo_share}"
    )
    return (
        f"input: {data.lines:,} lines ({what}): "
        f"{data.tweets:,} tweets, {data.bytes / max(data.lines, 1):,.0f} B/line, "
        f"{data.bytes / 2**20:,.0f} MiB; generator truth: {data.hashtags:,} hashtags, "
        f"{data.points:,} points"
    )


def status_fields(event: dict[str, Any]) -> str:
    keys = (
        "in_per_s", "out_per_s", "read", "accepted", "skipped", "line_queue", "inflight_batches",
        "redis_memory", "lat_p50_s", "lat_p99_s", "lag_max_s",
    )  # fmt: skip
    return " ".join(f"{k}={opt(event.get(k))}" for k in keys)


# --- throughput mode ----------------------------------------------------------------------


def throughput(args: argparse.Namespace, work: Path) -> int:
    skip = {s.strip() for group in args.skip for s in group.split(",") if s.strip()}
    unknown = skip - set(STAGES)
    if unknown:
        print(f"bench: unknown stage(s) to skip: {', '.join(sorted(unknown))} (of {STAGES})")
        return 2
    lines = header("tweetheat ingest benchmark (scripts/bench.py)")
    print("\n".join(lines), flush=True)
    t = time.perf_counter()
    data = write_input(work / "tweets.ndjson", args.count, args.seed, args.geo_share, args.input)
    empty = work / "empty.ndjson"
    empty.write_bytes(b"")
    one_tweet = work / "one-tweet.ndjson"
    one_tweet.write_bytes(first_tweet(data.path) + b"\n")
    lines.append(describe_input(data, args.seed, args.geo_share, args.input))
    print(f"{lines[-1]} (generated in {time.perf_counter() - t:.1f} s)", flush=True)
    held = ["", *realistic_stream.describe_table(realistic_stream.describe(data.path)), ""]
    lines += held
    print("\n".join(held), flush=True)
    config = write_config(work / "config.toml", geo=args.geo == "on")
    lines.append(f"ours: [geo] enabled = {'true' if args.geo == 'on' else 'false'} (--geo)")
    print(lines[-1], flush=True)
    results: dict[str, StageResult] = {}
    with private_redis(work / "redis", args.tcp) as url:
        over = "TCP loopback" if args.tcp else "a unix socket"
        lines.append(
            f"redis: one private redis-server over {over}, --save '' --appendonly no, "
            f"FLUSHALL between stages; seed workers: {args.workers}"
        )
        print(lines[-1], flush=True)
        client = redis.Redis.from_url(url)
        for stage in STAGES:
            if stage in skip:
                continue
            client.flushall()
            print(f"\n== {STAGE_NAMES[stage]}", flush=True)
            result = results[stage] = StageResult(stage)
            try:
                if stage == "seed":
                    extra = ["--workers", str(args.workers)]
                    result.seconds, result.peak_rss = run_reference(
                        "seed_pipeline.py", extra, data, url
                    )
                    result.stored = stored(client, Keys(prefix=""))
                elif stage == "sol":
                    result.seconds, result.peak_rss = run_reference(
                        "speed_of_light.py", [], data, url
                    )
                    result.stored = stored(client, Keys(prefix=""))
                else:
                    run_ours_stage(result, data, empty, one_tweet, url, work, config, client)
            except RuntimeError as exc:
                result.error = str(exc)
                print(f"FAILED: {exc}", flush=True)
            if result.seconds:
                print(
                    f"{result.seconds:.2f} s, {result.rate(data.lines):,.0f} tweets/s, "
                    f"peak RSS {mib(result.peak_rss)}",
                    flush=True,
                )
            if result.stored:
                s = result.stored
                print(
                    f"stored: {s.hashtags:,} hashtags, {s.points:,} points in {s.lists} lists; "
                    f"{s.keys:,} keys, used_memory {mib(s.used_memory)}",
                    flush=True,
                )
        client.flushall()
        client.close()
    lines += report(results, data)
    print("\n" + "\n".join(lines))
    return 1 if any(r.error for r in results.values()) else 0


def run_ours_stage(
    result: StageResult,
    data: Input,
    empty: Path,
    one_tweet: Path,
    url: str,
    work: Path,
    config: Path,
    client: redis.Redis,
) -> None:
    base = run_ours(empty, url, work / "ours-empty", config, timeout=EMPTY_RUN_TIMEOUT)
    fixed = base.wall
    if base.failed:
        fixed = 0.0
        print(
            f"WARNING: the empty-file run failed (exit {base.returncode}): {base.stderr.strip()}\n"
            "WARNING: start-up and shut-down are NOT subtracted below",
            flush=True,
        )
    else:
        eof = base.at("source_eof")
        print(
            f"start-up + shut-down on an empty file: {base.wall:.2f} s "
            f"(EOF reached after {opt(eof and round(eof, 2), '{} s')})",
            flush=True,
        )
    client.flushall()
    one = run_ours(one_tweet, url, work / "ours-one", config, timeout=EMPTY_RUN_TIMEOUT)
    if one.failed:
        print(
            f"WARNING: the one-tweet run failed (exit {one.returncode}): {one.stderr.strip()}",
            flush=True,
        )
    else:
        print(f"start-up + shut-down on a one-tweet file: {one.wall:.2f} s", flush=True)
    client.flushall()
    full = run_ours(
        data.path,
        url,
        work / "ours-full",
        config,
        timeout=max(600.0, data.lines / 50),
        expect_lines=data.lines,
    )
    result.ours = full
    result.peak_rss = full.peak_rss
    result.stored = stored(client, Keys())
    if full.committed_at is not None:
        print(f"every line committed {full.committed_at:.2f} s after start", flush=True)
    if full.failed:
        startup = None if base.failed else base.at("source_eof")
        if full.committed_at is not None:
            # Still a throughput: from the end of start-up (an empty file's run reaches EOF
            # then) to the moment Redis counted every line; shut-down is left out.
            result.seconds = full.committed_at - (startup or 0.0)
            result.note = "the daemon did not exit: time to commit every line" + (
                f" minus {startup:.2f} s start-up (empty file: start to EOF)"
                if startup
                else " (start-up included)"
            )
        raise RuntimeError(f"tweetheat run exited {full.returncode}: {full.stderr.strip()}")
    result.seconds = full.wall - fixed
    if base.failed:
        result.note = "start-up and shut-down included: the empty-file run failed"
    if not one.failed and full.wall > one.wall:
        # A daemon that starts its pool only at the first batch leaves its workers' detector
        # build (seconds of CPU each) out of the empty file's run; a one-tweet run has it.
        result.alt_rate = (data.lines - 1) / (full.wall - one.wall)
        print(
            f"{result.alt_rate:,.0f} tweets/s with the one-tweet run subtracted instead "
            "(it starts the pool and builds the detectors)",
            flush=True,
        )
    final = full.last("final_status")
    maps = full.last("maps_written")
    print(
        f"wall {full.wall:.2f} s - {base.wall:.2f} s = {result.seconds:.2f} s; "
        f"up to {full.most_processes} processes",
        flush=True,
    )
    print(f"final_status: {status_fields(final) if final else 'n/a (no final_status line)'}")
    if maps:
        print(f"last maps_written: {maps.get('seconds', 'n/a')} s (part of the full run's wall)")


def report(results: dict[str, StageResult], data: Input) -> list[str]:
    seed = results.get("seed")
    sol = results.get("sol")
    seed_rate = seed.rate(data.lines) if seed else None
    sol_rate = sol.rate(data.lines) if sol else None
    rows = [
        [
            "stage", "tweets/s", "vs seed", "vs speed of light", "peak RSS",
            "Redis used_memory", "hashtags stored", "points stored",
        ]
    ]  # fmt: skip
    for stage, r in results.items():
        rate = r.rate(data.lines)
        rows.append(
            [
                STAGE_NAMES[stage] + (" FAILED" if r.error else "") + (" *" if r.note else ""),
                opt(rate, "{:,.0f}"),
                ratio(rate, seed_rate),
                ratio(rate, sol_rate),
                mib(r.peak_rss),
                mib(r.stored.used_memory if r.stored else None),
                opt(r.stored.hashtags if r.stored else None, "{:,}"),
                opt(r.stored.points if r.stored else None, "{:,}"),
            ]
        )
    out = ["", *table(rows, [False, True, True, True, True, True, True, True]), ""]
    out += [f"* {STAGE_NAMES[stage]}: {r.note}" for stage, r in results.items() if r.note]
    ours = results.get("ours")
    if ours and ours.ours:
        final = ours.ours.last("final_status")
        out.append(
            f"ours, latency from a post's read to its Redis commit over the whole run: "
            f"p50 {opt(final.get('lat_p50_s'), '{} s')}, "
            f"p99 {opt(final.get('lat_p99_s'), '{} s')} (histogram bucket upper bounds)"
        )
    if ours and ours.ours and ours.seconds and not (ours.error or ours.note):
        out.append(
            f"ours: wall {ours.ours.wall:.2f} s minus {ours.ours.wall - ours.seconds:.2f} s "
            "start-up/shut-down (measured on an empty file)"
        )
        if ours.alt_rate:
            out.append(
                "ours: with a one-tweet file's run subtracted instead (pool start and detector "
                f"build surely included): {ours.alt_rate:,.0f} tweets/s"
            )
    totals = {s: r.stored.hashtags for s, r in results.items() if r.stored}
    if len(set(totals.values())) > 1:
        out.append(
            "WARNING: the stages stored different hashtag totals: "
            + ", ".join(f"{s}={n:,}" for s, n in totals.items())
        )
    if any(n != data.hashtags for n in totals.values()):
        out.append(f"WARNING: the generator put {data.hashtags:,} hashtags in the input")
    return out


# --- steady mode --------------------------------------------------------------------------


def steady(args: argparse.Namespace, work: Path) -> int:
    rate = args.steady
    count = int(rate * args.seconds)
    lines = header(f"tweetheat steady-rate benchmark (scripts/bench.py --steady {rate:g})")
    print("\n".join(lines), flush=True)
    data = write_input(work / "tweets.ndjson", count, args.seed, args.geo_share, args.input)
    lines.append(describe_input(data, args.seed, args.geo_share, args.input))
    print(lines[-1], flush=True)
    config = write_config(work / "config.toml", status_interval=2.0)
    with private_redis(work / "redis", args.tcp) as url:
        print(f"running tweetheat at --rate {rate:g} for ~{args.seconds:g} s ...", flush=True)
        run = run_ours(
            data.path,
            url,
            work / "ours",
            config,
            rate=f"{rate:g}",
            timeout=args.seconds * 3 + 300,
            expect_lines=data.lines,
        )
        client = redis.Redis.from_url(url)
        kept = stored(client, Keys())
        client.close()
    if run.failed:
        lines.append(f"WARNING: tweetheat run exited {run.returncode}: {run.stderr.strip()}")
        if not run.all("status"):
            print("\n".join(lines[3:]))
            return 1
    start = run.last("starting").get("timestamp")
    t0 = datetime.fromisoformat(start.replace("Z", "+00:00")) if start else None
    eof = run.last("source_eof").get("timestamp")
    rows = [["t (s)", "in_per_s", "out_per_s", "line_queue", "inflight_batches", "lat_p99_s"]]
    reading = []
    for event in run.all("status"):
        when = datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00"))
        rows.append(
            [
                f"{(when - t0).total_seconds():.1f}" if t0 else "?",
                opt(event.get("in_per_s")),
                opt(event.get("out_per_s")),
                opt(event.get("line_queue")),
                opt(event.get("inflight_batches")),
                opt(event.get("lat_p99_s")),
            ]
        )
        if eof is None or event["timestamp"] < eof:
            reading.append(event)
    lines += ["", *table(rows, [True] * 6), ""]
    final = run.last("final_status")
    p99s = [e["lat_p99_s"] for e in run.all("status") if e.get("lat_p99_s") is not None]
    wall = "n/a (did not exit)" if run.failed else f"{run.wall:.1f} s"
    lines.append(
        f"overall read-to-commit latency: p50 {opt(final.get('lat_p50_s'), '{} s')}, "
        f"p99 {opt(final.get('lat_p99_s'), '{} s')} (bucket upper bounds); per-interval p99: "
        f"median {opt(statistics.median(p99s) if p99s else None, '{} s')}, "
        f"max {opt(max(p99s) if p99s else None, '{} s')}"
    )
    lines.append(
        f"wall {wall} for {data.lines:,} lines; peak RSS {mib(run.peak_rss)}; "
        f"Redis used_memory {mib(kept.used_memory)}"
    )
    lines.append(queue_verdict(reading))
    lines.append(f"final_status: {status_fields(final) if final else 'n/a'}")
    if run.committed_at is not None:
        lines.append(f"every line committed {run.committed_at:.1f} s after start")
    print("\n".join(lines[3:]))
    return 1 if run.failed else 0


def queue_verdict(reading: list[dict[str, Any]]) -> str:
    """Compare the mean queue depths of the first and last thirds of the reading period."""
    depths = [e.get("line_queue") for e in reading]
    inflight = [e.get("inflight_batches") for e in reading]
    if len(reading) < 3 or any(d is None for d in depths):
        return "queue growth: n/a (fewer than 3 status lines while reading, or no line_queue)"
    third = len(reading) // 3
    first = statistics.mean(float(d) for d in depths[:third] if d is not None)
    last = statistics.mean(float(d) for d in depths[-third:] if d is not None)
    grew = last > first + BATCH_SIZE
    in_first = statistics.mean(float(d or 0) for d in inflight[:third])
    in_last = statistics.mean(float(d or 0) for d in inflight[-third:])
    return (
        f"queue grew: {'YES' if grew else 'no'} (line_queue mean {first:,.0f} in the first third"
        f" of the reading period, {last:,.0f} in the last; inflight_batches {in_first:.1f} -> "
        f"{in_last:.1f}; 'grew' = up by more than one batch of {BATCH_SIZE})"
    )


# --- main ---------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=200_000, help="lines to generate")
    parser.add_argument("--seed", type=int, default=1, help="generator seed")
    parser.add_argument(
        "--input",
        choices=("realistic", "demo"),
        default="realistic",
        help="realistic: scripts/realistic_stream.py (default); demo: the demo generator",
    )
    parser.add_argument("--geo-share", type=float, default=0.01, help="--input demo only")
    parser.add_argument(
        "--geo", choices=("on", "off"), default="on", help="ours: [geo] enabled (default on)"
    )
    parser.add_argument("--workers", type=int, default=2, help="the seed's detector processes")
    parser.add_argument(
        "--skip", action="append", default=[], metavar="STAGE", help="seed, sol or ours (repeat)"
    )
    parser.add_argument(
        "--steady", type=float, default=None, metavar="RATE", help="ours alone at RATE posts/s"
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="--steady: run length")
    parser.add_argument("--tcp", action="store_true", help="Redis on a loopback port, not a socket")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--no-trends", action="store_true", help="the daemon with [trends] off")
    args = parser.parse_args()
    global TRENDS_OFF
    TRENDS_OFF = args.no_trends
    work = Path(tempfile.mkdtemp(prefix="tweetheat-bench-"))
    status = 1
    try:
        status = steady(args, work) if args.steady else throughput(args, work)
        return status
    finally:
        if args.keep:
            print(f"kept {work}")
        elif status != 0:
            # A failed run keeps its logs (ours*/stdout.log, stderr.log), not its input.
            for generated in work.glob("*.ndjson"):
                generated.unlink()
            print(f"kept the logs in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
