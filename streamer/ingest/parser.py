"""Turn one raw stream line into a normalized Post, or a Skip that says why it is not one.

Understood formats:

* Twitter v1.1 statuses (``statuses/sample``) and their control messages (delete, limit, ...);
* Twitter v2 stream messages (``data`` + ``includes``) and their error objects;
* Bluesky Jetstream events, every kind (``streamer.ingest.jetstream_events``);
* a bare object with a string ``text``.

``parse_payload`` never raises: stream input is untrusted, and one odd line must cost a Skip,
not a worker. Optional fields of the wrong shape (user, place, geo) are dropped; only a post
without a usable text, or a wrong-typed hashtag list, is refused as WRONG_TYPE.

Most lines are read by a typed fast path (msgspec, streamer.ingest.typed_payloads) that
decodes and validates only the fields the parser reads; any line it does not handle, and any
line msgspec refuses, is read the general way (orjson and dicts). On every line orjson
accepts, both give the same answer. The fast path does not look at bytes in fields the
parser never reads, so invalid UTF-8 or a number too big for a double there no longer makes
the line a ``bad_utf8`` / ``bad_json`` skip: the line is read as if that field were valid.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
from msgspec import UNSET

from streamer.config import DEFAULT_MAX_LINE_BYTES
from streamer.core.records import (
    BAD_JSON,
    BAD_UTF8,
    DELETE,
    FIELD_TOO_LONG,
    KEEPALIVE,
    LIMIT,
    NOT_POST,
    NOTICE,
    STREAM_ERROR,
    TOO_LONG,
    WARNING,
    WRONG_TYPE,
    AccountGone,
    Post,
    Profile,
    Skip,
)
from streamer.ingest.hashtags import extract_hashtags
from streamer.ingest.jetstream_events import is_jetstream_event, parse_event
from streamer.ingest.limits import limit_post, limit_profile
from streamer.ingest.typed_payloads import (
    Entities,
    ExtendedTweet,
    Line,
    Tweet,
    User,
    decode_line,
)

__all__ = [
    "MAX_LINE_BYTES",
    "TypedCounts",
    "parse_payload",
    "post_to_json_dict",
]

MAX_LINE_BYTES = DEFAULT_MAX_LINE_BYTES


MAX_DETAIL_CHARS = 200
_UTF8_BOM = b"\xef\xbb\xbf"

Obj = dict[str, Any]  # a decoded JSON object; values are checked before use
LatLon = tuple[float, float]
BBox = tuple[float, float, float, float]  # (west, south, east, north)

# v1.1 control messages, by their single top-level key. Order matters only for odd objects
# that carry several of them.
_V1_CONTROL_KEYS = {
    "delete": DELETE,
    "limit": LIMIT,
    "warning": WARNING,
    "scrub_geo": NOTICE,
    "status_withheld": NOTICE,
    "user_withheld": NOTICE,
    "disconnect": NOTICE,
    "event": NOTICE,
    "friends": NOTICE,
    "friends_str": NOTICE,
}
# Keys that only a v1.1 status has; an object with a text and none of them is a bare post.
_V1_STATUS_KEYS = frozenset(
    {
        "id_str",
        "created_at",
        "user",
        "entities",
        "extended_tweet",
        "retweeted_status",
        "full_text",
        "truncated",
    }
)
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}


class _Refused(Exception):
    """Raised deep inside a format reader to refuse the whole line with a Skip."""

    def __init__(self, skip: Skip) -> None:
        super().__init__(skip.reason)
        self.skip = skip


# --- entry points -------------------------------------------------------------------------


def parse_payload(
    raw: bytes | str, max_line_bytes: int = MAX_LINE_BYTES, *, typed: bool = True
) -> Post | Profile | AccountGone | Skip:
    """Parse one line of any supported format. Never raises. A line longer than
    `max_line_bytes` (`[source] max_line_bytes`) is skipped as too_long.

    `typed` (the default) first tries the typed reader (msgspec, `_read_typed`), which gives
    the general one's answer on every line orjson accepts, and reads past bad bytes in fields
    the parser never reads (see the module docstring). `typed=False` reads the general way
    only, as orjson would: tests compare the two."""
    try:
        return _parse(raw, max_line_bytes, typed)
    except _Refused as refused:
        return refused.skip
    except Exception as exc:  # a bug here must not take a worker down with it
        return _skip(WRONG_TYPE, f"parser bug: {type(exc).__name__}: {exc}")


def post_to_json_dict(post: Post, lang: str, lang_source: str | None = None) -> dict[str, Any]:
    """The post as a JSON-ready dict, keys in a fixed order, with the detected language."""
    return {
        "id": post.id,
        "created_at": post.created_at,
        "text": post.text,
        "hashtags": list(post.hashtags),
        "geo": list(post.geo) if post.geo is not None else None,
        "user_id": post.user_id,
        "screen_name": post.screen_name,
        "bio": post.bio,
        "lang": lang,
        "lang_source": lang_source,
        "place_bbox": list(post.place_bbox) if post.place_bbox is not None else None,
        "location": post.location,
    }


# --- bytes to JSON object -----------------------------------------------------------------


class TypedCounts:
    """How many lines this process read the typed way and how many the general way, so that
    tests (and a curious benchmark) can see the typed reader is really used."""

    typed = 0
    general = 0


def _parse(raw: object, max_line_bytes: int, typed: bool) -> Post | Profile | AccountGone | Skip:
    data = raw if type(raw) is bytes else _as_bytes(raw)
    if len(data) > max_line_bytes:
        return _skip(TOO_LONG, f"{len(data)} bytes")
    if data.startswith(_UTF8_BOM):  # editors on Windows start files (and so lines) with one
        data = data[len(_UTF8_BOM) :]
    # isspace() stops at the first non-space byte, so a real payload costs one byte here.
    if not data or data.isspace():
        return Skip(KEEPALIVE)
    if typed:
        item = _read_typed(data)
        if item is not None:
            TypedCounts.typed += 1
            return item
        TypedCounts.general += 1
    try:
        payload = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        return _json_failure(data, exc)
    if not isinstance(payload, dict):
        return _skip(WRONG_TYPE, f"top-level JSON is {_json_type(payload)}, not an object")
    return _dispatch(payload)


def _as_bytes(raw: object) -> bytes:
    if isinstance(raw, bytes):
        return raw
    if isinstance(raw, str):
        try:
            return raw.encode("utf-8")
        except UnicodeEncodeError as exc:  # lone surrogates
            raise _Refused(_skip(BAD_UTF8, str(exc))) from None
    if isinstance(raw, bytearray | memoryview):
        return bytes(raw)
    raise _Refused(_skip(WRONG_TYPE, f"line is {type(raw).__name__}, not bytes"))


def _json_failure(data: bytes, exc: orjson.JSONDecodeError) -> Skip:
    # orjson reports bad UTF-8 as a JSON error; decoding tells the two apart, and is only paid
    # for on lines that failed anyway.
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as bad:
        return _skip(BAD_UTF8, str(bad))
    return _skip(BAD_JSON, str(exc))


def _dispatch(payload: Obj) -> Post | Profile | AccountGone | Skip:
    """The line's record, within the input caps (streamer.ingest.limits)."""
    item = _read_format(payload)
    if isinstance(item, Post):
        return limit_post(item)
    if isinstance(item, Profile):
        limited = limit_profile(item)
        return limited if limited is not None else _skip(FIELD_TOO_LONG, "profile user id")
    return item


