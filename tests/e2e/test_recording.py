"""`--record`: rotating gzip NDJSON files that replay reads back exactly."""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path

import redis

from streamer.runtime.recording import Recorder
from streamer.sources.generator import generate
from tests.conftest import TWEETHEAT


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def test_files_rotate_by_age_and_size_and_only_finished_files_are_final(tmp_path: Path) -> None:
    clock = FakeClock()
    rec = Recorder(tmp_path, "jetstream", max_bytes=10**9, max_seconds=60, clock=clock)
    rec.write([b'{"a":1}', b'{"a":2}'])
    assert list(tmp_path.glob("*.ndjson.gz")) == []  # still being written: ".part"
    assert len(list(tmp_path.glob("*.part"))) == 1
    clock.now += 61
    rec.write([b'{"a":3}'])
    rec.close()
    files = sorted(tmp_path.glob("*.ndjson.gz"))
    assert len(files) == 2 and not list(tmp_path.glob("*.part"))
    assert all(f.name.startswith("jetstream-") for f in files)
    lines = [line for f in files for line in gzip.decompress(f.read_bytes()).splitlines()]
    assert lines == [b'{"a":1}', b'{"a":2}', b'{"a":3}']

    small = Recorder(tmp_path / "s", "v2", max_bytes=2000, max_seconds=3600, clock=clock)
    payloads = [line for line, _ in generate(300, seed=2)]
    for i in range(0, 300, 10):
        small.write(payloads[i : i + 10])
    small.close()
    parts = sorted((tmp_path / "s").glob("*.ndjson.gz"))
    assert len(parts) > 3
    assert [x for f in parts for x in gzip.decompress(f.read_bytes()).splitlines()] == payloads


def test_a_recording_replays_to_the_same_counts(
    redis_url: str, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    demo = tmp_path / "demo.ndjson"
    demo.write_bytes(b"".join(line + b"\n" for line, _ in generate(1500, seed=9)))
    common = ["--rate", "max", "--exit-at-eof", "--out", str(tmp_path / "out"),
              "--data-dir", str(tmp_path / "data")]  # fmt: skip
    r = redis.Redis.from_url(redis_url, decode_responses=True)

    def run(*args: str, prefix_db: str) -> dict[str, str]:
        subprocess.run(
            [TWEETHEAT, "run", *args, *common, "--redis-url", prefix_db],
            env=cli_env, cwd=tmp_path, check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        return r.hgetall("tweetheat:pipeline")

    first = run("--replay-file", str(demo), "--record", str(tmp_path / "rec"), prefix_db=redis_url)
    recorded = sorted((tmp_path / "rec").glob("*.ndjson.gz"))
    assert recorded
    r.flushdb()
    second = run("--replay-file", str(tmp_path / "rec" / "*.ndjson.gz"), prefix_db=redis_url)
    assert first == second and int(first["lines"]) == 1500
