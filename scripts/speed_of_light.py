"""The speed of light for scripts/bench.py: parse and store, nothing else. Not product code.

One process: `orjson.loads` each line, take its hashtags and point (as the product reads them,
see scripts/bench_payloads.py), and RPUSH them to `hashtag_<lang>` / `geo_<lang>` through a
non-transactional redis-py pipeline flushed every 1000 tweets. The language is the payload's own
"lang" field: no detection, no batching across processes, no cap, no counters, no checkpoint.
Whatever the product does beyond this costs the difference.

    .venv/bin/python scripts/speed_of_light.py --file tweets.ndjson --redis-url redis://...
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import orjson
import redis

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scripts.bench_payloads import FileLines, hashtags_of, is_status, point_of  # noqa: E402

FLUSH_EVERY = 1000  # tweets per pipeline round trip


def run(lines: Iterable[bytes], redis_url: str, flush_every: int = FLUSH_EVERY) -> float:
    """Store every line's hashtags and point; return the seconds it took."""
    r = redis.Redis.from_url(redis_url)
    r.ping()
    started = time.perf_counter()
    pipe = r.pipeline(transaction=False)
    pending = 0
    for line in lines:
        tweet = orjson.loads(line)
        if not is_status(tweet):
            continue
        lang = tweet.get("lang") or "und"
        tags = hashtags_of(tweet)
        if tags:
            pipe.rpush(f"hashtag_{lang}", *tags)
        point = point_of(tweet)
        if point is not None:
            pipe.rpush(f"geo_{lang}", orjson.dumps(point))
        pending += 1
        if pending >= flush_every:
            pipe.execute()
            pending = 0
    pipe.execute()
    elapsed = time.perf_counter() - started
    r.close()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", required=True, help="NDJSON payloads, one per line")
    parser.add_argument("--redis-url", required=True)
    args = parser.parse_args()
    print(json.dumps({"seconds": run(FileLines(args.file), args.redis_url)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
