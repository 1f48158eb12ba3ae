"""Trend counts on the commit path: the batch's commit applies them, once, with the event clock
kept in Redis. Checked against the pure model (`EventClock` + `merge_capped`) on a real Redis
and on a real local Redis Cluster, through the real committers and their journal."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.asyncio import Redis

from streamer.core.records import Detected
from streamer.core.trend_counts import BatchCounts, EventClock, aggregate, bucket_iso, merge_capped
from streamer.core.trend_packing import language_part, pack_counts, unpack_counts
from streamer.delivery.cluster_committer import ClusterCommitter
from streamer.delivery.committer import Committer
from streamer.delivery.journal import Journal
from streamer.storage.keys import Keys
from streamer.storage.redis_cluster import cluster_client
from streamer.storage.store import ALREADY_APPLIED, APPLIED, Store
from streamer.storage.trend_store import TrendKeys, TrendSettings, read_lang
from tests.cluster_helpers import LocalCluster

T0 = 1539172800  # 2018-10-10T12:00:00Z
LANGS = ("en", "es", "ja")
SETTINGS = TrendSettings(top_k=5, retention_seconds=3 * 3600, lateness_seconds=300)

Post = tuple[str, str, tuple[str, ...], tuple[float, float] | None]


def stream(seed: int, minutes: int = 40, per_minute: int = 30) -> list[Post]:
    """Posts in arrival order: mostly on time, some a few minutes late (kept), some 10-20
    minutes late (dropped), a tag vocabulary larger than top_k (the cap evicts)."""
    rng = random.Random(seed)
    out: list[Post] = []
    for m in range(minutes):
        for _ in range(per_minute):
            lag = rng.choice((0, 0, 0, 0, 1, 3, 12, 20)) if m > 20 else 0
            stamp = bucket_iso(T0 + 60 * max(0, m - lag))[:-1] + f"{rng.randrange(60):02d}Z"
            stamp = stamp[:17] + stamp[-3:]
            tags = tuple({f"t{rng.randrange(9)}" for _ in range(rng.randrange(3))})
            geo = (round(rng.uniform(-60, 60), 3), round(rng.uniform(-100, 100), 3))
            out.append((rng.choice(LANGS), stamp, tags, geo if rng.random() < 0.2 else None))
    return out


def batches(posts: list[Post], size: int = 37) -> Iterator[tuple[list[Detected], BatchCounts]]:
    for i in range(0, len(posts), size):
        part = posts[i : i + size]
        records = [Detected(lang, tags, geo, None) for lang, _, tags, geo in part]
        yield records, aggregate([(lang, at, tags) for lang, at, tags, _ in part])


def model(posts: list[Post], per_language_clock: bool = False) -> tuple[dict[Any, Any], int]:
    """What Redis must hold: {lang: {bucket: {tag: n}}} and the posts counted late."""
    clocks: dict[str, EventClock] = {}
    held: dict[str, dict[int, dict[str, int]]] = {}
    late = 0
    for records, counts in batches(posts):
        if per_language_clock:  # a cluster: one clock per language, moved by its parts
            late += counts.late
            for lang in sorted({r.lang for r in records}):
                part = unpack_counts(language_part(pack_counts(counts), lang))
                admitted = clocks.setdefault(lang, EventClock(300)).admit(part)
                late += admitted.late
                for (lg, bucket), tags in admitted.tags.items():
                    cell = held.setdefault(lg, {}).setdefault(bucket, {})
                    merge_capped(cell, tags, SETTINGS.top_k)
        else:
            admitted = clocks.setdefault("", EventClock(300)).admit(counts)
            late += admitted.late
            for (lg, bucket), tags in admitted.tags.items():
                merge_capped(held.setdefault(lg, {}).setdefault(bucket, {}), tags, SETTINGS.top_k)
    return held, late


async def commit_all(committer: Committer, posts: list[Post]) -> None:
    for n, (records, counts) in enumerate(batches(posts)):
        counters = {"accepted": len(records)}
        await committer.submit(records, counters, {"n": n}, time.monotonic(), pack_counts(counts))
    assert await committer.drain(60)


async def run_committer(committer: Committer, posts: list[Post]) -> None:
    await committer.recover()
    task = asyncio.create_task(committer.run())
    try:
        await commit_all(committer, posts)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        committer.journal.close()


def held_in(client: Any, cluster: bool) -> dict[str, dict[int, dict[str, int]]]:
    keys = TrendKeys("tweetheat:", cluster)
    return {lang: read_lang(client, keys, lang).tags for lang in LANGS}


def test_commits_apply_trend_counts_once_as_the_model_says(redis_url: str, tmp_path: Path) -> None:
    posts = stream(3)
    want, want_late = model(posts)

    async def go() -> None:
        client = Redis.from_url(redis_url, decode_responses=True)
        store = Store(client, Keys("tweetheat:"), trends=SETTINGS)
        await run_committer(Committer(store, Journal(tmp_path / "j", 64 << 20), "r"), posts)
        # A batch sent again (a retry after a lost answer) is refused whole: nothing counts twice.
        records, counts = next(batches(posts))
        again = await store.commit_batch("r", 1, records, {}, None, trends=pack_counts(counts))
        assert again.status == ALREADY_APPLIED
        counters = await store.pipeline_counters()
        assert counters["trend_late"] == want_late > 0
        await client.aclose()

    asyncio.run(go())
    sync = redis.Redis.from_url(redis_url)
    assert held_in(sync, False) == {lang: want.get(lang, {}) for lang in LANGS}
    assert int(sync.hget("tweetheat:trend:clock", "r")) == max(
        b for lang in want for b in want[lang]
    )
    # Points per tag: every point of a geotagged post with the tag, newest last.
    en_t1 = [
        geo for lang, _, tags, geo in posts if lang == "en" and "t1" in tags and geo is not None
    ]
    stored = [tuple(map(float, p.strip(b"[]").split(b",")[:2])) for p in sync.lrange(
        "tweetheat:trend:en:points:t1", 0, -1)]  # fmt: skip
    assert stored == en_t1[-SETTINGS.tag_points :]


def test_a_restart_continues_the_clock_from_redis(redis_url: str, tmp_path: Path) -> None:
    """Split the stream over two daemon runs (new store, committer and journal): the counts
    equal one uninterrupted run's, late posts included."""
    posts = stream(5)
    want, want_late = model(posts)
    half = 37 * 16

    async def go() -> None:
        client = Redis.from_url(redis_url, decode_responses=True)
        for part, journal in ((posts[:half], "j1"), (posts[half:], "j2")):
            store = Store(client, Keys("tweetheat:"), trends=SETTINGS)
            await run_committer(Committer(store, Journal(tmp_path / journal, 64 << 20), "r"), part)
        assert (await store.pipeline_counters())["trend_late"] == want_late
        await client.aclose()

    asyncio.run(go())
    assert held_in(redis.Redis.from_url(redis_url), False) == {
        lang: want.get(lang, {}) for lang in LANGS
    }


