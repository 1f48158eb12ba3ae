"""The worker's shortcuts give the answers of the ways they shortcut.

Each one skips work on the common case (a text without noise, a post within every cap, a
typed place box): here each is checked against the long way on the cases where the two could
part.
"""

from __future__ import annotations

import msgspec
import pytest

from streamer.core.records import Post
from streamer.ingest import limits
from streamer.ingest.langid import tweet_text
from streamer.ingest.limits import (
    BIO_MAX_CHARS,
    HASHTAG_MAX_CHARS,
    LOCATION_MAX_CHARS,
    SCREEN_NAME_MAX_CHARS,
    TAGS_PER_POST,
    TEXT_MAX_CHARS,
    USER_ID_MAX_CHARS,
    limit_post,
)
from streamer.ingest.parser import _ring_bbox, _typed_ring_bbox

# Tokens that are noise or hashtags, and tokens that look like them but are words.
NOISE = [
    "@user", "a@b.org", "\uff20name", "https://x.co/1", "ftp://host", "www.site", "WWW.SITE",
    "bit.ly/abc", "pic.twitter.com/x", "example.com", "EXAMPLE.gov", "a.b.co", "x.com,",
    "over.be-ing", "#Tag", "#HumanRights", "\uff03tag", "#",
]  # fmt: skip
WORDS = [
    "word", "word,", "end.", "U.S.A.", "it's", "dell'uomo", "3.14", "e.g.", "comedy", "co.",
    "wwwhat", "a:b", "::", "café", "東京", "😀", "x.comma",
]  # fmt: skip


def _long_way(text: str) -> tuple[list[str], bool]:
    """kept_pieces with its shortcut turned off: every token looked at."""
    saved = tweet_text._may_hold_noise
    tweet_text._may_hold_noise = lambda _text: True
    try:
        return tweet_text.kept_pieces(text)
    finally:
        tweet_text._may_hold_noise = saved


@pytest.mark.parametrize("token", NOISE)
def test_a_text_with_noise_or_a_hashtag_is_never_taken_whole(token: str) -> None:
    for text in (token, f"hello {token}", f"{token} there", f"RT {token} x"):
        assert tweet_text._may_hold_noise(text)
        assert tweet_text.kept_pieces(text) == _long_way(text)


def test_the_shortcut_keeps_what_the_token_loop_keeps() -> None:
    texts = [" ".join(WORDS), "RT plain words only", "  spaced\tout\nwords  ", ""]
    texts += [f"{w} {n}" for w in WORDS for n in NOISE]
    for text in texts:
        assert tweet_text.kept_pieces(text) == _long_way(text), text
    assert not tweet_text._may_hold_noise(" ".join(WORDS))  # the shortcut is really taken


def _post(**fields: object) -> Post:
    base = Post("1", None, "text", ("tag",), None, "42", "name", "bio", None, location="Paris")
    return base._replace(**fields)


EDGE_POSTS = [
    _post(),
    _post(hashtags=()),
    _post(hashtags=("a",) * TAGS_PER_POST),
    _post(hashtags=tuple(f"t{n}" for n in range(TAGS_PER_POST + 1))),
    _post(hashtags=("ok", "")),
    _post(hashtags=(" ",)),
    _post(hashtags=("x" * HASHTAG_MAX_CHARS,)),
    _post(hashtags=("x" * (HASHTAG_MAX_CHARS + 1),)),
    _post(hashtags=("bad\u200etag",)),
    _post(hashtags=("tab\tin",)),
    _post(hashtags=("zwj\u200dok",)),
    _post(text="x" * TEXT_MAX_CHARS),
    _post(text="x" * (TEXT_MAX_CHARS + 1)),
    _post(user_id="9" * (USER_ID_MAX_CHARS + 1)),
    _post(bio="b" * (BIO_MAX_CHARS + 1)),
    _post(bio=None, screen_name=None, user_id=None, location=None),
    _post(screen_name="n" * (SCREEN_NAME_MAX_CHARS + 1)),
    _post(location="l" * (LOCATION_MAX_CHARS + 1)),
]


@pytest.mark.parametrize("post", EDGE_POSTS)
def test_a_post_within_caps_is_returned_as_is_and_only_then(post: Post) -> None:
    limited = limit_post(post)
    if limited is post:
        assert not limited.trimmed
    else:
        assert limited.trimmed  # the long way found a cap to apply
    # The long way on its own (the shortcut turned off) gives the same post.
    saved = limits._within_caps
    limits._within_caps = lambda _post: False
    try:
        assert limits.limit_post(post) == limited
    finally:
        limits._within_caps = saved


@pytest.mark.parametrize(
    "polygon",
    [
        None,
        [],
        [[]],
        [[[2.2, 48.8], [2.2, 48.9], [2.5, 48.9], [2.5, 48.8]]],
        [[[2.2, 48.8, 10.0], [2.5, 48.9]]],
        [[[2.2], [2.5, 48.9]]],
        [[[2.2, 48.8, 1.0, 2.0], [2.5, 48.9]]],
        [[[170.0, -10.0], [-170.0, 10.0]]],
        [[[0.0, 95.0], [1.0, 1.0]]],
        [[[0.0, float("nan")], [1.0, 1.0]]],
        [[[181.0, 0.0], [1.0, 1.0]]],
    ],
)
def test_the_typed_place_box_is_the_general_one(polygon: list[list[list[float]]] | None) -> None:
    typed = msgspec.convert(polygon, list[list[list[float]]] | None)
    assert _typed_ring_bbox(typed) == _ring_bbox(polygon)