def _read_format(payload: Obj) -> Post | Profile | AccountGone | Skip:
    if "data" in payload:
        return _from_v2(payload)
    if "errors" in payload:
        return _skip(STREAM_ERROR, _v2_error_title(payload["errors"]))
    if is_jetstream_event(payload):
        return parse_event(payload, _normalize_time)
    for key, reason in _V1_CONTROL_KEYS.items():
        if key in payload:
            return Skip(reason)
    if "text" in payload or "full_text" in payload:
        if _V1_STATUS_KEYS.isdisjoint(payload):
            return _from_bare(payload)
        return _from_v1(payload)
    return _skip(NOT_POST, "no recognizable post shape")


# --- the typed reader (streamer.ingest.typed_payloads) ------------------------------------
#
# The common shapes, read from msgspec's typed decode: v1.1 statuses, their control messages
# and bare posts. Each function mirrors its general twin below and returns None for anything
# it does not handle, refusals included; the line is then read the general way, which gives
# the answer (and the refusal's detail). Other formats always go the general way.


def _read_typed(data: bytes) -> Post | Skip | None:
    line = decode_line(data)
    if line is None:
        return None
    try:
        item = _typed_format(line)
    except Exception:  # a slip of the fast path costs speed, never the line: read it again
        return None
    if item is None:
        return None
    return limit_post(item) if isinstance(item, Post) else item


