"""The worker runs the evidence ladder per post, as `[geo]` says, with the detected language."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from streamer.config import GeoSettings
from streamer.core.records import Post
from streamer.ingest import worker
from streamer.ingest.limits import LOCATION_MAX_CHARS, LOCATION_TOO_LONG
from streamer.ingest.parser import parse_payload

CACHE = os.environ["TWEETHEAT_GEO_CACHE_DIR"]  # tests/conftest.py: the gazetteer make setup built


def tweet(n: int, text: str, *, location: str | None = None, **fields: Any) -> bytes:
    user = {"id_str": str(n), "screen_name": f"u{n}", "description": fields.pop("bio", "x")}
    if location is not None:
        user["location"] = location
    return orjson.dumps({"id_str": str(n), "text": text, "user": user, **fields})


PARIS_BOX = {"bounding_box": {"coordinates": [[[2.2, 48.8], [2.2, 48.9], [2.5, 48.9]]]}}
LINES = [
    tweet(1, "Good morning everyone, how are you today", coordinates={"coordinates": [10, 20]},
          place=PARIS_BOX, location="Tokyo"),
    tweet(2, "Good morning everyone, how are you today", place=PARIS_BOX, location="Tokyo"),
    tweet(3, "Good morning everyone, how are you today", location="Austin, TX"),
    tweet(4, "Good morning everyone, how are you today", location="in your heart"),
    tweet(5, "Good morning everyone, how are you today", bio="Coffee lover 📍 Lisbon"),
    tweet(6, "Good morning everyone, how are you today"),
]  # fmt: skip


@pytest.fixture
def geo_worker() -> Iterator[None]:
    worker._chooser = worker.LanguageChooser("default", ["en", "fr", "ja"], False)
    yield
    worker.init_geolocation(None, None)


def located(settings: GeoSettings) -> list[tuple[str, tuple[float, float] | None]]:
    worker.init_geolocation(settings, CACHE)
    result = worker.process_batch(LINES)
    return [(r.geo_source if r.geo else "none", r.geo) for r in result.records]


def test_the_ladder_takes_the_best_evidence_each_post_has(geo_worker: None) -> None:
    found = located(GeoSettings())
    assert [source for source, _ in found] == ["exact", "place", "profile", "none", "bio", "none"]
    assert found[0][1] == (20.0, 10.0)
    assert found[1][1] == pytest.approx((48.85, 2.35))
    austin, lisbon = found[2][1], found[4][1]
    assert austin is not None and abs(austin[0] - 30.27) < 0.5 and abs(austin[1] + 97.74) < 0.5
    assert lisbon is not None and abs(lisbon[0] - 38.72) < 0.5 and abs(lisbon[1] + 9.14) < 0.5
    result = worker.process_batch(LINES)
    assert result.located == {("en", s): 1 for s in ("exact", "place", "profile", "bio")} | {
        ("en", "none"): 2
    }
    # Inferred points carry how far off they may be; an exact one, nothing.
    precisions = {r.geo_source: r.precision_km for r in result.records if r.geo}
    assert precisions["exact"] == 0.0 and all(
        km > 0 for src, km in precisions.items() if src != "exact"
    )


def test_sources_limit_the_ladder(geo_worker: None) -> None:
    found = located(GeoSettings(sources=("exact", "profile")))
    # The place is not used: post 2 falls through to its author's "Tokyo".
    assert [source for source, _ in found] == [
        "exact",
        "profile",
        "profile",
        "none",
        "none",
        "none",
    ]


def test_disabled_keeps_the_points_and_places_only(geo_worker: None) -> None:
    found = located(GeoSettings(enabled=False))
    assert worker._geolocator is None  # no gazetteer loaded at all
    assert [source for source, _ in found] == ["exact", "place", "none", "none", "none", "none"]


def test_a_long_location_is_cut_and_counted() -> None:
    post = parse_payload(tweet(7, "hi", location="Berlin " * 100))
    assert isinstance(post, Post) and post.location is not None
    assert len(post.location) == LOCATION_MAX_CHARS
    assert LOCATION_TOO_LONG in post.trimmed


def test_repeated_profile_locations_give_the_ladders_own_answers(geo_worker: None) -> None:
    """The worker keeps the profile step's answer per (location, language): a repeat must give
    what the full ladder gives, and a location that names no place still falls to the bio."""
    worker.init_geolocation(GeoSettings(), CACHE)
    assert worker._geolocator is not None
    posts = [
        tweet(8, "Good morning everyone, how are you today", location="Austin, TX"),
        tweet(9, "Good morning everyone, how are you today", location="in your heart",
              bio="Coffee lover 📍 Lisbon"),
        tweet(10, "Good morning everyone, how are you today", location="in your heart"),
        tweet(11, "Bonjour à tous, il fait très beau aujourd'hui", location="Austin, TX"),
    ]  # fmt: skip
    expected = []
    for line in posts:
        post = parse_payload(line)
        assert isinstance(post, Post)
        lang, _ = worker.chooser()(post.text, post.platform_lang)
        found = worker.geolocate(worker._geolocator, None, None, post.location, post.bio, lang)
        expected.append(worker._where(found))
    assert expected[1] is not None and expected[1][1] == "bio"
    for _ in range(2):  # the second round answers from the cache
        got = [(r.geo, r.geo_source, r.precision_km) if r.geo else None
               for r in worker.process_batch(posts).records]  # fmt: skip
        assert got == expected
    assert ("Austin, TX", "en") in worker._by_profile and ("Austin, TX", "fr") in worker._by_profile
    assert worker._by_profile[("in your heart", "en")] is None


def test_the_workers_memories_of_places_stay_within_their_bounds(geo_worker: None) -> None:
    worker.init_geolocation(GeoSettings(cache_size=8), CACHE)
    cities = ["Austin, TX", "Lisbon", "Tokyo", "Paris", "Berlin", "Madrid", "Osaka", "Lagos"]
    lines = [
        tweet(n, "Good morning everyone, how are you today", location=f"{city} {n}",
              bio=f"Coffee lover number {n} 📍 {city}")
        for n, city in enumerate(cities * 5)
    ]  # fmt: skip
    result = worker.process_batch(lines)
    assert {r.geo_source for r in result.records} >= {"profile"}  # the steps did run
    assert 0 < len(worker._by_profile) <= 8
    geo = worker._geolocator
    assert geo is not None
    assert geo.locate_profile.cache_info().maxsize == 8  # never more than the worker's own
    big = GeoSettings(cache_size=1 << 16)
    worker.init_geolocation(big, CACHE)
    geo = worker._geolocator
    assert geo is not None
    assert geo.locate_profile.cache_info().maxsize == worker.GEOLOCATOR_CACHE_SIZE
    assert geo._cached_bio.cache_info().maxsize <= 4096  # bios are long and rarely repeat


def jetstream_post(did: str, rkey: str, text: str) -> bytes:
    record = {"$type": "app.bsky.feed.post", "text": text, "createdAt": "2026-12-05T10:00:00Z"}
    commit = {"operation": "create", "collection": "app.bsky.feed.post", "rkey": rkey,
              "record": record, "cid": "bafy"}  # fmt: skip
    return orjson.dumps({"did": did, "time_us": 1, "kind": "commit", "commit": commit})


def test_bluesky_posts_are_placed_by_the_bios_the_daemon_sends(geo_worker: None) -> None:
    """Jetstream posts carry no bio: the pipeline sends the ones the enrichment kept, by
    author, and only the bio step reads them (the user window gets bios elsewhere)."""
    worker.init_geolocation(GeoSettings(), CACHE)
    lisbon, nowhere, unknown = "did:plc:lisbon", "did:plc:nowhere", "did:plc:unknown"
    lines = [
        jetstream_post(lisbon, "a", "Good morning everyone, how are you today"),
        jetstream_post(nowhere, "b", "Good morning everyone, how are you today"),
        jetstream_post(unknown, "c", "Good morning everyone, how are you today"),
        tweet(5, "Good morning everyone, how are you today", bio="Tea lover 📍 Tokyo"),
    ]
    bios = {lisbon: "Coffee lover 📍 Lisbon", nowhere: "Coffee lover 📍 in your heart",
            "5": "based in Lisbon"}  # fmt: skip
    sent = worker.process_batch(lines, bios)
    assert [r.geo_source if r.geo else "none" for r in sent.records] == [
        "bio", "none", "none", "bio"
    ]  # fmt: skip
    placed, own = sent.records[0].geo, sent.records[3].geo
    assert placed is not None and abs(placed[0] - 38.72) < 0.5 and abs(placed[1] + 9.14) < 0.5
    assert own is not None and abs(own[0] - 35.69) < 0.5  # a post's own bio comes first
    # Only the tweet brings a user; the Bluesky authors are still asked about.
    assert [u.user_id for u in sent.users] == ["5"]
    assert sorted(sent.authors) == sorted([lisbon, nowhere, unknown])
    alone = worker.process_batch(lines)
    assert [r.geo_source if r.geo else "none" for r in alone.records] == [
        "none", "none", "none", "bio"
    ]  # fmt: skip
    packed = worker.process_parts([lines], bios)
    assert packed.located == sent.located
