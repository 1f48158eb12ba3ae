"""Read what the maps need from the store, in one place, for the daemon and `tweetheat maps`."""

from __future__ import annotations

from analysis.heatmaps import LanguageSummary
from analysis.trend_panel import read_trend_input
from streamer.config import MapsSettings, TrendSettings
from streamer.storage.store import Store


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
        timed = await store.timed_points(lang, maps.points)
        times = tuple(t for _, _, t in timed if t is not None)
        summaries.append(
            LanguageSummary(
                lang=lang,
                tweets=c.tweets,
                geo=c.geo,
                hashtags=c.hashtags,
                top_hashtags=tuple(tops.get(lang, [])),
                points=tuple((lat, lon) for lat, lon, _ in timed),
                # Real times only when every point has one (entries stored before times were
                # kept have none): else the live page spreads the points over the hour.
                point_times=times if len(times) == len(timed) else None,
                trends=None
                if trends is None or newest is None
                else await read_trend_input(
                    store, trends, lang, [t for t, _ in tops.get(lang, [])], newest
                ),
            )
        )
    return summaries
