"""Redis Cluster mode against a real local cluster (scripts/redis-cluster-local.sh): hash-tagged
keys, per-language commit chains applied exactly once, parts a failover lost sent again from
the journal, counters summed over ingest instances, and the reads the CLI, maps and notebook
use."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from redis.crc import key_slot

from analysis import notebook
from analysis.snapshot import collect_summaries
from streamer.config import ConfigError, MapsSettings, RedisSettings, Settings, validate
from streamer.core.records import Detected, UserSeen
from streamer.delivery.cluster_committer import ClusterCommitter, split_by_language
from streamer.delivery.committer import Committer
from streamer.delivery.journal import Journal
from streamer.runtime.pipeline import make_committer
from streamer.storage.keys import Keys
from streamer.storage.redis_cluster import cluster_client, is_cluster_client, parse_cluster_url
from streamer.storage.store import Store, decode_point
from tests.cluster_helpers import LocalCluster

LANGS = ("en", "fr", "de", "ja", "es", "pt")


# --- no server needed --------------------------------------------------------------------


def test_cluster_urls_parse_and_validate() -> None:
    spec = parse_cluster_url("redis+cluster://10.0.0.1:7000,10.0.0.2,[::1]:7002")
    assert spec.nodes == (("10.0.0.1", 7000), ("10.0.0.2", 6379), ("::1", 7002))
    assert (spec.username, spec.password, spec.tls) == (None, None, False)
    spec = parse_cluster_url("rediss+cluster://:p%40ss@h1:1,h2:2/")
    assert (spec.password, spec.tls, spec.nodes) == ("p@ss", True, (("h1", 1), ("h2", 2)))
    assert parse_cluster_url("redis+cluster://bob:pw@h:1").username == "bob"
    for bad in ("redis+cluster://h:1/3", "redis+cluster://h:x", "redis+cluster://", "redis://h"):
        with pytest.raises(ValueError):
            parse_cluster_url(bad)

    def settings(url: str, prefix: str = "tweetheat:") -> Settings:
        return validate(replace(Settings(), redis=RedisSettings(url=url, key_prefix=prefix)))

    assert settings("redis+cluster://127.0.0.1:7000").redis.url.startswith("redis+cluster")
    assert settings("rediss+cluster://:pw@a:1,b:2").redis.url.startswith("rediss+cluster")
    with pytest.raises(ConfigError, match=r"redis\.url") as bad_port:
        settings("redis+cluster://:secret@a:99999")
    assert "secret" not in str(bad_port.value)
    with pytest.raises(ConfigError, match=r"redis\.url"):
        settings("http://a:1")
    with pytest.raises(ConfigError, match="key_prefix"):
        settings("redis+cluster://a:1", prefix="{th}:")
    assert settings("redis://a:1", prefix="{th}:").redis.key_prefix == "{th}:"


def test_cluster_key_names_share_a_slot_per_script_and_single_names_are_unchanged() -> None:
    single = Keys("tweetheat:")
    assert [single.hashtags("en"), single.geo("en"), single.stats("en"), single.seen("9")] == [
        "tweetheat:hashtag_en", "tweetheat:geo_en", "tweetheat:stats:en", "tweetheat:seen:9",
    ]  # fmt: skip
    assert [single.users, single.users_seen, single.user_cluster, single.checkpoint("r")] == [
        "tweetheat:users", "tweetheat:users:seen", "tweetheat:user_cluster",
        "tweetheat:checkpoint:r",
    ]  # fmt: skip
    assert single.instance_pipeline("r") == single.pipeline == "tweetheat:pipeline"

    k = Keys("tweetheat:", cluster=True)
    assert k.hashtags("en") == "tweetheat:hashtag_{en}"
    assert k.lang_checkpoint("ingest-1", "en") == "tweetheat:checkpoint:ingest-1:{en}"
    assert k.checkpoint("ingest-1") == "tweetheat:checkpoint:{ingest-1}"
    assert k.instance_pipeline("ingest-1") == "tweetheat:pipeline:{ingest-1}"

    def slots(*keys: str) -> set[int]:
        return {key_slot(key.encode()) for key in keys}

    for lang in LANGS:
        part = [k.lang_checkpoint("a", lang), k.stats(lang), k.hashtags(lang), k.geo(lang)]
        assert len(slots(*part, k.lang_seen(lang, "123"), k.lang_seen(lang, "{x}"))) == 1
    assert len(slots(*(k.hashtags(lang) for lang in LANGS))) > 1  # spread over the cluster
    assert len(slots(k.checkpoint("a"), k.instance_pipeline("a"))) == 1
    assert len(slots(k.users, k.users_seen, k.user_cluster)) == 1
    with pytest.raises(ValueError):
        Keys("{x}:", cluster=True)


# --- a shared cluster --------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    local = LocalCluster(tmp_path_factory.mktemp("cluster") / "nodes").start()
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture
def clean(cluster: LocalCluster) -> LocalCluster:
    cluster.flush()
    return cluster


@dataclass
class Truth:
    """What the batches sent so far must leave in Redis."""

    tweets: Counter[str] = field(default_factory=Counter)
    tags: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    points: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: defaultdict(list))
    counters: Counter[str] = field(default_factory=Counter)

    def add(self, records: Sequence[Detected], counters: dict[str, int]) -> None:
        for rec in records:
            self.tweets[rec.lang] += 1
            self.tags[rec.lang].extend(rec.hashtags)
            if rec.geo is not None:
                self.points[rec.lang].append(rec.geo)
        self.counters.update(counters)


def batch(n: int, langs: Sequence[str] = LANGS, size: int = 60) -> list[Detected]:
    out = []
    for i in range(size):
        lang = langs[(n + i) % len(langs)]
        tags = tuple(f"t{(n * 7 + i) % 13}" for _ in range(i % 3))
        geo = (round(n + i / 100, 2), round(-n - i / 100, 2)) if i % 4 == 0 else None
        out.append(Detected(lang, tags, geo, f"{n}-{i}"))
    return out


@asynccontextmanager
async def session(
    url: str, journal_dir: Path, instance: str = "ingest-1", *, dedupe: bool = False
) -> AsyncIterator[tuple[ClusterCommitter, Store]]:
    """A committer on the cluster, recovered and running; drained and closed at the end."""
    client = cluster_client(url)
    store = Store(client, Keys("tweetheat:", cluster=True), list_cap=1_000_000)
    committer = ClusterCommitter(store, Journal(journal_dir, 64 << 20), instance, dedupe=dedupe)
    await committer.recover()
    task = asyncio.create_task(committer.run())
    try:
        yield committer, store
        drained = await committer.drain(60)
        if task.done():
            task.result()  # the committer's own error, if it died
        assert drained, "the committer did not catch up"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        committer.journal.close()
        await client.aclose()


async def submit(committer: Committer, truth: Truth, n: int, **kw: Any) -> None:
    records = batch(n, **kw)
    counters = {"lines": len(records) + 1, "accepted": len(records), "skipped:delete": 1}
    truth.add(records, counters)
    await committer.submit(records, counters, {"file": "f", "offset": n}, time.monotonic())


async def assert_holds(store: Store, truth: Truth, instances: Sequence[str] = ()) -> None:
    assert await store.languages() == sorted(truth.tweets)
    counts = await store.language_counts()
    for lang, n in truth.tweets.items():
        c = counts[lang]
        assert (c.tweets, c.hashtags, c.geo) == (
            n, len(truth.tags[lang]), len(truth.points[lang]),
        ), lang  # fmt: skip
        assert await store.recent_hashtags(lang, 1_000_000) == truth.tags[lang], lang
        assert await store.points(lang, 1_000_000) == truth.points[lang], lang
    assert await store.pipeline_counters() == dict(truth.counters)


def test_batches_commit_per_language_and_every_read_works(
    clean: LocalCluster, tmp_path: Path
) -> None:
    async def go() -> None:
        truth = Truth()
        async with session(clean.url, tmp_path / "j") as (committer, store):
            assert is_cluster_client(store.redis)
            for n in range(1, 31):
                await submit(committer, truth, n)
        async with session(clean.url, tmp_path / "j") as (committer, store):
            assert committer.committed == 30
            cp = await store.checkpoint("ingest-1")
            assert cp is not None and (cp.seq, cp.position) == (30, {"file": "f", "offset": 30})
            await assert_holds(store, truth)
            for lang in LANGS:  # every chain's head: the last batch that touched it
                raw = await store.redis.hget(store.keys.lang_checkpoint("ingest-1", lang), "seq")
                assert int(raw) == max(
                    n for n in range(1, 31) if lang in split_by_language(batch(n))
                )
            assert await store.redis.smembers(store.keys.instances) == {"ingest-1"}
            memory = await store.memory()
            assert memory["used_memory"] > 0 and memory["masters"] == 3
            top = await store.top_hashtags(n=3, window=1_000_000)
            for lang in LANGS:
                ranked = sorted(Counter(truth.tags[lang]).items(), key=lambda kv: (-kv[1], kv[0]))
                assert top[lang] == ranked[:3]
            timed = await store.timed_points("en", 5)
            assert [(lat, lon) for lat, lon, _ in timed] == truth.points["en"][-5:]
            assert all(t is not None and abs(t - time.time()) < 120 for *_, t in timed)
            maps = MapsSettings(points=1_000_000, top_window=1_000_000)
            summaries = {s.lang: s for s in await collect_summaries(store, maps)}
            assert set(summaries) == set(LANGS)
            assert summaries["fr"].tweets == truth.tweets["fr"]

            await store.set_heartbeat({"pid": 1, "state": "running"})
            assert (await store.heartbeat())["state"] == "running"
            # The user window: one slot, so its Lua trim and pipelines work on a cluster.
            now = time.time()
            users = [UserSeen(str(i), f"u{i}", f"bio {i}", "en") for i in range(10)]
            await store.update_users(users[:6], now - 100)
            await store.update_users(users[6:], now)
            assert await store.user_count() == 10
            assert sorted(u for u, _ in await store.user_bios(since=now - 1)) == [
                "6",
                "7",
                "8",
                "9",
            ]
            assert len(await store.user_bios()) == 10
            await store.set_user_clusters({"7": (1, 2)})
            record = await store.user("7")
            assert record is not None and record.cluster == (1, 2) and record.bio == "bio 7"
            assert await store.trim_users(max_users=3, max_age_s=3600, now=now) == 7
            assert await store.user_count() == 3

        # The notebook API, synchronous, on the same cluster.
        nb = notebook.connect(clean.url)
        try:
            counts = nb.language_counts()
            assert {lang: c["tweets"] for lang, c in counts.items()} == dict(truth.tweets)
            assert nb.points("de", 3) == truth.points["de"][-3:]
            assert (
                nb.top_hashtags("ja", 2, window=1_000_000)
                == (sorted(Counter(truth.tags["ja"]).items(), key=lambda kv: (-kv[1], kv[0]))[:2])
            )
        finally:
            notebook.disconnect()

    asyncio.run(go())


def test_make_committer_picks_the_cluster_committer(clean: LocalCluster, tmp_path: Path) -> None:
    async def go() -> None:
        client = cluster_client(clean.url)
        try:
            store = Store(client, Keys(cluster=True))
            settings = replace(Settings(), data_dir=str(tmp_path))

            class Source:
                name = "replay"

            committer = make_committer(settings, Source(), store)  # type: ignore[arg-type]
            assert isinstance(committer, ClusterCommitter)
            assert committer.journal.keep_seconds >= 60  # outlives a failover
        finally:
            await client.aclose()

    asyncio.run(go())


def test_a_crash_between_parts_is_finished_once_and_duplicates_are_skipped(
    clean: LocalCluster, tmp_path: Path
) -> None:
    """The daemon dies after some language parts of a batch: the next run sends the batch
    again; parts already there answer "already applied" (with their duplicate count), the
    rest land, and the instance part once. A post id seen again is counted once."""

    async def go() -> None:
        truth = Truth()
        journal = tmp_path / "j"
        async with session(clean.url, journal, dedupe=True) as (committer, _):
            for n in range(1, 4):
                await submit(committer, truth, n)
        # Run 2: batch 4 repeats a post of batch 3 (a resumed stream); only two of its
        # language parts reach Redis before the "crash".
        client = cluster_client(clean.url)
        store = Store(client, Keys("tweetheat:", cluster=True), list_cap=1_000_000)
        crashed = ClusterCommitter(store, Journal(journal, 64 << 20), "ingest-1", dedupe=True)
        await crashed.recover()
        records = [*batch(4), batch(3)[0]]
        counters = {"lines": len(records), "accepted": len(records)}
        entry = await crashed.submit(records, counters, {"file": "f", "offset": 4}, 0.0)
        parts = split_by_language(entry.records)
        dup_lang = batch(3)[0].lang
        for lang in [dup_lang, next(other for other in sorted(parts) if other != dup_lang)]:
            await crashed._commit_language(lang, entry, parts[lang])
        crashed.journal.close()
        await client.aclose()
        truth.add(records[:-1], {"lines": len(records), "accepted": len(records) - 1})
        truth.counters["skipped:duplicate"] += 1

        async with session(clean.url, journal, dedupe=True) as (committer, store):
            assert committer.committed == 3 and committer.backlog == 1
            await submit(committer, truth, 5)
        async with session(clean.url, journal, dedupe=True) as (committer, store):
            await assert_holds(store, truth)
            assert committer.committed == 5

    asyncio.run(go())


async def snapshot(store: Store, keys: Sequence[str]) -> dict[str, bytes | None]:
    return {key: await store.redis.dump(key) for key in keys}


async def restore(store: Store, saved: dict[str, bytes | None]) -> None:
    """Put keys back as they were: what a replica that missed the last writes holds once it
    is promoted."""
    for key, value in saved.items():
        if value is None:
            await store.redis.delete(key)
        else:
            await store.redis.restore(key, 0, value, replace=True)


def lang_keys(store: Store, lang: str) -> list[str]:
    k = store.keys
    return [k.lang_checkpoint("ingest-1", lang), k.stats(lang), k.hashtags(lang), k.geo(lang)]


def test_parts_a_failover_lost_are_sent_again_exactly_once(
    clean: LocalCluster, tmp_path: Path
) -> None:
    """Three losses, as a promoted replica that missed the last acknowledged writes shows
    them: "en" (touched again: the next commit answers GAP), "fr" (never touched again: the
    check every 2 s finds it) and the instance's counters and checkpoint."""

    async def go() -> None:
        truth = Truth()
        async with session(clean.url, tmp_path / "j") as (committer, store):
            for n in range(1, 4):
                await submit(committer, truth, n)
            assert await committer.drain(30)
            k = store.keys
            saved = await snapshot(store, [*lang_keys(store, "en"), *lang_keys(store, "fr")])
            saved |= await snapshot(
                store, [k.checkpoint("ingest-1"), k.instance_pipeline("ingest-1")]
            )
            for n in range(4, 9):
                await submit(committer, truth, n)
            assert await committer.drain(30)
            await restore(store, saved)
            resent_before = committer.resent
            await submit(committer, truth, 9, langs=("en", "de"))
            assert await committer.drain(30)
            await asyncio.sleep(3.0)  # the check every 2 s
            assert await committer.drain(30)
            # en: 5 parts (batches 4-8), fr: 5, the instance: 5 (4-8, 9 is new).
            assert committer.resent - resent_before == 15
            assert committer.lost == 0
            await assert_holds(store, truth)
            cp = await store.checkpoint("ingest-1")
            assert cp is not None and cp.seq == 9 and cp.position == {"file": "f", "offset": 9}

    asyncio.run(go())


