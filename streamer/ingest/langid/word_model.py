"""The fast model: how likely a text's words are in each language, from wordfreq's word lists.

wordfreq ships, for each of some forty languages, the frequencies of its most common words
(down to one in a million, from Wikipedia, subtitles, news, books, web text, Twitter and
Reddit). Read as a unigram language model, they tell languages apart from very few words: two
words are often enough, where character n-grams still hesitate.

All lists are merged into one table, built once per process: a vocabulary (word to row, a
compact `Vocabulary`) and a matrix of costs, one byte per word and language, in steps of
COST_STEP centibels (a cost of c is a probability of 10 ** (-c * COST_STEP / 100)). A word
missing from a language's list costs MISSING_COST there, a little less likely than the rarest
listed word. Scoring a text is a few lookups and one numpy sum.
"""

from __future__ import annotations

import math
import re
import sys
import unicodedata
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt
import regex

from streamer.ingest.langid import word_lists
from streamer.ingest.langid.scripts import script_of_words
from streamer.ingest.langid.vocabulary import Vocabulary

# Our ISO 639-1 codes where wordfreq names the list differently: Tagalog is served by the
# Filipino list (Filipino is standardized Tagalog), Norwegian by Bokmål.
WORDFREQ_CODES: dict[str, str] = {"tl": "fil", "no": "nb"}
# The "small" lists go down to one in a million and exist for every language; the "large"
# ones (down to 1e-8) only for some, and are several times bigger.
WORDLIST = "small"

COST_STEP = 3  # centibels per cost unit: a byte then spans 10 ** -7.65, past the lists' floor
MISSING_COST = 233  # 10 ** -6.99: a little below the rarest word of a "small" list (1e-6)
TOP_WORDS = 300  # how many of a language's commonest words tell its script
# Distinct tokens whose costs a model remembers per candidate set and normalization (see
# candidate_costs). A stream's vocabulary never ends, so a memory is emptied when full:
# cheaper than an LRU's bookkeeping on every hit, and the common words are back after a few
# hundred posts. About 190 B a token with the 13 Latin-script defaults: 12 MB at most.
TOKEN_CACHE_SIZE = 65_536

# From cost units to natural-log likelihood.
NATS_PER_COST = COST_STEP / 100 * math.log(10)

# A word: letters with their marks, possibly joined by apostrophes (don't, dell'uomo). Plain
# ASCII text, the most common, takes the standard re module, which is several times faster.
_WORD = regex.compile(r"[\p{L}\p{M}]+(?:'[\p{L}\p{M}]+)*")
_ASCII_WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")
# Typographic apostrophes become straight ones, as in the lists; a capital dotted I becomes
# "i" (case folding would give "i" plus a combining dot, which no list has; wordfreq folds
# Turkish this way).
_BEFORE_FOLDING = {"\u2019": "'", "\u02bc": "'", "\u2018": "'", "\u0130": "i"}
# wordfreq strips the optional vowel marks and the tatweel of Arabic and Hebrew script.
_ABJAD_MARKS = regex.compile(r"[\p{Mn}\u0640]")
_ABJAD = regex.compile(r"[\p{sc=Arabic}\p{sc=Hebrew}]")


# Lanes of candidate_costs' packed ints: 32 bits, so a lane's sum of costs (at most
# MISSING_COST a word) cannot carry into the next for any text under 18 million words.
_LANE_BYTES = 4
_LANE = 8 * _LANE_BYTES
_LANE_MASK = (1 << _LANE) - 1
_LITTLE_ENDIAN = sys.byteorder == "little" and memoryview(b"1234").cast("I").itemsize == 4


def _unpacked_lanes(total: int, count: int) -> list[int]:
    """Lanes 1..count of a packed sum, as ints: one bytes conversion and a C-level cast
    (the lanes are little-endian, so the cast reads them as they are on such machines)."""
    data = total.to_bytes(_LANE_BYTES * (count + 1), "little")
    if _LITTLE_ENDIAN:
        return memoryview(data).cast("I")[1:].tolist()
    step = _LANE_BYTES
    return [int.from_bytes(data[i : i + step], "little") for i in range(step, len(data), step)]


