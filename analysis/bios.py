"""Turn free-text profile bios into the terms the bio clustering counts, in every script.

- A bio is NFKC-normalized and lower-cased first: half-width Katakana, full-width and styled
  Latin letters fold to the plain ones, so the same word is one term however it is typed.
- Where words are spaced (Latin, Cyrillic, Arabic, Hangul, Devanagari, ...), a term is a word,
  a run of one repeated character cut to two ("sooooo" -> "soo"). A Korean noun loses the
  particle after it when wordfreq's Korean list knows the noun.
- Japanese and Chinese (Han and Hiragana) are cut into words with a unigram model over
  wordfreq's Japanese and Chinese lists; Katakana runs are words whole; in a Japanese bio a
  single Han character joins its neighbour (the compounds the list cuts apart). Hiragana-only
  words, single kana and the most common words of Japanese, Chinese and Korean are grammar.
- Thai, Lao, Khmer and Myanmar have no word list here: their runs become 2- and 3-grams of
  units that keep vowels with their consonant, after the script's stopwords cut the run.
- A term has a letter and says something: numbers, symbols, emoji, punctuation, ages and
  ordinals ("18yo", "28th"), single letters, kaomoji and decoration letters, lettering that
  mixes scripts and contact words ("ig", "snapchat", "gmail") are no terms. "#music" counts as
  "music"; @handles are dropped.
- Links become URL_TOKEN only when asked (`links=True`): the clustering leaves them out of the
  terms, since a link says nothing about a topic and, shared by a fifth of all bios in every
  language, would otherwise pull unrelated bios together.
- Stopwords of every language are removed. They come from NLTK's corpus when it is installed
  (found through NLTK_DATA) and from the `stopwordsiso` package otherwise, the same lists the
  language detector uses.

`BioTokenizer` carries its stopword set with it, so a fitted vectorizer that uses it pickles
whole and assigns new bios the same way in any process, whatever that process has installed.
The word lists come from wordfreq, a dependency of the language detector: every process has
them, so they are loaded on first use, not pickled.

`bio_languages` gives each bio its own language (the post detector's label of it): the
clustering routes users by the language their bio is written in.
"""

from __future__ import annotations

import gc
import math
import unicodedata
from array import array
from collections.abc import Iterable, Sequence
from functools import lru_cache
from itertools import islice
from typing import Any

import regex

from streamer.ingest.langid import make_detector
from streamer.ingest.langid.bio_language import label_bios
from streamer.ingest.langid.stopwords import (
    AUTO,
    DEFAULT_LANGUAGES,
    NLTK_LANGUAGE_CODES,
    load_lists,
)
from streamer.ingest.langid.vocabulary import Vocabulary

URL_TOKEN = "<url>"  # no real term looks like it: terms have no "<"

# Links as people write them in bios: with a scheme, or starting with www.
_URL = regex.compile(r"(?:https?://|www\.)\S+", regex.IGNORECASE)
_HANDLE = regex.compile(r"(?<![\p{L}\p{N}_])@[\p{L}\p{N}_]+")
# Blank "letters" people pad bios with (Hangul fillers, after NFKC): space, not a term.
_BLANK = regex.compile("[\u115f\u1160\u3164\uffa0]")
# Scripts written without spaces between words (Katakana's long-vowel mark and 々 are Common).
_UNSPACED = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}ー々〆ヶ"
_PIECE = regex.compile(
    rf"(?P<unspaced>[{_UNSPACED}][{_UNSPACED}\p{{M}}]*)"
    rf"|(?P<word>(?:(?![{_UNSPACED}])[\p{{L}}\p{{M}}\p{{N}}_])+"
    rf"(?:['\u2019\-](?:(?![{_UNSPACED}])[\p{{L}}\p{{M}}\p{{N}}_])+)*)"
)
# An unspaced run in pieces of one kind: Katakana words (loanwords: written whole), Han and
# Hiragana (Japanese and Chinese: segmented with a word list), the scripts of South-East Asia.
_UNSPACED_PART = regex.compile(
    r"(?P<katakana>[\p{Katakana}ー]+)|(?P<cjk>[\p{Han}\p{Hiragana}々〆ヶ]+)|(?P<other>[^\p{Katakana}ー\p{Han}\p{Hiragana}々〆ヶ]+)"
)
_LETTER = regex.compile(r"\p{L}")
_HAN_ONLY = regex.compile(r"[\p{Han}々〆ヶ]+")
_HANGUL = regex.compile(r"\p{Hangul}")
_KANA = regex.compile(r"[\p{Hiragana}\p{Katakana}]")
COMMON_WORDS = 300
# Korean particles and the copula, longest first: what follows a noun inside a spaced word.
_PARTICLES = """은 는 이 가 을 를 의 에 에서 에게 으로 로 와 과 도 만 랑 이랑 한테 께 부터 까지 처럼
    이나 나 입니다 이에요 예요"""
