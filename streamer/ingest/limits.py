"""Size caps on what strangers write: one post must not grow Redis or a map page without bound.

The parser applies them to every Post and Profile it makes (`limit_post`, `limit_profile`);
what a cap cut or refused is named in the record's `trimmed` reasons, and the pipeline counts
each as `trimmed:<reason>` beside the `skipped:<reason>` counters (status, /metrics). The
values are in the README ("Input caps").
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from streamer.core.records import Post, Profile

__all__ = [
    "BIO_MAX_CHARS",
    "HASHTAG_MAX_CHARS",
    "LOCATION_MAX_CHARS",
    "SCREEN_NAME_MAX_CHARS",
    "TAGS_PER_POST",
    "TEXT_MAX_CHARS",
    "TRIM_REASONS",
    "USER_ID_MAX_CHARS",
    "limit_post",
    "limit_profile",
    "limit_tags",
]

# One product cap for every platform: Twitter's own limit for a hashtag is 139 characters
# (a 280-character post minus the '#'); Bluesky's tag facets allow 64 graphemes, which is
# never more than 139 code points for real tags but can be for combining-mark floods.
HASHTAG_MAX_CHARS = 139
TAGS_PER_POST = 30  # Twitter's rules call more than a few spam; real posts rarely pass 10
TEXT_MAX_CHARS = 25_000  # X's longest posts; only language detection reads the text
BIO_MAX_CHARS = 1_000  # Twitter allows 160, Bluesky 256 graphemes; kept whole for clustering
SCREEN_NAME_MAX_CHARS = 64  # Bluesky display names: 64 graphemes; Twitter handles: 15
USER_ID_MAX_CHARS = 256  # numeric ids and DIDs (did:plc is 32); longer ones are not ids
LOCATION_MAX_CHARS = 200  # a profile location (Twitter allows 30); only the geolocator reads it

# The reasons, as counted (`trimmed:<reason>`).
TAG_TOO_LONG = "tag_too_long"  # a hashtag over HASHTAG_MAX_CHARS: dropped, never cut
TAG_BLANK = "tag_blank"  # empty or whitespace only: dropped
TAG_BAD_CHARS = "tag_bad_chars"  # whitespace, control or bidi characters inside: dropped
TOO_MANY_TAGS = "too_many_tags"  # tags past the first TAGS_PER_POST: dropped
TEXT_TOO_LONG = "text_too_long"  # cut to TEXT_MAX_CHARS
BIO_TOO_LONG = "bio_too_long"  # cut to BIO_MAX_CHARS
SCREEN_NAME_TOO_LONG = "screen_name_too_long"  # cut to SCREEN_NAME_MAX_CHARS
USER_ID_TOO_LONG = "user_id_too_long"  # the user (and bio) dropped: a cut id is another user
LOCATION_TOO_LONG = "location_too_long"  # cut to LOCATION_MAX_CHARS
TRIM_REASONS = (
    TAG_TOO_LONG,
    TAG_BLANK,
    TAG_BAD_CHARS,
    TOO_MANY_TAGS,
    TEXT_TOO_LONG,
    BIO_TOO_LONG,
    SCREEN_NAME_TOO_LONG,
    USER_ID_TOO_LONG,
    LOCATION_TOO_LONG,
)

# No hashtag holds whitespace, a control character or an invisible direction control; the
# joiners twitter-text allows (ZWNJ, ZWJ) are not among these.
_BAD_TAG_CHAR = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def limit_tags(tags: Iterable[str], trimmed: set[str]) -> tuple[str, ...]:
    """Tags (already lower-cased, '#'-less, deduplicated) within the caps; the reasons for
    anything dropped are added to `trimmed`."""
    kept: list[str] = []
    for tag in tags:
        if not tag.strip():
            trimmed.add(TAG_BLANK)
        elif len(tag) > HASHTAG_MAX_CHARS:
            trimmed.add(TAG_TOO_LONG)
        elif _BAD_TAG_CHAR.search(tag):
            trimmed.add(TAG_BAD_CHARS)
        elif len(kept) == TAGS_PER_POST:
            trimmed.add(TOO_MANY_TAGS)
            break
        else:
            kept.append(tag)
    return tuple(kept)


def _cut(value: str | None, cap: int, reason: str, trimmed: set[str]) -> str | None:
    if value is not None and len(value) > cap:
        trimmed.add(reason)
        return value[:cap]
    return value


def limit_post(post: Post) -> Post:
    """The post within every cap, its `trimmed` naming the caps that applied."""
    if _within_caps(post):  # nearly every post: nothing to cut, nothing to build
        return post
    trimmed: set[str] = set()
    hashtags = limit_tags(post.hashtags, trimmed)
    text = _cut(post.text, TEXT_MAX_CHARS, TEXT_TOO_LONG, trimmed) or ""
    user_id, bio, name = post.user_id, post.bio, post.screen_name
    if user_id is not None and len(user_id) > USER_ID_MAX_CHARS:
        trimmed.add(USER_ID_TOO_LONG)
        user_id = bio = name = None
    bio = _cut(bio, BIO_MAX_CHARS, BIO_TOO_LONG, trimmed)
    name = _cut(name, SCREEN_NAME_MAX_CHARS, SCREEN_NAME_TOO_LONG, trimmed)
    location = _cut(post.location, LOCATION_MAX_CHARS, LOCATION_TOO_LONG, trimmed)
    if not trimmed:
        return post
    return post._replace(
        text=text,
        hashtags=hashtags,
        user_id=user_id,
        bio=bio,
        screen_name=name,
        location=location,
        trimmed=tuple(sorted(trimmed)),
    )


def _within_caps(post: Post) -> bool:
    """Whether limit_post would change nothing (a few C-level tests instead of its calls).
    A tag with no character of _BAD_TAG_CHAR (whitespace among them) is blank only if empty,
    and the class matches single characters, so one search over the tags joined decides."""
    tags = post.hashtags
    if tags and not (
        len(tags) <= TAGS_PER_POST
        and all(tags)
        and max(map(len, tags)) <= HASHTAG_MAX_CHARS
        and _BAD_TAG_CHAR.search("".join(tags)) is None
    ):
        return False
    user_id, bio, name, location = post.user_id, post.bio, post.screen_name, post.location
    return (
        (post.text is None or len(post.text) <= TEXT_MAX_CHARS)
        and (user_id is None or len(user_id) <= USER_ID_MAX_CHARS)
        and (bio is None or len(bio) <= BIO_MAX_CHARS)
        and (name is None or len(name) <= SCREEN_NAME_MAX_CHARS)
        and (location is None or len(location) <= LOCATION_MAX_CHARS)
    )


def limit_profile(profile: Profile) -> Profile | None:
    """The profile within the caps; None when its user id is too long to be one."""
    if len(profile.user_id) > USER_ID_MAX_CHARS:
        return None
    trimmed: set[str] = set()
    bio = _cut(profile.bio, BIO_MAX_CHARS, BIO_TOO_LONG, trimmed) or ""
    name = _cut(profile.screen_name, SCREEN_NAME_MAX_CHARS, SCREEN_NAME_TOO_LONG, trimmed)
    if not trimmed:
        return profile
    return profile._replace(bio=bio, screen_name=name, trimmed=tuple(sorted(trimmed)))