def test_a_loss_found_at_start_up_is_sent_again_from_the_journal(
    clean: LocalCluster, tmp_path: Path
) -> None:
    """The failover happened while no daemon ran: the next one finds the language's chain
    behind what its journal says was committed, and sends the missing parts."""

    async def go() -> None:
        truth = Truth()
        async with session(clean.url, tmp_path / "j") as (committer, store):
            for n in range(1, 3):
                await submit(committer, truth, n)
            assert await committer.drain(30)
            saved = await snapshot(store, lang_keys(store, "ja"))
            for n in range(3, 6):
                await submit(committer, truth, n)
        async with session(clean.url, tmp_path / "j") as (committer, store):
            await restore(store, saved)
            await asyncio.sleep(3.0)
            assert committer.resent == 3 and committer.lost == 0
            await assert_holds(store, truth)

    asyncio.run(go())


def test_counters_are_summed_over_ingest_instances(clean: LocalCluster, tmp_path: Path) -> None:
    async def go() -> None:
        truth = Truth()
        async with (
            session(clean.url, tmp_path / "a", "ingest-a") as (a, store),
            session(clean.url, tmp_path / "b", "ingest-b") as (b, _),
        ):
            for n in range(1, 11):
                await submit(a if n % 2 else b, truth, n)
        async with session(clean.url, tmp_path / "a", "ingest-a") as (_, store):
            assert await store.redis.smembers(store.keys.instances) == {"ingest-a", "ingest-b"}
            # Two writers interleave their parts in each list: compare as multisets.
            counts = await store.language_counts()
            for lang, n in truth.tweets.items():
                assert counts[lang].tweets == n
                tags = await store.recent_hashtags(lang, 1_000_000)
                assert Counter(tags) == Counter(truth.tags[lang])
            assert await store.pipeline_counters() == dict(truth.counters)
            a_cp, b_cp = await store.checkpoint("ingest-a"), await store.checkpoint("ingest-b")
            assert a_cp is not None and b_cp is not None
            assert (a_cp.seq, b_cp.seq) == (5, 5)
            assert (a_cp.position, b_cp.position) == (
                {"file": "f", "offset": 9},
                {"file": "f", "offset": 10},
            )

    asyncio.run(go())