_KOREAN_PARTICLES = sorted(_PARTICLES.split(), key=len, reverse=True)
_NGRAM_SCRIPT = regex.compile(r"[\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}]")
_HIRAGANA_ONLY = regex.compile(r"[\p{Hiragana}ー]+")
_KANA_ONLY = regex.compile(r"[\p{Hiragana}\p{Katakana}ー]+")
# Letters of kaomoji (IPA and modifier letters, as in "ʃƪ") and bare Hangul jamo ("ㅠㅠ", "ㅋㅋ").
_DECORATION = regex.compile(
    r"[\u01aa\p{Block=IPA_Extensions}\p{Block=Phonetic_Extensions}\p{Block=Spacing_Modifier_Letters}"
    r"\p{Lm}"
    r"\p{Block=Hangul_Jamo}\p{Block=Hangul_Compatibility_Jamo}]+"
)
# Ages, ordinals and decades ("18yo", "21y", "28th", "90s"): a number, not a topic.
# A word mixing Latin with Cyrillic or Greek letters is lettering, not a word ("тнe" for "the").
_HOMOGLYPHS = regex.compile(
    r"\p{Latin}.*[\p{Cyrillic}\p{Greek}]|[\p{Cyrillic}\p{Greek}].*\p{Latin}"
)
_NUMBER_TAG = regex.compile(r"\d+(?:yo|y|yr|yrs|th|st|nd|rd|s|h)")
_STRETCH = regex.compile(r"(.)\1{2,}")
_GRAPHEME = regex.compile(r"\X")
NGRAM_SIZES = (2, 3)
# Where people point to their other accounts ("ig: ...", "snapchat - ..."): a contact, not a
# topic, and shared by bios of every language, so they made clusters of nothing but handles.
_CONTACTS = """ig insta instagram snap snapchat sc kik fb facebook twitter tw skype wechat whatsapp
    wa wpp bbm pin line id path ask askfm tumblr vine gmail hotmail yahoo outlook email e-mail
    mail ymail icloud dm dms contact contacto contato"""
CONTACT_WORDS = frozenset(_CONTACTS.split())
# Characters of an unspaced run scored as one word in the Han/Hiragana segmentation when the
# word list does not have them: rare, so any known word is preferred.
_UNKNOWN_COST = 22.0
_MAX_WORD = 8
_MAX_GRAMMAR_UNITS = 6  # the longest Thai stopword looked for, in units

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


def release_bio_detector() -> None:
    """Drop the detector `bio_languages` built (its tables are some 150 MB): a refit calls this
    once its bios are labelled, so the model fitting after it does not stack on them."""
    _bio_detector.cache_clear()
    gc.collect()


def load_word_tables() -> None:
    """Build every table the tokenizer reads (stopwords, wordfreq's common, Korean and
    Japanese/Chinese words: some 45 MB, built in a few seconds at twice that), so that the
    first bio tokenized does not pay for them. They stay for the life of the process."""
    multilingual_stopwords()
    common_words()
    _korean_words()
    _cjk_costs()
    gc.collect()


