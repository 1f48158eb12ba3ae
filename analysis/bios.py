"""Turn free-text profile bios into the terms the bio clustering counts, in every script.

- Where words are spaced (Latin, Cyrillic, Arabic, Hangul, Devanagari, ...), a term is a word:
  lower-cased, a run of one repeated character shortened to three ("sooooo" -> "sooo").
- Where they are not (Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar), a whole run would be
  one giant term that no other bio shares, so the run becomes its character 2- and 3-grams
  (characters as graphemes, so Thai vowel marks stay with their consonant). A one-character run
  is its own term. N-grams made only of Hiragana are dropped: they are mostly grammar (の, です,
  して), the Japanese stopwords.
- A term has at least one letter: numbers ("18"), symbols, emoji and punctuation never become
  terms. "#music" counts as "music"; @handles are dropped.
- Links become URL_TOKEN only when asked (`links=True`): the clustering leaves them out of the
  terms, since a link says nothing about a topic and, shared by a fifth of all bios in every
  language, would otherwise pull unrelated bios together.
- Stopwords of every language are removed. They come from NLTK's corpus when it is installed
  (found through NLTK_DATA) and from the `stopwordsiso` package otherwise, the same lists the
  language detector uses.

`BioTokenizer` carries its stopword set with it, so a fitted vectorizer that uses it pickles
whole and assigns new bios the same way in any process, whatever that process has installed.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import regex

from streamer.core.records import UNDETERMINED
from streamer.ingest.langid import make_detector
from streamer.ingest.langid.stopwords import (
    AUTO,
    DEFAULT_LANGUAGES,
    NLTK_LANGUAGE_CODES,
    load_lists,
)

URL_TOKEN = "<url>"  # no real term looks like it: terms have no "<"

# Links as people write them in bios: with a scheme, or starting with www.
_URL = regex.compile(r"(?:https?://|www\.)\S+", regex.IGNORECASE)
_HANDLE = regex.compile(r"(?<![\p{L}\p{N}_])@[\p{L}\p{N}_]+")
# Scripts written without spaces between words (Katakana's long-vowel mark and 々 are Common).
_UNSPACED = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}ー々〆"
_PIECE = regex.compile(
    rf"(?P<unspaced>[{_UNSPACED}][{_UNSPACED}\p{{M}}]*)"
    rf"|(?P<word>(?:(?![{_UNSPACED}])[\p{{L}}\p{{M}}\p{{N}}_])+"
    rf"(?:['\u2019\-](?:(?![{_UNSPACED}])[\p{{L}}\p{{M}}\p{{N}}_])+)*)"
)
_LETTER = regex.compile(r"\p{L}")
_UNSPACED_CHAR = regex.compile(f"[{_UNSPACED}]")
_HIRAGANA_ONLY = regex.compile(r"[\p{Hiragana}ー]+")
_STRETCH = regex.compile(r"(.)\1{3,}")
_GRAPHEME = regex.compile(r"\X")
NGRAM_SIZES = (2, 3)

# Bios mix languages, so every list either source has is used, not only the detector's defaults.
STOPWORD_LANGUAGES: tuple[str, ...] = tuple(
    dict.fromkeys([*DEFAULT_LANGUAGES, *sorted(NLTK_LANGUAGE_CODES.values())])
)


@lru_cache(maxsize=1)
def multilingual_stopwords() -> frozenset[str]:
    """Lower-cased stopwords of every language in STOPWORD_LANGUAGES (NLTK's lists where it has
    them, stopwords-iso's otherwise)."""
    lists = load_lists(STOPWORD_LANGUAGES, AUTO)
    return frozenset(word.lower() for entries, _source in lists.values() for word in entries)


@lru_cache(maxsize=1)
def _bio_detector() -> Any:
    return make_detector("default", None)


def bio_languages(bios: Sequence[str], fallback: Sequence[str | None]) -> list[str | None]:
    """Each bio's own language as the post detector labels it, or `fallback` (the language of
    the user's post) where the bio has none the detector can tell (empty, a handle, emoji).

    A user's bio is often not in the language of their posts (an English bio over Indonesian,
    Thai or Tagalog posts); the bio is what is clustered, so its language picks the model."""
    detect = _bio_detector().detect
    out: list[str | None] = []
    for bio, given in zip(bios, fallback, strict=True):
        lang = detect(bio) if bio.strip() else UNDETERMINED
        out.append(given if lang == UNDETERMINED else lang)
    return out


def replace_urls(text: str) -> str:
    return _URL.sub(f" {URL_TOKEN} ", text)


def has_link(text: str) -> bool:
    return _URL.search(text) is not None


def is_term(token: str) -> bool:
    """True when the token has a letter: "18", "♡", "→" and "!!!" are not terms."""
    return _LETTER.search(token) is not None


def is_punctuation_only(token: str) -> bool:
    """True for "!", "...", "|" or "—": tokens with no letter, digit, emoji or other symbol."""
    return all(
        (ch.isascii() and not ch.isalnum()) or unicodedata.category(ch)[0] in "PZCM" for ch in token
    )


def is_ngram(term: str) -> bool:
    """True for a term cut from a run of unspaced script (its first character tells)."""
    return _UNSPACED_CHAR.match(term) is not None


def char_ngrams(run: str) -> list[str]:
    """The 2- and 3-grams of a run of unspaced script (graphemes as characters), or the run
    itself when it is one character; Hiragana-only n-grams left out."""
    chars = _GRAPHEME.findall(run)
    if len(chars) == 1:
        grams = chars
    else:
        grams = ["".join(chars[i : i + n]) for n in NGRAM_SIZES for i in range(len(chars) - n + 1)]
    return [g for g in grams if not _HIRAGANA_ONLY.fullmatch(g)]


class BioTokenizer:
    """Callable bio -> terms, usable as a scikit-learn vectorizer's `analyzer`. Pickles."""

    def __init__(self, stopwords: Iterable[str] | None = None, *, links: bool = True) -> None:
        """stopwords: the words to drop; None loads `multilingual_stopwords()`.
        links: emit URL_TOKEN for each link (else links are dropped)."""
        self.stopwords = frozenset(multilingual_stopwords() if stopwords is None else stopwords)
        self.links = links

    def __call__(self, bio: str) -> list[str]:
        tokens: list[str] = []
        for position, chunk in enumerate(_URL.split(bio)):
            if position and self.links:
                tokens.append(URL_TOKEN)
            chunk = _HANDLE.sub(" ", chunk).lower()
            for match in _PIECE.finditer(chunk):
                if match.lastgroup == "unspaced":
                    candidates = char_ngrams(match.group())
                else:
                    candidates = [_STRETCH.sub(r"\1\1\1", match.group())]
                tokens += [t for t in candidates if is_term(t) and t not in self.stopwords]
        return tokens

    def __repr__(self) -> str:
        return f"BioTokenizer(stopwords={len(self.stopwords)} words, links={self.links})"
