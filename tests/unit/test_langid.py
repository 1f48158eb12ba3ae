"""Tests for streamer.ingest.langid: the seed's stopword detector, its script shortcuts and its
sources.

Accuracy is measured on the UDHR development set in ../shared/data/udhr, cut into tweet-sized
chunks; NLTK's stopword corpus comes from ../shared/data/nltk_data. The product never reads that
folder: only these tests point NLTK at it.
"""

from __future__ import annotations

import multiprocessing
import pickle
import sys
from collections import Counter
from pathlib import Path

import pytest
import regex

from streamer.core.records import UNDETERMINED
from streamer.ingest.langid import (
    DEFAULT_LANGUAGES,
    DETECTORS,
    KNOWN_LANGUAGES,
    StopwordDetector,
    make_detector,
)
from streamer.ingest.langid.scripts import HAN, JAPANESE, LATIN, dominant_script
from streamer.ingest.langid.stopwords import (
    MIN_HITS,
    NLTK,
    SCRIPT,
    STOPWORDS_ISO,
    build_stopword_detector,
    clean_text,
    words,
)
from tests.conftest import SHARED_DATA

NLTK_DATA = SHARED_DATA / "nltk_data"
UDHR = SHARED_DATA / "udhr"

# Tweet-sized: at most 280 characters; at least 100, or 30 where words are not spaced (a CJK
# sentence of 30 characters says as much as 100 Latin ones).
MAX_CHARS = 280
MIN_CHARS = 100
MIN_CHARS_UNSPACED = 30
UNSPACED = frozenset({"ja", "zh"})

# The floor every default language must reach on UDHR chunks, whichever source serves it.
ACCURACY_FLOOR = 0.8
# Known weakness of the seed's method: Ukrainian shares its commonest words with Russian (the
# prepositions for "in", "at", "on" and the negation), and only Russian's list has them, so most
# Ukrainian chunks score as Russian (about 0.42 with NLTK's Russian list, 0.27 with
# stopwords-iso's). The floor keeps it from getting worse.
WEAK_FLOORS = {"uk": 0.25}

ENGLISH = "I think that it is the best thing we have done for the city in years"
FRENCH = "Je pense que c'est la meilleure chose que nous avons faite pour la ville"
SPANISH = "Creo que es lo mejor que hemos hecho por la ciudad en muchos años"


def sentence_pieces(line: str) -> list[str]:
    return [p for p in regex.split("(?<=[.!?;:\u3002\uff01\uff1f\u0964\u061f])\\s*", line) if p]


def tweet_sized_chunks(text: str, min_chars: int) -> list[str]:
    """Each line cut at sentence ends, the pieces packed up to MAX_CHARS; headings are too short
    and are left out."""
    chunks: list[str] = []
    for raw_line in text.splitlines():
        line = " ".join(raw_line.split())
        if len(line) < min_chars:
            continue
        current = ""
        for piece in sentence_pieces(line):
            while len(piece) > MAX_CHARS:  # a sentence longer than a tweet: cut at a space
                cut = piece.rfind(" ", 0, MAX_CHARS)
                cut = cut if cut > min_chars else MAX_CHARS
                chunks.append(piece[:cut].strip())
                piece = piece[cut:].strip()
            if current and len(current) + 1 + len(piece) > MAX_CHARS:
                chunks.append(current)
                current = piece
            else:
                current = f"{current} {piece}".strip()
        chunks.append(current)
    return [chunk for chunk in chunks if len(chunk) >= min_chars]


def udhr_chunks(lang: str) -> list[str]:
    text = (UDHR / f"{lang}.txt").read_text(encoding="utf-8")
    return tweet_sized_chunks(text, MIN_CHARS_UNSPACED if lang in UNSPACED else MIN_CHARS)


@pytest.fixture(scope="module")
def detector() -> StopwordDetector:
    """The default detector as the daemon runs it with NLTK's corpus installed."""
    return build_stopword_detector(None, nltk_data=NLTK_DATA)


@pytest.fixture(scope="module")
def iso_detector() -> StopwordDetector:
    return build_stopword_detector(None, source=STOPWORDS_ISO)


# --- the registry and the language lists -------------------------------------------------


def test_registry_builds_the_stopword_detector() -> None:
    assert "stopwords" in DETECTORS
    built = make_detector("stopwords", ["en", "fr"])
    assert isinstance(built, StopwordDetector)
    assert built.detect(FRENCH) == "fr"


def test_unknown_detector_name_is_refused() -> None:
    with pytest.raises(ValueError, match="'fasttext'"):
        make_detector("fasttext", None)