def bio_languages(bios: Sequence[str], fallback: Sequence[str | None]) -> list[str | None]:
    """Each bio's own language as the post detector labels it, or `fallback` (the language of
    the user's post) where the bio has none the detector can tell (empty, a handle, emoji).
    A user given no language (None) keeps none: the caller asked for no language routing.

    A user's bio is often not in the language of their posts (an English bio over Indonesian,
    Thai or Tagalog posts); the bio is what is clustered, so its language picks the model.
    The daemon asks its ingest workers instead (streamer.ingest.worker.label_bios: the same
    function, their detector), so that its clustering process never builds one."""
    if all(given is None for given in fallback):
        return list(fallback)  # no detector to load (its lists cost memory and a second)
    return label_bios(_bio_detector().detect, bios, fallback)


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
    """True for a character n-gram cut from a run of Thai, Lao, Khmer or Myanmar script."""
    return _NGRAM_SCRIPT.match(term) is not None


def normalize_bio(bio: str) -> str:
    """NFKC (half-width Katakana, full-width and "fancy" Latin letters fold to the plain
    ones), lower case, blank fillers as spaces, the typographic apostrophe as the plain one
    (the stopword lists spell "don't" with it)."""
    return _BLANK.sub(" ", unicodedata.normalize("NFKC", bio)).replace("\u2019", "'").lower()


def _word_buckets(lang: str, wordlist: str) -> list[list[str]]:
    """wordfreq's list for `lang` as buckets of words (index i: frequency 10 ** (-i / 100)),
    read from its file. Not through wordfreq's own readers: those keep every list they read
    (and a dict of it) cached for the life of the process, some 150 MB for these three."""
    import wordfreq

    return wordfreq.read_cBpack(wordfreq.available_languages(wordlist)[lang])


class WordCosts:
    """Word -> cost for the segmentation, read-only: a `Vocabulary` and an array of costs, a
    fifth of a dict's memory for the 380,000 words (a refit holds them with everything else)."""

    def __init__(self, costs: dict[str, float]) -> None:
        self._rows = Vocabulary(costs)  # a dict's keys are in the order of its values
        self._costs = array("d", costs.values())

    def get(self, word: str) -> float | None:
        row = self._rows.get(word)
        return None if row is None else self._costs[row]

    def __len__(self) -> int:
        return len(self._costs)


@lru_cache(maxsize=1)
def _cjk_costs() -> WordCosts:
    """-log(frequency) of the Japanese and Chinese words made of Han and Hiragana, from
    wordfreq's lists (the language detector's dependency: installed wherever this runs)."""
    import wordfreq

    pattern = regex.compile(rf"[\p{{Han}}\p{{Hiragana}}々〆ヶ]{{1,{_MAX_WORD}}}")
    costs: dict[str, float] = {}
    for lang in ("ja", "zh"):
        buckets = _word_buckets(lang, "large")
        # A word listed twice takes its last bucket, as in wordfreq's get_frequency_dict.
        bucket_cost = [-math.log(wordfreq.cB_to_freq(-i)) for i in range(len(buckets))]
        index_of = {
            w: i for i, bucket in enumerate(buckets) for w in bucket if pattern.fullmatch(w)
        }
        del buckets
        for word, index in index_of.items():
            cost = bucket_cost[index]
            costs[word] = min(cost, costs.get(word, cost))
    return WordCosts(costs)


