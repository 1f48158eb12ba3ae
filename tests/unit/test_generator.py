"""The demo generator: realistic, deterministic, and its Truth matches what the parser reads."""

from __future__ import annotations

import statistics
from collections import Counter

import orjson
import pytest

from streamer.core.records import Post, Skip
from streamer.ingest.langid import make_detector
from streamer.ingest.parser import parse_payload
from streamer.sources.demo_locations import (
    CITY_FORMS,
    COUNTRY_FORMS,
    LOCATION_SHARE,
    NON_PLACE_SHARE,
)
from streamer.sources.generator import DEFAULT_GEO_SHARE, PLACE_SHARE, Truth, generate
from tests.conftest import SHARED_DATA


def sample(
    count: int = 3000, seed: int = 7, geo_share: float = DEFAULT_GEO_SHARE
) -> list[tuple[bytes, Truth]]:
    return list(generate(count, seed=seed, geo_share=geo_share))


def test_same_seed_same_lines_other_seed_other_lines() -> None:
    assert sample(300) == sample(300)
    assert [line for line, _ in sample(300)] != [line for line, _ in sample(300, seed=8)]


def test_ids_are_unique_across_seeds() -> None:
    ids = [t.id for seed in (1, 2) for _, t in generate(2000, seed=seed) if t.kind == "tweet"]
    assert len(ids) == len(set(ids))


def test_payloads_look_like_the_v1_sample_stream() -> None:
    lines = sample()
    kinds = Counter(t.kind for _, t in lines)
    assert kinds["delete"] > 0 and kinds["limit"] > 0
    tweets = [orjson.loads(line) for line, t in lines if t.kind == "tweet"]
    originals = [len(orjson.dumps(d)) for d in tweets if "retweeted_status" not in d]
    assert 2500 < statistics.median(originals) < 5000
    assert sum("retweeted_status" in d for d in tweets) > len(tweets) * 0.1
    assert any("extended_tweet" in d for d in tweets)
    assert all(d["user"]["description"] and d["user"]["screen_name"] for d in tweets)
    langs = Counter(t.lang for _, t in lines if t.kind == "tweet")
    assert len(langs) >= 10
    assert {"ja", "ko", "th", "ar"} <= set(langs)
    assert langs.most_common(1)[0][0] == "en"


@pytest.mark.parametrize("share", [0.0, 0.3, 1.0])
def test_geo_share_is_the_share_of_exact_points(share: float) -> None:
    truths = [t for _, t in sample(2000, geo_share=share) if t.kind == "tweet"]
    located = sum(t.geo is not None for t in truths) / len(truths)
    assert located == pytest.approx(share, abs=0.04)


def test_the_default_mix_is_the_real_streams() -> None:
    """About 1% exact points, 2-3% places only, 60% of authors with a profile location of
    which a third names no place."""
    truths = [t for _, t in sample(20_000) if t.kind == "tweet"]
    exact = sum(t.geo is not None for t in truths) / len(truths)
    place_only = sum(t.geo is None and t.place_bbox is not None for t in truths) / len(truths)
    assert DEFAULT_GEO_SHARE == 0.01 and exact == pytest.approx(0.01, abs=0.004)
    assert place_only == pytest.approx(PLACE_SHARE * (1 - exact), abs=0.006)
    assert all(t.place_bbox is not None for t in truths if t.geo is not None)
    # Per author (posts repeat authors; the share is of accounts, as on the real stream).
    authors = {orjson.loads(line)["user"]["id_str"]: t for line, t in sample(20_000)
               if t.kind == "tweet"}  # fmt: skip
    filled = [t for t in authors.values() if t.location]
    assert len(filled) / len(authors) == pytest.approx(LOCATION_SHARE, abs=0.06)
    no_place = sum(not t.location_is_place for t in filled) / len(filled)
    assert no_place == pytest.approx(NON_PLACE_SHARE, abs=0.06)
    places = {t.location for t in filled if t.location_is_place}
    scripts = {
        "latin": any(p.isascii() for p in places),
        "other": any(not p.isascii() for p in places),
    }
    assert all(scripts.values()) and len(places) > 60
    known = {f for forms in CITY_FORMS.values() for f in forms}
    known |= {f for forms in COUNTRY_FORMS.values() for f in forms}
    assert places <= known


def test_the_parser_reads_back_exactly_the_truth() -> None:
    for line, truth in sample():
        item = parse_payload(line)
        if truth.kind != "tweet":
            assert isinstance(item, Skip) and item.reason == truth.kind
            continue
        assert isinstance(item, Post)
        assert item.id == truth.id
        assert item.hashtags == truth.hashtags
        if truth.geo is None:
            assert item.geo is None
        else:
            assert item.geo == pytest.approx(truth.geo, abs=1e-9)
        assert item.place_bbox == truth.place_bbox
        assert (item.location or "") == truth.location


def test_points_sit_near_the_languages_cities() -> None:
    tokyo = [t.geo for _, t in sample(4000, geo_share=1.0) if t.lang == "ja" and t.geo]
    assert tokyo and all(30 < lat < 46 and 128 < lon < 146 for lat, lon in tokyo)


@pytest.mark.parametrize("source", ["nltk", "stopwords-iso"])
def test_every_generated_text_is_detected_as_its_language(
    source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The end-to-end tests compare exact per-language counts, whichever stopword list the
    daemon finds, so the demo sentences must be unambiguous for both."""
    monkeypatch.setenv("NLTK_DATA", str(SHARED_DATA / "nltk_data"))
    from streamer.ingest.langid.stopwords import build_stopword_detector

    detector = build_stopword_detector(source=source, nltk_data=str(SHARED_DATA / "nltk_data"))
    wrong = Counter()
    for line, truth in sample():
        item = parse_payload(line)
        if isinstance(item, Post):
            got = detector.detect(item.text)
            if got != truth.lang:
                wrong[(truth.lang, got, item.text[:60])] += 1
    assert not wrong, wrong.most_common(10)


def test_default_detector_agrees_with_the_truth() -> None:
    detect = make_detector("stopwords", None).detect
    for line, truth in sample(1000):
        item = parse_payload(line)
        if isinstance(item, Post):
            assert detect(item.text) == truth.lang, item.text
