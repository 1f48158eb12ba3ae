"""CPU per line of the pool's batch function with 1, 2, ... workers at once: the figures that
docs/sizing.md turns into cores for a given stream rate.

Generates `--count` realistic lines (scripts/realistic_stream.py; `--format jetstream` for
Bluesky's events) in memory, cut into batches of `--batch` lines sent as one newline-ended
buffer each (as the daemon sends a replay's blocks), then for each count of `--workers` runs a
process pool of that many workers over all the batches. Each worker measures its own CPU
(`time.process_time()`) around `streamer.ingest.worker.process_parts`, so the figure is what a
line costs a worker whatever else runs; more workers than cores shows what sharing costs. The
parent measures its own CPU too: sending batches and receiving packed results (no Redis here).

    .venv/bin/python scripts/bench_sizing.py [--count 20000] [--workers 1,2] [--format v1]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import realistic_stream  # noqa: E402  (scripts/ is on the path: this script's folder)

from streamer.ingest import worker  # noqa: E402
from streamer.ingest.langid.chooser import LanguageChooser  # noqa: E402


class Done(NamedTuple):
    pid: int
    cpu_s: float
    lines: int
    posts: int


def _start_worker(warm_up: bytes) -> None:
    # As worker.init_worker builds it, without the daemon's signal handling (the parent here
    # is no daemon); one batch first, so caches are as warm as a running worker's.
    worker._chooser = LanguageChooser("default", None, False)
    worker.process_parts([warm_up])


def _ready(_: int) -> int:
    time.sleep(0.2)  # long enough that every worker takes one
    return os.getpid()


def _timed_batch(part: bytes) -> Done:
    start = time.process_time()
    packed = worker.process_parts([part])
    cpu = time.process_time() - start
    posts = sum(packed.lang_sources.values())
    return Done(os.getpid(), cpu, part.count(b"\n"), posts)


class Run(NamedTuple):
    workers: int
    lines: int
    posts: int
    wall_s: float
    worker_cpu_s: float
    parent_cpu_s: float

    @property
    def us_per_line(self) -> float:
        return 1e6 * self.worker_cpu_s / self.lines

    @property
    def posts_per_core_s(self) -> float:
        return self.posts / self.worker_cpu_s


def run(batches: Sequence[bytes], workers: int) -> Run:
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, _start_worker, (batches[0],)) as pool:
        pool.map(_ready, range(workers), chunksize=1)  # all warm before the clock starts
        wall, parent = time.perf_counter(), time.process_time()
        done = list(pool.imap_unordered(_timed_batch, batches))
        wall, parent = time.perf_counter() - wall, time.process_time() - parent
    return Run(
        workers,
        sum(d.lines for d in done),
        sum(d.posts for d in done),
        wall,
        sum(d.cpu_s for d in done),
        parent,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=500, help="lines per batch")
    parser.add_argument("--workers", default="1,2", help="comma-separated pool sizes")
    parser.add_argument("--format", default="v1", choices=("v1", "jetstream"))
    args = parser.parse_args()
    lines = [line for line, _ in realistic_stream.generate(args.count, args.seed, args.format)]
    batches = [
        b"\n".join(lines[i : i + args.batch]) + b"\n" for i in range(0, len(lines), args.batch)
    ]
    print(f"{len(lines):,} realistic {args.format} lines, batches of {args.batch}, "
          f"{len(os.sched_getaffinity(0))} cores, load {os.getloadavg()[0]:.1f}")  # fmt: skip
    print("\n| workers | worker CPU µs/line | posts/s per worker core | lines/s per worker core "
          "| wall lines/s, all workers | parent CPU µs/line |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|")
    for count in (int(n) for n in args.workers.split(",")):
        r = run(batches, count)
        print(
            f"| {r.workers} | {r.us_per_line:.1f} | {r.posts_per_core_s:,.0f} "
            f"| {r.lines / r.worker_cpu_s:,.0f} | {r.lines / r.wall_s:,.0f} "
            f"| {1e6 * r.parent_cpu_s / r.lines:.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
