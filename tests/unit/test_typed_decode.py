"""The typed reader (msgspec, streamer.ingest.typed_payloads), which `parse_payload` uses by
default, against the general one (orjson and dicts, `typed=False`).

(a) Every line orjson accepts gets the same answer both ways: real v1.1 and Jetstream streams,
    the demo, hostile posts, hand-made odd shapes, real payloads mutated at random.
(b) A line orjson refuses is refused alike, or read by the typed reader only because its bad
    bytes (invalid UTF-8, a number too big for a double) sit in a field the parser never
    reads: the answer is then the general one for the line with that field made valid. The
    same bytes in a field the parser reads are refused.
(c) The counters in `TypedCounts` show that the typed reader really answers, by default and in
    a worker, so that a typed reader that always gave up (and so trivially agreed) fails here.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import msgspec.inspect
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamer.core.records import BAD_JSON, BAD_UTF8, DELETE, NOT_POST, Post, Skip
from streamer.ingest import worker
from streamer.ingest.parser import TypedCounts, parse_payload
from streamer.ingest.typed_payloads import Line, decode_line
from streamer.sources.generator import generate
from tests.unit.test_parser_fuzz import (
    CORPUS_LINES,
    FUZZ,
    VALUES_BY_TYPE,
    at,
    byte_mutations,
    initialized_worker,
    json_keys,
    made_valid,
    mutate,
    mutated_lines,
    value_paths,
)
from tests.unit.test_realistic_stream import UDHR, rs

REPO = Path(__file__).resolve().parents[2]


def _load_hostile() -> ModuleType:
    path = REPO / "scripts" / "hostile_posts.py"
    spec = importlib.util.spec_from_file_location("hostile_posts", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hostile_posts = _load_hostile()


@contextmanager
def counted() -> Iterator[type[TypedCounts]]:
    TypedCounts.typed = TypedCounts.general = 0
    yield TypedCounts


def refused(item: object) -> bool:
    """Whether the general reader refused the line as orjson did."""
    return isinstance(item, Skip) and item.reason in (BAD_JSON, BAD_UTF8)


def assert_same(line: bytes | str) -> None:
    """(a): the same answer both ways."""
    typed = parse_payload(line, typed=True)
    general = parse_payload(line, typed=False)
    assert typed == general, (line[:300], typed, general)
    assert type(typed) is type(general)


def assert_agrees(line: bytes, clean: bytes | None = None) -> None:
    """(a) or (b): the same answer both ways, or a line orjson refuses that the typed reader
    reads as `clean` (by default the line made valid: tests/unit/test_parser_fuzz.py)."""
    typed = parse_payload(line, typed=True)
    general = parse_payload(line, typed=False)
    if typed == general:
        return
    assert refused(general), (line[:300], typed, general)
    expected = parse_payload(made_valid(line) if clean is None else clean, typed=False)
    assert typed == expected, (line[:300], typed, expected)


def assert_read_past(dirty: bytes, clean: bytes) -> None:
    """(b), the lenient case for sure: orjson refuses `dirty`, the typed reader reads it, as
    the general reader reads `clean` (the same line with the unread bad part made valid)."""
    general = parse_payload(dirty, typed=False)
    assert refused(general), (dirty[:300], general)
    with counted() as counts:
        typed = parse_payload(dirty)
    assert (counts.typed, counts.general) == (1, 0), (dirty[:300], typed)
    assert typed == parse_payload(clean, typed=False), (dirty[:300], typed)


# --- (a) whole streams --------------------------------------------------------------------

V1_LINES = [line for line, _ in rs.generate(3000, 21, "v1", udhr=UDHR)]
JETSTREAM_LINES = [line for line, _ in rs.generate(1500, 22, "jetstream", "all", udhr=UDHR)]
DEMO_LINES = [line for line, _ in generate(2000, seed=23, geo_share=0.5)]


def test_realistic_v1_stream_is_read_the_same_and_the_typed_way() -> None:
    with counted() as counts:
        for line in V1_LINES:
            assert_same(line)
    # Every v1.1 line reaches the typed reader once (the general read does not count), and
    # the typed reader answers for nearly all of them (ids beyond int64 go the general way).
    assert counts.typed + counts.general == len(V1_LINES)
    assert counts.typed >= 0.99 * len(V1_LINES), (counts.typed, counts.general)


def test_typed_reader_makes_the_posts_of_the_stream() -> None:
    # Not only notices: retweets, extended texts, places and points come out of it too.
    posts = [parse_payload(line, typed=True) for line in V1_LINES]
    assert sum(isinstance(post, Post) for post in posts) > 0.9 * len(posts)
    assert any(isinstance(p, Post) and p.place_bbox is not None for p in posts)
    assert any(isinstance(p, Post) and p.geo is not None for p in posts)
    assert any(isinstance(p, Post) and p.location is not None for p in posts)


def test_realistic_jetstream_stream_is_read_the_same() -> None:
    with counted() as counts:
        for line in JETSTREAM_LINES:
            assert_same(line)
    assert counts.general == len(JETSTREAM_LINES)  # Jetstream events go the general way


def test_demo_stream_is_read_the_same_and_the_typed_way() -> None:
    with counted() as counts:
        for line in DEMO_LINES:
            assert_same(line)
    assert counts.typed >= 0.99 * len(DEMO_LINES), (counts.typed, counts.general)


def test_hostile_posts_are_read_the_same() -> None:
    args = argparse.Namespace(
        kinds=list(hostile_posts.KINDS), count=3, tag_bytes=20_000, many=2_000
    )
    lines = list(hostile_posts.hostile_lines(args))
    with counted() as counts:
        for line in lines:
            assert_same(line)
    # Valid statuses, however big their fields; only a giant-bio user id of 100,000 digits
    # (beyond int64) goes the general way.
    assert counts.typed >= len(lines) - args.count // 2 - 1


def test_the_fuzz_corpus_is_read_the_same() -> None:
    for line in CORPUS_LINES:
        assert_same(line)


# --- (c) the typed reader is the one that answers -----------------------------------------


def test_parse_payload_reads_the_typed_way_by_default() -> None:
    with counted() as counts:
        items = [parse_payload(line) for line in V1_LINES[:200]]
    assert counts.typed >= 198 and counts.typed + counts.general == 200
    assert items == [parse_payload(line, typed=False) for line in V1_LINES[:200]]


def test_a_worker_reads_the_typed_way() -> None:
    with initialized_worker(None, trust_platform=False), counted() as counts:
        result = worker.process_batch(V1_LINES[:200])
    assert counts.typed >= 198, (counts.typed, counts.general)
    assert len(result.records) > 150


# --- hand-made shapes ---------------------------------------------------------------------


def status(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "created_at": "Wed Oct 10 20:19:24 +0000 2018",
        "id": 1050118621198921728,
        "id_str": "1050118621198921728",
        "text": "Hello #World from Paris",
        "lang": "en",
        "user": {
            "id": 6253282,
            "id_str": "6253282",
            "screen_name": "someone",
            "description": "I write code",
            "location": "Paris, France",
        },
        "entities": {"hashtags": [{"text": "World", "indices": [6, 12]}], "urls": []},
        "coordinates": {"type": "Point", "coordinates": [2.35, 48.85]},
        "place": {
            "bounding_box": {
                "type": "Polygon",
                "coordinates": [[[2.2, 48.8], [2.2, 48.9], [2.5, 48.9], [2.5, 48.8]]],
            }
        },
    }
    for key, value in changes.items():
        if value is DROP:
            base.pop(key, None)
        else:
            base[key] = value
    return base


DROP = object()
USER = status()["user"]

EDGE_PAYLOADS: list[Any] = [
    status(),
    # nulls where objects or strings are expected
    status(user=None, entities=None, coordinates=None, place=None, geo=None, lang=None),
    status(text=None),
    status(text=None, full_text="the full text #Full"),
    status(created_at=None, id_str=None),
    status(user={**USER, "id_str": None, "description": None, "location": None}),
    status(user={**USER, "id_str": ""}),
    status(user={"id": 2**64 - 1, "screen_name": "no_id_str"}),
    status(user={**USER, "id_str": None, "id": 2**63}),
    status(user={**USER, "id_str": None, "id": True}),
    status(user={**USER, "id_str": None, "id": 1.5}),
    status(user={**USER, "id_str": None, "id": "123"}),
    status(user={}),
    status(user=[]),
    status(user="someone"),
    # strings where numbers are, numbers where strings are
    status(text=12),
    status(id_str=5, id="7"),
    status(id_str=DROP, id=-(2**63)),
    status(id_str=DROP, id=2**64 - 1),
    status(lang=5),
    status(created_at=20181010),
    status(coordinates={"type": "Point", "coordinates": ["2.35", "48.85"]}),
    status(coordinates={"type": "Point", "coordinates": [True, False]}),
    status(coordinates={"type": "Point", "coordinates": [2, 48]}),
    status(coordinates={"type": "Point", "coordinates": [2.35, 48.85, 35]}),
    status(coordinates={"type": "Point", "coordinates": [2.35]}),
    status(coordinates={"type": "Point", "coordinates": [200.0, 48.85]}),
    status(coordinates={"type": "Point", "coordinates": [-0.0, -0]}),
    status(coordinates={"type": "Point", "coordinates": [1e308, 2**64 - 1]}),
    status(coordinates={"type": "Point", "coordinates": None}),
    status(coordinates=[2.35, 48.85]),
    status(coordinates=DROP, geo={"type": "Point", "coordinates": [48.85, 2.35]}),
    status(coordinates=DROP, geo={"type": "Point", "coordinates": [148.85, 2.35]}),
    status(coordinates=DROP, geo="48.85,2.35"),
    status(place={"bounding_box": None}),
    status(place={"bounding_box": {"coordinates": []}}),
    status(place={"bounding_box": {"coordinates": [[]]}}),
    status(place={"bounding_box": {"coordinates": [[[1, 2], [3]]]}}),
    status(place={"bounding_box": {"coordinates": [[[1, 2], [3, "4"]]]}}),
    status(place={"bounding_box": {"coordinates": [[[170, 10], [-170, 20]]]}}),
    status(place={"bounding_box": {"coordinates": [[[1, 95], [2, 96]]]}}),
    status(place="Paris"),
    # wrong types in entities
    status(entities={"hashtags": None}),
    status(entities={"hashtags": []}),
    status(entities={"hashtags": "World"}),
    status(entities={"hashtags": [{"text": 5}, "x", None, {"text": " #Two "}]}),
    status(entities={"hashtags": [{"text": "A"}, {"text": "a"}, {"text": "\uff03b"}]}),
    status(entities={"hashtags": [{"text": None}, {}]}),
    status(entities={}),
    status(entities=[]),
    status(entities="none"),
    status(entities=DROP),
    status(entities=DROP, text="no entities: #FromText and #fromtext"),
    # retweets, extended tweets
    status(retweeted_status={"text": "RT original #Orig", "entities": {"hashtags": []}}),
    status(retweeted_status={"extended_tweet": {"full_text": "long original #Long"}}),
    status(retweeted_status={"text": None}),
    status(retweeted_status={}),
    status(retweeted_status=None),
    status(retweeted_status="RT"),
    status(retweeted_status={"text": "RT", "entities": "bad"}),
    status(extended_tweet={"full_text": "extended #Ext", "entities": {"hashtags": []}}),
    status(extended_tweet={"full_text": None}),
    status(extended_tweet={}),
    status(extended_tweet={"full_text": "x", "entities": None}),
    status(extended_tweet={"full_text": "x", "entities": {"hashtags": {"text": "a"}}}),
    status(extended_tweet=[]),
    status(truncated=True, extended_tweet={"full_text": "the rest #Rest"}),
    # timestamps
    status(created_at="2022-01-01T10:00:00.000Z"),
    status(created_at="Wed Oct 10 20:19:24 +9999 2018"),
    status(created_at="x" * 100),
    # extra fields, of any type
    status(extra={"deep": [1, 2, {"a": None}]}, numbers=[1e300, -1e-300, 2**64 - 1]),
    status(withheld_in_countries=["DE"], quoted_status={"text": 5, "user": "x"}),
    # control messages, alone and with a text
    {"delete": {"status": {"id": 1, "id_str": "1", "user_id": 2, "user_id_str": "2"}}},
    {"delete": None},
    {"limit": {"track": 12, "timestamp_ms": "1"}},
    {"warning": {"code": "FALLING_BEHIND", "percent_full": 60}},
    {"scrub_geo": {}},
    {"status_withheld": {"id": 1}},
    {"user_withheld": {"id": 1}},
    {"disconnect": {"code": 4}},
    {"event": "follow"},
    {"friends": [1, 2]},
    {"friends_str": ["1"]},
    status(delete={"status": {}}),
    status(event="x", limit={"track": 1}),
    # bare posts and the shapes around them
    {"text": "a bare post #Bare"},
    {"text": "a bare post", "id": 5},
    {"text": "a bare post", "id": "abc", "lang": "en", "coordinates": [1, 2]},
    {"text": None},
    {"text": 5},
    {"full_text": "only a full text"},
    {"text": "x", "truncated": False},
    {"id_str": "1"},
    {},
    {"user": USER},
    # v2, v2 errors, Jetstream (the general way), and their look-alikes
    {"data": {"id": "1", "text": "v2 #post", "author_id": "9"}, "includes": {}},
    {"data": None},
    {"errors": [{"title": "operational-disconnect"}]},
    {"did": "did:plc:x", "kind": "identity"},
    {"did": "did:plc:x", "text": "not jetstream without a kind"},
    {"kind": "commit", "text": "not jetstream without a did"},
]
EDGE_LINES = [orjson.dumps(payload) for payload in EDGE_PAYLOADS]


@pytest.mark.parametrize("line", EDGE_LINES, ids=range(len(EDGE_LINES)))
def test_edge_payloads_are_read_the_same(line: bytes) -> None:
    assert_same(line)


ODD_LINES = [
    b"",
    b"   \r\n",
    b"\xef\xbb\xbf" + orjson.dumps(status()),
    b"\xef\xbb\xbf",
    b"null",
    b"[1, 2]",
    b'"a string"',
    b"12",
    b"{",
    b'{"text": "a",}',
    b'{"text": "a"} {"text": "b"}',
    b'{"text": "a", "text": "b"}',
    b'{"text": 5, "text": "b"}',
    b'{"text": "b", "text": 5}',
    b'{"t\\u0065xt": "escaped key"}',
    b'{"text": "a\\u0000b"}',
    b'{"text": "\\ud83d\\ude00 pair"}',
    b'{"text": "\\ud83d lone"}',
    b'{"text": "tab\there"}',
    b'{"text": "x", "id": 01}',
    b'{"text": "x", "id": NaN}',
    b'{"text": "x", "id": Infinity}',
    b'{"text": "x", "id": 1e400}',
    b'{"text": "x", "id": -1e400}',
    b'{"text": "x", "id": 1e-400}',
    b'{"text": "x", "id": 18446744073709551616}',
    b'{"text": "x", "id": -9223372036854775809}',
    b'{"text": "x", "id_str": "1", "coordinates": {"coordinates": [1180591620717411303424, 5]}}',
    b'{"text": "x", "id_str": "1", "coordinates": {"coordinates": [1.5e400, 5]}}',
    b'{"text": "x", "id_str": "1", "user": {"id": 1180591620717411303424}}',
    "a str line with a \ud800 lone surrogate".encode("utf-8", "surrogatepass"),
    b'{"text": "\xff"}',
    b'{"text": "x", "id_str": "\xc0\x80"}',
]


@pytest.mark.parametrize("line", ODD_LINES, ids=range(len(ODD_LINES)))
def test_odd_lines_are_read_the_same(line: bytes) -> None:
    assert_same(line)


def test_str_lines_are_read_the_same() -> None:
    for line in [*EDGE_LINES[:20], *ODD_LINES[:20]]:
        assert_same(line.decode("utf-8", "replace"))
    assert_same("\ud800 a lone surrogate in a str")


# --- (b) lines orjson refuses --------------------------------------------------------------

# Bad bytes in fields the parser never reads: msgspec skips them unchecked, orjson refuses
# the line. Each with the line made valid, which the typed reader answers for.
READ_PAST = [
    (b'{"text": "a", "junk": "\xff"}', b'{"text": "a", "junk": ""}'),
    (b'{"text": "a", "\xff": 1}', b'{"text": "a", "": 1}'),
    (b'{"text": "a", "junk": "\xed\xa0\x80"}', b'{"text": "a", "junk": ""}'),
    (b'{"text": "a", "junk": "\xc0\x80"}', b'{"text": "a", "junk": ""}'),
    (b'{"text": "a", "junk": "\xf4\x90\x80\x80"}', b'{"text": "a", "junk": ""}'),
    (b'{"text": "a", "junk": 1e999}', b'{"text": "a", "junk": 0}'),
    (b'{"text": "a", "junk": [-1E+0400]}', b'{"text": "a", "junk": [0]}'),
    (b'{"text": "a", "junk": 0.0000001e400}', b'{"text": "a", "junk": 0}'),
    (b'{"text": "a", "junk": ' + b"9" * 400 + b"}", b'{"text": "a", "junk": 0}'),
    (b'{"text": "a", "junk": ' + b"9" * 250 + b"e60}", b'{"text": "a", "junk": 0}'),
    (b'{"delete": {"status": {"id": 1e999}}}', b'{"delete": {"status": {"id": 0}}}'),
    (b'{"junk": "\xfe"}', b'{"junk": ""}'),
    (
        orjson.dumps(status())[:-1] + b', "junk": {"deep": "\xfe"}}',
        orjson.dumps(status())[:-1] + b', "junk": {"deep": ""}}',
    ),
    (
        orjson.dumps(status(user={**USER, "profile_image_url": "@"})).replace(
            b'"@"', b'"http://x/\xe9.png"'
        ),
        orjson.dumps(status(user={**USER, "profile_image_url": "http://x/.png"})),
    ),
]


@pytest.mark.parametrize("dirty, clean", READ_PAST, ids=range(len(READ_PAST)))
def test_bad_bytes_in_fields_never_read_are_read_past(dirty: bytes, clean: bytes) -> None:
    assert decode_line(dirty) is not None
    assert_read_past(dirty, clean)


def test_a_skip_read_past_bad_bytes_keeps_its_own_reason() -> None:
    # The payoff is only the post; a control message or a non-post stays a skip, its reason
    # its own rather than the malformed line's.
    assert parse_payload(READ_PAST[10][0]) == Skip(DELETE)
    assert parse_payload(READ_PAST[11][0]) == Skip(NOT_POST, "no recognizable post shape")


# --- which values the typed reader reads: a walk down its schema (msgspec.inspect) --------

JsonPath = tuple[str | int, ...]
_LINE = msgspec.inspect.type_info(Line)


def _members(kind: msgspec.inspect.Type) -> tuple[msgspec.inspect.Type, ...]:
    if isinstance(kind, msgspec.inspect.UnionType):
        return kind.types
    return (kind,)


def is_validated(path: JsonPath) -> bool:
    """Whether msgspec decodes (so checks) the value at `path` of a line it accepts. Values
    under keys the schemas do not name, and under Raw ones, are skipped unchecked."""
    kind: msgspec.inspect.Type = _LINE
    for key in path:
        step = None
        for member in _members(kind):
            if isinstance(key, str) and isinstance(member, msgspec.inspect.StructType):
                step = next((f.type for f in member.fields if f.encode_name == key), None)
            elif isinstance(key, int) and isinstance(member, msgspec.inspect.ListType):
                step = member.item_type
        if step is None or isinstance(step, msgspec.inspect.RawType):
            return False
        kind = step
    return True


def scalar_paths(payload: Any) -> list[JsonPath]:
    return [p for p in value_paths(payload) if not isinstance(at(payload, p), dict | list)]


# Every field the typed reader decodes, with a value of the type it expects.
READ_STATUS = status(
    coordinates={"type": "Point", "coordinates": [2.35, 48.85]},
    geo={"type": "Point", "coordinates": [48.85, 2.35]},
    extended_tweet={"full_text": "long #Ext", "entities": {"hashtags": [{"text": "Ext"}]}},
    retweeted_status={
        "text": "RT #Orig",
        "full_text": "RT full #Orig",
        "entities": {"hashtags": [{"text": "Orig"}]},
        "extended_tweet": {"full_text": "RT long", "entities": {"hashtags": []}},
    },
    full_text="full #Full",
)
READ_PATHS = [path for path in scalar_paths(READ_STATUS) if is_validated(path)]
BAD_TOKENS = [
    b'"\xff"',
    b'"caf\xe9"',
    b'"\xed\xa0\x80"',
    b'"\xc0\x80"',
    b"1e999",
    b"-1E+400",
    b"9" * 400,
]


def planted(payload: Any, path: tuple[str | int, ...], token: bytes) -> bytes:
    """The payload's line with the value at `path` written as `token` (any bytes)."""
    payload = copy.deepcopy(payload)
    at(payload, path[:-1])[path[-1]] = "@plant@"
    line = orjson.dumps(payload)
    assert line.count(b'"@plant@"') == 1
    return line.replace(b'"@plant@"', token)


