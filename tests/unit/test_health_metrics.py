"""The daemon's and the analyst's /metrics: every series keeps its name, type, labels and help
(dashboards and alerts are written against them), served over loopback HTTP."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import prometheus_client

from streamer.runtime.health import AnalystHealth, DaemonHealth
from streamer.runtime.http_api import HealthProvider, start_http_server
from streamer.runtime.metrics import Metrics
from tests.unit.test_http_api import parse_exposition

SECRET = "TOPSECRET-51c0de"

# (exposed name, type, label names, help): the series as they were before prometheus-client
# wrote them. Counters are exposed with "_total", in HELP and TYPE as well.
ANALYSIS_SERIES = [
    ("tweetheat_maps_written_total", "counter", (), "Map exports finished."),
    ("tweetheat_map_export_seconds", "gauge", (), "Duration of the last map export."),
    # trends
    ("tweetheat_trend_compute_seconds", "gauge", (), "Duration of the last trend scoring."),
    (
        "tweetheat_trend_tags_tracked",
        "gauge",
        (),
        "Distinct (language, tag) pairs in the buckets the last scoring read.",
    ),
    ("tweetheat_trend_keys", "gauge", (), "Trend keys in Redis (last sample)."),
    (
        "tweetheat_trend_memory_bytes",
        "gauge",
        (),
        "MEMORY USAGE of the trend keys, summed (sampled every few minutes).",
    ),
    (
        "tweetheat_trend_posts_dropped_total",
        "counter",
        ("reason",),
        "Posts left out of the trend counts by the pool: late within their batch, or undated "
        "(the total, with posts behind the event clock, is trend_late in `status`).",
    ),
    ("tweetheat_cluster_refits_total", "counter", (), "Bio-cluster refits finished."),
    ("tweetheat_cluster_refit_seconds", "gauge", (), "Duration of the last cluster refit."),
]
START = ("tweetheat_start_time_seconds", "gauge", (), "Unix time the daemon started.")
STREAM_SERIES = [
    ("tweetheat_stream_connects_total", "counter", (), "Connections made to the live stream."),
    (
        "tweetheat_stream_disconnects_total",
        "counter",
        ("reason",),
        "Live-stream disconnections (each followed by a reconnect), by reason.",
    ),
    ("tweetheat_stream_stalls_total", "counter", (), "Streams dropped for silence."),
]
DAEMON_SERIES = [
    ("tweetheat_lines_read_total", "counter", (), "Lines read from the source."),
    ("tweetheat_posts_accepted_total", "counter", (), "Posts stored with a language."),
    (
        "tweetheat_posts_skipped_total",
        "counter",
        ("reason",),
        "Input skipped, by reason (bad JSON, deletes, no text ...).",
    ),
    (
        "tweetheat_posts_trimmed_total",
        "counter",
        ("reason",),
        "Posts stored with a field cut or dropped by an input cap, by cap.",
    ),
    (
        "tweetheat_posts_located_total",
        "counter",
        ("lang", "source"),
        "Posts by language and the evidence that located them (exact, place, profile, bio, none).",
    ),
    (
        "tweetheat_posts_per_second",
        "gauge",
        ("direction",),
        "Posts read (in) and finished (out) per second over the last status interval.",
    ),
    ("tweetheat_batches_committed_total", "counter", (), "Batches applied in Redis."),
    ("tweetheat_commit_retries_total", "counter", (), "Commits retried while Redis was down."),
    (
        "tweetheat_batches_resent_total",
        "counter",
        (),
        "Batches sent again from the journal because Redis lost them.",
    ),
    (
        "tweetheat_batches_lost_total",
        "counter",
        (),
        "Batches Redis lost that the journal no longer held (logged as batches_lost).",
    ),
    ("tweetheat_backlog_batches", "gauge", (), "Batches journaled, not yet in Redis."),
    (
        "tweetheat_journal_bytes",
        "gauge",
        (),
        "Bytes of journaled batches Redis has not acknowledged.",
    ),
    ("tweetheat_redis_up", "gauge", (), "1 when the last commit reached Redis."),
    (
        "tweetheat_queue_depth",
        "gauge",
        ("queue",),
        "Items waiting in the pipeline's bounded queues.",
    ),
    ("tweetheat_pool_alive", "gauge", (), "1 while the detector pool is up."),
    ("tweetheat_pool_restarts_total", "counter", (), "Detector pools replaced after a crash."),
    (
        "tweetheat_lag_seconds",
        "gauge",
        (),
        "Read-to-commit time of the newest batch; grows while batches wait for Redis.",
    ),
    (
        "tweetheat_read_to_commit_seconds",
        "histogram",
        (),
        "Seconds from a post's read to its batch's commit.",
    ),
    *ANALYSIS_SERIES,
    ("tweetheat_users_dropped_total", "counter", (), "Bios not remembered because Redis was slow."),
    *STREAM_SERIES,
    START,
]
ANALYST_SERIES = [
    *ANALYSIS_SERIES,
    (
        "tweetheat_maps_overdue_seconds",
        "gauge",
        (),
        "How far the next map export is behind its interval.",
    ),
    START,
]
LE = ["0.005", "0.01", "0.025", "0.05", "0.075", "0.1", "0.15", "0.2", "0.25", "0.3", "0.5"]
LE += ["0.75", "1", "2.5", "5", "10", "+Inf"]


def fake_pipeline(lines_read: int = 10, live: bool = True) -> Any:
    m = Metrics(
        lines_read=lines_read,
        accepted=7,
        skipped=Counter({"bad_json": 2, "delete": 1}),
        trimmed=Counter({"hashtag_too_long": 3}),
        located=Counter({("en", "exact"): 1, ("en", "profile"): 3, ("en", "none"): 3}),
        committed_batches=3,
        pool_restarts=1,
        maps_written=2,
        users_dropped=4,
        rate_in=5.5,
        rate_out=5.0,
        lag_last=0.2,
    )
    m.trend_dropped.update({"late": 1})  # trends
    m.latency.observe(0.003, count=5)
    m.latency.observe(0.3, count=2)
    stats = {"state": "streaming", "connects": 2, "disconnects:eof": 1, "disconnects:http_503": 2}
    source = SimpleNamespace(
        name="jetstream",
        url=f"wss://user:{SECRET}@jetstream.example/subscribe?token={SECRET}",
        stats=SimpleNamespace(as_dict=lambda: stats) if live else None,
    )
    committer = SimpleNamespace(
        retries=1,
        resent=0,
        lost=0,
        backlog=0,
        journal=SimpleNamespace(unacked_bytes=0),
        redis_down_since=None,
    )
    return SimpleNamespace(
        metrics=m,
        committer=committer,
        source=source,
        pool_alive=True,
        eof=False,
        started_at=time.time(),
        queue_depths=lambda: {"raw": 1, "records": 0},
    )


def scrape(tmp_path: Path, *providers: HealthProvider) -> list[str]:
    """/metrics of each provider, all served at the same time from this process."""

    async def go() -> list[str]:
        servers = [await start_http_server(p, "127.0.0.1", 0, tmp_path / "maps") for p in providers]
        try:
            async with aiohttp.ClientSession() as session:
                texts = []
                for server in servers:
                    async with session.get(f"http://127.0.0.1:{server.port}/metrics") as r:
                        assert r.status == 200
                        texts.append(await r.text())
                return texts
        finally:
            for server in servers:
                await server.close()

    return asyncio.run(go())


def series(text: str) -> list[tuple[str, str, tuple[str, ...], str]]:
    """Our families as (name, type, label names, help), in the order they are exposed."""
    helps, types, samples = parse_exposition(text)
    out = []
    for name in helps:
        if not name.startswith("tweetheat_"):
            continue
        own = {name, f"{name}_bucket", f"{name}_sum", f"{name}_count"}
        labels = {label for n, lab, _ in samples if n in own for label in lab if label != "le"}
        out.append((name, types[name], tuple(sorted(labels)), helps[name]))
    return out


def values(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    _, _, samples = parse_exposition(text)
    return {(n, tuple(sorted(lab.items()))): float(v) for n, lab, v in samples}


def test_the_daemons_series_keep_their_names_types_labels_and_help(tmp_path: Path) -> None:
    (text,) = scrape(tmp_path, DaemonHealth(fake_pipeline()))
    assert series(text) == DAEMON_SERIES
    got = values(text)
    assert got["tweetheat_lines_read_total", ()] == 10
    assert got["tweetheat_posts_skipped_total", (("reason", "bad_json"),)] == 2
    assert got["tweetheat_posts_trimmed_total", (("reason", "hashtag_too_long"),)] == 3
    profile = (("lang", "en"), ("source", "profile"))
    assert got["tweetheat_posts_located_total", profile] == 3
    assert got["tweetheat_posts_located_total", (("lang", "en"), ("source", "none"))] == 3
    assert got["tweetheat_posts_per_second", (("direction", "in"),)] == 5.5
    assert got["tweetheat_queue_depth", (("queue", "raw"),)] == 1
    assert got["tweetheat_stream_disconnects_total", (("reason", "http_503"),)] == 2
    assert got["tweetheat_redis_up", ()] == 1
    assert got["tweetheat_start_time_seconds", ()] > 1.7e9
    _, _, samples = parse_exposition(text)
    hist = "tweetheat_read_to_commit_seconds"
    buckets = [(lab["le"], float(v)) for n, lab, v in samples if n == f"{hist}_bucket"]
    assert [le for le, _ in buckets] == LE  # "1" and "10", as the labels always read
    assert dict(buckets)["0.25"] == 5 and dict(buckets)["+Inf"] == 7
    assert got[f"{hist}_count", ()] == 7
    assert SECRET not in text


def test_a_source_without_a_stream_has_no_stream_series(tmp_path: Path) -> None:
    (text,) = scrape(tmp_path, DaemonHealth(fake_pipeline(live=False)))
    assert series(text) == [s for s in DAEMON_SERIES if s not in STREAM_SERIES]


def test_the_analysts_series_keep_their_names_types_labels_and_help(tmp_path: Path) -> None:
    metrics = Metrics(maps_written=3, trend_seconds=0.25, trend_key_bytes=4096)
    metrics.trend_dropped.update({"late": 2, "undated": 1})
    analyst = SimpleNamespace(metrics=metrics, alive=True, last_export=None)
    (text,) = scrape(tmp_path, AnalystHealth(analyst, interval=30.0))  # type: ignore[arg-type]
    assert series(text) == ANALYST_SERIES
    assert values(text)["tweetheat_maps_written_total", ()] == 3
    got = values(text)
    assert got["tweetheat_trend_compute_seconds", ()] == 0.25
    assert got["tweetheat_trend_memory_bytes", ()] == 4096
    assert got["tweetheat_trend_posts_dropped_total", (("reason", "late"),)] == 2


def test_each_server_has_a_registry_of_its_own(tmp_path: Path) -> None:
    first, second = scrape(
        tmp_path, DaemonHealth(fake_pipeline(lines_read=11)), DaemonHealth(fake_pipeline(22))
    )
    assert values(first)["tweetheat_lines_read_total", ()] == 11
    assert values(second)["tweetheat_lines_read_total", ()] == 22
    for text in (first, second):  # the process's own series, once per scrape
        assert text.count("# TYPE process_resident_memory_bytes gauge\n") == 1
        assert "python_info{" in text
    # Nothing went to prometheus-client's global registry.
    assert prometheus_client.REGISTRY.get_sample_value("tweetheat_lines_read_total") is None
