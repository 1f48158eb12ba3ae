"""Soak test: the daemon for an hour at 1,000 posts/s, memory sampled every minute.

Starts a private redis-server on a free loopback port (AOF on, `appendfsync everysec`, so the
journal's exactly-once path runs as in production), then `tweetheat run` on the demo source
with map exports every 30 s and a bio-cluster refit every 5 minutes. Every `--sample-seconds`
it records, as one JSON line in `--out`:

- RSS (and PSS) of the daemon and every descendant, summed and per role: the daemon's main
  process, the forkserver, the language-detection workers, the analysis processes (one for
  maps, one for refits, both at nice 10), other helpers; and the number of processes;
- Redis `INFO memory` (used_memory, used_memory_rss), `DBSIZE`, the entries held in the
  `hashtag_*` and `geo_*` lists, the recent-user window, the AOF size;
- the pipeline counters (`HGETALL tweetheat:pipeline`), the journal's bytes on disk, the
  daemon's open file descriptors;
- the `maps_written` and `clusters_refit` lines logged so far, and any warning or error line.

At the end the daemon gets SIGTERM (it must exit 0 within 60 s), Redis is stopped, and a
markdown table and a verdict are printed: after a 15-minute warm-up, total RSS and Redis
used_memory must be flat (the mean of the last 3 samples within 5% or 20 MB of the first 3),
posts/s must match the rate, and the refit and map counts must be what the intervals give.

    .venv/bin/python scripts/soak.py [--minutes 60] [--rate 1000] [--sample-seconds 60]
                                      [--out /tmp/tweetheat-soak.jsonl]
    .venv/bin/python scripts/soak.py --report [--out FILE]   # the table of an existing run

The daemon's log is copied next to `--out` (`FILE.daemon.log`) before the temp dir is removed.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import redis

REPO = Path(__file__).resolve().parents[1]
TWEETHEAT = REPO / ".venv" / "bin" / "tweetheat"
PREFIX = "tweetheat:"
MAPS_INTERVAL = 30.0
REFIT_INTERVAL = 300.0
FIRST_REFIT = 60.0  # the daemon's first refit comes a minute after start
MB = 1024 * 1024
FLAT_PCT = 5.0
FLAT_MB = 20.0
RATE_TOLERANCE = 0.05
LIST_CAP = 100_000  # the product defaults of [redis] list_cap and [clusters] max_users
MAX_USERS = 100_000
ROLES = ("daemon", "forkserver", "workers", "analysis", "other")


class Stop(Exception):
    """SIGTERM or SIGINT reached the soak script: stop the daemon and report what we have."""


# --- processes -------------------------------------------------------------------------


def _die_with_parent() -> None:
    """preexec_fn: the child gets SIGTERM if this script dies, even by SIGKILL."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Proc:
    pid: int
    ppid: int
    nice: int
    cmdline: str


def _read(path: str) -> str | None:
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:  # the process is gone, or not ours to read
        return None


def all_processes() -> dict[int, Proc]:
    procs: dict[int, Proc] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        stat = _read(f"/proc/{name}/stat")
        if stat is None:
            continue
        # The comm field is in parentheses and may hold spaces: split after its last ')'.
        fields = stat[stat.rfind(")") + 2 :].split()
        cmdline = (_read(f"/proc/{name}/cmdline") or "").replace("\0", " ").strip()
        procs[int(name)] = Proc(int(name), int(fields[1]), int(fields[16]), cmdline)
    return procs


