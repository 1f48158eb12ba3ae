"""Trend counts in Redis: write a batch's admitted cells, prune by event time, read them back.

Per language and event-time bucket (bucket start in Unix seconds):

{prefix}trend:{lang}:{bucket}       zset  tag -> count, capped to the `top_k` largest
{prefix}trend:{lang}:{bucket}:n     hash  posts (all posts of the cell, tagged or not),
                                          evicted (count mass dropped by the cap),
                                          evicted_max (largest single count dropped)
{prefix}trend:{lang}:buckets        zset  bucket -> bucket: the retained buckets, for pruning
                                          and reading without SCAN
{prefix}trend:langs                 set   languages with trend data
{prefix}trend:clock                 hash  ingest instance -> newest bucket committed (the
                                          watermark survives a restart)

On a Redis Cluster the per-language keys carry `{lang}` as their hash tag, so one script call
touches one slot. The names are made in `streamer.storage.keys` (`TrendKeys` asks it).

Memory is bounded whatever the number of distinct tags: a bucket holds at most `top_k` tags,
and buckets older than the newest one minus `retention_seconds` (event time) are deleted, so
the total is langs x (retention / bucket) x top_k members. Every key also gets a wall-clock
TTL of `retention_seconds`, so a stopped daemon leaves nothing behind.

Both a sync (`redis.Redis`) and an asyncio (`redis.asyncio.Redis`) client work; the caller
owns the client. Writes are queued on a pipeline (`queue_apply`), so the commit can put them
into its own pipeline or transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
import redis
import redis.asyncio

from streamer.core.trend_counts import Admitted, bucket_iso
from streamer.storage.keys import Keys
from streamer.storage.lua import TREND_CAP

__all__ = [
    "APPLY_LUA",
    "LangCounts",
    "TrendKeys",
    "TrendSettings",
    "apply",
    "apply_async",
    "ensure_script",
    "ensure_script_async",
    "load_clock",
    "prune",
    "prune_async",
    "queue_apply",
    "read_lang",
    "read_lang_async",
    "read_langs",
    "timeline",
]


@dataclass(frozen=True)
class TrendKeys:
    """The trend key names, as named by `streamer.storage.keys.Keys` (their one home)."""

    prefix: str = "tweetheat:"
    cluster: bool = False

    @property
    def _keys(self) -> Keys:
        return Keys(self.prefix, self.cluster)

    def counts(self, lang: str, bucket: int) -> str:
        return self._keys.trend_counts(lang, bucket)

    def meta(self, lang: str, bucket: int) -> str:
        return self._keys.trend_meta(lang, bucket)

    def buckets(self, lang: str) -> str:
        return self._keys.trend_buckets(lang)

    def langs(self) -> str:
        return self._keys.trend_langs

    def clock(self) -> str:
        return self._keys.trend_clock


@dataclass(frozen=True)
class TrendSettings:
    top_k: int = 256  # tags kept per (lang, bucket)
    retention_seconds: int = 24 * 3600  # event time kept behind the newest bucket
    lateness_seconds: int = 300  # the event clock's allowed lateness (commit scripts)
    tag_points: int = 500  # newest points kept per tag (0: none)
    point_tags: int = 512  # tags with a point list per language


# One cell of one batch: add the counts, count the posts, cap the set to top_k (smallest
# counts first, ties in member order: what merge_capped does in Python), remember what the
# cap dropped, register the bucket and refresh the TTLs.
# KEYS: counts zset, meta hash, buckets index.
# ARGV: top_k, ttl, bucket, posts, JSON [tag, n, tag, n, ...] (one argument: cheaper to send).
APPLY_LUA = (
    TREND_CAP
    + """
local counts, meta, index = KEYS[1], KEYS[2], KEYS[3]
local top_k, ttl = tonumber(ARGV[1]), tonumber(ARGV[2])
local pairs = cjson.decode(ARGV[5])
for i = 1, #pairs, 2 do
  redis.call('ZINCRBY', counts, pairs[i + 1], pairs[i])
end
redis.call('HINCRBY', meta, 'posts', ARGV[4])
trend_cap(counts, meta, top_k)
redis.call('EXPIRE', counts, ttl)
redis.call('EXPIRE', meta, ttl)
redis.call('ZADD', index, ARGV[3], ARGV[3])
redis.call('EXPIRE', index, ttl)
return 0
"""
)
APPLY_SHA = hashlib.sha1(APPLY_LUA.encode()).hexdigest()


@dataclass
class LangCounts:
    """One language's retained buckets, as the scoring functions read them."""

    tags: dict[int, dict[str, int]] = field(default_factory=dict)
    posts: dict[int, int] = field(default_factory=dict)
    evicted: dict[int, int] = field(default_factory=dict)


