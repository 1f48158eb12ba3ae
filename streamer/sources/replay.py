"""Replay NDJSON from files, .gz files, globs or stdin ("-"), paced or as fast as possible."""

from __future__ import annotations

import asyncio
import glob
import gzip
import sys
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import BinaryIO, cast

from streamer.parser import MAX_LINE_BYTES
from streamer.sources.pacing import Pacer

READ_SIZE = 1 << 20


def expand_paths(patterns: Sequence[str]) -> list[str]:
    """Globs expand in sorted order; a pattern that matches nothing is an error, not silence."""
    out: list[str] = []
    for pattern in patterns:
        if pattern == "-":
            out.append(pattern)
            continue
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not matches or not all(Path(m).is_file() for m in matches):
            raise FileNotFoundError(f"source.replay_files: no file matches {pattern!r}")
        out.extend(matches)
    return out


def _open(path: str) -> BinaryIO:
    if path == "-":
        return sys.stdin.buffer
    handle = open(path, "rb")  # noqa: SIM115 - closed by the reader
    if handle.peek(2)[:2] == b"\x1f\x8b":  # gzip by content, whatever the name
        return cast(BinaryIO, gzip.GzipFile(fileobj=handle, mode="rb"))
    return cast(BinaryIO, handle)


class LineSplitter:
    """Turns byte chunks into lines; a line longer than the limit is cut to limit + 1 bytes
    (so the parser counts it as too long) and the rest of it is dropped without buffering."""

    def __init__(self, limit: int = MAX_LINE_BYTES) -> None:
        self.limit = limit
        self._partial = bytearray()
        self._discarding = False

    def feed(self, data: bytes) -> list[bytes]:
        lines: list[bytes] = []
        start = 0
        while True:
            end = data.find(b"\n", start)
            if end < 0:
                break
            piece = data[start:end]
            if self._discarding:
                self._discarding = False
            elif self._partial:
                self._partial += piece
                lines.append(bytes(self._partial[: self.limit + 1]))
                self._partial.clear()
            else:
                lines.append(piece)
            start = end + 1
        rest = data[start:]
        if rest and not self._discarding:
            self._partial += rest
            if len(self._partial) > self.limit:
                lines.append(bytes(self._partial[: self.limit + 1]))
                self._partial.clear()
                self._discarding = True
        return lines

    def close(self) -> list[bytes]:
        """The last line of a file may lack its newline."""
        tail = [] if self._discarding or not self._partial else [bytes(self._partial)]
        self._partial.clear()
        self._discarding = False
        return tail


def _chunks_of(lines: list[bytes], size: int) -> Iterable[list[bytes]]:
    for i in range(0, len(lines), size):
        yield lines[i : i + size]


class ReplaySource:
    name = "replay"

    def __init__(self, patterns: Sequence[str], rate: float = 0.0) -> None:
        self.paths = expand_paths(patterns)
        self.rate = rate

    async def chunks(self) -> AsyncIterator[list[bytes]]:
        pacer = Pacer(self.rate)
        size = pacer.chunk_size(1000)
        for path in self.paths:
            handle = await asyncio.to_thread(_open, path)
            splitter = LineSplitter()
            try:
                # File reads happen in a thread: the event loop only ever waits on them.
                while data := await asyncio.to_thread(handle.read1, READ_SIZE):  # type: ignore[attr-defined]
                    for chunk in _chunks_of(splitter.feed(data), size):
                        await pacer.wait(len(chunk))
                        yield chunk
                tail = splitter.close()
                if tail:
                    await pacer.wait(len(tail))
                    yield tail
            finally:
                if path != "-":
                    handle.close()