def _typed_format(line: Line) -> Post | Skip | None:
    """`_read_format` on a typed line."""
    if line.data is not UNSET or line.errors is not UNSET:
        return None
    if line.did is not UNSET and line.kind is not UNSET:
        return None
    if _typed_controls(line) != _NO_CONTROLS:
        for key, reason in _V1_CONTROL_KEYS.items():
            if getattr(line, key) is not UNSET:
                return Skip(reason)
    if line.text is UNSET and line.full_text is UNSET:
        return _skip(NOT_POST, "no recognizable post shape")
    if _typed_is_bare(line):
        return _typed_bare(line)
    return _typed_v1(line)


# The control keys of a line in one call: a status has none of them, and one comparison says so.
_typed_controls = operator.attrgetter(*_V1_CONTROL_KEYS)
_NO_CONTROLS = (UNSET,) * len(_V1_CONTROL_KEYS)


def _typed_is_bare(line: Line) -> bool:
    return (
        line.id_str is UNSET
        and line.created_at is UNSET
        and line.user is UNSET
        and line.entities is UNSET
        and line.extended_tweet is UNSET
        and line.retweeted_status is UNSET
        and line.full_text is UNSET
        and line.truncated is UNSET
    )


def _typed_bare(line: Line) -> Post | None:
    """`_from_bare`."""
    text = line.text
    if not isinstance(text, str):
        return None
    return _bare_post(_typed_id(line), text)


def _typed_v1(status: Line) -> Post | None:
    """`_from_v1`. Every post passes here: the common cases of `_typed_id`, `_normalize_time`,
    `_typed_geo` and `_typed_place_bbox` are written out, and the Post is built without
    NamedTuple's keyword handling (a Python-level call)."""
    retweeted = status.retweeted_status
    source: Line | Tweet = retweeted if isinstance(retweeted, Tweet) else status
    text, entities = _typed_text_and_entities(source)
    if source is not status and text is None:
        source = status
        text, entities = _typed_text_and_entities(status)
    if text is None:
        return None
    user = status.user if isinstance(status.user, User) else _NO_USER
    post_id = status.id_str
    if not (type(post_id) is str and post_id):  # msgspec gives exact strs; "" reads on
        post_id = _typed_id(status)
    created = status.created_at
    return _new_post(
        (
            post_id,
            _normalized(created) if type(created) is str and len(created) <= 64 else None,
            text,
            _typed_hashtags(entities, text),
            None if status.coordinates is None and status.geo is None else _typed_geo(status),
            user.id_str or _int_str(user.id),
            user.screen_name,
            user.description,
            status.lang,
            (),  # trimmed: limit_post fills it
            None if status.place is None else _typed_place_bbox(status),
            user.location,
        )
    )


