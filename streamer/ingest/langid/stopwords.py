"""The seed's detector: count each language's stopwords in a post and pick the language with most.

A post is cleaned (URLs, mentions, numbers and emoji dropped), lower-cased and cut into words.
If one single-language script (Hangul, Thai, kana, ...) carries most of its letters, the script
decides. Otherwise every configured language whose stopword list is written in the post's script
scores one hit per word found in its list; the highest score wins if it is at least MIN_HITS,
ties going to the language configured first, and anything else is UNDETERMINED.

Stopword lists come from NLTK's stopwords corpus when it is installed (the seed's source) and
from the stopwords-iso package, which is a hard dependency, for the languages NLTK lacks.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

import regex
import stopwordsiso

from streamer.core.records import UNDETERMINED
from streamer.ingest.langid.scripts import SCRIPT_LANGUAGE, dominant_script, script_of_words

# One stopword can be chance (English "a" is also Spanish, Portuguese, Italian...): the seed
# wanted more than one hit before it named a language.
MIN_HITS = 2

AUTO = "auto"
NLTK = "nltk"
STOPWORDS_ISO = "stopwords-iso"
SOURCES = (AUTO, NLTK, STOPWORDS_ISO)
SCRIPT = "script"  # how a language is known when its script decides, not a list

# NLTK names its lists by language name. Not mapped: "hinglish" (Hindi-English code-mixing in
# Latin letters, no ISO 639-1 code) and any list a newer corpus adds; unmapped lists are ignored.
NLTK_LANGUAGE_CODES: dict[str, str] = {
    "arabic": "ar",
    "azerbaijani": "az",
    "basque": "eu",
    "bengali": "bn",
    "catalan": "ca",
    "chinese": "zh",
    "danish": "da",
    "dutch": "nl",
    "english": "en",
    "finnish": "fi",
    "french": "fr",
    "german": "de",
    "greek": "el",
    "hebrew": "he",
    "hungarian": "hu",
    "indonesian": "id",
    "italian": "it",
    "kazakh": "kk",
    "nepali": "ne",
    "norwegian": "no",
    "portuguese": "pt",
    "romanian": "ro",
    "russian": "ru",
    "slovene": "sl",
    "spanish": "es",
    "swedish": "sv",
    "tajik": "tg",
    "turkish": "tr",
}

# NLTK's English list was augmented (nltk_data issue 22) with the pieces that a tokenizer cutting
# at apostrophes makes of contractions: "didn", "t", "ve", "ll", ... Our tokenizer keeps "didn't"
# whole, and the list has it whole, so these pieces only ever match as words of their own, where
# they are mostly other languages' words: Turkish "ve", Spanish "y", Portuguese "o", Italian "ma".
# Dropping them took Turkish from 0.79 to 0.93 on the UDHR test chunks and cost nothing elsewhere.
NLTK_ENGLISH_CONTRACTION_PIECES = frozenset({
    "d", "ll", "m", "o", "re", "s", "t", "ve", "y", "ma", "ain", "aren", "couldn", "didn", "doesn",
    "don", "hadn", "hasn", "haven", "isn", "mightn", "mustn", "needn", "shan", "shouldn", "wasn",
    "weren", "won", "wouldn",
})  # fmt: skip

# The languages sorted when the configuration names none, most frequent on Twitter first (the
# order also breaks ties). Each has a stopword list in every source mode that can serve it, or a
# script of its own.
DEFAULT_LANGUAGES: tuple[str, ...] = (
    "en", "ja", "es", "pt", "ar", "ko", "th", "fr", "tr", "id", "ru", "de", "it", "hi", "tl",
    "fa", "ur", "nl", "pl", "sv", "el", "he", "uk", "zh", "ca", "bn", "ta",
)  # fmt: skip

# Every code this detector can be configured with: a script of its own, or a list in a source.
KNOWN_LANGUAGES: frozenset[str] = frozenset(
    {*SCRIPT_LANGUAGE.values(), *NLTK_LANGUAGE_CODES.values(), *stopwordsiso.langs()}
)

# Removed before tokenizing: links, anything with an "@" in it (mentions, e-mail addresses), HTML
# entities (v1.1 payloads escape &, < and >), and the "RT" that starts old-style retweets. These
# need no Unicode properties, and the standard re module runs them several times faster.
_NOISE = re.compile(
    r"(?:https?://|www\.)\S+|\S*@\S+|&(?:amp|lt|gt|quot|apos|#\d+);|^\s*RT\b", re.IGNORECASE
)
# Arabic-script vowel marks and the tatweel are optional in writing and absent from the lists.
_ARABIC_MARKS = re.compile(r"[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
# Typographic apostrophes become ASCII ones, as in the stopword lists.
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u02bc": "'", "\u2018": "'"})
# A word is a run of letters (with their combining marks), possibly joined by apostrophes; "#",
# digits, punctuation and emoji are never part of one, so hashtags keep their word.
_WORD = regex.compile(r"[\p{L}\p{M}]+(?:'[\p{L}\p{M}]+)*")


def clean_text(text: str) -> str:
    """The post without links, mentions and entities, lower-cased, apostrophes normalized."""
    text = _NOISE.sub(" ", text).translate(_APOSTROPHES).lower()
    if not text.isascii():
        text = _ARABIC_MARKS.sub("", unicodedata.normalize("NFC", text))
    return text


def words(cleaned: str) -> list[str]:
    """The words of a cleaned text. "don't" stays whole; l'homme is split at lookup time."""
    return _WORD.findall(cleaned)


