"""Replay NDJSON from files, .gz files, globs or stdin ("-"), paced or as fast as possible.

A replay knows where it is: after each chunk, `position()` names the file (by an identity
that survives renames but not edits), its index among the inputs and the byte offset just
after the chunk's last line. The daemon commits that position with each batch, and a
restarted replay of the same inputs continues from it (`resume_from`).
"""

from __future__ import annotations

import asyncio
import glob
import gzip
import hashlib
import os
import sys
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import Any, BinaryIO, cast

from streamer.parser import max_line_bytes
from streamer.sources import LineBlock
from streamer.sources.pacing import Pacer

READ_SIZE = 1 << 20
IDENTITY_BYTES = 1 << 16  # a file is known by its size and the hash of its first 64 KiB


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
    """Turns byte chunks into lines. A line longer than the limit is cut to limit + 1 bytes
    (so the parser counts it as too long), the rest of it is dropped without buffering, and
    the cut line is handed on when its newline arrives, so that every position in `ends`
    falls on a line boundary."""

    def __init__(self, limit: int | None = None, offset: int = 0) -> None:
        self.limit = max_line_bytes() if limit is None else limit
        self._partial = bytearray()
        self._cut: bytes | None = None  # the head of an over-long line, until its newline
        self.offset = offset  # bytes of the input fed so far
        self.ends: list[int] = []  # after feed(): the input offset just past each line returned
        self.block_end = offset  # after feed_block(): the offset just past its last line

    def feed(self, data: bytes) -> list[bytes]:
        lines: list[bytes] = []
        ends: list[int] = []
        base = self.offset
        self.offset += len(data)
        start = 0
        while (end := data.find(b"\n", start)) >= 0:
            if self._cut is not None:
                lines.append(self._cut)
                self._cut = None
            elif self._partial:
                self._partial += data[start:end]
                lines.append(bytes(self._partial[: self.limit + 1]))
                self._partial.clear()
            else:
                lines.append(data[start:end])
            ends.append(base + end + 1)
            start = end + 1
        if start < len(data) and self._cut is None:
            self._partial += data[start:]
            if len(self._partial) > self.limit:
                self._cut = bytes(self._partial[: self.limit + 1])
                self._partial.clear()
        self.ends = ends
        return lines

    def feed_block(self, data: bytes) -> bytes:
        """feed() for the reader: the complete lines as one buffer, each ended by b"\\n",
        instead of a bytes object per line. The same lines, cut the same way; `block_end` is
        then the input offset just past the buffer's last line."""
        last = data.rfind(b"\n")
        if last < 0:
            self.feed(data)  # no line ends here: the pending line only grows (or is cut)
            return b""
        head = b""
        start = 0
        if self._partial or self._cut is not None:
            # The first newline ends the pending line, as feed() puts it together.
            start = data.find(b"\n") + 1
            (line,) = self.feed(data[:start])
            head = line + b"\n"
        self.offset += last + 1 - start
        self.block_end = self.offset
        self.feed(data[last + 1 :])  # the start of the next line, if any
        body = data[start : last + 1] if start or last + 1 < len(data) else data
        return head + body if head else body

    def close(self) -> list[bytes]:
        """The last line of an input may lack its newline."""
        tail = self._cut if self._cut is not None else bytes(self._partial)
        self._partial.clear()
        self._cut = None
        return [tail] if tail else []


def _blocks_of(buffer: bytes, end: int, size: int) -> Iterable[tuple[LineBlock, int]]:
    """The buffer's lines as LineBlocks of at most `size` lines, each with the input offset
    just past its last line (`end` is the buffer's)."""
    count = buffer.count(b"\n")
    if count <= size:
        if count:
            yield LineBlock(buffer, count), end
        return
    base = end - len(buffer)
    start = 0
    while count:
        n = min(size, count)
        stop = start
        for _ in range(n):
            stop = buffer.index(b"\n", stop) + 1
        yield LineBlock(buffer[start:stop], n), base + stop
        start = stop
        count -= n


def file_identity(path: str) -> str:
    """Size and a hash of the head: the same file under another name is the same input."""
    with open(path, "rb") as handle:
        head = handle.read(IDENTITY_BYTES)
    return f"{os.path.getsize(path)}:{hashlib.blake2b(head, digest_size=12).hexdigest()}"


class ReplaySource:
    name = "replay"

    def __init__(
        self, patterns: Sequence[str], rate: float = 0.0, partition: tuple[int, int] | None = None
    ) -> None:
        self.paths = expand_paths(patterns)
        if partition is not None:
            # `--partition i/N`: every N-th input file, starting with the i-th (1-based), so
            # N ingest daemons given the same inputs read each file exactly once between them.
            part, parts = partition
            self.paths = self.paths[part - 1 :: parts]
        self.rate = rate
        self._start = (0, 0)  # (input index, byte offset) to begin at
        self._position: dict[str, Any] | None = None
        # Progress, in bytes of the inputs as stored (compressed bytes for .gz files).
        self.total_bytes = None if "-" in self.paths else sum(map(os.path.getsize, self.paths))
        self.bytes_done = 0

    def position(self) -> dict[str, Any] | None:
        """After the last chunk handed over: {"index", "file", "offset"}; None for stdin."""
        return self._position

    def resume_from(self, position: Any) -> str:
        """Start where a committed position says, if it belongs to these inputs. Returns
        what was decided, for the log."""
        if not isinstance(position, dict) or not {"index", "file", "offset"} <= position.keys():
            return "no saved replay position: starting at the beginning"
        index, offset = int(position["index"]), int(position["offset"])
        if not 0 <= index < len(self.paths) or self.paths[index] == "-":
            return "the saved position is for other inputs: starting at the beginning"
        if file_identity(self.paths[index]) != position["file"]:
            return "the saved position is for another file: starting at the beginning"
        self._start = (index, offset)
        self._position = dict(position)
        return f"resuming input {index + 1} of {len(self.paths)} at byte {offset}"

    async def chunks(self) -> AsyncIterator[LineBlock | list[bytes]]:
        pacer = Pacer(self.rate)
        size = pacer.chunk_size(1000)
        first, skip = self._start
        done_before = 0
        for index, path in enumerate(self.paths):
            stored_size = 0 if path == "-" else os.path.getsize(path)
            if index < first:
                done_before += stored_size
                continue
            offset = skip if index == first else 0
            identity = None if path == "-" else await asyncio.to_thread(file_identity, path)
            handle = await asyncio.to_thread(_open, path)
            stored = getattr(handle, "fileobj", handle)  # progress counts stored bytes
            splitter = LineSplitter(offset=offset)
            try:
                if offset:
                    # On a gzip stream seek() decompresses up to the offset: correct, not fast.
                    await asyncio.to_thread(handle.seek, offset)
                # File reads happen in a thread: the event loop only ever waits on them.
                while data := await asyncio.to_thread(handle.read1, READ_SIZE):  # type: ignore[attr-defined]
                    buffer = splitter.feed_block(data)
                    if path != "-":
                        self.bytes_done = done_before + stored.tell()
                    for chunk, end in _blocks_of(buffer, splitter.block_end, size):
                        await pacer.wait(len(chunk))
                        if identity is not None:
                            self._position = {"index": index, "file": identity, "offset": end}
                        yield chunk
                tail = splitter.close()
                if tail:
                    await pacer.wait(len(tail))
                    if identity is not None:
                        end = splitter.offset
                        self._position = {"index": index, "file": identity, "offset": end}
                    yield tail
            finally:
                if path != "-":
                    handle.close()
            done_before += stored_size
