"""What the running daemon tells the outside: `/healthz`, `/metrics` and systemd's STATUS line.

Everything here reads state the pipeline already keeps (counters, queue depths, the committer's
view of Redis); nothing pings Redis or waits, because a scrape must not slow ingest down.
Source URLs and settings never appear: they may hold credentials.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from prometheus_client import Metric
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily

from streamer.runtime.enrichment import EnrichmentStats
from streamer.runtime.http_api import Health, histogram_family

if TYPE_CHECKING:
    from streamer.runtime.analyst import Analyst
    from streamer.runtime.metrics import Metrics
    from streamer.runtime.pipeline import Pipeline

# A live source reports one of these states; replays and the demo have no connection at all.
_CONNECTED_STATES = frozenset({"streaming"})


_Family = TypeVar("_Family", CounterMetricFamily, GaugeMetricFamily)


def counter(name: str, help: str, value: float) -> CounterMetricFamily:
    """Exposed as `<name>_total` (prometheus-client adds it; a name ending in it keeps one)."""
    return CounterMetricFamily(name, help, value=value)


def gauge(name: str, help: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, help, value=value)


def by_label(
    kind: type[_Family], name: str, help: str, label: str, values: Mapping[str, float]
) -> _Family:
    """A counter or gauge with one sample per value of `label`, in sorted order. The values
    are the daemon's own words (skip reasons, queue names), never settings or URLs."""
    family = kind(name, help, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family


def located_family(located: Mapping[tuple[str, str], int]) -> CounterMetricFamily:
    """Posts since start by language and by the evidence that located them (`source`: exact,
    place, profile, bio, or none): a source's located share is its count over the language's
    sum. Two labels, so not `by_label`; the values are language codes and fixed words."""
    family = CounterMetricFamily(
        "tweetheat_posts_located",
        "Posts by language and the evidence that located them (exact, place, profile, bio, none).",
        labels=["lang", "source"],
    )
    for (lang, source), value in sorted(located.items()):
        family.add_metric([lang, source], value)
    return family


def analysis_families(m: Metrics) -> Iterable[Metric]:
    """Map exports and refits: the same series whether ingest runs beside them or not."""
    yield counter("tweetheat_maps_written", "Map exports finished.", m.maps_written)
    yield gauge("tweetheat_map_export_seconds", "Duration of the last map export.", m.maps_seconds)
    # trends
    yield gauge(
        "tweetheat_trend_compute_seconds", "Duration of the last trend scoring.", m.trend_seconds
    )
    yield gauge(
        "tweetheat_trend_tags_tracked",
        "Distinct (language, tag) pairs in the buckets the last scoring read.",
        m.trend_tags,
    )
    yield gauge("tweetheat_trend_keys", "Trend keys in Redis (last sample).", m.trend_keys)
    yield gauge(
        "tweetheat_trend_memory_bytes",
        "MEMORY USAGE of the trend keys, summed (sampled every few minutes).",
        m.trend_key_bytes,
    )
    yield by_label(
        CounterMetricFamily,
        "tweetheat_trend_posts_dropped",
        "Posts left out of the trend counts by the pool: late within their batch, or undated "
        "(the total, with posts behind the event clock, is trend_late in `status`).",
        "reason",
        m.trend_dropped,
    )
    yield counter("tweetheat_cluster_refits", "Bio-cluster refits finished.", m.clusters_refit)
    yield gauge(
        "tweetheat_cluster_refit_seconds", "Duration of the last cluster refit.", m.refit_seconds
    )


class DaemonHealth:
    """The HealthProvider of one pipeline (see streamer.runtime.http_api)."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.started_at = time.time()

    def _stream(self) -> dict[str, Any]:
        stats = getattr(self.pipeline.source, "stats", None)
        as_dict = getattr(stats, "as_dict", None)
        return dict(as_dict()) if callable(as_dict) else {}

    def health(self) -> Health:
        p = self.pipeline
        stream = self._stream()
        connected = not stream or stream.get("state") in _CONNECTED_STATES
        committer = p.committer
        down_since = committer.redis_down_since
        details: dict[str, Any] = {
            "source": p.source.name,
            "eof": p.eof,
            "backlog_batches": committer.backlog,
            "journal_bytes": committer.journal.unacked_bytes,
            "uptime_s": round(time.time() - self.started_at, 1),
        }
        if stream:
            details["stream_state"] = stream.get("state")
        if down_since is not None:
            details["redis_down_s"] = round(time.monotonic() - down_since, 1)
        return Health(
            source_connected=connected,
            redis_reachable=down_since is None,
            pool_alive=p.pool_alive,
            lag_seconds=current_lag(p),
            details=details,
        )

    def metric_families(self) -> Iterable[Metric]:
        p = self.pipeline
        m = p.metrics
        c = p.committer
        yield counter("tweetheat_lines_read", "Lines read from the source.", m.lines_read)
        yield counter("tweetheat_posts_accepted", "Posts stored with a language.", m.accepted)
        yield by_label(
            CounterMetricFamily,
            "tweetheat_posts_skipped",
            "Input skipped, by reason (bad JSON, deletes, no text ...).",
            "reason",
            m.skipped,
        )
        yield by_label(
            CounterMetricFamily,
            "tweetheat_posts_trimmed",
            "Posts stored with a field cut or dropped by an input cap, by cap.",
            "reason",
            m.trimmed,
        )
        yield located_family(m.located)
        yield by_label(
            GaugeMetricFamily,
            "tweetheat_posts_per_second",
            "Posts read (in) and finished (out) per second over the last status interval.",
            "direction",
            {"in": m.rate_in, "out": m.rate_out},
        )
        yield counter(
            "tweetheat_batches_committed", "Batches applied in Redis.", m.committed_batches
        )
        yield counter(
            "tweetheat_commit_retries", "Commits retried while Redis was down.", c.retries
        )
        yield counter(
            "tweetheat_batches_resent",
            "Batches sent again from the journal because Redis lost them.",
            c.resent,
        )
        yield counter(
            "tweetheat_batches_lost",
            "Batches Redis lost that the journal no longer held (logged as batches_lost).",
            c.lost,
        )
        yield gauge("tweetheat_backlog_batches", "Batches journaled, not yet in Redis.", c.backlog)
        yield gauge(
            "tweetheat_journal_bytes",
            "Bytes of journaled batches Redis has not acknowledged.",
            c.journal.unacked_bytes,
        )
        yield gauge(
            "tweetheat_redis_up",
            "1 when the last commit reached Redis.",
            c.redis_down_since is None,
        )
        yield by_label(
            GaugeMetricFamily,
            "tweetheat_queue_depth",
            "Items waiting in the pipeline's bounded queues.",
            "queue",
            p.queue_depths(),
        )
        yield gauge("tweetheat_pool_alive", "1 while the detector pool is up.", p.pool_alive)
        yield counter(
            "tweetheat_pool_restarts", "Detector pools replaced after a crash.", m.pool_restarts
        )
        yield gauge(
            "tweetheat_lag_seconds",
            "Read-to-commit time of the newest batch; grows while batches wait for Redis.",
            current_lag(p),
        )
        yield histogram_family(
            "tweetheat_read_to_commit_seconds",
            "Seconds from a post's read to its batch's commit.",
            m.latency,
        )
        yield from analysis_families(m)
        yield counter(
            "tweetheat_users_dropped",
            "Bios not remembered because Redis was slow.",
            m.users_dropped,
        )
        enricher = getattr(p, "enricher", None)
        if enricher is not None:  # Bluesky profile enrichment
            yield from enrichment_families(enricher.stats)
        stream = self._stream()
        if stream:
            yield counter(
                "tweetheat_stream_connects",
                "Connections made to the live stream.",
                stream["connects"],
            )
            yield by_label(
                CounterMetricFamily,
                "tweetheat_stream_disconnects",
                "Live-stream disconnections (each followed by a reconnect), by reason.",
                "reason",
                {
                    key.split(":", 1)[1]: value
                    for key, value in stream.items()
                    if key.startswith("disconnects:")
                },
            )
            yield counter(
                "tweetheat_stream_stalls", "Streams dropped for silence.", stream.get("stalls", 0)
            )
        yield gauge(
            "tweetheat_start_time_seconds", "Unix time the daemon started.", self.started_at
        )


def current_lag(pipeline: Pipeline) -> float:
    """The last batch's read-to-commit time, or, while batches wait, the time since the last
    commit: a wedged writer or a Redis outage shows as a growing lag, not a frozen one."""
    m = pipeline.metrics
    if pipeline.committer.backlog == 0:
        return m.lag_last
    if m.last_commit_at is None:  # nothing committed yet
        return max(m.lag_last, time.time() - pipeline.started_at)
    return max(m.lag_last, time.monotonic() - m.last_commit_at)


# A writer with batches waiting this long while Redis answers is wedged: let systemd restart us.
WEDGED_SECONDS = 120.0


def watchdog_healthy(pipeline: Pipeline) -> bool:
    """Whether to keep pinging systemd's watchdog. A Redis outage is not a reason to stop:
    the journal rides it out, and a restart would not bring Redis back."""
    if not pipeline.pool_alive:
        return False
    if pipeline.committer.redis_down_since is not None:
        return True
    return current_lag(pipeline) < WEDGED_SECONDS


def status_text(pipeline: Pipeline) -> str:
    """One line for `systemctl status`: rate, totals, and whether Redis keeps up."""
    m = pipeline.metrics
    c = pipeline.committer
    redis = "redis down, journaling" if c.redis_down_since is not None else "redis ok"
    lag = current_lag(pipeline)
    shown = f"{lag:.1f}s" if math.isfinite(lag) else "?"
    return (
        f"{m.rate_in:.0f} posts/s in, {m.accepted} stored, {sum(m.skipped.values())} skipped; "
        f"{redis}, backlog {c.backlog} batches, lag {shown}"
    )


class AnalystHealth:
    """The HealthProvider of an analyze-only daemon: its lag is how overdue the maps are."""

    def __init__(self, analyst: Analyst, interval: float) -> None:
        self.analyst = analyst
        self.interval = interval
        self.started = time.monotonic()
        self.started_at = time.time()

    def overdue(self) -> float:
        last = self.analyst.last_export or self.started
        return max(0.0, time.monotonic() - last - self.interval)

    def health(self) -> Health:
        m = self.analyst.metrics
        return Health(
            source_connected=True,  # it reads no source
            redis_reachable=True,  # an unreachable Redis shows as overdue maps
            pool_alive=self.analyst.alive,
            lag_seconds=self.overdue(),
            details={"role": "analyze", "maps_written": m.maps_written},
        )

    def metric_families(self) -> Iterable[Metric]:
        yield from analysis_families(self.analyst.metrics)
        yield gauge(
            "tweetheat_maps_overdue_seconds",
            "How far the next map export is behind its interval.",
            self.overdue(),
        )
        yield gauge(
            "tweetheat_start_time_seconds", "Unix time the daemon started.", self.started_at
        )


def enrichment_families(stats: EnrichmentStats) -> Iterable[Metric]:
    """Bluesky profile enrichment (`streamer.runtime.enrichment`), when it runs."""
    yield by_label(
        CounterMetricFamily,
        "tweetheat_profile_lookups",
        "Bluesky author DIDs by what became of their profile lookup: requested (offered by "
        "the pipeline), fetched (answered by the AppView), cached (looked up within the TTL), "
        "dropped (the lookup queue was full), failed (the request failed).",
        "outcome",
        {
            "requested": stats.requested,
            "fetched": stats.fetched,
            "cached": stats.cached,
            "dropped": stats.dropped,
            "failed": stats.failed,
        },
    )
    yield by_label(
        CounterMetricFamily,
        "tweetheat_profile_requests",
        "getProfiles requests sent to the AppView, and those answered 429 (rate-limited).",
        "answer",
        {"any": stats.requests, "rate_limited": stats.rate_limited},
    )
    yield counter(
        "tweetheat_profiles_missing",
        "Looked-up DIDs the AppView no longer knows (cached as such).",
        stats.missing,
    )
    yield counter(
        "tweetheat_accounts_removed",
        "Bluesky accounts that stopped being active, removed from the user window.",
        stats.removed,
    )
    yield gauge(
        "tweetheat_profile_lookup_queue", "DIDs waiting for a profile lookup.", stats.queue_depth
    )
    yield gauge(
        "tweetheat_profile_lookup_paused_seconds",
        "How long lookups still wait for the AppView's rate limit or a back-off.",
        stats.paused_s,
    )
    yield gauge(
        "tweetheat_users_with_bio",
        "Users in the recent-user window (every one has a bio).",
        stats.users_with_bio,
    )
