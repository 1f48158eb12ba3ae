"""The slower model: py3langid's naive Bayes over byte n-grams, restricted to our languages.

It sees spelling, not just whole words, so it still has evidence where the word lists have
none (names, slang, inflected or misspelled words), and it is the second opinion for texts the
word model is unsure of. py3langid ships its model in the wheel and loads it from there.
"""

from __future__ import annotations

from collections.abc import Sequence

from py3langid.langid import MODEL_FILE, LanguageIdentifier


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

    def probabilities(self, text: str) -> dict[str, float]:
        """Each language's probability for the text (summing to 1 over self.languages)."""
        return dict(self._identifier.rank(text))
