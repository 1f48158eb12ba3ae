"""Quality of the bio clusters on captured real posts (v1.1 / v2 / Jetstream NDJSON files).

    .venv/bin/python -m scripts.bench_bio_clusters_real CAPTURE [CAPTURE...]
        [--years 2013,2016] [--min-users-per-language 200,50] [--terms] [--out DIR]

The user window is built as the daemon builds it: every line goes through the product's parser
(streamer.ingest.parser) and its language chooser (streamer.ingest.langid.chooser, the default
detector, platform labels not trusted, as in the default configuration); each user keeps the
latest bio seen and that post's language. `--years` keeps only posts created in those years,
so one capture can be split into a development part and a held-out part.

The refit is the product's (`analysis.clustering.fit_clusters`), with the default settings and
with `min_users_per_language` lowered (what a user with a small window would set). Per language
model and overall it prints:
- purity: size-weighted share of each KMeans cluster's majority language, where a user's language
  is the detector's label of their own bio (users whose bio it cannot label are left out);
- largest: the largest KMeans cluster's share of all clustered users;
- hdb_noise: share of clustered users HDBSCAN puts in no cluster;
- no_bio: share of the window's users with no usable bio (in no cluster);
- words: share of the label terms the report shows (KMeans and HDBSCAN) that are words (have a
  letter; not numbers, symbols or emoji);
- silhouette (the model's own) and the refit's seconds.
`--terms` also prints every KMeans cluster: model, id, size, majority language and its share,
and its label terms, to judge them by eye.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import regex

from analysis.cluster_report import write_cluster_report
from analysis.clustering import ClusterResult, ClusterSettings, ClusterSummary, fit_clusters
from streamer.core.records import Post
from streamer.ingest.langid.chooser import LanguageChooser
from streamer.ingest.parser import parse_payload

_LETTER = regex.compile(r"\p{L}")
UNDETERMINED = "und"


@dataclass(frozen=True)
class WindowUser:
    user_id: str
    bio: str
    post_lang: str  # the language the daemon gives the user's (latest) post
    bio_lang: str  # the detector's label of the bio itself: the truth purity is scored against


def is_word(term: str) -> bool:
    return bool(_LETTER.search(term))


def posts(paths: Iterable[Path], years: frozenset[str]) -> Iterator[Post]:
    for path in paths:
        with path.open("rb") as lines:
            for line in lines:
                item = parse_payload(line)
                if not isinstance(item, Post):
                    continue
                if years and (item.created_at or "")[:4] not in years:
                    continue
                yield item


def user_window(paths: Sequence[Path], years: frozenset[str]) -> list[WindowUser]:
    """One entry per user, the latest bio, as the worker and the store keep them."""
    chooser = LanguageChooser("default", None, trust_platform=False)
    latest: dict[str, tuple[str, str]] = {}
    for post in posts(paths, years):
        lang, _source = chooser(post.text, post.platform_lang)
        if post.user_id is not None and post.bio is not None:
            latest.pop(post.user_id, None)  # re-inserted: dict order is "last seen"
            latest[post.user_id] = (post.bio, lang)
    return [
        WindowUser(uid, bio, lang, chooser.detect(bio) if bio.strip() else UNDETERMINED)
        for uid, (bio, lang) in latest.items()
    ]


def purity(users: Sequence[WindowUser], labels: dict[str, int]) -> tuple[float, int]:
    """(size-weighted majority bio-language share, users scored) over clustered users whose bio
    has a language."""
    langs: dict[int, Counter[str]] = defaultdict(Counter)
    for user in users:
        label = labels[user.user_id]
        if label >= 0 and user.bio_lang != UNDETERMINED:
            langs[label][user.bio_lang] += 1
    scored = sum(sum(c.values()) for c in langs.values())
    majority = sum(c.most_common(1)[0][1] for c in langs.values())
    return majority / max(scored, 1), scored


def word_share(clusters: Iterable[ClusterSummary]) -> tuple[float, int]:
    terms = [t for c in clusters for t in c.top_terms]
    return sum(map(is_word, terms)) / max(len(terms), 1), len(terms)


def report(users: Sequence[WindowUser], result: ClusterResult, seconds: float, terms: bool) -> None:
    kmeans = {uid: km for uid, (km, _) in result.assignments.items()}
    hdb = {uid: h for uid, (_, h) in result.assignments.items()}
    header = ("model", "users", "clustered", "k", "purity", "largest", "hdb_noise", "no_bio",
              "words", "silhouette")  # fmt: skip
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for model in result.models:
        members = [u for u in users if u.user_id in model.user_ids]
        clusters = [c for c in result.kmeans.clusters if c.model == model.name]
        found = [c for c in result.hdbscan.clusters if c.model == model.name]
        languages = ", ".join(f"{k} {v}" for k, v in Counter(model.languages).most_common(4))
        name = f"{model.name} ({languages}{', ...' if len(model.languages) > 4 else ''})"
        _row(name, members, model.users, model.k, kmeans, clusters, found,
             model.hdbscan_noise, model.silhouette)  # fmt: skip
    _row("ALL", users, result.users, result.kmeans.k, kmeans, result.kmeans.clusters,
         result.hdbscan.clusters, result.hdbscan.noise, result.kmeans.silhouette)  # fmt: skip
    biggest = max(result.kmeans.clusters, key=lambda c: c.size)
    print(
        f"\nrefit {seconds:.1f} s ({' '.join(f'{k}={v:.1f}' for k, v in result.timings.items())});"
        f" largest cluster: {biggest.size} users ({biggest.model}); "
        f"HDBSCAN found {len(result.hdbscan.clusters)} clusters"
    )
    if terms:
        print()
        _print_terms(users, result, kmeans, hdb)


def _row(
    name: str,
    members: Sequence[WindowUser],
    clustered: int,
    k: int,
    labels: dict[str, int],
    clusters: Sequence[ClusterSummary],
    found: Sequence[ClusterSummary],
    hdb_noise: int,
    silhouette: float,
) -> None:
    pure, _scored = purity(members, labels)
    largest = max((c.size for c in clusters), default=0) / max(clustered, 1)
    words, _count = word_share([*clusters, *found])
    print(
        f"| {name} | {len(members)} | {clustered} | {k} | {pure:.2f} | {largest:.2f} | "
        f"{hdb_noise / max(clustered, 1):.2f} | {1 - clustered / max(len(members), 1):.2f} | "
        f"{words:.2f} | {silhouette:.3f} |"
    )


def _print_terms(
    users: Sequence[WindowUser],
    result: ClusterResult,
    kmeans: dict[str, int],
    hdb: dict[str, int],
) -> None:
    for algorithm, labels, clusters in (
        ("kmeans", kmeans, result.kmeans.clusters),
        ("hdbscan", hdb, result.hdbscan.clusters),
    ):
        langs: dict[int, Counter[str]] = defaultdict(Counter)
        for user in users:
            if labels[user.user_id] >= 0:
                langs[labels[user.user_id]][user.bio_lang] += 1
        for c in sorted(clusters, key=lambda c: (c.model, -c.size)):
            top, n = langs[c.id].most_common(1)[0] if langs[c.id] else ("-", 0)
            share = n / max(sum(langs[c.id].values()), 1)
            junk = [t for t in c.top_terms if not is_word(t)]
            print(
                f"{algorithm} {c.model:>5} #{c.id:<4} {c.size:>5} {top}:{share:.2f}  "
                f"{' '.join(c.top_terms)}" + (f"   NOT WORDS: {junk}" if junk else "")
            )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("captures", nargs="+", type=Path)
    parser.add_argument("--years", default="", help="comma-separated years of posts to keep")
    parser.add_argument(
        "--min-users-per-language",
        default="200,50",
        help="comma-separated values; one refit each (200 is the default setting)",
    )
    parser.add_argument("--terms", action="store_true", help="print every cluster's terms")
    parser.add_argument("--out", type=Path, default=None, help="also write the last report here")
    args = parser.parse_args(argv)

    years = frozenset(y for y in args.years.split(",") if y)
    started = time.perf_counter()
    users = user_window(args.captures, years)
    langs = Counter(u.post_lang for u in users)
    print(
        f"window: {len(users)} users ({time.perf_counter() - started:.1f} s to parse and detect);"
        f" post languages: {', '.join(f'{k} {v}' for k, v in langs.most_common(12))}, ..."
        f" ({len(langs)} in all)"
    )
    rows = [(u.user_id, u.bio, u.post_lang) for u in users]
    result: ClusterResult | None = None
    for per_language in (int(v) for v in args.min_users_per_language.split(",")):
        settings = replace(ClusterSettings(), min_users_per_language=per_language)
        print(f"\n## min_users_per_language={per_language}\n")
        started = time.perf_counter()
        fitted = fit_clusters(rows, settings)
        seconds = time.perf_counter() - started
        if not isinstance(fitted, ClusterResult):
            print(f"skipped: {fitted.reason}")
            continue
        result = fitted
        report(users, result, seconds, args.terms)
    if args.out is not None and result is not None:
        for path in write_cluster_report(args.out, result):
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
