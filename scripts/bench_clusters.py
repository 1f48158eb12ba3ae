"""Benchmark the bio clustering refit: wall time, peak memory and quality on synthetic users.

    .venv/bin/python scripts/bench_clusters.py [--users 100000] [--seed 1] [--filler-words N]
                                               [--out DIR] [--languages]

The demo generator only has 150 users per language, so the users here are composed from the same
corpus pieces (streamer.sources.demo_corpus) with a seeded composition of our own: two phrases of
a topic, a line in the user's language, and sometimes a link, emoji, a stretched word, a mention
or a sentence in the language; a few bios are empty. Each user's topic is known, so the
clusters' purity can be measured. `synthetic_users` is shared with tests/test_clustering.py.

The fit runs in a spawned worker process, as in the daemon; its peak memory is that worker's
maximum resident set (getrusage, its own and its children's), and the result crosses back pickled.
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import random
import resource
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import NamedTuple

from analysis.cluster_report import write_cluster_report
from analysis.clustering import ClusterResult, ClusterSettings, SkipReason, fit_clusters
from streamer.sources.demo_corpus import BIO_TOPICS, CORPUS

_LANGS = tuple(CORPUS)
_LANG_WEIGHTS = tuple(CORPUS[lang].share for lang in _LANGS)
_TOPICS = tuple(BIO_TOPICS)
_SEPARATORS = (" | ", " · ", ", ", " / ", " • ", ". ")
_EMOJI = ("🎸", "⚽", "💻", "🍕", "📰", "🎨", "🎮", "❤️", "✨", "🔥", "🌍")
_STRETCHY = ("so", "love", "yes", "cool", "hey")

EMPTY_SHARE = 0.03
URL_SHARE = 0.3
EMOJI_SHARE = 0.2
STRETCH_SHARE = 0.1
MENTION_SHARE = 0.1
SENTENCE_SHARE = 0.15


class SyntheticUser(NamedTuple):
    user_id: str
    bio: str
    topic: str | None  # None when the bio says nothing (empty, or only a link or emoji)
    lang: str


def synthetic_users(count: int, seed: int = 1, filler_words: int = 0) -> list[SyntheticUser]:
    """`count` users with bios about one topic each; the same seed gives the same users.

    filler_words > 0 adds up to that many made-up words per bio, drawn with a Zipf-like skew from
    a large lexicon: a vocabulary as wide as real bios have, to time the refit against.
    """
    rng = random.Random(seed)
    # A generator of its own: the same seed gives the same base bios with or without filler.
    filler = _Filler(random.Random(f"{seed}:filler")) if filler_words else None
    users = []
    for n in range(count):
        user = _user(rng, f"{seed}-{n}")
        if filler is not None and user.topic is not None:
            extra = filler.words(filler.rng.randint(0, filler_words))
            user = user._replace(bio=" ".join([user.bio, *extra]))
        users.append(user)
    return users


class _Filler:
    """Made-up words ("kavo", "rimesu", ...) with a Zipf-like frequency by rank."""

    SIZE = 100_000
    _SYLLABLES = tuple(c + v for c in "bdfgklmnprstvz" for v in "aeiou")

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.lexicon = [self._word(rank) for rank in range(self.SIZE)]
        weights = [1.0 / (rank + 1) for rank in range(self.SIZE)]
        self.cumulative = list(itertools.accumulate(weights))

    def words(self, count: int) -> list[str]:
        return self.rng.choices(self.lexicon, cum_weights=self.cumulative, k=count)

    def _word(self, rank: int) -> str:
        syllables = []
        rank += len(self._SYLLABLES)  # at least two syllables: one could be a real word
        while rank:
            rank, digit = divmod(rank, len(self._SYLLABLES))
            syllables.append(self._SYLLABLES[digit])
        return "".join(syllables)


def _user(rng: random.Random, user_id: str) -> SyntheticUser:
    lang = rng.choices(_LANGS, _LANG_WEIGHTS)[0]
    if rng.random() < EMPTY_SHARE:
        bio = rng.choice(("", "   ", "https://t.co/" + _token(rng), rng.choice(_EMOJI), "..."))
        return SyntheticUser(user_id, bio, None, lang)
    topic = rng.choice(_TOPICS)
    parts = rng.sample(BIO_TOPICS[topic], 2)
    parts.append(rng.choice(CORPUS[lang].bio_lines))
    rng.shuffle(parts)
    if rng.random() < STRETCH_SHARE:
        word = rng.choice(_STRETCHY)
        parts.insert(0, word[:-1] + word[-1] * rng.randint(4, 9))
    if rng.random() < SENTENCE_SHARE:
        parts.append(rng.choice(CORPUS[lang].sentences))
    bio = rng.choice(_SEPARATORS).join(parts)
    if rng.random() < 0.5:
        bio = bio[0].upper() + bio[1:]
    if rng.random() < EMOJI_SHARE:
        bio += " " + "".join(rng.choices(_EMOJI, k=rng.randint(1, 3)))
    if rng.random() < MENTION_SHARE:
        bio += f" @{topic}_{_token(rng).lower()}"
    if rng.random() < URL_SHARE:
        bio += rng.choice((" https://t.co/", " http://example.com/", " www.")) + _token(rng)
    return SyntheticUser(user_id, bio, topic, lang)


def _token(rng: random.Random) -> str:
    return "".join(
        rng.choices("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", k=10)
    )


def purity(labels: Mapping[str, int], topics: Mapping[str, str | None]) -> float:
    """Share of clustered users (label >= 0) whose cluster's most common topic is their own."""
    by_cluster: dict[int, Counter[str | None]] = {}
    for user_id, label in labels.items():
        if label >= 0:
            by_cluster.setdefault(label, Counter())[topics[user_id]] += 1
    clustered = sum(sum(c.values()) for c in by_cluster.values())
    majority = sum(c.most_common(1)[0][1] for c in by_cluster.values())
    return majority / clustered if clustered else 0.0