def queue_apply(
    pipe: Any,
    keys: TrendKeys,
    admitted: Admitted,
    settings: TrendSettings,
    *,
    instance: str = "ingest",
    newest: int | None = None,
) -> set[str]:
    """Queue one batch's admitted cells on `pipe` (a sync or asyncio pipeline; queueing is
    synchronous on both). The script must be loaded (`ensure_script`). Returns the languages
    touched."""
    top_k, ttl = str(settings.top_k), str(settings.retention_seconds)
    langs: set[str] = set()
    for cell, posts in admitted.posts.items():
        lang, bucket = cell
        tags = admitted.tags.get(cell)
        flat = [x for pair in tags.items() for x in pair] if tags else []
        pipe.evalsha(
            APPLY_SHA,
            3,
            keys.counts(lang, bucket),
            keys.meta(lang, bucket),
            keys.buckets(lang),
            top_k,
            ttl,
            bucket,
            posts,
            orjson.dumps(flat),
        )
        langs.add(lang)
    if langs:
        pipe.sadd(keys.langs(), *sorted(langs))
    if newest is not None:
        pipe.hset(keys.clock(), instance, newest)
    return langs


def _oldest_kept(newest: int, settings: TrendSettings) -> int:
    return newest - settings.retention_seconds


def _stale_keys(keys: TrendKeys, lang: str, buckets: Iterable[bytes | str | float]) -> list[str]:
    names: list[str] = []
    for raw in buckets:
        bucket = int(float(raw))
        names += [keys.counts(lang, bucket), keys.meta(lang, bucket)]
    return names


def ensure_script(client: redis.Redis) -> None:
    """Load the apply script (before queueing `queue_apply` calls on a pipeline)."""
    client.script_load(APPLY_LUA)


async def ensure_script_async(client: redis.asyncio.Redis) -> None:
    await client.script_load(APPLY_LUA)


def apply(
    client: redis.Redis,
    keys: TrendKeys,
    admitted: Admitted,
    settings: TrendSettings,
    *,
    newest: int | None = None,
    instance: str = "ingest",
) -> None:
    """Write one batch (sync client). Pass `newest` (the `EventClock`'s) when the clock moved,
    once a bucket is enough: it saves the clock and prunes every language's old buckets."""
    for attempt in (0, 1):
        pipe = client.pipeline(transaction=False)
        queue_apply(pipe, keys, admitted, settings, instance=instance, newest=newest)
        try:
            pipe.execute()
            break
        except redis.exceptions.NoScriptError:
            if attempt:
                raise
            # A restarted Redis forgot the script: the failed calls wrote nothing, and the
            # rest of the pipeline (SADD, HSET of the clock) is idempotent.
            ensure_script(client)
    if newest is not None:
        prune(client, keys, newest, settings)


def prune(client: redis.Redis, keys: TrendKeys, newest: int, settings: TrendSettings) -> int:
    """Delete the buckets of every language older than `newest` minus the retention, in
    event time (a fast replay must not pile up days of buckets). Returns buckets deleted."""
    langs = read_langs(client, keys)
    oldest = f"({_oldest_kept(newest, settings)}"
    pipe = client.pipeline(transaction=False)
    for lang in langs:
        pipe.zrangebyscore(keys.buckets(lang), "-inf", oldest)
    stale = pipe.execute() if langs else []
    pipe = client.pipeline(transaction=False)
    deleted = _queue_deletes(pipe, keys, langs, stale, oldest)
    if deleted:
        pipe.execute()
    return deleted


def _queue_deletes(
    pipe: Any, keys: TrendKeys, langs: list[str], stale: list[Any], oldest: str
) -> int:
    deleted = 0
    for lang, gone in zip(langs, stale, strict=True):
        if gone:
            pipe.delete(*_stale_keys(keys, lang, gone))
            pipe.zremrangebyscore(keys.buckets(lang), "-inf", oldest)
            deleted += len(gone)
    return deleted


async def apply_async(
    client: redis.asyncio.Redis,
    keys: TrendKeys,
    admitted: Admitted,
    settings: TrendSettings,
    *,
    newest: int | None = None,
    instance: str = "ingest",
) -> None:
    """`apply` for an asyncio client."""
    for attempt in (0, 1):
        pipe = client.pipeline(transaction=False)
        queue_apply(pipe, keys, admitted, settings, instance=instance, newest=newest)
        try:
            await pipe.execute()
            break
        except redis.exceptions.NoScriptError:
            if attempt:
                raise
            await ensure_script_async(client)
    if newest is not None:
        await prune_async(client, keys, newest, settings)


