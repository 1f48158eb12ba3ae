"""A fixed word -> row table in a fifth of a dict's memory, for the word model's vocabulary.

The word lists hold some 550,000 distinct words. As a dict of str to int they take about
75 MB in every process that detects (each str, each int and each slot is an object or a
pointer); here they take about 14 MB: the words' UTF-8 bytes joined in one bytes object with
their offsets, and their hashes sorted in an array beside the rows they belong to.

A lookup hashes the word, finds the hash by bisection (C code over a flat array) and compares
the word's bytes with the stored ones, so a word that is not in the table is never taken for
one that is, even if their hashes collide. It costs about a microsecond, where a dict costs a
tenth of that: the word model asks only for tokens it has not met before (see
WordModel.candidate_costs), under one a post on a stream.

`hash()` of a str differs between processes, so the sorted hashes are made in the process that
uses them; a pickled table carries its words and sorts again when it is loaded.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Collection, Iterable
from typing import Any

import numpy as np


class Vocabulary:
    """Words to their rows (the order they are given in), read-only."""

    def __init__(self, words: Iterable[str]) -> None:
        words = words if isinstance(words, Collection) else list(words)
        encoded = [word.encode("utf-8", "surrogatepass") for word in words]
        self._blob = b"".join(encoded)
        ends = np.cumsum(np.fromiter(map(len, encoded), np.int64, len(encoded)))
        self._starts = array("q", [0])  # row i's bytes: blob[starts[i]:starts[i + 1]]
        self._starts.frombytes(ends.tobytes())
        del encoded
        hashes = np.fromiter(map(hash, words), np.int64, len(self))
        order = np.argsort(hashes, kind="stable")
        self._hashes = array("q", hashes[order].tobytes())
        self._rows = array("q", order.astype(np.int64).tobytes())

    def __len__(self) -> int:
        return len(self._starts) - 1

    def words(self) -> Iterable[str]:
        """The words in row order."""
        blob, starts = self._blob, self._starts
        return (
            blob[starts[i] : starts[i + 1]].decode("utf-8", "surrogatepass")
            for i in range(len(self))
        )

    def word(self, row: int) -> str:
        """The word of a row (IndexError past the end)."""
        if not 0 <= row < len(self):
            raise IndexError(row)
        return self._blob[self._starts[row] : self._starts[row + 1]].decode(
            "utf-8", "surrogatepass"
        )

    def get(self, word: str) -> int | None:
        """The word's row, or None if the table does not have it."""
        key = hash(word)
        hashes = self._hashes
        i = bisect_left(hashes, key)
        if i == len(hashes) or hashes[i] != key:
            return None
        encoded = word.encode("utf-8", "surrogatepass")
        starts, blob = self._starts, self._blob
        while i < len(hashes) and hashes[i] == key:
            row = self._rows[i]
            if blob[starts[row] : starts[row + 1]] == encoded:
                return row
            i += 1
        return None

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self.get(word) is not None

    def __reduce__(self) -> tuple[Any, ...]:
        return (Vocabulary, (list(self.words()),))
