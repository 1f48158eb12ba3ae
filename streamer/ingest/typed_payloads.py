"""A typed decode of a stream line that materialises only what the parser reads.

A realistic Twitter v1.1 status is about 3.4 KB, most of it a user object and entities the
parser never reads; `orjson.loads` builds all of it. `decode_line` hands the same bytes to
msgspec with the schemas below, which skip every key they do not name, so only a few strings
and numbers become Python objects.

The schemas are strict on purpose: a value of another type than the one today's streams send
(a number where a string is, an object where a list is, an integer outside int64, ...) makes
the decode fail, and the parser then reads the line the general way (orjson and dicts). So the
typed reader never has to handle an odd shape: it only has to be right on the common ones.

msgspec validates every value it decodes into these schemas (UTF-8 strings, int64 ids, finite
floats) and skips the rest. In what it skips, it is more lenient than orjson: it does not
validate UTF-8 inside skipped strings and keys, and it accepts numbers that overflow a double.
So a line whose only fault is such bytes in a field the parser never reads (a profile image
address, a count, an unknown key) is read as the post it carries, where orjson refuses the
whole line; the same fault in a field the parser reads fails the decode. Nothing orjson
accepts is refused, and nothing the parser reads escapes validation.

Skipping nested values recurses in C: msgspec guards it with the interpreter's recursion
limit (RecursionError, and the line goes the general way), which is safe at the default limit.
A program that raised the limit could let a deep line overrun the C stack, so then lines
nesting deeper than orjson allows are left to orjson (`decode_line`).

What it saves, per realistic 3.4 KB v1.1 line (CPU time, scripts/bench_typed_decode.py): the
decode takes about 4.7 µs against orjson's 7.4, and the whole parse about 9 µs against 13.
"""

from __future__ import annotations

import sys
from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, Raw, Struct, UnsetType

__all__ = [
    "Entities",
    "ExtendedTweet",
    "Hashtag",
    "Line",
    "Tweet",
    "User",
    "decode_line",
]

# orjson reads integers in int64 and uint64 as ints and larger ones as floats; msgspec reads
# them all as ints. Ids bounded to int64 are read the same by both (msgspec cannot bound to
# uint64); the rare id above it goes the general way.
Int64 = Annotated[int, Meta(ge=-(2**63), le=2**63 - 1)]
Position = list[float]  # GeoJSON [lon, lat] or the deprecated "geo" [lat, lon]; ints become floats
# gc=False: a decoded line holds strings, numbers and other such structs, never a cycle, so
# the collector need not track (and later walk) the few structs every line makes.


class Hashtag(Struct, gc=False):
    text: str | None = None


class Entities(Struct, gc=False):
    hashtags: list[Hashtag] | None = None


class User(Struct, gc=False):
    id: Int64 | str | None = None  # in the order user objects send their keys (see Line)
    id_str: str | None = None
    screen_name: str | None = None
    location: str | None = None
    description: str | None = None


class PointGeometry(Struct, gc=False):
    coordinates: Position | None = None


class BoundingBox(Struct, gc=False):
    coordinates: list[list[Position]] | None = None


class Place(Struct, gc=False):
    bounding_box: BoundingBox | None = None


class ExtendedTweet(Struct, gc=False):
    full_text: str | None = None
    entities: Entities | None = None


class Tweet(Struct, gc=False):
    """What the parser reads of a retweeted status: its text and the entities into it."""

    text: str | None = None
    full_text: str | None = None
    extended_tweet: ExtendedTweet | None = None
    entities: Entities | None = None


class Line(Struct, gc=False):
    """One stream line: a v1.1 status, a bare post, or any other shape, told apart by which
    keys are present (UNSET: absent; None: present and null). The dispatch keys of other
    formats are Raw: only their presence is read here, and such lines go the general way."""

    # Fields in the order v1.1 statuses send their keys: msgspec looks a key up from where the
    # previous one was found, so the common order costs the fewest comparisons.
    # A v1.1 status (and a bare post: text and id only).
    created_at: str | UnsetType | None = UNSET
    id: Int64 | str | None = None
    id_str: str | UnsetType | None = UNSET
    text: str | UnsetType | None = UNSET
    full_text: str | UnsetType | None = UNSET
    truncated: Raw | UnsetType = UNSET
    user: User | UnsetType | None = UNSET
    geo: PointGeometry | None = None
    coordinates: PointGeometry | None = None
    place: Place | None = None
    retweeted_status: Tweet | UnsetType | None = UNSET
    extended_tweet: ExtendedTweet | UnsetType | None = UNSET
    entities: Entities | UnsetType | None = UNSET
    lang: str | None = None
    # v2, v2 errors, Jetstream: recognised, read by the general reader.
    data: Raw | UnsetType = UNSET
    errors: Raw | UnsetType = UNSET
    did: Raw | UnsetType = UNSET
    kind: Raw | UnsetType = UNSET
    # v1.1 control messages, in the parser's order (parser._V1_CONTROL_KEYS).
    delete: Raw | UnsetType = UNSET
    limit: Raw | UnsetType = UNSET
    warning: Raw | UnsetType = UNSET
    scrub_geo: Raw | UnsetType = UNSET
    status_withheld: Raw | UnsetType = UNSET
    user_withheld: Raw | UnsetType = UNSET
    disconnect: Raw | UnsetType = UNSET
    event: Raw | UnsetType = UNSET
    friends: Raw | UnsetType = UNSET
    friends_str: Raw | UnsetType = UNSET


_decoder = msgspec.json.Decoder(Line)

# orjson refuses nesting deeper than this.
_ORJSON_MAX_DEPTH = 1024
# Up to this recursion limit, msgspec's own guard stops a deep line long before the C stack
# runs out. On Python 3.12 and later the C recursion limit decides instead; the count below
# then bounds the depth.
_SAFE_RECURSION_LIMIT = 1024
_RECURSION_LIMIT_DECIDES = sys.version_info < (3, 12)


def decode_line(data: bytes) -> Line | None:
    """The line's typed form, or None when msgspec refuses it (bad JSON, a value of an
    unexpected type, a bad string or number in a read field, nesting past its limit) or may
    nest too deep to skip safely: the caller then reads it the general way."""
    # Written out (one Python call less on every line): on 3.11 at the default recursion
    # limit, the first test is all a line costs. Brackets in strings count too: a false alarm
    # only sends the line the general way.
    guarded = _RECURSION_LIMIT_DECIDES and sys.getrecursionlimit() <= _SAFE_RECURSION_LIMIT
    if not guarded and data.count(b"[") + data.count(b"{") >= _ORJSON_MAX_DEPTH:
        return None
    try:
        return _decoder.decode(data)
    except (msgspec.MsgspecError, RecursionError):  # ValidationError is one too
        return None
