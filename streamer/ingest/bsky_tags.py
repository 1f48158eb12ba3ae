"""Hashtags by Bluesky's own rules, which differ from Twitter's (`streamer.ingest.hashtags`).

Bluesky posts mark their tags with rich-text facets (`app.bsky.richtext.facet#tag`) and may
list more in the record's `tags`; those are authoritative. Only a record with neither is read
for tags in its text, the way the official app's rich-text detection finds them when it writes
the facets:

* a tag starts with ``#`` or the fullwidth sign U+FF03, and the sign must stand at the start of the
  text or after whitespace (``abc#tag`` and ``(#tag`` are not tags);
* its body runs to the next whitespace or zero-width character (soft hyphen, word joiner,
  zero-width space/joiners, U+20E2), so it may hold any script, emoji and inner punctuation
  (``#日本語``, ``#🔥``, ``#c++ish``, ``#foo#bar`` is one tag ``foo#bar``);
* trailing punctuation is stripped (``#tag!!`` is ``tag``, ``#tag.`` is ``tag``);
* a body of only ASCII digits and punctuation is no tag (``#123``, ``#1.5``, ``#_``), but
  ``#2024election`` and ``#١٢٣`` (Arabic-Indic digits) are;
* ``#`` followed by U+FE0F is the keycap emoji, not a tag;
* at most 64 graphemes: a longer one is no tag at all (not cut short).

Tags come back lower-cased, without the sign, each once, in order of first appearance. The
same 64-grapheme limit applies to facet and record tags, which the lexicon caps the same way.
"""

from __future__ import annotations

from collections.abc import Iterable

import regex

__all__ = ["MAX_TAG_GRAPHEMES", "clean_bsky_tags", "extract_bsky_tags"]

MAX_TAG_GRAPHEMES = 64

# JavaScript's \s (what the app's regular expression means), spelled out: Python's differs.
_SPACE = "\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
_ZERO_WIDTH = "\\u00ad\\u2060\\u200a\\u200b\\u200c\\u200d\\u20e2"
_BODY = f"[^{_SPACE}{_ZERO_WIDTH}]"
# JavaScript's \d is ASCII only, even with the u flag.
_NOT_DIGIT_OR_PUNCT = f"[^0-9{_SPACE}\\p{{P}}{_ZERO_WIDTH}]"
_TAG = regex.compile(
    f"(?:^|[{_SPACE}])[#\\uff03]((?!\\ufe0f){_BODY}*{_NOT_DIGIT_OR_PUNCT}+{_BODY}*)?",
    regex.VERSION1,
)
_TRAILING_PUNCT = regex.compile(r"\p{P}+$")
_GRAPHEME = regex.compile(r"\X")


def _too_long(tag: str) -> bool:
    # A tag has at least as many code points as graphemes: count those only when it matters.
    return len(tag) > MAX_TAG_GRAPHEMES and len(_GRAPHEME.findall(tag)) > MAX_TAG_GRAPHEMES


def extract_bsky_tags(text: str) -> tuple[str, ...]:
    """The text's tags by Bluesky's rules: lower-cased, without the sign, each once."""
    if "#" not in text and "\uff03" not in text:
        return ()
    kept: dict[str, None] = {}
    for match in _TAG.finditer(text):
        body = match.group(1)
        if not body:
            continue
        tag = _TRAILING_PUNCT.sub("", body.strip())
        if tag and not _too_long(tag):
            kept[tag.lower()] = None
    return tuple(kept)


def clean_bsky_tags(tags: Iterable[object]) -> tuple[str, ...]:
    """Facet and record tags: strings only, one leading sign dropped, lower-cased, non-empty,
    within the grapheme limit, each once. Cashtag facets keep their "$" ("$aapl")."""
    kept: dict[str, None] = {}
    for tag in tags:
        if not isinstance(tag, str):
            continue
        if tag[:1] in ("#", "\uff03"):
            tag = tag[1:]
        tag = tag.strip()
        if tag and not _too_long(tag):
            kept[tag.lower()] = None
    return tuple(kept)
