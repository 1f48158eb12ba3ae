"""The only module that reads and writes Redis data. Key names come from `streamer.storage.keys`,
the Lua scripts from `streamer.storage.lua`.

Writes: one atomic Lua commit per batch (`commit_batch`), one RPUSH per key per batch, every
list trimmed in the same step, so a batch lands whole or not at all and no list outgrows its cap.
On a Redis Cluster (hash-tagged `Keys(cluster=True)`) a batch is committed in parts instead, one
per language slot and one for the instance (`commit_language_part`, `commit_instance_part`),
in the order `streamer.delivery.cluster_committer` decides; the reads that differ live in
`streamer.storage.redis_cluster`.
Reads: the small API the CLI and the map exporter use.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from streamer.core.records import (
    GEO_SOURCES,
    SEEN_ID_MAX,
    Detected,
    PackedRecords,
    PackedUsers,
    pack_point,
    pack_records,
    pack_users,
    seen_id,
)
from streamer.storage import lua
from streamer.storage.keys import Keys
from streamer.storage.redis_cluster import cluster_memory, cluster_pipeline_counters
from streamer.storage.trend_store import TrendKeys, TrendSettings, read_lang_async

__all__ = ["SEEN_ID_MAX", "Store", "seen_id"]  # the id helpers live in streamer.core.records

Point = tuple[float, float]
# (lat, lon, commit time in Unix seconds); the time is None for an entry stored without one.
TimedPoint = tuple[float, float, float | None]


class GeoPoint(NamedTuple):
    """A `geo_<lang>` entry: where, when it was committed (None for entries stored before
    times were kept), the evidence it came from, and how far off it may be."""

    lat: float
    lon: float
    t: float | None
    source: str  # streamer.core.records.GEO_SOURCES; "exact" for entries of the older forms
    precision_km: float


# How long a resumable source's post ids are remembered: far longer than any rewind.
SEEN_TTL_SECONDS = 3600


def count_duplicates(counters: Mapping[str, int], duplicates: int) -> dict[str, int]:
    """The pipeline counters of a batch once `duplicates` of its accepted posts turned out to
    be stored already (de-duplication): they move from `accepted` to `skipped:duplicate`.

    This is the one statement of that rule, in Python because the daemon's own metrics need it
    as much as Redis does. The cluster's instance part stores what it returns; the single-Redis
    script learns the count only inside its atomic step, where the counters must land too, so
    it is handed what one duplicate changes (`PER_DUPLICATE`, made by this function)."""
    out = dict(counters)
    if duplicates:
        out["accepted"] = out.get("accepted", 0) - duplicates
        out["skipped:duplicate"] = out.get("skipped:duplicate", 0) + duplicates
    return out


# What one duplicate changes in the counters, for the single-Redis commit script.
PER_DUPLICATE: Mapping[str, int] = count_duplicates({}, 1)


def _pairs(counters: Mapping[str, int]) -> list[Any]:
    """A count and the non-zero (name, value) pairs, as the commit script reads them."""
    pairs = [(name, value) for name, value in counters.items() if value]
    return [len(pairs), *(item for pair in pairs for item in pair)]


# Commit statuses.
APPLIED, ALREADY_APPLIED, GAP = 0, 1, 2


# An instance's own heartbeat outlives its daemon by a week, so `status` still shows a
# stopped instance for a while, and then forgets it.
HEARTBEAT_TTL_S = 7 * 24 * 3600


@dataclass(frozen=True)
class CommitResult:
    status: int  # APPLIED, ALREADY_APPLIED or GAP
    committed: int  # the checkpoint's sequence number after the call
    duplicates: int = 0


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    position: Any  # JSON-decoded; None when the source has no position
    updated_at: float


@dataclass(frozen=True)
class LanguageCounts:
    tweets: int
    geo: int
    hashtags: int
    # Located posts by evidence (stats fields `geo:<source>`); points counted in `geo` before
    # sources were kept are all "exact".
    geo_sources: Mapping[str, int] = field(default_factory=dict)


def point_time(now: float) -> int:
    """The time a batch's points carry: `now` in whole Unix seconds, or the clock's when `now`
    is not given (0). Computed once per batch."""
    return int(now) if now > 0 else int(time.time())


def encode_point(
    point: Point, t: int | None = None, source: str | None = None, precision_km: float = 0.0
) -> bytes:
    """A `geo_<lang>` entry: JSON "[lat, lon, t, source, precision_km]" for an inferred point,
    t the commit time in whole Unix seconds (see `point_time`); "[lat, lon, t]" for an exact
    one (the form older versions wrote); without `t`, the oldest "[lat, lon]". Readers accept
    all three."""
    if t is None:
        return orjson.dumps(point)
    if source is None or source == "exact":
        return orjson.dumps((point[0], point[1], t))
    return orjson.dumps((point[0], point[1], t, source, precision_km))


def timed_entry(rec: Detected, t: int) -> str:
    """The entry the commit scripts store for a record's point (`lua.GEO_POINTS` with_time,
    the same rule in Python for the cluster's language parts); "" when it has none."""
    packed = pack_point(rec)
    if not packed:
        return ""
    first = packed.index(",")
    second = packed.find(",", first + 1)
    if second < 0:
        return f"{packed[:-1]},{t}]"
    return f"{packed[:second]},{t}{packed[second:]}"


