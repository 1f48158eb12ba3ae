"""`--record DIR`: tee the raw stream to rotating, gzip-compressed NDJSON files.

A file is written as `<name>.ndjson.gz.part` and renamed to `<name>.ndjson.gz` when it is
rotated or the daemon stops, so `tweetheat run --replay-file 'DIR/*.ndjson.gz'` only ever
reads complete files, exactly as they came off the wire.
"""

from __future__ import annotations

import gzip
import os
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

# Level 5 compresses live JSON nearly as well as 9 at a fraction of the CPU.
COMPRESS_LEVEL = 5


class Recorder:
    def __init__(
        self,
        directory: Path | str,
        source_name: str,
        max_bytes: int = 100 * 1024 * 1024,
        max_seconds: float = 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.directory = Path(directory)
        self.source_name = source_name
        self.max_bytes = max_bytes
        self.max_seconds = max_seconds
        self._clock = clock
        self._raw: BinaryIO | None = None
        self._gz: gzip.GzipFile | None = None
        self._path: Path | None = None
        self._opened_at = 0.0
        self._seq = 0
        self.files_done: list[Path] = []
        self.lines = 0

    def write(self, lines: Sequence[bytes]) -> None:
        """Append lines (blocking: call it from a thread). Rotates by size and age."""
        if not lines:
            return
        if self._gz is None or self._due_for_rotation():
            self.rotate()
        assert self._gz is not None
        self._gz.write(b"\n".join(lines) + b"\n")
        self.lines += len(lines)

    def _due_for_rotation(self) -> bool:
        assert self._raw is not None
        too_old = self._clock() - self._opened_at >= self.max_seconds
        return too_old or self._raw.tell() >= self.max_bytes

    def rotate(self) -> None:
        self.close()
        self.directory.mkdir(parents=True, exist_ok=True)
        now = self._clock()
        stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%SZ")
        self._seq += 1
        name = f"{self.source_name}-{stamp}-{os.getpid()}-{self._seq:04d}.ndjson.gz.part"
        self._path = self.directory / name
        self._raw = open(self._path, "wb")  # noqa: SIM115 - closed in close()
        self._gz = gzip.GzipFile(fileobj=self._raw, mode="wb", compresslevel=COMPRESS_LEVEL)
        self._opened_at = now

    def close(self) -> None:
        """Finish the current file and give it its final name."""
        if self._gz is None or self._raw is None or self._path is None:
            return
        self._gz.close()
        self._raw.close()
        final = self._path.with_suffix("")  # drop ".part"
        os.replace(self._path, final)
        self.files_done.append(final)
        self._gz = self._raw = self._path = None