# Post(*fields) without NamedTuple.__new__'s Python frame: every field, in Post's order
# (tests/unit/test_typed_decode.py compares the typed reader's posts with the general one's).
_new_post = functools.partial(tuple.__new__, Post)


_NO_USER = User()


def _typed_text_and_entities(status: Line | Tweet) -> tuple[str | None, Entities | None]:
    """`_v1_text_and_entities`."""
    extended = status.extended_tweet
    if isinstance(extended, ExtendedTweet) and extended.full_text is not None:
        return extended.full_text, extended.entities
    text = status.full_text
    if not isinstance(text, str):
        text = status.text
        if not isinstance(text, str):
            text = None
    entities = status.entities
    return text, entities if isinstance(entities, Entities) else None


def _typed_hashtags(entities: Entities | None, text: str) -> tuple[str, ...]:
    """`_hashtags` of `_tag_list`: the entities' own tags, even none; the text's without."""
    tags = entities.hashtags if entities is not None else None
    if tags is None:
        return extract_hashtags(text)
    if not tags:
        return ()
    return _clean_tags([tag.text for tag in tags])


def _typed_id(line: Line) -> str | None:
    """`_id_of`."""
    return _str(line.id_str) or _str(line.id) or _int_str(line.id)


def _typed_geo(status: Line) -> LatLon | None:
    """`_v1_geo`."""
    if status.coordinates is not None:
        point = _lon_lat_point(status.coordinates.coordinates)
        if point is not None:
            return point
    if status.geo is not None:
        pair = _number_pair(status.geo.coordinates)
        if pair is not None:
            return _checked_lat_lon(pair[0], pair[1])
    return None


def _typed_place_bbox(status: Line) -> BBox | None:
    """`_v1_place_bbox`."""
    place = status.place
    if place is not None and place.bounding_box is not None:
        return _typed_ring_bbox(place.bounding_box.coordinates)
    return None


def _typed_ring_bbox(polygon: list[list[list[float]]] | None) -> BBox | None:
    """`_ring_bbox` of a typed polygon, whose corners can only be lists of floats: a corner is
    a number pair exactly when it holds two or three of them."""
    if not polygon or not polygon[0]:
        return None
    ring = polygon[0]
    for corner in ring:
        if len(corner) != 2 and len(corner) != 3:
            return None
    lons = [corner[0] for corner in ring]
    lats = [corner[1] for corner in ring]
    return _checked_bbox(min(lons), min(lats), max(lons), max(lats))


# --- Twitter v1.1 -------------------------------------------------------------------------


def _from_v1(status: Obj) -> Post:
    source = _dict(status.get("retweeted_status")) or status
    text, entities = _v1_text_and_entities(source)
    if source is not status and text is None:
        # A retweet whose original is unusable still has the retweeter's own "RT @..." text.
        source = status
        text, entities = _v1_text_and_entities(status)
    if text is None:
        raise _Refused(_skip(WRONG_TYPE, "text is not a string"))
    tag_list = _tag_list(entities, "entities")
    user = _dict(status.get("user")) or {}
    return Post(
        id=_id_of(status),
        created_at=_normalize_time(status.get("created_at")),
        text=text,
        hashtags=_hashtags(tag_list, "text", text),
        geo=_v1_geo(status),
        user_id=_str(user.get("id_str")) or _int_str(user.get("id")),
        screen_name=_str(user.get("screen_name")),
        bio=_str(user.get("description")),
        platform_lang=_str(status.get("lang")),
        place_bbox=_v1_place_bbox(status),
        location=_str(user.get("location")),
    )


def _v1_text_and_entities(status: Obj) -> tuple[str | None, object]:
    """The longest text a status offers, with the entities that index into that text."""
    extended = _dict(status.get("extended_tweet"))
    if extended is not None:
        full_text = _str(extended.get("full_text"))
        if full_text is not None:
            return full_text, extended.get("entities")
    text = _str(status.get("full_text"))
    return text if text is not None else _str(status.get("text")), status.get("entities")


