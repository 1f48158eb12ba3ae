"""Ingest throughput while the bio clusters are refitted, against the same run's idle figure.

Starts a private redis-server, fills the recent-user window with 100,000 synthetic users, then
runs `tweetheat run --source demo --rate max` with a status line every second and the first
refit after 30 s. The posts/s committed while the refit runs (the window ends at the
`clusters_refit` line and lasts its `seconds`) are compared with the rest of the run.

    .venv/bin/python scripts/bench_ingest_during_refit.py [--users 100000] [--seconds 80]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import orjson
import redis

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scripts.bench_clusters import synthetic_users  # noqa: E402

TWEETHEAT = str(Path(sys.executable).with_name("tweetheat"))
FIELD = re.compile(r"(\w+)=(\S+)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def preload_users(client: redis.Redis, count: int) -> None:
    now = time.time()
    users = synthetic_users(count, seed=1)
    for start in range(0, count, 5000):
        part = users[start : start + 5000]
        pipe = client.pipeline(transaction=False)
        pipe.hset(
            "tweetheat:users",
            mapping={u.user_id: orjson.dumps([None, u.bio, u.lang, now]) for u in part},
        )
        pipe.zadd("tweetheat:users:seen", {u.user_id: now for u in part})
        pipe.execute()


def timestamp(line: str) -> float:
    return datetime.fromisoformat(line.split()[0].replace("Z", "+00:00")).timestamp()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=80.0)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="th-bench-"))
    port = free_port()
    server = subprocess.Popen(
        [shutil.which("redis-server") or "redis-server", "--port", str(port), "--bind",
         "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(work)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        url = f"redis://127.0.0.1:{port}/0"
        client = redis.Redis.from_url(url)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        preload_users(client, args.users)
        (work / "config.toml").write_text(
            "[daemon]\nstatus_interval = 1.0\n[maps]\ninterval = 1000.0\n"
            "[clusters]\ninterval = 30.0\n"
        )
        proc = subprocess.Popen(
            [TWEETHEAT, "run", "--source", "demo", "--rate", "max", "--redis-url", url,
             "--out", str(work / "out"), "--data-dir", str(work / "data")],
            cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "TWEETHEAT_CONFIG": str(work / "config.toml")},
        )  # fmt: skip
        time.sleep(args.seconds)
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=120)
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)

    lines = output.splitlines()
    refit = next((line for line in lines if " clusters_refit " in line), None)
    if refit is None:
        print("no refit happened:\n" + output[-3000:])
        return 1
    fields = dict(FIELD.findall(refit))
    end = timestamp(refit)
    start = end - float(fields["seconds"])
    samples = [
        (timestamp(line), float(dict(FIELD.findall(line))["out_per_s"]))
        for line in lines
        if " status " in line
    ]
    first = samples[0][0] + 5  # warm-up: pool start, first batches
    during = [rate for at, rate in samples if start + 1 <= at <= end]
    idle = [rate for at, rate in samples if at >= first and not start <= at <= end + 1]
    idle_mean, during_mean = statistics.mean(idle), statistics.mean(during)
    print(f"users in window : {fields['users']}")
    print(f"refit           : {fields['seconds']} s (fit {fields['fit_s']} s), k={fields['k']}")
    print(f"idle ingest     : {idle_mean:,.0f} posts/s ({len(idle)} one-second samples)")
    print(f"during refit    : {during_mean:,.0f} posts/s ({len(during)} samples)")
    print(f"ratio           : {during_mean / idle_mean:.2f} (target >= 0.80)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
