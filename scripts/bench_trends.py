#!/usr/bin/env python3
"""Replay a trend dev set (scripts/trend_devset.py) through the trend engine and score it.

In process, as the daemon would see it: posts in arrival order, cut into batches, each batch
aggregated (`aggregate`, the pool's step), admitted by the watermark (`EventClock`, the
commit's step) and merged into capped buckets (`merge_capped`, what Redis does). Every bucket
is scored (`analysis.trends.trending`) as soon as the watermark makes it final, i.e. every
minute of event time. Then:

  recall      share of injected bursts reported within 5 event-time minutes of onset
  precision   share of reported (tag, lang, episode) matching an injected burst
  delay       event time from onset to the end of the first bucket that reported it
  same        identical reports for order A in batches of 500, order A in random batches
              (a full-speed replay vs a paced one) and order B (other arrival jitter)
  count cost  `aggregate` time per post
  redis       the same batches applied through trend_store to a real redis-server on a unix
              socket, read back and scored: same reports; then trend-key memory under a
              flood of ever-new random tags

    python scripts/trend_devset.py --out /tmp/trend-dev
    python scripts/bench_trends.py --data /tmp/trend-dev
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.trends import Trend, TrendParams, trending
from streamer.core.records import Post
from streamer.core.trend_counts import (
    BatchCounts,
    EventClock,
    aggregate,
    bucket_iso,
    bucket_of,
    merge_capped,
)
from streamer.ingest.parser import parse_payload
from streamer.storage import trend_store

Record = tuple[str, str | None, tuple[str, ...]]
State = dict[str, dict[int, dict[str, int]]]
Reports = list[tuple[int, str, list[Trend]]]

PARAMS = TrendParams()
SETTINGS = trend_store.TrendSettings()
LATENESS = 300


def load(path: Path) -> list[Record]:
    with path.open("rb") as fh:
        return records_of_lines(fh)


def records_of_lines(lines: Iterable[bytes]) -> list[Record]:
    """What the trend engine reads of each post the product's parser makes of the lines."""
    records: list[Record] = []
    for line in lines:
        post = parse_payload(line)
        if isinstance(post, Post):
            records.append((post.platform_lang or "und", post.created_at, post.hashtags))
    return records


def chunks(records: list[Record], sizes: Iterator[int]) -> Iterator[list[Record]]:
    i = 0
    while i < len(records):
        n = next(sizes)
        yield records[i : i + n]
        i += n


def fixed(n: int) -> Iterator[int]:
    while True:
        yield n


def random_sizes(seed: int, lo: int = 1, hi: int = 2000) -> Iterator[int]:
    rng = random.Random(seed)
    while True:
        yield rng.randint(lo, hi)


class Run:
    """One replay: the counts it holds and the reports it made, bucket by bucket."""

    def __init__(self, params: TrendParams, client: redis.Redis | None = None) -> None:
        self.params = params
        self.clock = EventClock(LATENESS)
        self.state: State = {}
        self.reports: Reports = []
        self.scored_through: int | None = None
        self.aggregate_seconds = 0.0
        self.apply_seconds = 0.0
        self.posts = 0
        self.late = 0
        self.client = client
        self.pruned_at: int | None = None
        self.prune_seconds = 0.0
        self.apply_cpu = 0.0
        self.prunes = 0

    def feed(self, batch: list[Record]) -> None:
        t0 = time.perf_counter()
        counts: BatchCounts = aggregate(batch, lateness_seconds=LATENESS)
        self.aggregate_seconds += time.perf_counter() - t0
        self.posts += len(batch)
        admitted = self.clock.admit(counts)
        self.late += admitted.late + counts.undated
        for (lang, bucket), tags in admitted.tags.items():
            held = self.state.setdefault(lang, {}).setdefault(bucket, {})
            merge_capped(held, tags, SETTINGS.top_k)
        if self.client is not None:
            # The clock is saved and old buckets pruned only when it moved: once a bucket.
            moved = self.clock.newest != self.pruned_at
            self.pruned_at = self.clock.newest
            keys = trend_store.TrendKeys()
            t0, c0 = time.perf_counter(), time.process_time()
            trend_store.apply(self.client, keys, admitted, SETTINGS)
            t1 = time.perf_counter()
            self.apply_cpu += time.process_time() - c0
            if moved and self.clock.newest is not None:
                trend_store.prune(self.client, keys, self.clock.newest, SETTINGS)
                self.prunes += 1
            self.apply_seconds += t1 - t0
            self.prune_seconds += time.perf_counter() - t1
        final = self.clock.final_through()
        if final is not None:
            self.score_through(final)

    def score_through(self, final: int) -> None:
        start = self.scored_through
        if start is None:
            start = min(min(b) for b in self.state.values() if b) - 60
        for at in range(start + 60, final + 1, 60):
            for lang in sorted(self.state):
                found = trending(self.state[lang], at, self.params)
                if found:
                    self.reports.append((at, lang, found))
        self.scored_through = max(final, start)

    def finish(self) -> None:
        if self.clock.newest is not None:
            self.score_through(self.clock.newest)


