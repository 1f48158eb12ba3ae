"""Hostile input, property-based: parse_payload and a worker's process_batch on anything a
stream could send.

Whatever the bytes, parse_payload must answer with a well-formed Post, Profile or Skip (a
known reason, no "parser bug"), and process_batch must account for every line and give every
post a language from the configuration or "und": Redis key names are built from that code, so
a payload must never be able to choose it.

The inputs: arbitrary bytes and text; lines at and past MAX_LINE_BYTES; invalid UTF-8 and NUL
bytes; nesting 100,000 deep; huge, tiny and non-JSON numbers (NaN, Infinity); duplicate keys;
and real payloads (the demo generator's v1.1 statuses, the v2 and Jetstream shapes of the fake
servers and of test_parser) mutated structurally (a value anywhere replaced by one of another
type, keys deleted or renamed) and then at the byte level (truncated, flipped, spliced).

Runs are derandomized and keep no example database, so CI sees the same examples every time.
"""

from __future__ import annotations

import copy
import math
import os
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.summaries import is_safe_lang_code
from streamer.core.records import (
    BAD_INPUT_REASONS,
    BAD_JSON,
    BAD_UTF8,
    DELETE,
    FIELD_TOO_LONG,
    KEEPALIVE,
    LIMIT,
    NOT_POST,
    NOTICE,
    PROFILE,
    STREAM_ERROR,
    TOO_LONG,
    UNDETERMINED,
    WARNING,
    WRONG_TYPE,
    AccountGone,
    Post,
    Profile,
    Skip,
)
from streamer.ingest import worker
from streamer.ingest.geolocate import place_centre
from streamer.ingest.jetstream_events import REASONS as JETSTREAM_REASONS
from streamer.ingest.langid import DEFAULT_LANGUAGES
from streamer.ingest.langid.platform import normalize_label
from streamer.ingest.parser import MAX_DETAIL_CHARS, MAX_LINE_BYTES, parse_payload
from streamer.sources.generator import generate
from tests.fake_streams import jetstream_post, v1_status, v2_operational_disconnect, v2_post
from tests.unit.test_parser import VALID_PAYLOADS, jetstream, v1_tweet, v2_message

# Every reason parse_payload may give; PROFILE and DUPLICATE are the worker's and the store's.
PARSER_SKIP_REASONS = frozenset(
    {KEEPALIVE, DELETE, LIMIT, WARNING, NOTICE, STREAM_ERROR, NOT_POST}
    | {BAD_JSON, BAD_UTF8, WRONG_TYPE, TOO_LONG, FIELD_TOO_LONG}
    | set(JETSTREAM_REASONS)  # Jetstream's named event kinds
)
ISO_UTC = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=200,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# The worker fixtures build a detector once per test, on purpose: it is not per example.
WITH_WORKER = settings(
    FUZZ,
    max_examples=60,
    suppress_health_check=[*FUZZ.suppress_health_check, HealthCheck.function_scoped_fixture],
)

# A configured subset: the detector must answer only these (or "und"), whatever the text.
FEW_LANGUAGES = ("en", "fr", "es", "de", "ja")
HOSTILE_LABELS = [
    "en\r\nFLUSHALL",
    "en\r\n*1\r\n$8\r\nFLUSHALL\r\n",
    "../x",
    "../../etc/passwd",
    "a" * 1000,
    "en\x00",
    "\x00",
    "en ",
    " EN\r\n",
    "en-US\r\nDEL tweetheat:*",
    "en_GB/../../x",
    "*",
    "hashtag_en",
    "{en}",
    "en:1",
    "en\nzh",
    "\u0435n",  # a Cyrillic ie, then n
    "\uff25\uff2e",  # fullwidth "EN"
    "<script>alert(1)</script>",
    "und",
    "qme",
    "",
    "-",
    "xx",
    "zz-ZZ",
]


# --- checking one answer ------------------------------------------------------------------


def assert_utf8(value: str) -> None:
    value.encode("utf-8")  # a lone surrogate would break the Redis write and the pages


