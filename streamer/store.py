"""The only module that reads and writes Redis data. Key names come from `streamer.keys`.

Writes: one atomic Lua commit per batch (see _COMMIT_LUA), one RPUSH per key per batch, every
list trimmed in the same step, so a batch lands whole or not at all and no list outgrows its cap.
Reads: the small API the CLI and the map exporter use.
On a Redis Cluster (hash-tagged `Keys(cluster=True)`) batches are committed per language slot
by `streamer.cluster_commits` instead, and the reads that differ live in `streamer.redis_cluster`.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from streamer.keys import Keys
from streamer.records import (
    SEEN_ID_MAX,
    Detected,
    PackedRecords,
    PackedUsers,
    pack_records,
    pack_users,
    seen_id,
)

__all__ = ["SEEN_ID_MAX", "Store", "seen_id"]  # the id helpers live in streamer.records

Point = tuple[float, float]
# (lat, lon, commit time in Unix seconds); the time is None for an entry stored without one.
TimedPoint = tuple[float, float, float | None]

# How long a resumable source's post ids are remembered: far longer than any rewind.
SEEN_TTL_SECONDS = 3600
# The scripts' `push(key, values)`: RPUSH in slices (Lua's unpack() has a stack limit), then
# LTRIM to the script's local `cap`, so no list outgrows its cap.
_PUSH_SLICE = 1000
PUSH_CAPPED_LUA = f"""
local function push(key, values)
  for s = 1, #values, {_PUSH_SLICE} do
    redis.call("RPUSH", key, unpack(values, s, math.min(s + {_PUSH_SLICE - 1}, #values)))
  end
  redis.call("LTRIM", key, -cap, -1)
end
"""

# A batch's commit, one atomic script: it applies batch number `seq` only if the checkpoint
# says `seq - 1` was the last one applied, and moves the checkpoint (sequence number and the
# source's position) in the same step. So a batch lands once or not at all, and a Redis that
# lost its last second says so (a gap) instead of silently missing batches.
# With de-duplication on (resumable streams that repeat themselves on restart), a post whose
# id was seen within the TTL is counted as a duplicate and not stored again.
# ARGV: hashtag prefix, geo prefix, stats prefix, seen prefix, languages key, pipeline key,
#       cap, ttl, checkpoint key, seq, expected previous seq ("" = any), position, now,
#       dedupe (1/0), point time, counter count, counter pairs...,
#       then the posts as one JSON array (`streamer.records.pack_records`): per post
#       [seen id or "", lang, "[lat,lon]" or "", tags...]. Each point is stored as
#       "[lat,lon,point time]" (`encode_point`). One JSON argument instead of several per post:
#       the event loop then never touches a post, and cjson decodes it in C.
# Returns {status, committed seq, duplicates}: 0 applied, 1 already applied, 2 gap.
_COMMIT_LUA = (
    """
local a = ARGV
local tag_p, geo_p, stats_p, seen_p = a[1], a[2], a[3], a[4]
local langs_key, pipe_key, cap, ttl = a[5], a[6], tonumber(a[7]), a[8]
local ckpt, seq, expected = a[9], tonumber(a[10]), a[11]
local position, now, dedupe = a[12], a[13], a[14] == "1"
local point_end = "," .. a[15] .. "]"
local committed = tonumber(redis.call("HGET", ckpt, "seq") or "0")
if seq <= committed then return {1, committed, 0} end
if expected == "" then
  if committed ~= seq - 1 then return {2, committed, 0} end
elseif committed ~= tonumber(expected) then
  return {2, committed, 0}
end
local i = 17
local counters = {}
for _ = 1, tonumber(a[16]) do counters[a[i]] = tonumber(a[i + 1]); i = i + 2 end
local order, tweets, tags, points = {}, {}, {}, {}
local dups = 0
for _, post in ipairs(cjson.decode(a[i])) do
  local id, lang, point = post[1], post[2], post[3]
  local fresh = true
  if dedupe and id ~= "" then fresh = redis.call("SET", seen_p .. id, "1", "NX", "EX", ttl) end
  if fresh then
    if not tweets[lang] then
      tweets[lang] = 0; tags[lang] = {}; points[lang] = {}
      table.insert(order, lang)
    end
    tweets[lang] = tweets[lang] + 1
    local into = tags[lang]
    for t = 4, #post do into[#into + 1] = post[t] end
    if point ~= "" then table.insert(points[lang], string.sub(point, 1, -2) .. point_end) end
  else
    dups = dups + 1
  end
end
"""
    + PUSH_CAPPED_LUA
    + """
for _, lang in ipairs(order) do
  local stats = stats_p .. lang
  redis.call("HINCRBY", stats, "tweets", tweets[lang])
  if #tags[lang] > 0 then
    push(tag_p .. lang, tags[lang])
    redis.call("HINCRBY", stats, "hashtags", #tags[lang])
  end
  if #points[lang] > 0 then
    push(geo_p .. lang, points[lang])
    redis.call("HINCRBY", stats, "geo", #points[lang])
  end
  redis.call("SADD", langs_key, lang)
end
if dups > 0 then
  counters["accepted"] = (counters["accepted"] or 0) - dups
  counters["skipped:duplicate"] = (counters["skipped:duplicate"] or 0) + dups
end
for name, value in pairs(counters) do
  if value ~= 0 then redis.call("HINCRBY", pipe_key, name, value) end
end
redis.call("HSET", ckpt, "seq", seq, "position", position, "updated_at", now)
return {0, seq, dups}
"""
)

# Commit statuses.
APPLIED, ALREADY_APPLIED, GAP = 0, 1, 2


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


def point_time(now: float) -> int:
    """The time a batch's points carry: `now` in whole Unix seconds, or the clock's when `now`
    is not given (0). Computed once per batch."""
    return int(now) if now > 0 else int(time.time())


def encode_point(point: Point, t: int | None = None) -> bytes:
    """A `geo_<lang>` entry: JSON "[lat, lon, t]", t the commit time in whole Unix seconds
    (see `point_time`). Without `t`, the old "[lat, lon]" form, which readers still accept."""
    if t is None:
        return orjson.dumps(point)
    return orjson.dumps((point[0], point[1], t))


def decode_timed_point(raw: str | bytes) -> TimedPoint | None:
    """(lat, lon, t) from a `geo_<lang>` entry, t None for an old "[lat, lon]" one; None for
    an entry that is neither."""
    try:
        value = orjson.loads(raw)
        if not isinstance(value, list) or len(value) not in (2, 3):
            return None
        t = float(value[2]) if len(value) == 3 else None
        return float(value[0]), float(value[1]), t
    except (orjson.JSONDecodeError, TypeError, ValueError):
        return None


def decode_point(raw: str | bytes) -> Point | None:
    """(lat, lon) from a `geo_<lang>` entry of either form; None for a malformed one."""
    timed = decode_timed_point(raw)
    return None if timed is None else (timed[0], timed[1])


def rank_hashtags(tags: Iterable[str], n: int) -> list[tuple[str, int]]:
    """Most common first; ties by tag so the answer is the same on every run."""
    counts = Counter(tags)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:n]


# Evict users beyond the window's size or age, from the window and both user hashes.
# KEYS: users:seen, users, user_cluster. ARGV: max users, oldest score kept.
_TRIM_USERS_LUA = """
local evict = {}
local over = redis.call("ZCARD", KEYS[1]) - tonumber(ARGV[1])
if over > 0 then evict = redis.call("ZRANGE", KEYS[1], 0, over - 1) end
local old = redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", "(" .. ARGV[2], "LIMIT", 0, 50000)
for _, id in ipairs(old) do table.insert(evict, id) end
for s = 1, #evict, 1000 do
  local part = {unpack(evict, s, math.min(s + 999, #evict))}
  redis.call("ZREM", KEYS[1], unpack(part))
  redis.call("HDEL", KEYS[2], unpack(part))
  redis.call("HDEL", KEYS[3], unpack(part))
end
return #evict
"""


# Remember users: their JSON value and when they were seen. KEYS: users, users:seen.
# ARGV: the time as the value's last item, the time as a score, then the users as one JSON
# array (`streamer.records.pack_users`): user id, value up to the time, user id, ...
_UPDATE_USERS_LUA = """
local users = cjson.decode(ARGV[3])
local tail, score = ARGV[1] .. "]", ARGV[2]
local values, seen = {}, {}
for i = 1, #users, 2 do
  values[#values + 1] = users[i]
  values[#values + 1] = users[i + 1] .. tail
  seen[#seen + 1] = score
  seen[#seen + 1] = users[i]
end
for s = 1, #values, 1000 do
  redis.call("HSET", KEYS[1], unpack(values, s, math.min(s + 999, #values)))
  redis.call("ZADD", KEYS[2], unpack(seen, s, math.min(s + 999, #seen)))
end
return #users / 2
"""


@dataclass(frozen=True)
class UserRecord:
    user_id: str
    screen_name: str | None
    bio: str
    lang: str | None
    last_seen: float
    cluster: tuple[int, int] | None  # (kmeans, hdbscan), None before the first fit


class Store:
    def __init__(self, redis: Redis | RedisCluster, keys: Keys, list_cap: int = 100_000) -> None:
        if isinstance(redis, RedisCluster) and not keys.cluster:
            raise ValueError("a RedisCluster client needs hash-tagged keys: Keys(cluster=True)")
        self.redis = redis
        self.keys = keys
        self.list_cap = list_cap
        self._commit = redis.register_script(_COMMIT_LUA)
        self._trim_users = redis.register_script(_TRIM_USERS_LUA)
        self._update_users = redis.register_script(_UPDATE_USERS_LUA)

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
    ) -> CommitResult:
        """Apply batch `seq` of `instance` exactly once (see _COMMIT_LUA).

        `expected` overrides the previous sequence number the checkpoint must hold: the
        writer uses it only to move past batches that are lost for good. `now` (Unix seconds)
        goes into the checkpoint and, in whole seconds, into every point (`point_time`)."""
        k = self.keys
        t = point_time(now)
        argv: list[Any] = [
            k.hashtags(""), k.geo(""), k.stats(""), k.seen(""), k.languages, k.pipeline,
            self.list_cap, SEEN_TTL_SECONDS, k.checkpoint(instance), seq,
            "" if expected is None else expected, orjson.dumps(position), round(now, 3),
            1 if dedupe else 0, t,
        ]  # fmt: skip
        pairs = [(name, value) for name, value in (counters or {}).items() if value]
        argv.append(len(pairs))
        for name, value in pairs:
            argv += [name, value]
        packed = records if isinstance(records, PackedRecords) else pack_records(records)
        argv.append(packed.data)
        status, committed, dups = await self._commit(args=argv)
        return CommitResult(int(status), int(committed), int(dups))

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
        pool process packs them: `streamer.records.pack_users`). Each user's value is the
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
        k = self.keys
        if since is None:
            rows = [
                (str(uid), raw) async for uid, raw in self.redis.hscan_iter(k.users, count=5000)
            ]
        else:
            ids = [str(u) for u in await self.redis.zrangebyscore(k.users_seen, since, "+inf")]
            rows = []
            for start in range(0, len(ids), 5000):
                part = ids[start : start + 5000]
                rows += list(zip(part, await self.redis.hmget(k.users, part), strict=True))
        out = []
        for uid, raw in rows:
            if raw is not None:
                out.append((uid, str(orjson.loads(raw)[1])))
        return out

    async def user_bios_with_language(
        self, since: float | None = None
    ) -> list[tuple[str, str, str | None]]:
        """(user id, bio, language) of the window's users (or of those seen at or after
        `since`): the language the detector gave their latest post, None if unknown."""
        k = self.keys
        if since is None:
            rows = [
                (str(uid), raw) async for uid, raw in self.redis.hscan_iter(k.users, count=5000)
            ]
        else:
            ids = [str(u) for u in await self.redis.zrangebyscore(k.users_seen, since, "+inf")]
            rows = []
            for start in range(0, len(ids), 5000):
                part = ids[start : start + 5000]
                rows += list(zip(part, await self.redis.hmget(k.users, part), strict=True))
        out = []
        for uid, raw in rows:
            if raw is not None:
                _name, bio, lang, _seen = orjson.loads(raw)
                out.append((uid, str(bio), str(lang) if lang else None))
        return out

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

    async def write_batch(
        self,
        records: Sequence[Detected],
        counters: Mapping[str, int] | None = None,
        *,
        now: float = 0.0,
    ) -> None:
        """Apply one batch atomically: list pushes, trims, totals and pipeline counters.

        Points carry `now` in whole Unix seconds, or the clock's time without it."""
        t = point_time(now)
        tags_by_lang: dict[str, list[str]] = defaultdict(list)
        points_by_lang: dict[str, list[bytes]] = defaultdict(list)
        tweets_by_lang: Counter[str] = Counter()
        for rec in records:
            tweets_by_lang[rec.lang] += 1
            if rec.hashtags:
                tags_by_lang[rec.lang].extend(rec.hashtags)
            if rec.geo is not None:
                points_by_lang[rec.lang].append(encode_point(rec.geo, t))

        cap = self.list_cap
        k = self.keys
        async with self.redis.pipeline(transaction=True) as pipe:
            for lang, n in tweets_by_lang.items():
                tags = tags_by_lang.get(lang)
                points = points_by_lang.get(lang)
                if tags:
                    pipe.rpush(k.hashtags(lang), *tags)
                    pipe.ltrim(k.hashtags(lang), -cap, -1)
                if points:
                    pipe.rpush(k.geo(lang), *points)
                    pipe.ltrim(k.geo(lang), -cap, -1)
                stats = k.stats(lang)
                pipe.hincrby(stats, "tweets", n)
                if tags:
                    pipe.hincrby(stats, "hashtags", len(tags))
                if points:
                    pipe.hincrby(stats, "geo", len(points))
            if tweets_by_lang:
                pipe.sadd(k.languages, *tweets_by_lang)
            for name, value in (counters or {}).items():
                if value:
                    pipe.hincrby(k.pipeline, name, value)
            if len(pipe) > 0:
                await pipe.execute()

    async def set_heartbeat(self, fields: Mapping[str, Any]) -> None:
        await self.redis.hset(self.keys.daemon, mapping={k: str(v) for k, v in fields.items()})

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

    async def pipeline_counters(self) -> dict[str, int]:
        if self.keys.cluster:  # one hash per ingest instance, summed
            from streamer.redis_cluster import cluster_pipeline_counters

            return await cluster_pipeline_counters(self)
        counters = await self.redis.hgetall(self.keys.pipeline)
        return {str(k): int(v) for k, v in counters.items()}

    async def heartbeat(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in (await self.redis.hgetall(self.keys.daemon)).items()}

    async def memory(self) -> dict[str, Any]:
        if self.keys.cluster:  # summed over the masters
            from streamer.redis_cluster import cluster_memory

            return await cluster_memory(self.redis)
        info = await self.redis.info("memory")
        return {
            "used_memory": int(info.get("used_memory", 0)),
            "used_memory_human": str(info.get("used_memory_human", "")),
        }
