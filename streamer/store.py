"""The only module that reads and writes Redis data. Key names come from `streamer.keys`.

Writes: one MULTI/EXEC per batch, one RPUSH per key per batch, every list trimmed in the same
transaction, so a batch lands whole or not at all and no list outgrows its cap.
Reads: the small API the CLI and the map exporter use.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from redis.asyncio import Redis

from streamer.keys import Keys
from streamer.records import Detected

Point = tuple[float, float]


@dataclass(frozen=True)
class LanguageCounts:
    tweets: int
    geo: int
    hashtags: int


def encode_point(point: Point) -> bytes:
    return orjson.dumps(point)


def decode_point(raw: str | bytes) -> Point | None:
    try:
        lat, lon = orjson.loads(raw)
        return float(lat), float(lon)
    except (orjson.JSONDecodeError, TypeError, ValueError):
        return None


def rank_hashtags(tags: Iterable[str], n: int) -> list[tuple[str, int]]:
    """Most common first; ties by tag so the answer is the same on every run."""
    counts = Counter(tags)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:n]


class Store:
    def __init__(self, redis: Redis, keys: Keys, list_cap: int = 100_000) -> None:
        self.redis = redis
        self.keys = keys
        self.list_cap = list_cap

    # --- writes -------------------------------------------------------------------------

    async def write_batch(
        self, records: Sequence[Detected], counters: Mapping[str, int] | None = None
    ) -> None:
        """Apply one batch atomically: list pushes, trims, totals and pipeline counters."""
        tags_by_lang: dict[str, list[str]] = defaultdict(list)
        points_by_lang: dict[str, list[bytes]] = defaultdict(list)
        tweets_by_lang: Counter[str] = Counter()
        for rec in records:
            tweets_by_lang[rec.lang] += 1
            if rec.hashtags:
                tags_by_lang[rec.lang].extend(rec.hashtags)
            if rec.geo is not None:
                points_by_lang[rec.lang].append(encode_point(rec.geo))

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

    async def pipeline_counters(self) -> dict[str, int]:
        counters = await self.redis.hgetall(self.keys.pipeline)
        return {str(k): int(v) for k, v in counters.items()}

    async def heartbeat(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in (await self.redis.hgetall(self.keys.daemon)).items()}

    async def memory(self) -> dict[str, Any]:
        info = await self.redis.info("memory")
        return {
            "used_memory": int(info.get("used_memory", 0)),
            "used_memory_human": str(info.get("used_memory_human", "")),
        }
