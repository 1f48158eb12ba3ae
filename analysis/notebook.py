"""Read what the daemon stores, from a Jupyter notebook (or any script), with plain functions.

    from analysis import notebook as th

    th.connect("redis://localhost:6379/0")  # or set TWEETHEAT_REDIS_URL and skip this line
    th.language_counts()       # {"en": {"tweets": 6053, "geo": 1807, "hashtags": 5639}, ...}
    th.top_hashtags("en", 10)  # [("news", 1479), ("music", 770), ...]
    th.points("en", 400)       # [(lat, lon), ...], oldest first
    th.timed_points("en", 400) # [(lat, lon, t), ...]: t the commit time in Unix seconds, or None
    th.geo_points("en", 400)   # [GeoPoint(lat, lon, t, source, precision_km), ...]
    th.geo_points("en", 400, source="exact")  # only the posts' own geotags
    th.located_by_source()     # {"en": {"exact": n, "place": n, "profile": n, "bio": n}, ...}
    th.heatmap("en")           # a folium.Map: exact and inferred layers, a cell ending with it
                               # draws the map
    th.clusters()              # out/clusters/latest.json as a dict, or None before any clustering
    th.trends("en", 10)        # {"en": [{"tag", "score", "count", "baseline", "since"}]}
    th.trends(at="2026-11-01T12:05:00Z")  # as of an event time still retained, every language
    th.timeline("worldcup", "en")  # {"en": [("2026-11-01T12:00:00Z", 3), ...]} per event minute

`points` keeps giving (lat, lon) pairs; `timed_points` adds when each point was committed, with
t None for points stored before the daemon kept times. The answers are those of
`tweetheat status/top/points --json`, read through the same key names
(`streamer.storage.keys.Keys`).
The functions are synchronous on purpose: a notebook kernel already runs an event loop, so the
daemon's asyncio Store (and asyncio.run) cannot be used from a cell.
Each function uses the connection made by the last `connect()`, or connects on first use.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import folium
import redis
import redis.cluster

from analysis.heatmaps import heatmap_map
from analysis.summaries import Point, usable_points
from analysis.trend_report import final_bucket, trend_params
from analysis.trends import Trend, span_seconds, trending
from streamer.config import TrendSettings
from streamer.storage import trend_store
from streamer.storage.keys import Keys
from streamer.storage.redis_cluster import is_cluster_url, sync_cluster_client
from streamer.storage.store import (
    GeoPoint,
    TimedPoint,
    decode_geo_point,
    decode_point,
    decode_timed_point,
    geo_sources,
    rank_hashtags,
)

URL_ENV = "TWEETHEAT_REDIS_URL"
DEFAULT_PREFIX = Keys().prefix
# Where the clustering job writes its latest result, under the daemon's out directory.
CLUSTERS_JSON = Path("clusters") / "latest.json"


@dataclass
class Tweetheat:
    """A connection to one tweetheat Redis, plus where the daemon writes its files."""

    redis: redis.Redis | redis.cluster.RedisCluster
    keys: Keys
    out_dir: Path

    def language_counts(self) -> dict[str, dict[str, int]]:
        """Running totals per language, busiest first: {"en": {"tweets", "geo", "hashtags"}}."""
        langs = sorted(cast(set[str], self.redis.smembers(self.keys.languages)))
        pipe = self.redis.pipeline(transaction=False)
        for lang in langs:
            pipe.hgetall(self.keys.stats(lang))
        counts = {
            lang: {name: int(row.get(name, 0)) for name in ("tweets", "geo", "hashtags")}
            for lang, row in zip(langs, pipe.execute(), strict=True)
        }
        return dict(sorted(counts.items(), key=lambda item: (-item[1]["tweets"], item[0])))

    def top_hashtags(self, lang: str, n: int = 10, *, window: int = 5000) -> list[tuple[str, int]]:
        """The `n` most common among the language's last `window` hashtags; ties by tag."""
        return rank_hashtags(self._newest(self.keys.hashtags(lang), window), n)

    def points(self, lang: str, n: int = 400) -> list[Point]:
        """The language's `n` most recent (lat, lon) points, oldest first."""
        raw = self._newest(self.keys.geo(lang), n)
        return [point for point in map(decode_point, raw) if point is not None]

    def timed_points(self, lang: str, n: int = 400) -> list[TimedPoint]:
        """The language's `n` most recent points as (lat, lon, t), oldest first: t is when the
        point was committed (Unix seconds), None for points stored before times were kept."""
        raw = self._newest(self.keys.geo(lang), n)
        return [point for point in map(decode_timed_point, raw) if point is not None]

    # --- geolocation: where each point came from ---

    def geo_points(
        self, lang: str, n: int = 400, *, source: str | None = None, scan: int = 0
    ) -> list[GeoPoint]:
        """The language's `n` most recent points with their source ("exact": the post's own
        geotag; "place", "profile", "bio": inferred) and precision in km, oldest first; with
        `source`, only that source's, looked for among the newest max(n, `scan`) entries."""
        raw = self._newest(self.keys.geo(lang), max(n, scan) if source else n)
        found = [p for p in map(decode_geo_point, raw) if p is not None]
        if source is not None:
            found = [p for p in found if p.source == source]
        return found[-n:] if n > 0 else []

    def located_by_source(self) -> dict[str, dict[str, int]]:
        """Located posts per language by source, from the running totals."""
        langs = sorted(cast(set[str], self.redis.smembers(self.keys.languages)))
        pipe = self.redis.pipeline(transaction=False)
        for lang in langs:
            pipe.hgetall(self.keys.stats(lang))
        return {lang: geo_sources(row) for lang, row in zip(langs, pipe.execute(), strict=True)}

    def heatmap(self, lang: str, n: int = 400) -> folium.Map:
        """The language page's map, drawn from its `n` most recent points: exact geotags and
        inferred points as two layers."""
        points = self.geo_points(lang, n)
        exact = usable_points([(p.lat, p.lon) for p in points if p.source == "exact"])
        inferred = usable_points([(p.lat, p.lon) for p in points if p.source != "exact"])
        km = sorted(p.precision_km for p in points if p.source != "exact")
        return heatmap_map(
            lang, exact, inferred=inferred, precision_km=km[len(km) // 2] if km else None
        )

    # --- end geolocation ---

    def clusters(self) -> dict[str, Any] | None:
        """The latest bio clustering the daemon wrote, or None if it has written none yet."""
        try:
            text = (self.out_dir / CLUSTERS_JSON).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        result: dict[str, Any] = json.loads(text)
        return result

    # --- trends -----------------------------------------------------------------------------

    def trends(
        self,
        lang: str | None = None,
        n: int = 10,
        *,
        at: int | str | None = None,
        settings: TrendSettings | None = None,
    ) -> dict[str, list[Trend]]:
        """What `tweetheat trends --json` answers: per language, up to `n` tags far above
        their own usual rate, strongest first (an empty list when nothing trends). `at`: an
        event time (Unix seconds or ISO 8601 UTC) still retained; default the newest final
        minute. `settings`: the `[trends]` the daemon runs with (default: the defaults)."""
        t = settings or TrendSettings()
        keys = self._trend_keys()
        langs = [lang] if lang else self._trend_languages()
        when = _event_time(at)
        if when is None:
            clocks = [int(v) for v in cast(list[str], self.redis.hvals(keys.clock()))]
            if self.keys.cluster:
                for code in langs:
                    clocks += [int(v) for v in cast(list[str], self.redis.hvals(
                        self.keys.trend_lang_clock(code)))]  # fmt: skip
            when = final_bucket(max(clocks) if clocks else None, t)
        if when is None:
            return {code: [] for code in langs}
        p = trend_params(t)
        when -= when % p.bucket_seconds
        out = {}
        for code in langs:
            found = trend_store.read_lang(
                self.redis,  # type: ignore[arg-type]
                keys, code, when - span_seconds(p), when,
            )  # fmt: skip
            out[code] = trending(found.tags, when, p)[:n]
        return out

    def timeline(self, tag: str, lang: str | None = None) -> dict[str, list[tuple[str, int]]]:
        """What `tweetheat timeline --json` answers: per language, (event minute, count) of
        `tag` over the retained buckets; languages where it never appears are left out."""
        tag = tag.lower().lstrip("#")
        out = {}
        for code in [lang] if lang else self._trend_languages():
            line = trend_store.timeline(self.redis, self._trend_keys(), code, tag)  # type: ignore[arg-type]
            if lang or any(count for _, count in line):
                out[code] = line
        return out

    def _trend_keys(self) -> trend_store.TrendKeys:
        return trend_store.TrendKeys(self.keys.prefix, self.keys.cluster)

    def _trend_languages(self) -> list[str]:
        found = set(cast(set[str], self.redis.smembers(self.keys.trend_langs)))
        if self.keys.cluster:
            found |= set(cast(set[str], self.redis.smembers(self.keys.languages)))
        return sorted(found)

    # --- end trends ---

    def close(self) -> None:
        self.redis.close()

    def _newest(self, key: str, n: int) -> list[str]:
        # LRANGE -0 -1 would be the whole list, not none of it.
        return cast(list[str], self.redis.lrange(key, -n, -1)) if n > 0 else []


_current: Tweetheat | None = None


def connect(
    url: str | None = None, *, key_prefix: str = DEFAULT_PREFIX, out_dir: str | Path = "out"
) -> Tweetheat:
    """Connect to the daemon's Redis: `url`, else $TWEETHEAT_REDIS_URL. Later calls use it.

    redis://, rediss:// and unix:// URLs work, and redis+cluster://host:port,... for a Redis
    Cluster; the daemon's embedded Redis (`make run`) is
    unix://<repo>/data/redis/redis.sock. `out_dir` is the daemon's out directory, for clusters().
    Fails at once, with Redis's own error, if nothing answers there.
    """
    global _current
    url = url or os.environ.get(URL_ENV)
    if not url:
        raise LookupError(
            f"no Redis URL: call connect(url) or set {URL_ENV} (the embedded Redis of "
            "'make run' is unix://<repo>/data/redis/redis.sock)"
        )
    client: redis.Redis | redis.cluster.RedisCluster
    if is_cluster_url(url):  # a Redis Cluster: hash-tagged key names
        client = sync_cluster_client(url)
        keys = Keys(key_prefix, cluster=True)
    else:
        client = redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=5.0)
        keys = Keys(key_prefix)
    client.ping()
    disconnect()
    _current = Tweetheat(client, keys, Path(out_dir))
    return _current