class _RowPacker:
    """Some adjacent columns of a table's rows as packed ints: lane 0 holds 1 (the word),
    lane j + 1 the word's cost in column first + j. Plain bytes operations, no numpy call per
    token; the table's bytes are shared, not copied, by all the packers over it."""

    def __init__(self, costs: bytes, width: int, first: int, count: int) -> None:
        """costs: a table of `width` columns, row after row; the packed columns are
        first ... first + count - 1."""
        self._costs = costs
        self._width = width
        self._first = first
        self._count = count
        self._blank = bytearray(_LANE_BYTES * (count + 1))
        self._blank[0] = 1

    def packed(self, rows: Sequence[int]) -> int:
        """The rows' packed sum: known-word count and summed costs."""
        total = 0
        width, costs = self._width, self._costs
        first, last = self._first, self._first + self._count
        for row in rows:
            lanes = self._blank[:]
            start = row * width
            lanes[_LANE_BYTES::_LANE_BYTES] = costs[start + first : start + last]
            total += int.from_bytes(lanes, "little")
        return total


def wordfreq_code(code: str) -> str:
    return WORDFREQ_CODES.get(code, code)


def has_word_list(code: str) -> bool:
    return wordfreq_code(code) in word_lists.available(WORDLIST)


def lookup_words(text: str) -> list[str]:
    """The text's words in the form the word lists use: case-folded, and for Arabic and Hebrew
    script compatibility-normalized without vowel marks, as wordfreq does."""
    if text.isascii():
        return _ASCII_WORD.findall(text.lower())
    return _folded_words(text, has_abjad(text))


def has_abjad(text: str) -> bool:
    """Whether the text has Arabic or Hebrew letters: then all its words are normalized."""
    return _ABJAD.search(text) is not None


def _folded_words(text: str, abjad: bool) -> list[str]:
    return _WORD.findall(_folded(text, abjad))


# A word, or the line break that separates tokens in _words_of_tokens.
_WORD_OR_BREAK = regex.compile(r"[\p{L}\p{M}]+(?:'[\p{L}\p{M}]+)*|\n")
_ASCII_WORD_OR_BREAK = re.compile(r"[a-z]+(?:'[a-z]+)*|\n")


def _words_of_tokens(tokens: Sequence[str], abjad: bool) -> list[list[str]]:
    """[lookup_words(t) for t in tokens] for tokens without whitespace, read as parts of a
    text that has (abjad) or has not Arabic or Hebrew letters: one regex pass for them all,
    since a call costs more than a short token's scan."""
    joined = "\n".join(tokens)
    if joined.isascii():  # folding and normalizing leave ASCII letters as lower() does
        found = _ASCII_WORD_OR_BREAK.findall(joined.lower())
    else:
        found = _WORD_OR_BREAK.findall(_folded(joined, abjad))
    words: list[list[str]] = [[]]
    for word in found:
        if word == "\n":
            words.append([])
        else:
            words[-1].append(word)
    return words


def _folded(text: str, abjad: bool) -> str:
    # What str.translate would do with these pairs, several times faster on non-ASCII text
    # (translate looks up every character; these are a few scans that rarely find anything).
    for char, replacement in _BEFORE_FOLDING.items():
        if char in text:
            text = text.replace(char, replacement)
    text = text.casefold()
    if abjad:
        text = _ABJAD_MARKS.sub("", unicodedata.normalize("NFKC", text))
    return text


