"""Does Bluesky profile enrichment cost ingest anything? A Jetstream-format replay, twice.

Writes N Jetstream events (`streamer.sources.jetstream_generator`, the demo's) to a temporary
NDJSON file, starts a private redis-server (scripts/bench.py's) and a fake AppView on
127.0.0.1 that answers every getProfiles request after `--delay` seconds (2 by default: a
slow AppView), then runs `tweetheat run --replay-file F --rate max --exit-at-eof` with

  off  `[sources.jetstream] enrich = false`;
  on   enrichment on, pointed at the slow fake AppView (`lookups_per_second` 5, the default);

alternating, `--repeat` times each, with a FLUSHALL between runs. Ingest time is the time
until Redis counted every line (polled every 0.1 s), less the same daemon's time for a one-line
file (start-up: pool, Redis, imports); posts/s = N / that. A finished replay waits for queued
lookups (`eof_drain_seconds`): set to 0 here, since only ingest is measured.

    .venv/bin/python scripts/bench_enrichment.py [--count 40000] [--repeat 2] [--delay 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import redis

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from bench import header, private_redis, run_ours, table  # noqa: E402

from streamer.sources.jetstream_generator import generate_jetstream  # noqa: E402
from tests.fake_appview import FakeAppView  # noqa: E402


def write_config(path: Path, enrich: bool, appview_url: str) -> Path:
    path.write_text(
        "[redis]\nlist_cap = 10000000\n"
        "[clusters]\nenabled = true\n"
        "[sources.jetstream]\n"
        f"enrich = {'true' if enrich else 'false'}\n"
        f'appview_url = "{appview_url}"\n'
        "eof_drain_seconds = 0.0\n"
    )
    return path


def ingest_seconds(
    replay: Path, lines: int, url: str, work: Path, config: Path
) -> tuple[float, Any]:
    run = run_ours(replay, url, work, config, expect_lines=lines, timeout=900)
    if run.failed or run.committed_at is None:
        raise RuntimeError(f"the daemon failed: {run.stderr[-2000:]}")
    return run.committed_at, run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=40_000, help="Jetstream events")
    parser.add_argument("--repeat", type=int, default=2, help="runs per configuration")
    parser.add_argument("--delay", type=float, default=2.0, help="the AppView's answer delay")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-enrich-") as tmp:
        work = Path(tmp)
        replay, one = work / "jetstream.ndjson", work / "one.ndjson"
        with replay.open("wb") as fh:
            for line, _ in generate_jetstream(args.count, args.seed):
                fh.write(line + b"\n")
        one.write_bytes(replay.read_bytes().split(b"\n", 1)[0] + b"\n")
        results: dict[str, list[float]] = {"off": [], "on": []}
        counters: dict[str, Any] = {}
        with FakeAppView(delay=args.delay) as appview, private_redis(work / "redis", False) as url:
            client = redis.Redis.from_url(url)
            configs = {
                name: write_config(work / f"{name}.toml", name == "on", appview.url)
                for name in ("off", "on")
            }
            startup = {}
            for name, config in configs.items():
                client.flushall()
                startup[name], _ = ingest_seconds(one, 1, url, work / f"{name}-one", config)
            for i in range(args.repeat):
                for name, config in configs.items():
                    client.flushall()
                    seconds, run = ingest_seconds(
                        replay, args.count, url, work / f"{name}-{i}", config
                    )
                    results[name].append(args.count / max(seconds - startup[name], 1e-9))
                    if name == "on":
                        counters = run.last("enrichment_stopped")
            client.close()
            asked = len(appview.asked)

    lines = header("Ingest with and without Bluesky profile enrichment")
    lines.append(
        f"input: {args.count} Jetstream events (seed {args.seed}); fake AppView answering after "
        f"{args.delay:g} s; {args.repeat} runs each, alternating; start-up subtracted "
        f"(off {startup['off']:.2f} s, on {startup['on']:.2f} s)"
    )
    rows = [["enrichment", "posts/s (median)", "runs"]]
    for name in ("off", "on"):
        rates = results[name]
        rows.append(
            [name, f"{statistics.median(rates):,.0f}", ", ".join(f"{r:,.0f}" for r in rates)]
        )
    lines += table(rows, [False, True, False])
    off, on = statistics.median(results["off"]), statistics.median(results["on"])
    lines.append(f"on / off: {on / off:.3f} ({(on / off - 1) * 100:+.1f}%)")
    fields = ("requested", "queued", "cached", "dropped", "fetched", "requests", "queue_depth")
    lines.append(
        "last 'on' run: "
        + ", ".join(f"{f}={counters.get('enrich_' + f)}" for f in fields)
        + f"; AppView requests over all runs: {asked}"
    )
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
