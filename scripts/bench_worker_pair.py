"""The pool worker of this checkout against another one's: CPU per line paired window by window,
and whether every answer is the same.

A before/after pair of `scripts/bench_worker_cpu.py` runs swings by ±5% on a busy 2-core
machine, as much as a worthwhile change. Here both trees run side by side, each in a process of
its own (this venv's interpreter, the tree's own code): both warm up on the same realistic
lines, then take turns, in alternating order, on the same windows of lines; the CPU time
(`time.process_time`) of each window is compared.

`--answers` instead runs `process_parts` on realistic v1.1 and Jetstream lines, demo lines and
the hostile posts, under several `[geo]` and `[lang]` settings, twice (batches of lists, then
warm caches and newline buffers), and compares every batch's result between the two trees.

    git worktree add /tmp/before <commit>
    .venv/bin/python scripts/bench_worker_pair.py /tmp/before [--count 180000] [--window 2000]
    .venv/bin/python scripts/bench_worker_pair.py /tmp/before --answers

Both trees use this checkout's gazetteer cache (`make setup` builds data/geo) unless
`--geo-cache` says otherwise.
"""

from __future__ import annotations

import argparse
import pickle
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
WARM = 60_000  # lines each tree sees before the timed windows
BATCH = 1000  # lines per process_parts call, as a backlog's batches


def _set_up(
    root: str, geo_cache: str, trust: bool = False, geo: Any = None, langs: Any = None
) -> Any:
    """The worker module of `root`, initialised as the daemon's defaults do."""
    for path in (root, f"{root}/scripts"):
        if path not in sys.path:
            sys.path.insert(0, path)
    from streamer.config import GeoSettings
    from streamer.ingest import worker
    from streamer.ingest.langid.chooser import LanguageChooser

    if not Path(worker.__file__).resolve().is_relative_to(Path(root).resolve()):
        raise SystemExit(f"{worker.__file__} is not the code of {root}")
    worker._chooser = LanguageChooser("default", langs, trust)
    worker.init_geolocation(geo or GeoSettings(), geo_cache)
    worker._trends = worker.TrendCounting()
    return worker


def timing_child(root: str, geo_cache: str, count: int) -> None:
    """Serve "lo hi" requests on stdin with the CPU seconds the window took."""
    worker = _set_up(root, geo_cache)
    import realistic_stream

    lines = [line for line, _ in realistic_stream.generate(count, 1)]
    for i in range(0, WARM, BATCH):
        worker.process_parts([lines[i : i + BATCH]])
    print("ready", flush=True)
    for request in sys.stdin:
        lo, hi = map(int, request.split())
        started = time.process_time()
        for i in range(lo, hi, BATCH):
            worker.process_parts([lines[i : i + BATCH]])
        print(time.process_time() - started, flush=True)


def answers_child(root: str, geo_cache: str, out: str) -> None:
    """Every batch's result under each setting, pickled to `out`."""
    _set_up(root, geo_cache)  # puts the tree on sys.path
    import hostile_posts
    import realistic_stream

    from streamer.config import GeoSettings
    from streamer.sources.generator import generate as demo_v1
    from streamer.sources.jetstream_generator import generate_jetstream

    hostile = argparse.Namespace(
        kinds=list(hostile_posts.KINDS), count=6, tag_bytes=50_000, many=2000
    )
    inputs = {
        "realistic v1.1": [line for line, _ in realistic_stream.generate(60_000, 7)],
        "realistic jetstream": [
            line
            for line, _ in realistic_stream.generate(30_000, 8, fmt="jetstream", collections="all")
        ],
        "demo v1.1": [line for line, _ in demo_v1(20_000, 3, 0.05)],
        "demo jetstream": [line for line, _ in generate_jetstream(20_000, 4)],
        "hostile": list(hostile_posts.hostile_lines(hostile)),
        "junk": [b"", b"{", b"null", b"[]", b'{"delete":{}}', b'{"text":1}', b"\xff\xfe"],
    }
    settings: dict[str, tuple[bool, Any, Any]] = {
        "defaults": (False, None, None),
        "platform trusted": (True, None, None),
        "geo: bio only": (False, GeoSettings(sources=("exact", "bio")), None),
        "geo: profile only": (False, GeoSettings(sources=("place", "profile")), None),
        "geo off": (False, GeoSettings(enabled=False), None),
        "four languages": (False, None, ["en", "fr", "ja", "ar"]),
    }
    results: dict[tuple[str, str], list[Any]] = {}
    for setting, (trust, geo, langs) in settings.items():
        worker = _set_up(root, geo_cache, trust, geo, langs)
        for name, lines in inputs.items():
            batches = [
                tuple(worker.process_parts([lines[i : i + 500]])) for i in range(0, len(lines), 500)
            ]
            batches += [
                tuple(worker.process_parts([b"".join(line + b"\n" for line in lines[i : i + 700])]))
                for i in range(0, len(lines), 700)
            ]
            results[setting, name] = batches
    Path(out).write_bytes(pickle.dumps(results))


