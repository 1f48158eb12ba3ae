"""The daemon's counters since start, shared by the pipeline, the analyst, status and /metrics."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from streamer.core.latency import LatencyHistogram


@dataclass
class Metrics:
    """Counters since start; the status line reports their change per interval."""

    lines_read: int = 0
    lines_done: int = 0
    accepted: int = 0
    stored: int = 0  # posts in batches Redis has taken (accepted counts them when detected)
    batches: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    trimmed: Counter[str] = field(default_factory=Counter)  # posts an input cap cut, by cap
    located: Counter[tuple[str, str]] = field(default_factory=Counter)  # (lang, geo source)
    pool_restarts: int = 0
    committed_batches: int = 0
    lag_last: float = 0.0
    last_commit_at: float | None = None  # monotonic
    lag_max: float = 0.0
    maps_written: int = 0
    record_errors: int = 0
    users_dropped: int = 0  # bios not remembered because Redis was too slow to take them
    clusters_refit: int = 0
    refit_seconds: float = 0.0  # the last refit's and map export's durations
    maps_seconds: float = 0.0
    # trends: the last scoring's duration and tags tracked, the trend keys' memory (sampled),
    # posts left out of the counts by the pool (late within their batch, or undated)
    trend_seconds: float = 0.0
    trend_tags: int = 0
    trend_keys: int = 0
    trend_key_bytes: int = 0
    trend_dropped: Counter[str] = field(default_factory=Counter)
    rate_in: float = 0.0  # posts per second over the last status interval
    rate_out: float = 0.0
    # Read-to-commit latency per post: over the whole run, and since the last status line.
    latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    latency_interval: LatencyHistogram = field(default_factory=LatencyHistogram)
