"""The shapes that cross process boundaries: a parsed post, a skip, a detected record.

They are NamedTuples so that they pickle small and fast between the pool and the loop.
"""

from __future__ import annotations

from typing import NamedTuple

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


class Profile(NamedTuple):
    """A profile update that is not a post (Bluesky sends bios as their own records)."""

    user_id: str
    screen_name: str | None
    bio: str


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

# Reasons that mean the input itself was broken (logged, rate-limited), as opposed to notices.
BAD_INPUT_REASONS = frozenset({BAD_JSON, BAD_UTF8, WRONG_TYPE, TOO_LONG})