def prepare_list(entries: Iterable[str]) -> frozenset[str]:
    """A stopword list as the tokenizer would see it.

    Entries that are not exactly one word to the tokenizer (punctuation, digits, Vietnamese
    multi-syllable phrases in stopwords-iso) could never match a token, so they are dropped, and
    so are endings listed with their apostrophe ("'ll", "'ve"): they only occur attached to a
    word, and the tokenizer keeps them there.
    """
    prepared = set()
    for entry in entries:
        if entry.lstrip()[:1] in ("'", "\u2019"):
            continue
        found = words(clean_text(entry))
        if len(found) == 1:
            prepared.add(found[0])
    return frozenset(prepared)


def _nltk_search_path(nltk_data: str | os.PathLike[str] | None) -> list[str]:
    import nltk

    if nltk_data is not None:
        path = os.fspath(nltk_data)
        # NLTK refuses to read outside the directories on nltk.data.path (or NLTK_DATA): a data
        # directory given here has to be authorized the way NLTK documents, by joining that list.
        if path not in nltk.data.path:
            nltk.data.path.append(path)
        return [path]
    # NLTK reads NLTK_DATA once, when it is imported; read it again so a later setting counts.
    from_env = [os.path.expanduser(p) for p in os.environ.get("NLTK_DATA", "").split(os.pathsep)]
    return list(dict.fromkeys([p for p in from_env if p] + list(nltk.data.path)))


def load_nltk_lists(nltk_data: str | os.PathLike[str] | None = None) -> dict[str, frozenset[str]]:
    """NLTK's stopword lists by ISO 639-1 code; empty if NLTK or its stopwords corpus is missing
    or cannot be read.

    nltk_data is a data directory to search instead of NLTK's own path (NLTK_DATA included).
    """
    try:
        import nltk
        from nltk.corpus.reader import WordListCorpusReader
    except ImportError:
        return {}
    paths = _nltk_search_path(nltk_data)
    # The same places NLTK's own corpus loader looks: an unpacked folder, or the downloaded zip.
    for resource in ("corpora/stopwords", "corpora/stopwords.zip/stopwords/"):
        try:
            root = nltk.data.find(resource, paths=paths)
            break
        except LookupError:
            continue
    else:
        return {}
    try:
        reader = WordListCorpusReader(root, r"[a-z_]+", encoding="utf8")
        lists = {
            NLTK_LANGUAGE_CODES[name]: frozenset(reader.words(name))
            for name in reader.fileids()
            if name in NLTK_LANGUAGE_CODES
        }
    except (OSError, ValueError):  # unreadable or refused by NLTK's path checks, badly encoded
        return {}
    if "en" in lists:
        lists["en"] -= NLTK_ENGLISH_CONTRACTION_PIECES
    return lists


def load_iso_list(code: str) -> frozenset[str]:
    """stopwords-iso's list for a language, empty if it has none.

    Used whole (after prepare_list). The package ships its lists sorted alphabetically, with no
    frequency order to cap them by. Some are long and noisy: English has every letter, every
    two-letter country code and content words like "computer"; German, Spanish and French list
    the alphabet too. Trimming by shape (dropping the letters and two-letter codes of such lists)
    was measured on UDHR chunks: it won Catalan and Portuguese what it lost Spanish and English,
    so the lists are kept as published.
    """
    return frozenset(stopwordsiso.stopwords(code))


