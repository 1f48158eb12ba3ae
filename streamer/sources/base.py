"""What every source hands over: chunks of raw lines (a list, or one LineBlock buffer)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Protocol, overload


class LineBlock(Sequence[bytes]):
    """A chunk of lines held as one buffer, each line ended by b"\\n" (a replay reads its files
    this way): the pipeline hands the buffer on to a pool process whole, so no bytes object is
    made per line in the event loop. Iterating or indexing it splits it (slow, for tests)."""

    __slots__ = ("data", "length")

    def __init__(self, data: bytes, length: int) -> None:
        self.data = data
        self.length = length  # how many lines: the newlines in data

    def lines(self) -> list[bytes]:
        lines = self.data.split(b"\n")
        lines.pop()  # after the last newline: nothing
        return lines

    def __len__(self) -> int:
        return self.length

    @overload
    def __getitem__(self, index: int) -> bytes: ...
    @overload
    def __getitem__(self, index: slice) -> list[bytes]: ...
    def __getitem__(self, index: int | slice) -> bytes | list[bytes]:
        return self.lines()[index]

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.lines())

    def __repr__(self) -> str:
        return f"LineBlock({self.length} lines, {len(self.data)} bytes)"


class Source(Protocol):
    name: str

    def chunks(self) -> AsyncIterator[Sequence[bytes]]:
        """Raw lines, a chunk at a time (a list of lines or a LineBlock), ending when the source
        is exhausted."""
        ...
