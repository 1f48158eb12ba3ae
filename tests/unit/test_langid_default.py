"""Tests for the default language detector (streamer.ingest.langid.default) and the platform-label
switch (streamer.ingest.langid.platform).

Accuracy is checked on a sample of the UDHR development set in ../shared/data/udhr; the full
measurement, with speed and memory, is scripts/bench_langid.py. No test here is timed.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter

import pytest
import regex

from streamer.core.records import UNDETERMINED, Post
from streamer.ingest.langid import DETECTORS, make_detector
from streamer.ingest.langid.chooser import LanguageChooser
from streamer.ingest.langid.default import (
    CONFIDENCE_FLOOR,
    DefaultDetector,
    Models,
    build_default_detector,
)
from streamer.ingest.langid.platform import DETECTOR, PLATFORM, choose_language, normalize_label
from streamer.ingest.langid.script_routing import text_script
from streamer.ingest.langid.scripts import HAN, JAPANESE, LATIN
from streamer.ingest.langid.stopwords import DEFAULT_LANGUAGES
from streamer.ingest.langid.tweet_text import language_text, strip_noise
from streamer.ingest.langid.word_model import lookup_words
from streamer.ingest.parser import parse_payload
from streamer.sources.generator import generate
from tests.conftest import SHARED_DATA

UDHR = SHARED_DATA / "udhr"
# The twenty most common Twitter languages that the UDHR set has: the bench's headline set.
HEADLINE = DEFAULT_LANGUAGES[:20]

ENGLISH = "I think that it is the best thing we have done for the city in years"
FRENCH = "Je pense que c'est la meilleure chose que nous avons faite pour la ville"
SPANISH = "Creo que es lo mejor que hemos hecho por la ciudad en muchos años"
PORTUGUESE = "Acho que foi a melhor coisa que fizemos pela cidade em muitos anos"
GERMAN = "Ich glaube, das ist das Beste, was wir seit Jahren für die Stadt getan haben"
TURKISH = "Bence bu yıllardır şehir için yaptığımız en iyi şey"  # noqa: RUF001
RUSSIAN = "Я думаю, что это лучшее, что мы сделали для города за многие годы"
UKRAINIAN = "Я думаю, що це найкраще, що ми зробили для міста за багато років"
ARABIC = "أعتقد أن هذا أفضل شيء فعلناه للمدينة منذ سنوات"
PERSIAN = "فکر می‌کنم این بهترین کاری است که در این سال‌ها برای شهر کرده‌ایم"  # noqa: RUF001
URDU = "میرے خیال میں یہ سب سے اچھا کام ہے جو ہم نے برسوں میں شہر کے لیے کیا ہے"
SAMPLES = {
    "en": ENGLISH,
    "fr": FRENCH,
    "es": SPANISH,
    "pt": PORTUGUESE,
    "de": GERMAN,
    "tr": TURKISH,
    "ru": RUSSIAN,
    "uk": UKRAINIAN,
    "ar": ARABIC,
    "fa": PERSIAN,
    "ur": URDU,
}


@pytest.fixture(scope="module")
def detector() -> DefaultDetector:
    return build_default_detector(None)


# --- registry and configuration -----------------------------------------------------------


def test_default_is_registered_and_serves_the_default_languages(
    detector: DefaultDetector,
) -> None:
    assert "default" in DETECTORS and "stopwords" in DETECTORS
    assert detector.languages == DEFAULT_LANGUAGES
    assert build_default_detector([]).languages == DEFAULT_LANGUAGES  # empty means defaults


@pytest.mark.parametrize(("lang", "text"), sorted(SAMPLES.items()))
def test_sentences_in_shared_scripts(lang: str, text: str, detector: DefaultDetector) -> None:
    assert detector.detect(text) == lang


def test_unknown_language_code_raises_naming_it() -> None:
    with pytest.raises(ValueError, match="xx"):
        make_detector("default", ["en", "xx"])
    with pytest.raises(ValueError, match="klingon"):
        build_default_detector(["klingon"])


# --- scripts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("東京タワーに行きました", "ja"),  # Han and kana
        ("ありがとうございます", "ja"),  # kana only
        ("我们今天去北京看看长城", "zh"),  # Han without kana
        ("오늘 날씨가 정말 좋네요", "ko"),
        ("네", "ko"),  # one syllable is enough when the script is Korean's alone
        ("วันนี้อากาศดีมาก", "th"),
        ("Καλημέρα σε όλους τους φίλους", "el"),
        ("בוקר טוב לכל החברים", "he"),
        ("आज मौसम बहुत अच्छा है", "hi"),
        ("আজ আবহাওয়া খুব ভালো", "bn"),
        ("இன்று வானிலை மிகவும் நன்றாக உள்ளது", "ta"),
        ("I love it 사랑해요 정말 최고야 진짜로", "ko"),  # most letters are Hangul
    ],
)
def test_script_decides(text: str, expected: str, detector: DefaultDetector) -> None:
    decision = detector.decide(text)
    assert (decision.lang, decision.stage) == (expected, "script")


def test_scripts_outside_the_defaults_are_decided_once_configured(
    detector: DefaultDetector,
) -> None:
    georgian, armenian = "გამარჯობა მეგობრებო", "Բարև ձեզ ընկերներ"
    assert [detector.detect(t) for t in (georgian, armenian)] == [UNDETERMINED] * 2
    configured = build_default_detector(["en", "ka", "hy"])
    assert [configured.detect(t) for t in (georgian, armenian)] == ["ka", "hy"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain ascii words", LATIN),
        ("Ünïcödé façade", LATIN),
        ("東京タワー", JAPANESE),
        ("北京大学", HAN),
        ("한국", "Hangul"),
        ("ab 한국어 c", LATIN),  # three letters each: the script that comes first
        ("한국어 ab c", "Hangul"),
        ("🎉🔥 2024 !!!", None),
        ("", None),
    ],
)
def test_text_script_counts_letters_of_any_number(text: str, expected: str | None) -> None:
    assert text_script(text) == expected


def test_script_language_not_configured_is_undetermined() -> None:
    latin_only = build_default_detector(["en", "fr"])
    assert latin_only.detect("오늘 날씨가 정말 좋네요") == UNDETERMINED
    assert latin_only.detect(RUSSIAN) == UNDETERMINED


def test_han_is_japanese_when_chinese_is_not_configured() -> None:
    without_chinese = build_default_detector(["en", "ja"])
    assert without_chinese.detect("世界人権宣言") == "ja"
    assert build_default_detector(["en", "ja", "zh"]).detect("世界人権宣言") == "zh"


# --- stripping what is not language -------------------------------------------------------


def test_links_mentions_retweet_entities_emoji_and_numbers_are_stripped() -> None:
    text = (
        "RT @le_monde: Voir https://t.co/AbC &amp; www.lemonde.fr/la-vie pic.twitter.com/x9 "
        "bit.ly/abc a.b@example.org 2024 10:30 €50 😂❤️ 👏🏽 🇫🇷 #Paris"
    )
    assert language_text(text) == "Voir Paris"


def test_hashtags_keep_their_words_split_at_capitals() -> None:
    assert strip_noise("#HumanRights #derechos_humanos \uff03日本語") == (
        "Human Rights derechos_humanos 日本語"
    )
    assert language_text("#HumanRights #derechos_humanos") == "Human Rights derechos humanos"


def test_persian_zero_width_non_joiner_is_kept() -> None:
    assert "\u200c" in language_text("می\u200cآید 😂")


def test_french_looking_link_and_mention_leave_english_english(
    detector: DefaultDetector,
) -> None:
    text = (
        "RT @la_vie_et_les_gens_de_la_ville: this is what I was talking about "
        "https://www.lemonde.fr/les-gens-de-la-ville-et-des-champs-sont-la"
    )
    assert detector.detect(text) == "en"
    assert detector.detect("les gens de la ville et des champs sont là") == "fr"


def test_hashtag_words_count(detector: DefaultDetector) -> None:
    assert detector.detect("#DerechosHumanos #LibertadDeExpresión") == "es"
    assert detector.detect("#HumanRights #FreedomOfSpeech") == "en"


def test_decorated_tweet_is_detected_by_its_words(detector: DefaultDetector) -> None:
    tweet = "@amigo_123 @otra 😂😂 mañana vamos a la playa con mis hermanos 🏖️ 2024 https://t.co/x"
    assert detector.detect(tweet) == "es"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "🎉🔥😂",
        "12345 678",
        "!!! ???",
        "https://t.co/AbCdEf",
        "@someone @another",
        "RT @someone: https://t.co/x 😂 2024",
        "#2024 #100",
    ],
)
def test_nothing_left_is_undetermined(text: str, detector: DefaultDetector) -> None:
    decision = detector.decide(text)
    assert (decision.lang, decision.stage) == (UNDETERMINED, "empty")


def test_lookup_words_match_the_word_lists_forms() -> None:
    # Case-folded (ß becomes ss, as in wordfreq), typographic apostrophes made straight,
    # Arabic vowel marks and the tatweel dropped.
    assert lookup_words("Don\u2019t GROSS Straße") == ["don't", "gross", "strasse"]
    assert lookup_words("الإنسانَ مـدينة") == ["الإنسان", "مدينة"]


# --- restriction, ties and the confidence floor -------------------------------------------


def test_only_configured_languages_are_answered() -> None:
    restricted = build_default_detector(["en", "fr"])
    assert restricted.languages == ("en", "fr")
    assert restricted.detect(FRENCH) == "fr"
    assert restricted.detect(ENGLISH) == "en"
    answers = {restricted.detect(t) for t in (SPANISH, PORTUGUESE, GERMAN, TURKISH, ARABIC)}
    assert answers <= {"en", "fr", UNDETERMINED}


def test_one_configured_language_in_a_script_takes_all_of_it() -> None:
    russian_only = build_default_detector(["en", "ru"])
    assert russian_only.detect(UKRAINIAN) == "ru"
    both = build_default_detector(["en", "ru", "uk"])
    assert both.detect(UKRAINIAN) == "uk"


def test_ambiguous_fragments_go_to_the_character_model(detector: DefaultDetector) -> None:
    decision = detector.decide("de la")  # Spanish and French alike
    assert decision.stage == "combined"
    assert decision.lang in {"es", "fr", "pt", "it", "ca", UNDETERMINED}


def test_below_the_confidence_floor_is_undetermined(detector: DefaultDetector) -> None:
    # A made-up word: no list knows it, and its letters could be any Latin-script language.
    unsure = detector.decide("xqzv")
    assert unsure.stage == "combined" and unsure.confidence < CONFIDENCE_FLOOR
    assert unsure.lang == UNDETERMINED
    # Two words that only a few languages share are still an answer.
    fair = detector.decide("de la")
    assert fair.confidence >= CONFIDENCE_FLOOR and fair.lang != UNDETERMINED


def test_the_same_text_gets_the_same_answer(detector: DefaultDetector) -> None:
    texts = [*SAMPLES.values(), "de la", "o", "lol", "xqzv"]
    first = [detector.decide(t) for t in texts]
    assert all([detector.decide(t) for t in texts] == first for _ in range(5))
    rebuilt = build_default_detector(None)
    assert [rebuilt.decide(t) for t in texts] == first


# --- worker processes ---------------------------------------------------------------------


def detect_in_fresh_process(texts: list[str]) -> list[str]:
    detector = make_detector("default", None)
    return [detector.detect(text) for text in texts]


def test_make_detector_default_in_a_spawned_process(detector: DefaultDetector) -> None:
    texts = [*SAMPLES.values(), "東京タワーに行きました", "de la", "lol", "xqzv", "😂"]
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        answers = pool.apply(detect_in_fresh_process, (texts,))
    assert answers == [detector.detect(text) for text in texts]
    assert answers[: len(SAMPLES)] == list(SAMPLES)


def test_models_are_read_when_built_never_while_detecting(
    detector: DefaultDetector, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a model was loaded while detecting")

    import py3langid.langid
    import wordfreq

    monkeypatch.setattr(wordfreq, "read_cBpack", refuse)
    monkeypatch.setattr(py3langid.langid.LanguageIdentifier, "from_model_file", refuse)
    assert [detector.detect(t) for t in SAMPLES.values()] == list(SAMPLES)
    assert detector.decide("de la").stage == "combined"  # the character model, too
    with pytest.raises(AssertionError):
        Models.build(["en"])  # the patch is in force: building would have failed


def test_every_demo_post_is_detected_as_its_language(detector: DefaultDetector) -> None:
    # The end-to-end tests compare exact per-language counts of the demo stream.
    wrong: Counter[tuple[str, str, str]] = Counter()
    for line, truth in generate(2000, seed=7, geo_share=0.3):
        item = parse_payload(line)
        if isinstance(item, Post) and (got := detector.detect(item.text)) != truth.lang:
            wrong[(truth.lang, got, item.text[:60])] += 1
    assert not wrong, wrong.most_common(10)


# --- accuracy on a UDHR sample ------------------------------------------------------------

_SENTENCE_END = regex.compile(r"(?<=[.!?;:\u3002\uff01\uff1f\u0964\u061f\u06d4])\s*")
_WORD = regex.compile(r"[\p{L}\p{M}]+")


def udhr_sentences(lang: str) -> list[str]:
    lines = (UDHR / f"{lang}.txt").read_text(encoding="utf-8").splitlines()
    pieces = [p.strip() for line in lines for p in _SENTENCE_END.split(line)]
    return [p for p in pieces if len(p) >= 40]


def udhr_word_pairs(lang: str, count: int) -> list[str]:
    words = _WORD.findall((UDHR / f"{lang}.txt").read_text(encoding="utf-8"))
    return [f"{words[i]} {words[i + 1]}" for i in range(0, min(len(words) - 1, 2 * count), 2)]


@pytest.fixture(scope="module")
def headline_detector() -> DefaultDetector:
    return build_default_detector(HEADLINE)


def test_headline_languages_are_all_in_the_udhr_set() -> None:
    assert len(HEADLINE) == 20
    assert all((UDHR / f"{lang}.txt").exists() for lang in HEADLINE)


def test_udhr_sentences_are_nearly_all_right(headline_detector: DefaultDetector) -> None:
    accuracy = {}
    for lang in HEADLINE:
        sentences = udhr_sentences(lang)
        assert len(sentences) >= 30
        accuracy[lang] = sum(headline_detector.detect(s) == lang for s in sentences) / len(
            sentences
        )
    assert min(accuracy.values()) >= 0.95, accuracy
    assert sum(accuracy.values()) / len(accuracy) >= 0.99, accuracy


def test_udhr_two_word_fragments_are_mostly_right(headline_detector: DefaultDetector) -> None:
    spaced = [lang for lang in HEADLINE if lang not in ("ja", "th")]  # no spaces between words
    accuracy = {}
    for lang in spaced:
        pairs = udhr_word_pairs(lang, 300)
        accuracy[lang] = sum(headline_detector.detect(p) == lang for p in pairs) / len(pairs)
    assert min(accuracy.values()) >= 0.85, accuracy
    assert sum(accuracy.values()) / len(accuracy) >= 0.95, accuracy


# --- the platform's own label -------------------------------------------------------------

CONFIGURED = frozenset(DEFAULT_LANGUAGES)


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("en", "en"),
        ("EN", "en"),
        ("en-US", "en"),
        ("en_gb", "en"),
        (" pt-BR ", "pt"),
        ("zh-cn", "zh"),
        ("zh-TW", "zh"),
        ("iw", "he"),
        ("in", "id"),
        ("fil", "tl"),
        ("und", None),
        ("qme", None),
        ("qht", None),
        ("qam", None),
        ("qst", None),
        ("zxx", None),
        ("art", None),
        ("", None),
        (None, None),
    ],
)
def test_platform_labels_are_normalized(label: str | None, expected: str | None) -> None:
    assert normalize_label(label) == expected


@pytest.mark.parametrize(
    ("detected", "platform_lang", "trust", "expected"),
    [
        ("es", "en", True, ("en", PLATFORM)),
        ("es", "en-GB", True, ("en", PLATFORM)),
        ("und", "iw", True, ("he", PLATFORM)),
        ("es", "en", False, ("es", DETECTOR)),  # not trusted
        ("es", None, True, ("es", DETECTOR)),  # no label
        ("es", "und", True, ("es", DETECTOR)),  # a label for no language
        ("fr", "qme", True, ("fr", DETECTOR)),
        ("en", "sw", True, ("en", DETECTOR)),  # a language that is not configured
        ("en", "xx-YY", True, ("en", DETECTOR)),
    ],
)
def test_choose_language(
    detected: str, platform_lang: str | None, trust: bool, expected: tuple[str, str]
) -> None:
    assert choose_language(detected, platform_lang, CONFIGURED, trust) == expected


def test_choose_language_accepts_any_collection_of_languages() -> None:
    assert choose_language("und", "ja", ["en", "ja"], True) == ("ja", PLATFORM)
    assert choose_language("und", "ja", ("en",), True) == ("und", DETECTOR)
    assert choose_language("und", "ja", {}, True) == ("und", DETECTOR)


@pytest.mark.parametrize("trust", [True, False])
def test_the_chooser_detects_only_texts_whose_label_does_not_win(
    trust: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A trusted label that names a configured language decides without the detector (whose
    answer would be thrown away); every answer is choose_language's."""
    chooser = LanguageChooser("default", CONFIGURED, trust)
    asked: list[str] = []
    detect = chooser.detect

    def counted(text: str) -> str:
        asked.append(text)
        return detect(text)

    monkeypatch.setattr(chooser, "detect", counted)
    posts = [
        ("Bonjour à tous, il fait beau", "en"),
        ("Bonjour à tous, il fait beau", "en-GB"),
        ("Hola a todos", None),
        ("Hola a todos", "und"),
        ("Hello everyone", "sw"),
        ("Hello everyone", "xx-YY"),
    ]
    for text, label in posts:
        expected = choose_language(detect(text), label, CONFIGURED, trust)
        assert chooser(text, label) == expected
    winners = 2 if trust else 0  # the two "en" labels
    assert len(asked) == len(posts) - winners