async def prune_async(
    client: redis.asyncio.Redis, keys: TrendKeys, newest: int, settings: TrendSettings
) -> int:
    """`prune` for an asyncio client."""
    langs = sorted(_text(m) for m in await client.smembers(keys.langs()))
    oldest = f"({_oldest_kept(newest, settings)}"
    pipe = client.pipeline(transaction=False)
    for lang in langs:
        pipe.zrangebyscore(keys.buckets(lang), "-inf", oldest)
    stale = await pipe.execute() if langs else []
    pipe = client.pipeline(transaction=False)
    deleted = _queue_deletes(pipe, keys, langs, stale, oldest)
    if deleted:
        await pipe.execute()
    return deleted


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


def load_clock(client: redis.Redis, keys: TrendKeys, instance: str = "ingest") -> int | None:
    """The newest bucket an instance committed, to restart its `EventClock` from."""
    raw = client.hget(keys.clock(), instance)
    return int(raw) if raw is not None else None


def read_langs(client: redis.Redis, keys: TrendKeys) -> list[str]:
    return sorted(_text(m) for m in client.smembers(keys.langs()))


def _bucket_list(raw: Any) -> list[int]:
    return sorted(int(float(b)) for b in raw)


def _queue_read(pipe: Any, keys: TrendKeys, lang: str, buckets: list[int]) -> None:
    for bucket in buckets:
        pipe.zrange(keys.counts(lang, bucket), 0, -1, withscores=True)
        pipe.hmget(keys.meta(lang, bucket), "posts", "evicted")


def _decode(lang_buckets: list[int], replies: list[Any]) -> LangCounts:
    out = LangCounts()
    for i, bucket in enumerate(lang_buckets):
        members, (posts, evicted) = replies[2 * i], replies[2 * i + 1]
        out.tags[bucket] = {
            (m.decode() if isinstance(m, bytes) else m): int(score) for m, score in members
        }
        out.posts[bucket] = int(posts or 0)
        out.evicted[bucket] = int(evicted or 0)
    return out


def read_lang(
    client: redis.Redis,
    keys: TrendKeys,
    lang: str,
    start: int | None = None,
    end: int | None = None,
) -> LangCounts:
    """The retained buckets of `lang` with start <= bucket <= end (Unix seconds)."""
    lo = "-inf" if start is None else start
    hi = "+inf" if end is None else end
    buckets = _bucket_list(client.zrangebyscore(keys.buckets(lang), lo, hi))
    pipe = client.pipeline(transaction=False)
    _queue_read(pipe, keys, lang, buckets)
    return _decode(buckets, pipe.execute() if buckets else [])


async def read_lang_async(
    client: redis.asyncio.Redis,
    keys: TrendKeys,
    lang: str,
    start: int | None = None,
    end: int | None = None,
) -> LangCounts:
    """`read_lang` for an asyncio client."""
    lo = "-inf" if start is None else start
    hi = "+inf" if end is None else end
    raw = await client.zrangebyscore(keys.buckets(lang), lo, hi)
    buckets = _bucket_list(raw)
    if not buckets:
        return LangCounts()
    pipe = client.pipeline(transaction=False)
    _queue_read(pipe, keys, lang, buckets)
    return _decode(buckets, await pipe.execute())


def timeline(
    client: redis.Redis,
    keys: TrendKeys,
    lang: str,
    tag: str,
    start: int | None = None,
    end: int | None = None,
) -> list[tuple[str, int]]:
    """(bucket start as ISO 8601 UTC, count) of one tag over the retained buckets of its
    language (0 where it was absent or not kept)."""
    lo = "-inf" if start is None else start
    hi = "+inf" if end is None else end
    buckets = _bucket_list(client.zrangebyscore(keys.buckets(lang), lo, hi))
    pipe = client.pipeline(transaction=False)
    for bucket in buckets:
        pipe.zscore(keys.counts(lang, bucket), tag)
    scores = pipe.execute() if buckets else []
    return [(bucket_iso(b), int(s or 0)) for b, s in zip(buckets, scores, strict=True)]


def lang_counts_from(tags: Mapping[int, Mapping[str, int]]) -> LangCounts:
    """A LangCounts from plain in-process maps (tests and the bench compare the two)."""
    return LangCounts(tags={b: dict(c) for b, c in tags.items()})