def test_the_read_status_has_a_value_in_every_field_the_parser_reads() -> None:
    # So that planting into READ_PATHS below aims at every string and number it reads.
    names = {key for path in READ_PATHS for key in path if isinstance(key, str)}
    assert names >= {
        "text", "full_text", "id", "id_str", "created_at", "lang", "user", "screen_name",
        "description", "location", "entities", "hashtags", "extended_tweet",
        "retweeted_status", "coordinates", "geo", "place", "bounding_box",
    }  # fmt: skip
    assert not is_validated(("user", "profile_image_url"))
    assert not is_validated(("place", "id")) and not is_validated(("truncated",))


@pytest.mark.parametrize("token", BAD_TOKENS)
@pytest.mark.parametrize("path", READ_PATHS, ids=[".".join(map(str, p)) for p in READ_PATHS])
def test_bad_bytes_in_a_read_field_are_refused_as_orjson_refuses(
    path: tuple[str | int, ...], token: bytes
) -> None:
    line = planted(READ_STATUS, path, token)
    general = parse_payload(line, typed=False)
    assert refused(general)
    with counted() as counts:
        typed = parse_payload(line)
    assert typed == general and counts.general == 1, (path, token, typed)


# Payloads the typed reader answers for, clean: real v1.1 statuses, demo lines, a hand-made one.
def _read_typed(line: bytes) -> bool:
    with counted() as counts:
        parse_payload(line)
    return counts.typed == 1