# --- a cluster of its own, to break --------------------------------------------------------


@pytest.fixture
def own_cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    local = LocalCluster(tmp_path / "nodes").start()
    try:
        yield local
    finally:
        local.stop()


def test_kill_9_of_a_master_whose_replica_missed_writes_loses_nothing(
    own_cluster: LocalCluster, tmp_path: Path
) -> None:
    """A real failover with real lost writes: the replica of the master serving "en" is
    stopped (SIGSTOP) while that master acknowledges megabytes of batches (no WAIT), then the
    master is killed with SIGKILL and the replica resumes and is promoted without the tail.
    The committer rides out the outage, finds the gap and sends the lost parts again."""
    cluster = own_cluster

    async def go() -> None:
        truth = Truth()
        big = tuple(f"{'x' * 200}{i}" for i in range(20))  # ~4 KB of hashtags per post

        async def submit_big(committer: Committer, n: int) -> None:
            records = [Detected("en", big, (1.0, float(n)), f"{n}-{i}") for i in range(200)]
            counters = {"lines": 200, "accepted": 200}
            truth.add(records, counters)
            await committer.submit(records, counters, {"file": "f", "offset": n}, time.monotonic())

        async with session(cluster.url, tmp_path / "j") as (committer, store):
            for n in range(1, 6):
                await submit(committer, truth, n)
            assert await committer.drain(30)
            master = cluster.master_of(store.keys.hashtags("en"))
            replica = cluster.replica_of(master)
            replica_pid = cluster.pid(replica)
            os.kill(replica_pid, signal.SIGSTOP)
            try:
                for n in range(6, 46):  # ~32 MB into "en": more than the socket buffers hold
                    await submit_big(committer, n)
                assert await committer.drain(60)
                cluster.kill9(master)
            finally:
                os.kill(replica_pid, signal.SIGCONT)
            for n in range(46, 60):
                await submit(committer, truth, n)
            await asyncio.to_thread(cluster.wait_master, replica, 60.0)
            assert await committer.drain(90)
            await asyncio.sleep(3.0)  # one more check of every chain
            assert await committer.drain(30)
            assert committer.retries > 0  # it did see the outage
            assert committer.resent > 0, "the promoted replica lost nothing: no gap to test"
            assert committer.lost == 0
            counts = await store.language_counts()
            assert {lang: c.tweets for lang, c in counts.items()} == dict(truth.tweets)
            assert await store.recent_hashtags("en", 10_000_000) == truth.tags["en"]
            raw = await store.redis.lrange(store.keys.geo("en"), 0, -1)
            assert [decode_point(p) for p in raw] == truth.points["en"]
            assert await store.pipeline_counters() == dict(truth.counters)

    asyncio.run(go())