def decode_geo_point(raw: str | bytes) -> GeoPoint | None:
    """A `geo_<lang>` entry of any form; None for a malformed one."""
    try:
        value = orjson.loads(raw)
        if not isinstance(value, list) or len(value) not in (2, 3, 5):
            return None
        t = float(value[2]) if len(value) >= 3 else None
        if len(value) == 5:
            if value[3] not in GEO_SOURCES:
                return None
            return GeoPoint(float(value[0]), float(value[1]), t, value[3], float(value[4]))
        return GeoPoint(float(value[0]), float(value[1]), t, "exact", 0.0)
    except (orjson.JSONDecodeError, TypeError, ValueError):
        return None


def decode_timed_point(raw: str | bytes) -> TimedPoint | None:
    """(lat, lon, t) from a `geo_<lang>` entry, t None for an old "[lat, lon]" one; None for
    an entry that is none of the forms."""
    point = decode_geo_point(raw)
    return None if point is None else (point.lat, point.lon, point.t)


def decode_point(raw: str | bytes) -> Point | None:
    """(lat, lon) from a `geo_<lang>` entry of either form; None for a malformed one."""
    timed = decode_timed_point(raw)
    return None if timed is None else (timed[0], timed[1])


def geo_sources(stats: Mapping[Any, Any]) -> dict[str, int]:
    """Located posts by source from a `stats:<lang>` hash; what `geo` counts beyond the
    `geo:<source>` fields was stored before sources were kept, when every point was exact."""
    found = {str(k)[4:]: int(v) for k, v in stats.items() if str(k).startswith("geo:")}
    older = int(stats.get("geo", 0)) - sum(found.values())
    if older > 0:
        found["exact"] = found.get("exact", 0) + older
    return {source: found[source] for source in GEO_SOURCES if found.get(source)}


def rank_hashtags(tags: Iterable[str], n: int) -> list[tuple[str, int]]:
    """Most common first; ties by tag so the answer is the same on every run."""
    counts = Counter(tags)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:n]


@dataclass(frozen=True)
class UserRecord:
    user_id: str
    screen_name: str | None
    bio: str
    lang: str | None
    last_seen: float
    cluster: tuple[int, int] | None  # (kmeans, hdbscan), None before the first fit


