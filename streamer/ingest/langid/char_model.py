"""The slower model: py3langid's naive Bayes over byte n-grams, restricted to our languages.

It sees spelling, not just whole words, so it still has evidence where the word lists have
none (names, slang, inflected or misspelled words), and it is the second opinion for texts the
word model is unsure of. py3langid ships its model in the wheel and loads it from there.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from py3langid.langid import MODEL_FILE, LanguageIdentifier, visit_counts


def _full_identifier() -> LanguageIdentifier:
    # norm_probs: scores become probabilities, tempered by the text's length (py3langid divides
    # the log-scores by the square root of the byte count), so they can be combined.
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


class CharModel:
    """Probabilities of a fixed list of languages for a text."""

    def __init__(self, languages: Sequence[str]) -> None:
        self.languages = tuple(languages)
        full = _full_identifier()
        missing = [code for code in self.languages if code not in full.labels]
        if missing:
            raise ValueError(f"no character model for language(s): {', '.join(missing)}")
        full.set_languages(self.languages)
        # A fresh identifier over the restricted tables only: the full model's per-language
        # table (all ~140 languages) would otherwise stay referenced for the process's life.
        self._identifier = LanguageIdentifier(
            full.nb_ptc,
            full.nb_pc,
            full.nb_classes,
            full.tk_nextmove,
            full.tk_output,
            norm_probs=True,
            tk_row=full.tk_row,
        )
        # probabilities_of scores as py3langid's rank() does, without its per-call overheads:
        # only the rows of the text's n-grams are widened from the file's float16 (numpy
        # multiplies float16 several times slower; the widened values are exact, so the sums
        # are those of a float32 table, which would cost twice the memory in every worker),
        # and the answer is a vector in the caller's order instead of a sorted list of pairs.
        ident = self._identifier
        self._fast = not ident._alias_pairs  # py3langid merges aliased labels; we have none
        self._weights = np.asarray(ident.nb_ptc)  # float16, shared with the identifier
        self._priors = np.asarray(ident.nb_pc, dtype=np.float32)
        self._scanner = (ident.tk_nextmove, ident._rowbase, ident.tk_output)
        self._column = {code: i for i, code in enumerate(ident.nb_classes)}
        self._columns: dict[tuple[str, ...], npt.NDArray[np.intp]] = {}

    def probabilities(self, text: str) -> dict[str, float]:
        """Each language's probability for the text (summing to 1 over self.languages)."""
        return dict(self._identifier.rank(text))

    def probabilities_of(self, text: str, candidates: Sequence[str]) -> npt.NDArray[np.float64]:
        """[probabilities(text)[code] for code in candidates], as a vector."""
        if not self._fast:
            by_language = self.probabilities(text)
            return np.array([by_language[code] for code in candidates], dtype=np.float64)
        key = tuple(candidates)
        columns = self._columns.get(key)
        if columns is None:
            columns = self._columns[key] = np.array([self._column[c] for c in key], np.intp)
        return self._scores(text)[columns].astype(np.float64)

    def _scores(self, text: str) -> npt.NDArray[np.float32]:
        # py3langid's _encode, _raw_score and _decide with norm_probs, step by step.
        if text.isupper():
            text = text.lower()
        data = unicodedata.normalize("NFC", text).encode("utf8", errors="surrogatepass")
        visits = visit_counts(*self._scanner, data)
        if visits:
            features = np.fromiter(visits.keys(), dtype=np.intp, count=len(visits))
            counts = np.fromiter(visits.values(), dtype=np.float32, count=len(visits))
            weights = self._weights[features].astype(np.float32)
            scores = np.log1p(counts) @ weights + self._priors
        else:
            scores = np.zeros(len(self._priors), dtype=np.float32)
        scores *= 1.0 / math.sqrt(len(data) or 1)
        np.exp(scores - scores.max(), out=scores)
        scores /= scores.sum()
        return scores