def peak_rss_mb() -> float:
    """Peak resident set of this process and its waited-for children, in MB (Linux: KiB units)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def fit_and_measure(
    users: list[tuple[str, str, str]] | list[tuple[str, str]], settings: ClusterSettings
) -> tuple[ClusterResult | SkipReason, float, float]:
    """In the worker: the fit, its wall seconds, and the worker's peak RSS in MB."""
    started = time.perf_counter()
    result = fit_clusters(users, settings)
    return result, time.perf_counter() - started, peak_rss_mb()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--filler-words", type=int, default=0, help="up to N made-up words a bio")
    parser.add_argument("--out", type=Path, default=None, help="also write the report here")
    parser.add_argument(
        "--languages", action="store_true", help="give each user's language, as the daemon does"
    )
    args = parser.parse_args(argv)

    users = synthetic_users(args.users, args.seed, args.filler_words)
    topics = {u.user_id: u.topic for u in users}
    # As the daemon will: a fresh worker process fits, and the result comes back pickled. Spawned,
    # so the worker's memory is the fit's, not a copy of this process's.
    started = time.perf_counter()
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        rows = [(u.user_id, u.bio, u.lang) if args.languages else (u.user_id, u.bio) for u in users]
        future = pool.submit(fit_and_measure, rows, ClusterSettings(seed=args.seed))
        result, seconds, worker_peak_mb = future.result()
    round_trip = time.perf_counter() - started
    if isinstance(result, SkipReason):
        print(f"skipped: {result.reason}")
        return 1
    kmeans_labels = {uid: km for uid, (km, _) in result.assignments.items()}
    hdbscan_labels = {uid: hd for uid, (_, hd) in result.assignments.items()}
    vocabulary = sum(len(m.vectorizer.vocabulary_) for m in result.model.models.values())
    print(f"users={args.users} clustered={result.users} vocabulary={vocabulary}")
    print(f"fit_seconds={seconds:.1f} round_trip_seconds={round_trip:.1f}")
    print(f"worker_peak_rss_mb={worker_peak_mb:.0f}")
    print(f"kmeans k={result.kmeans.k} silhouette={result.kmeans.silhouette:.3f}")
    print(f"kmeans purity={purity(kmeans_labels, topics):.3f}")
    print(
        f"hdbscan clusters={len(result.hdbscan.clusters)} noise={result.hdbscan.noise}"
        f" purity={purity(hdbscan_labels, topics):.3f}"
    )
    print("stages: " + " ".join(f"{k}={v:.1f}s" for k, v in result.timings.items()))
    if args.out is not None:
        for path in write_cluster_report(args.out, result):
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
