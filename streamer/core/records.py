"""The shapes that cross process boundaries: a parsed post, a skip, a detected record.

They are NamedTuples so that they pickle small and fast between the pool and the loop.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple, overload

import orjson

UNDETERMINED = "und"


class Post(NamedTuple):
    """One post, normalized from any supported payload format."""

    id: str | None
    created_at: str | None  # ISO 8601 in UTC, e.g. "2018-10-10T20:19:24Z"
    text: str
    hashtags: tuple[str, ...]  # lower-cased, first occurrence order, no repeats
    geo: tuple[float, float] | None  # (lat, lon), rounded to 6 decimals
    user_id: str | None
    screen_name: str | None
    bio: str | None
    platform_lang: str | None  # the platform's own label, if it sent one
    trimmed: tuple[str, ...] = ()  # the input caps that cut or dropped something (ingest.limits)
    # --- geolocation evidence (streamer.ingest.geolocate) ---
    # `geo` above is the post's own point only; these are what else tells where it comes from.
    place_bbox: tuple[float, float, float, float] | None = None  # (west, south, east, north)
    location: str | None = None  # the author's free-text profile location


class Profile(NamedTuple):
    """A profile update that is not a post (Bluesky sends bios as their own records)."""

    user_id: str
    screen_name: str | None
    bio: str
    trimmed: tuple[str, ...] = ()  # the input caps that cut something (ingest.limits)


class AccountGone(NamedTuple):
    """A Bluesky account that stopped being active (Jetstream `account` event): taken down,
    deactivated, deleted or suspended. Its user entry and cached profile are removed."""

    user_id: str
    status: str


class Skip(NamedTuple):
    """A line that is not a post: why, and (for errors) a short detail for the log."""

    reason: str
    detail: str = ""


class Detected(NamedTuple):
    """What the writer needs of a post once its language is known."""

    lang: str
    hashtags: tuple[str, ...]
    geo: tuple[float, float] | None
    id: str | None = None  # for de-duplication when a resumed stream repeats itself
    # --- geolocation: where `geo` came from (GEO_SOURCES) and how far off it may be ---
    geo_source: str = "exact"
    precision_km: float = 0.0


# Where a point comes from, best evidence first (streamer.ingest.geolocate.ladder). "exact" is
# the post's own geotag; the others are inferred. Stored with each point (storage.keys).
GEO_SOURCES = ("exact", "place", "profile", "bio")
INFERRED_SOURCES = GEO_SOURCES[1:]


def pack_point(rec: Detected) -> str:
    """A record's point as the commit scripts read them: "[lat,lon]" for an exact point (the
    form older versions wrote, so the stored entry stays "[lat,lon,t]"), and
    "[lat,lon,source,precision_km]" for an inferred one; "" when it has none. orjson's numbers
    never hold a comma, so the scripts find where the commit time goes by counting commas."""
    if rec.geo is None:
        return ""
    if rec.geo_source == "exact":
        return orjson.dumps(rec.geo).decode()
    return orjson.dumps([rec.geo[0], rec.geo[1], rec.geo_source, rec.precision_km]).decode()


def unpack_point(raw: str) -> tuple[tuple[float, float], str, float] | None:
    """The inverse of `pack_point`: ((lat, lon), source, precision_km)."""
    if not raw:
        return None
    value = orjson.loads(raw)
    source = str(value[2]) if len(value) >= 4 else "exact"
    precision = float(value[3]) if len(value) >= 4 else 0.0
    return (float(value[0]), float(value[1])), source, precision


class UserSeen(NamedTuple):
    """The newest bio of a post's author (or of a profile record) in a batch."""

    user_id: str
    screen_name: str | None
    bio: str
    lang: str | None


class _Packed:
    """Items already in the form a Redis script reads them: a JSON array. A pool process packs
    a whole batch once, so the event loop handles one bytes object per batch instead of
    several Python objects per post."""

    __slots__ = ("data", "length")

    def __init__(self, data: bytes, length: int) -> None:
        self.data = data  # a JSON array
        self.length = length  # how many items it holds

    def __len__(self) -> int:
        return self.length

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Packed) and type(other) is type(self) and self.data == other.data

    def __hash__(self) -> int:
        return hash(self.data)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.length} items, {len(self.data)} bytes)"

    def __reduce__(self) -> tuple[type[_Packed], tuple[bytes, int]]:
        return type(self), (self.data, self.length)


