"""Turn free-text profile bios into the words the bio clustering counts.

The seed notebook's recipe: links become one token, NLTK's `TweetTokenizer` lower-cases, shortens
runs of a repeated letter ("sooooo" -> "sooo") and drops @handles, then stopwords of every
language and tokens made only of punctuation are removed. Stopwords come from NLTK's corpus when
it is installed (found through NLTK_DATA) and from the `stopwordsiso` package otherwise, the same
lists the language detector uses.

`BioTokenizer` carries its stopword set with it, so a fitted vectorizer that uses it pickles
whole and assigns new bios the same way in any process, whatever that process has installed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from nltk.tokenize import TweetTokenizer

from streamer.ingest.langid.stopwords import (
    AUTO,
    DEFAULT_LANGUAGES,
    NLTK_LANGUAGE_CODES,
    load_lists,
)

URL_TOKEN = "<url>"  # TweetTokenizer keeps "<url>" whole, and no real word looks like it

# Links as people write them in bios: with a scheme, or starting with www.
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)

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


def replace_urls(text: str) -> str:
    return _URL.sub(f" {URL_TOKEN} ", text)


def is_punctuation_only(token: str) -> bool:
    """True for "!", "...", "|" or "—": tokens with no letter, digit, emoji or other symbol.

    Unicode calls "|", "+" and "~" math symbols, not punctuation, so ASCII punctuation counts
    whatever its category. Marks and format characters (the variation selector that follows many
    emoji comes out as a token of its own) carry nothing either.
    """
    return all(
        (ch.isascii() and not ch.isalnum()) or unicodedata.category(ch)[0] in "PZCM" for ch in token
    )


class BioTokenizer:
    """Callable bio -> tokens, usable as a scikit-learn vectorizer's `analyzer`. Pickles."""

    def __init__(self, stopwords: Iterable[str] | None = None) -> None:
        """stopwords: the words to drop; None loads `multilingual_stopwords()`."""
        self.stopwords = frozenset(multilingual_stopwords() if stopwords is None else stopwords)
        self._tokenizer = TweetTokenizer(preserve_case=False, reduce_len=True, strip_handles=True)

    def __call__(self, bio: str) -> list[str]:
        tokens = []
        for raw in self._tokenizer.tokenize(replace_urls(bio)):
            # "#music" and "music" mean the same in a bio; the URL token keeps its brackets.
            token = raw.lstrip("#") if raw != URL_TOKEN else raw
            if token and token not in self.stopwords and not is_punctuation_only(token):
                tokens.append(token)
        return tokens

    def __repr__(self) -> str:
        return f"BioTokenizer(stopwords={len(self.stopwords)} words)"
