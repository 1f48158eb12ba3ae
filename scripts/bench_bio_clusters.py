"""Quality of the bio clusters on a multilingual dev set (scripts/bios_devset.py).

    .venv/bin/python -m scripts.bench_bio_clusters [--users 7300] [--seed 1] [--out DIR]

Prints one table: per language model (when the clustering has them) and overall,
- purity: size-weighted share of each KMeans cluster's majority language (clustered users only);
- own: share of ALL users (noise included) in a cluster whose majority language is their own;
- topic: the same as purity for the topic, over users that have one;
- noise: share of users in no KMeans cluster (no usable bio), and HDBSCAN's noise share;
- largest: the largest cluster's share of all users, and how many clusters hold > 10% of the
  users with no language above 60% ("mixed");
- silhouette (the model's, on its sample), refit seconds, and `words`: the share of top terms
  that are words (have a letter; not a number, symbol or emoji).
Also ja/zh/th: the share of their users in a cluster whose majority language is their own.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

import regex

from analysis import clustering
from analysis.cluster_report import write_cluster_report
from analysis.clustering import ClusterResult, ClusterSettings, fit_clusters
from scripts.bios_devset import DevUser, dev_users

_LETTER = regex.compile(r"\p{L}")


def is_word(term: str) -> bool:
    return bool(_LETTER.search(term))


def measure(users: Sequence[DevUser], labels: dict[str, int]) -> dict[str, float]:
    """Language and topic scores of one labelling (label < 0: noise) of `users`."""
    langs: dict[int, Counter[str]] = defaultdict(Counter)
    topics: dict[int, Counter[str]] = defaultdict(Counter)
    for user in users:
        label = labels[user.user_id]
        if label >= 0:
            langs[label][user.lang] += 1
            if user.topic is not None:
                topics[label][user.topic] += 1
    clustered = sum(sum(c.values()) for c in langs.values())
    majority = {label: c.most_common(1)[0][0] for label, c in langs.items()}
    own = sum(1 for u in users if labels[u.user_id] >= 0 and majority[labels[u.user_id]] == u.lang)
    with_topic = sum(sum(c.values()) for c in topics.values())
    mixed = sum(
        1
        for c in langs.values()
        if sum(c.values()) > 0.1 * len(users) and c.most_common(1)[0][1] < 0.6 * sum(c.values())
    )
    return {
        "users": len(users),
        "purity": sum(c.most_common(1)[0][1] for c in langs.values()) / max(clustered, 1),
        "own": own / max(len(users), 1),
        "topic": sum(c.most_common(1)[0][1] for c in topics.values()) / max(with_topic, 1),
        "noise": 1 - clustered / max(len(users), 1),
        "largest": max((sum(c.values()) for c in langs.values()), default=0) / max(len(users), 1),
        "mixed": mixed,
        "clusters": len(langs),
    }


def script_users_home(users: Sequence[DevUser], labels: dict[str, int]) -> dict[str, float]:
    """ja/zh/th: share of each language's users whose cluster's majority language is theirs."""
    langs: dict[int, Counter[str]] = defaultdict(Counter)
    for user in users:
        if labels[user.user_id] >= 0:
            langs[labels[user.user_id]][user.lang] += 1
    majority = {label: c.most_common(1)[0][0] for label, c in langs.items()}
    out = {}
    for lang in ("ja", "zh", "th"):
        mine = [u for u in users if u.lang == lang and labels[u.user_id] >= 0]
        home = sum(1 for u in mine if majority[labels[u.user_id]] == lang)
        out[lang] = home / max(len(mine), 1)
    return out


def word_share(terms: Iterable[str]) -> float:
    terms = list(terms)
    return sum(map(is_word, terms)) / max(len(terms), 1)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=7300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="also write the report here")
    args = parser.parse_args(argv)

    users = dev_users(args.users, args.seed)
    # The language-aware clustering takes each user's language; the old one only (id, bio).
    aware = getattr(clustering, "LANGUAGE_AWARE", False)
    given = [(u.user_id, u.bio, u.lang) if aware else (u.user_id, u.bio) for u in users]
    started = time.perf_counter()
    result = fit_clusters(given, ClusterSettings(seed=args.seed))  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    if not isinstance(result, ClusterResult):
        print(f"skipped: {result.reason}")
        return 1
    kmeans = {uid: km for uid, (km, _) in result.assignments.items()}
    hdb = {uid: h for uid, (_, h) in result.assignments.items()}

    header = ("model", "users", "k", "purity", "own", "topic", "noise", "hdb_noise", "largest",
              "mixed", "silhouette", "words")  # fmt: skip
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    for model in getattr(result, "models", ()):
        members = [u for u in users if u.user_id in model.user_ids]
        m = measure(members, kmeans)
        h = measure(members, hdb)
        terms = [t for c in result.kmeans.clusters if c.model == model.name for t in c.top_terms]
        _row(model.name, m, h, model.k, model.silhouette, word_share(terms))
    overall, overall_hdb = measure(users, kmeans), measure(users, hdb)
    terms = [t for c in result.kmeans.clusters for t in c.top_terms]
    _row("ALL", overall, overall_hdb, result.kmeans.k, result.kmeans.silhouette, word_share(terms))
    home = script_users_home(users, kmeans)
    print()
    print("own-language cluster share: " + " ".join(f"{k}={v:.2f}" for k, v in home.items()))
    print(f"refit_seconds={seconds:.1f} users={len(users)} clustered={result.users}")
    print("stages: " + " ".join(f"{k}={v:.1f}s" for k, v in result.timings.items()))
    biggest = max(result.kmeans.clusters, key=lambda c: c.size)
    print(f"largest cluster: {biggest.size} users, terms: {' '.join(biggest.top_terms)}")
    if args.out is not None:
        for path in write_cluster_report(args.out, result):
            print(f"wrote {path}")
    return 0


def _row(
    name: str, m: dict[str, float], h: dict[str, float], k: int, sil: float, words: float
) -> None:
    print(
        f"{name} | {m['users']} | {k} | {m['purity']:.2f} | {m['own']:.2f} | {m['topic']:.2f} | "
        f"{m['noise']:.2f} | {h['noise']:.2f} | {m['largest']:.2f} | {m['mixed']} | "
        f"{sil:.3f} | {words:.2f}"
    )


if __name__ == "__main__":
    sys.exit(main())
