"""Bluesky profile enrichment against a fake AppView on loopback and a real Redis."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from streamer.ingest.geolocate import bio_may_name_place
from streamer.runtime import enrichment
from streamer.runtime.enrichment import Enricher
from streamer.sources.appview import AppViewClient
from streamer.sources.jetstream_generator import demo_profile, make_did
from streamer.sources.reconnect import Backoff
from streamer.storage.connections import redis_client
from streamer.storage.keys import Keys
from streamer.storage.profile_cache import MISSING, ProfileCache
from streamer.storage.store import Store
from tests.fake_appview import FakeAppView, Refusal

KEYS = Keys("t:")


def dids(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    return [make_did(rng) for _ in range(n)]


def with_bio(did: str) -> bool:
    profile = demo_profile(did)
    return profile is not None and bool(profile.get("description"))


async def until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


Body = Callable[[Enricher, Store], Awaitable[None]]


def run_enricher(redis_url: str, appview: FakeAppView, body: Body, **options: Any) -> Enricher:
    """Start an enricher (a "daemon") on Redis and the fake AppView, run `body`, stop it."""
    options.setdefault("rate", 200.0)
    options.setdefault("backoff", Backoff(jitter=0))
    ttl = options.pop("ttl_s", 3600.0)

    async def go() -> Enricher:
        client = redis_client(redis_url)
        store = Store(client, KEYS)
        enricher = Enricher(
            AppViewClient(appview.url, timeout=options.pop("timeout", 5.0)),
            ProfileCache(client, KEYS, ttl),
            store,
            ttl_s=ttl,
            **options,
        )
        task = asyncio.create_task(enricher.run())
        try:
            await body(enricher, store)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await enricher.client.close()
            await client.aclose()
        return enricher

    return asyncio.run(go())


def test_bios_arrive_for_posting_users(redis_url: str) -> None:
    authors = dids(60)

    async def body(enricher: Enricher, store: Store) -> None:
        enricher.offer(authors)
        await until(lambda: enricher.stats.fetched == len(authors))
        for did in authors:
            record = await store.user(did)
            profile = demo_profile(did)
            if with_bio(did):
                assert record is not None and profile is not None
                assert (record.screen_name, record.bio) == (
                    profile["handle"],
                    profile["description"],
                )
            else:
                assert record is None  # no bio, or no such account: nothing to cluster
        cache = ProfileCache(store.redis, KEYS, 60)
        gone = [d for d in authors if demo_profile(d) is None]
        assert gone and all([await cache.get(d) == MISSING for d in gone])  # negative entries

    with FakeAppView() as appview:
        enricher = run_enricher(redis_url, appview, body)
    assert len(appview.asked) == 3  # 25 + 25 + 10
    assert enricher.stats.bios == sum(map(with_bio, authors))
    assert enricher.stats.missing == sum(demo_profile(d) is None for d in authors)


def test_each_did_is_fetched_at_most_once_per_ttl_across_a_restart(redis_url: str) -> None:
    first, later = dids(40, seed=1), dids(10, seed=2)

    async def offer_and_wait(enricher: Enricher, wanted: list[str], store: Store) -> None:
        offered = wanted + wanted[:5]  # repeats within a run are no new lookups either
        enricher.offer(offered)
        await until(lambda: enricher.stats.fetched + enricher.stats.cached >= len(offered))
        await asyncio.sleep(0.1)

    with FakeAppView() as appview:
        run_enricher(redis_url, appview, lambda e, s: offer_and_wait(e, first, s), ttl_s=2)
        # A new daemon: nothing in memory, the same Redis.
        again = run_enricher(
            redis_url, appview, lambda e, s: offer_and_wait(e, first + later, s), ttl_s=2
        )
        assert sorted(appview.dids_asked()) == sorted(first + later)
        assert again.stats.fetched == len(later)
        assert again.stats.cached == len(first) + 5
        time.sleep(2.1)  # the TTL passes: the next daemon asks again
        run_enricher(redis_url, appview, lambda e, s: offer_and_wait(e, first[:3], s), ttl_s=2)
        assert sorted(appview.dids_asked()) == sorted(first + later + first[:3])


def test_a_429_pauses_lookups_until_its_reset(redis_url: str) -> None:
    authors = dids(50)
    reset = int(time.time()) + 2

    async def body(enricher: Enricher, store: Store) -> None:
        enricher.offer(authors)
        await until(lambda: enricher.stats.fetched == len(authors), timeout=15)

    with FakeAppView() as appview:
        appview.refusals.append(Refusal(429, {"RateLimit-Reset": str(reset),
                                              "RateLimit-Remaining": "0"}))  # fmt: skip
        enricher = run_enricher(redis_url, appview, body)
    refused, *answered = appview.asked
    assert refused.status == 429
    assert answered and all(asked.at >= reset for asked in answered)
    assert enricher.stats.rate_limited == 1 and enricher.stats.failed == 0
    assert sorted(appview.dids_asked()) == sorted(authors)  # the refused ones were asked again


def test_a_spent_budget_pauses_until_the_reset_too(redis_url: str) -> None:
    authors = dids(30)
    reset = int(time.time()) + 2

    async def body(enricher: Enricher, store: Store) -> None:
        enricher.offer(authors)
        await until(lambda: enricher.stats.fetched == len(authors), timeout=15)

    headers = {"RateLimit-Remaining": "0", "RateLimit-Reset": str(reset)}
    with FakeAppView(headers=headers) as appview:
        run_enricher(redis_url, appview, body)
    assert len(appview.asked) == 2
    assert appview.asked[1].at >= reset


def test_the_request_budget_spaces_requests(redis_url: str) -> None:
    authors = dids(100)

    async def body(enricher: Enricher, store: Store) -> None:
        enricher.offer(authors)
        await until(lambda: enricher.stats.fetched == len(authors))

    with FakeAppView() as appview:
        run_enricher(redis_url, appview, body, rate=5.0)
    times = [asked.at for asked in appview.asked]
    assert len(times) == 4
    assert min(b - a for a, b in itertools.pairwise(times)) >= 0.18


def test_a_dead_appview_backs_off_and_releases_its_claims(redis_url: str) -> None:
    authors = dids(20)

    async def body(enricher: Enricher, store: Store) -> None:
        enricher.offer(authors)
        await until(lambda: enricher.stats.failed == len(authors))
        cache = ProfileCache(store.redis, KEYS, 60)
        assert all([await cache.get(d) is None for d in authors])  # free to try again
        assert enricher.stats.paused_s >= 0 and enricher._pause_until > time.time()
        enricher.offer(authors[:5])  # the authors post again: they are queued again
        assert enricher.stats.queued == len(authors) + 5

    with FakeAppView() as appview:
        appview.dead = True
        run_enricher(redis_url, appview, body, backoff=Backoff(http_first_s=5, jitter=0))
    assert len(appview.asked) == 1  # the back-off held the second request


def test_the_queue_stays_bounded_and_offer_never_waits(redis_url: str) -> None:
    authors = dids(2000)

    async def body(enricher: Enricher, store: Store) -> None:
        started = time.perf_counter()
        for start in range(0, len(authors), 100):
            enricher.offer(authors[start : start + 100])
            assert enricher.stats.queue_depth <= 50
        assert time.perf_counter() - started < 0.5  # dictionary work, no awaiting
        s = enricher.stats
        assert s.requested == len(authors)
        assert s.queued + s.dropped + s.cached == len(authors)
        assert s.dropped >= len(authors) - 50 - 25

    with FakeAppView(delay=2.0) as appview:
        run_enricher(redis_url, appview, body, queue_size=50)


def test_an_account_gone_loses_its_user_entry_and_cached_profile(redis_url: str) -> None:
    authors = [d for d in dids(30) if with_bio(d)][:5]

    async def body(enricher: Enricher, store: Store) -> None:
        enricher.offer(authors)
        await until(lambda: enricher.stats.fetched == len(authors))
        assert await store.user(authors[0]) is not None
        enricher.offer([], gone=[authors[0]])
        await until(lambda: enricher.stats.removed == 1)
        assert await store.user(authors[0]) is None
        assert await ProfileCache(store.redis, KEYS, 60).get(authors[0]) is None
        assert await store.user(authors[1]) is not None

    with FakeAppView() as appview:
        run_enricher(redis_url, appview, body)


def event_lines(authors: list[str]) -> list[bytes]:
    return [b'{"did":"%s","time_us":1,"kind":"commit"}' % did.encode() for did in authors]


def placed_bio(did: str) -> str | None:
    profile = demo_profile(did)
    bio = profile.get("description") if profile else None
    return bio if bio and bio_may_name_place(bio) else None


def test_bios_that_may_name_a_place_are_kept_for_the_workers(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The enricher keeps the bios with a place marker (and only those), hands a batch the
    ones of its authors, keeps them across a restart (from the profile cache), forgets an
    account that is gone, and keeps at most PLACED_BIOS_SIZE."""
    authors = dids(300)
    expected = {d: bio for d in authors if (bio := placed_bio(d)) is not None}
    assert 10 < len(expected) < len(authors) / 2  # the demo's share: about 12% of bios
    lines = event_lines(authors)

    async def fetch(enricher: Enricher, store: Store) -> None:
        assert enricher.placed_bios([lines]) is None  # nothing known yet
        enricher.offer(authors)
        await until(lambda: enricher.stats.fetched == len(authors))
        assert enricher.placed_bios([lines]) == expected
        assert enricher.placed_bios([lines[:50], b"".join(x + b"\n" for x in lines[50:])]) == (
            expected
        )  # a list of lines and a LineBlock's buffer alike
        assert enricher.stats.placed_bios == len(expected)
        gone = next(iter(expected))
        enricher.offer([], gone=[gone])
        await until(lambda: enricher.stats.removed == 1)
        assert gone not in (enricher.placed_bios([lines]) or {})

    async def restart(enricher: Enricher, store: Store) -> None:
        enricher.offer(authors)
        await until(lambda: enricher.stats.cached + enricher.stats.fetched == len(authors))
        await until(lambda: enricher.stats.placed_bios == min(len(expected), cap))

    cap = enrichment.PLACED_BIOS_SIZE

    with FakeAppView() as appview:
        run_enricher(redis_url, appview, fetch)
        asked = len(appview.dids_asked())
        # A new daemon, the same Redis: the bios come from the profile cache, but for the
        # account gone (its cached profile went with it), which this fake AppView still knows.
        again = run_enricher(redis_url, appview, restart)
        assert len(appview.dids_asked()) == asked + 1
        assert again.stats.cached == len(authors) - 1
        assert again.placed_bios([lines]) == expected
    cap = 5
    monkeypatch.setattr(enrichment, "PLACED_BIOS_SIZE", cap)
    with FakeAppView() as appview:
        small = run_enricher(redis_url, appview, restart)
    assert small.stats.placed_bios == 5
    kept = small.placed_bios([lines]) or {}
    assert len(kept) == 5 and all(expected[d] == bio for d, bio in kept.items())


def test_cached_values_the_cache_never_writes_are_read_as_nothing(redis_url: str) -> None:
    async def go() -> None:
        client = redis_client(redis_url)
        cache = ProfileCache(client, KEYS, 60)
        good, garbage, wrong_shape, wrong_types = dids(4, seed=9)
        await cache.store([(good, "h.bsky.social", "H", "📍 Lisbon")], [])
        await client.set(KEYS.profile(garbage), b"{not json")
        await client.set(KEYS.profile(wrong_shape), b'["only one"]')
        await client.set(KEYS.profile(wrong_types), b'["h", 1, {"x": 2}]')
        try:
            assert await cache.cached_bios([good, garbage, wrong_shape, wrong_types]) == {
                good: "📍 Lisbon"
            }
            for did in (garbage, wrong_shape, wrong_types):
                assert await cache.get(did) is None
        finally:
            await client.aclose()

    asyncio.run(go())
