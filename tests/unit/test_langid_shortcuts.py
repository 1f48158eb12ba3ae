"""The default detector's shortcuts give what the long way gives.

Each fast path (the memory of tokens' word rows, the Latin test before the script census, the
character model's own scoring) is checked against the computation it replaces, on texts made
to find the edges: mixed scripts, Arabic digits in Latin text, compatibility characters that
only Arabic-script texts normalize, apostrophes, a memory emptied mid-text. Timing is
scripts/bench_langid_speed.py's job, not a test's.
"""

from __future__ import annotations

import re
import unicodedata

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from streamer.ingest.langid import default as default_module
from streamer.ingest.langid import script_routing as sr
from streamer.ingest.langid import tweet_text, word_model
from streamer.ingest.langid.default import DefaultDetector, build_default_detector
from streamer.ingest.langid.script_routing import text_script, text_scripts
from streamer.ingest.langid.scripts import HAN, JAPANESE, KANA, script_letter_counts
from streamer.ingest.langid.tweet_text import strip_noise, strip_symbols
from streamer.ingest.langid.word_model import lookup_words
from tests.conftest import SHARED_DATA

UDHR = SHARED_DATA / "udhr"
ABJAD = regex.compile(r"[\p{sc=Arabic}\p{sc=Hebrew}]")

EDGE_TEXTS = [
    "",
    "   ",
    "plain ascii words, don't stop",
    "Don\u2019t GROSS Straße İstanbul",
    "café ﬁne \uff46\uff55\uff4c\uff4c ² ½",  # compatibility characters: kept in Latin text
    "café ﬁne \uff46\uff55\uff4c\uff4c مدينة",  # ... and NFKC'd in a text with Arabic letters
    "score \u0663 to \u0661 ﬁnal",  # Arabic-Indic digits only: no letter, but Arabic script
    "الإنسانَ مـدينة l'homme",
    "שָׁלוֹם עולם hello",
    "Ελλάδα και Latin",
    "東京タワー and ソウル 北京",
    "ｶﾀｶﾅ ー ゝ",
    "🎉🔥 2024 !!!",
    "a\u0301 e\u0300 combining",
    "\u0301\u0300",
    "dell'uomo l'homme ''quoted'' o'",
    "ǅ ǈ ǋ titlecase",
    "Ünïcödé façade",
    "ab 한국어 c",
]


def udhr_lines(per_language: int = 8) -> list[str]:
    lines = []
    for path in sorted(UDHR.glob("*.txt")):
        text = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        lines += text[:per_language]
    assert len(lines) >= 30 * per_language, "the UDHR dev set is missing"
    return lines


@pytest.fixture(scope="module")
def detector() -> DefaultDetector:
    return build_default_detector(None)


def cleaned_texts() -> list[str]:
    return [strip_noise(text) for text in EDGE_TEXTS + udhr_lines()]


def test_words_of_several_tokens_are_each_tokens_words() -> None:
    tokens = ["Don\u2019t", "ﬁne", "مـدينة", "l'homme", "!!", "ab'cd'", "ĞÜŞ"]
    for abjad in (False, True):
        words = word_model._words_of_tokens(tokens, abjad)
        assert words == [word_model._folded_words(t, abjad) for t in tokens]
    full_width = "\uff46\uff55\uff4c\uff4c"
    assert word_model._words_of_tokens([full_width], True) == [["full"]]  # NFKC: abjad texts
    assert word_model._words_of_tokens([full_width], False) == [[full_width]]


def reference_script(text: str) -> tuple[str | None, bool]:
    """The script census the long way: script_letter_counts over the whole text."""
    counts = script_letter_counts(text)
    first = {}
    for script in counts:
        first[script] = min(i for i, ch in enumerate(text) if script_letter_counts(ch).get(script))
    if KANA in counts:
        kana, han = counts.pop(KANA), counts.pop(HAN, 0)
        counts[JAPANESE] = kana + han
        first[JAPANESE] = min(first.pop(KANA), first.pop(HAN, len(text)))
    abjad = ABJAD.search(text) is not None
    if not counts:
        return None, abjad
    return min(counts, key=lambda s: (-counts[s], first[s])), abjad


def test_script_census_matches_the_reference_on_mixed_texts() -> None:
    for text in EDGE_TEXTS + [strip_noise(line) for line in udhr_lines(2)]:
        assert text_scripts(text) == reference_script(text), text
        assert text_script(text) == reference_script(text)[0]


def test_script_census_matches_the_reference_for_every_character() -> None:
    # The Latin shortcut and the abjad flag are decided character by character, so checking
    # each code point of the Basic Multilingual Plane, alone and after a Latin word, covers
    # every way a character can change them.
    for code_point in range(0x10000):
        if 0xD800 <= code_point <= 0xDFFF:
            continue
        char = chr(code_point)
        counts = script_letter_counts(char)
        script = next(iter(counts), None)
        expected = JAPANESE if script == KANA else script
        abjad = ABJAD.match(char) is not None
        assert text_scripts(char) == (expected, abjad), hex(code_point)
        if script is None:
            assert text_scripts("word " + char) == ("Latin", abjad), hex(code_point)


