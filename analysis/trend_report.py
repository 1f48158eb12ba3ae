""" "Trending now" as the CLI, the notebook API and the live page ask for it: the stored
event-time counts (`Store.trend_buckets`) scored by `analysis.trends`.

Scoring reads only `[at - span_seconds, at]` of each language, so the work per answer is
bounded by the window and history, whatever the retention.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from analysis.trends import Trend, TrendParams, span_seconds, trending
from streamer.config import TrendSettings
from streamer.core.trend_counts import bucket_iso
from streamer.storage.store import Store

__all__ = ["final_bucket", "tag_timeline", "trend_params", "trends_report"]


def trend_params(t: TrendSettings) -> TrendParams:
    """The scoring parameters of `[trends]`."""
    return TrendParams(
        bucket_seconds=t.bucket_seconds,
        window=t.window,
        history=t.history,
        half_life=t.half_life,
        min_support=t.min_support,
        min_ratio=t.min_ratio,
        min_score=t.min_score,
        min_history=t.min_history,
        short_window=t.short_window,
    )


def final_bucket(newest: int | None, t: TrendSettings) -> int | None:
    """The newest bucket no late post can change any more (`EventClock.final_through`):
    scoring it gives the same answer live, at full replay speed and after the stream ended."""
    if newest is None:
        return None
    return newest - t.lateness_seconds - t.bucket_seconds


async def trends_report(
    store: Store,
    t: TrendSettings,
    *,
    langs: Sequence[str] | None = None,
    n: int = 10,
    at: int | None = None,
) -> tuple[int | None, dict[str, list[Trend]]]:
    """(the event time answered, {lang: up to `n` trends, strongest first}). `at` (Unix
    seconds) defaults to the newest final bucket; every language asked gets a list, empty
    when nothing trends."""
    chosen = list(langs) if langs else await store.trend_languages()
    if at is None:
        at = final_bucket(await store.trend_clock(chosen), t)
    if at is None:
        return None, {lang: [] for lang in chosen}
    params = trend_params(t)
    at -= at % params.bucket_seconds
    out: dict[str, list[Trend]] = {}
    for lang in chosen:
        buckets = await store.trend_buckets(lang, at - span_seconds(params), at)
        out[lang] = trending(buckets, at, params)[:n]
    return at, out


async def tag_timeline(
    store: Store, tag: str, langs: Sequence[str] | None = None
) -> dict[str, list[tuple[str, int]]]:
    """{lang: [(bucket ISO time, count)]} of `tag` over the retained buckets; languages
    where the tag never appears are left out."""
    chosen = list(langs) if langs else await store.trend_languages()
    out: dict[str, list[tuple[str, int]]] = {}
    for lang in chosen:
        line = await store.trend_timeline(lang, tag)
        if langs or any(count for _, count in line):
            out[lang] = [(bucket_iso(b), c) for b, c in line]
    return out


def as_json(report: dict[str, list[Trend]]) -> dict[str, list[dict[str, Any]]]:
    return {lang: [dict(t) for t in rows] for lang, rows in report.items()}