def assert_valid(item: object) -> None:
    """A well-formed answer: a Post, a Profile, or a Skip with a known reason."""
    if isinstance(item, Skip):
        assert item.reason in PARSER_SKIP_REASONS, item
        assert isinstance(item.detail, str) and len(item.detail) <= MAX_DETAIL_CHARS
        assert not item.detail.startswith("parser bug"), item.detail
        return
    if isinstance(item, AccountGone):  # a Jetstream account that stopped being active
        assert isinstance(item.user_id, str) and item.user_id
        assert isinstance(item.status, str) and len(item.status) <= 64
        assert_utf8(item.user_id)
        assert_utf8(item.status)
        return
    if isinstance(item, Profile):
        assert isinstance(item.user_id, str) and item.user_id
        assert item.screen_name is None or isinstance(item.screen_name, str)
        assert isinstance(item.bio, str)
        for text in (item.user_id, item.screen_name or "", item.bio):
            assert_utf8(text)
        return
    assert isinstance(item, Post), item
    assert isinstance(item.text, str)
    assert_hashtags(item.hashtags)
    assert_geo(item.geo)
    for field in (item.id, item.created_at, item.user_id, item.screen_name, item.bio):
        assert field is None or isinstance(field, str)
        assert_utf8(field or "")
    assert item.platform_lang is None or isinstance(item.platform_lang, str)
    assert item.created_at is None or ISO_UTC.fullmatch(item.created_at), item.created_at
    assert_utf8(item.text)


def assert_hashtags(hashtags: object) -> None:
    assert isinstance(hashtags, tuple | list)
    assert all(isinstance(tag, str) and tag for tag in hashtags), hashtags
    assert len(set(hashtags)) == len(hashtags)
    for tag in hashtags:
        assert_utf8(tag)


def assert_geo(geo: object) -> None:
    if geo is None:
        return
    assert isinstance(geo, tuple) and len(geo) == 2, geo
    lat, lon = geo
    assert isinstance(lat, float) and isinstance(lon, float), geo
    assert math.isfinite(lat) and math.isfinite(lon), geo
    assert -90 <= lat <= 90 and -180 <= lon <= 180, geo


# --- JSON values --------------------------------------------------------------------------