def test_char_model_scores_as_py3langid_ranks(detector: DefaultDetector) -> None:
    assert detector._models is not None
    chars = detector._models.chars
    candidates = chars.languages[::-1]  # any order the caller asks for
    for text in [strip_symbols(t) for t in cleaned_texts()] + ["ALL CAPS TEXT HERE", ""]:
        by_language = chars.probabilities(text)
        expected = [by_language[code] for code in candidates]
        assert chars.probabilities_of(text, candidates).tolist() == expected, text


def test_answers_do_not_depend_on_what_was_remembered(detector: DefaultDetector) -> None:
    texts = EDGE_TEXTS + udhr_lines(3)
    first = [detector.decide(text) for text in texts]
    again = [detector.decide(text) for text in texts]
    detector.forget()
    fresh = [detector.decide(text) for text in reversed(texts)][::-1]
    assert first == again == fresh


@pytest.mark.parametrize("cache_size", [word_model.TOKEN_CACHE_SIZE, 5])
def test_packed_costs_are_the_summed_costs_of_the_rows(
    detector: DefaultDetector, monkeypatch: pytest.MonkeyPatch, cache_size: int
) -> None:
    assert detector._models is not None
    words = detector._models.words
    monkeypatch.setattr(word_model, "TOKEN_CACHE_SIZE", cache_size)
    words.forget_tokens()
    latin = ("en", "es", "pt", "fr", "tr", "de")
    for candidates in (latin, ("ar", "fa", "ur"), ("ru", "uk")):
        for text in [*cleaned_texts(), "xqzw zzqv", "word " * 300]:
            abjad = ABJAD.search(text) is not None
            rows = words.rows_of(lookup_words(text))
            for _ in range(2):  # tokens new, then remembered
                found = words.candidate_costs(text, abjad, candidates)
                if not rows:
                    assert found is None, text
                    continue
                expected = words.summed_costs(words.restricted(candidates), rows)
                assert found is not None and found.tolist() == expected.tolist(), text
    words.forget_tokens()


def test_the_fast_not_latin_test_agrees_with_the_regex_on_every_character() -> None:
    """`_has_not_latin` answers as `_NOT_LATIN.search` does: for each character alone (all of
    Unicode, in slices), and inside Latin text, before and after other characters."""
    for start in range(0, 0x110000, 0x1000):
        chars = [chr(cp) for cp in range(start, min(start + 0x1000, 0x110000))]
        expected = [sr._NOT_LATIN.search(c) is not None for c in chars]
        assert [sr._has_not_latin(c) for c in chars] == expected, hex(start)
    mixed = ["Café ☕ à Paris 😀", "naïve 😀 façade", "\U0001d401old text", "ok 😀 Привет"]
    mixed += ["", "😀😀"]
    for text in mixed:
        assert sr._has_not_latin(text) == (sr._NOT_LATIN.search(text) is not None), text


# Characters that make the one-script shortcut's edges: letters of scripts that decide alone
# and of shared ones, kana with Han (Japanese), an abjad digit and vowel mark, Latin letters,
# accents of no script, emoji and letters beyond the Basic Multilingual Plane (Han extension
# B, kana supplement, Latin extension G), spaces and punctuation.
SCRIPT_MIX = (
    "กัขค"  # Thai, with a vowel sign
    "한국"
    "ελ"
    "אבָ"  # Hebrew, with a point
    "مدَ٣"  # Arabic, a harakat mark, an Arabic-Indic digit
    "ка"
    "日本"
    "すカー"
    "abé́"
    "ʰ々"  # a modifier letter, the kanji repetition mark
    "😀🎉𠀀𛀀𝼀"
    " .,!"
)


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet=SCRIPT_MIX, max_size=12),
    st.sampled_from(["ก", "한", "ε", "א", "م", "к", "日", "す", "٣", "😀"]),
)
def test_one_script_texts_skip_the_census_with_its_answer(mix: str, lead: str) -> None:
    """A text of one script (of any script, however few its letters, with or without other
    characters) gets the census's answer, and so does any mixture."""
    for text in (lead * 3 + mix, mix + lead, lead + " " + lead, mix):
        assert text_scripts(text) == reference_script(text), text


def test_one_script_classes_hold_exactly_the_other_scripts_letters() -> None:
    """Each script's class (built from one pass over the plane) holds the BMP characters that
    the census, asked one character at a time, counts for another script."""
    census = [(chr(p), sr._census_script(p)) for p in range(0x10000) if not 0xD800 <= p <= 0xDFFF]
    for script in ("Thai", "Han", "Kana", "Arabic", "Hebrew", "Cyrillic", "Latin", "Other"):
        others = sr._other_scripts(script).match
        own = {sr.KANA, sr.HAN} if script in (sr.KANA, sr.HAN) else {script}
        if script in sr.ABJAD_SCRIPTS:
            own.add(sr._ABJAD_SIGN)
        counted_elsewhere = [name is not None and name not in own for _, name in census]
        found = [others(c) is not None for c, _ in census]
        wrong = [c for (c, _), a, b in zip(census, found, counted_elsewhere, strict=True) if a != b]
        assert not wrong, (script, [hex(ord(c)) for c in wrong[:5]])
    kana = sr._bmp_kana().match
    assert [c for c, name in census if kana(c)] == [c for c, name in census if name == sr.KANA]


