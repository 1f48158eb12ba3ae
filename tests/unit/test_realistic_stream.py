"""scripts/realistic_stream.py: deterministic, at its stated shares, and readable by our parser."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import orjson
import pytest

from streamer.core.records import (
    ACCOUNT,
    DELETE,
    IDENTITY,
    LIMIT,
    OTHER_COLLECTION,
    AccountGone,
    Post,
    Profile,
    Skip,
)
from streamer.ingest.parser import parse_payload

REPO = Path(__file__).resolve().parents[2]


def _load_script() -> ModuleType:
    path = REPO / "scripts" / "realistic_stream.py"
    spec = importlib.util.spec_from_file_location("realistic_stream", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["realistic_stream"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


rs = _load_script()
UDHR = rs.find_shared_data() / "udhr"


@pytest.fixture(scope="module")
def v1_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("realistic") / "v1.ndjson"
    rs.write_ndjson(path, 12_000, seed=5)
    return path


def test_same_seed_same_lines_other_seed_other_lines() -> None:
    for fmt in ("v1", "jetstream"):
        first = [line for line, _ in rs.generate(1500, 11, fmt, udhr=UDHR)]
        again = [line for line, _ in rs.generate(1500, 11, fmt, udhr=UDHR)]
        other = [line for line, _ in rs.generate(1500, 12, fmt, udhr=UDHR)]
        assert first == again
        assert len(set(first) & set(other)) < 10


def test_v1_shares_are_those_of_a_current_stream(v1_file: Path) -> None:
    d = rs.describe(v1_file)
    notices = d.kinds["delete"] + d.kinds["limit"]
    assert 0.03 <= notices / d.lines <= 0.05
    assert 0.30 <= d.retweets / d.posts <= 0.40
    assert 0.006 <= d.points / d.posts <= 0.015
    assert 0.018 <= d.places / d.posts <= 0.033
    assert 0.10 <= d.with_tags / d.posts <= 0.20
    assert 0.30 <= d.langs["en"] / d.posts <= 0.38
    assert sum(n / d.posts >= 0.002 for n in d.langs.values()) >= 25
    lengths = d.lengths
    assert 95 <= sum(lengths) / len(lengths) <= 125
    assert max(lengths) <= 290
    filled = [loc for loc in d.author_locations.values() if loc]
    assert 0.54 <= len(filled) / len(d.author_locations) <= 0.63
    not_places = sum(loc in rs.NON_PLACES for loc in filled)
    assert 0.28 <= not_places / len(filled) <= 0.39
    # Authors repeat, a few of them often, most of them never.
    assert len(d.authors) < 0.8 * d.posts
    assert d.authors.most_common(1)[0][1] >= 20
    assert sum(n == 1 for n in d.authors.values()) > len(d.authors) / 2


def test_v1_line_sizes_are_full_size(v1_file: Path) -> None:
    d = rs.describe(v1_file)
    assert 2900 <= d.bytes / d.lines <= 3900


def test_every_v1_line_parses_as_intended() -> None:
    reasons: Counter[str] = Counter()
    for line, made in rs.generate(6000, 3, "v1", udhr=UDHR):
        parsed = parse_payload(line)
        if made.kind == "post":
            assert isinstance(parsed, Post), line[:300]
            assert parsed.hashtags == made.hashtags
            assert parsed.geo == made.geo
            assert parsed.text == made.text
            assert parsed.user_id and parsed.created_at
        else:
            assert isinstance(parsed, Skip)
            reasons[parsed.reason] += 1
            assert parsed.reason == {"delete": DELETE, "limit": LIMIT}[made.kind]
    assert reasons[DELETE] > 0 and reasons[LIMIT] > 0


def test_every_jetstream_event_parses_as_intended() -> None:
    kinds: Counter[str] = Counter()
    for line, made in rs.generate(6000, 4, "jetstream", "all", udhr=UDHR):
        parsed = parse_payload(line)
        kinds[made.kind] += 1
        if made.kind == "post":
            assert isinstance(parsed, Post), line[:300]
            assert parsed.hashtags == made.hashtags
            assert parsed.text == made.text
            assert parsed.id and parsed.id.startswith("at://did:plc:")
        elif made.kind == "profile":
            assert isinstance(parsed, Profile)
            assert parsed.bio == made.text
        elif isinstance(parsed, AccountGone):  # an account that stopped being active
            assert made.kind == "account"
        else:  # every other event kind is skipped under its own name
            expected = {"post_delete": DELETE, "identity": IDENTITY, "account": ACCOUNT}
            assert isinstance(parsed, Skip), line[:300]
            assert parsed.reason == expected.get(made.kind, OTHER_COLLECTION), line[:300]
    assert set(kinds) >= {"post", "profile", "post_delete", "identity", "account", "like"}
    # With the product's wantedCollections, posts are most of the stream.
    wanted = Counter(made.kind for _, made in rs.generate(4000, 4, "jetstream", udhr=UDHR))
    assert 0.85 <= wanted["post"] / 4000 <= 0.93
    assert set(wanted) == {"post", "profile", "post_delete", "identity", "account"}


def test_facets_slice_their_tags_out_of_the_utf8_text() -> None:
    checked = shifted = 0
    for line, made in rs.generate(5000, 6, "jetstream", udhr=UDHR):
        if made.kind != "post":
            continue
        record = orjson.loads(line)["commit"]["record"]
        text = record["text"].encode("utf-8")
        for facet in record.get("facets", ()):
            start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
            piece = text[start:end].decode("utf-8")  # a cut inside a character raises here
            feature = facet["features"][0]
            kind = feature["$type"].rsplit("#", 1)[1]
            if kind == "tag":
                assert piece == "#" + feature["tag"]
                checked += 1
                # A code-point index would land elsewhere once non-ASCII text precedes it.
                shifted += len(text[:start].decode("utf-8")) != start
            elif kind == "mention":
                assert piece.startswith("@") and piece.endswith(".bsky.social")
            else:
                assert feature["uri"].startswith("https://" + piece.rstrip(".")[:20])
    assert checked > 100
    assert shifted > 20