def _v1_geo(status: Obj) -> LatLon | None:
    """The post's own point only; a place is evidence of another kind (`_v1_place_bbox`)."""
    coordinates = _dict(status.get("coordinates"))
    if coordinates is not None:
        point = _lon_lat_point(coordinates.get("coordinates"))
        if point is not None:
            return point
    geo = _dict(status.get("geo"))
    if geo is not None:
        # The deprecated "geo" field is the one place that puts latitude first.
        pair = _number_pair(geo.get("coordinates"))
        if pair is not None:
            point = _checked_lat_lon(pair[0], pair[1])
            if point is not None:
                return point
    return None


def _v1_place_bbox(status: Obj) -> BBox | None:
    place = _dict(status.get("place"))
    bounding_box = _dict(place.get("bounding_box")) if place is not None else None
    if bounding_box is not None:
        return _ring_bbox(bounding_box.get("coordinates"))
    return None


def _ring_bbox(polygon: object) -> BBox | None:
    """The (west, south, east, north) box of a GeoJSON polygon's outer ring: [[[lon, lat], ...]]."""
    if not isinstance(polygon, list) or not polygon or not isinstance(polygon[0], list):
        return None
    pairs = [_number_pair(corner) for corner in polygon[0]]
    if not pairs or any(pair is None for pair in pairs):
        return None
    lons = [pair[0] for pair in pairs if pair is not None]
    lats = [pair[1] for pair in pairs if pair is not None]
    return _checked_bbox(min(lons), min(lats), max(lons), max(lats))


# --- bare objects -------------------------------------------------------------------------


def _from_bare(payload: Obj) -> Post:
    text = _str(payload.get("text"))
    if text is None:
        raise _Refused(_skip(WRONG_TYPE, "text is not a string"))
    return _bare_post(_id_of(payload), text)


def _bare_post(post_id: str | None, text: str) -> Post:
    """A post that is only a text (and maybe an id): no time, place or author."""
    return Post(
        id=post_id,
        created_at=None,
        text=text,
        hashtags=extract_hashtags(text),
        geo=None,
        user_id=None,
        screen_name=None,
        bio=None,
        platform_lang=None,
    )


# --- Twitter v2 ---------------------------------------------------------------------------


def _from_v2(message: Obj) -> Post:
    data = message["data"]
    if not isinstance(data, dict):
        raise _Refused(_skip(WRONG_TYPE, f"data is {_json_type(data)}, not an object"))
    includes = _dict(message.get("includes")) or {}
    own_text, own_entities = _v2_text_and_entities(data)
    if own_text is None:
        raise _Refused(_skip(WRONG_TYPE, "data.text is not a string"))
    text, entities = own_text, own_entities
    original = _v2_retweeted(data, includes)
    if original is not None:
        original_text, original_entities = _v2_text_and_entities(original)
        if original_text is not None:
            text, entities = original_text, original_entities
    tag_list = _tag_list(entities, "data.entities")
    author_id = _str(data.get("author_id")) or _int_str(data.get("author_id"))
    user = _find_by_id(includes.get("users"), author_id) or {}
    return Post(
        id=_id_of(data),
        created_at=_normalize_time(data.get("created_at")),
        text=text,
        hashtags=_hashtags(tag_list, "tag", text),
        geo=_v2_geo(data),
        user_id=author_id,
        screen_name=_str(user.get("username")),
        bio=_str(user.get("description")),
        platform_lang=_str(data.get("lang")),
        place_bbox=_v2_place_bbox(data, includes),
        location=_str(user.get("location")),
    )


def _v2_text_and_entities(tweet: Obj) -> tuple[str | None, object]:
    # Posts over 280 characters arrive truncated in "text", whole in "note_tweet".
    note = _dict(tweet.get("note_tweet"))
    if note is not None:
        note_text = _str(note.get("text"))
        if note_text is not None:
            return note_text, note.get("entities")
    return _str(tweet.get("text")), tweet.get("entities")