def test_words_stage_costs_as_ints_are_the_array_costs(
    detector: DefaultDetector, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert detector._models is not None
    words = detector._models.words
    latin = ("en", "es", "pt", "fr", "tr", "de")
    for text in [*cleaned_texts(), "xqzw zzqv"]:
        abjad = ABJAD.search(text) is not None
        as_ints = words.candidate_cost_list(text.split(), abjad, latin)
        as_array = words.candidate_costs(text, abjad, latin)
        if as_array is None:
            assert as_ints is None, text
        else:
            assert as_ints is not None and as_ints == as_array.tolist(), text
            assert all(type(cost) is int for cost in as_ints), text
    # Lanes read back on any machine: the portable way gives the same ints.
    packed = sum((i * 37 + 1) << (32 * i) for i in range(1, 14)) + 5
    expected = [i * 37 + 1 for i in range(1, 14)]
    assert word_model._unpacked_lanes(packed, 13) == expected
    monkeypatch.setattr(word_model, "_LITTLE_ENDIAN", False)
    assert word_model._unpacked_lanes(packed, 13) == expected


def strip_noise_the_long_way(text: str) -> str:
    """strip_noise without its memory, entities spelled out: every token tested anew."""
    if "&" in text:
        text = re.sub(r"&(?:amp|lt|gt|quot|apos|nbsp|#\d+);", " ", text)
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    tokens = text.split()
    if tokens and tokens[0] == "RT":
        del tokens[0]
    kept = []
    for token in tokens:
        if tweet_text._is_noise(token):
            continue
        hashtag = token.startswith(("#", "\uff03"))
        kept.append(tweet_text._hashtag_words(token) if hashtag else token)
    return " ".join(kept)


NOISY_TOKENS = st.sampled_from(
    [
        *("RT", "word", "word,", "it's", "#", "##", "#HumanRights", "\uff03タグ", "@user"),
        *("a@b.org", "\uff20x", "https://t.co/x", "www.x", "WWW.y", "bit.ly/q", "end."),
        *("x.comet", "&amp;", "caf\u00e9", "cafe\u0301", "\u00bd", "2024", "\U0001f600"),
        *("e.g.", "a.b.co", "#a.com"),
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(NOISY_TOKENS, max_size=12), st.sampled_from([" ", "  ", "\n", "\u3000"]))
def test_remembered_forms_strip_as_the_long_way(tokens: list[str], space: str) -> None:
    text = space.join(tokens)
    expected = strip_noise_the_long_way(text)
    tweet_text.forget_kept_forms()
    assert strip_noise(text) == expected  # forms new
    assert strip_noise(text) == expected  # forms remembered
    pieces, single = tweet_text.kept_pieces(text)
    assert " ".join(pieces) == expected
    if single:  # the pieces can stand for the cleaned text's tokens
        assert pieces == expected.split()
    assert single or any(token.startswith(("#", "\uff03")) for token in tokens)


def test_kept_forms_memory_is_emptied_when_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tweet_text, "KEPT_FORMS_SIZE", 3)
    tweet_text.forget_kept_forms()
    text = "one, two, three, #Four five, six. @seven https://t.co/eight"
    for _ in range(3):
        assert strip_noise(text) == strip_noise_the_long_way(text)
        assert len(tweet_text._kept_forms) <= 3
    tweet_text.forget_kept_forms()


def test_combined_answers_remembered_are_the_answers_computed(
    detector: DefaultDetector, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = ["de la", "Everyo", "lol", "Toda", "No one", "jajaja", "de la", "Todo", "lol"]
    texts += [line[:12] for line in udhr_lines(2)]
    detector.forget()
    first = [detector.decide(text) for text in texts]
    assert sum(d.stage == "combined" for d in first) >= 6
    assert detector._combined_answers  # the combined ones were remembered
    assert [detector.decide(text) for text in texts] == first
    monkeypatch.setattr(default_module, "COMBINED_MEMORY_SIZE", 2)
    detector.forget()
    assert [detector.decide(text) for text in texts] == first
    assert len(detector._combined_answers) <= 2
    # What is remembered is what the character and word models give together.
    assert detector._models is not None
    for text, decision in zip(texts, first, strict=True):
        if decision.stage == "combined":
            cleaned = strip_noise(text)
            route = detector._router.route(cleaned)
            assert isinstance(route, tuple)
            costs = detector._models.words.candidate_cost_list(
                cleaned.split(), ABJAD.search(cleaned) is not None, route
            )
            letters = strip_symbols(cleaned)
            assert detector._combined(detector._models.chars, letters, route, costs) == decision
    detector.forget()