def segment_cjk(run: str) -> list[str]:
    """A run of Han and Hiragana cut into its most likely words (a unigram model over
    wordfreq's Japanese and Chinese lists; a character it does not know is a word of its own)."""
    costs = _cjk_costs()
    n = len(run)
    best = [0.0] + [math.inf] * n
    start = [0] * (n + 1)
    for end in range(1, n + 1):
        for begin in range(max(0, end - _MAX_WORD), end):
            cost = costs.get(run[begin:end])
            if cost is None:
                if end - begin > 1:
                    continue
                cost = _UNKNOWN_COST
            if best[begin] + cost < best[end]:
                best[end] = best[begin] + cost
                start[end] = begin
    words = []
    end = n
    while end > 0:
        words.append(run[start[end] : end])
        end = start[end]
    return words[::-1]


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """The COMMON_WORDS most frequent words of Japanese, Chinese and Korean (wordfreq's lists):
    particles, auxiliaries and words every bio of the language has (の, 方, 합니다)."""
    return frozenset(w for lang in ("ja", "zh", "ko") for w in _top_words(lang, COMMON_WORDS))


def _top_words(lang: str, n: int) -> list[str]:
    """wordfreq.top_n_list(lang, n): the n most frequent words of the "best" list that have
    no run of digits, without wordfreq keeping the whole list cached."""
    from wordfreq.numbers import has_digit_sequence

    words = (w for bucket in _word_buckets(lang, "best") for w in bucket)
    return list(islice((w for w in words if not has_digit_sequence(w)), n))


def join_affixes(words: list[str]) -> list[str]:
    """Japanese compounds the word list cuts apart, joined again: a single Han character joins
    the Han word before it (野球+部, 成人+済) or, with none before, the one after (非+公式)."""
    out: list[str] = []
    joined = False  # the last word of `out` is already a join: 成人済 takes no 腐
    pending = ""  # a single character waiting for the word after it
    for word in words:
        han = _HAN_ONLY.fullmatch(word) is not None
        if han and len(word) == 1 and out and not joined and _HAN_ONLY.fullmatch(out[-1]):
            out[-1] += word
            joined = True
        elif han and len(word) == 1 and not pending:
            pending = word
        elif han and pending:
            out.append(pending + word)
            pending, joined = "", True
        else:
            if pending:
                out.append(pending)
                pending = ""
            out.append(word)
            joined = False
    if pending:
        out.append(pending)
    return out


@lru_cache(maxsize=1)
def _korean_words() -> frozenset[str]:
    return frozenset(w for bucket in _word_buckets("ko", "small") for w in bucket)


def korean_stem(word: str) -> str:
    """A Korean word without the particle after it ("헤더는" -> "헤더") when the word is not in
    wordfreq's Korean list and the rest is: one noun, one term, whatever particle follows."""
    known = _korean_words()
    if word in known:
        return word
    for particle in _KOREAN_PARTICLES:
        stem = word[: -len(particle)]
        if word.endswith(particle) and len(stem) >= 1 and stem in known:
            return stem
    return word


def thai_clusters(run: str) -> list[str]:
    """A run of Thai (or Lao, Khmer, Myanmar) in units that are never cut inside a word: a
    leading vowel (เ แ โ ใ ไ) stays with the consonant after it, a following vowel (ะ า ำ)
    with the one before, marks with their letter (graphemes)."""
    units: list[str] = []
    lead = ""
    for g in _GRAPHEME.findall(run):
        if g in "\u0e40\u0e41\u0e42\u0e43\u0e44\u0ec0\u0ec1\u0ec2\u0ec3\u0ec4":
            lead += g
        elif lead:
            units.append(lead + g)
            lead = ""
        elif units and g in "\u0e30\u0e32\u0e33\u0e45\u0eb0\u0eb2\u0eb3\u0e46":
            units[-1] += g
        else:
            units.append(g)
    if lead:
        units.append(lead)
    return units