def _v2_retweeted(data: Obj, includes: Obj) -> Obj | None:
    references = data.get("referenced_tweets")
    if not isinstance(references, list):
        return None
    for reference in references:
        if isinstance(reference, dict) and reference.get("type") == "retweeted":
            return _find_by_id(includes.get("tweets"), _id_of(reference))
    return None


def _v2_geo(data: Obj) -> LatLon | None:
    """The post's own point only; its place is `_v2_place_bbox`."""
    geo = _dict(data.get("geo"))
    point = _dict(geo.get("coordinates")) if geo is not None else None
    return _lon_lat_point(point.get("coordinates")) if point is not None else None


def _v2_place_bbox(data: Obj, includes: Obj) -> BBox | None:
    geo = _dict(data.get("geo"))
    if geo is None:
        return None
    place = _find_by_id(includes.get("places"), _str(geo.get("place_id")))
    place_geo = _dict(place.get("geo")) if place is not None else None
    if place_geo is None:
        return None
    bbox = place_geo.get("bbox")
    if not isinstance(bbox, list) or len(bbox) != 4 or not all(map(_is_number, bbox)):
        return None
    west, south, east, north = bbox
    return _checked_bbox(west, south, east, north)


def _v2_error_title(errors: object) -> str:
    if isinstance(errors, list):
        for error in errors:
            title = _str(error.get("title")) if isinstance(error, dict) else None
            if title:
                return title
    return "errors"


def _find_by_id(items: object, wanted: str | None) -> Obj | None:
    """The object in an includes list whose id is `wanted`."""
    if wanted is None or not isinstance(items, list):
        return None
    for item in items:
        if isinstance(item, dict) and _id_of(item) == wanted:
            return item
    return None


# --- Bluesky Jetstream: streamer.ingest.jetstream_events ------------------------------------


# --- hashtags -----------------------------------------------------------------------------


def _tag_list(entities: object, where: str) -> list[Any] | None:
    """The entities' hashtag list; None when there is none, so the text is searched instead."""
    if entities is None:
        return None
    if not isinstance(entities, dict):
        raise _Refused(_skip(WRONG_TYPE, f"{where} is {_json_type(entities)}, not an object"))
    return _optional_list(entities.get("hashtags"), f"{where}.hashtags")


def _hashtags(tag_list: list[Any] | None, key: str, text: str) -> tuple[str, ...]:
    """A payload's own hashtag entities are authoritative, even an empty list of them."""
    if tag_list is None:
        return extract_hashtags(text)
    if not tag_list:
        return ()
    return _clean_tags([item.get(key) for item in tag_list if isinstance(item, dict)])


def _clean_tags(tags: Iterable[object]) -> tuple[str, ...]:
    """Lower-cased, '#'-less, non-empty, each once; anything but a string is passed over."""
    kept: dict[str, None] = {}  # insertion-ordered: a repeat keeps its first place
    for tag in tags:
        if isinstance(tag, str):
            # Surrounding whitespace is not part of a tag; what is left empty is refused by the
            # caps (counted as tag_blank), as are tags with whitespace or controls inside.
            kept[tag.strip().lstrip("#\uff03").lower()] = None
    return tuple(kept)


# --- geo ----------------------------------------------------------------------------------


def _lon_lat_point(coordinates: object) -> LatLon | None:
    """A GeoJSON position, [lon, lat] (an altitude may follow), as (lat, lon)."""
    pair = _number_pair(coordinates)
    return _checked_lat_lon(pair[1], pair[0]) if pair is not None else None


def _checked_bbox(west: float, south: float, east: float, north: float) -> BBox | None:
    """A place box on the globe, south below north (west > east crosses the antimeridian)."""
    if not (_in_range(south, 90) and _in_range(north, 90)) or south > north:
        return None
    if not (_in_range(west, 180) and _in_range(east, 180)):
        return None
    return float(west), float(south), float(east), float(north)