def test_default_languages_are_known_ordered_and_all_served(detector: StopwordDetector) -> None:
    assert len(set(DEFAULT_LANGUAGES)) == len(DEFAULT_LANGUAGES) >= 25
    assert DEFAULT_LANGUAGES[:3] == ("en", "ja", "es")
    assert set(DEFAULT_LANGUAGES) <= KNOWN_LANGUAGES
    assert detector.languages == DEFAULT_LANGUAGES  # auto mode serves every default language
    # The configuration's empty list means "the defaults", as None does.
    assert build_stopword_detector([], nltk_data=NLTK_DATA).languages == DEFAULT_LANGUAGES
    assert all(len(code) == 2 and code.islower() for code in KNOWN_LANGUAGES)


def test_unknown_language_code_raises_naming_it() -> None:
    with pytest.raises(ValueError, match="xx"):
        make_detector("stopwords", ["en", "xx"])


def test_known_code_without_a_list_in_the_chosen_source_raises() -> None:
    # NLTK has no Ukrainian list; stopwords-iso does, but source="nltk" excludes it.
    with pytest.raises(ValueError, match="uk"):
        build_stopword_detector(["en", "uk"], source=NLTK, nltk_data=NLTK_DATA)


def test_unknown_source_raises() -> None:
    with pytest.raises(ValueError, match="wikipedia"):
        build_stopword_detector(["en"], source="wikipedia")


# --- accuracy on the UDHR development set ------------------------------------------------


def udhr_accuracy(detector: StopwordDetector) -> dict[str, tuple[float, int]]:
    table = {}
    for lang in detector.languages:
        chunks = udhr_chunks(lang)
        answers = Counter(detector.detect(chunk) for chunk in chunks)
        table[lang] = (answers[lang] / len(chunks), len(chunks))
    return table


@pytest.mark.parametrize("source", ["auto-with-nltk", STOPWORDS_ISO])
def test_udhr_accuracy_per_language(
    source: str, detector: StopwordDetector, iso_detector: StopwordDetector
) -> None:
    chosen = detector if source == "auto-with-nltk" else iso_detector
    assert set(chosen.languages) <= {path.stem for path in UDHR.glob("*.txt")}
    table = udhr_accuracy(chosen)
    print(f"\nUDHR accuracy, {source}:")
    for lang, (accuracy, n) in table.items():
        print(f"  {lang} {accuracy:.3f} ({n} chunks, {chosen.sources[lang]})")
    assert all(n >= 10 for _, n in table.values())
    below = {
        lang: accuracy
        for lang, (accuracy, _) in table.items()
        if accuracy < WEAK_FLOORS.get(lang, ACCURACY_FLOOR)
    }
    assert not below, f"below the floor: {below}"


def test_two_word_fragments_mostly_abstain_rather_than_guess(detector: StopwordDetector) -> None:
    # The reason for MIN_HITS: a fragment with one stopword is "und", not a coin toss.
    answers: Counter[str] = Counter()
    for lang in ("en", "es", "fr", "de", "it", "pt", "nl", "id", "tr"):
        tokens = (UDHR / f"{lang}.txt").read_text(encoding="utf-8").split()
        for i in range(0, len(tokens) - 1, 2):
            got = detector.detect(f"{tokens[i]} {tokens[i + 1]}")
            answers["und" if got == UNDETERMINED else "right" if got == lang else "wrong"] += 1
    assert answers["und"] > answers["right"] + answers["wrong"]
    assert answers["wrong"] <= 0.1 * (answers["right"] + answers["wrong"])


# --- script shortcuts ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("東京タワーに行きました", "ja"),  # Han and kana
        ("ありがとうございます", "ja"),  # kana only
        ("我们今天去北京看看长城", "zh"),  # Han without kana
        ("오늘 날씨가 정말 좋네요", "ko"),
        ("วันนี้อากาศดีมาก", "th"),
        ("Καλημέρα σε όλους τους φίλους", "el"),
        ("בוקר טוב לכל החברים", "he"),
        ("आज मौसम बहुत अच्छा है", "hi"),
        ("আজ আবহাওয়া খুব ভালো", "bn"),
        ("இன்று வானிலை மிகவும் நன்றாக உள்ளது", "ta"),
    ],
)
def test_script_decides(text: str, expected: str, detector: StopwordDetector) -> None:
    assert detector.detect(text) == expected


def test_script_languages_outside_the_defaults_need_configuring() -> None:
    georgian, armenian, amharic = "გამარჯობა მეგობრებო", "Բարև ձեզ ընկերներ", "ሰላም ለሁላችሁ"
    default = build_stopword_detector(None, source=STOPWORDS_ISO)
    assert [default.detect(t) for t in (georgian, armenian, amharic)] == [UNDETERMINED] * 3
    configured = build_stopword_detector(["en", "ka", "hy", "am"], source=STOPWORDS_ISO)
    assert [configured.detect(t) for t in (georgian, armenian, amharic)] == ["ka", "hy", "am"]