def _child(role: str, root: Path, geo_cache: str, *extra: str) -> subprocess.Popen[str]:
    cmd = [sys.executable, __file__, "--child", role, str(root), "--geo-cache", geo_cache, *extra]
    return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def pair_timing(other: Path, geo_cache: str, count: int, window: int) -> int:
    trees = {"this": REPO, "other": other}
    procs = {name: _child("timing", root, geo_cache, str(count)) for name, root in trees.items()}
    for name, proc in procs.items():
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            print(f"{name} tree failed to start", file=sys.stderr)
            return 1
    total = dict.fromkeys(procs, 0.0)
    ratios = []
    for k, lo in enumerate(range(WARM, count, window)):
        order = ["this", "other"] if k % 2 == 0 else ["other", "this"]
        took = {}
        for name in order:
            proc = procs[name]
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(f"{lo} {min(lo + window, count)}\n")
            proc.stdin.flush()
            took[name] = float(proc.stdout.readline())
            total[name] += took[name]
        ratios.append(took["this"] / took["other"])
    for proc in procs.values():
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait()
    timed = count - WARM
    ratios.sort()
    print(f"lines timed: {timed:,} in windows of {window:,}, alternating order")
    print(f"this tree  {1e6 * total['this'] / timed:.2f} µs/line")
    print(f"other tree {1e6 * total['other'] / timed:.2f} µs/line ({other})")
    print(
        f"this / other: {total['this'] / total['other']:.3f} in all, "
        f"median window {ratios[len(ratios) // 2]:.3f}"
    )
    return 0


def pair_answers(other: Path, geo_cache: str) -> int:
    import tempfile

    with tempfile.TemporaryDirectory() as work:
        outs = {name: str(Path(work) / f"{name}.pickle") for name in ("this", "other")}
        procs = [
            _child("answers", root, geo_cache, outs[name])
            for name, root in (("this", REPO), ("other", other))
        ]
        if any(proc.wait() != 0 for proc in procs):
            print("a tree failed", file=sys.stderr)
            return 1
        this, theirs = (pickle.loads(Path(outs[n]).read_bytes()) for n in ("this", "other"))
    differing = 0
    for key, batches in this.items():
        other_batches = theirs.get(key)
        bad = sum(a != b for a, b in zip(batches, other_batches or [], strict=False))
        bad += abs(len(batches) - len(other_batches or []))
        differing += bad
        print(f"{key[0]:>18} | {key[1]:<20} {len(batches):>4} batches, {bad} differ")
    print(f"batches that differ: {differing}")
    return 1 if differing else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other", type=Path, help="the other checkout's root")
    parser.add_argument("--count", type=int, default=180_000, help="lines, warm-up included")
    parser.add_argument("--window", type=int, default=2000, help="lines per timed window")
    parser.add_argument("--answers", action="store_true", help="compare answers, not CPU")
    parser.add_argument("--geo-cache", default=str(REPO / "data" / "geo"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.child == "timing":
        timing_child(str(args.other), args.geo_cache, int(rest[0]))
        return 0
    if args.child == "answers":
        answers_child(str(args.other), args.geo_cache, rest[0])
        return 0
    other = args.other.resolve()
    if not args.answers and args.count <= WARM:
        parser.error(f"--count must exceed the {WARM:,} warm-up lines")
    if args.answers:
        return pair_answers(other, args.geo_cache)
    return pair_timing(other, args.geo_cache, args.count, args.window)


if __name__ == "__main__":
    sys.exit(main())
