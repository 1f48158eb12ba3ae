"""The live page's "Trending now" panel: what it reads from the store and what it draws.

`read_trend_input` runs in the daemon's event loop with the other reads (I/O only: the
buckets of the scoring span and the point lists of candidate tags); `panel_data` runs in the
analysis process with the rest of the page (the scoring is CPU work, kept out of the event loop).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from analysis.summaries import LanguageSummary
from analysis.trend_report import final_bucket, trend_params
from analysis.trends import TrendParams, span_seconds, trending
from streamer.config import TrendSettings
from streamer.core.trend_counts import bucket_iso
from streamer.storage.store import Store

__all__ = ["TrendInput", "panel_data", "read_trend_input", "score_trends"]

SPARK_BUCKETS = 60  # a sparkline shows the last hour of a tag
CANDIDATES = 64  # tags whose points ride in the page beside the top hashtags
TAG_POINTS = 400  # points per tag on the page


@dataclass(frozen=True)
class TrendInput:
    """One language's trend data as read for the page."""

    at: int  # the bucket scored (the newest final one)
    params: TrendParams
    top: int  # trends shown
    buckets: dict[int, dict[str, int]] = field(default_factory=dict)
    tag_points: dict[str, tuple[tuple[float, float], ...]] = field(default_factory=dict)


def candidates(buckets: dict[int, dict[str, int]], at: int, p: TrendParams) -> list[str]:
    """Tags that could trend at `at` (window count >= min_support), busiest first: a cheap
    superset of the trends, so their points can be read before the analysis process scores."""
    window: dict[str, int] = {}
    for i in range(p.window):
        for tag, n in buckets.get(at - i * p.bucket_seconds, {}).items():
            window[tag] = window.get(tag, 0) + n
    found = [t for t, n in window.items() if n >= p.min_support]
    return sorted(found, key=lambda t: (-window[t], t))[:CANDIDATES]


async def read_trend_input(
    store: Store, t: TrendSettings, lang: str, top_tags: Iterable[str], newest: int | None
) -> TrendInput | None:
    at = final_bucket(newest, t)
    if at is None:
        return None
    p = trend_params(t)
    buckets = await store.trend_buckets(lang, at - span_seconds(p), at)
    tags = dict.fromkeys([*candidates(buckets, at, p), *top_tags])
    points = {}
    for tag in tags:
        got = await store.tag_points(lang, tag, TAG_POINTS)
        points[tag] = tuple((lat, lon) for lat, lon, _ in got)
    return TrendInput(at, p, t.top, buckets, points)


def line(
    buckets: dict[int, dict[str, int]], tag: str, first: int, last: int, step: int
) -> list[int]:
    return [buckets.get(b, {}).get(tag, 0) for b in range(first, last + 1, step)]


def panel_data(found: TrendInput | None, top_tags: Iterable[str]) -> dict[str, object] | None:
    """The panel's JSON: the trends at `at` (each with a sparkline of its last hour), and per
    clickable tag (trending or top) its points and its time line over the span read."""
    if found is None:
        return None
    p, at, step = found.params, found.at, found.params.bucket_seconds
    trends = trending(found.buckets, at, p)[: found.top]
    first = min(found.buckets, default=at)
    spark_from = at - (SPARK_BUCKETS - 1) * step
    rows = []
    for t in trends:
        rows.append({**t, "spark": line(found.buckets, t["tag"], spark_from, at, step)})
    tags = {}
    for tag in dict.fromkeys([*(t["tag"] for t in trends), *top_tags]):
        tags[tag] = {
            "points": [list(pt) for pt in found.tag_points.get(tag, ())],
            "line": line(found.buckets, tag, first, at, step),
        }
    return {
        "at": bucket_iso(at),
        "lineStart": bucket_iso(first),
        "step": step,
        "trending": rows,
        "tags": tags,
    }


def score_trends(
    summaries: list[LanguageSummary],
) -> tuple[list[LanguageSummary], dict[str, float]]:
    """The maps lane's trend job: each summary's `trends` input replaced by its panel
    (`panel_data`); with the time it took and the tags it tracked (for `/metrics`)."""
    started = time.perf_counter()
    out = []
    tracked: set[tuple[str, str]] = set()
    for s in summaries:
        found = s.trends if isinstance(s.trends, TrendInput) else None
        if found is not None:
            tracked |= {(s.lang, tag) for counts in found.buckets.values() for tag in counts}
            tops = [t for t, _ in s.top_hashtags]
            s = replace(s, trends=panel_data(found, tops))
        out.append(s)
    return out, {"seconds": time.perf_counter() - started, "tags": float(len(tracked))}
