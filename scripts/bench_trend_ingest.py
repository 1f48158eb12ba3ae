"""What counting trends adds to ingest, per line: CPU in a pool worker and CPU in Redis.

Generates `--count` realistic v1.1 lines (scripts/realistic_stream.py) and measures, trends
off and on, alternating rounds (`--rounds`, the best of each kept, since the machine is
shared):

* worker: `time.process_time()` of the pool's batch function (`process_parts`, batches of
  500: parse, detect, pack; with trends also `aggregate` and `pack_counts`) per line;
* redis: the commit script's CPU in a private redis-server (`INFO commandstats`, evalsha
  usec) per line, committing those batches with `Store.commit_batch`;
* the packed trend bytes per batch (what the event loop and the journal carry extra).

    .venv/bin/python scripts/bench_trend_ingest.py [--count 20000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

import realistic_stream  # noqa: E402
from bench import private_redis  # noqa: E402
from redis.asyncio import Redis  # noqa: E402

from streamer.ingest import worker  # noqa: E402
from streamer.ingest.langid.chooser import LanguageChooser  # noqa: E402
from streamer.storage.keys import Keys  # noqa: E402
from streamer.storage.store import Store  # noqa: E402

BATCH = 500


def worker_cpu(lines: list[bytes], trends: bool) -> tuple[float, list[worker.PackedBatch]]:
    worker._trends = worker.TrendCounting() if trends else None
    worker.process_parts([lines[:BATCH]])  # warm caches, as a running worker is
    out = []
    start = time.process_time()
    for i in range(0, len(lines), BATCH):
        out.append(worker.process_parts([lines[i : i + BATCH]]))
    return 1e6 * (time.process_time() - start) / len(lines), out


async def redis_cpu(url: str, batches: list[worker.PackedBatch], lines: int) -> float:
    client = Redis.from_url(url)
    await client.flushall()
    await client.config_resetstat()
    store = Store(client, Keys("bench:"))
    for seq, b in enumerate(batches, 1):
        await store.commit_batch("bench", seq, b.records, {"accepted": 1}, trends=b.trends)
    stats = await client.info("commandstats")
    await client.aclose()
    usec = sum(v["usec"] for k, v in stats.items() if k in ("cmdstat_evalsha", "cmdstat_eval"))
    return usec / lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    worker._chooser = LanguageChooser("default", None, False)
    lines = [line for line, _ in realistic_stream.generate(args.count, args.seed)]
    best: dict[tuple[str, bool], float] = {}
    packed_bytes = 0.0
    with tempfile.TemporaryDirectory() as tmp, private_redis(Path(tmp), tcp=False) as url:
        for _ in range(args.rounds):
            for trends in (False, True):
                cpu, batches = worker_cpu(lines, trends)
                rcpu = asyncio.run(redis_cpu(url, batches, len(lines)))
                for key, value in (("worker", cpu), ("redis", rcpu)):
                    best[(key, trends)] = min(best.get((key, trends), value), value)
                if trends:
                    packed_bytes = sum(len(b.trends) for b in batches) / len(batches)
    print(f"{args.count:,} realistic lines, batches of {BATCH}, best of {args.rounds} rounds\n")
    print("| where | trends off µs/line | trends on µs/line | added µs/line |")
    print("|---|---:|---:|---:|")
    for where in ("worker", "redis"):
        off, on = best[(where, False)], best[(where, True)]
        print(f"| {where} | {off:.2f} | {on:.2f} | {on - off:+.2f} |")
    print(f"\npacked trend counts: {packed_bytes:,.0f} bytes per batch of {BATCH} lines")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