def replay(
    records: list[Record],
    sizes: Iterator[int],
    params: TrendParams = PARAMS,
    client: redis.Redis | None = None,
) -> Run:
    run = Run(params, client)
    for batch in chunks(records, sizes):
        run.feed(batch)
    run.finish()
    return run


def episodes(reports: Reports, gap: int = 600) -> list[dict[str, Any]]:
    """Reports of one (lang, tag) less than `gap` seconds apart form one episode."""
    seen: dict[tuple[str, str], list[int]] = {}
    for at, lang, found in reports:
        for trend in found:
            seen.setdefault((lang, trend["tag"]), []).append(at)
    out: list[dict[str, Any]] = []
    for (lang, tag), times in sorted(seen.items()):
        first = last = times[0]
        for t in [*times[1:], None]:
            if t is not None and t - last <= gap:
                last = t
                continue
            out.append({"lang": lang, "tag": tag, "first": first, "last": last})
            if t is not None:
                first = last = t
    return out


def evaluate(reports: Reports, truth: dict[str, Any]) -> dict[str, Any]:
    eps = episodes(reports)
    bursts = truth["bursts"]
    onset_of = {(b["lang"], b["tag"]): b for b in bursts}
    matched_eps = 0
    delays: list[float] = []
    first_delay: dict[tuple[str, str], float] = {}
    by_start: set[tuple[str, str]] = set()  # the reporting bucket *starts* within 5 minutes
    detected: set[tuple[str, str]] = set()
    false_eps: list[dict[str, Any]] = []
    for ep in eps:
        burst = onset_of.get((ep["lang"], ep["tag"]))
        if burst is not None:
            onset = bucket_of(burst["onset"]) or 0
            end = onset + 60 * (burst["duration_min"] + 5)
            if onset - 120 <= ep["first"] <= end:
                matched_eps += 1
                delay = ep["first"] + 60 - onset  # the first report's bucket is complete
                if (ep["lang"], ep["tag"]) not in first_delay:
                    first_delay[(ep["lang"], ep["tag"])] = delay / 60
                    delays.append(delay / 60)
                    if delay <= 300:
                        detected.add((ep["lang"], ep["tag"]))
                    if delay <= 360:
                        by_start.add((ep["lang"], ep["tag"]))
                continue
        false_eps.append(ep)
    perennial = {(p["lang"], p["tag"]) for p in truth["perennial"] + truth["drift"]}
    # Persistence: of the minutes from onset + 5 to the burst's end, the share reported.
    reported_at = {(lang, t["tag"], at) for at, lang, found in reports for t in found}
    inside = hit = 0
    for b in bursts:
        onset = bucket_of(b["onset"]) or 0
        for at in range(onset + 300, onset + 60 * b["duration_min"], 60):
            inside += 1
            hit += (b["lang"], b["tag"], at) in reported_at
    return {
        "bursts": len(bursts),
        "recall_5min": len(detected) / len(bursts) if bursts else 0.0,
        "recall_5min_bucket_start": len(by_start) / len(bursts) if bursts else 0.0,
        "reported_at_all": len({(e["lang"], e["tag"]) for e in eps} & set(onset_of)) / len(bursts),
        "episodes": len(eps),
        "burst_minutes_reported": hit / inside if inside else 0.0,
        "precision": matched_eps / len(eps) if eps else 1.0,
        "delay_median_min": statistics.median(delays) if delays else None,
        "delay_max_min": max(delays) if delays else None,
        "false": [
            {**e, "first": bucket_iso(e["first"]), "last": bucket_iso(e["last"])} for e in false_eps
        ],
        "perennial_or_drift_reported": sorted(
            f"{lang}/{tag}" for lang, tag in {(e["lang"], e["tag"]) for e in eps} & perennial
        ),
        "delay_by_kind": {
            kind: sorted(
                first_delay.get((b["lang"], b["tag"]), -1.0) for b in bursts if b["kind"] == kind
            )
            for kind in sorted({b["kind"] for b in bursts})
        },
        "missed": sorted(
            f"{b['lang']}/{b['tag']} ({b['kind']})"
            for b in bursts
            if (b["lang"], b["tag"]) not in detected
        ),
    }