def descendants(root: int, procs: dict[int, Proc]) -> list[int]:
    children: dict[int, list[int]] = {}
    for p in procs.values():
        children.setdefault(p.ppid, []).append(p.pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def memory_kb(pid: int) -> tuple[int, int]:
    """(VmRSS, Pss) in kB; (0, 0) if the process is gone."""
    rss = pss = 0
    for line in (_read(f"/proc/{pid}/status") or "").splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
    for line in (_read(f"/proc/{pid}/smaps_rollup") or "").splitlines():
        if line.startswith("Pss:"):
            pss = int(line.split()[1])
    return rss, pss


def role_of(pid: int, root: int, procs: dict[int, Proc]) -> str:
    """The daemon's tree: main -> forkserver -> pool processes (detectors at nice 0, the
    analysis process of maps and clustering at nice 10); the resource tracker and the rest are
    other."""
    if pid == root:
        return "daemon"
    p = procs[pid]
    parent = procs.get(p.ppid)
    if "multiprocessing.forkserver" in p.cmdline:
        if parent is not None and "multiprocessing.forkserver" in parent.cmdline:
            return "analysis" if p.nice > parent.nice else "workers"
        return "forkserver"
    return "other"


def process_memory(root: int) -> dict[str, Any]:
    procs = all_processes()
    if root not in procs:
        return {"processes": 0}
    rss = dict.fromkeys(ROLES, 0)
    pss = dict.fromkeys(ROLES, 0)
    count = dict.fromkeys(ROLES, 0)
    for pid in descendants(root, procs):
        role = role_of(pid, root, procs)
        r, p = memory_kb(pid)
        rss[role] += r
        pss[role] += p
        count[role] += 1
    return {
        "processes": sum(count.values()),
        "count": count,
        "rss_kb": rss,
        "pss_kb": pss,
        "rss_total_kb": sum(rss.values()),
        "pss_total_kb": sum(pss.values()),
    }


def disk_bytes(path: Path) -> int:
    """Bytes allocated on disk under `path` (st_blocks), recursively."""
    total = 0
    for dirpath, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
    return total


# --- the daemon's log ------------------------------------------------------------------


@dataclass
class LogState:
    """Reads the daemon's JSON log incrementally and keeps the counts a sample needs."""

    path: Path
    offset: int = 0
    events: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # warning/error lines and non-JSON
    problem_count: int = 0
    last_status: dict[str, Any] = field(default_factory=dict)
    last_refit: dict[str, Any] = field(default_factory=dict)

    def update(self) -> None:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return
        end = data.rfind(b"\n")
        if end < 0:
            return
        self.offset += end + 1
        for raw in data[: end + 1].splitlines():
            if raw.strip():
                self._line(raw)

    def _line(self, raw: bytes) -> None:
        try:
            entry = orjson.loads(raw)
            if not isinstance(entry, dict):
                raise ValueError("not an object")
        except ValueError:
            self._problem(raw.decode("utf-8", "replace"))
            return
        event = str(entry.get("event"))
        self.events[event] = self.events.get(event, 0) + 1
        if event == "status":
            self.last_status = entry
        elif event == "clusters_refit":
            self.last_refit = entry
        if entry.get("level") in ("warning", "error", "critical", "exception"):
            self._problem(raw.decode("utf-8", "replace"))

    def _problem(self, line: str) -> None:
        self.problem_count += 1
        if len(self.problems) < 50:
            self.problems.append(line[:2000])


# --- sampling --------------------------------------------------------------------------


def list_lengths(client: redis.Redis) -> dict[str, int]:
    """LLEN of every hashtag_/geo_ list, by key without the prefix."""
    keys = sorted(
        str(key)
        for pattern in (f"{PREFIX}hashtag_*", f"{PREFIX}geo_*")
        for key in client.scan_iter(match=pattern, count=1000)
    )
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.llen(key)
    return {key.removeprefix(PREFIX): int(n) for key, n in zip(keys, pipe.execute(), strict=True)}


def redis_sample(client: redis.Redis, list_cap: int = LIST_CAP) -> dict[str, Any]:
    memory = client.info("memory")
    persistence = client.info("persistence")
    lengths = list_lengths(client)
    counters = {str(k): int(v) for k, v in client.hgetall(f"{PREFIX}pipeline").items()}
    skipped = sum(v for k, v in counters.items() if k.startswith("skipped:"))
    return {
        "redis_used_memory": int(memory["used_memory"]),
        "redis_used_memory_rss": int(memory["used_memory_rss"]),
        "redis_mem_fragmentation_ratio": memory.get("mem_fragmentation_ratio"),
        "redis_dbsize": int(client.dbsize()),
        "redis_aof_bytes": int(persistence.get("aof_current_size", 0)),
        "lists": len(lengths),
        "list_entries": sum(lengths.values()),
        "lists_at_cap": sum(n >= list_cap for n in lengths.values()),
        "list_lengths": lengths,
        "users": int(client.zcard(f"{PREFIX}users:seen")),
        "pipeline": counters,
        "lines": counters.get("lines", 0),
        "accepted": counters.get("accepted", 0),
        "skipped": skipped,
    }


def take_sample(
    started: float,
    daemon_pid: int,
    client: redis.Redis,
    data_dir: Path,
    log: LogState,
    list_cap: int,
) -> dict[str, Any]:
    now = time.time()
    sample: dict[str, Any] = {
        "kind": "sample",
        "time": datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds"),
        "elapsed_s": round(now - started, 1),
    }
    sample.update(process_memory(daemon_pid))
    try:
        sample.update(redis_sample(client, list_cap))
    except (redis.RedisError, OSError) as exc:
        sample["redis_error"] = repr(exc)
    sample["journal_bytes"] = disk_bytes(data_dir / "journal")
    try:
        sample["fds"] = len(os.listdir(f"/proc/{daemon_pid}/fd"))
    except OSError:
        sample["fds"] = None
    log.update()
    sample["maps_written"] = log.events.get("maps_written", 0)
    sample["clusters_refit"] = log.events.get("clusters_refit", 0)
    sample["refits_skipped"] = log.events.get("cluster_refit_skipped", 0)
    sample["log_problems"] = log.problem_count
    status = log.last_status
    sample["status"] = {
        k: status.get(k)
        for k in ("in_per_s", "out_per_s", "line_queue", "inflight_batches", "lag_s", "lag_max_s")
        if k in status
    }
    return sample


def one_line(s: dict[str, Any]) -> str:
    rss = s.get("rss_kb", {})
    return (
        f"[{s['elapsed_s'] / 60:5.1f} min] rss {s.get('rss_total_kb', 0) / 1024:7.1f} MB "
        f"(daemon {rss.get('daemon', 0) / 1024:.1f}, workers {rss.get('workers', 0) / 1024:.1f}, "
        f"analysis {rss.get('analysis', 0) / 1024:.1f}, {s.get('processes', 0)} procs) "
        f"pss {s.get('pss_total_kb', 0) / 1024:.1f} MB | "
        f"redis {s.get('redis_used_memory', 0) / MB:.1f} MB "
        f"(rss {s.get('redis_used_memory_rss', 0) / MB:.1f}) keys {s.get('redis_dbsize')} "
        f"entries {s.get('list_entries', 0):,} ({s.get('lists_at_cap', 0)}/{s.get('lists', 0)} "
        f"lists at cap) users {s.get('users', 0):,} | "
        f"accepted {s.get('accepted', 0):,} out/s {s.get('status', {}).get('out_per_s')} | "
        f"maps {s['maps_written']} refits {s['clusters_refit']} | "
        f"journal {s['journal_bytes'] / 1024:.0f} KB fds {s['fds']} problems {s['log_problems']}"
    )


def config_text(rate: float, list_cap: int, max_users: int) -> str:
    return f"""\
[daemon]
status_interval = 10
log_format = "json"

[source]
kind = "demo"
rate = {rate:g}

[redis]
list_cap = {list_cap}

[maps]
interval = {MAPS_INTERVAL:g}

[clusters]
interval = {REFIT_INTERVAL:g}
max_users = {max_users}
"""


def start_redis(work: Path, port: int) -> subprocess.Popen[bytes]:
    server = shutil.which("redis-server") or "/usr/bin/redis-server"
    return subprocess.Popen(
        [
            server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "yes", "--appendfsync", "everysec", "--dir", str(work),
            "--logfile", str(work / "redis.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        preexec_fn=_die_with_parent,
        start_new_session=True,
    )  # fmt: skip


def wait_for_ping(client: redis.Redis, server: subprocess.Popen[bytes]) -> None:
    for _ in range(200):
        if server.poll() is not None:
            raise RuntimeError(f"redis-server exited with {server.returncode}")
        try:
            client.ping()
            return
        except (redis.ConnectionError, OSError):
            time.sleep(0.05)
    raise RuntimeError("redis-server did not answer PING within 10 s")


def write(out: Any, record: dict[str, Any]) -> None:
    out.write(orjson.dumps(record) + b"\n")
    out.flush()


def run(args: argparse.Namespace) -> int:
    def on_signal(signum: int, _frame: Any) -> None:
        raise Stop(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    work = Path(tempfile.mkdtemp(prefix="tweetheat-soak-"))
    data_dir, out_dir, log_path = work / "data", work / "out", work / "daemon.log"
    config = work / "config.toml"
    config.write_text(config_text(args.rate, args.list_cap, args.max_users))
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    out_path = Path(args.out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    kept_log = out_path.with_name(out_path.name + ".daemon.log")
    print(f"work dir {work}, redis {url}, samples -> {out_path}, daemon log -> {log_path}")

    server = start_redis(work, port)
    daemon: subprocess.Popen[bytes] | None = None
    client = redis.Redis.from_url(url, socket_timeout=30, decode_responses=True)
    log = LogState(log_path)
    end: dict[str, Any] = {"kind": "end"}
    with open(out_path, "wb") as out:
        try:
            wait_for_ping(client, server)
            command = [
                str(TWEETHEAT), "run", "--config", str(config), "--redis-url", url,
                "--data-dir", str(data_dir), "--out", str(out_dir),
            ]  # fmt: skip
            started = time.time()
            with open(log_path, "wb") as log_file:
                daemon = subprocess.Popen(
                    command,
                    cwd=work,
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    preexec_fn=_die_with_parent,
                    start_new_session=True,
                )
            header = {
                "kind": "config",
                "started": datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds"),
                "minutes": args.minutes,
                "rate": args.rate,
                "sample_seconds": args.sample_seconds,
                "warmup_minutes": args.warmup_minutes,
                "maps_interval": MAPS_INTERVAL,
                "refit_interval": REFIT_INTERVAL,
                "list_cap": args.list_cap,
                "max_users": args.max_users,
                "daemon_pid": daemon.pid,
                "redis_pid": server.pid,
                "command": command,
                "work_dir": str(work),
                "python": sys.version.split()[0],
                "cpus": os.cpu_count(),
            }
            write(out, header)
            print(f"daemon pid {daemon.pid}, redis pid {server.pid}", flush=True)
            samples = max(1, math.ceil(args.minutes * 60 / args.sample_seconds))
            for n in range(1, samples + 1):
                time.sleep(max(0.0, started + n * args.sample_seconds - time.time()))
                if daemon.poll() is not None:
                    end["early_exit"] = f"daemon exited with {daemon.returncode}"
                    break
                if server.poll() is not None:
                    end["early_exit"] = f"redis-server exited with {server.returncode}"
                    break
                sample = take_sample(started, daemon.pid, client, data_dir, log, args.list_cap)
                write(out, sample)
                print(one_line(sample), flush=True)
        except Stop as why:
            end["early_exit"] = f"soak script got {why}"
        except Exception as exc:
            end["early_exit"] = f"soak script failed: {exc!r}"
            raise
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            if daemon is not None:
                end.update(stop_daemon(daemon))
            log.update()
            end["maps_written"] = log.events.get("maps_written", 0)
            end["clusters_refit"] = log.events.get("clusters_refit", 0)
            end["log_problems"] = log.problem_count
            end["problem_lines"] = log.problems
            end["events"] = log.events
            with contextlib.suppress(redis.RedisError, OSError):
                final = redis_sample(client)
                end["final_pipeline"] = final["pipeline"]
                end["final_redis_used_memory"] = final["redis_used_memory"]
            end["redis_exit_code"] = stop_redis(server)
            end["journal_bytes_after_exit"] = disk_bytes(data_dir / "journal")
            write(out, end)
            with contextlib.suppress(OSError):
                shutil.copyfile(log_path, kept_log)
            if args.keep:
                print(f"kept {work}")
            else:
                shutil.rmtree(work, ignore_errors=True)
    print(f"\nsamples: {out_path}\ndaemon log: {kept_log}\n")
    return report(out_path)


def stop_daemon(daemon: subprocess.Popen[bytes]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if daemon.poll() is None:
        asked = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=60)
            result["stop_seconds"] = round(time.monotonic() - asked, 1)
        except subprocess.TimeoutExpired:
            result["stop_timeout"] = True
            daemon.kill()
            daemon.wait()
    result["daemon_exit_code"] = daemon.returncode
    return result


def stop_redis(server: subprocess.Popen[bytes]) -> int | None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    return server.returncode


# --- the report ------------------------------------------------------------------------


def read_records(path: Path) -> Iterator[dict[str, Any]]:
    with open(path, "rb") as f:
        for raw in f:
            if raw.strip():
                yield orjson.loads(raw)


def mb(kb: float) -> float:
    return kb / 1024


def growth(label: str, first: list[float], last: list[float]) -> tuple[str, bool]:
    a, b = statistics.mean(first), statistics.mean(last)
    change = b - a
    pct = 100 * change / a if a else 0.0
    flat = pct < FLAT_PCT or change < FLAT_MB
    return f"{label}: {a:.1f} -> {b:.1f} MB ({change:+.1f} MB, {pct:+.1f}%)", flat


def report(path: Path) -> int:
    records = list(read_records(path))
    config = next((r for r in records if r.get("kind") == "config"), {})
    samples = [r for r in records if r.get("kind") == "sample"]
    end = next((r for r in records if r.get("kind") == "end"), None)
    rate = float(config.get("rate", 0))
    print(
        f"Soak: {config.get('minutes')} min at {rate:g} posts/s, started {config.get('started')}, "
        f"maps every {config.get('maps_interval')} s, refits every {config.get('refit_interval')} s"
        f", list_cap {config.get('list_cap')}, {config.get('cpus')} CPUs\n"
    )
    print(
        "| minute | total RSS MB | daemon MB | workers MB | analysis MB | redis used MB "
        "| list entries | lists at cap | users | accepted | maps | refits | journal KB | fds |"
    )
    print("|---:" * 14 + "|")
    for s in samples:
        rss = s.get("rss_kb", {})
        print(
            f"| {s['elapsed_s'] / 60:.1f} | {mb(s.get('rss_total_kb', 0)):.1f} "
            f"| {mb(rss.get('daemon', 0)):.1f} | {mb(rss.get('workers', 0)):.1f} "
            f"| {mb(rss.get('analysis', 0)):.1f} | {s.get('redis_used_memory', 0) / MB:.1f} "
            f"| {s.get('list_entries', 0):,} | {s.get('lists_at_cap', 0)}/{s.get('lists', 0)} "
            f"| {s.get('users', 0):,} | {s.get('accepted', 0):,} "
            f"| {s['maps_written']} | {s['clusters_refit']} | {s['journal_bytes'] / 1024:.0f} "
            f"| {s['fds']} |"
        )
    if not samples:
        print("\nno samples")
        return 1

    checks: list[tuple[str, bool]] = []
    cap = int(config.get("list_cap", LIST_CAP))
    duration = samples[-1]["elapsed_s"]
    warmup = float(config.get("warmup_minutes", 15)) * 60
    note = ""
    if duration < 2 * warmup:  # a short trial run: the first third is its warm-up
        warmup, note = duration / 3, " (run shorter than twice the warm-up: its first third)"
    after = [s for s in samples if s["elapsed_s"] > warmup]
    k = min(3, max(1, len(after) // 2))
    print(f"\nWarm-up: the first {warmup / 60:.1f} min{note}; comparing the mean of the first")
    print(f"{k} samples after it with the mean of the last {k} ({len(after)} samples after it).")
    if len(after) >= 2:
        first, last = after[:k], after[-k:]
        for label, key, gate in (
            ("total RSS", lambda s: mb(s.get("rss_total_kb", 0)), True),
            ("Redis used_memory", lambda s: s.get("redis_used_memory", 0) / MB, True),
            ("total PSS", lambda s: mb(s.get("pss_total_kb", 0)), False),
            ("daemon main RSS", lambda s: mb(s.get("rss_kb", {}).get("daemon", 0)), False),
            ("workers RSS", lambda s: mb(s.get("rss_kb", {}).get("workers", 0)), False),
            ("analysis RSS", lambda s: mb(s.get("rss_kb", {}).get("analysis", 0)), False),
            ("Redis used_memory_rss", lambda s: s.get("redis_used_memory_rss", 0) / MB, False),
        ):
            text, flat = growth(label, [key(s) for s in first], [key(s) for s in last])
            if gate:
                checks.append((f"{text}: {'flat' if flat else 'GROWING'}", flat))
            else:
                print(f"  (info) {text}")
        # What is still filling up after the warm-up: bounded, but not yet at its bound.
        a, b = first[0], last[-1]
        print(
            f"  (info) lists at cap {a.get('lists_at_cap', '?')}/{a.get('lists')} -> "
            f"{b.get('lists_at_cap', '?')}/{b.get('lists')}, list entries "
            f"{a.get('list_entries', 0):,} -> {b.get('list_entries', 0):,} (cap {cap:,} "
            f"each); recent-user window {a.get('users', 0):,} -> {b.get('users', 0):,} users "
            f"(max_users {config.get('max_users', MAX_USERS):,})"
        )
    else:
        checks.append(("not enough samples after the warm-up to judge", False))

    lines = [s.get("accepted", 0) + s.get("skipped", 0) for s in samples]
    overall = lines[-1] / duration if duration else 0.0
    if len(samples) >= 2:
        span = samples[-1]["elapsed_s"] - samples[0]["elapsed_s"]
        steady = (lines[-1] - lines[0]) / span
    else:
        steady = overall
    rate_ok = rate > 0 and abs(steady - rate) <= RATE_TOLERANCE * rate
    checks.append(
        (
            f"posts/s (accepted+skipped): {steady:,.1f} between the first and last samples, "
            f"{overall:,.1f} over {duration / 60:.1f} min including start-up; rate {rate:g}",
            rate_ok,
        )
    )
    maps_interval = float(config.get("maps_interval", MAPS_INTERVAL))
    refit_interval = float(config.get("refit_interval", REFIT_INTERVAL))
    # The issue asks for >= 100 maps and >= 10 refits in an hour, 5/6 of the 120 and 12 the
    # intervals give; a run of another length is held to 5/6 of its own expected counts.
    expect_maps = duration // maps_interval
    expect_refits = 0 if duration < FIRST_REFIT else 1 + (duration - FIRST_REFIT) // refit_interval
    want_maps = max(1, math.floor(expect_maps * 5 / 6)) if expect_maps else 0
    want_refits = max(1, math.floor(expect_refits * 5 / 6)) if expect_refits else 0
    maps, refits = samples[-1]["maps_written"], samples[-1]["clusters_refit"]
    checks.append((f"map exports: {maps} (want >= {want_maps})", maps >= want_maps))
    checks.append((f"cluster refits: {refits} (want >= {want_refits})", refits >= want_refits))
    longest = max(samples[-1].get("list_lengths", {}).values(), default=0)
    checks.append((f"longest list {longest:,} <= list_cap {cap:,}", longest <= cap))

    if end is None:
        checks.append(("no end record: the run is still going (or was killed)", False))
    else:
        if end.get("early_exit"):
            checks.append((f"stopped early: {end['early_exit']}", False))
        code = end.get("daemon_exit_code")
        checks.append(
            (
                f"daemon exit code after SIGTERM: {code} (in {end.get('stop_seconds', '?')} s"
                f"{', TIMED OUT' if end.get('stop_timeout') else ''})",
                code == 0 and not end.get("stop_timeout"),
            )
        )
        problems = end.get("log_problems", 0)
        checks.append((f"warning/error/non-JSON lines in the daemon log: {problems}", not problems))
        checks.append((f"redis-server exit code: {end.get('redis_exit_code')}", True))
        checks.append((f"journal after exit: {end.get('journal_bytes_after_exit', 0)} bytes", True))

    print("\nVerdict:")
    for text, ok in checks:
        print(f"- [{'ok' if ok else 'FAIL'}] {text}")
    if end is not None and end.get("problem_lines"):
        print("\nDaemon log problems (first lines):")
        for line in end["problem_lines"][:20]:
            print(f"    {line}")
    passed = all(ok for _, ok in checks)
    print(f"\nOverall: {'PASS' if passed else 'FAIL'}")
    return 0 if passed else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=1000.0, help="demo posts per second")
    parser.add_argument("--sample-seconds", type=float, default=60.0)
    parser.add_argument("--warmup-minutes", type=float, default=15.0)
    parser.add_argument(
        "--list-cap", type=int, default=LIST_CAP, help="[redis] list_cap (default: the product's)"
    )
    parser.add_argument(
        "--max-users", type=int, default=MAX_USERS, help="[clusters] max_users (the product's)"
    )
    parser.add_argument(
        "--out", default="/tmp/tweetheat-soak.jsonl", help="JSON-lines file of samples"
    )
    parser.add_argument(
        "--report", action="store_true", help="print the table of an existing --out and exit"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir at the end")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    if args.report:
        return report(Path(args.out))
    if not TWEETHEAT.exists():
        print(f"{TWEETHEAT} is missing: run `make setup` first", file=sys.stderr)
        return 2
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