# Keys the parser reads, so that generated objects often look like something it understands.
KNOWN_KEYS = (
    "text", "full_text", "id", "id_str", "user", "entities", "hashtags", "coordinates", "geo",
    "place", "bounding_box", "data", "includes", "users", "tweets", "places", "bbox", "lang",
    "langs", "facets", "features", "$type", "tag", "tags", "commit", "record", "operation",
    "collection", "kind", "did", "rkey", "errors", "title", "created_at", "createdAt",
    "extended_tweet", "retweeted_status", "note_tweet", "referenced_tweets", "type",
    "description", "displayName", "username", "screen_name", "author_id", "place_id", "delete",
    "limit", "warning", "disconnect", "event",
)  # fmt: skip
EDGE_NUMBERS: list[int | float] = [
    0, -0.0, 1, -1, 90, -90, 90.0000001, -90.0000001, 180, -180, 180.0000001, 1e308, -1e308,
    5e-324, 2**53 + 1, 2**63 - 1, -(2**63), 2**64 - 1,
]  # fmt: skip
TIME_STRINGS = [
    "Wed Oct 10 20:19:24 +0000 2018",
    "Wed Oct 10 20:19:24 +9999 2018",
    "Wed Oct 10 20:19:24 +0000 0999",
    "Mon Jan 01 00:00:00 -2359 0001",
    "Fri Dec 31 23:59:59 -2359 9999",
    "Wed Oct 10 20:19:24 +0000 \uff12\uff10\uff11\uff18",  # fullwidth digits
    "2024-09-09T19:46:02.102Z",
    "0005-01-01T00:00:00Z",
    "0001-01-01T00:00:00+23:59",
    "9999-12-31T23:59:59-23:59",
    "2024-13-45T25:61:61Z",
]
EDGE_STRINGS = [
    "",
    "#",
    "#tag #Tag #TAG",
    "\uff03\u30bf\u30b0",
    "commit",
    "create",
    "update",
    "app.bsky.feed.post",
    "app.bsky.actor.profile",
    "app.bsky.richtext.facet#tag",
    "retweeted",
    *TIME_STRINGS,
    "\x00",
    "\u2028\u2029",
    *HOSTILE_LABELS[:8],
]
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(EDGE_NUMBERS),
    st.text(max_size=30),
    st.sampled_from(EDGE_STRINGS),
)
json_keys = st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=10))
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(st.sampled_from(EDGE_NUMBERS), min_size=2, max_size=3),  # coordinate-like
        st.dictionaries(json_keys, children, max_size=4),
    ),
    max_leaves=12,
)
# A value of each JSON type, to replace a value by one of another type.
VALUES_BY_TYPE: dict[str, st.SearchStrategy[Any]] = {
    "null": st.none(),
    "bool": st.booleans(),
    "number": st.one_of(
        st.integers(min_value=-(2**63), max_value=2**64 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from(EDGE_NUMBERS),
    ),
    "string": st.one_of(st.text(max_size=30), st.sampled_from(EDGE_STRINGS)),
    "array": st.lists(json_values, max_size=4),
    "object": st.dictionaries(json_keys, json_values, max_size=4),
}


def json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


# --- real payloads to mutate --------------------------------------------------------------


SHAPE_KEYS = ("retweeted_status", "extended_tweet", "place", "coordinates", "delete", "limit")


def demo_corpus() -> list[dict[str, Any]]:
    """One demo status of each shape: retweet, extended, place, point, delete, limit, ..."""
    chosen: dict[tuple[bool, ...], dict[str, Any]] = {}
    for line, _truth in generate(400, seed=5, geo_share=0.6):
        payload = orjson.loads(line)
        shape = tuple(bool(payload.get(key)) for key in SHAPE_KEYS)
        chosen.setdefault(shape, payload)
    return list(chosen.values())


def bluesky_profile() -> dict[str, Any]:
    return {
        "did": "did:plc:abc",
        "time_us": 1,
        "kind": "commit",
        "commit": {
            "operation": "update",
            "collection": "app.bsky.actor.profile",
            "rkey": "self",
            "record": {"$type": "app.bsky.actor.profile", "displayName": "Ann",
                       "description": "Baker <b>&</b> runner"},
        },
    }  # fmt: skip


CORPUS: list[dict[str, Any]] = [
    *demo_corpus(),
    v2_post(1),
    v1_status(2),
    jetstream_post(3),
    v2_operational_disconnect(),
    v1_tweet(),
    v2_message({"geo": {"coordinates": {"type": "Point", "coordinates": [2.35, 48.85]}}}),
    jetstream(),
    bluesky_profile(),
    *VALID_PAYLOADS,
]
CORPUS_LINES = [orjson.dumps(payload) for payload in CORPUS]
# Keys whose values the parser reads: mutations aim at them half of the time.
READ_KEYS = frozenset(KNOWN_KEYS) | {"coordinates", "description", "full_text"}

JsonPath = tuple[str | int, ...]


def value_paths(node: Any, prefix: JsonPath = ()) -> Iterator[JsonPath]:
    """The path of every value under `node` (not `node` itself)."""
    if not isinstance(node, dict | list):
        return
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, child in items:
        yield (*prefix, key)
        yield from value_paths(child, (*prefix, key))


def at(node: Any, path: JsonPath) -> Any:
    for key in path:
        node = node[key]
    return node


def is_read(path: JsonPath) -> bool:
    """Whether every key on the path is one the parser reads (list indexes pass)."""
    return all(key in READ_KEYS for key in path if isinstance(key, str))


@st.composite
def mutated_payloads(draw: st.DrawFn) -> Any:
    """A real payload with one to five structural mutations (`mutate`)."""
    return mutate(draw, draw(st.sampled_from(CORPUS)))


def mutate(draw: st.DrawFn, original: Any) -> Any:
    """A copy of `original` with one to five structural mutations: a value replaced by one of
    another type (or an odd one of the same type), a key deleted or renamed, a list cut
    short or grown."""
    payload = copy.deepcopy(original)
    for _ in range(draw(st.integers(1, 5))):
        paths = list(value_paths(payload))
        if not paths:
            break
        # Half of the time, aim at what the parser reads (list items included).
        aimed = [p for p in paths if is_read(p)]
        path = draw(st.sampled_from(aimed if aimed and draw(st.booleans()) else paths))
        parent, key = at(payload, path[:-1]), path[-1]
        value = parent[key]
        action = draw(st.sampled_from(MUTATIONS))
        if action == "retype":
            other = [t for t in VALUES_BY_TYPE if t != json_type(value)]
            parent[key] = draw(VALUES_BY_TYPE[draw(st.sampled_from(other))])
        elif action == "same_type":
            parent[key] = draw(VALUES_BY_TYPE[json_type(value)])
        elif action == "delete":
            del parent[key]
        elif action == "rename" and isinstance(parent, dict):
            parent[draw(json_keys)] = parent.pop(key)
        elif action == "cut" and isinstance(value, list):
            del value[draw(st.integers(0, len(value))) :]
        elif action == "grow" and isinstance(value, list):
            value.append(draw(st.sampled_from(value) if value else json_values))
    return payload


MUTATIONS = ("retype", "retype", "same_type", "delete", "rename", "cut", "grow")


# Bytes that break JSON or UTF-8 in interesting ways when spliced into a line.
SPLICES = [
    b"\x00", b"\xff", b"\xc0\x80", b"\xed\xa0\x80", b"\xe8\xaa", b"\x80", b"\xf4\x90\x80\x80",
    b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-1e999", b"9" * 400, b"1e-999", b"\\ud800",
    b"\\udc00", b"\\u0000", b'"', b"\\", b"{", b"[", b"}", b"]", b",", b":", b"\r\n",
    b"\xef\xbb\xbf",
]  # fmt: skip


@st.composite
def byte_mutations(draw: st.DrawFn, line: bytes) -> bytes:
    data = bytearray(line)
    for _ in range(draw(st.integers(1, 3))):
        position = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(("truncate", "flip", "insert", "splice", "delete")))
        if action == "truncate":
            del data[position:]
        elif action == "flip" and position < len(data):
            data[position] ^= draw(st.integers(1, 255))
        elif action == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=4))
        elif action == "splice":
            data[position:position] = draw(st.sampled_from(SPLICES))
        else:
            del data[position : position + draw(st.integers(1, 8))]
    return bytes(data)


