"""The seed notebook's pipeline, reconstructed for reference in scripts/bench.py. NOT product code.

The notebook is gone; this is rebuilt from its description, to measure what the product replaced.
It keeps the seed's shape and its costs on purpose, and nothing here should be copied into
streamer/:

- a reader process puts every raw line, one at a time, on an (unbounded) multiprocessing.Queue;
- `workers` detector processes (2 in the seed) each take one line at a time, `json.loads` it
  (the standard library, as the seed did), take its text, cut it into words with a simple word
  regex, count the words found in each language's NLTK stopword list (the sets are built once per
  process), and name the language with most hits ("und" when nothing hits);
- then, with a blocking `redis.Redis` client of their own, one synchronous RPUSH round trip per
  hashtag to `hashtag_<lang>` and one per geotagged tweet to `geo_<lang>` (JSON "[lat, lon]").
  No prefix, no pipelining, no transaction, no cap.

Two departures, so that the benchmark compares like with like: the stopword sets come from the
product's NLTK loader (streamer.ingest.langid.stopwords.load_nltk_lists, keyed by ISO code, so
the keys match the product's), and hashtags and points are read as the product reads them (see
scripts/bench_payloads.py), so every stage stores the same entries.

`run()` times from the moment every detector has built its sets to the moment the last one has
drained the queue: process start-up and list loading are left out, as the product's are.

    .venv/bin/python scripts/seed_pipeline.py --file tweets.ndjson --redis-url redis://...
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import sys
import time
from collections.abc import Iterable
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

import redis

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scripts.bench_payloads import FileLines, hashtags_of, is_status, point_of, text_of  # noqa: E402

SHARED_NLTK_DATA = REPO.parent / "shared" / "data" / "nltk_data"
WORD = re.compile(r"\w+")  # the seed's tokenizer: runs of word characters
UNDETERMINED = "und"


def nltk_data_dir() -> str | None:
    """NLTK_DATA when set (NLTK reads it itself), else the shared copy of the corpus if present."""
    if os.environ.get("NLTK_DATA"):
        return None
    return str(SHARED_NLTK_DATA) if SHARED_NLTK_DATA.is_dir() else None


def load_stopwords(nltk_data: str | None) -> dict[str, frozenset[str]]:
    from streamer.ingest.langid.stopwords import load_nltk_lists

    lists = load_nltk_lists(nltk_data)
    if not lists:
        raise LookupError("NLTK's stopwords corpus not found: set NLTK_DATA")
    return lists


def detect(text: str, stopwords: dict[str, frozenset[str]]) -> str:
    words = WORD.findall(text.lower())
    hits = {
        lang: sum(1 for word in words if word in words_of) for lang, words_of in stopwords.items()
    }
    best = max(hits, key=hits.__getitem__)
    return best if hits[best] > 0 else UNDETERMINED


def reader(lines: Iterable[bytes], queue: Queue[bytes | None], workers: int) -> None:
    for line in lines:
        queue.put(line)
    for _ in range(workers):
        queue.put(None)


def detector(
    queue: Queue[bytes | None], ready: Queue[int], redis_url: str, nltk_data: str | None
) -> None:
    stopwords = load_stopwords(nltk_data)  # once per process
    r = redis.Redis.from_url(redis_url)
    r.ping()
    ready.put(os.getpid())
    while True:
        raw = queue.get()
        if raw is None:
            break
        tweet: Any = json.loads(raw)
        if not is_status(tweet):  # delete and limit notices
            continue
        lang = detect(text_of(tweet), stopwords)
        for tag in hashtags_of(tweet):
            r.rpush(f"hashtag_{lang}", tag)
        point = point_of(tweet)
        if point is not None:
            r.rpush(f"geo_{lang}", json.dumps([point[0], point[1]]))
    r.close()


def run(lines: Iterable[bytes], redis_url: str, workers: int = 2) -> float:
    """Push every line through the seed's pipeline; return the seconds it took.

    `lines` is consumed in the (forked) reader process: pass a FileLines to keep the payloads
    out of this process's memory."""
    ctx = multiprocessing.get_context("fork")  # a notebook on Linux forks
    queue: Queue[bytes | None] = ctx.Queue()
    ready: Queue[int] = ctx.Queue()
    nltk_data = nltk_data_dir()
    detectors = [
        ctx.Process(
            target=detector, args=(queue, ready, redis_url, nltk_data), name=f"detector-{i}"
        )
        for i in range(workers)
    ]
    for p in detectors:
        p.start()
    for _ in detectors:
        ready.get(timeout=120)
    started = time.perf_counter()
    feeder = ctx.Process(target=reader, args=(lines, queue, workers), name="reader")
    feeder.start()
    for p in detectors:
        p.join()
    elapsed = time.perf_counter() - started
    feeder.join()
    failed = [p.name for p in (*detectors, feeder) if p.exitcode != 0]
    if failed:
        raise RuntimeError(f"seed pipeline process(es) failed: {', '.join(failed)}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", required=True, help="NDJSON payloads, one per line")
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--workers", type=int, default=2, help="detector processes")
    args = parser.parse_args()
    seconds = run(FileLines(args.file), args.redis_url, args.workers)
    print(json.dumps({"seconds": seconds}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
