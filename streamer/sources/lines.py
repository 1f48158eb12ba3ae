"""Byte chunks to lines, with a cap on a line's length that never buffers an over-long line."""

from __future__ import annotations

from streamer.config import DEFAULT_MAX_LINE_BYTES


class LineSplitter:
    """Turns byte chunks into lines. A line longer than the limit is cut to limit + 1 bytes
    (so the parser counts it as too long), the rest of it is dropped without buffering, and
    the cut line is handed on when its newline arrives, so that every position in `ends`
    falls on a line boundary."""

    def __init__(self, limit: int = DEFAULT_MAX_LINE_BYTES, offset: int = 0) -> None:
        self.limit = limit
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
        if head:  # one copy of the block, not a slice and then the slice again
            return b"".join((head, memoryview(data)[start : last + 1]))
        return data[: last + 1] if last + 1 < len(data) else data

    def close(self) -> list[bytes]:
        """The last line of an input may lack its newline."""
        tail = self._cut if self._cut is not None else bytes(self._partial)
        self._partial.clear()
        self._cut = None
        return [tail] if tail else []