@st.composite
def mutated_lines(draw: st.DrawFn) -> bytes:
    line = orjson.dumps(draw(mutated_payloads()))
    return draw(byte_mutations(line)) if draw(st.booleans()) else line


# --- what the typed reader reads past ----------------------------------------------------

# A JSON string or number token. Scanned left to right over a line msgspec parsed, a string
# is matched whole before its contents could be taken for numbers.
_JSON_TOKEN = re.compile(
    rb'"(?:[^"\\]|\\.)*"|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?', re.DOTALL
)


def made_valid(line: bytes) -> bytes:
    """The line with what only orjson checks made valid: invalid UTF-8 becomes U+FFFD and a
    number too big for a double becomes 0. Meant for lines msgspec parsed."""
    text = line.decode("utf-8", "replace").encode("utf-8")
    return _JSON_TOKEN.sub(_finite_token, text)


def _finite_token(match: re.Match[bytes]) -> bytes:
    token = match[0]
    return token if token.startswith(b'"') or math.isfinite(float(token)) else b"0"


def assert_refused_or_read_past(line: bytes, item: object, reason: str) -> None:
    """`item`, the answer for a line orjson refuses as `reason`, is that refusal, or else the
    typed reader read past bad bytes in fields the parser never reads: then it is the general
    reader's answer for the line with those bytes made valid."""
    if isinstance(item, Skip) and item.reason == reason:
        return
    assert item == parse_payload(made_valid(line), typed=False), (line[:300], item)


# --- (a) arbitrary bytes ------------------------------------------------------------------


@FUZZ
@given(st.binary(max_size=300))
def test_arbitrary_bytes(line: bytes) -> None:
    item = parse_payload(line)
    assert_valid(item)
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        assert_refused_or_read_past(line, item, BAD_UTF8)
    else:
        assert parse_payload(text) == item  # a str line is read like its UTF-8 bytes


@FUZZ
@given(st.text(max_size=200) | st.lists(st.characters(), max_size=50).map("".join))
def test_arbitrary_text(line: str) -> None:
    assert_valid(parse_payload(line))


@FUZZ
@given(st.text(max_size=20), st.characters(categories=["Cs"]), st.text(max_size=20))
def test_text_with_a_lone_surrogate_is_bad_utf8(head: str, surrogate: str, tail: str) -> None:
    item = parse_payload(f'{{"text": "{head}{surrogate}{tail}"}}')
    assert isinstance(item, Skip) and item.reason == BAD_UTF8


@FUZZ
@given(
    st.sampled_from(CORPUS_LINES),
    st.integers(min_value=0),
    st.sampled_from([b"\x80", b"\xff", b"\xc3", b"\xed\xb0\x80", b"\xf8\x88\x80\x80\x80"]),
)
def test_invalid_utf8_anywhere_in_a_real_line_is_bad_utf8_unless_never_read(
    line: bytes, position: int, bad: bytes
) -> None:
    position %= len(line) + 1
    # Put it after any multibyte sequence it would otherwise complete or cut.
    while position < len(line) and 0x80 <= line[position] < 0xC0:
        position += 1
    spoiled = line[:position] + bad + line[position:]
    assert_refused_or_read_past(spoiled, parse_payload(spoiled), BAD_UTF8)