def char_ngrams(run: str, grammar: frozenset[str] = frozenset()) -> list[str]:
    """The 2- and 3-grams of a run of Thai, Lao, Khmer or Myanmar (in units that keep vowels
    with their consonant). Words of `grammar` (the stopwords of these scripts) found on unit
    boundaries cut the run first, so no n-gram straddles a particle ("นที่"); a piece of a
    single unit is no term."""
    units = thai_clusters(run)
    pieces: list[list[str]] = [[]]
    i = 0
    while i < len(units):
        for j in range(min(len(units), i + _MAX_GRAMMAR_UNITS), i, -1):
            if "".join(units[i:j]) in grammar:
                pieces.append([])
                i = j
                break
        else:
            pieces[-1].append(units[i])
            i += 1
    return [
        "".join(piece[i : i + n])
        for piece in pieces
        if len(piece) > 1
        for n in NGRAM_SIZES
        for i in range(len(piece) - n + 1)
    ]


def unspaced_terms(
    run: str, japanese: bool = False, grammar: frozenset[str] = frozenset()
) -> list[str]:
    """The terms of a run of unspaced script: Katakana words whole, Han and Hiragana as words
    (in a Japanese bio, affixes joined to their word), the rest as n-grams. Hiragana-only
    words, single kana and the most common words of the language are grammar: left out."""
    terms: list[str] = []
    for part in _UNSPACED_PART.finditer(run):
        if part.lastgroup == "katakana":
            terms.append(part.group())
        elif part.lastgroup == "cjk":
            words = segment_cjk(part.group())
            common = common_words()  # Katakana words are loanwords, never grammar
            terms += [w for w in (join_affixes(words) if japanese else words) if w not in common]
        else:
            terms += char_ngrams(part.group(), grammar)
    return [
        t
        for t in terms
        if not _HIRAGANA_ONLY.fullmatch(t) and not (len(t) == 1 and _KANA_ONLY.fullmatch(t))
    ]


def spaced_term(word: str) -> str | None:
    """A word of a spaced script as a term: stretched letters cut to two ("soooo" -> "soo"),
    None for a single letter, decoration letters or lettering, an age or a contact word."""
    word = _STRETCH.sub(r"\1\1", word)
    if word.isascii():  # most words: the same rules, without the regexes of other scripts
        if word[:1].isdigit():
            return None if _NUMBER_TAG.fullmatch(word) else word
        if sum(c.isalpha() for c in word) < 2 or word in CONTACT_WORDS:
            return None
        return word
    letters = len(_LETTER.findall(word))
    if letters < 2 and not (word[:1].isdigit() or _HANGUL.match(word)):
        return None
    if _DECORATION.fullmatch(word) or _HOMOGLYPHS.search(word):
        return None
    if _NUMBER_TAG.fullmatch(word) or word in CONTACT_WORDS:
        return None
    if _HANGUL.match(word):
        word = korean_stem(word)
        if word in common_words():
            return None
    return word


class BioTokenizer:
    """Callable bio -> terms, usable as a scikit-learn vectorizer's `analyzer`. Pickles."""

    def __init__(self, stopwords: Iterable[str] | None = None, *, links: bool = True) -> None:
        """stopwords: the words to drop; None loads `multilingual_stopwords()`.
        links: emit URL_TOKEN for each link (else links are dropped)."""
        self.stopwords = frozenset(multilingual_stopwords() if stopwords is None else stopwords)
        self.links = links
        self.grammar = frozenset(w for w in self.stopwords if _NGRAM_SCRIPT.match(w))

    def __call__(self, bio: str) -> list[str]:
        tokens: list[str] = []
        for position, chunk in enumerate(_URL.split(bio)):
            if position and self.links:
                tokens.append(URL_TOKEN)
            chunk = normalize_bio(_HANDLE.sub(" ", chunk))
            japanese = _KANA.search(chunk) is not None
            for match in _PIECE.finditer(chunk):
                if match.lastgroup == "unspaced":
                    candidates = unspaced_terms(match.group(), japanese, self.grammar)
                else:
                    term = spaced_term(match.group())
                    candidates = [term] if term is not None else []
                tokens += [t for t in candidates if is_term(t) and t not in self.stopwords]
        return tokens

    def __repr__(self) -> str:
        return f"BioTokenizer(stopwords={len(self.stopwords)} words, links={self.links})"
