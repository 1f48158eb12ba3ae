"""The default detector: tweet-aware, script first, a fast word model, a second opinion if unsure.

1. Strip what is not language (links, mentions, "RT @x:", "#"; emoji and numbers are never
   read as letters): tweet_text (strip_noise; the detector takes its pieces, not to split
   them again).
2. A script of its own decides at once (Hangul, kana, Thai, ...); a shared script narrows the
   candidates to the configured languages written in it: script_routing.
3. The word model (wordfreq's lists) scores the candidates; a clear winner is the answer. On
   tweet-like texts nearly every post ends here.
4. Otherwise (few or ambiguous words: "de la", a name, slang) the character model (py3langid)
   is asked too, and the two opinions are multiplied: evidence. Those answers are remembered
   by cleaned text (COMBINED_MEMORY_SIZE), as the word model remembers tokens.
5. Below CONFIDENCE_FLOOR the answer is UNDETERMINED.

Both models are built once, with the detector (once per worker process), from data their PyPI
packages ship; nothing is downloaded. Every step is arithmetic on fixed tables, so the same
text always gets the same answer, in any process.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from streamer.core.records import UNDETERMINED
from streamer.ingest.langid.char_model import CharModel
from streamer.ingest.langid.evidence import combine, normalized, softmax
from streamer.ingest.langid.script_routing import ScriptRouter, text_scripts
from streamer.ingest.langid.scripts import SCRIPT_LANGUAGE, script_of_words
from streamer.ingest.langid.stopwords import DEFAULT_LANGUAGES
from streamer.ingest.langid.tweet_text import forget_kept_forms, kept_pieces, strip_symbols
from streamer.ingest.langid.word_model import NATS_PER_COST, WordModel, has_word_list

# The word model alone answers when its best candidate's cost is lower than the runner-up's
# by this many units (67 * NATS_PER_COST nats: about 100 times likelier). Below that the
# character model is asked too. Measured on the UDHR development set, anything from 34 to 134
# gives the same accuracy within 0.02 points; higher only asks the slower model more often.
CLEAR_LEAD = 67
# Below this combined probability the best candidate is no answer: UNDETERMINED.
CONFIDENCE_FLOOR = 0.3

# The combined stage's answers remembered, by cleaned text: the posts that reach it are short
# or slangy ("lol", "de la", a name), and the same ones come back, each costing some 30 numpy
# calls on tiny vectors. Emptied when full; a few MB at most.
COMBINED_MEMORY_SIZE = 4096

# Languages that a script of their own decides: they need no model.
SCRIPT_DECIDED: frozenset[str] = frozenset(SCRIPT_LANGUAGE.values())


class Decision(NamedTuple):
    """An answer with how it was reached (for the benchmark and for tuning)."""

    lang: str
    confidence: float  # the combined probability; 1.0 where a script or a clear lead decided
    stage: str  # "empty" (nothing to go on), "script", "words" or "combined"


_NOTHING_TO_GO_ON = Decision(UNDETERMINED, 0.0, "empty")


class Models(NamedTuple):
    """The statistical models, over the configured languages that no script decides."""

    words: WordModel
    chars: CharModel

    @classmethod
    def build(cls, languages: Sequence[str]) -> Models:
        return cls(WordModel(languages), CharModel(languages))


class DefaultDetector:
    """Script shortcut, word model, character model when unsure, among configured languages."""

    def __init__(self, languages: Sequence[str], models: Models | None) -> None:
        """languages: the configured codes, in tie-breaking order; models: over those of them
        that no script decides (None if there are none)."""
        self.languages = tuple(dict.fromkeys(languages))
        self._models = models
        # Each modelled language's script, read off its commonest words (Urdu: Arabic).
        model_scripts: dict[str, str] = {}
        if models is not None:
            for code in models.words.languages:
                model_scripts[code] = script_of_words(models.words.top_words(code)) or ""
        self._router = ScriptRouter(self.languages, model_scripts)
        # The certain answers, built once: most posts get one of them.
        self._by_script = {code: Decision(code, 1.0, "script") for code in self.languages}
        self._by_words = {code: Decision(code, 1.0, "words") for code in self.languages}
        # route_script's answers, by script (a few dozen at most): a dict hit per post.
        self._routes: dict[str | None, str | tuple[str, ...]] = {}
        self._combined_answers: dict[str, Decision] = {}

    def detect(self, text: str) -> str:
        return self.decide(text).lang

    def decide(self, text: str) -> Decision:
        pieces, single = kept_pieces(text)
        cleaned = " ".join(pieces)
        script, abjad = text_scripts(cleaned)
        route = self._routes.get(script)
        if route is None:
            route = self._routes[script] = self._router.route_script(script)
        if isinstance(route, str):
            return self._by_script[route]
        if not route or self._models is None:
            return _NOTHING_TO_GO_ON
        tokens = pieces if single else cleaned.split()
        word_costs = self._models.words.candidate_cost_list(tokens, abjad, route)
        if word_costs is not None:
            # evidence.leader written out (most posts end here): the lowest cost, the first of
            # equals, and its lead over the next lowest; a lone candidate always leads.
            ranked = sorted(word_costs)
            if len(ranked) == 1 or ranked[1] - ranked[0] >= CLEAR_LEAD:
                return self._by_words[route[word_costs.index(ranked[0])]]
        # Everything above is a function of the cleaned text: so is the combined answer.
        decision = self._combined_answers.get(cleaned)
        if decision is None:
            letters = strip_symbols(cleaned)
            decision = self._combined(self._models.chars, letters, route, word_costs)
            if len(self._combined_answers) >= COMBINED_MEMORY_SIZE:
                self._combined_answers.clear()
            self._combined_answers[cleaned] = decision
        return decision

    def _combined(
        self,
        chars: CharModel,
        letters: str,
        candidates: tuple[str, ...],
        word_costs: list[int] | None,
    ) -> Decision:
        opinions = [normalized(chars.probabilities_of(letters, candidates))]
        if word_costs is not None:
            opinions.append(softmax(-NATS_PER_COST * np.array(word_costs, dtype=np.float64)))
        combined = combine(*opinions)
        best = int(np.argmax(combined))  # the first of equals: configured order breaks ties
        confidence = float(combined[best])
        lang = candidates[best] if confidence >= CONFIDENCE_FLOOR else UNDETERMINED
        return Decision(lang, confidence, "combined")

    def forget(self) -> None:
        """Forget what was learnt from texts seen (the memories of tokens and of combined
        answers), as a new process would start: for measuring, never needed for the answers."""
        forget_kept_forms()
        self._combined_answers.clear()
        if self._models is not None:
            self._models.words.forget_tokens()

    def __repr__(self) -> str:
        return f"DefaultDetector(languages={self.languages!r})"


def supported(code: str) -> bool:
    """Whether the default detector can be configured with a code. Cheap: the character
    model's own list is only checked when the model is built."""
    return code in SCRIPT_DECIDED or has_word_list(code)


def build_default_detector(languages: Sequence[str] | None = None) -> DefaultDetector:
    """The detector for the given codes (None or empty: DEFAULT_LANGUAGES), in tie-breaking
    order; ValueError names any code it cannot detect."""
    wanted = list(dict.fromkeys(languages or DEFAULT_LANGUAGES))
    unknown = [code for code in wanted if not supported(code)]
    if unknown:
        raise ValueError(f"unknown language code(s): {', '.join(unknown)}")
    modelled = [code for code in wanted if code not in SCRIPT_DECIDED]
    return DefaultDetector(wanted, Models.build(modelled) if modelled else None)
