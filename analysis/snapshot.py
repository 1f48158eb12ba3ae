"""Read what the maps need from the store, in one place, for the daemon and `tweetheat maps`."""

from __future__ import annotations

from analysis.heatmaps import LanguageSummary
from streamer.config import MapsSettings
from streamer.store import Store


async def collect_summaries(store: Store, maps: MapsSettings) -> list[LanguageSummary]:
    counts = await store.language_counts()
    langs = list(counts)
    tops = await store.top_hashtags(langs, n=maps.top_hashtags, window=maps.top_window)
    summaries = []
    for lang in langs:
        c = counts[lang]
        summaries.append(
            LanguageSummary(
                lang=lang,
                tweets=c.tweets,
                geo=c.geo,
                hashtags=c.hashtags,
                top_hashtags=tuple(tops.get(lang, [])),
                points=tuple(await store.points(lang, maps.points)),
                # The store keeps no time per point yet; when it does, pass them as
                # point_times and the live page's slider shows real times, not arrival order.
            )
        )
    return summaries