TYPED_PAYLOADS = [
    orjson.loads(line)
    for line in [*V1_LINES[:600:5], *DEMO_LINES[:300:5], orjson.dumps(READ_STATUS)]
    if _read_typed(line)
]
WITH_READ_VALUES = [
    payload
    for payload in TYPED_PAYLOADS
    if any(is_validated(path) for path in scalar_paths(payload))
]
INVALID_UTF8 = [
    b"\xff",
    b"\x80",
    b"\xc3",
    b"\xe8\xaa",
    b"\xed\xa0\x80",
    b"\xc0\x80",
    b"\xf4\x90\x80\x80",
]


@st.composite
def bad_strings(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """A JSON string with invalid UTF-8 inside, and the same string without it."""
    head, tail = draw(st.text(max_size=6)), draw(st.text(max_size=6))
    bad = draw(st.sampled_from(INVALID_UTF8))
    return orjson.dumps(head)[:-1] + bad + orjson.dumps(tail)[1:], orjson.dumps(head + tail)


# Numbers that overflow a double, which orjson refuses and msgspec skips.
huge_numbers = st.one_of(
    st.from_regex(r"-?[1-9][0-9]{0,3}(\.[0-9]{1,4})?[eE]\+?[4-9][0-9]{2,3}", fullmatch=True),
    st.integers(310, 3000).map(lambda digits: "9" * digits),
).map(lambda token: (token.encode(), b"0"))
bad_keys = st.sampled_from(INVALID_UTF8).map(
    lambda bad: (b'{"k' + bad + b'": [1, "x"]}', b'{"k": [1, "x"]}')
)
bad_values = st.one_of(bad_strings(), huge_numbers, bad_keys)


@st.composite
def unread_plantings(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """A payload the typed reader answers for with a bad value planted where the parser never
    reads: in place of a value under a key it does not decode, or under a new key of any
    object (one it reads included). The dirty line and the clean one."""
    payload = copy.deepcopy(draw(st.sampled_from(TYPED_PAYLOADS)))
    unread = [path for path in value_paths(payload) if not is_validated(path)]
    if unread and draw(st.booleans()):
        path = draw(st.sampled_from(unread))
    else:
        objects = [()] + [p for p in value_paths(payload) if isinstance(at(payload, p), dict)]
        path = (*draw(st.sampled_from(objects)), draw(json_keys))
        if is_validated(path):
            path = (*path[:-1], "@junk")
    dirty, clean = draw(bad_values)
    return planted(payload, path, dirty), planted(payload, path, clean)


@FUZZ
@given(unread_plantings())
def test_bad_bytes_planted_where_the_parser_never_reads_are_read_past(
    lines: tuple[bytes, bytes],
) -> None:
    assert_read_past(*lines)


@FUZZ
@given(st.sampled_from(WITH_READ_VALUES), st.data())
def test_bad_bytes_planted_where_the_parser_reads_are_refused(
    payload: Any, data: st.DataObject
) -> None:
    read = [path for path in scalar_paths(payload) if is_validated(path)]
    path = data.draw(st.sampled_from(read))
    line = planted(payload, path, data.draw(bad_strings() | huge_numbers)[0])
    general = parse_payload(line, typed=False)
    assert refused(general)
    assert parse_payload(line) == general, path


def nested(depth: int) -> bytes:
    return b'{"text": "a", "junk": ' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize("limit", [sys.getrecursionlimit(), 1020, 1030, 5000, 100_000])
@pytest.mark.parametrize("depth", [900, 1022, 1023, 1024, 1100, 3000, 50_000])
def test_deep_nesting_in_an_unread_field_whatever_the_recursion_limit(
    limit: int, depth: int
) -> None:
    line = nested(depth)
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(limit)
    try:
        assert_agrees(line, clean=nested(1))
    finally:
        sys.setrecursionlimit(old)


def test_deep_nesting_never_overruns_the_stack_even_with_a_raised_recursion_limit() -> None:
    # msgspec's skip of a nested value recurses in C, bounded by the recursion limit only:
    # raised this far, 400,000 brackets would overrun the C stack without decode_line's guard.
    code = (
        "import sys; sys.setrecursionlimit(10**7)\n"
        "from streamer.ingest.parser import parse_payload\n"
        "line = b'{\"text\": \"a\", \"junk\": ' + b'[' * 400_000 + b']' * 400_000 + b'}'\n"
        "print(parse_payload(line).reason)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == BAD_JSON


def test_a_big_number_look_alike_in_a_string_is_read_the_typed_way() -> None:
    line = orjson.dumps(status(text="the value 1e400 and " + "7" * 300))
    with counted() as counts:
        assert_same(line)
    assert counts.typed == 1


def test_typed_reader_answers_for_an_ordinary_status() -> None:
    line = orjson.dumps(status())
    with counted() as counts:
        item = parse_payload(line, typed=True)
    assert counts.typed == 1 and counts.general == 0
    assert isinstance(item, Post) and item.hashtags == ("world",)
    assert item.geo == (48.85, 2.35) and item.place_bbox == (2.2, 48.8, 2.5, 48.9)
    assert (item.user_id, item.screen_name) == ("6253282", "someone")
    assert item.location == "Paris, France"


# --- (a) and (b): real payloads, mutated --------------------------------------------------

REAL_PAYLOADS = [orjson.loads(line) for line in V1_LINES[:300:3] + JETSTREAM_LINES[:60:3]]


@st.composite
def mutated_real_payloads(draw: st.DrawFn) -> Any:
    """A realistic payload with one to five structural mutations (test_parser_fuzz's
    `mutate`)."""
    return mutate(draw, draw(st.sampled_from(REAL_PAYLOADS)))


@FUZZ
@given(mutated_real_payloads())
def test_mutated_real_payloads_are_read_the_same(payload: Any) -> None:
    assert_same(orjson.dumps(payload))


@FUZZ
@given(st.data())
def test_byte_mutated_real_lines_agree(data: st.DataObject) -> None:
    line = orjson.dumps(data.draw(mutated_real_payloads()))
    assert_agrees(data.draw(byte_mutations(line)))


@FUZZ
@given(mutated_lines())
def test_mutated_fuzz_corpus_lines_agree(line: bytes) -> None:
    assert_agrees(line)


@FUZZ
@given(
    st.sampled_from([orjson.dumps(status()), *V1_LINES[:20]]),
    st.sampled_from(["text", "id", "user", "entities", "coordinates", "place", "lang"]),
    st.one_of(*VALUES_BY_TYPE.values()),
)
def test_any_value_in_a_read_field_is_read_the_same(line: bytes, key: str, value: Any) -> None:
    payload = orjson.loads(line)
    payload[key] = value
    assert_same(orjson.dumps(payload))


# Number tokens of any size: orjson refuses those that overflow a double, msgspec skips them all.
number_tokens = st.from_regex(
    r"-?(0|[1-9][0-9]{0,240})(\.[0-9]{1,30})?([eE][+-]?[0-9]{1,4})?", fullmatch=True
)


@FUZZ
@given(number_tokens, st.sampled_from([orjson.dumps(status()), *V1_LINES[:10]]))
def test_any_number_in_an_unread_field_agrees(token: str, line: bytes) -> None:
    assert_agrees(line[:-1] + b', "junk": [' + token.encode() + b"]}", clean=line)


@FUZZ
@given(st.binary(min_size=1, max_size=6), st.sampled_from(V1_LINES[:10]))
def test_any_bytes_in_an_unread_string_agree(junk: bytes, line: bytes) -> None:
    junk = junk.replace(b'"', b"").replace(b"\\", b"")
    assert_agrees(line[:-1] + b', "junk": "' + junk + b'"}', clean=line)