class Store:
    def __init__(
        self,
        redis: Redis | RedisCluster,
        keys: Keys,
        list_cap: int = 100_000,
        trends: TrendSettings | None = None,  # trends: how commits apply trend counts
    ) -> None:
        if isinstance(redis, RedisCluster) and not keys.cluster:
            raise ValueError("a RedisCluster client needs hash-tagged keys: Keys(cluster=True)")
        self.redis = redis
        self.keys = keys
        self.list_cap = list_cap
        self.trends = trends or TrendSettings()
        self._commit = redis.register_script(lua.COMMIT)
        self._language_part = redis.register_script(lua.LANGUAGE_PART)
        self._instance_part = redis.register_script(lua.INSTANCE_PART)
        self._trim_users = redis.register_script(lua.TRIM_USERS)
        self._update_users = redis.register_script(lua.UPDATE_USERS)

    # --- writes -------------------------------------------------------------------------

    async def commit_batch(
        self,
        instance: str,
        seq: int,
        records: Sequence[Detected],
        counters: Mapping[str, int] | None = None,
        position: Any = None,
        *,
        dedupe: bool = False,
        expected: int | None = None,
        now: float = 0.0,
        trends: bytes = b"",
    ) -> CommitResult:
        """Apply batch `seq` of `instance` exactly once (see `lua.COMMIT`).

        `expected` overrides the previous sequence number the checkpoint must hold: the
        writer uses it only to move past batches that are lost for good. `now` (Unix seconds)
        goes into the checkpoint and, in whole seconds, into every point (`point_time`)."""
        k = self.keys
        t = point_time(now)
        argv: list[Any] = [
            k.hashtags(""), k.geo(""), k.stats(""), k.seen(""), k.languages, k.pipeline,
            self.list_cap, SEEN_TTL_SECONDS, k.checkpoint(instance), seq,
            "" if expected is None else expected, orjson.dumps(position), round(now, 3),
            1 if dedupe else 0, t, *_pairs(counters or {}), *_pairs(PER_DUPLICATE),
        ]  # fmt: skip
        packed = records if isinstance(records, PackedRecords) else pack_records(records)
        argv.append(packed.data)
        argv += self._trend_args(trends, instance)
        status, committed, dups = await self._commit(args=argv)
        return CommitResult(int(status), int(committed), int(dups))

    def _trend_args(self, trends: bytes, instance: str) -> list[Any]:
        """The trend arguments of `lua.COMMIT` (after the posts): counts packed by
        `trend_packing.pack_counts` (b"": none) and how to apply them."""
        k, t = self.keys, self.trends
        return [
            trends, k.trend_lang_prefix("")[:-1], k.trend_clock, k.trend_langs, instance,
            t.lateness_seconds, t.top_k, t.retention_seconds, t.tag_points, t.point_tags,
        ]  # fmt: skip

    def _language_trend_args(self, trends: bytes, instance: str, lang: str) -> list[Any]:
        """The trend arguments of `lua.LANGUAGE_PART`: the language's cells
        (`trend_packing.language_part`), its key prefix and clock, and how to apply them."""
        if not trends:
            return []
        k, t = self.keys, self.trends
        return [
            trends, k.trend_lang_prefix(lang), k.trend_lang_clock(lang), instance,
            t.lateness_seconds, t.top_k, t.retention_seconds, t.tag_points, t.point_tags,
        ]  # fmt: skip

    # --- commits on a Redis Cluster: one chain per (instance, language) slot ---------------

    async def commit_language_part(
        self,
        instance: str,
        lang: str,
        seq: int,
        prev: int,
        records: Sequence[Detected],
        *,
        dedupe: bool = False,
        now: float = 0.0,
        trends: bytes = b"",
    ) -> CommitResult:
        """Apply the `lang` posts of batch `seq` once, if the (instance, language) checkpoint
        holds `prev` (see `lua.LANGUAGE_PART`). `now` as in `commit_batch`. Already applied,
        the result carries the duplicates the part found then if it was this very batch."""
        k = self.keys
        t = point_time(now)
        keys = [k.lang_checkpoint(instance, lang), k.stats(lang), k.hashtags(lang), k.geo(lang)]
        args: list[Any] = [seq, prev, self.list_cap, SEEN_TTL_SECONDS, round(now, 3)]
        trend_args = self._language_trend_args(trends, instance, lang)  # trends
        args += [len(trend_args), *trend_args]
        for rec in records:
            seen = 0
            if dedupe and rec.id:
                keys.append(k.lang_seen(lang, seen_id(rec.id)))
                seen = len(keys)
            args += [seen, len(rec.hashtags), *rec.hashtags]
            args.append(timed_entry(rec, t))
        status, committed, dups = await self._language_part(keys=keys, args=args)
        return CommitResult(int(status), int(committed), int(dups))

    async def commit_instance_part(
        self,
        instance: str,
        seq: int,
        prev: int,
        counters: Mapping[str, int],
        position: Any,
        *,
        duplicates: int = 0,
        now: float = 0.0,
    ) -> CommitResult:
        """After its language parts, apply batch `seq`'s counters (less the `duplicates` its
        language parts found: `count_duplicates`) and move the instance's checkpoint to it
        with `position`, once, if that checkpoint holds `prev` (see `lua.INSTANCE_PART`)."""
        k = self.keys
        keys = [k.checkpoint(instance), k.instance_pipeline(instance)]
        args: list[Any] = [seq, prev, orjson.dumps(position), round(now, 3)]
        for name, value in count_duplicates(counters, duplicates).items():
            if value:
                args += [name, value]
        status, committed = await self._instance_part(keys=keys, args=args)
        return CommitResult(int(status), int(committed), duplicates)

    async def language_chain_head(self, instance: str, lang: str) -> int:
        """The newest batch whose `lang` part Redis holds for `instance` (0: none)."""
        return int(await self.redis.hget(self.keys.lang_checkpoint(instance, lang), "seq") or 0)

    async def chain_heads(
        self, instance: str, langs: Sequence[str], *, re_add: Sequence[str] = ()
    ) -> tuple[int, list[int]]:
        """In one round trip: the instance chain's head and each of `langs`' chain heads (0:
        none). The `re_add` languages and the instance go back into their sets on the way
        (idempotent), in case a failover lost them."""
        k = self.keys
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hget(k.checkpoint(instance), "seq")
            for lang in langs:
                pipe.hget(k.lang_checkpoint(instance, lang), "seq")
            if re_add:
                pipe.sadd(k.languages, *re_add)
            pipe.sadd(k.instances, instance)
            held = await pipe.execute()
        return int(held[0] or 0), [int(raw or 0) for raw in held[1 : 1 + len(langs)]]

    async def add_language(self, lang: str) -> None:
        """List `lang` in the `languages` set (the single-Redis script does this itself)."""
        await self.redis.sadd(self.keys.languages, lang)

    async def add_instance(self, instance: str) -> None:
        """List an ingest instance in the `instances` set, whose counters the reads sum."""
        await self.redis.sadd(self.keys.instances, instance)

    async def learn_slots(self) -> None:
        """A cluster client learns the slot map now: redis-py's is not safe to initialise from
        concurrent first commands, as a batch's language parts are. Nothing on one Redis."""
        if isinstance(self.redis, RedisCluster):
            await self.redis.initialize()

    # --- checkpoints --------------------------------------------------------------------

    async def checkpoint(self, instance: str) -> Checkpoint | None:
        row = await self.redis.hgetall(self.keys.checkpoint(instance))
        if not row:
            return None
        return Checkpoint(
            int(row.get("seq", 0)),
            orjson.loads(row["position"]) if row.get("position") else None,
            float(row.get("updated_at", 0)),
        )

    # --- the recent-user window (bios for clustering) --------------------------------------

    async def update_users(self, users: Sequence[Any] | PackedUsers, now: float) -> None:
        """Remember each user's newest bio and when they were seen (UserSeen tuples, or as a
        pool process packs them: `streamer.core.records.pack_users`). Each user's value is the
        JSON [screen name, bio, lang, now rounded to ms]; `now` is their score."""
        if not users:
            return
        packed = users if isinstance(users, PackedUsers) else pack_users(users)
        keys = [self.keys.users, self.keys.users_seen]
        await self._update_users(keys=keys, args=[orjson.dumps(round(now, 3)), now, packed.data])

    async def trim_users(self, max_users: int, max_age_s: float, now: float) -> int:
        """Keep the window bounded by count and age; returns how many users left it."""
        keys = [self.keys.users_seen, self.keys.users, self.keys.user_cluster]
        return int(await self._trim_users(keys=keys, args=[max_users, now - max_age_s]))

    async def user_bios(self, since: float | None = None) -> list[tuple[str, str]]:
        """(user id, bio) of the window's users, or of those seen at or after `since`."""
        return [(uid, bio) for uid, bio, _lang in await self.user_bios_with_language(since)]

    async def user_bios_with_language(
        self, since: float | None = None
    ) -> list[tuple[str, str, str | None]]:
        """(user id, bio, language) of the window's users (or of those seen at or after
        `since`): the language the detector gave their latest post, None if unknown."""
        out: list[tuple[str, str, str | None]] = []
        async for part in self.user_bios_in_parts(since):
            out += part
        return out

    async def user_bios_in_parts(
        self, since: float | None = None, size: int = 5000
    ) -> AsyncIterator[list[tuple[str, str, str | None]]]:
        """`user_bios_with_language`, a list of at most `size` users at a time: a window of
        100,000 bios need never be in this process all at once."""
        k = self.keys
        if since is None:
            rows: list[tuple[str, Any]] = []
            async for uid, raw in self.redis.hscan_iter(k.users, count=size):
                rows.append((str(uid), raw))
                if len(rows) >= size:
                    yield _user_rows(rows)
                    rows = []
            if rows:
                yield _user_rows(rows)
            return
        ids = [str(u) for u in await self.redis.zrangebyscore(k.users_seen, since, "+inf")]
        for start in range(0, len(ids), size):
            part = ids[start : start + size]
            yield _user_rows(zip(part, await self.redis.hmget(k.users, part), strict=True))

    async def set_user_clusters(self, assignments: Mapping[str, tuple[int, int]]) -> None:
        items = list(assignments.items())
        async with self.redis.pipeline(transaction=False) as pipe:
            for start in range(0, len(items), 5000):
                part = items[start : start + 5000]
                pipe.hset(self.keys.user_cluster, mapping={u: f"{a},{b}" for u, (a, b) in part})
            await pipe.execute()

    async def user(self, user_id: str) -> UserRecord | None:
        raw = await self.redis.hget(self.keys.users, user_id)
        cluster = await self.redis.hget(self.keys.user_cluster, user_id)
        if raw is None:
            return None
        name, bio, lang, seen = orjson.loads(raw)
        parsed = None
        if cluster is not None:
            kmeans, hdb = str(cluster).split(",")
            parsed = (int(kmeans), int(hdb))
        return UserRecord(user_id, name, bio, lang, float(seen), parsed)

    async def user_count(self) -> int:
        return int(await self.redis.zcard(self.keys.users_seen))

    async def set_heartbeat(self, fields: Mapping[str, Any], instance: str | None = None) -> None:
        """The daemon's heartbeat: as the latest one, and as its instance's own, so that
        `status` shows every ingest daemon sharing this Redis."""
        mapping: dict[Any, Any] = {k: str(v) for k, v in fields.items()}
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hset(self.keys.daemon, mapping=mapping)
            if instance is not None:
                own = self.keys.instance_daemon(instance)
                pipe.delete(own)  # fields of an older version of the daemon must not linger
                pipe.hset(own, mapping=mapping)
                pipe.expire(own, HEARTBEAT_TTL_S)
                pipe.sadd(self.keys.daemons, instance)
            await pipe.execute()

    # --- reads --------------------------------------------------------------------------

    async def languages(self) -> list[str]:
        return sorted(str(lang) for lang in await self.redis.smembers(self.keys.languages))

    async def language_counts(self) -> dict[str, LanguageCounts]:
        langs = await self.languages()
        async with self.redis.pipeline(transaction=False) as pipe:
            for lang in langs:
                pipe.hgetall(self.keys.stats(lang))
            rows = await pipe.execute()
        out = {}
        for lang, row in zip(langs, rows, strict=True):
            out[lang] = LanguageCounts(
                tweets=int(row.get("tweets", 0)),
                geo=int(row.get("geo", 0)),
                hashtags=int(row.get("hashtags", 0)),
                geo_sources=geo_sources(row),
            )
        return out

    async def recent_hashtags(self, lang: str, window: int) -> list[str]:
        return [str(tag) for tag in await self.redis.lrange(self.keys.hashtags(lang), -window, -1)]

    async def top_hashtags(
        self, langs: Sequence[str] | None = None, n: int = 3, window: int = 5000
    ) -> dict[str, list[tuple[str, int]]]:
        """The seed's "top hashtags": most common among each language's last `window` tags."""
        langs = list(langs) if langs is not None else await self.languages()
        async with self.redis.pipeline(transaction=False) as pipe:
            for lang in langs:
                pipe.lrange(self.keys.hashtags(lang), -window, -1)
            rows = await pipe.execute()
        return {lang: rank_hashtags(tags, n) for lang, tags in zip(langs, rows, strict=True)}

    async def points(self, lang: str, n: int = 400) -> list[Point]:
        """The language's `n` most recent points, oldest first."""
        raw = await self.redis.lrange(self.keys.geo(lang), -n, -1)
        return [p for p in map(decode_point, raw) if p is not None]

    async def timed_points(self, lang: str, n: int = 400) -> list[TimedPoint]:
        """The language's `n` most recent points with their commit times, oldest first: (lat,
        lon, Unix seconds), the time None for points stored before times were kept."""
        raw = await self.redis.lrange(self.keys.geo(lang), -n, -1)
        return [p for p in map(decode_timed_point, raw) if p is not None]

    async def geo_points(
        self, lang: str, n: int = 400, sources: Iterable[str] | None = None, scan: int = 0
    ) -> list[GeoPoint]:
        """The language's `n` most recent points of `sources` (all when None), oldest first,
        found among its newest max(n, `scan`) entries: exact points are rare (about 1 in 100
        posts), so a map of them looks further back than one of inferred points."""
        wanted = None if sources is None else frozenset(sources)
        raw = await self.redis.lrange(self.keys.geo(lang), -max(n, scan), -1)
        found = [p for p in map(decode_geo_point, raw) if p is not None]
        if wanted is not None:
            found = [p for p in found if p.source in wanted]
        return found[-n:] if n > 0 else []

    async def pipeline_counters(self) -> dict[str, int]:
        if self.keys.cluster:  # one hash per ingest instance, summed
            summed = await cluster_pipeline_counters(self.redis, self.keys)
            # trends: posts behind a language's event clock are counted in its stats hash
            # (a language part cannot reach the instance's counters' slot)
            late = 0
            for lang in await self.languages():
                late += int(await self.redis.hget(self.keys.stats(lang), "trend_late") or 0)
            if late:
                summed["trend_late"] = summed.get("trend_late", 0) + late
            return summed
        counters = await self.redis.hgetall(self.keys.pipeline)
        return {str(k): int(v) for k, v in counters.items()}

    async def heartbeat(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in (await self.redis.hgetall(self.keys.daemon)).items()}

    async def heartbeats(self) -> dict[str, dict[str, str]]:
        """Every instance's own heartbeat, by instance; instances whose heartbeat expired
        leave the set as they are found gone, so it holds only the living and the recent."""
        instances = sorted(str(i) for i in await self.redis.smembers(self.keys.daemons))
        if not instances:
            return {}
        async with self.redis.pipeline(transaction=False) as pipe:
            for instance in instances:
                pipe.hgetall(self.keys.instance_daemon(instance))
            rows = await pipe.execute()
        found = {
            i: {str(k): str(v) for k, v in row.items()}
            for i, row in zip(instances, rows, strict=True)
        }
        gone = [i for i, row in found.items() if not row]
        if gone:
            await self.redis.srem(self.keys.daemons, *gone)
        return {i: row for i, row in found.items() if row}

    async def memory(self) -> dict[str, Any]:
        if self.keys.cluster:  # summed over the masters
            return await cluster_memory(self.redis)
        info = await self.redis.info("memory")
        return {
            "used_memory": int(info.get("used_memory", 0)),
            "used_memory_human": str(info.get("used_memory_human", "")),
        }

    # --- trends: reads of the event-time counts (docs/trends.md) ----------------------------

    async def trend_languages(self) -> list[str]:
        """Languages with trend data (on a cluster, where the set cannot be written in a
        language's commit: every language seen)."""
        found = {str(m) for m in await self.redis.smembers(self.keys.trend_langs)}
        if self.keys.cluster:
            found |= set(await self.languages())
        return sorted(found)

    async def trend_clock(self, langs: Sequence[str] = ()) -> int | None:
        """The newest event-time bucket any ingest instance committed (the clocks' max; on a
        cluster, over the clocks of `langs`), or None before the first post."""
        rows = [await self.redis.hvals(self.keys.trend_clock)]
        if self.keys.cluster:
            for lang in langs:
                rows.append(await self.redis.hvals(self.keys.trend_lang_clock(lang)))
        values = [int(v) for row in rows for v in row]
        return max(values) if values else None

    async def trend_buckets(
        self, lang: str, start: int | None = None, end: int | None = None
    ) -> dict[int, dict[str, int]]:
        """The retained buckets of `lang` (start <= bucket <= end): {bucket: {tag: count}}."""
        keys = TrendKeys(self.keys.prefix, self.keys.cluster)
        return (await read_lang_async(self.redis, keys, lang, start, end)).tags  # type: ignore[arg-type]

    async def trend_timeline(self, lang: str, tag: str) -> list[tuple[int, int]]:
        """(bucket, count) of `tag` over the retained buckets of `lang` (0 where absent)."""
        raw = await self.redis.zrangebyscore(self.keys.trend_buckets(lang), "-inf", "+inf")
        buckets = sorted(int(float(str(b))) for b in raw)
        if not buckets:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for bucket in buckets:
                pipe.zscore(self.keys.trend_counts(lang, bucket), tag)
            scores = await pipe.execute()
        return [(b, int(s or 0)) for b, s in zip(buckets, scores, strict=True)]

    async def tag_points(self, lang: str, tag: str, n: int = 500) -> list[TimedPoint]:
        """The newest `n` points of `lang` posts carrying `tag`, oldest first."""
        raw = await self.redis.lrange(self.keys.trend_points(lang, tag), -n, -1)
        return [p for p in map(decode_timed_point, raw) if p is not None]

    async def trend_memory(self) -> dict[str, int]:
        """Memory of the trend keys (`MEMORY USAGE` of each, pipelined): for `/metrics` on
        the map schedule and the soak, never per request. Single Redis only (a cluster
        would need a SCAN per node): zeros there."""
        if self.keys.cluster:
            return {"keys": 0, "bytes": 0}
        names = [n async for n in self.redis.scan_iter(match=f"{self.keys.prefix}trend:*")]
        total = 0
        for s in range(0, len(names), 1000):
            async with self.redis.pipeline(transaction=False) as pipe:
                for name in names[s : s + 1000]:
                    pipe.memory_usage(name)
                total += sum(int(size or 0) for size in await pipe.execute())
        return {"keys": len(names), "bytes": total}

    # --- end trends ---


def _user_rows(rows: Iterable[tuple[str, Any]]) -> list[tuple[str, str, str | None]]:
    """(user id, bio, language) of stored user values (None values: users gone meanwhile)."""
    out = []
    for uid, raw in rows:
        if raw is not None:
            _name, bio, lang, _seen = orjson.loads(raw)
            out.append((uid, str(bio), str(lang) if lang else None))
    return out