def test_a_batch_behind_the_clock_is_late_and_a_wrong_typed_key_refuses_it_whole(
    redis_url: str,
) -> None:
    async def go() -> None:
        client = Redis.from_url(redis_url, decode_responses=True)
        store = Store(client, Keys("tweetheat:"), trends=SETTINGS)
        ahead = aggregate([("en", bucket_iso(T0 + 3600), ("x",))])
        assert (await store.commit_batch("r", 1, [Detected("en", ("x",), None)], {},
                trends=pack_counts(ahead))).status == APPLIED  # fmt: skip
        behind = aggregate([("en", bucket_iso(T0), ("y",))] * 4)
        await store.commit_batch("r", 2, [Detected("en", ("y",), None)] * 4, {},
                                 trends=pack_counts(behind))  # fmt: skip
        assert (await store.pipeline_counters())["trend_late"] == 4
        assert await store.trend_buckets("en") == {T0 + 3600: {"x": 1}}
        await client.set(f"tweetheat:trend:en:{T0 + 3600}", "not a zset")
        with pytest.raises(redis.exceptions.ResponseError, match="WRONGTYPE"):
            await store.commit_batch("r", 3, [Detected("en", ("x",), None)], {"accepted": 1},
                                     trends=pack_counts(ahead))  # fmt: skip
        assert (await store.checkpoint("r")).seq == 2  # type: ignore[union-attr]
        assert "accepted" not in await store.pipeline_counters()
        await client.aclose()

    asyncio.run(go())


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    local = LocalCluster(tmp_path_factory.mktemp("cluster") / "nodes").start()
    try:
        yield local
    finally:
        local.stop()


def test_cluster_commits_apply_trend_counts_per_language_once(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    cluster.flush()
    posts = stream(4)
    want, want_late = model(posts, per_language_clock=True)

    async def go() -> None:
        client = cluster_client(cluster.url)
        store = Store(client, Keys("tweetheat:", cluster=True), trends=SETTINGS)
        committer = ClusterCommitter(store, Journal(tmp_path / "j", 64 << 20), "r")
        await run_committer(committer, posts)
        assert (await store.pipeline_counters())["trend_late"] == want_late > 0
        for lang in LANGS:
            assert await store.trend_buckets(lang) == want.get(lang, {}), lang
        stored = [(lat, lon) for lat, lon, _ in await store.tag_points("en", "t1", 10_000)]
        assert stored == [
            g for lang, _, tags, g in posts if lang == "en" and "t1" in tags and g is not None
        ]
        await client.aclose()

    asyncio.run(go())
