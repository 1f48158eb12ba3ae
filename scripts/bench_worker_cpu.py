"""CPU per line in one pool worker, on the realistic and the demo input: a figure that a busy
machine disturbs far less than scripts/bench.py's wall-clock rates.

Generates `--count` lines of each input in memory, builds the default detector, then measures
with `time.process_time()` (this process's CPU, not the wall clock): the worker's whole batch
function (`streamer.ingest.worker.process_parts`, batches of 500: parse, detect, pack for
Redis), the
parser alone, and the detector alone per post, by the generator's language of the post.

    .venv/bin/python scripts/bench_worker_cpu.py [--count 20000] [--seed 1] [--langs 12]
                                                 [--as-daemon]

`--as-daemon` sets the worker up as the daemon's defaults do (`init_worker`): geolocation of
profile locations and bios (the gazetteer `make setup` built in data/geo) and trend counting,
both on; without it, the worker only parses, detects and packs.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from streamer.config import GeoSettings  # noqa: E402
from streamer.core.records import Post  # noqa: E402
from streamer.ingest import worker  # noqa: E402
from streamer.ingest.langid.chooser import LanguageChooser  # noqa: E402
from streamer.ingest.parser import parse_payload  # noqa: E402
from streamer.sources.generator import generate as demo_lines  # noqa: E402

sys.path.insert(0, str(REPO / "scripts"))
import realistic_stream  # noqa: E402

BATCH = 500


@dataclass
class Cpu:
    batch: float  # µs per line, the worker's whole batch function
    parse: float  # µs per line
    detect: float  # µs per post
    right: float  # % of posts whose language the detector got right
    by_lang: dict[str, tuple[int, float, float]]  # posts, detect µs per post, % right


def cpu_per_line(lines: list[bytes], langs: list[str | None]) -> Cpu:
    worker.process_parts([lines[:BATCH]])  # warm caches, as a running worker is
    start = time.process_time()
    for i in range(0, len(lines), BATCH):
        worker.process_parts([lines[i : i + BATCH]])
    batch = time.process_time() - start
    start = time.process_time()
    parsed = [parse_payload(line) for line in lines]
    parse = time.process_time() - start
    choose = worker.chooser()
    cost: defaultdict[str, float] = defaultdict(float)
    right: Counter[str] = Counter()
    posts: Counter[str] = Counter()
    for item, lang in zip(parsed, langs, strict=True):
        if not isinstance(item, Post):
            continue
        key = lang or "?"
        start = time.process_time()
        detected, _ = choose(item.text, item.platform_lang)
        cost[key] += time.process_time() - start
        posts[key] += 1
        right[key] += detected == lang
    n_posts = sum(posts.values())
    return Cpu(
        1e6 * batch / len(lines),
        1e6 * parse / len(lines),
        1e6 * sum(cost.values()) / max(n_posts, 1),
        100 * sum(right.values()) / max(n_posts, 1),
        {k: (posts[k], 1e6 * cost[k] / posts[k], 100 * right[k] / posts[k]) for k in posts},
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--langs", type=int, default=12, help="languages to list, by post count")
    parser.add_argument(
        "--as-daemon", action="store_true", help="geolocation and trends on, as the daemon runs"
    )
    args = parser.parse_args()
    worker._chooser = LanguageChooser("default", None, False)  # as init_worker builds it
    if args.as_daemon:
        worker.init_geolocation(GeoSettings(), str(REPO / "data" / "geo"))
        worker._trends = worker.TrendCounting()
    inputs: dict[str, list[tuple[bytes, Any]]] = {
        "realistic": list(realistic_stream.generate(args.count, args.seed)),
        "demo": list(demo_lines(args.count, args.seed, 0.3)),
    }
    print("| input | whole batch µs/line | parse µs/line | detect µs/post | detector right |")
    print("|---|---:|---:|---:|---:|")
    details = {}
    for name, made in inputs.items():
        lines = [line for line, _ in made]
        langs = [truth.lang for _, truth in made]
        r = details[name] = cpu_per_line(lines, langs)
        print(f"| {name} | {r.batch:.1f} | {r.parse:.1f} | {r.detect:.1f} | {r.right:.1f}% |")
    real = details["realistic"]
    print("\nrealistic input, per language of the post (the generator's truth); the most common")
    print("languages, then any other whose posts cost over twice the mean:\n")
    print("| lang | posts | detect µs/post | detector right |")
    print("|---|---:|---:|---:|")
    ranked = sorted(real.by_lang.items(), key=lambda kv: -kv[1][0])
    slow = [kv for kv in ranked[args.langs :] if kv[1][1] > 2 * real.detect]
    for lang, (n, us, ok) in ranked[: args.langs] + slow:
        print(f"| {lang} | {n:,} | {us:.1f} | {ok:.1f}% |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
