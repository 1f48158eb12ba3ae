"""The write-ahead journal: every batch on disk before it goes to Redis, kept until Redis has it.

Why: Redis with `appendfsync everysec` can lose its last second in a crash, and a live stream
cannot rewind. Each batch gets a sequence number and lands here first; Redis commits that
number with the batch (see `Store.commit_batch`). After a Redis crash the writer compares the
two and sends again what Redis lost; after a daemon crash the next run sends what Redis never
got. Acknowledged batches are kept for `keep_seconds` (far longer than Redis's fsync interval),
then their segment files are deleted, so the journal stays small. Memory holds only an index
(a few numbers per batch); batches are read back from disk when they must be sent again.

Format: segment files `<first seq>.log` of records, each `<length u32><crc32 u32><orjson>`.
A record is either a batch `["b", seq, position, counters, records, 1]` (records packed as the
commit script reads them, `streamer.core.records.pack_records`; with trends on, a 7th item
holds the batch's packed trend counts, `streamer.core.trend_packing`; an older journal's
batches have no trailing 1 and hold `Detected` tuples) or an acknowledgement
`["a", seq, unix time]`. A torn record at the end (a crash mid-write) is cut off on open.
"""

from __future__ import annotations

import os
import struct
import time
import zlib
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from streamer.core.logs import get_logger
from streamer.core.records import Detected, PackedRecords

log = get_logger("streamer.journal")

_HEADER = struct.Struct("<II")
SEGMENT_BYTES = 4 << 20  # start a new segment file after this many bytes


@dataclass
class Entry:
    """One batch as the writer commits it to Redis."""

    seq: int
    position: Any  # the source's JSON-able position after this batch, or None
    counters: dict[str, int]
    records: Sequence[Detected]  # a list, or PackedRecords as a pool process made them
    trends: bytes = b""  # the batch's packed trend counts (`core.trend_packing`), b"": none

    def encode(self) -> bytes:
        if isinstance(self.records, PackedRecords):
            # Already JSON: embedded as it is, not decoded and encoded again.
            records: Any = orjson.Fragment(self.records.data)
            row = ["b", self.seq, self.position, self.counters, records, 1]
            if self.trends:  # trends: a 7th item, the packed counts as they are
                row.append(orjson.Fragment(self.trends))
            return orjson.dumps(row)
        # orjson does not take NamedTuple subclasses: plain tuples of the same fields.
        records = [tuple(rec) for rec in self.records]
        return orjson.dumps(["b", self.seq, self.position, self.counters, records])

    @classmethod
    def decode(cls, raw: list[Any]) -> Entry:
        _, seq, position, counters, records, *packed = raw
        if packed:
            batch = PackedRecords(orjson.dumps(records), len(records))
            trends = orjson.dumps(packed[1]) if len(packed) > 1 else b""
            return cls(int(seq), position, dict(counters), batch, trends)
        # Rows of 4 fields were journaled before points carried their source: exact points.
        detected = [
            Detected(lang, tuple(tags), tuple(geo) if geo is not None else None, post_id, *geo_of)
            for lang, tags, geo, post_id, *geo_of in records
        ]
        return cls(int(seq), position, dict(counters), detected)


@dataclass
class _Slot:
    """Where a batch sits on disk, and whether Redis has acknowledged it."""

    seq: int
    path: Path
    offset: int
    size: int
    position: Any
    acked_at: float | None = None


