#!/usr/bin/env python3
"""Memory soak of the trend keys: the daemon on a flood of ever-new random hashtags.

Starts a private redis-server on a free loopback port and `tweetheat run` reading a generated
stream from stdin (`--replay-file -`) at `--rate` posts/s. Event time runs `--speedup` times
faster than the wall clock (default 60: one event minute per wall second), so an hour of wall
time covers 60 hours of event time and the 24-hour retention is reached after 24 minutes:
after that the trend keys must stop growing. Every post carries two hashtags never seen
before and one of a few perennial tags; a share of posts carry a point, so the per-tag point
lists and their per-language cap are exercised too. Posts come in `--langs` languages (the
platform label is trusted).

Every `--sample-seconds` it samples, with `MEMORY USAGE` of every `trend:*` key (one SCAN),
the trend keys' count and bytes, the buckets retained per language, the point lists, and
Redis used_memory; at the end it prints one markdown table (and the bound it must stay under).

    .venv/bin/python scripts/soak_trends.py [--minutes 60] [--rate 2000] [--speedup 60]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import redis

REPO = Path(__file__).resolve().parents[1]
TWEETHEAT = REPO / ".venv" / "bin" / "tweetheat"
PREFIX = "tweetheat:"
START = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
TWITTER_TIME = "%a %b %d %H:%M:%S +0000 %Y"
WORDS = {
    "en": [
        "the",
        "people",
        "are",
        "talking",
        "about",
        "this",
        "today",
        "and",
        "nobody",
        "knows",
        "why",
    ],
    "es": ["la", "gente", "habla", "de", "esto", "hoy", "y", "nadie", "sabe", "por", "que"],
    "ja": ["今日", "は", "みんな", "これ", "について", "話して", "います"],
    "pt": ["as", "pessoas", "falam", "sobre", "isso", "hoje", "e", "ninguem", "sabe", "por", "que"],
}
PERENNIAL = ("news", "music", "love", "sports", "tv")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def random_tag(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_lowercase, k=10))


def tweet(i: int, rng: random.Random, rate: float, speedup: float, langs: list[str]) -> bytes:
    lang = langs[i % len(langs)]
    when = START + i / rate * speedup
    tags = [random_tag(rng), random_tag(rng), rng.choice(PERENNIAL)]
    words = rng.choices(WORDS[lang], k=6)
    obj: dict[str, object] = {
        "id_str": str(10**15 + i),
        "created_at": datetime.fromtimestamp(when, UTC).strftime(TWITTER_TIME),
        "text": " ".join(words) + " " + " ".join("#" + t for t in tags),
        "lang": lang,
        "user": {"id_str": str(i % 5000), "screen_name": f"u{i % 5000}"},
        "entities": {"hashtags": [{"text": t} for t in tags]},
    }
    if i % 7 == 0:  # every language gets points
        obj["coordinates"] = {
            "type": "Point",
            "coordinates": [rng.uniform(-120, 140), rng.uniform(-40, 60)],
        }
    return orjson.dumps(obj) + b"\n"


def feed(proc: subprocess.Popen[bytes], args: argparse.Namespace, stop: threading.Event) -> None:
    rng = random.Random(args.seed)
    langs = args.langs.split(",")
    assert proc.stdin is not None
    i = 0
    try:
        while not stop.is_set():
            block = b"".join(tweet(i + k, rng, args.rate, args.speedup, langs) for k in range(1000))
            i += 1000
            proc.stdin.write(block)  # blocks while the daemon's paced reader is behind
    except (BrokenPipeError, OSError):
        pass
    finally:
        with contextlib.suppress(OSError):
            proc.stdin.close()


def sample(client: redis.Redis) -> dict[str, int]:
    names = list(client.scan_iter(match=f"{PREFIX}trend:*", count=1000))
    total = 0
    for s in range(0, len(names), 1000):
        pipe = client.pipeline(transaction=False)
        for name in names[s : s + 1000]:
            pipe.memory_usage(name)
        total += sum(int(x or 0) for x in pipe.execute())
    langs = [m.decode() for m in client.smembers(f"{PREFIX}trend:langs")]
    buckets = max((client.zcard(f"{PREFIX}trend:{lang}:buckets") for lang in langs), default=0)
    point_lists = sum(1 for n in names if b":points:" in n)
    counters = client.hgetall(f"{PREFIX}pipeline")
    return {
        "keys": len(names),
        "bytes": total,
        "langs": len(langs),
        "buckets": int(buckets),
        "point_lists": point_lists,
        "used_memory": int(client.info("memory")["used_memory"]),
        "accepted": int(counters.get(b"accepted", 0)),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--rate", type=float, default=2000.0)
    ap.add_argument("--speedup", type=float, default=60.0)
    ap.add_argument("--sample-seconds", type=float, default=60.0)
    ap.add_argument("--langs", default="en,es,ja,pt")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server is not installed (make setup)")
    tmp = Path(tempfile.mkdtemp(prefix="soak-trends-"))
    port = free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    config = tmp / "config.toml"
    config.write_text(
        "[lang]\ntrust_platform = true\n[clusters]\nenabled = false\n[maps]\ninterval = 600.0\n"
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    daemon = subprocess.Popen(
        [str(TWEETHEAT), "run", "--config", str(config), "--redis-url", url,
         "--data-dir", str(tmp / "data"), "--out", str(tmp / "out"), "--source", "replay",
         "--replay-file", "-", "--rate", str(args.rate), "--exit-at-eof", "--no-http",
         "--log-format", "json"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / "daemon.log", "wb"),  # noqa: SIM115 - closed with the process
        env={**os.environ, "TWEETHEAT_HTTP_PORT": "0"},
    )  # fmt: skip
    stop = threading.Event()
    feeder = threading.Thread(target=feed, args=(daemon, args, stop), daemon=True)
    feeder.start()
    rows: list[tuple[float, dict[str, int]]] = []
    began = time.monotonic()
    try:
        end = began + args.minutes * 60
        next_at = began + args.sample_seconds
        while time.monotonic() < end:
            time.sleep(max(0.0, min(next_at, end) - time.monotonic()))
            if time.monotonic() >= next_at:
                row = sample(client)
                rows.append(((time.monotonic() - began) / 60, row))
                print(f"minute {rows[-1][0]:.0f}: {row}", file=sys.stderr, flush=True)
                next_at += args.sample_seconds
        stop.set()
        daemon.wait(timeout=120)
        rows.append(((time.monotonic() - began) / 60, sample(client)))
    finally:
        stop.set()
        if daemon.poll() is None:
            daemon.terminate()
            daemon.wait(timeout=60)
        server.terminate()
        server.wait(timeout=30)
    print_table(rows, args)
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


def print_table(rows: list[tuple[float, dict[str, int]]], args: argparse.Namespace) -> None:
    mb = 1024 * 1024
    print(
        f"\nsoak_trends: {args.rate:.0f} posts/s, event time x{args.speedup:.0f}, "
        f"{args.langs}, 3 tags per post (2 never seen before), 1 post in 7 with a point\n"
    )
    print("| wall min | event hours | posts stored | trend keys | trend MB | buckets/lang "
          "| point lists | Redis used MB |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for minute, r in rows:
        hours = r["accepted"] / args.rate * args.speedup / 3600
        print(
            f"| {minute:.0f} | {hours:.1f} | {r['accepted']:,} | {r['keys']:,} | "
            f"{r['bytes'] / mb:.1f} | {r['buckets']} | {r['point_lists']} | "
            f"{r['used_memory'] / mb:.1f} |"
        )


if __name__ == "__main__":
    raise SystemExit(main())
