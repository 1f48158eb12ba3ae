"""Which writing system a text is in, and which languages a script alone gives away.

Many scripts are written by one language only among those we sort (Hangul, Thai, Greek, ...):
when such a script carries most of a post's letters, the script decides and no word lists are
needed. Shared scripts (Latin, Arabic, Cyrillic) only narrow the choice; words decide there.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

import regex

# A script must hold more than this share of a text's letters, and at least MIN_SCRIPT_LETTERS
# of them, to count as the text's script: a Latin post quoting one Korean word stays Latin.
DOMINANT_SHARE = 0.5
MIN_SCRIPT_LETTERS = 3

# Kana appear only in Japanese, where they mix with Han characters; any kana make a CJK text
# Japanese, and Han without kana is taken as Chinese.
JAPANESE = "Japanese"
HAN = "Han"
KANA = "Kana"
LATIN = "Latin"
OTHER = "Other"

# Scripts that one language alone writes, among the languages this package sorts. Devanagari is
# also Marathi's and Nepali's, Bengali also Assamese's: the seed counted it as Hindi (and
# Bengali), and so do we.
SCRIPT_LANGUAGE: dict[str, str] = {
    JAPANESE: "ja",
    HAN: "zh",
    "Hangul": "ko",
    "Thai": "th",
    "Greek": "el",
    "Hebrew": "he",
    "Georgian": "ka",
    "Armenian": "hy",
    "Devanagari": "hi",
    "Bengali": "bn",
    "Tamil": "ta",
    "Telugu": "te",
    "Gujarati": "gu",
    "Gurmukhi": "pa",
    "Kannada": "kn",
    "Malayalam": "ml",
    "Khmer": "km",
    "Lao": "lo",
    "Myanmar": "my",
    "Sinhala": "si",
    "Ethiopic": "am",
}

# Scripts we name explicitly, the shared ones first because they are the most frequent (the
# alternation below tries them in order); any other letter is counted as OTHER. Marks are
# included so that Indic vowel signs count with their syllables; Inherited marks (Latin accents,
# Arabic harakat) belong to no script and are left out of every count.
_NAMED_SCRIPTS = (
    LATIN,
    "Arabic",
    "Cyrillic",
    *(name for name in SCRIPT_LANGUAGE if name not in (JAPANESE, HAN)),
)


def _script_pattern() -> regex.Pattern[str]:
    # One alternation, one pass: each match is a run of letters of one script, and its group
    # name says which. Kana use Script_Extensions so that the long-vowel mark (a "Common"
    # letter) counts as kana; intersecting with letters keeps CJK punctuation out.
    groups = [rf"(?P<{name}>[\p{{sc={name}}}&&[\p{{L}}\p{{M}}]]+)" for name in _NAMED_SCRIPTS]
    groups.append(rf"(?P<{KANA}>[[\p{{scx=Hiragana}}\p{{scx=Katakana}}]&&\p{{L}}]+)")
    groups.append(rf"(?P<{HAN}>[\p{{sc=Han}}&&\p{{L}}]+)")
    groups.append(rf"(?P<{OTHER}>\p{{L}}+)")
    return regex.compile("|".join(groups), regex.VERSION1)


_SCRIPT_RUNS = _script_pattern()
_HAS_LETTER = re.compile(r"[A-Za-z]")


def script_letter_counts(text: str) -> Counter[str]:
    """How many letters of each script the text holds (kana and Han counted apart)."""
    counts: Counter[str] = Counter()
    for match in _SCRIPT_RUNS.finditer(text):
        counts[match.lastgroup or OTHER] += match.end() - match.start()
    return counts


def dominant_script(text: str) -> str | None:
    """The script that holds most of the text's letters, or None if no script clearly does.

    Japanese (Han plus kana) is one script here; Han alone is HAN.
    """
    if text.isascii():
        # The common case on a sample stream: every letter is Latin, and Latin decides nothing
        # (it only narrows the lists to count), so even a letter or two may be called Latin.
        return LATIN if _HAS_LETTER.search(text) else None
    counts = script_letter_counts(text)
    if counts[KANA]:
        counts[JAPANESE] = counts.pop(KANA) + counts.pop(HAN, 0)
    total = sum(counts.values())
    if not total:
        return None
    script, letters = counts.most_common(1)[0]
    if letters >= MIN_SCRIPT_LETTERS and letters > DOMINANT_SHARE * total:
        return script
    return None


def script_of_words(words: Iterable[str]) -> str | None:
    """The script a word list is written in (a stopword list can hold a stray foreign entry)."""
    return dominant_script(" ".join(sorted(words)))