def disconnect() -> None:
    """Close the connection the functions use (the next call connects again)."""
    global _current
    if _current is not None:
        _current.close()
        _current = None


def current() -> Tweetheat:
    """The connection the functions use, made from $TWEETHEAT_REDIS_URL on first use."""
    return _current if _current is not None else connect()


def language_counts() -> dict[str, dict[str, int]]:
    """Running totals per language, busiest first: {"en": {"tweets", "geo", "hashtags"}}."""
    return current().language_counts()


def top_hashtags(lang: str, n: int = 10, *, window: int = 5000) -> list[tuple[str, int]]:
    """The `n` most common among the language's last `window` hashtags; ties by tag."""
    return current().top_hashtags(lang, n, window=window)


def points(lang: str, n: int = 400) -> list[Point]:
    """The language's `n` most recent (lat, lon) points, oldest first."""
    return current().points(lang, n)


def timed_points(lang: str, n: int = 400) -> list[TimedPoint]:
    """The language's `n` most recent points as (lat, lon, t), oldest first: t is when the point
    was committed (Unix seconds), None for points stored before times were kept."""
    return current().timed_points(lang, n)


def geo_points(lang: str, n: int = 400, *, source: str | None = None) -> list[GeoPoint]:
    """The language's `n` most recent points with source and precision, oldest first."""
    return current().geo_points(lang, n, source=source, scan=100 * n)


