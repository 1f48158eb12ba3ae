"""Folded place name -> city ids, packed into a few flat arrays instead of a dict of strings.

A dict of ~380k names held ~45 MB in every worker process; these arrays hold ~8 MB. A name is
found by the CRC-32 of its UTF-8 bytes (its top 16 bits pick a bucket of a few sorted hashes),
then the bytes themselves are compared: names that share a hash are all checked, so a collision
can never return another name's cities.
"""

from __future__ import annotations

import bisect
import zlib
from array import array
from collections.abc import Sequence
from typing import overload

_BUCKET_SHIFT = 16  # 65,536 buckets of ~6 names each


class NameIndex:
    """Read-only mapping of folded name -> tuple of city ids, biggest city first."""

    __slots__ = ("_buckets", "_hashes", "_id_ends", "_ids", "_name_ends", "_names")

    def __init__(self, packed: dict[str, bytes]) -> None:
        self._buckets = _unpack("I", packed["buckets"])  # bucket b: hashes[b[i]:b[i+1]]
        self._hashes = _unpack("I", packed["hashes"])  # sorted (CRC-32 is not salted)
        self._name_ends = _unpack("I", packed["name_ends"])  # entry i: names[ends[i-1]:ends[i]]
        self._names = packed["names"]
        self._id_ends = _unpack("I", packed["id_ends"])
        self._ids = _unpack("i", packed["ids"])

    @staticmethod
    def pack(names: dict[str, list[int]]) -> dict[str, bytes]:
        """The marshal-friendly form of names, for the cache file."""
        entries = sorted((zlib.crc32(k.encode()), k.encode(), v) for k, v in names.items())
        hashes, name_ends, id_ends, ids = array("I"), array("I"), array("I"), array("i")
        blob = bytearray()
        for digest, raw, city_ids in entries:
            hashes.append(digest)
            blob += raw
            name_ends.append(len(blob))
            ids.extend(city_ids)
            id_ends.append(len(ids))
        buckets = array("I", [0] * ((1 << (32 - _BUCKET_SHIFT)) + 1))
        for digest in hashes:
            buckets[(digest >> _BUCKET_SHIFT) + 1] += 1
        for b in range(1, len(buckets)):
            buckets[b] += buckets[b - 1]
        return {
            "buckets": buckets.tobytes(),
            "hashes": hashes.tobytes(),
            "name_ends": name_ends.tobytes(),
            "names": bytes(blob),
            "id_ends": id_ends.tobytes(),
            "ids": ids.tobytes(),
        }

    def __len__(self) -> int:
        return len(self._hashes)

    def get(self, key: str) -> tuple[int, ...]:
        """The city ids of a folded name, or () when no city has that name."""
        raw = key.encode()
        digest = zlib.crc32(raw)
        bucket = digest >> _BUCKET_SHIFT
        hashes, end = self._hashes, self._buckets[bucket + 1]
        i = bisect.bisect_left(hashes, digest, self._buckets[bucket], end)
        while i < end and hashes[i] == digest:
            if self._name(i) == raw:
                start = self._id_ends[i - 1] if i else 0
                return tuple(self._ids[start : self._id_ends[i]])
            i += 1
        return ()

    def all_names(self) -> list[str]:
        """Every name, in hash order (for tests and tools; slow)."""
        return [self._name(i).decode() for i in range(len(self._hashes))]

    def _name(self, i: int) -> bytes:
        start = self._name_ends[i - 1] if i else 0
        return self._names[start : self._name_ends[i]]


def _unpack(typecode: str, raw: bytes) -> array:
    values = array(typecode)
    values.frombytes(raw)
    return values


class StringColumn(Sequence[str]):
    """A read-only list of strings kept as one UTF-8 blob (~70 bytes less per string)."""

    __slots__ = ("_blob", "_ends")

    def __init__(self, packed: dict[str, bytes]) -> None:
        self._blob = packed["blob"]
        self._ends = _unpack("I", packed["ends"])  # string i: blob[ends[i-1]:ends[i]]

    @staticmethod
    def pack(strings: list[str]) -> dict[str, bytes]:
        blob, ends = bytearray(), array("I")
        for text in strings:
            blob += text.encode()
            ends.append(len(blob))
        return {"blob": bytes(blob), "ends": ends.tobytes()}

    def __len__(self) -> int:
        return len(self._ends)

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...
    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        end = self._ends[i]  # raises IndexError past the end, like a list
        start = self._ends[i - 1] if i else 0
        return self._blob[start:end].decode()
