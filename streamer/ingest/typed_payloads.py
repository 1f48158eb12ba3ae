"""A typed decode of a stream line that materialises only what the parser reads.

A realistic Twitter v1.1 status is about 3.4 KB, most of it a user object and entities the
parser never reads; `orjson.loads` builds all of it. `decode_line` hands the same bytes to
msgspec with the schemas below, which skip every key they do not name, so only a few strings
and numbers become Python objects.

The schemas are strict on purpose: a value of another type than the one today's streams send
(a number where a string is, an object where a list is, an integer outside int64, ...) makes
the decode fail, and the parser then reads the line the general way (orjson and dicts). So the
typed reader never has to handle an odd shape: it only has to be right on the common ones.

msgspec skips unknown values without checking all that orjson checks: it does not validate
UTF-8 inside skipped strings and keys, it accepts numbers that overflow a double, and its
nesting limit follows the interpreter's recursion limit. `json_checks_hold` says whether a line
orjson would refuse could hide in those gaps; the parser uses the typed result only when it
cannot.

What that costs, per realistic 3.4 KB v1.1 line (CPU time, scripts/bench_typed_decode.py):
the typed decode takes about 4.4 µs against orjson's 7.4, but the checks take about 6 (a
UTF-8 decode of the line, a pass for big numbers), so the typed reader is slower overall and
`parse_payload` leaves it off unless asked (`typed=True`). Without the number pass it would be
about 15% faster, without both checks about 33%, at the price of reading as posts some
malformed lines that orjson refuses.
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
    "json_checks_hold",
]

# orjson reads integers in int64 and uint64 as ints and larger ones as floats; msgspec reads
# them all as ints. Ids bounded to int64 are read the same by both (msgspec cannot bound to
# uint64); the rare id above it goes the general way.
Int64 = Annotated[int, Meta(ge=-(2**63), le=2**63 - 1)]
Position = list[float]  # GeoJSON [lon, lat] or the deprecated "geo" [lat, lon]; ints become floats


class Hashtag(Struct):
    text: str | None = None


class Entities(Struct):
    hashtags: list[Hashtag] | None = None


class User(Struct):
    id_str: str | None = None
    id: Int64 | str | None = None
    screen_name: str | None = None
    description: str | None = None
    location: str | None = None


class PointGeometry(Struct):
    coordinates: Position | None = None


class BoundingBox(Struct):
    coordinates: list[list[Position]] | None = None


class Place(Struct):
    bounding_box: BoundingBox | None = None


class ExtendedTweet(Struct):
    full_text: str | None = None
    entities: Entities | None = None


class Tweet(Struct):
    """What the parser reads of a retweeted status: its text and the entities into it."""

    text: str | None = None
    full_text: str | None = None
    extended_tweet: ExtendedTweet | None = None
    entities: Entities | None = None


class Line(Struct):
    """One stream line: a v1.1 status, a bare post, or any other shape, told apart by which
    keys are present (UNSET: absent; None: present and null). The dispatch keys of other
    formats are Raw: only their presence is read here, and such lines go the general way."""

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
    # A v1.1 status (and a bare post: text and id only).
    text: str | UnsetType | None = UNSET
    full_text: str | UnsetType | None = UNSET
    id_str: str | UnsetType | None = UNSET
    id: Int64 | str | None = None
    created_at: str | UnsetType | None = UNSET
    user: User | UnsetType | None = UNSET
    entities: Entities | UnsetType | None = UNSET
    extended_tweet: ExtendedTweet | UnsetType | None = UNSET
    retweeted_status: Tweet | UnsetType | None = UNSET
    truncated: Raw | UnsetType = UNSET
    lang: str | None = None
    coordinates: PointGeometry | None = None
    geo: PointGeometry | None = None
    place: Place | None = None


_decoder = msgspec.json.Decoder(Line)


def decode_line(data: bytes) -> Line | None:
    """The line's typed form, or None when msgspec refuses it (bad JSON, a value of an
    unexpected type, nesting past its limit): the caller then reads it the general way."""
    try:
        return _decoder.decode(data)
    except (msgspec.DecodeError, RecursionError):  # ValidationError is a DecodeError
        return None


# --- what msgspec skips unchecked ---------------------------------------------------------

# orjson refuses nesting deeper than this. msgspec's limit is the interpreter's recursion
# limit, which on Python 3.11 is lower unless a program raised it (on 3.12 and later the C
# recursion limit decides, so lines are counted instead).
_ORJSON_MAX_DEPTH = 1024
_RECURSION_LIMIT_DECIDES = sys.version_info < (3, 12)
# A number that overflows a double (orjson refuses the line) has an exponent of three digits
# or more, or else (the exponent being under 100) over 200 digits in a row. Digits and "+" are
# folded to "0" and "E" to "e", so either shows up as one of two plain substrings ("1e+40"
# too, a false alarm that only costs speed).
_FOLD_NUMBERS = bytes.maketrans(b"123456789+E", b"0000000000e")
_BIG_EXPONENT = b"0e000"
_LONG_DIGITS = b"0" * 200


def json_checks_hold(data: bytes) -> bool:
    """Whether a line msgspec accepted is one orjson accepts too: valid UTF-8 throughout, no
    number too large for a double, nesting within orjson's limit. False may be wrong (the
    line then goes the general way, which is slower but gives the same answer); True never."""
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return False
    folded = data.translate(_FOLD_NUMBERS)
    # rfind: its scan keys on the needle's first byte, rarer in folded text than its last.
    if folded.rfind(_BIG_EXPONENT) >= 0 or _LONG_DIGITS in folded:
        return False
    if _RECURSION_LIMIT_DECIDES and sys.getrecursionlimit() <= _ORJSON_MAX_DEPTH:
        return True
    return data.count(b"[") + data.count(b"{") < _ORJSON_MAX_DEPTH