def load_lists(
    codes: Sequence[str], source: str = AUTO, nltk_data: str | os.PathLike[str] | None = None
) -> dict[str, tuple[frozenset[str], str]]:
    """The stopword list and its source for each code that has one in the chosen source mode.

    "auto" takes NLTK's list where NLTK has one and stopwords-iso's otherwise; "nltk" requires
    NLTK's corpus (LookupError if it is missing); "stopwords-iso" never touches NLTK.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown stopword source {source!r}: expected one of {SOURCES}")
    lists: dict[str, tuple[frozenset[str], str]] = {}
    if source in (AUTO, NLTK):
        nltk_lists = load_nltk_lists(nltk_data)
        if source == NLTK and not nltk_lists:
            raise LookupError("NLTK's stopwords corpus could not be loaded (see NLTK_DATA)")
        lists.update((code, (nltk_lists[code], NLTK)) for code in codes if code in nltk_lists)
    if source in (AUTO, STOPWORDS_ISO):
        for code in codes:
            if code not in lists and (iso_list := load_iso_list(code)):
                lists[code] = (iso_list, STOPWORDS_ISO)
    return lists


class StopwordDetector:
    """Names the language of a post by script, or by stopword hits among configured languages.

    Plain data only (tuples, dicts, frozensets): it pickles, and builds once per worker.
    """

    def __init__(
        self,
        languages: Sequence[str],
        lists: Mapping[str, Iterable[str]],
        sources: Mapping[str, str] | None = None,
    ) -> None:
        """languages: the codes to choose from, in tie-breaking order; lists: stopwords of the
        ones no script decides (lists of script-decided languages are ignored); sources: where
        each list came from, kept for inspection."""
        self.languages = tuple(dict.fromkeys(languages))
        configured = set(self.languages)
        self._by_script = {s: c for s, c in SCRIPT_LANGUAGE.items() if c in configured}
        decided = set(self._by_script.values())
        missing = [c for c in self.languages if c not in decided and c not in lists]
        if missing:
            raise ValueError(f"no stopword list for language(s): {', '.join(missing)}")
        # Counted languages keep configured order: the index of a language is its tie rank.
        self._counted = tuple(c for c in self.languages if c not in decided)
        prepared = [prepare_list(lists[code]) for code in self._counted]
        index: dict[str, list[int]] = {}
        for rank, words_of_language in enumerate(prepared):
            for word in words_of_language:
                index.setdefault(word, []).append(rank)
        # One lookup per word yields every language that lists it.
        self._index = {word: tuple(ranks) for word, ranks in index.items()}
        # A post in Cyrillic is only scored for languages written in Cyrillic, and so on; a post
        # with no clear script (None) is scored for all.
        by_script: dict[str, list[int]] = {}
        for rank, words_of_language in enumerate(prepared):
            if script := script_of_words(words_of_language):
                by_script.setdefault(script, []).append(rank)
        self._candidates: dict[str | None, tuple[int, ...]] = {
            None: tuple(range(len(self._counted))),
            **{script: tuple(ranks) for script, ranks in by_script.items()},
        }
        given = sources or {}
        # Which source served each language ("nltk", "stopwords-iso", or "script").
        self.sources = {c: SCRIPT if c in decided else given.get(c, "") for c in self.languages}

    def detect(self, text: str) -> str:
        cleaned = clean_text(text)
        script = dominant_script(cleaned)
        if script in self._by_script:
            return self._by_script[script]
        candidates = self._candidates.get(script, ())
        if not candidates:
            return UNDETERMINED
        hits = self.hits(cleaned)
        best, best_hits = -1, MIN_HITS - 1
        for rank in candidates:  # ascending rank: on a tie the first configured language stays
            if hits[rank] > best_hits:
                best, best_hits = rank, hits[rank]
        return self._counted[best] if best >= 0 else UNDETERMINED

    def hits(self, cleaned: str) -> list[int]:
        """Stopword hits per counted language (in configured order) in a cleaned text."""
        hits = [0] * len(self._counted)
        index = self._index
        for word in words(cleaned):
            ranks = index.get(word)
            if ranks is None and "'" in word:
                # Elided French/Italian forms: l'homme scores "l"; "don't" matched whole above.
                ranks = tuple(r for part in word.split("'") for r in index.get(part, ()))
            for rank in ranks or ():
                hits[rank] += 1
        return hits

    def __repr__(self) -> str:
        return f"StopwordDetector(languages={self.languages!r})"


def build_stopword_detector(
    languages: Sequence[str] | None = None,
    *,
    source: str = AUTO,
    nltk_data: str | os.PathLike[str] | None = None,
) -> StopwordDetector:
    """The detector for the given codes (None or empty: DEFAULT_LANGUAGES), in tie-breaking
    order, with lists from the given source ("auto", "nltk" or "stopwords-iso").

    Raises ValueError for an unknown code, or for a code the chosen source has no list for. With
    the default languages, a source that lacks some of them simply leaves them out.
    nltk_data: a data directory to read NLTK's corpus from instead of NLTK's usual path.
    """
    explicit = bool(languages)
    wanted = list(dict.fromkeys(languages or DEFAULT_LANGUAGES))
    unknown = [code for code in wanted if code not in KNOWN_LANGUAGES]
    if unknown:
        raise ValueError(f"unknown language code(s): {', '.join(unknown)}")
    script_decided = set(SCRIPT_LANGUAGE.values())
    needed = [code for code in wanted if code not in script_decided]
    lists = load_lists(needed, source, nltk_data)
    missing = [code for code in needed if code not in lists]
    if missing and explicit:
        raise ValueError(f"no {source} stopword list for language(s): {', '.join(missing)}")
    chosen = [code for code in wanted if code not in missing]
    return StopwordDetector(
        chosen,
        {code: entries for code, (entries, _) in lists.items()},
        {code: origin for code, (_, origin) in lists.items()},
    )
