"""Trend counts in a real Redis: what goes in comes back, capped and pruned as the model says."""

from __future__ import annotations

import asyncio
import random

import redis
import redis.asyncio

from analysis.trends import trending
from streamer.core.trend_counts import EventClock, aggregate, bucket_iso, merge_capped
from streamer.storage import trend_store
from streamer.storage.trend_store import TrendKeys, TrendSettings

T0 = 1539172800  # 2018-10-10T12:00:00Z
KEYS = TrendKeys(prefix="test:")


def _records(seed: int, minutes: int, burst_at: int | None = None) -> list:
    """Posts in time order: steady tags, a random tail, and a burst of "goal" if asked."""
    rng = random.Random(seed)
    out = []
    for m in range(minutes):
        stamp = bucket_iso(T0 + 60 * m)
        for lang, scale in (("en", 3), ("es", 1)):
            for _ in range(10 * scale):
                out.append((lang, stamp, ("daily",)))
            for _ in range(4 * scale):
                # Non-ASCII tags too: the cap breaks ties in UTF-8 byte order in Redis and in
                # code point order in Python, which must agree.
                out.append((lang, stamp, (f"{rng.choice('tñ東😀')}{rng.randrange(20)}",)))
            out.append((lang, stamp, ()))
            if burst_at is not None and lang == "en" and m >= burst_at:
                out += [(lang, stamp, ("goal",))] * 6
    return out


def _feed(client: redis.Redis, records: list, settings: TrendSettings, size: int = 97) -> dict:
    """Apply through the store and mirror in Python; returns the Python mirror."""
    clock = EventClock()
    mirror: dict = {}
    for i in range(0, len(records), size):
        admitted = clock.admit(aggregate(records[i : i + size]))
        trend_store.apply(client, KEYS, admitted, settings, newest=clock.newest)
        for (lang, bucket), tags in admitted.tags.items():
            merge_capped(mirror.setdefault(lang, {}).setdefault(bucket, {}), tags, settings.top_k)
    return mirror


def test_counts_read_back_equal_the_model_including_the_cap(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    settings = TrendSettings(top_k=6)  # smaller than the tail: the cap really evicts
    mirror = _feed(client, _records(1, 20), settings)
    assert trend_store.read_langs(client, KEYS) == ["en", "es"]
    for lang in ("en", "es"):
        back = trend_store.read_lang(client, KEYS, lang)
        assert back.tags == mirror[lang]
        assert all(len(tags) <= 6 for tags in back.tags.values())
        assert back.posts[T0] == (14 * (3 if lang == "en" else 1) + 1)
    assert sum(trend_store.read_lang(client, KEYS, "en").evicted.values()) > 0
    meta = client.hgetall(KEYS.meta("en", T0))
    assert int(meta[b"evicted_max"]) >= 1


def test_scores_from_redis_equal_scores_in_process(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    mirror = _feed(client, _records(2, 60, burst_at=55), TrendSettings())
    back = trend_store.read_lang(client, KEYS, "en").tags
    at = T0 + 60 * 59
    found = trending(back, at)
    assert [t["tag"] for t in found] == ["goal"]
    assert found == trending(mirror["en"], at)
    line = trend_store.timeline(client, KEYS, "en", "goal", start=T0 + 60 * 50)
    assert line == [(bucket_iso(T0 + 60 * m), 6 if m >= 55 else 0) for m in range(50, 60)]


def test_buckets_out_of_event_time_retention_are_deleted(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    settings = TrendSettings(retention_seconds=600)
    _feed(client, _records(3, 30), settings)
    buckets = sorted(trend_store.read_lang(client, KEYS, "en").tags)
    newest = T0 + 60 * 29
    assert buckets == list(range(newest - 600, newest + 1, 60))
    assert client.exists(KEYS.counts("en", T0), KEYS.meta("en", T0)) == 0
    ttl = client.ttl(KEYS.counts("en", newest))
    assert 0 < ttl <= 600
    assert trend_store.load_clock(client, KEYS) == newest


def test_a_redis_that_forgot_the_script_is_reloaded(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    client.script_flush()
    _feed(client, _records(4, 2), TrendSettings())
    assert trend_store.read_lang(client, KEYS, "es").posts[T0] == 15


def test_the_asyncio_client_writes_and_reads_the_same(redis_url: str) -> None:
    sync = redis.Redis.from_url(redis_url)
    mirror = _feed(sync, _records(5, 8), TrendSettings(top_k=20))
    expected = trend_store.read_lang(sync, KEYS, "en")
    sync.flushall()

    async def run() -> trend_store.LangCounts:
        client = redis.asyncio.Redis.from_url(redis_url)
        try:
            clock = EventClock()
            records = _records(5, 8)
            for i in range(0, len(records), 97):
                admitted = clock.admit(aggregate(records[i : i + 97]))
                await trend_store.apply_async(
                    client, KEYS, admitted, TrendSettings(top_k=20), newest=clock.newest
                )
            return await trend_store.read_lang_async(client, KEYS, "en")
        finally:
            await client.aclose()

    back = asyncio.run(run())
    assert back == expected
    assert back.tags == mirror["en"]


def test_cluster_key_names_share_the_language_slot() -> None:
    keys = TrendKeys(prefix="p:", cluster=True)
    names = [keys.counts("en", T0), keys.meta("en", T0), keys.buckets("en")]
    assert all("{en}" in name for name in names)
    assert TrendKeys(prefix="p:").counts("en", T0) == f"p:trend:en:{T0}"


def test_a_language_that_went_quiet_is_pruned_too(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    settings = TrendSettings(retention_seconds=600)
    records = [r for r in _records(6, 30) if r[0] == "en" or r[1] < bucket_iso(T0 + 300)]
    _feed(client, records, settings)
    assert trend_store.read_lang(client, KEYS, "es").tags == {}
    assert client.exists(KEYS.counts("es", T0)) == 0
    assert len(trend_store.read_lang(client, KEYS, "en").tags) == 11