class WordModel:
    """Unigram word likelihoods for a fixed list of languages (the matrix's columns)."""

    def __init__(self, languages: Sequence[str]) -> None:
        self.languages = tuple(languages)
        missing = [code for code in self.languages if not has_word_list(code)]
        if missing:
            raise ValueError(f"no word list for language(s): {', '.join(missing)}")
        self._rows = Vocabulary(())
        self._top_words: dict[str, tuple[str, ...]] = {}
        # (candidates, abjad) to a memory of tokens' packed costs (see candidate_costs), and
        # each candidate tuple's restricted table.
        self._token_costs: dict[tuple[tuple[str, ...], bool], dict[str, int]] = {}
        self._packers: dict[tuple[str, ...], _RowPacker] = {}
        # The memory of the previous call's (candidates, abjad), found again by identity.
        self._last_memory: tuple[tuple[str, ...] | None, bool, dict[str, int]] = (None, False, {})
        # The cost table, row after row, its columns grouped by script (see _build): each
        # script's candidates are then adjacent columns, which their packer reads in place.
        self._column: dict[str, int] = {}
        self._table = self._build()
        self._costs: npt.NDArray[np.uint8] = np.frombuffer(self._table, np.uint8).reshape(
            -1, len(self.languages)
        )

    def _build(self) -> bytes:
        paths = word_lists.available(WORDLIST)
        vocabulary: dict[str, int] = {}  # while building; kept as a compact Vocabulary
        # Per language: the rows of its words and their costs, as compact arrays (the lists
        # hold some 700,000 entries in all; Python lists of them would double the peak).
        entries = []
        for code in self.languages:
            # Index i of a cBpack list holds the words of frequency 10 ** (-i / 100).
            buckets = word_lists.read(paths[wordfreq_code(code)])
            rows = np.fromiter(
                (vocabulary.setdefault(w, len(vocabulary)) for b in buckets for w in b),
                dtype=np.int32,
            )
            costs = np.fromiter(
                (min(cb // COST_STEP, MISSING_COST) for cb, b in enumerate(buckets) for _ in b),
                dtype=np.uint8,
            )
            entries.append((rows, costs))
        table = np.full((len(vocabulary), len(self.languages)), MISSING_COST, dtype=np.uint8)
        for column, (rows, costs) in enumerate(entries):
            table[rows, column] = costs
        self._rows = Vocabulary(vocabulary)  # a dict's keys are in row order
        del vocabulary
        # The commonest words are decoded again from the compact table once the build's
        # strings are gone: kept from the lists, a few thousand small strings scattered among
        # the build's half million would hold on to tens of MB of its freed memory.
        for code, (rows, _costs) in zip(self.languages, entries, strict=True):
            self._top_words[code] = tuple(map(self._rows.word, rows[:TOP_WORDS].tolist()))
        # The detector's candidates are the configured languages of one script, in the
        # configured order: languages grouped by script (in order within each) make each
        # candidate tuple a run of adjacent columns.
        scripts = [script_of_words(self._top_words[code]) or "" for code in self.languages]
        order = sorted(range(len(scripts)), key=lambda j: scripts.index(scripts[j]))
        self._column = {self.languages[j]: i for i, j in enumerate(order)}
        return np.ascontiguousarray(table[:, order]).tobytes()

    def top_words(self, code: str) -> tuple[str, ...]:
        """A few hundred of the language's most common words (to tell its script)."""
        return self._top_words[code]

    def rows_of(self, words: Iterable[str]) -> list[int]:
        """The vocabulary rows of the words any list knows; a word with an apostrophe that no
        list has whole is looked up by its parts (French and English lists split l'homme)."""
        rows = []
        find = self._rows.get
        for word in words:
            row = find(word)
            if row is not None:
                rows.append(row)
            elif "'" in word:
                rows.extend(r for r in map(find, word.split("'")) if r is not None)
        return rows

    def forget_tokens(self) -> None:
        """Empty the memories of tokens (for measuring a cold start)."""
        self._token_costs.clear()
        self._last_memory = (None, False, {})

    def candidate_costs(
        self, text: str, abjad: bool, candidates: tuple[str, ...]
    ) -> npt.NDArray[np.int32] | None:
        """summed_costs(restricted(candidates), rows_of(lookup_words(text))), or None if no
        list knows any of the text's words; abjad: has_abjad(text), which the caller knows."""
        costs = self.candidate_cost_list(text.split(), abjad, candidates)
        return None if costs is None else np.array(costs, dtype=np.int32)

    def candidate_cost_list(
        self, tokens: list[str], abjad: bool, candidates: tuple[str, ...]
    ) -> list[int] | None:
        """candidate_costs(" ".join(tokens), ...) as a list of ints: the detector's words
        stage reads a handful of numbers, for which numpy's per-call cost is most of the work.

        A word never spans whitespace, and folding and normalizing work character by
        character, so a text's words are its whitespace-separated tokens' words, in order; only
        whether the whole text has Arabic or Hebrew letters changes how a token is read. On a
        stream most tokens are common words seen before: one dict lookup each.

        Each token's contribution is remembered packed in one Python int: lane 0 (of _LANE
        bits) counts its known words, lane j + 1 sums their costs in candidate j. Integers add
        lane by lane without carries (a lane holds over 18 million words' worth), so a text's
        sums are one C-level sum() over its tokens' ints, exactly the numpy sums, without a
        list of rows or a table lookup per text."""
        last_candidates, last_abjad, memory = self._last_memory
        if candidates is not last_candidates or abjad is not last_abjad:
            # Another candidate set than the previous text's (hashing a tuple of a dozen
            # codes costs more than the identity tests that most texts pass).
            memory = self._token_costs.setdefault((candidates, abjad), {})
            self._last_memory = (candidates, abjad, memory)
        try:  # the common case, every token known: no list, no test per token
            total: int = sum(map(memory.__getitem__, tokens))
        except KeyError:
            total = self._learn(memory, tokens, abjad, candidates)
        if not total & _LANE_MASK:
            return None
        if _LITTLE_ENDIAN:  # _unpacked_lanes written out
            data = total.to_bytes(_LANE_BYTES * (len(candidates) + 1), "little")
            return memoryview(data).cast("I")[1:].tolist()
        return _unpacked_lanes(total, len(candidates))

    def _learn(
        self, memory: dict[str, int], tokens: list[str], abjad: bool, candidates: tuple[str, ...]
    ) -> int:
        """The tokens' packed sum, the unknown ones' ints computed and remembered."""
        packed = list(map(memory.get, tokens))
        unknown = [i for i, value in enumerate(packed) if value is None]
        words = _words_of_tokens([tokens[i] for i in unknown], abjad)
        if len(memory) + len(unknown) > TOKEN_CACHE_SIZE:
            memory.clear()
        packer = self._packer(candidates)
        for i, its_words in zip(unknown, words, strict=True):
            packed[i] = memory[tokens[i]] = packer.packed(self.rows_of(its_words))
        return sum(packed)  # type: ignore[arg-type]

    def _packer(self, candidates: tuple[str, ...]) -> _RowPacker:
        packer = self._packers.get(candidates)
        if packer is None:
            columns = [self._column[code] for code in candidates]
            first = columns[0] if columns else 0
            if columns == list(range(first, first + len(columns))):
                packer = _RowPacker(self._table, len(self.languages), first, len(columns))
            else:  # not one script's candidates: a table of their own
                table = self.restricted(candidates)
                packer = _RowPacker(table.tobytes(), len(columns), 0, len(columns))
            self._packers[candidates] = packer
        return packer

    def packs_in_place(self, candidates: tuple[str, ...]) -> bool:
        """Whether the candidates' costs are read from the model's own table (adjacent
        columns), rather than from a copy of their columns."""
        return self._packer(candidates)._costs is self._table

    def costs(self, rows: Sequence[int]) -> npt.NDArray[np.int32]:
        """Summed cost of the rows per language, in self.languages' order (lower is
        likelier); multiply by -NATS_PER_COST for a log-likelihood."""
        columns = [self._column[code] for code in self.languages]
        return self._costs[list(rows)][:, columns].sum(axis=0, dtype=np.int32)

    def restricted(self, languages: Sequence[str]) -> npt.NDArray[np.uint8]:
        """The cost table's columns of `languages`, in that order, as a table of its own for
        `summed_costs`: selecting the columns once beats selecting them for every text."""
        columns = [self._column[code] for code in languages]
        return np.ascontiguousarray(self._costs[:, columns])

    @staticmethod
    def summed_costs(table: npt.NDArray[np.uint8], rows: Sequence[int]) -> npt.NDArray[np.int32]:
        """`costs` over a `restricted` table: the same sums for its languages."""
        return np.add.reduce(table.take(rows, axis=0), axis=0, dtype=np.int32)

    @property
    def vocabulary_size(self) -> int:
        return len(self._rows)