def test_script_code_not_configured_is_undetermined() -> None:
    only_latin = build_stopword_detector(["en", "fr"], source=STOPWORDS_ISO)
    assert only_latin.detect("오늘 날씨가 정말 좋네요") == UNDETERMINED
    assert only_latin.detect("東京タワーに行きました") == UNDETERMINED


def test_without_the_script_language_the_lists_in_that_script_compete() -> None:
    nepali = "म नेपालमा बस्छु र यो मेरो घर हो"
    with_hindi = build_stopword_detector(["hi", "ne"], nltk_data=NLTK_DATA)
    without_hindi = build_stopword_detector(["en", "ne"], nltk_data=NLTK_DATA)
    assert with_hindi.detect(nepali) == "hi"  # Devanagari means Hindi, as in the seed
    assert without_hindi.detect(nepali) == "ne"


def test_a_few_foreign_letters_do_not_decide(detector: StopwordDetector) -> None:
    # Hangul is a minority of the letters: the English words decide.
    assert detector.detect("I love this song so much 사랑해") == "en"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain ascii words", LATIN),
        ("Ünïcödé façade", LATIN),
        ("東京タワー", JAPANESE),
        ("北京大学", HAN),
        ("한국", None),  # two letters are too few to call
        ("ab 한국어 c", None),  # no script holds more than half of the letters
        ("🎉🔥 2024 !!!", None),
    ],
)
def test_dominant_script(text: str, expected: str | None) -> None:
    assert dominant_script(text) == expected


def test_cyrillic_text_is_scored_only_for_cyrillic_languages(detector: StopwordDetector) -> None:
    # Three English stopwords, but the post is Cyrillic: English is not a candidate.
    assert detector.detect("the and of Здравствуйте дорогие друзья коллеги") == UNDETERMINED
    assert detector.detect("Я не знаю, что это такое и зачем оно нужно") == "ru"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("هذا هو الكتاب الذي كنت أبحث عنه في المكتبة", "ar"),
        ("این کتابی است که من از آن خیلی خوشم می‌آید", "fa"),
        ("یہ وہ کتاب ہے جو میں نے کل پڑھی تھی", "ur"),
    ],
)
def test_arabic_script_languages_by_stopwords(
    text: str, expected: str, detector: StopwordDetector
) -> None:
    assert detector.detect(text) == expected


# --- the seed's rule: more than one hit, deterministic ties -----------------------------


@pytest.mark.parametrize(
    "text", ["", "   ", "🎉🔥😂", "12345 678", "!!! ???", "the", "the weather"]
)
def test_nothing_or_one_stopword_is_undetermined(text: str, detector: StopwordDetector) -> None:
    assert detector.detect(text) == UNDETERMINED


def test_more_than_one_hit_is_needed() -> None:
    english = build_stopword_detector(["en"], nltk_data=NLTK_DATA)
    assert MIN_HITS == 2
    assert english.hits(clean_text("the weather")) == [1]
    assert english.detect("the weather") == UNDETERMINED
    assert english.hits(clean_text("the weather is")) == [2]
    assert english.detect("the weather is") == "en"


def test_ties_go_to_the_language_configured_first() -> None:
    text = "de que"  # both words are Spanish and Portuguese stopwords
    spanish_first = build_stopword_detector(["es", "pt"], nltk_data=NLTK_DATA)
    portuguese_first = build_stopword_detector(["pt", "es"], nltk_data=NLTK_DATA)
    assert spanish_first.hits(clean_text(text)) == [2, 2]
    assert spanish_first.detect(text) == "es"
    assert portuguese_first.detect(text) == "pt"
    # The same text answers the same way every time.
    assert {spanish_first.detect(text) for _ in range(20)} == {"es"}


def test_restricted_languages_only_answer_among_them() -> None:
    restricted = build_stopword_detector(["en", "fr"], nltk_data=NLTK_DATA)
    assert restricted.languages == ("en", "fr")
    assert restricted.detect(FRENCH) == "fr"
    assert restricted.detect(ENGLISH) == "en"
    assert restricted.detect(SPANISH) in {"en", "fr", UNDETERMINED}
    assert restricted.detect("ありがとうございます") == UNDETERMINED


# --- cleaning and tokenizing --------------------------------------------------------------


def test_urls_mentions_entities_and_rt_are_removed() -> None:
    cleaned = clean_text("RT @le_monde: Voir https://t.co/AbC &amp; www.lemonde.fr/la-vie #Paris")
    assert words(cleaned) == ["voir", "paris"]


