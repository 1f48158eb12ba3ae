"""The word model's compact vocabulary finds exactly the rows a dict would."""

from __future__ import annotations

import gzip
import pickle
import subprocess
import sys
from itertools import chain, islice
from pathlib import Path

import msgpack
import pytest
import wordfreq

from streamer.ingest.langid import make_detector, word_lists
from streamer.ingest.langid.vocabulary import Vocabulary
from streamer.ingest.langid.word_model import TOP_WORDS, WordModel

WORDS = ["the", "house", "maison", "дом", "بيت", "家", "l'homme", "naïve", "", "🙂"]


class _Colliding(str):
    """A str whose hash is the same for every value: lookups must compare the words."""

    def __hash__(self) -> int:
        return 42


def test_every_word_has_its_row_and_others_have_none() -> None:
    table = Vocabulary(WORDS)
    assert len(table) == len(WORDS)
    assert [table.get(word) for word in WORDS] == list(range(len(WORDS)))
    assert list(table.words()) == WORDS
    for stranger in ("House", "hous", "houses", "дома", "l", "家族", " the", "\ud800"):
        assert table.get(stranger) is None
        assert stranger not in table
    assert "maison" in table and 3 not in table


def test_a_row_gives_back_its_word() -> None:
    table = Vocabulary(WORDS)
    assert [table.word(row) for row in range(len(WORDS))] == WORDS
    for outside in (len(WORDS), -1):
        with pytest.raises(IndexError):
            table.word(outside)


def test_words_with_one_hash_are_told_apart_by_their_letters() -> None:
    table = Vocabulary([_Colliding(w) for w in ("alpha", "beta", "gamma")])
    assert table.get(_Colliding("gamma")) == 2
    assert table.get(_Colliding("alpha")) == 0
    assert table.get(_Colliding("delta")) is None


def test_a_pickled_table_sorts_its_hashes_again() -> None:
    table = pickle.loads(pickle.dumps(Vocabulary(WORDS)))
    assert [table.get(word) for word in WORDS] == list(range(len(WORDS)))


def test_the_word_model_rows_are_those_of_its_word_lists() -> None:
    """Rows in the order the lists first name the words, as the dict the model used to keep."""
    model = WordModel(["en", "fr", "ru"])
    expected: dict[str, int] = {}
    paths = wordfreq.available_languages("small")
    for code in ("en", "fr", "ru"):
        for bucket in wordfreq.read_cBpack(paths[code]):
            for word in bucket:
                expected.setdefault(word, len(expected))
    assert model.vocabulary_size == len(expected)
    sample = list(expected)[:: max(1, len(expected) // 5000)]
    assert model.rows_of(sample) == [expected[w] for w in sample]
    assert model.rows_of(["l'homme", "zzqxj"]) == [expected["l"], expected["homme"]]


def test_the_top_words_are_each_list_s_first_words() -> None:
    """Decoded again from the compact table after the build, they are still the lists' own."""
    model = WordModel(["en", "ru"])
    paths = wordfreq.available_languages("small")
    for code in ("en", "ru"):
        first = islice(chain.from_iterable(wordfreq.read_cBpack(paths[code])), TOP_WORDS)
        assert model.top_words(code) == tuple(first)
    assert len(model.top_words("en")) == TOP_WORDS


def test_the_detector_still_answers() -> None:
    detect = make_detector("default", None).detect
    assert detect("the house of the rising sun") == "en"
    assert detect("la maison est grande et belle") == "fr"
    assert detect("это мой дом") == "ru"


def test_word_lists_are_read_as_wordfreq_reads_them() -> None:
    lists = word_lists.available("small")
    assert {code: str(path) for code, path in lists.items()} == wordfreq.available_languages(
        "small"
    )
    for code in ("en", "ar"):
        assert word_lists.read(lists[code]) == wordfreq.read_cBpack(str(lists[code]))


def test_a_file_that_is_no_word_list_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "small_xx.msgpack.gz"
    with gzip.open(path, "wb") as out:
        out.write(msgpack.packb([{"format": "other", "version": 1}, ["word"]]))
    with pytest.raises(ValueError, match="not a cBpack"):
        word_lists.read(path)


def test_the_detector_is_built_without_importing_wordfreq() -> None:
    """wordfreq's own imports (language tags, text fixing) cost every worker some MB."""
    probe = (
        "import sys; from streamer.ingest.langid import make_detector; "
        "d = make_detector('default'); assert d.detect('la maison est belle') == 'fr'; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('wordfreq', 'langcodes')))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
