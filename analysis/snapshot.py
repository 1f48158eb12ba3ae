"""Read what the maps need from the store, in one place, for the daemon and `tweetheat maps`."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from analysis.summaries import LanguageSummary
from analysis.trend_panel import read_trend_input
from streamer.config import MapsSettings, TrendSettings
from streamer.storage.store import GeoPoint, Store

# Exact points are rare (about 1 post in 100 on a real stream): a language's exact layer looks
# this many times further back than `maps.points` to find its most recent ones.
EXACT_LOOKBACK = 25


async def collect_summaries(
    store: Store, maps: MapsSettings, trends: TrendSettings | None = None
) -> list[LanguageSummary]:
    counts = await store.language_counts()
    langs = list(counts)
    tops = await store.top_hashtags(langs, n=maps.top_hashtags, window=maps.top_window)
    # trends: one clock for all languages (the newest bucket any instance committed)
    newest = await store.trend_clock(langs) if trends is not None and trends.enabled else None
    summaries = []
    for lang in langs:
        c = counts[lang]
        scanned = await store.geo_points(lang, maps.points * EXACT_LOOKBACK)
        chosen = newest_of_each_layer(scanned, maps.points)
        times = tuple(p.t for p in chosen if p.t is not None)
        inferred_km = [p.precision_km for p in chosen if p.source != "exact"]
        summaries.append(
            LanguageSummary(
                lang=lang,
                tweets=c.tweets,
                geo=c.geo,
                hashtags=c.hashtags,
                top_hashtags=tuple(tops.get(lang, [])),
                points=tuple((p.lat, p.lon) for p in chosen),
                # Real times only when every point has one (entries stored before times were
                # kept have none): else the live page spreads the points over the hour.
                point_times=times if len(times) == len(chosen) else None,
                point_sources=tuple(p.source for p in chosen),
                inferred_precision_km=statistics.median(inferred_km) if inferred_km else None,
                trends=None
                if trends is None or newest is None
                else await read_trend_input(
                    store, trends, lang, [t for t, _ in tops.get(lang, [])], newest
                ),
            )
        )
    return summaries


def newest_of_each_layer(points: Sequence[GeoPoint], n: int) -> list[GeoPoint]:
    """The `n` newest exact points and the `n` newest inferred ones, in their stored order."""
    keep: set[int] = set()
    for exact in (True, False):
        picked = [i for i, p in enumerate(points) if (p.source == "exact") is exact]
        keep.update(picked[-n:])
    return [p for i, p in enumerate(points) if i in keep]