class Journal:
    """Append-only segment files with a small in-memory index, bounded by `max_bytes` of
    batches Redis has not acknowledged (`full` tells the writer to hold the source back)."""

    def __init__(self, directory: Path, max_bytes: int, keep_seconds: float = 10.0) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.keep_seconds = keep_seconds
        self._slots: deque[_Slot] = deque()
        # The slots not yet acknowledged, oldest first (a suffix of `_slots`): an ack takes
        # them from the front, so it costs the batches it covers, not the journal's length.
        self._unacked: deque[_Slot] = deque()
        self._segments: deque[tuple[int, Path]] = deque()  # (first seq, path), oldest first
        self._fd: int | None = None
        self._path: Path | None = None
        self._segment_bytes = 0
        self.unacked_bytes = 0
        self.acked_upto = 0

    # --- start-up -----------------------------------------------------------------------

    def open(self, now: float | None = None, redis_has: int | None = None) -> None:
        """Index what an earlier run left: batches never acknowledged, and those acknowledged
        too recently to be sure Redis kept them, stay available through `after()`. So do
        batches numbered above `redis_has` (Redis's checkpoint), however old: Redis lost them,
        whenever this start comes (their age says nothing once Redis has crashed)."""
        now = time.time() if now is None else now
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        acks: list[tuple[int, float]] = []
        found: list[_Slot] = []
        for path in sorted(self.directory.glob("*.log"), key=lambda p: int(p.stem)):
            self._segments.append((int(path.stem), path))
            for raw, offset, size in _read_records(path):
                if raw[0] == "a":
                    acks.append((int(raw[1]), float(raw[2])))
                elif raw[0] == "b":
                    found.append(_Slot(int(raw[1]), path, offset, size, raw[2]))
        acks.sort()
        _pair_with_acks(found, acks)
        for slot in found:
            recent = slot.acked_at is None or slot.acked_at >= now - self.keep_seconds
            if recent or (redis_has is not None and slot.seq > redis_has):
                self._remember(slot)
        self.acked_upto = acks[-1][0] if acks else 0
        self._delete_spent_segments()

    # --- the writer's side --------------------------------------------------------------

    @property
    def full(self) -> bool:
        """Batches Redis has not taken yet fill the bound: the source must wait."""
        return self.unacked_bytes >= self.max_bytes

    @property
    def last_seq(self) -> int:
        return self._slots[-1].seq if self._slots else self.acked_upto

    @property
    def oldest_seq(self) -> int | None:
        return self._slots[0].seq if self._slots else None

    @property
    def last_position(self) -> Any:
        """The source position after the newest batch on disk (None if there is none)."""
        for slot in reversed(self._slots):
            if slot.position is not None:
                return slot.position
        return None

    def append(self, entry: Entry) -> None:
        data = entry.encode()
        path, offset = self._write(data, entry.seq)
        self._remember(_Slot(entry.seq, path, offset, len(data) + _HEADER.size, entry.position))

    def ack(self, seq: int, now: float | None = None) -> None:
        """Redis committed every batch up to `seq`."""
        now = time.time() if now is None else now
        if seq <= self.acked_upto:
            return
        self.acked_upto = seq
        while self._unacked and self._unacked[0].seq <= seq:
            slot = self._unacked.popleft()
            slot.acked_at = now
            self.unacked_bytes -= slot.size
        self._write(orjson.dumps(["a", seq, round(now, 3)]), None)
        self.expire(now)

    def expire(self, now: float | None = None) -> None:
        """Forget acknowledged batches older than the keep window and delete their files."""
        cutoff = (time.time() if now is None else now) - self.keep_seconds
        while self._slots:
            head = self._slots[0]
            if head.acked_at is None or head.acked_at >= cutoff:
                break
            self._slots.popleft()
        self._delete_spent_segments()

    def after(self, seq: int) -> Iterator[Entry]:
        """Batches numbered above `seq`, oldest first, read back from disk: what to resend."""
        for slot in list(self._slots):
            if slot.seq > seq:
                with open(slot.path, "rb") as handle:
                    handle.seek(slot.offset + _HEADER.size)
                    yield Entry.decode(orjson.loads(handle.read(slot.size - _HEADER.size)))

    def forget_acked(self) -> None:
        """Drop every acknowledged batch (they belong to a store that is gone)."""
        self._slots = deque(slot for slot in self._slots if slot.acked_at is None)
        self._delete_spent_segments()

    def count_after(self, seq: int) -> int:
        return sum(1 for slot in self._slots if slot.seq > seq)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    # --- files --------------------------------------------------------------------------

    def _remember(self, slot: _Slot) -> None:
        self._slots.append(slot)
        if slot.acked_at is None:
            self._unacked.append(slot)
            self.unacked_bytes += slot.size

    def _write(self, data: bytes, seq: int | None) -> tuple[Path, int]:
        if self._fd is None or (seq is not None and self._segment_bytes >= SEGMENT_BYTES):
            self._rotate(seq if seq is not None else self.last_seq + 1)
        assert self._fd is not None and self._path is not None
        offset = self._segment_bytes
        # One unbuffered write per record: once it returns the kernel has it, so a crash of
        # this process loses nothing (fsync is left to the OS, as Redis's everysec does).
        os.write(self._fd, _HEADER.pack(len(data), zlib.crc32(data)) + data)
        self._segment_bytes += len(data) + _HEADER.size
        return self._path, offset

    def _rotate(self, first_seq: int) -> None:
        self.close()
        path = self.directory / f"{first_seq:016d}.log"
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._path = path
        self._segment_bytes = os.fstat(self._fd).st_size
        if not self._segments or self._segments[-1][1] != path:
            self._segments.append((first_seq, path))

    def _delete_spent_segments(self) -> None:
        """A segment is spent when its successor starts at or below the oldest batch kept:
        every batch in it is forgotten. The newest segment is never deleted."""
        keep_from = self._slots[0].seq if self._slots else self.last_seq + 1
        while len(self._segments) > 1 and self._segments[1][0] <= keep_from:
            _, path = self._segments.popleft()
            path.unlink(missing_ok=True)


def _pair_with_acks(slots: list[_Slot], acks: list[tuple[int, float]]) -> None:
    """Set each batch's `acked_at`: the time of the first acknowledgement in `acks` (sorted)
    that covers it, as an acknowledgement covers every batch up to its sequence number.

    One walk over both lists in sequence order (a journal writes batches and acknowledgements
    in that order, so the sorts cost a pass each): a journal of many batches opens in linear
    time, where looking up each batch's acknowledgement from the start was quadratic."""
    i = 0
    for slot in sorted(slots, key=lambda s: s.seq):
        while i < len(acks) and acks[i][0] < slot.seq:
            i += 1
        slot.acked_at = acks[i][1] if i < len(acks) else None


def _read_records(path: Path) -> Iterator[tuple[list[Any], int, int]]:
    """(record, offset, size) of one segment. A torn or corrupt tail is cut off, so that
    later appends stay readable."""
    with open(path, "r+b") as handle:
        data = handle.read()
        offset = 0
        while offset + _HEADER.size <= len(data):
            length, crc = _HEADER.unpack_from(data, offset)
            body = data[offset + _HEADER.size : offset + _HEADER.size + length]
            if len(body) < length or zlib.crc32(body) != crc:
                break
            try:
                raw = orjson.loads(body)
            except orjson.JSONDecodeError:
                break
            yield raw, offset, length + _HEADER.size
            offset += length + _HEADER.size
        if offset < len(data):
            log.warning("journal_tail_cut", file=path.name, bytes=len(data) - offset)
            handle.truncate(offset)