@FUZZ
@given(st.sampled_from(CORPUS_LINES), st.lists(st.integers(min_value=0), min_size=1, max_size=4))
def test_nul_bytes_anywhere(line: bytes, positions: list[int]) -> None:
    data = bytearray(line)
    for position in positions:
        data.insert(position % (len(data) + 1), 0)
    item = parse_payload(bytes(data))
    assert_valid(item)
    # A raw control character is never valid JSON, inside a string or out of it (and inside a
    # multibyte character it is not valid UTF-8 either).
    assert isinstance(item, Skip) and item.reason in (BAD_JSON, BAD_UTF8), item


@settings(FUZZ, max_examples=25)
@given(
    delta=st.integers(-3, 3),
    unit=st.sampled_from([b" ", b"a", b"#tag ", "\u8a9e".encode(), b"\\u0000", b"\\", b"\xff"]),
    as_str=st.booleans(),
    where=st.sampled_from(["text", "padding"]),
)
def test_lines_around_the_size_limit(delta: int, unit: bytes, as_str: bool, where: str) -> None:
    size = MAX_LINE_BYTES + delta
    head, tail = (b'{"text":"', b'"}') if where == "text" else (b'{"text":"x"}', b"")
    fill = size - len(head) - len(tail)
    if where == "padding":
        unit = b" "
    body = (unit * (fill // len(unit) + 1))[:fill]
    line = head + body + tail
    assert len(line) == size
    raw: bytes | str = line
    if as_str:
        with suppress(UnicodeDecodeError):
            raw = line.decode("utf-8")
    item = parse_payload(raw)
    assert_valid(item)
    byte_size = len(raw.encode("utf-8")) if isinstance(raw, str) else len(raw)
    if byte_size > MAX_LINE_BYTES:
        assert isinstance(item, Skip) and item.reason == TOO_LONG
    else:
        assert not (isinstance(item, Skip) and item.reason == TOO_LONG)


@settings(FUZZ, max_examples=40)
@given(
    depth=st.one_of(
        st.integers(1, 100_000), st.sampled_from([127, 128, 255, 256, 1023, 1024, 1025, 100_000])
    ),
    shape=st.sampled_from(["array", "object", "mixed", "unclosed", "inside_post", "closers"]),
)
def test_deep_nesting(depth: int, shape: str) -> None:
    if shape == "array":
        line = b"[" * depth + b"]" * depth
    elif shape == "object":
        line = b'{"a":' * depth + b"1" + b"}" * depth
    elif shape == "mixed":
        line = b'{"text":[' * depth + b"]}" * depth
    elif shape == "unclosed":
        line = b'{"data":' * depth
    elif shape == "closers":
        line = b'{"text":"x"}' + b"]}" * depth
    else:
        line = b'{"text":"deep #tag","extra":' + b"[" * depth + b"]" * depth + b"}"
    item = parse_payload(line)
    assert_valid(item)
    if shape == "inside_post":
        assert isinstance(item, Post) or item.reason == BAD_JSON, item
    elif shape in ("unclosed", "closers"):
        assert isinstance(item, Skip) and item.reason == BAD_JSON, item
    else:
        assert isinstance(item, Skip), item


def number_tokens() -> st.SearchStrategy[str]:
    """JSON number tokens of any size, and the non-JSON ones a sloppy encoder writes."""
    digits = st.integers(1, 400).map(lambda n: "9" * n) | st.from_regex(
        r"[1-9][0-9]{0,30}", fullmatch=True
    )
    exponent = st.integers(-100_000, 100_000).map(lambda e: f"e{e}")
    valid = st.builds(
        lambda sign, whole, frac, exp: f"{sign}{whole}{frac}{exp}",
        st.sampled_from(["", "-"]),
        digits | st.just("0"),
        st.sampled_from(["", ".5", ".000000000000000000001", "." + "3" * 300]),
        st.sampled_from([""]) | exponent,
    )
    invalid = st.sampled_from(
        ["NaN", "-NaN", "Infinity", "-Infinity", "+1", "01", "1.", ".5", "-", "1e", "0x10",
         "1_000", "\u0661", "inf", "nan", "1e+", "--1"]
    )  # fmt: skip
    return valid | invalid


JSON_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
NUMBER_TEMPLATES = [
    # v1.1 point, deprecated geo, place box; v2 point and place; a v2 id; a hashtag list
    b'{"id_str":"1","text":"x","coordinates":{"coordinates":[@,@]}}',
    b'{"id_str":"1","text":"x","geo":{"coordinates":[@,@]}}',
    b'{"id_str":"1","text":"x","place":{"bounding_box":{"coordinates":[[[@,@],[@,@]]]}}}',
    b'{"data":{"text":"x","geo":{"coordinates":{"coordinates":[@,@,@]}}}}',
    b'{"data":{"text":"x","geo":{"place_id":"p"}},'
    b'"includes":{"places":[{"id":"p","geo":{"bbox":[@,@,@,@]}}]}}',
    b'{"data":{"text":"x","id":@,"author_id":@},"includes":{"users":[{"id":@}]}}',
    b'{"id_str":"1","text":"x","entities":{"hashtags":[{"text":@},@]},"user":{"id":@}}',
    b'{"did":"d","kind":"commit","commit":{"operation":"create",'
    b'"collection":"app.bsky.feed.post","rkey":@,"record":{"text":@,"langs":[@]}}}',
]


@FUZZ
@given(st.sampled_from(NUMBER_TEMPLATES), st.lists(number_tokens(), min_size=4, max_size=4))
def test_huge_and_non_json_numbers(template: bytes, tokens: list[str]) -> None:
    used = (tokens * 2)[: template.count(b"@")]
    line = template
    for token in used:
        line = line.replace(b"@", token.encode(), 1)
    item = parse_payload(line)
    assert_valid(item)
    if not all(JSON_NUMBER.fullmatch(token) for token in used):
        assert isinstance(item, Skip) and item.reason == BAD_JSON, (line, item)


def raw_object(pairs: list[tuple[str, bytes]]) -> bytes:
    """A JSON object written by hand, so that it may repeat keys."""
    return b"{" + b",".join(orjson.dumps(key) + b":" + value for key, value in pairs) + b"}"


DUPLICATED_KEYS = (
    "text", "data", "did", "kind", "commit", "delete", "lang", "user", "entities", "id",
    "id_str", "errors", "record", "operation", "collection",
)  # fmt: skip


@st.composite
def objects_with_duplicate_keys(draw: st.DrawFn, depth: int = 2) -> bytes:
    values = json_scalars.map(orjson.dumps)
    if depth > 0:
        values = values | objects_with_duplicate_keys(depth - 1)
    pairs = draw(
        st.lists(st.tuples(st.sampled_from(DUPLICATED_KEYS), values), min_size=1, max_size=8)
    )
    return raw_object(pairs)


@settings(FUZZ, max_examples=100)
@given(objects_with_duplicate_keys())
def test_duplicate_keys(line: bytes) -> None:
    item = parse_payload(line)
    assert_valid(item)
    # The last value of a repeated key wins, as in any JSON parser that keeps one.
    assert item == parse_payload(orjson.dumps(orjson.loads(line)))


@FUZZ
@given(json_values)
def test_any_json_value(value: Any) -> None:
    assert_valid(parse_payload(orjson.dumps(value)))


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@st.composite
def timestamps(draw: st.DrawFn) -> str:
    """Times as v1.1 and ISO payloads write them, any year and offset, and near misses."""
    moment = draw(st.datetimes())
    sign = draw(st.sampled_from("+-"))
    hours, minutes = draw(st.integers(0, 23)), draw(st.integers(0, 59))
    twitter = (
        f"Wed {MONTHS[moment.month - 1]} {moment.day:02d} {moment:%H:%M:%S} "
        f"{sign}{hours:02d}{minutes:02d} {moment.year:04d}"
    )
    iso = moment.isoformat() + draw(st.sampled_from(["", "Z", f"{sign}{hours:02d}:{minutes:02d}"]))
    return draw(st.sampled_from([twitter, iso]) | st.sampled_from(TIME_STRINGS))


@FUZZ
@given(timestamps(), st.sampled_from(["v1", "v2", "jetstream"]))
def test_timestamps_of_any_year_and_offset(moment: str, fmt: str) -> None:
    if fmt == "v1":
        payload = v1_tweet(created_at=moment)
    elif fmt == "v2":
        payload = v2_message({"created_at": moment})
    else:
        payload = jetstream({"text": "x", "createdAt": moment})
    item = parse_payload(orjson.dumps(payload))
    assert isinstance(item, Post)
    assert_valid(item)


# --- (b) mutated real payloads ------------------------------------------------------------


def test_the_corpus_parses() -> None:
    kinds = Counter(type(parse_payload(line)).__name__ for line in CORPUS_LINES)
    assert kinds["Post"] >= 10 and kinds["Profile"] == 1 and kinds["Skip"] >= 3, kinds


@settings(FUZZ, max_examples=500)
@given(mutated_payloads())
def test_structurally_mutated_payloads(payload: Any) -> None:
    assert_valid(parse_payload(orjson.dumps(payload)))


@settings(FUZZ, max_examples=300)
@given(st.sampled_from(CORPUS_LINES).flatmap(byte_mutations))
def test_byte_mutated_payloads(line: bytes) -> None:
    assert_valid(parse_payload(line))


@settings(FUZZ, max_examples=300)
@given(mutated_lines())
def test_structurally_then_byte_mutated_payloads(line: bytes) -> None:
    assert_valid(parse_payload(line))


# Every field the parser reads, in every corpus payload, replaced by each of these in turn (or
# deleted): a sweep that random mutation would take far longer to cover.
ODD_VALUES: list[Any] = [
    None, True, False, 0, -1, 1.5, -0.0, 1e308, -1e308, 2**64 - 1, -(2**63), "", "x", "#",
    "\x00", "\u2028", "a" * 300, *EDGE_STRINGS, [], [None], [""], [1, 2],
    [1, 2, 3], [1, 2, 3, 4], [[1, 2], [3, 4]], [[[1, 2]]], [[[1, 2], [3, 4]]], [[]], [{}], {},
    {"a": None}, {"text": 1}, {"text": ""}, {"coordinates": [1, 2]}, {"id": "8", "text": "t"},
]  # fmt: skip
DELETED = object()


def with_value(node: Any, path: JsonPath, value: Any) -> Any:
    """A copy of `node` with the value at `path` replaced, or removed for DELETED. Only the
    containers along the path are copied; `node` is left as it was."""
    if not path:
        return value
    key, rest = path[0], path[1:]
    changed = dict(node) if isinstance(node, dict) else list(node)
    if not rest and value is DELETED:
        del changed[key]
    else:
        changed[key] = with_value(node[key], rest, value)
    return changed


def test_every_read_field_replaced_by_every_odd_value() -> None:
    checked = 0
    for payload in CORPUS:
        for path in [p for p in value_paths(payload) if is_read(p)]:
            for value in [DELETED, *ODD_VALUES]:
                assert_valid(parse_payload(orjson.dumps(with_value(payload, path, value))))
                checked += 1
    assert checked > 10_000, checked


# --- process_batch ------------------------------------------------------------------------


@contextmanager
def initialized_worker(
    languages: tuple[str, ...] | None, trust_platform: bool
) -> Iterator[frozenset[str]]:
    """This process as a pool process after init_worker, minus the signal and parent-watch
    set-up (which would make pytest deaf to Ctrl-C); yields the allowed language codes."""
    with pytest.MonkeyPatch.context() as patch:
        prepared: list[int] = []
        patch.setattr(worker, "prepare_pool_process", prepared.append)
        patch.setattr(worker, "_chooser", None)  # restored when the test ends
        worker.init_worker("default", languages, os.getpid(), trust_platform)
        assert prepared == [os.getpid()]
        yield frozenset(languages or DEFAULT_LANGUAGES) | {UNDETERMINED}


@pytest.fixture
def few_trusting() -> Iterator[frozenset[str]]:
    with initialized_worker(FEW_LANGUAGES, trust_platform=True) as allowed:
        yield allowed


@pytest.fixture
def defaults_trusting() -> Iterator[frozenset[str]]:
    with initialized_worker(None, trust_platform=True) as allowed:
        yield allowed


def hostile_label_lines() -> st.SearchStrategy[bytes]:
    """Real-looking posts in each format whose platform label is hostile."""
    labels = st.sampled_from(HOSTILE_LABELS) | st.text(max_size=40)
    texts = st.sampled_from(
        ["Good morning everyone, the weather is lovely today", "Bonjour à tous, il fait beau",
         "東京タワーに行きました", "Привет всем", "#tag", "", "x"]
    )  # fmt: skip

    def build(fmt: str, label: str, text: str) -> bytes:
        if fmt == "v1":
            payload = v1_tweet(lang=label, text=text)
            del payload["entities"]
        elif fmt == "v2":
            payload = v2_message({"lang": label, "text": text})
        else:
            payload = jetstream({"text": text, "langs": [label, "en"]})
        return orjson.dumps(payload)

    return st.builds(build, st.sampled_from(["v1", "v2", "jetstream"]), labels, texts)


batch_lines = st.one_of(
    st.binary(max_size=200),
    st.sampled_from(CORPUS_LINES),
    mutated_lines(),
    hostile_label_lines(),
    st.sampled_from([b"", b"\r\n", b"[" * 5000, b'{"text":"\xff"}', b"x" * (MAX_LINE_BYTES + 1)]),
)


def check_batch(lines: list[bytes], allowed: frozenset[str]) -> None:
    result = worker.process_batch(lines)
    items = [parse_payload(line) for line in lines]
    posts = [item for item in items if isinstance(item, Post)]
    # Every line is counted once: as a record, as a skip by reason, or as a profile.
    expected_skips = Counter(item.reason for item in items if isinstance(item, Skip))
    expected_skips[PROFILE] += sum(isinstance(item, Profile) for item in items)
    assert result.skipped == +expected_skips
    assert len(result.records) + sum(result.skipped.values()) == len(lines)
    assert len(result.records) == len(posts)
    assert sum(result.lang_sources.values()) == len(result.records)
    assert set(result.lang_sources) <= {"platform", "detector"}
    assert [(r.hashtags, r.id) for r in result.records] == [(p.hashtags, p.id) for p in posts]
    # Without a gazetteer (no [geo] given) the ladder has two rungs: the post's own point,
    # then its place box's centre.
    for record, post in zip(result.records, posts, strict=True):
        if post.geo is not None:
            assert (record.geo, record.geo_source, record.precision_km) == (post.geo, "exact", 0)
        elif post.place_bbox is not None:
            centre = place_centre(post.place_bbox)
            assert centre is not None
            assert record.geo == (round(centre.lat, 4), round(centre.lon, 4))  # as the worker
            assert record.geo_source == "place"
        else:
            assert record.geo is None
    assert sum(result.located.values()) == len(result.records)
    bad = sum(count for reason, count in result.skipped.items() if reason in BAD_INPUT_REASONS)
    assert len(result.samples) == min(bad, worker.MAX_SAMPLES)
    assert all(
        reason in BAD_INPUT_REASONS and len(detail) <= 200 for reason, detail in result.samples
    )
    for record in result.records:
        # The code becomes part of Redis key names and of file names under out/maps/.
        assert record.lang in allowed, record.lang
        assert is_safe_lang_code(record.lang), record.lang
        assert_hashtags(record.hashtags)
        assert_geo(record.geo)
    # One entry per user, the last bio of the batch, with a language from the same set.
    last_bio: dict[str, str] = {}
    for item in items:
        if isinstance(item, Profile) or (
            isinstance(item, Post) and item.user_id is not None and item.bio is not None
        ):
            assert item.user_id is not None and item.bio is not None
            last_bio[item.user_id] = item.bio
    assert {u.user_id: u.bio for u in result.users} == last_bio
    assert len(result.users) == len(last_bio)
    assert all(u.lang is None or u.lang in allowed for u in result.users)


@WITH_WORKER
@given(st.lists(batch_lines, max_size=25))
def test_process_batch_accounts_for_every_line(
    few_trusting: frozenset[str], lines: list[bytes]
) -> None:
    check_batch(lines, few_trusting)


@settings(WITH_WORKER, max_examples=25)
@given(st.lists(batch_lines, max_size=25))
def test_process_batch_with_the_default_languages(
    defaults_trusting: frozenset[str], lines: list[bytes]
) -> None:
    check_batch(lines, defaults_trusting)


def test_process_batch_needs_init_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker, "_chooser", None)
    with pytest.raises(RuntimeError, match="init_worker"):
        worker.process_batch([b'{"text":"x"}'])


@WITH_WORKER
@given(hostile_label_lines())
def test_a_trusted_platform_label_never_names_a_language_it_does_not_name(
    few_trusting: frozenset[str], line: bytes
) -> None:
    item = parse_payload(line)
    assert isinstance(item, Post)
    label = item.platform_lang
    result = worker.process_batch([line])
    (record,) = result.records
    assert record.lang in few_trusting and is_safe_lang_code(record.lang)
    if result.lang_sources.get("platform"):
        # Taken from the label only when the label names a configured language.
        assert record.lang == normalize_label(label) and record.lang in FEW_LANGUAGES
    if label not in few_trusting:
        assert record.lang != label


def test_hostile_labels_in_each_format(defaults_trusting: frozenset[str]) -> None:
    for label in HOSTILE_LABELS:
        lines = [
            orjson.dumps(v1_tweet(lang=label)),
            orjson.dumps(v2_message({"lang": label})),
            orjson.dumps(jetstream({"text": "Learning Python today", "langs": [label]})),
        ]
        result = worker.process_batch(lines)
        assert len(result.records) == 3, label
        for record in result.records:
            assert record.lang in defaults_trusting and is_safe_lang_code(record.lang), label
            if label not in defaults_trusting:
                assert record.lang != label