def located_by_source() -> dict[str, dict[str, int]]:
    """Located posts per language by source ("exact", "place", "profile", "bio")."""
    return current().located_by_source()


def heatmap(lang: str, n: int = 400) -> folium.Map:
    """The language's heatmap from its `n` most recent points; a cell ending with it draws it."""
    return current().heatmap(lang, n)


def clusters() -> dict[str, Any] | None:
    """The latest bio clustering (out/clusters/latest.json), or None if there is none yet."""
    return current().clusters()


def trends(
    lang: str | None = None,
    n: int = 10,
    *,
    at: int | str | None = None,
    settings: TrendSettings | None = None,
) -> dict[str, list[Trend]]:
    """Trending now per language, as `tweetheat trends --json` (see `Tweetheat.trends`)."""
    return current().trends(lang, n, at=at, settings=settings)


def timeline(tag: str, lang: str | None = None) -> dict[str, list[tuple[str, int]]]:
    """A tag's count per event minute, per language, as `tweetheat timeline --json`."""
    return current().timeline(tag, lang)


def _event_time(at: int | str | None) -> int | None:
    """Unix seconds from Unix seconds or ISO 8601 UTC ("2026-11-01T12:05:00Z")."""
    if at is None or isinstance(at, int):
        return at
    from datetime import UTC, datetime

    when = datetime.fromisoformat(at.replace("Z", "+00:00"))
    return int((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp())
