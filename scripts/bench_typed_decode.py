"""CPU per line of the parser's typed reader (msgspec, the default) against its general one
(orjson, `parse_payload(..., typed=False)`), on the realistic and the demo input: the decode
alone, the parser, and a worker's whole batch function (parse, detect, locate, pack).

Every variant runs in turn, five rounds; the table gives the fastest round (CPU time).

    .venv/bin/python scripts/bench_typed_decode.py [--count 10000] [--seed 1]
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from collections.abc import Callable
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from streamer.ingest import parser, worker  # noqa: E402
from streamer.ingest.langid.chooser import LanguageChooser  # noqa: E402
from streamer.ingest.typed_payloads import decode_line  # noqa: E402
from streamer.sources.generator import generate as demo_lines  # noqa: E402

sys.path.insert(0, str(REPO / "scripts"))
import realistic_stream  # noqa: E402

BATCH = 500
ROUNDS = 5


VARIANTS = {"general (orjson)": False, "typed (msgspec, default)": True}


def per_line(read: Callable[[bytes], object], lines: list[bytes]) -> float:
    """CPU µs per line of `read`, the fastest of ROUNDS runs."""
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.process_time()
        for line in lines:
            read(line)
        best = min(best, time.process_time() - start)
    return 1e6 * best / len(lines)


def batch_per_line(lines: list[bytes]) -> float:
    """CPU µs per line of the worker's whole batch function (one run)."""
    start = time.process_time()
    for i in range(0, len(lines), BATCH):
        worker.process_parts([lines[i : i + BATCH]])
    return 1e6 * (time.process_time() - start) / len(lines)


def use(typed: bool) -> Callable[[bytes], object]:
    """Make the parser and the worker read lines the given way."""
    read = functools.partial(parser.parse_payload, typed=typed)
    worker.parse_payload = read  # type: ignore[assignment]
    return read


def main() -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--count", type=int, default=10_000)
    args.add_argument("--seed", type=int, default=1)
    opts = args.parse_args()
    worker._chooser = LanguageChooser("default", None, False)  # as init_worker builds it
    inputs = {
        "realistic": [line for line, _ in realistic_stream.generate(opts.count, opts.seed)],
        "demo": [line for line, _ in demo_lines(opts.count, opts.seed, 0.3)],
    }
    steps: dict[str, Callable[[bytes], object]] = {
        "orjson.loads": orjson.loads,
        "typed decode (msgspec)": decode_line,
    }
    print("| input | step | µs/line |")
    print("|---|---|---:|")
    for name, lines in inputs.items():
        for step, work in steps.items():
            print(f"| {name} | {step} | {per_line(work, lines):.1f} |")
    print("\n| input | reader | parse µs/line | whole batch µs/line | lines read typed |")
    print("|---|---|---:|---:|---:|")
    for name, lines in inputs.items():
        worker.process_parts([lines[:BATCH]])  # warm caches, as a running worker is
        rows = []
        for variant, typed in VARIANTS.items():
            read = use(typed)
            parser.TypedCounts.typed = 0
            parse = per_line(read, lines)
            share = parser.TypedCounts.typed / (ROUNDS * len(lines))
            rows.append((variant, parse, share))
        # The batch figures swing with the machine's load: the variants take turns.
        batch: dict[str, float] = dict.fromkeys(VARIANTS, float("inf"))
        for _ in range(ROUNDS):
            for variant, typed in VARIANTS.items():
                use(typed)
                batch[variant] = min(batch[variant], batch_per_line(lines))
        for variant, parse, share in rows:
            print(
                f"| {name} | {variant} | {parse:.1f} | {batch[variant]:.1f} | {100 * share:.1f}% |"
            )
    use(True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
