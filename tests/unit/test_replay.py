from __future__ import annotations

import asyncio
import gzip
import random
from pathlib import Path

import pytest

from streamer.sources.lines import LineSplitter
from streamer.sources.replay import ReplaySource, count_lines, expand_paths


def test_splitter_joins_lines_across_reads_and_keeps_the_last_unterminated_line() -> None:
    s = LineSplitter(limit=100)
    assert s.feed(b'{"a":1}\n{"b"') == [b'{"a":1}']
    assert s.feed(b":2}\n\n{") == [b'{"b":2}', b""]
    assert s.feed(b'"c":3}') == []
    assert s.close() == [b'{"c":3}']


def test_splitter_cuts_overlong_lines_without_buffering_them() -> None:
    s = LineSplitter(limit=10)
    out = s.feed(b"x" * 8)
    out += s.feed(b"y" * 50)  # now over the limit: emitted cut, the rest is discarded
    out += s.feed(b"z" * 50 + b"\nok\n")
    assert out == [b"x" * 8 + b"yyy", b"ok"]
    assert len(out[0]) == 11  # limit + 1, so the parser can tell it was too long


def run_source(src: ReplaySource) -> list[bytes]:
    async def collect() -> list[bytes]:
        return [line async for chunk in src.chunks() for line in chunk]

    return asyncio.run(collect())


def test_replay_reads_plain_gz_and_globs_in_order(tmp_path: Path) -> None:
    (tmp_path / "a.ndjson").write_bytes(b"1\n2\n")
    with gzip.open(tmp_path / "b.ndjson.gz", "wb") as fh:
        fh.write(b"3\n4")
    src = ReplaySource([str(tmp_path / "*.ndjson*")])
    assert run_source(src) == [b"1", b"2", b"3", b"4"]


def test_a_pattern_that_matches_nothing_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no file matches"):
        expand_paths([str(tmp_path / "*.ndjson")])
    with pytest.raises(FileNotFoundError):
        expand_paths([str(tmp_path / "missing.ndjson")])


def test_count_lines_counts_every_newline_whatever_the_line_lengths() -> None:
    rnd = random.Random(7)
    long_lines = b"".join(b"x" * rnd.randrange(600, 5000) + b"\n" for _ in range(100))
    short_lines = b"".join(b"y" * rnd.randrange(0, 100) + b"\n" for _ in range(500))
    for buffer in (
        long_lines, short_lines, long_lines + short_lines, short_lines + long_lines,
        long_lines + b"partial", b"", b"no newline", b"\n", b"\n" * 1000,
    ):  # fmt: skip
        assert count_lines(buffer) == buffer.count(b"\n")
