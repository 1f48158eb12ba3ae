"""Bluesky profile enrichment: bios for the authors of Jetstream posts, beside ingest.

Jetstream posts carry only their author's DID. After each batch the pipeline hands the
authors' DIDs to `Enricher.offer`, which never waits: they join a bounded, de-duplicated queue
(when it is full they are dropped and counted; the author's next post offers them again). A
task in the daemon's event loop takes up to 25 at a time, skips those looked up within the TTL
(`streamer.storage.profile_cache`, in Redis, so a restart does not ask again), asks the AppView
for the rest (`streamer.sources.appview`) within a request budget, and writes the bios to the
recent-user window the clustering reads (`Store.update_users`), as v1.1 and v2 posts bring
theirs. Bios that may name a place ("📍 Lisbon", "based in Osaka") are also kept here (at most
PLACED_BIOS_SIZE, the newest), and the pipeline sends each batch the ones of its authors
(`placed_bios`): the workers' geolocation places those authors' later posts by them, as it
places a v1.1 post by its author's bio. An author's posts before the lookup answered stay
unplaced.

The AppView's rate limit is honoured: a 429 or a `RateLimit-Remaining: 0` pauses lookups until
`RateLimit-Reset`; 5xx answers and network errors back off on the schedule the live sources
use (`streamer.sources.reconnect`). Nothing here can slow ingest down: the pipeline only calls
`offer`, which is a few dictionary operations.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from redis.exceptions import RedisError

from streamer.config import Settings
from streamer.core.logs import RateLimitedLog, get_logger
from streamer.core.records import UserSeen
from streamer.ingest.geolocate import bio_may_name_place
from streamer.runtime.periodic import cancel_all
from streamer.sources.appview import MAX_ACTORS, AppViewClient, AppViewError, ProfilesAnswer
from streamer.sources.jetstream import event_authors
from streamer.sources.reconnect import Backoff, Reason, ReconnectPolicy
from streamer.storage.profile_cache import ProfileCache
from streamer.storage.store import Store

__all__ = ["Enricher", "Enrichment", "EnrichmentStats", "enrichment_wanted", "start_enrichment"]

log = get_logger("streamer.enrichment")

MEMO_SIZE = 100_000  # DIDs this process queued lately: re-offers of them cost no Redis call
PLACED_BIOS_SIZE = 20_000  # bios that may name a place, for the workers (a few MB at most)
MAX_PAUSE_S = 3600.0  # a RateLimit-Reset further away than this is not believed
GAUGE_INTERVAL_S = 10.0


@dataclass
class EnrichmentStats:
    """Counters since start (DIDs unless named otherwise), for status and /metrics."""

    requested: int = 0  # DIDs offered by the pipeline (posting authors)
    queued: int = 0  # DIDs that joined the lookup queue
    cached: int = 0  # offered or taken, but looked up within the TTL: not fetched
    dropped: int = 0  # not queued: the queue was full
    fetched: int = 0  # answered by the AppView (with a profile or as unknown)
    missing: int = 0  # of the fetched: DIDs the AppView no longer knows
    bios: int = 0  # of the fetched: profiles with a bio, written to the user window
    failed: int = 0  # in a request that failed (network, 5xx, timeout, bad answer)
    requests: int = 0  # getProfiles requests sent
    rate_limited: int = 0  # requests answered 429
    removed: int = 0  # accounts that stopped being active, taken out of the window
    queue_depth: int = 0
    users_with_bio: int = 0  # users in the recent-user window (each has a bio)
    placed_bios: int = 0  # bios kept for the workers' geolocation (they may name a place)
    paused_s: float = 0.0  # how long lookups still wait for the rate limit or a back-off

    def status_fields(self) -> dict[str, Any]:
        return {f"enrich_{name}": value for name, value in asdict(self).items()}


class Enricher:
    def __init__(
        self,
        client: AppViewClient,
        cache: ProfileCache,
        store: Store,
        *,
        rate: float = 5.0,
        queue_size: int = 10_000,
        ttl_s: float = 86_400.0,
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.client = client
        self.cache = cache
        self.store = store
        self.interval = 1.0 / rate
        self.queue_size = queue_size
        self.ttl_s = ttl_s
        self.stats = EnrichmentStats()
        self.policy = ReconnectPolicy(backoff, rng)
        self._queue: OrderedDict[str, None] = OrderedDict()  # a bounded, ordered set
        self._memo: OrderedDict[str, float] = OrderedDict()  # did -> monotonic expiry
        self._gone: list[str] = []
        self._placed: OrderedDict[str, str] = OrderedDict()  # did -> bio, oldest first
        self._wake = asyncio.Event()
        self._busy = False  # a lookup or a removal is under way
        self._pause_until = 0.0  # wall-clock seconds, like RateLimit-Reset
        self._next_request = 0.0  # monotonic
        self._wall = wall
        self._monotonic = monotonic
        self._sleep = sleep
        self._log = RateLimitedLog(log, interval=30.0)

    # --- the pipeline's side: never waits -----------------------------------------------

    def offer(self, dids: Sequence[str], gone: Sequence[str] = ()) -> None:
        """Authors of a batch's posts to look up, and accounts that stopped being active."""
        stats = self.stats
        now = self._monotonic()
        memo = self._memo
        for did in gone:
            self._queue.pop(did, None)
            memo.pop(did, None)
        if gone and len(self._gone) < self.queue_size:
            self._gone.extend(gone[: self.queue_size - len(self._gone)])
        stats.requested += len(dids)
        for did in dids:
            expiry = memo.get(did)
            if (expiry is not None and expiry > now) or did in self._queue:
                stats.cached += 1
                continue
            if len(self._queue) >= self.queue_size:
                stats.dropped += 1
                continue
            self._queue[did] = None
            stats.queued += 1
            memo[did] = now + self.ttl_s
            memo.move_to_end(did)
            if len(memo) > MEMO_SIZE:
                memo.popitem(last=False)
        stats.queue_depth = len(self._queue)
        if self._queue or self._gone:
            self._wake.set()

    def placed_bios(self, parts: Sequence[bytes | Sequence[bytes]]) -> dict[str, str] | None:
        """The kept bios (those that may name a place) of the authors of a batch's events,
        for the workers' geolocation; None when there are none (then nothing is scanned)."""
        placed = self._placed
        if not placed:
            return None
        found: dict[str, str] = {}
        for part in parts:
            for did in event_authors(part):
                bio = placed.get(did)
                if bio is not None:
                    found[did] = bio
        return found or None

    def _remember_bio(self, did: str, bio: str | None) -> None:
        """Keep an author's bio if it may name a place, else forget any older one of theirs."""
        placed = self._placed
        if bio and bio_may_name_place(bio):
            placed[did] = bio
            placed.move_to_end(did)
            if len(placed) > PLACED_BIOS_SIZE:
                placed.popitem(last=False)
        else:
            placed.pop(did, None)
        self.stats.placed_bios = len(placed)

    # --- the lookup task ----------------------------------------------------------------

    async def run(self) -> None:
        await asyncio.gather(self._lookups(), self._gauges())

    async def _gauges(self) -> None:
        while True:
            with contextlib.suppress(RedisError, OSError):
                self.stats.users_with_bio = await self.cache.users_with_bio()
            self.stats.paused_s = round(max(0.0, self._pause_until - self._wall()), 3)
            await self._sleep(GAUGE_INTERVAL_S)

    async def _lookups(self) -> None:
        while True:
            await self._wake.wait()
            self._busy = True
            try:
                if self._gone:
                    await self._forget_gone()
                if not self._queue:
                    self._wake.clear()
                    continue
                await self._wait_out_pause()
                wanted = await self._take()
                if wanted:
                    await self._pace()
                    await self._lookup(wanted)
            except (RedisError, OSError) as exc:
                self._log.warning("redis", "enrichment_redis_error", error=str(exc))
                await self._sleep(1.0)
            except Exception as exc:  # a bug here must cost lookups, never the daemon
                self._log.warning("bug", "enrichment_error", error=f"{type(exc).__name__}: {exc}")
                await self._sleep(1.0)
            finally:
                self._busy = False

    @property
    def idle(self) -> bool:
        return not (self._queue or self._gone or self._busy)

    async def drain(self, timeout: float) -> bool:
        """Wait until every queued lookup is done (a replay that reached its end), at most
        `timeout` seconds; whether it got there."""
        deadline = time.monotonic() + timeout
        while not self.idle and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return self.idle

    async def _forget_gone(self) -> None:
        gone, self._gone = self._gone, []
        for did in gone:
            self._remember_bio(did, None)
        await self.cache.forget(gone)
        self.stats.removed += len(gone)

    async def _wait_out_pause(self) -> None:
        while (left := self._pause_until - self._wall()) > 0:
            self.stats.paused_s = round(left, 3)
            await self._sleep(min(left, 1.0))
        self.stats.paused_s = 0.0

    async def _take(self) -> list[str]:
        """Up to 25 queued DIDs that nobody looked up within the TTL, claimed in Redis."""
        wanted: list[str] = []
        while self._queue and len(wanted) < MAX_ACTORS:
            chunk: list[str] = []
            while self._queue and len(chunk) < MAX_ACTORS - len(wanted):
                chunk.append(self._queue.popitem(last=False)[0])
            claimed = await self.cache.claim(chunk)
            self.stats.cached += len(chunk) - len(claimed)
            wanted += claimed
            if len(claimed) < len(chunk):
                # Looked up within the TTL (by an earlier run, or another daemon): the cached
                # bios are this process's to keep for the workers too.
                held = set(claimed)
                cached = await self.cache.cached_bios([d for d in chunk if d not in held])
                for did, bio in cached.items():
                    self._remember_bio(did, bio)
        self.stats.queue_depth = len(self._queue)
        return wanted

    async def _pace(self) -> None:
        """At most `rate` requests a second."""
        now = self._monotonic()
        start = max(self._next_request, now)
        self._next_request = start + self.interval
        if start > now:
            await self._sleep(start - now)

    async def _lookup(self, wanted: list[str]) -> None:
        self.stats.requests += 1
        try:
            answer = await self.client.get_profiles(wanted)
        except AppViewError as exc:
            await self._failed(wanted, exc)
            return
        self.policy.on_data()
        await self._keep(answer)
        limits = answer.rate_limit
        if limits.remaining == 0 and limits.reset is not None:
            self._pause(limits.reset, "budget_spent")

    async def _keep(self, answer: ProfilesAnswer) -> None:
        found = [(p.did, p.handle, p.display_name, p.description) for p in answer.profiles]
        await self.cache.store(found, answer.missing)
        for p in answer.profiles:
            self._remember_bio(p.did, p.description)
        for did in answer.missing:
            self._remember_bio(did, None)
        users = [
            UserSeen(p.did, p.handle or p.display_name, p.description, None)
            for p in answer.profiles
            if p.description is not None and p.description.strip()
        ]
        await self.store.update_users(users, self._wall())
        self.stats.fetched += len(found) + len(answer.missing)
        self.stats.missing += len(answer.missing)
        self.stats.bios += len(users)

    async def _failed(self, wanted: list[str], exc: AppViewError) -> None:
        await self.cache.release(wanted)
        if exc.reason is Reason.RATE_LIMITED:
            # Not the DIDs' fault: they go back to the front of the queue.
            self.stats.rate_limited += 1
            for did in reversed(wanted):
                self._queue[did] = None
                self._queue.move_to_end(did, last=False)
            while len(self._queue) > self.queue_size:
                self._memo.pop(self._queue.popitem()[0], None)
                self.stats.dropped += 1
            reset = exc.rate_limit.reset
            if reset is None or reset <= self._wall():
                reset = self._wall() + self.policy.on_disconnect(exc.reason)
            self._pause(reset, "rate_limited")
            return
        self.stats.failed += len(wanted)
        for did in wanted:
            self._memo.pop(did, None)  # the author's next post may try again
        delay = self.policy.on_disconnect(exc.reason)
        self._pause(self._wall() + delay, exc.reason.value, error=str(exc), status=exc.status)

    def _pause(self, until: float, why: str, **detail: Any) -> None:
        until = min(until, self._wall() + MAX_PAUSE_S)
        self._pause_until = max(self._pause_until, until)
        self._log.warning(
            why,
            "enrichment_paused",
            reason=why,
            seconds=round(max(0.0, until - self._wall()), 1),
            **detail,
        )


