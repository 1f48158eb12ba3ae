"""Hashtag counts per (language, event-time bucket): the pure counting half of "trending now".

Posts are counted on their own `created_at` (event time), never on arrival time, so a replay
at full speed and a paced replay or a live stream give the same counts. Two steps:

* `aggregate` runs in a pool process over one batch: it sums tags per (lang, bucket) so the
  commit does one increment per distinct (lang, bucket, tag) instead of one per post;
* `EventClock.admit` runs in the commit, in batch order: it drops the cells that fell behind
  the watermark (newest bucket seen - allowed lateness) and advances the watermark.

Lateness is decided per post against the newest bucket seen *before and including* it in
arrival order: `aggregate` applies the batch-local part, `admit` the part that needs earlier
batches. Together they give exactly what a post-by-post pass would, however the stream is cut
into batches. Lateness is measured in whole buckets, so a cell is dropped or kept whole.

`merge_capped` is the bounded-memory rule the Redis store applies (see
streamer/storage/trend_store.py), written here once in Python so in-process runs and tests
keep the same counts as Redis does.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "BatchCounts",
    "Cell",
    "EventClock",
    "aggregate",
    "bucket_iso",
    "bucket_of",
    "merge_capped",
]

BUCKET_SECONDS = 60
LATENESS_SECONDS = 300

Cell = tuple[str, int]  # (lang, bucket start in Unix seconds)

# "2018-10-10T20:19" -> that minute in Unix seconds. Posts of one batch share a few minutes,
# so a small cache turns the timestamp parse into one slice and one dict lookup.
_MINUTES: dict[str, int] = {}
_MINUTES_MAX = 4096


def _minute_of(created_at: str) -> int | None:
    prefix = created_at[:16]
    minute = _MINUTES.get(prefix)
    if minute is not None:
        return minute
    minute = _parse_minute(created_at)
    if minute is None:
        return None
    if len(_MINUTES) >= _MINUTES_MAX:
        _MINUTES.clear()
    _MINUTES[prefix] = minute
    return minute


def _parse_minute(created_at: str) -> int | None:
    """The minute of an ISO 8601 UTC time such as "2018-10-10T20:19:24Z" (the form
    `Post.created_at` always has), or None."""
    if len(created_at) < 16 or created_at[10] != "T" or created_at[13] != ":":
        return None
    try:
        parsed = time.strptime(created_at[:16], "%Y-%m-%dT%H:%M")
    except ValueError:
        return None
    return calendar.timegm(parsed)


def bucket_of(created_at: str | None, bucket_seconds: int = BUCKET_SECONDS) -> int | None:
    """Start (Unix seconds) of the bucket holding `created_at`, or None when it is unusable."""
    if not created_at:
        return None
    minute = _minute_of(created_at)
    if minute is None:
        return None
    return minute - minute % bucket_seconds


def bucket_iso(bucket: int) -> str:
    """A bucket start as ISO 8601 UTC, e.g. "2018-10-10T20:19:00Z"."""
    return datetime.fromtimestamp(bucket, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class BatchCounts:
    """What one batch contributes: tag counts and post counts per cell, the newest bucket it
    saw, and how many posts it already dropped (late within the batch, or undated)."""

    tags: dict[Cell, dict[str, int]] = field(default_factory=dict)
    posts: dict[Cell, int] = field(default_factory=dict)
    newest: int | None = None
    late: int = 0
    undated: int = 0


def aggregate(
    records: Iterable[tuple[str, str | None, Iterable[str]]],
    *,
    bucket_seconds: int = BUCKET_SECONDS,
    lateness_seconds: int = LATENESS_SECONDS,
    newest_allowed: int | None = None,
) -> BatchCounts:
    """Sum one batch of (lang, created_at ISO, hashtags) into per-cell counts.

    A post whose bucket is more than `lateness_seconds` behind the newest bucket seen so far
    in this batch is late and dropped. `newest_allowed` (Unix seconds), when given, drops
    posts dated after it as undated: a live source should pass "now + a little skew", so that
    one post with a far-future clock cannot push the watermark ahead and drop everything.
    """
    if bucket_seconds <= 0 or bucket_seconds % 60:
        raise ValueError("bucket_seconds must be a positive multiple of 60")
    out = BatchCounts()
    newest = -1
    late = undated = 0
    # (lang, "YYYY-MM-DDTHH:MM") -> [bucket, posts, tag counts]: posts of one minute share an
    # entry, so the common path is a slice, a dict get and the tag increments.
    entries: dict[tuple[str, str], list[Any]] = {}
    for lang, created_at, hashtags in records:
        prefix = created_at[:16] if created_at else ""
        entry = entries.get((lang, prefix))
        if entry is None:
            minute = _minute_of(created_at) if created_at else None
            if minute is None or (newest_allowed is not None and minute > newest_allowed):
                undated += 1
                continue
            entry = entries[(lang, prefix)] = [minute - minute % bucket_seconds, 0, {}]
        bucket = entry[0]
        if bucket > newest:
            newest = bucket
        elif bucket < newest - lateness_seconds:
            late += 1
            continue
        entry[1] += 1
        counts = entry[2]
        for tag in hashtags:
            counts[tag] = counts.get(tag, 0) + 1
    tags_of = out.tags
    posts_of = out.posts
    for (lang, _), (bucket, posts, counts) in entries.items():
        if not posts:
            continue  # every post of this minute came late
        cell = (lang, bucket)
        held = tags_of.get(cell)
        if held is None:
            tags_of[cell] = counts
            posts_of[cell] = posts
        else:  # several minutes in one bucket (buckets longer than a minute)
            for tag, n in counts.items():
                held[tag] = held.get(tag, 0) + n
            posts_of[cell] += posts
    out.newest = newest if newest >= 0 else None
    out.late = late
    out.undated = undated
    return out


@dataclass
class Admitted:
    """The cells of a batch that the commit should write, and the posts it dropped as late."""

    tags: dict[Cell, dict[str, int]]
    posts: dict[Cell, int]
    late: int


@dataclass
class EventClock:
    """The watermark: newest bucket committed so far; cells older than it minus the allowed
    lateness are dropped. One per ingest stream, advanced in commit (batch) order."""

    lateness_seconds: int = LATENESS_SECONDS
    newest: int | None = None

    def watermark(self) -> int | None:
        """Oldest bucket still accepted, or None before the first post."""
        return None if self.newest is None else self.newest - self.lateness_seconds

    def final_through(self, bucket_seconds: int = BUCKET_SECONDS) -> int | None:
        """The newest bucket that can no longer change: scoring it now gives the same answer
        as scoring it at the end of the stream."""
        mark = self.watermark()
        return None if mark is None else mark - bucket_seconds

    def admit(self, batch: BatchCounts) -> Admitted:
        mark = self.watermark()
        if mark is None:
            tags, posts, late = batch.tags, batch.posts, batch.late
        else:
            tags = {cell: c for cell, c in batch.tags.items() if cell[1] >= mark}
            posts = {cell: n for cell, n in batch.posts.items() if cell[1] >= mark}
            late = batch.late + sum(n for cell, n in batch.posts.items() if cell[1] < mark)
        if batch.newest is not None and (self.newest is None or batch.newest > self.newest):
            self.newest = batch.newest
        return Admitted(tags, posts, late)


def merge_capped(
    held: MutableMapping[str, int], add: Mapping[str, int], top_k: int
) -> tuple[int, int]:
    """Add `add` into `held`, then keep only the `top_k` largest counts, as the Redis store
    does: the smallest counts go first, ties in member (code point = UTF-8 byte) order, which
    is the order of a Redis sorted set. Returns (evicted mass, largest evicted count)."""
    for tag, n in add.items():
        held[tag] = held.get(tag, 0) + n
    excess = len(held) - top_k
    if excess <= 0:
        return 0, 0
    gone = sorted(held.items(), key=lambda item: (item[1], item[0]))[:excess]
    for tag, _ in gone:
        del held[tag]
    return sum(n for _, n in gone), max(n for _, n in gone)
