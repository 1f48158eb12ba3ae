"""What geolocation adds to ingest, per post, and how much of a stream it places.

Runs the pool worker's own batch function (`streamer.ingest.worker.process_batch`: parse,
detect, locate, in one process, as a pool process does) over an NDJSON file, with `[geo]
enabled = true` and `false`, alternating, several passes each, and prints the CPU time per post
of both and their difference, the geolocator's process memory, and the share of posts each
source placed. Input: a file (`tweetheat demo-data`, `scripts/realistic_stream.py --out F`), or
`--realistic N` / `--demo N` to generate N lines first.

    .venv/bin/python scripts/bench_geo_ingest.py --realistic 50000 [--passes 5]
    .venv/bin/python scripts/bench_geo_ingest.py --demo 50000
    .venv/bin/python scripts/bench_geo_ingest.py FILE.ndjson

A first pass without geolocation warms the detector; the next, with it, is the cold figure
(every line seen once, as a live stream's: the LRU of profile strings starts empty); then the
two modes alternate over the same lines (warm: what a daemon sees when authors repeat).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from streamer.config import GeoSettings  # noqa: E402
from streamer.ingest import worker  # noqa: E402
from streamer.ingest.langid.chooser import LanguageChooser  # noqa: E402
from streamer.sources.generator import generate  # noqa: E402

BATCH = 500


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def one_pass(lines: list[bytes]) -> tuple[float, int, Counter[str]]:
    """CPU seconds, posts, and located posts by source over every batch of `lines`."""
    located: Counter[str] = Counter()
    posts = 0
    started = cpu()
    for i in range(0, len(lines), BATCH):
        result = worker.process_batch(lines[i : i + BATCH])
        posts += len(result.records)
        for (_lang, source), n in result.located.items():
            located[source] += n
    return cpu() - started, posts, located


def measure(lines: list[bytes], cache_dir: Path, passes: int) -> list[str]:
    worker._chooser = LanguageChooser("default", None, False)
    before = rss_mib()
    worker.init_geolocation(GeoSettings(enabled=True), str(cache_dir))
    geo_rss = rss_mib() - before
    loaded = worker._geolocator  # one instance, so its LRU stays warm between passes
    times: dict[bool, list[float]] = {True: [], False: []}
    # A first pass without geolocation warms the detector; the first pass with it is the
    # cold one: every line seen once, every profile string new, as on a live stream.
    worker._geolocator = None
    one_pass(lines)
    worker._geolocator = loaded
    seconds, posts, located = one_pass(lines)
    cold = seconds / posts * 1e6
    for _ in range(passes):
        for enabled in (True, False):
            # What init_geolocation leaves for `enabled = false`: no gazetteer, so the ladder
            # stops at the post's own point and its place.
            worker._geolocator = loaded if enabled else None
            seconds, posts, _found = one_pass(lines)
            times[enabled].append(seconds / posts)
    on = sorted(times[True])[len(times[True]) // 2] * 1e6
    off = sorted(times[False])[len(times[False]) // 2] * 1e6
    shares = ", ".join(
        f"{source} {100 * located[source] / posts:.1f}%"
        for source in ("exact", "place", "profile", "bio", "none")
    )
    placed = posts - located["none"]
    return [
        f"posts: {posts:,} per pass, {passes} warm passes per mode (median shown)",
        f"worker CPU per post, [geo] disabled:                 {off:.1f} µs",
        f"worker CPU per post, [geo] enabled, first pass (cold): {cold:.1f} µs",
        f"worker CPU per post, [geo] enabled, warm (median):     {on:.1f} µs",
        f"geolocation adds: {cold - off:.2f} µs per post cold, {on - off:.2f} µs warm",
        f"geolocator memory (gazetteer loaded, this process): +{geo_rss:.0f} MiB",
        f"located: {100 * placed / posts:.1f}% of posts ({shares})",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path)
    parser.add_argument("--realistic", type=int, default=0, metavar="N")
    parser.add_argument("--demo", type=int, default=0, metavar="N")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--cache-dir", type=Path, default=REPO / "data" / "geo")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.file
        if args.realistic:
            import realistic_stream

            path = Path(tmp) / "realistic.ndjson"
            realistic_stream.write_ndjson(path, args.realistic, args.seed)
            what = f"scripts/realistic_stream.py, {args.realistic:,} lines, seed {args.seed}"
        elif args.demo:
            path = Path(tmp) / "demo.ndjson"
            with path.open("wb") as out:
                for line, _ in generate(args.demo, args.seed):
                    out.write(line + b"\n")
            what = f"demo generator defaults, {args.demo:,} lines, seed {args.seed}"
        elif path is None:
            parser.error("give a FILE, --realistic N or --demo N")
        else:
            what = str(path)
        lines = path.read_bytes().splitlines()
        started = time.perf_counter()
        report = measure(lines, args.cache_dir, args.passes)
    print(f"# geolocation in ingest (scripts/bench_geo_ingest.py): {what}")
    print("\n".join(report))
    print(f"({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