def _number_pair(value: object) -> tuple[float, float] | None:
    """The first two items of a 2- or 3-number list."""
    if not isinstance(value, list) or len(value) not in (2, 3) or not all(map(_is_number, value)):
        return None
    return float(value[0]), float(value[1])


def _checked_lat_lon(lat: float, lon: float) -> LatLon | None:
    if not (_in_range(lat, 90) and _in_range(lon, 180)):
        return None
    return round(float(lat), 6), round(float(lon), 6)


def _in_range(value: float, limit: float) -> bool:
    return math.isfinite(value) and -limit <= value <= limit


def _is_number(value: object) -> bool:
    # bool is an int subclass, and true/false are not coordinates.
    return isinstance(value, int | float) and not isinstance(value, bool)


# --- timestamps ---------------------------------------------------------------------------


def _normalize_time(value: object) -> str | None:
    """ISO 8601 UTC with whole seconds ("2018-10-10T20:19:24Z"), or None if unreadable.

    Takes v1.1's "Wed Oct 10 20:19:24 +0000 2018" and ISO forms such as
    "2022-01-01T10:00:00.000Z". An ISO time without an offset is taken as UTC.
    """
    if not isinstance(value, str) or len(value) > 64:
        return None
    return _normalized(value)


@functools.lru_cache(maxsize=4096)
def _normalized(value: str) -> str | None:
    # Cached: the posts of one second share their timestamp, and a stream brings hundreds of
    # them a second. A pure function of the string, so the cache changes nothing but speed.
    moment = _twitter_time(value) or _iso_time(value)
    if moment is None:
        return None
    try:
        utc = moment.astimezone(UTC)
    except (ValueError, OverflowError):  # an offset that pushes past year 1 or 9999
        return None
    # Not strftime: glibc's %Y does not pad, so year 999 would come out as "999-...".
    return utc.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def _twitter_time(value: str) -> datetime | None:
    # Parsed by hand: strptime's %a and %b follow the process locale, and it is slow.
    parts = value.split()
    if len(parts) != 6 or parts[1] not in _MONTHS:
        return None
    _weekday, month, day, clock, offset, year = parts
    try:
        hour, minute, second = (int(piece) for piece in clock.split(":"))
        return datetime(
            int(year), _MONTHS[month], int(day), hour, minute, second, tzinfo=_offset_zone(offset)
        )
    except ValueError:
        return None


def _offset_zone(offset: str) -> timezone:
    """A "+hhmm" / "-hhmm" offset; ValueError for anything else."""
    if len(offset) != 5 or offset[0] not in "+-" or not offset[1:].isdigit():
        raise ValueError(offset)
    minutes = int(offset[1:3]) * 60 + int(offset[3:])
    return timezone(timedelta(minutes=-minutes if offset[0] == "-" else minutes))


def _iso_time(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# --- small typed accessors ----------------------------------------------------------------


def _dict(value: object) -> Obj | None:
    return value if isinstance(value, dict) else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int_str(value: object) -> str | None:
    """An integer id as a string; floats and bools are not ids."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _id_of(obj: Obj) -> str | None:
    """The id_str when present (v1.1 ids overflow JavaScript numbers), else the id."""
    return _str(obj.get("id_str")) or _str(obj.get("id")) or _int_str(obj.get("id"))


def _optional_list(value: object, where: str) -> list[Any] | None:
    """A list, or None when absent or null; any other type refuses the line."""
    if value is None or isinstance(value, list):
        return value
    raise _Refused(_skip(WRONG_TYPE, f"{where} is {_json_type(value)}, not a list"))


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number")


def _skip(reason: str, detail: str) -> Skip:
    return Skip(reason, detail[:MAX_DETAIL_CHARS])