def start_redis(workdir: Path) -> tuple[subprocess.Popen[bytes], redis.Redis]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed")
    sock = workdir / "redis.sock"
    proc = subprocess.Popen(
        [binary, "--port", "0", "--unixsocket", str(sock), "--save", "", "--appendonly", "no",
         "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis(unix_socket_path=str(sock))
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            return proc, client
        except (redis.ConnectionError, FileNotFoundError):
            if time.monotonic() > deadline:
                proc.terminate()
                raise
            time.sleep(0.05)


def trend_key_bytes(client: redis.Redis) -> tuple[int, int, int]:
    """(keys, bytes by MEMORY USAGE, zset members) of every trend key."""
    keys = members = total = 0
    for name in client.scan_iter(match="tweetheat:trend:*", count=1000):
        keys += 1
        total += int(client.memory_usage(name, samples=0) or 0)
        if client.type(name) == b"zset" and not name.endswith(b":buckets"):
            members += int(client.zcard(name))
    return keys, total, members


def flood(
    client: redis.Redis, minutes: int, per_minute: int, settings: trend_store.TrendSettings
) -> list[str]:
    """Ever-new random tags in one language; trend-key memory every 10 event minutes."""
    client.flushall()
    keys = trend_store.TrendKeys()
    clock = EventClock(LATENESS)
    rng = random.Random(3)
    base = 1539172800  # 2018-10-10T12:00:00Z
    lines = []
    for minute in range(minutes):
        stamp = bucket_iso(base + 60 * minute)
        batch = [
            ("en", stamp, (f"r{rng.getrandbits(48):x}", "endaily0")) for _ in range(per_minute)
        ]
        for i in range(0, len(batch), 500):
            admitted = clock.admit(aggregate(batch[i : i + 500], lateness_seconds=LATENESS))
            trend_store.apply(
                client, keys, admitted, settings, newest=clock.newest if i == 0 else None
            )
        if (minute + 1) % 10 == 0:
            n, size, members = trend_key_bytes(client)
            used = int(client.info("memory")["used_memory"])
            lines.append(
                f"| {minute + 1} | {(minute + 1) * per_minute} | {n} | {members} | "
                f"{size / 1e6:.2f} | {used / 1e6:.1f} |"
            )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--flood-minutes", type=int, default=60)
    ap.add_argument("--flood-per-minute", type=int, default=3000)
    ap.add_argument("--flood-retention-minutes", type=int, default=20)
    ap.add_argument("--flood-top-k", type=int, default=SETTINGS.top_k)
    ap.add_argument("--min-score", type=float, default=PARAMS.min_score)
    ap.add_argument("--min-ratio", type=float, default=PARAMS.min_ratio)
    ap.add_argument("--window", type=int, default=PARAMS.window)
    ap.add_argument("--short-window", type=int, default=PARAMS.short_window)
    ap.add_argument("--no-redis", action="store_true", help="the in-process part only")
    ap.add_argument("--json", type=Path, help="write the full result here")
    args = ap.parse_args()
    params = dataclasses.replace(
        PARAMS,
        min_score=args.min_score,
        min_ratio=args.min_ratio,
        window=args.window,
        short_window=args.short_window,
    )
    truth = json.loads((args.data / "truth.json").read_text())

    t0 = time.perf_counter()
    order_a = load(args.data / "stream_a.ndjson")
    order_b = load(args.data / "stream_b.ndjson")
    print(f"parsed {len(order_a)} + {len(order_b)} posts in {time.perf_counter() - t0:.1f} s")
    # Half a million parsed posts sit in this process (a daemon holds none of them): keep the
    # cyclic GC from rescanning them on every collection, which would bill it to the code timed.
    gc.collect()
    gc.freeze()

    t0 = time.perf_counter()
    run_a = replay(order_a, fixed(500), params)
    wall_a = time.perf_counter() - t0
    run_paced = replay(order_a, random_sizes(11), params)
    run_b = replay(order_b, fixed(100), params)
    result = evaluate(run_a.reports, truth)
    same = run_a.reports == run_paced.reports == run_b.reports and (
        run_a.state == run_paced.state == run_b.state
    )

    # Count cost alone: aggregate over the whole stream in batches of 500, best of 3.
    best = min(_time_aggregate(order_a, 500) for _ in range(3))
    result.update(
        {
            "posts": len(order_a),
            "late_or_undated": run_a.late,
            "identical_orders_and_chunkings": same,
            "aggregate_us_per_post": best * 1e6 / len(order_a),
            "replay_and_score_seconds": wall_a,
            "score_evaluations": (run_a.scored_through or 0) // 60,
        }
    )

    if args.no_redis:
        _print(result, args)
        return
    workdir = Path(tempfile.mkdtemp(prefix="th-trend-", dir="/tmp"))
    proc, client = start_redis(workdir)
    try:
        trend_store.ensure_script(client)
        run_r = replay(order_a, fixed(500), params, client)
        keys = trend_store.TrendKeys()
        read = {
            lang: trend_store.read_lang(client, keys, lang).tags
            for lang in trend_store.read_langs(client, keys)
        }
        rescored: Reports = []
        ats = sorted({at for b in read.values() for at in b})
        for at in ats:
            for lang in sorted(read):
                found = trending(read[lang], at, params)
                if found:
                    rescored.append((at, lang, found))
        result["redis_counts_equal"] = read == run_r.state
        result["redis_reports_equal"] = rescored == run_a.reports
        result["redis_apply_us_per_post"] = run_r.apply_seconds * 1e6 / run_r.posts
        result["redis_apply_cpu_us_per_post"] = run_r.apply_cpu * 1e6 / run_r.posts
        result["redis_prune_ms_per_call"] = run_r.prune_seconds * 1e3 / max(1, run_r.prunes)
        stats = client.info("commandstats")
        result["redis_server_us_per_post"] = (
            sum(v["usec"] for k, v in stats.items() if k.startswith("cmdstat_")) / run_r.posts
        )
        result["redis_trend_bytes_devset"] = trend_key_bytes(client)[1]
        result["flood"] = flood(
            client,
            args.flood_minutes,
            args.flood_per_minute,
            trend_store.TrendSettings(
                top_k=args.flood_top_k, retention_seconds=60 * args.flood_retention_minutes
            ),
        )
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)

    _print(result, args)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


def _time_aggregate(records: list[Record], size: int) -> float:
    t0 = time.perf_counter()
    for i in range(0, len(records), size):
        aggregate(records[i : i + size], lateness_seconds=LATENESS)
    return time.perf_counter() - t0


def _print(r: dict[str, Any], args: argparse.Namespace) -> None:
    rows = [
        ("posts replayed", r["posts"]),
        ("late (beyond 5 min) or undated, dropped", r["late_or_undated"]),
        ("injected bursts", r["bursts"]),
        ("recall, reported within 5 min of onset", f"{r['recall_5min']:.0%}"),
        (
            "recall, reporting bucket starts within 5 min",
            f"{r['recall_5min_bucket_start']:.0%}",
        ),
        ("bursts reported at all", f"{r['reported_at_all']:.0%}"),
        ("reported episodes", r["episodes"]),
        ("burst minutes (onset+5 to end) reported", f"{r['burst_minutes_reported']:.0%}"),
        ("precision", f"{r['precision']:.0%}"),
        (
            "detection delay, median / max (event min)",
            f"{r['delay_median_min']} / {r['delay_max_min']}",
        ),
        ("perennial or drift tags reported", ", ".join(r["perennial_or_drift_reported"]) or "none"),
        ("identical: 2 orders x 2 chunkings", r["identical_orders_and_chunkings"]),
        ("aggregate cost, us per post (best of 3)", f"{r['aggregate_us_per_post']:.2f}"),
        ("replay + score every minute, s (in process)", f"{r['replay_and_score_seconds']:.1f}"),
    ]
    if "redis_counts_equal" in r:
        rows += [
            ("redis: counts read back equal", r["redis_counts_equal"]),
            ("redis: reports from redis equal", r["redis_reports_equal"]),
            ("redis: apply, us per post (unix socket)", f"{r['redis_apply_us_per_post']:.2f}"),
            ("redis: apply, client CPU us per post", f"{r['redis_apply_cpu_us_per_post']:.2f}"),
            (
                "redis-server CPU, all trend commands, us per post",
                f"{r['redis_server_us_per_post']:.2f}",
            ),
            ("redis: prune, ms per call (once a bucket)", f"{r['redis_prune_ms_per_call']:.2f}"),
            ("redis: trend keys after dev set, MB", f"{r['redis_trend_bytes_devset'] / 1e6:.2f}"),
        ]
    print("| measure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    if r["missed"]:
        print("missed:", ", ".join(r["missed"]))
    for ep in r["false"]:
        print("unmatched episode:", ep)
    print("first-report delay by kind, event minutes (-1: never):", r["delay_by_kind"])
    if "flood" not in r:
        return
    print(
        f"\nflood: {args.flood_per_minute} new tags/min in one language, retention "
        f"{args.flood_retention_minutes} min, top_k {args.flood_top_k}"
    )
    print("| event min | new tags | trend keys | zset members | MEMORY USAGE MB | used_memory MB |")
    print("|---|---|---|---|---|---|")
    print("\n".join(r["flood"]))


if __name__ == "__main__":
    main()
