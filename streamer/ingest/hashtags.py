"""Find hashtags in post text by the rules of Twitter's twitter-text library.

Only used when a payload carries no hashtag entities of its own. The rules, in short:

* a tag starts with ``#`` or the fullwidth number sign U+FF03;
* its body is letters, marks, decimal digits, ``_`` and a few script-specific joiners
  (zero-width joiners, katakana middle dot, Tibetan tsheg, ...), and holds at least one
  letter or mark, so ``#123`` is not a tag but ``#2024election`` is;
* the ``#`` may not follow a body character or ``&`` (``abc#tag``, ``&#39;``, ``a_#b``);
* a tag directly followed by another ``#`` or by ``://`` is not a tag (``#foo#bar``,
  ``#http://x``);
* a ``#`` inside a web address is a fragment, not a tag (``http://example.com/#top``), also
  when the address is written without its scheme (``twitter.com/#hashtag``).

Tags come back lower-cased, without the ``#``, each once, in order of first appearance.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable

import regex

__all__ = ["HASHTAG_PATTERN", "extract_hashtags"]

# Letters and marks: a body needs at least one of these.
_ALPHA = r"\p{L}\p{M}"
# Characters that join words inside a tag in some scripts (twitter-text's list).
_JOINERS = (
    "\u200c\u200d\ua67e\u05be\u05f3\u05f4\uff5e\u301c"
    "\u309b\u309c\u30a0\u30fb\u3003\u0f0b\u0f0c\u00b7"
)
_BODY_CHAR = rf"[{_ALPHA}\p{{Nd}}_{_JOINERS}]"
_HASH_SIGNS = "#\uff03"

HASHTAG_PATTERN = regex.compile(
    # Not glued to a preceding word or HTML entity. Variation selectors (U+FE0E/U+FE0F) are
    # marks, but twitter-text lets a tag follow them so that "❤️#love" still counts.
    rf"(?<!(?![\ufe0e\ufe0f]){_BODY_CHAR}|&)"
    rf"[{_HASH_SIGNS}]"
    # "#️⃣" is the keycap emoji, not a tag, although U+FE0F and U+20E3 are marks.
    r"(?![\ufe0f\u20e3])"
    # Atomic: the body is the whole run of body characters, never a shorter prefix of it,
    # so the look-ahead below cannot be dodged by backtracking ("#foo#bar" must not give "fo").
    rf"(?>({_BODY_CHAR}*[{_ALPHA}]{_BODY_CHAR}*))"
    rf"(?![{_HASH_SIGNS}]|://)"
)

# A web address up to the next whitespace: with its scheme, or without one when it is a host
# name (dot-separated labels ending in a letters-only top-level domain) followed by a path.
# twitter-text's own URL grammar is far larger (it knows every TLD); this covers the case that
# matters here, a "#fragment" in a pasted link, without taking "and/#or" for an address.
_URL_PATTERN = regex.compile(
    r"https?://\S+"
    r"|(?<![\w@.\-])(?:[\p{L}\p{N}](?:[\p{L}\p{N}\-]*[\p{L}\p{N}])?\.)+\p{L}{2,}"
    r"(?::[0-9]{1,5})?/\S*",
    regex.IGNORECASE,
)


def extract_hashtags(text: str) -> tuple[str, ...]:
    """Hashtags of `text`: lower-cased, without '#', deduplicated in first-seen order."""
    # Most posts have no '#' at all; skip the regex engine for them.
    if "#" not in text and "\uff03" not in text:
        return ()
    matches = HASHTAG_PATTERN.finditer(text)
    if "/" in text:  # every web address the pattern knows has a "/"
        inside_url = _url_membership(text)
        matches = (m for m in matches if not inside_url(m.start()))
    return tuple(dict.fromkeys(m.group(1).lower() for m in matches))


def _url_membership(text: str) -> Callable[[int], bool]:
    """A test for "is this position inside a web address?", in log time per call, so that a
    post full of links and tags stays linear."""
    starts: list[int] = []
    ends: list[int] = []
    for url in _URL_PATTERN.finditer(text):
        starts.append(url.start())
        ends.append(url.end())

    def inside_url(position: int) -> bool:
        # The addresses do not overlap: only the last one starting at or before can hold it.
        index = bisect_right(starts, position) - 1
        return index >= 0 and position < ends[index]

    return inside_url