class PackedRecords(_Packed, Sequence[Detected]):
    """Detected posts as the commit script reads them (`pack_records`). Iterating unpacks them
    (slowly: for code that needs Detected tuples, not for the single-Redis commit path)."""

    __slots__ = ()

    def unpack(self) -> list[Detected]:
        out = []
        for post_id, lang, point, *tags in orjson.loads(self.data):
            located = unpack_point(point)
            geo, source, precision = located if located is not None else (None, "exact", 0.0)
            out.append(Detected(lang, tuple(tags), geo, post_id or None, source, precision))
        return out

    @overload
    def __getitem__(self, index: int) -> Detected: ...
    @overload
    def __getitem__(self, index: slice) -> list[Detected]: ...
    def __getitem__(self, index: int | slice) -> Detected | list[Detected]:
        return self.unpack()[index]

    def __iter__(self) -> Iterator[Detected]:
        return iter(self.unpack())


class PackedUsers(_Packed):
    """UserSeen tuples as the user script reads them (`pack_users`)."""

    __slots__ = ()


# Post ids longer than this are hashed before they name a de-duplication key, so a hostile
# payload cannot make Redis hold arbitrarily long key names.
SEEN_ID_MAX = 64


def seen_id(post_id: str) -> str:
    """The id as it appears in a `seen:` key: itself when short, else a 128-bit digest."""
    if len(post_id) <= SEEN_ID_MAX:
        return post_id
    return (
        "h:" + hashlib.blake2b(post_id.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
    )


def pack_records(records: Iterable[Detected]) -> PackedRecords:
    """Detected posts as the commit script reads them: a JSON array with one array of strings
    per post, [seen id or "", lang, point or "", tag, tag, ...]. The point is
    "[lat,lon,source,precision_km]" (`pack_point`); the script adds the commit time after lon
    (`streamer.storage.store.encode_point`)."""
    # `pack_point` and `seen_id` written out: a pool process packs every post of every batch.
    dumps = orjson.dumps
    rows: list[list[str]] = []
    append = rows.append
    for lang, hashtags, geo, post_id, source, precision in records:
        if geo is None:
            point = ""
        elif source == "exact":
            point = dumps(geo).decode()
        else:
            point = dumps([geo[0], geo[1], source, precision]).decode()
        if not post_id:
            post_id = ""
        elif len(post_id) > SEEN_ID_MAX:
            post_id = seen_id(post_id)
        append([post_id, lang, point, *hashtags])
    return PackedRecords(dumps(rows), len(rows))


def pack_users(users: Iterable[UserSeen]) -> PackedUsers:
    """Users as the user script reads them: a flat JSON array of user id, then the user's
    JSON value [screen name, bio, lang, last seen] up to and including the comma before the
    time, which the script appends (with the closing "]") when it writes them."""
    flat: list[str] = []
    append = flat.append
    dumps = orjson.dumps
    for user_id, screen_name, bio, lang in users:
        append(user_id)
        # The value without its closing "]", and the comma the time follows: a 0 dumped in the
        # time's place and cut off with the "]" leaves exactly that, in one slice.
        append(dumps([screen_name, bio, lang, 0])[:-2].decode())
    return PackedUsers(dumps(flat), len(flat) // 2)


# Skip reasons. Notices are expected stream traffic; the rest are bad input.
KEEPALIVE = "keepalive"
DELETE = "delete"
LIMIT = "limit"
WARNING = "warning"
NOTICE = "notice"  # other v1.1 control messages: scrub_geo, withheld, disconnect, ...
STREAM_ERROR = "stream_error"  # v2 error objects such as operational-disconnect
NOT_POST = "not_post"  # Jetstream identity/account events, other collections
BAD_JSON = "bad_json"
BAD_UTF8 = "bad_utf8"
WRONG_TYPE = "wrong_type"
TOO_LONG = "too_long"
PROFILE = "profile"  # a profile record: no post, but it refreshes the user's bio
DUPLICATE = "duplicate"  # a resumed stream delivered a post that was already stored

FIELD_TOO_LONG = "field_too_long"  # an id too long to be one (ingest.limits)
# Jetstream's other events, each counted by name (streamer.ingest.jetstream_events).
IDENTITY = "identity"  # a handle or DID document changed
ACCOUNT = "account"  # an account is (still) active
ACCOUNT_GONE = "account_gone"  # an account stopped being active: its user entry goes
OTHER_COLLECTION = "other_collection"  # likes, reposts, follows, ...: not read
POST_UPDATE = "post_update"  # posts are not edited in place; an update is passed over
PROFILE_NO_BIO = "profile_no_bio"  # a profile record without a description
PROFILE_DELETE = "profile_delete"
UNKNOWN_KIND = "unknown_kind"  # a Jetstream event kind this version does not know

# Reasons that mean the input itself was broken (logged, rate-limited), as opposed to notices.
BAD_INPUT_REASONS = frozenset({BAD_JSON, BAD_UTF8, WRONG_TYPE, TOO_LONG, FIELD_TOO_LONG})
