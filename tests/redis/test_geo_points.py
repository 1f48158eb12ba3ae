"""Points carry their source: the commit scripts store it, the stats count it per source, and
the readers take every entry form (older ones are exact points)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import redis

from analysis.heatmaps import write_maps
from analysis.snapshot import collect_summaries
from analysis.summaries import LanguageSummary
from streamer.config import MapsSettings
from streamer.core.records import Detected, pack_records
from streamer.storage.connections import redis_client
from streamer.storage.keys import Keys
from streamer.storage.store import (
    APPLIED,
    CommitResult,
    GeoPoint,
    Store,
    decode_geo_point,
    geo_sources,
)
from tests.redis.test_heatmaps import live_data

BATCH = [
    Detected("en", (), (1.5, 2.5), "1"),  # exact: the post's own geotag
    Detected("en", (), (48.85, 2.35), "2", "place", 11.2),
    Detected("en", ("a",), None, "3"),
    Detected("en", (), (35.6895, 139.6917), "4", "profile", 25.0),
    Detected("ja", (), (34.6937, 135.5023), "5", "bio", 10.0),
    Detected("en", (), (51.5074, -0.1278), "6", "profile", 25.0),
]


def test_the_commit_stores_each_points_source_and_counts_it(redis_url: str) -> None:
    async def go() -> tuple[dict, list[GeoPoint], list[GeoPoint], list[GeoPoint]]:
        client = redis_client(redis_url)
        store = Store(client, Keys("g1:"))
        result = await store.commit_batch("t", 1, pack_records(BATCH), now=1_700_000_000.4)
        assert result == CommitResult(APPLIED, 1)
        counts = await store.language_counts()
        every = await store.geo_points("en", 10)
        profile = await store.geo_points("en", 10, ["profile"])
        newest_inferred = await store.geo_points("en", 1, ["place", "profile", "bio"])
        await client.aclose()
        return counts, every, profile, newest_inferred

    counts, every, profile, newest_inferred = asyncio.run(go())
    raw = redis.Redis.from_url(redis_url, decode_responses=True)
    # Exact points keep the form older versions wrote; inferred ones add source and precision.
    assert raw.lrange("g1:geo_en", 0, -1) == [
        "[1.5,2.5,1700000000]",
        '[48.85,2.35,1700000000,"place",11.2]',
        '[35.6895,139.6917,1700000000,"profile",25.0]',
        '[51.5074,-0.1278,1700000000,"profile",25.0]',
    ]
    stats = raw.hgetall("g1:stats:en")
    assert (stats["geo"], stats["geo:exact"], stats["geo:place"], stats["geo:profile"]) == (
        "4", "1", "1", "2"
    )  # fmt: skip
    assert "geo:bio" not in stats
    assert raw.hgetall("g1:stats:ja")["geo:bio"] == "1"
    assert counts["en"].geo_sources == {"exact": 1, "place": 1, "profile": 2}
    assert counts["ja"].geo_sources == {"bio": 1}
    assert [p.source for p in every] == ["exact", "place", "profile", "profile"]
    assert every[1] == GeoPoint(48.85, 2.35, 1_700_000_000.0, "place", 11.2)
    assert [(p.lat, p.lon) for p in profile] == [(35.6895, 139.6917), (51.5074, -0.1278)]
    assert [(p.lat, p.lon) for p in newest_inferred] == [(51.5074, -0.1278)]


def test_a_cluster_language_part_stores_the_same_entries(redis_url: str) -> None:
    async def go() -> None:
        client = redis_client(redis_url)
        store = Store(client, Keys("g2:", cluster=True))
        en = [rec for rec in BATCH if rec.lang == "en"]
        result = await store.commit_language_part("i", "en", 1, 0, en, now=1_700_000_000.0)
        assert result.status == APPLIED
        await client.aclose()

    asyncio.run(go())
    raw = redis.Redis.from_url(redis_url, decode_responses=True)
    assert raw.lrange("g2:geo_{en}", 0, -1)[:2] == [
        "[1.5,2.5,1700000000]",
        '[48.85,2.35,1700000000,"place",11.2]',
    ]
    stats = raw.hgetall("g2:stats:{en}")
    assert (stats["geo:exact"], stats["geo:place"], stats["geo:profile"]) == ("1", "1", "2")


def test_a_batch_journaled_before_sources_commits_its_points_as_exact(redis_url: str) -> None:
    """A packed row whose point is "[lat,lon]" (what older versions journaled) still lands."""
    old = pack_records([Detected("en", (), (1.0, 2.0), "9")])
    assert orjson.loads(old.data)[0][2] == "[1.0,2.0]"

    async def go() -> None:
        client = redis_client(redis_url)
        store = Store(client, Keys("g3:"))
        await store.commit_batch("t", 1, old, now=5.0)
        await client.aclose()

    asyncio.run(go())
    raw = redis.Redis.from_url(redis_url, decode_responses=True)
    assert raw.lrange("g3:geo_en", 0, -1) == ["[1.0,2.0,5]"]
    assert raw.hgetall("g3:stats:en")["geo:exact"] == "1"


def test_readers_take_every_entry_form() -> None:
    assert decode_geo_point("[1.0,2.0]") == GeoPoint(1.0, 2.0, None, "exact", 0.0)
    assert decode_geo_point("[1.0,2.0,7]") == GeoPoint(1.0, 2.0, 7.0, "exact", 0.0)
    assert decode_geo_point('[1,2,7,"bio",5]') == GeoPoint(1.0, 2.0, 7.0, "bio", 5.0)
    assert decode_geo_point('[1,2,7,"text",5]') is None  # not a source we write
    assert decode_geo_point('[1,2,7,"bio"]') is None
    assert decode_geo_point("nonsense") is None


def test_located_posts_stored_before_sources_count_as_exact() -> None:
    assert geo_sources({"tweets": "9", "geo": "5"}) == {"exact": 5}
    assert geo_sources({"geo": "7", "geo:exact": "1", "geo:profile": "4"}) == {
        "exact": 3,
        "profile": 4,
    }
    assert geo_sources({"tweets": "3"}) == {}


def test_the_maps_draw_exact_and_inferred_points_as_their_own_layers(
    redis_url: str, tmp_path: Path
) -> None:
    now = time.time()

    async def go() -> list[LanguageSummary]:
        client = redis_client(redis_url)
        store = Store(client, Keys("g4:"))
        await store.commit_batch("t", 1, BATCH, now=now - 60)
        summaries = await collect_summaries(store, MapsSettings(points=2))
        await client.aclose()
        return summaries

    summaries = {s.lang: s for s in asyncio.run(go())}
    en = summaries["en"]
    # The newest 2 of each layer: the one exact point, and the newest 2 inferred.
    assert en.point_sources == ("exact", "profile", "profile")
    assert en.inferred_precision_km == 25.0
    write_maps(tmp_path, list(summaries.values()), generated_at=datetime.now(UTC))

    live = {lang["lang"]: lang for lang in live_data(tmp_path / "maps" / "index.html")["languages"]}
    assert [p[3] for p in live["en"]["points"]] == [0, 1, 1]
    assert live["en"]["precisionKm"] == 25.0
    index = (tmp_path / "maps" / "index.html").read_text()
    page = (tmp_path / "maps" / "en.html").read_text()
    for html in (index, page):
        assert "GeoNames (geonames.org), CC BY 4.0" in html
        assert "the post&#x27;s own geotag" in html
        assert "from the place, the author&#x27;s profile location or bio, precision shown" in html
    assert "Exact geotags" in page and "Inferred locations" in page
    assert "median precision 25 km" in page
    assert "(1 point)" in page and "(2 points, median" in page