def test_french_looking_url_and_mention_leave_english_english(detector: StopwordDetector) -> None:
    text = (
        "RT @la_vie_et_les_gens_de_la_ville: this is what I was talking about "
        "https://www.lemonde.fr/les-gens-de-la-ville-et-des-champs-sont-la"
    )
    assert detector.detect(text) == "en"
    # Without the link and the mention the words alone are English, with them French would win.
    assert detector.detect("les gens de la ville et des champs sont la this is") == "fr"


def test_hashtags_keep_their_word(detector: StopwordDetector) -> None:
    assert words(clean_text("#the #and 2024")) == ["the", "and"]
    assert detector.detect("#the cat #and") == "en"


def test_apostrophes() -> None:
    # "don't" is looked up whole (NLTK's English list has it); an unknown elided form is
    # looked up by its parts, so French l'homme scores "l".
    assert words(clean_text("Don\u2019t l'homme")) == ["don't", "l'homme"]
    english_french = build_stopword_detector(["en", "fr"], nltk_data=NLTK_DATA)
    assert english_french.hits(clean_text("don't")) == [1, 0]
    assert english_french.hits(clean_text("l'homme qu'il")) == [0, 3]
    assert english_french.detect("l'homme qu'il aime") == "fr"


def test_contraction_pieces_do_not_make_turkish_english() -> None:
    # NLTK's English list carries "ve" (from "you've"); in Turkish it means "and".
    detector = build_stopword_detector(["en", "tr"], nltk_data=NLTK_DATA)
    assert detector.hits(clean_text("kitap ve kalem ve defter")) == [0, 2]
    assert detector.detect("kitap ve kalem ve defter") == "tr"


# --- stopword sources ---------------------------------------------------------------------


def test_auto_takes_nltk_lists_and_fills_the_gaps(detector: StopwordDetector) -> None:
    assert detector.sources["en"] == NLTK
    assert detector.sources["fa"] == STOPWORDS_ISO  # NLTK has no Persian list
    assert detector.sources["ja"] == SCRIPT


def test_auto_without_the_nltk_corpus_uses_stopwords_iso(tmp_path: Path) -> None:
    fallback = build_stopword_detector(None, nltk_data=tmp_path)  # an empty data directory
    assert fallback.languages == DEFAULT_LANGUAGES
    assert set(fallback.sources.values()) == {STOPWORDS_ISO, SCRIPT}
    assert fallback.detect(ENGLISH) == "en"


def test_nltk_source_requires_the_corpus(tmp_path: Path) -> None:
    with pytest.raises(LookupError):
        build_stopword_detector(["en"], source=NLTK, nltk_data=tmp_path)


def test_nltk_source_with_defaults_leaves_out_what_nltk_lacks() -> None:
    nltk_only = build_stopword_detector(None, source=NLTK, nltk_data=NLTK_DATA)
    assert "fa" not in nltk_only.languages and "en" in nltk_only.languages
    assert set(nltk_only.sources.values()) == {NLTK, SCRIPT}


def test_stopwords_iso_works_without_nltk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "nltk", None)  # any "import nltk" now fails
    iso = build_stopword_detector(None, source=STOPWORDS_ISO)
    assert set(iso.sources.values()) == {STOPWORDS_ISO, SCRIPT}
    assert [iso.detect(t) for t in (ENGLISH, FRENCH, SPANISH)] == ["en", "fr", "es"]
    auto = build_stopword_detector(None)  # auto falls back when NLTK cannot be imported
    assert auto.sources["en"] == STOPWORDS_ISO


# --- use in worker processes --------------------------------------------------------------


def test_detector_pickles(detector: StopwordDetector) -> None:
    copy = pickle.loads(pickle.dumps(detector))
    texts = [ENGLISH, FRENCH, SPANISH, "東京タワーに行きました", "the"]
    assert [copy.detect(t) for t in texts] == [detector.detect(t) for t in texts]


def detect_in_fresh_process(texts: list[str]) -> tuple[list[str], str]:
    built = make_detector("stopwords", None)
    assert isinstance(built, StopwordDetector)
    return [built.detect(t) for t in texts], built.sources["en"]


def test_make_detector_in_a_spawned_process(monkeypatch: pytest.MonkeyPatch) -> None:
    # A spawned process imports everything afresh; NLTK_DATA is its only way to the corpus.
    monkeypatch.setenv("NLTK_DATA", str(NLTK_DATA))
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        answers, english_source = pool.apply(detect_in_fresh_process, ([ENGLISH, FRENCH],))
    assert answers == ["en", "fr"]
    assert english_source == NLTK
