"""What runs inside the pool's processes: parse a batch of raw lines and detect languages.

Workers import only the parser and the detectors (no Redis, no aiohttp), build their detector
once, and answer with compact records plus skip counts, never one task per post.
"""

from __future__ import annotations

import os
import select
import signal
import threading
import time
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

from streamer.core.records import (
    BAD_INPUT_REASONS,
    PROFILE,
    Detected,
    PackedRecords,
    PackedUsers,
    Profile,
    Skip,
    UserSeen,
    pack_records,
    pack_users,
)
from streamer.core.trend_counts import BatchCounts, aggregate
from streamer.core.trend_packing import NO_TRENDS, pack_counts
from streamer.ingest.langid.chooser import LanguageChooser
from streamer.ingest.parser import MAX_LINE_BYTES, parse_payload

__all__ = [
    "BatchResult",
    "PackedBatch",
    "TrendCounting",
    "UserSeen",
    "process_batch",
    "process_parts",
    "worker_ready",
]

# How many bad lines per batch travel back for the log; the rest are only counted.
MAX_SAMPLES = 3

_chooser: LanguageChooser | None = None
_max_line = MAX_LINE_BYTES  # `[source] max_line_bytes`, set by init_worker


# --- trends: what init_worker is told about event-time counting (docs/trends.md) ---
class TrendCounting(NamedTuple):
    bucket_seconds: int = 60
    lateness_seconds: int = 300
    clock_skew_seconds: int | None = None  # live sources: posts after now + this are undated


_trends: TrendCounting | None = None  # None: trends off
# --- end trends ---


class BatchResult(NamedTuple):
    records: list[Detected]
    skipped: dict[str, int]
    samples: list[tuple[str, str]]  # (reason, detail) of a few bad lines, for the log
    users: list[UserSeen] = []  # noqa: RUF012 - a NamedTuple default, never mutated
    lang_sources: dict[str, int] = {}  # noqa: RUF012 - "platform" / "detector" -> posts
    trimmed: dict[str, int] = {}  # noqa: RUF012 - input cap -> posts it cut (ingest.limits)
    trends: BatchCounts | None = None  # event-time hashtag counts (None: trends off)


class PackedBatch(NamedTuple):
    """A BatchResult as the daemon takes it: records and users packed for Redis."""

    records: PackedRecords
    skipped: dict[str, int]
    samples: list[tuple[str, str]]
    users: PackedUsers
    lang_sources: dict[str, int]
    trimmed: dict[str, int] = {}  # noqa: RUF012 - a NamedTuple default, never mutated
    trends: bytes = NO_TRENDS  # `trend_packing.pack_counts` of the batch, b"" when off


def prepare_pool_process(daemon_pid: int) -> None:
    """Ctrl-C, `timeout` and systemd signal the whole process group, but only the daemon
    decides when to stop: pool processes keep going until it has drained and shut them down.

    Deaf to SIGTERM, a pool process must still never outlive the daemon (a SIGKILLed daemon
    cannot shut its pools down, and the fork server lives as long as its children), so a
    watcher thread ends the process as soon as the daemon is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        daemon = os.pidfd_open(daemon_pid)  # a handle on this very process: no pid reuse
    except ProcessLookupError:
        os._exit(1)
    threading.Thread(target=_exit_when_readable, args=(daemon,), daemon=True).start()


def prepare_analysis_process(daemon_pid: int) -> None:
    """The map and clustering process runs at a lower priority: a refit may take its core for
    seconds, and ingest must keep the CPU it needs."""
    prepare_pool_process(daemon_pid)
    os.nice(10)


def _exit_when_readable(pidfd: int) -> None:
    select.select([pidfd], [], [])  # a pidfd becomes readable when its process exits
    os._exit(1)


def init_worker(
    detector: str,
    languages: Sequence[str] | None,
    daemon_pid: int,
    trust_platform: bool = False,
    max_line: int = MAX_LINE_BYTES,
    trends: TrendCounting | None = None,
) -> None:
    """Pool initializer: build the detector once per process."""
    global _chooser, _max_line, _trends
    prepare_pool_process(daemon_pid)
    _max_line = max_line
    _trends = trends
    _chooser = LanguageChooser(detector, languages, trust_platform)


def worker_ready() -> int:
    """A no-op task: submitted once per worker, it makes the pool start them all at once."""
    chooser()
    return os.getpid()


def chooser() -> LanguageChooser:
    if _chooser is None:
        raise RuntimeError("init_worker() was not called in this process")
    return _chooser


def process_batch(lines: Sequence[bytes]) -> BatchResult:
    language_of = chooser()
    records: list[Detected] = []
    skipped: Counter[str] = Counter()
    samples: list[tuple[str, str]] = []
    users: dict[str, UserSeen] = {}  # one entry per user: the last bio in the batch wins
    lang_sources: Counter[str] = Counter()
    trimmed: Counter[str] = Counter()
    dated: list[tuple[str, str | None, tuple[str, ...]]] = []  # trends: (lang, created_at, tags)
    for line in lines:
        item = parse_payload(line, _max_line)
        if not isinstance(item, Skip):
            trimmed.update(item.trimmed)
        if isinstance(item, Skip):
            skipped[item.reason] += 1
            if item.reason in BAD_INPUT_REASONS and len(samples) < MAX_SAMPLES:
                samples.append((item.reason, item.detail[:200]))
            continue
        if isinstance(item, Profile):
            skipped[PROFILE] += 1
            users[item.user_id] = UserSeen(item.user_id, item.screen_name, item.bio, None)
            continue
        lang, decided_by = language_of(item.text, item.platform_lang)
        lang_sources[decided_by] += 1
        records.append(Detected(lang, item.hashtags, item.geo, item.id))
        dated.append((lang, item.created_at, item.hashtags))
        if item.user_id is not None and item.bio is not None:
            users[item.user_id] = UserSeen(item.user_id, item.screen_name, item.bio, lang)
    return BatchResult(
        records,
        dict(skipped),
        samples,
        list(users.values()),
        dict(lang_sources),
        dict(trimmed),
        count_trends(dated),
    )


def count_trends(dated: Sequence[tuple[str, str | None, tuple[str, ...]]]) -> BatchCounts | None:
    """The batch's event-time counts (`trend_counts.aggregate`), None when trends are off."""
    if _trends is None:
        return None
    skew = _trends.clock_skew_seconds
    return aggregate(
        dated,
        bucket_seconds=_trends.bucket_seconds,
        lateness_seconds=_trends.lateness_seconds,
        newest_allowed=None if skew is None else int(time.time()) + skew,
    )


def process_parts(parts: Sequence[bytes | Sequence[bytes]]) -> PackedBatch:
    """The daemon's entry point: a batch as the pipeline sends it, packed for Redis.

    A part is either a list of lines or a buffer of lines each ended by b"\\n" (a replay's
    LineBlock): one bytes object per thousand lines is far cheaper to send than one per line.
    """
    lines: list[bytes] = []
    for part in parts:
        if isinstance(part, bytes):
            split = part.split(b"\n")
            split.pop()  # what follows the last newline: nothing
            lines += split
        else:
            lines += part
    result = process_batch(lines)
    return PackedBatch(
        pack_records(result.records),
        result.skipped,
        result.samples,
        pack_users(result.users),
        result.lang_sources,
        result.trimmed,
        NO_TRENDS if result.trends is None else pack_counts(result.trends),
    )
