"""CPU per line of every process of a daemon run: where the machine's cores go, per post.

Runs `tweetheat run --source replay --rate max --exit-at-eof` (every feature on, as
scripts/bench.py configures it) on `--count` realistic lines against a private redis-server,
and reads each process's CPU time (user + system, /proc/<pid>/stat) when Redis has committed
`--from` and `--to` of the lines: the steady middle of the run, without start-up (detector
builds, gazetteer load) or shut-down (map export). Throughput on a machine whose cores are all
busy is about cores / (CPU per line summed over every process), so this is the figure to cut;
it is also far less disturbed by other jobs than a wall-clock rate.

    .venv/bin/python scripts/bench_process_cpu.py [--count 200000] [--seed 1] [--input demo]
                                                  [--profile-main main.prof]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

import bench  # noqa: E402  (scripts/bench.py: input, config, private Redis, process trees)

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of one process (not of its children), or None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def role(pid: int, main: int) -> str:
    """A short name for a process of the daemon's tree, from its command line."""
    if pid == main:
        return "main (event loop)"
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "?"
    if "forkserver" in cmd and _parent(pid) == main:
        return "forkserver"
    return "child"


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def redis_pid(sock_dir: Path) -> int | None:
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                cmd = Path(entry.path, "cmdline").read_bytes()
            except OSError:
                continue
            if b"redis-server" in cmd and str(sock_dir).encode() in cmd:
                return int(entry.name)
    return None


def snapshot(main: int, redis_server: int | None) -> dict[int, float]:
    pids = bench.process_tree(main)
    if redis_server is not None:
        pids.append(redis_server)
    return {pid: cpu for pid in pids if (cpu := cpu_seconds(pid)) is not None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--input", choices=("realistic", "demo"), default="realistic")
    parser.add_argument("--from", dest="start", type=float, default=0.1, help="share of lines")
    parser.add_argument("--to", dest="end", type=float, default=0.9, help="share of lines")
    parser.add_argument(
        "--profile-main", metavar="FILE", help="run the daemon's main process under cProfile"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tweetheat-cpu-") as tmp:
        work = Path(tmp)
        data = bench.write_input(work / "tweets.ndjson", args.count, args.seed, 0.01, args.input)
        config = bench.write_config(work / "config.toml")
        with bench.private_redis(work / "redis", tcp=False) as url:
            server = redis_pid(work / "redis")
            client = redis.Redis.from_url(url)
            daemon = [bench.TWEETHEAT]
            if args.profile_main:  # profiles the event loop's process (not its children)
                profile = str(Path(args.profile_main).resolve())
                daemon = [bench.PYTHON, "-m", "cProfile", "-o", profile, "-m", "streamer.cli"]
            cmd = [
                *daemon, "run", "--config", str(config), "--source", "replay",
                "--replay-file", str(data.path), "--rate", "max", "--exit-at-eof",
                "--redis-url", url, "--data-dir", str(work / "data"), "--out", str(work / "out"),
                "--log-format", "json",
            ]  # fmt: skip
            marks = [int(args.start * data.lines), int(args.end * data.lines)]
            taken: list[tuple[float, int, dict[int, float]]] = []
            with (work / "log").open("wb") as log:
                proc = subprocess.Popen(cmd, stdout=log, stderr=log, cwd=work)
                roles: dict[int, str] = {}
                while proc.poll() is None and len(taken) < 2:
                    committed = int(client.hget(bench.PIPELINE_KEY, "lines") or 0)
                    for pid in bench.process_tree(proc.pid):
                        roles.setdefault(pid, role(pid, proc.pid))
                    if committed >= marks[len(taken)]:
                        taken.append((time.perf_counter(), committed, snapshot(proc.pid, server)))
                    time.sleep(0.02)
                proc.wait()
            client.close()
            log_tail = (work / "log").read_text(errors="replace")[-2000:]
    if len(taken) < 2:
        print("the daemon exited before the second mark; the end of its log:\n" + log_tail)
        return 1
    (t0, n0, a), (t1, n1, b) = taken
    lines = n1 - n0
    rows: dict[str, float] = {}
    for pid, cpu in b.items():
        name = "redis-server" if pid == server else roles.get(pid, "?")
        if name == "child":  # a pool worker or the analysis process: one row each
            name = f"child {pid}"
        used = cpu - a.get(pid, 0.0)
        if used > 0:
            rows[name] = rows.get(name, 0.0) + used
    total = sum(rows.values())
    print(f"{args.input} input, {data.lines:,} lines; measured over lines {n0:,}..{n1:,}")
    print(f"wall {t1 - t0:.2f} s: {lines / (t1 - t0):,.0f} lines/s; load {os.getloadavg()}\n")
    print("| process | CPU µs/line | share |")
    print("|---|---:|---:|")
    for name, used in sorted(rows.items(), key=lambda kv: -kv[1]):
        print(f"| {name} | {1e6 * used / lines:.1f} | {100 * used / total:.0f}% |")
    print(f"| all | {1e6 * total / lines:.1f} | |")
    print(f"\n2 cores / all: {2 * lines / total:,.0f} lines/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