def enrichment_wanted(settings: Settings) -> bool:
    """Posts with bare DIDs can arrive: Jetstream, its demo, or a replay (of anything: a v1.1
    replay simply offers no DIDs). Only useful while the user window is kept."""
    s = settings.source
    jetstream_input = s.kind in ("jetstream", "replay") or (
        s.kind == "demo" and s.demo_format == "jetstream"
    )
    return (
        jetstream_input
        and settings.live.jetstream_enrich
        and settings.clusters.enabled
        and settings.pipeline.role != "analyze"
    )


@dataclass
class Enrichment:
    """A running enricher: its task, and the demo's stand-in AppView when there is one."""

    enricher: Enricher
    task: asyncio.Task[None]
    stand_in: Any = None  # streamer.sources.demo_appview.DemoAppView

    async def close(self, drain_s: float = 0.0) -> None:
        """Stop, after up to `drain_s` seconds for the lookups still queued."""
        if drain_s > 0 and not self.enricher.idle:
            left = self.enricher.stats.queue_depth
            log.info("enrichment_draining", queued=left, max_seconds=drain_s)
            if not await self.enricher.drain(drain_s):
                log.warning("enrichment_not_drained", queued=self.enricher.stats.queue_depth)
        await cancel_all([self.task])  # redis-py can swallow a cancellation: until it ends
        await self.enricher.client.close()
        log.info("enrichment_stopped", **self.enricher.stats.status_fields())
        if self.stand_in is not None:
            await self.stand_in.close()


async def start_enrichment(settings: Settings, store: Store) -> Enrichment | None:
    """The daemon's enricher, started; None when it is not wanted. The Jetstream demo gets a
    local stand-in AppView on 127.0.0.1 (never a live source: that asks the real one)."""
    if not enrichment_wanted(settings):
        return None
    live = settings.live
    url = live.jetstream_appview_url
    stand_in = None
    if settings.source.kind == "demo":
        from streamer.sources.demo_appview import DemoAppView

        stand_in = await DemoAppView.start()
        url = stand_in.url
    client = AppViewClient(url, timeout=live.jetstream_lookup_timeout)
    ttl_s = live.jetstream_profile_ttl_hours * 3600
    enricher = Enricher(
        client,
        ProfileCache(store.redis, store.keys, ttl_s),
        store,
        rate=live.jetstream_lookups_per_second,
        queue_size=live.jetstream_lookup_queue,
        ttl_s=ttl_s,
    )
    log.info(
        "enrichment_started",
        appview="local demo stand-in" if stand_in else url,
        per_second=live.jetstream_lookups_per_second,
        ttl_h=live.jetstream_profile_ttl_hours,
    )
    return Enrichment(enricher, asyncio.create_task(enricher.run()), stand_in)
