"""Does Bluesky profile enrichment cost ingest anything? A Jetstream-format replay, twice.

Writes N Jetstream events (`streamer.sources.jetstream_generator`, the demo's) to a temporary
NDJSON file, starts a private redis-server (scripts/bench.py's) and a fake AppView on
127.0.0.1 that answers every getProfiles request after `--delay` seconds (2 by default: a
slow AppView), then runs `tweetheat run --replay-file F --rate max --exit-at-eof` with

  off  `[sources.jetstream] enrich = false`;
  on   enrichment on, pointed at the slow fake AppView (`lookups_per_second` 5, the default);

alternating, `--repeat` times each, with a FLUSHALL between runs. The rate is lines committed
per second between the daemon's first commit and its last (start-up and shut-down left out),
read from its Redis counter every 20 ms. A finished replay waits for queued
lookups (`eof_drain_seconds`): set to 0 here, since only ingest is measured.

    .venv/bin/python scripts/bench_enrichment.py [--count 300000] [--repeat 2] [--delay 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import redis

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from bench import PIPELINE_KEY, TWEETHEAT, header, private_redis, stop_group, table  # noqa: E402

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


def ingest_rate(replay: Path, lines: int, url: str, work: Path, config: Path) -> tuple[float, Any]:
    """Lines committed per second between the first commit and the last: start-up (pool,
    imports) and shut-down (maps) are left out. Polls the daemon's Redis counter."""
    work.mkdir(parents=True, exist_ok=True)
    cmd = [
        TWEETHEAT, "run", "--config", str(config), "--source", "replay",
        "--replay-file", str(replay), "--rate", "max", "--exit-at-eof", "--redis-url", url,
        "--data-dir", str(work / "data"), "--out", str(work / "out"), "--log-format", "json",
    ]  # fmt: skip
    client = redis.Redis.from_url(url)
    first: tuple[float, int] | None = None
    last: float | None = None
    with (work / "stdout.log").open("wb") as out:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, cwd=work, start_new_session=True
        )
        deadline = time.monotonic() + 900
        while last is None and time.monotonic() < deadline and proc.poll() is None:
            done = int(client.hget(PIPELINE_KEY, "lines") or 0)
            now = time.perf_counter()
            if done and first is None:
                first = (now, done)
            if done >= lines:
                last = now
            time.sleep(0.02)
        if first is None or last is None:
            stop_group(proc)
            raise RuntimeError(f"the daemon failed: see {work / 'stdout.log'}")
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:  # measured already; say so, and stop it
            print(f"note: {work.name}: the daemon had not exited 60 s after its last commit",
                  file=sys.stderr)  # fmt: skip
            stop_group(proc)
    client.close()
    events = [json.loads(x) for x in (work / "stdout.log").read_text().splitlines()
              if x.startswith("{")]  # fmt: skip
    stopped: dict[str, Any] = next(
        (e for e in reversed(events) if e.get("event") == "enrichment_stopped"), {}
    )
    return (lines - first[1]) / max(last - first[0], 1e-9), stopped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=300_000, help="Jetstream events")
    parser.add_argument("--repeat", type=int, default=2, help="runs per configuration")
    parser.add_argument("--delay", type=float, default=2.0, help="the AppView's answer delay")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-enrich-") as tmp:
        work = Path(tmp)
        replay = work / "jetstream.ndjson"
        with replay.open("wb") as fh:
            for line, _ in generate_jetstream(args.count, args.seed):
                fh.write(line + b"\n")
        results: dict[str, list[float]] = {"off": [], "on": []}
        counters: dict[str, Any] = {}
        with FakeAppView(delay=args.delay) as appview, private_redis(work / "redis", False) as url:
            client = redis.Redis.from_url(url)
            configs = {
                name: write_config(work / f"{name}.toml", name == "on", appview.url)
                for name in ("off", "on")
            }
            for i in range(args.repeat):
                for name, config in configs.items():
                    client.flushall()
                    rate, stopped = ingest_rate(
                        replay, args.count, url, work / f"{name}-{i}", config
                    )
                    results[name].append(rate)
                    if name == "on":
                        counters = stopped
            client.close()
            asked = len(appview.asked)

    lines = header("Ingest with and without Bluesky profile enrichment")
    lines.append(
        f"input: {args.count} Jetstream events (seed {args.seed}); fake AppView answering after "
        f"{args.delay:g} s; {args.repeat} runs each, alternating; lines committed per second "
        "from the first commit to the last"
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