def test_each_script_s_candidates_read_the_word_table_in_place(
    detector: DefaultDetector,
) -> None:
    """The cost table's columns are grouped by script, so every candidate tuple the router
    names is a run of adjacent columns: no packer copies the table."""
    assert detector._models is not None
    words = detector._models.words
    routes = {detector._router.route(text) for text in ("hello there", "привет", "سلام")}
    tuples = [route for route in routes if isinstance(route, tuple)]
    assert len(tuples) == 3
    for candidates in tuples:
        assert words.packs_in_place(candidates)
    assert not words.packs_in_place(("en", "ru", "es"))  # other scripts between: a copy


@pytest.mark.parametrize(
    "candidates", [("en", "es", "pt"), ("ru", "uk"), ("fr", "en"), ("en", "ru", "es")]
)
def test_packed_costs_are_the_restricted_tables_sums(
    candidates: tuple[str, ...], detector: DefaultDetector
) -> None:
    """In place or copied, the packed sums are those of the candidates' own columns."""
    assert detector._models is not None
    words = detector._models.words
    tokens = ["the", "house", "est", "la", "maison", "und", "das", "Haus", "это", "дом"]
    rows = words.rows_of(lookup_words(" ".join(tokens)))
    expected = words.summed_costs(words.restricted(candidates), rows).tolist()
    assert words.candidate_cost_list(tokens, False, candidates) == expected
    columns = [words.languages.index(code) for code in candidates]
    assert words.costs(rows)[columns].tolist() == expected
