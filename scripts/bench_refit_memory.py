"""Peak memory of the clustering process through a whole refit and the assignments after it.

A 60 s steady run (scripts/bench.py --steady) stops about when the first refit starts, so its
peak RSS may miss the refit's. This replays what the daemon's clustering process does, in this
process: it receives a full window of users (`[clusters] max_users`, from the realistic
generator, scripts/realistic_stream.py) in parts, refits, hands the assignments back in parts,
then assigns a batch of newly seen users, and prints its peak RSS (VmHWM) after each step.

The bios come labelled with their own languages, as the daemon's ingest workers label them
(here by a child process, which also generates them); `--local-labels` sends them unlabelled,
as when no worker can be asked, so that this process builds the detector itself.

    .venv/bin/python scripts/bench_refit_memory.py [--users 100000] [--new 5000] [--seed 1]
                                                   [--local-labels]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))


def status_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def window(users: int, new: int, seed: int) -> list[tuple[str, str, str | None]]:
    """The newest `users + new` distinct (user id, bio, post language) of a realistic stream."""
    import realistic_stream

    latest: dict[str, tuple[str, str, str | None]] = {}
    for made in realistic_stream.generate(users * 4, seed):
        line = made[0] if isinstance(made, tuple) else made
        try:
            post = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        user = post.get("user") if isinstance(post, dict) else None
        if user:
            uid = user["id_str"]
            latest.pop(uid, None)
            latest[uid] = (uid, user.get("description") or "", post.get("lang"))
            if len(latest) >= users + new:
                break
    return list(latest.values())


PART = 5000  # users per line of the generated file (live_clusters.PART_SIZE)


def parts(path: Path) -> Iterator[list[tuple[str, str, str | None]]]:
    with path.open("rb") as lines:
        for line in lines:
            yield [tuple(row) for row in orjson.loads(line)]


def run(data: Path, args: argparse.Namespace, labelled: bool) -> None:
    """The clustering process's calls, the users read from `data` a part at a time, as they
    arrive in the daemon: this process holds no copy of the window besides the refit's."""
    from analysis import live_clusters
    from streamer.config import ClustersSettings
    from streamer.core.memory import fix_mmap_threshold

    fix_mmap_threshold()  # as the daemon's analysis process sets it

    print(
        f"{args.users:,} users to refit, {args.new:,} new users after it; bios "
        f"{'labelled by this process' if not labelled else 'labelled as the workers do'}"
    )
    print(f"before the first call: RSS {status_mib('VmRSS'):.0f} MiB")
    live_clusters.prepare()  # as the analysis process does once data arrives
    print(f"prepared (imports, word tables): RSS {status_mib('VmRSS'):.0f} MiB")
    settings = ClustersSettings()
    received = 0
    new_rows: list[tuple[str, str, str | None]] = []
    with tempfile.TemporaryDirectory() as out:
        t0 = time.process_time()
        for part in parts(data):
            if received >= args.users:
                new_rows += part
                continue
            live_clusters.receive_users(part, not received, labelled)
            received += len(part)
        outcome = live_clusters.refit_received(settings, Path(out))
        while live_clusters.take_assignments(live_clusters.PART_SIZE):
            pass
        print(
            f"refit: {outcome.users:,} users clustered ({outcome.skipped or 'fitted'}) in "
            f"{time.process_time() - t0:.1f} s CPU; peak RSS {status_mib('VmHWM'):.0f} MiB, "
            f"RSS after {status_mib('VmRSS'):.0f} MiB"
        )
        t0 = time.process_time()
        assigned = live_clusters.assign_new(new_rows, labelled)
        print(
            f"assign: {len(assigned):,} users in {time.process_time() - t0:.1f} s CPU; peak RSS "
            f"{status_mib('VmHWM'):.0f} MiB, RSS after {status_mib('VmRSS'):.0f} MiB"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000, help="the refit's window")
    parser.add_argument("--new", type=int, default=5000, help="users assigned after it")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--local-labels", action="store_true", help="label bios in this process")
    parser.add_argument("--write", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write is not None:  # the child that generates, so its tables are not counted here
        rows = window(args.users, args.new, args.seed)
        if not args.local_labels:
            from analysis.bios import bio_languages

            own = bio_languages([r[1] for r in rows], [r[2] for r in rows])
            rows = [(r[0], r[1], lang) for r, lang in zip(rows, own, strict=True)]
        with args.write.open("wb") as out:  # a part per line: the reader holds one at a time
            for start in range(0, len(rows), PART):
                out.write(orjson.dumps(rows[start : start + PART]) + b"\n")
        return 0
    labelled = not args.local_labels
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "users.json"
        generate = [sys.executable, __file__, "--users", str(args.users), "--new", str(args.new)]
        generate += ["--seed", str(args.seed), "--write", str(data)]
        subprocess.run(generate + (["--local-labels"] if args.local_labels else []), check=True)
        run(data, args, labelled)
    return 0


if __name__ == "__main__":
    sys.exit(main())
