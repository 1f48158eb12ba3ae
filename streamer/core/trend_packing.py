"""A batch's trend counts as the commit scripts read them: one JSON array, packed once in the
pool process (like `records.pack_records`), so the event loop and the journal carry one bytes
object per batch.

Layout: `[newest bucket or -1, late, undated, [lang, bucket, posts, [tag, n, tag, n, ...]], ...]`
(`streamer.storage.lua.TREND_APPLY` reads it).
"""

from __future__ import annotations

from typing import Any

import orjson

from streamer.core.trend_counts import BatchCounts

__all__ = ["NO_TRENDS", "pack_counts", "unpack_counts"]

NO_TRENDS = b""  # trends off (or an older journal's batch): the commit writes no trend keys


def pack_counts(counts: BatchCounts) -> bytes:
    rows: list[Any] = [-1 if counts.newest is None else counts.newest, counts.late, counts.undated]
    for cell, posts in counts.posts.items():
        tags = counts.tags.get(cell) or {}
        rows.append([cell[0], cell[1], posts, [x for pair in tags.items() for x in pair]])
    return orjson.dumps(rows)


def unpack_counts(data: bytes) -> BatchCounts:
    """The inverse of `pack_counts` (tests, and a Python reading of a journaled batch)."""
    newest, late, undated, *cells = orjson.loads(data)
    out = BatchCounts(newest=None if newest < 0 else newest, late=late, undated=undated)
    for lang, bucket, posts, flat in cells:
        out.posts[(lang, bucket)] = posts
        out.tags[(lang, bucket)] = dict(zip(flat[::2], flat[1::2], strict=True))
    return out


def language_part(data: bytes, lang: str) -> bytes:
    """The cells of one language, for its part of a batch on a Redis Cluster (one slot per
    language). The batch's own late and undated posts are not in it (`dropped_in_batch`)."""
    if not data:
        return NO_TRENDS
    newest, _late, _undated, *cells = orjson.loads(data)
    return orjson.dumps([newest, 0, 0, *(cell for cell in cells if cell[0] == lang)])


def dropped_in_batch(data: bytes) -> tuple[int, int]:
    """(late, undated) posts the pool process already dropped from the batch."""
    if not data:
        return 0, 0
    _newest, late, undated, *_ = orjson.loads(data)
    return int(late), int(undated)
