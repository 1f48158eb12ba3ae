"""Hashtags by Bluesky's rich-text rules (streamer.ingest.bsky_tags)."""

from __future__ import annotations

import pytest

from streamer.ingest.bsky_tags import MAX_TAG_GRAPHEMES, clean_bsky_tags, extract_bsky_tags


@pytest.mark.parametrize(
    ("text", "tags"),
    [
        ("#hello world", ("hello",)),
        ("a #Tag and #tag again", ("tag",)),
        ("#日本語 です", ("日本語",)),
        ("fire #🔥", ("🔥",)),
        ("stripped #tag!!", ("tag",)),
        ("#tag. next", ("tag",)),
        ("#c++ish", ("c++ish",)),
        ("#foo#bar", ("foo#bar",)),  # the body runs to whitespace: one tag
        ("#2024election", ("2024election",)),
        ("arabic digits #١٢٣", ("١٢٣",)),  # JavaScript's \d is ASCII only
        ("fullwidth \uff03sign", ("sign",)),
        ("tab\t#after", ("after",)),
        ("nbsp\u00a0#after", ("after",)),
    ],
)
def test_tags_bluesky_finds(text: str, tags: tuple[str, ...]) -> None:
    assert extract_bsky_tags(text) == tags


@pytest.mark.parametrize(
    "text",
    [
        "abc#tag",  # the sign must follow the start or whitespace
        "(#tag)",
        "#123",  # digits only
        "#1.5",  # digits and punctuation only
        "#_",
        "#!!!",
        "#",
        "# spaced",
        "#\ufe0f keycap",
        "zero\u200b#width",
        "https://example.com/#fragment",
        "no sign at all",
    ],
)
def test_not_tags_by_bluesky_rules(text: str) -> None:
    assert extract_bsky_tags(text) == ()


def test_a_zero_width_character_ends_a_tag() -> None:
    assert extract_bsky_tags("#one\u200btwo") == ("one",)


def test_the_grapheme_limit_refuses_longer_tags_whole() -> None:
    assert extract_bsky_tags("#" + "a" * MAX_TAG_GRAPHEMES) == ("a" * MAX_TAG_GRAPHEMES,)
    assert extract_bsky_tags("#" + "a" * (MAX_TAG_GRAPHEMES + 1)) == ()
    # Sixty-four flags are 128 code points but 64 graphemes: still a tag.
    flags = "🇩🇪" * MAX_TAG_GRAPHEMES
    assert extract_bsky_tags("#" + flags) == (flags,)


def test_twitter_and_bluesky_rules_differ() -> None:
    from streamer.ingest.hashtags import extract_hashtags

    text = "#foo.bar x#y #c++ #١٢٣"
    assert extract_hashtags(text) != extract_bsky_tags(text)
    assert extract_bsky_tags(text) == ("foo.bar", "c++", "١٢٣")


def test_facet_and_record_tags_are_cleaned_the_same_way() -> None:
    tags = ["#Python", "python", "", 7, None, "  ", "$AAPL", "x" * 65, "ÜBER"]
    assert clean_bsky_tags(tags) == ("python", "$aapl", "über")
