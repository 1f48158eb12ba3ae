"""Read what the maps need from the store, in one place, for the daemon and `tweetheat maps`."""

from __future__ import annotations

from analysis.heatmaps import LanguageSummary
from streamer.config import MapsSettings
from streamer.storage.store import Store


async def collect_summaries(store: Store, maps: MapsSettings) -> list[LanguageSummary]:
    counts = await store.language_counts()
    langs = list(counts)
    tops = await store.top_hashtags(langs, n=maps.top_hashtags, window=maps.top_window)
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
            )
        )
    return summaries
