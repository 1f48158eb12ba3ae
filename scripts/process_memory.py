"""Where a running daemon's memory goes: each of its processes' RSS, PSS and USS over time.

Attach it to a `tweetheat run` (by pid, or the newest one started from this checkout's venv)
while a benchmark drives it, e.g. beside `scripts/bench.py --steady 6000 --seconds 60`:

    .venv/bin/python scripts/process_memory.py [--pid PID] [--every 0.5] [--wait 120]

Every `--every` seconds it reads /proc/<pid>/smaps_rollup of the daemon and all its
descendants. Each process gets a role: main, forkserver, resource_tracker, worker (a pool
process at normal priority), analysis (the process of maps and clustering runs at nice 10;
"clustering" once scikit-learn is mapped into it). When the daemon exits it prints one row per
process (its peak RSS, the PSS and USS at that moment) and the peak of the RSS sum, the
definition `scripts/bench.py` reports as peak RSS, with the moment it happened. USS (private
pages) is what a process alone costs; RSS counts pages shared with its siblings in each one.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

KIB = 1024
MIB = 1024 * 1024


@dataclass
class Usage:
    rss: int = 0
    pss: int = 0
    uss: int = 0


@dataclass
class Peak:
    role: str
    rss: Usage
    at: float


def children_of() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def descendants(root: int) -> list[int]:
    tree, out, todo = children_of(), [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(tree.get(pid, ()))
    return out


def usage(pid: int) -> Usage | None:
    fields: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
            name, value, *_ = line.split()
            fields[name.rstrip(":")] = int(value) * KIB
    except (OSError, ValueError):
        return None
    uss = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
    return Usage(fields.get("Rss", 0), fields.get("Pss", 0), uss)


def role(pid: int, root: int) -> str:
    if pid == root:
        return "main"
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ppid, nice = int(stat[1]), int(stat[16])
        maps = Path(f"/proc/{pid}/maps").read_text() if nice > 0 else ""
    except (OSError, ValueError, IndexError):
        return "?"
    if "forkserver" in cmdline and ppid == root:  # its children share its command line
        return "forkserver"
    if "resource_tracker" in cmdline:
        return "resource_tracker"
    if nice > 0:
        return "clustering" if "sklearn" in maps or "hdbscan" in maps else "analysis"
    return "worker"


def find_daemon() -> int | None:
    """The newest `tweetheat run` started from this checkout's venv."""
    venv = str(Path(sys.executable).parent)
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                argv = Path(entry.path, "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            text = [a.decode(errors="replace") for a in argv]
            if any(a.startswith(venv) and a.endswith("tweetheat") for a in text[:2]) and (
                "run" in text
            ):
                found.append(int(entry.name))
    return max(found) if found else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pid", type=int, default=None, help="the daemon (default: find it)")
    parser.add_argument("--every", type=float, default=0.5, help="seconds between samples")
    parser.add_argument("--wait", type=float, default=120.0, help="seconds to wait for it")
    parser.add_argument(
        "--timeline", type=float, default=0.0, help="also print each role's RSS every N seconds"
    )
    args = parser.parse_args()
    root = args.pid
    deadline = time.monotonic() + args.wait
    while root is None and time.monotonic() < deadline:
        root = find_daemon()
        if root is None:
            time.sleep(0.2)
    if root is None:
        print("no tweetheat run found", file=sys.stderr)
        return 1
    started = time.monotonic()
    peaks: dict[int, Peak] = {}
    roles: dict[int, str] = {}
    total_peak, total_at, total_parts = 0, 0.0, ""
    next_line = 0.0
    while Path(f"/proc/{root}").exists():
        now = time.monotonic() - started
        total, parts = 0, []
        for pid in descendants(root):
            used = usage(pid)
            if used is None:
                continue
            if roles.get(pid) in (None, "?", "worker", "analysis"):  # nice 10 comes later
                roles[pid] = role(pid, root)
            total += used.rss
            parts.append(f"{roles[pid]}:{used.rss // MIB}")
            peak = peaks.get(pid)
            if peak is None or used.rss > peak.rss.rss:
                peaks[pid] = Peak(roles[pid], used, now)
            peaks[pid].role = roles[pid]
        if args.timeline and now >= next_line:
            next_line = now + args.timeline
            print(f"t={now:6.1f} s  sum {total // MIB:5d} MiB  {' '.join(sorted(parts))}")
        if total > total_peak:
            total_peak, total_at, total_parts = total, now, " ".join(sorted(parts))
        time.sleep(args.every)
    print(f"{'pid':>8} {'role':<17} {'peak RSS':>9} {'PSS':>6} {'USS':>6} {'at (s)':>7}")
    for pid, peak in sorted(peaks.items()):
        u = peak.rss
        print(
            f"{pid:>8} {peak.role:<17} {u.rss / MIB:>5.0f} MiB {u.pss / MIB:>6.0f} "
            f"{u.uss / MIB:>6.0f} {peak.at:>7.1f}"
        )
    print(f"peak of the RSS sum: {total_peak / MIB:.0f} MiB at {total_at:.1f} s ({total_parts})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
