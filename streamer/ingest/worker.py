"""What runs inside the pool's processes: parse a batch of raw lines and detect languages.

Workers import only the parser and the detectors (no Redis, no aiohttp), build their detector
once, and answer with compact records plus skip counts, never one task per post.
"""

from __future__ import annotations

import functools
import os
import select
import signal
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from streamer.config import GeoSettings
from streamer.core.memory import trim
from streamer.core.records import (
    ACCOUNT_GONE,
    BAD_INPUT_REASONS,
    PROFILE,
    UNDETERMINED,
    AccountGone,
    Detected,
    PackedRecords,
    PackedUsers,
    Post,
    Profile,
    Skip,
    UserSeen,
    pack_records,
    pack_users,
)
from streamer.core.trend_counts import BatchCounts, aggregate
from streamer.core.trend_packing import NO_TRENDS, pack_counts
from streamer.ingest.geolocate import (
    Evidence,
    Geolocator,
    geolocate,
    load_geolocator,
    place_centre,
)
from streamer.ingest.langid import bio_language
from streamer.ingest.langid.chooser import LanguageChooser
from streamer.ingest.langid.platform import DETECTOR
from streamer.ingest.parser import MAX_LINE_BYTES, parse_payload

__all__ = [
    "BatchResult",
    "PackedBatch",
    "TrendCounting",
    "UserSeen",
    "label_bios",
    "process_batch",
    "process_parts",
    "worker_ready",
]

# How many bad lines per batch travel back for the log; the rest are only counted.
MAX_SAMPLES = 3

_chooser: LanguageChooser | None = None
_default_detector = False  # the chooser's detector is make_detector("default", None)
_max_line = MAX_LINE_BYTES  # `[source] max_line_bytes`, set by init_worker
# --- geolocation (set by init_worker from [geo]) ---
_geolocator: Geolocator | None = None  # None: [geo] enabled = false, no profile or bio
_geo_sources: frozenset[str] = frozenset({"exact", "place"})


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
    # Bluesky: DIDs of the batch's post authors (whose bios the AppView has), and of accounts
    # that stopped being active. Both feed streamer.runtime.enrichment.
    authors: list[str] = []  # noqa: RUF012
    gone: list[str] = []  # noqa: RUF012
    # (lang, geo source or "none") -> posts, for /metrics
    located: dict[tuple[str, str], int] = {}  # noqa: RUF012 - a NamedTuple default
    trends: BatchCounts | None = None  # event-time hashtag counts (None: trends off)


class PackedBatch(NamedTuple):
    """A BatchResult as the daemon takes it: records and users packed for Redis."""

    records: PackedRecords
    skipped: dict[str, int]
    samples: list[tuple[str, str]]
    users: PackedUsers
    lang_sources: dict[str, int]
    trimmed: dict[str, int] = {}  # noqa: RUF012 - a NamedTuple default, never mutated
    authors: list[str] = []  # noqa: RUF012 - see BatchResult
    gone: list[str] = []  # noqa: RUF012
    # (lang, geo source or "none") -> posts, for /metrics
    located: dict[tuple[str, str], int] = {}  # noqa: RUF012 - a NamedTuple default
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
    geo: GeoSettings | None = None,
    geo_cache_dir: str | None = None,
    trends: TrendCounting | None = None,
) -> None:
    """Pool initializer: build the detector, and load the gazetteer, once per process."""
    global _chooser, _max_line, _trends, _default_detector
    prepare_pool_process(daemon_pid)
    _max_line = max_line
    _trends = trends
    _chooser = LanguageChooser(detector, languages, trust_platform)
    _default_detector = detector == "default" and not languages
    init_geolocation(geo, geo_cache_dir)
    # The builds freed far more than they keep: give those pages back once, here. (A fixed
    # mmap threshold would too, but costs every batch's large buffers fresh pages.)
    trim()


def init_geolocation(geo: GeoSettings | None, cache_dir: str | None) -> None:
    """Load the geolocator per `[geo]`: from its cache file (0.2 s; `make setup` builds it, and
    a process that finds none builds it under a file lock while the others wait)."""
    global _geolocator, _geo_sources, _by_profile_max
    geo = geo or GeoSettings(enabled=False)
    _geo_sources = frozenset(geo.sources)
    _by_profile.clear()  # answers of the previous gazetteer
    wants_gazetteer = geo.enabled and bool(_geo_sources & {"profile", "bio"})
    if wants_gazetteer:
        path = Path(cache_dir) if cache_dir else geo.cache_path("data")
        # The worker remembers profile answers itself (`_by_profile`, `[geo] cache_size` of
        # them): the geolocator's own memory only serves what misses there and the bios'
        # place-like words. As large as the worker's, it held every profile string twice.
        _geolocator = load_geolocator(path, min(geo.cache_size, GEOLOCATOR_CACHE_SIZE))
    else:
        _geolocator = None
    _by_profile_max = geo.cache_size


Where = tuple[tuple[float, float], str, float]  # ((lat, lon), geo source, precision km)


def locate(post: Post, lang: str) -> Where | None:
    """The post's best evidence of place per `[geo] sources`: ((lat, lon), source, km)."""
    allowed = _geo_sources
    point = post.geo if "exact" in allowed else None
    bbox = post.place_bbox if "place" in allowed else None
    if _geolocator is None:
        if point is not None:
            return point, "exact", 0.0
        found = place_centre(bbox) if bbox is not None else None
    else:
        location = post.location if "profile" in allowed else None
        if location and point is None and bbox is None:
            # Most posts have neither point nor box, and their authors' location strings
            # repeat: the profile step's answer is kept per (string, language), a dict hit
            # instead of the whole ladder.
            where = _by_profile.get((location, lang), _UNKNOWN)
            if where is _UNKNOWN:
                where = _profile_where(location, lang)
            if where is not None:
                return where
            location = None  # it names no place: the ladder goes on to the bio
        found = geolocate(
            _geolocator,
            point,
            bbox,
            location,
            post.bio if "bio" in allowed else None,
            None if lang == UNDETERMINED else lang,
        )
    return _where(found)


def _where(found: Evidence | None) -> Where | None:
    if found is None:
        return None
    if found.source == "exact":
        return (found.lat, found.lon), "exact", 0.0
    # An inferred point to ~10 m and its precision to 100 m: finer would claim what it lacks.
    where = (round(found.lat, 4), round(found.lon, 4))
    return where, found.source, round(found.precision_km, 1)


# (profile location, post language) -> the profile step's answer, None when it names no place.
# At most `[geo] cache_size` entries (about 250 B each), emptied when full.
_by_profile: dict[tuple[str, str], Where | None] = {}
_by_profile_max = 1 << 16
GEOLOCATOR_CACHE_SIZE = 1 << 12  # the worker's geolocator's LRU, behind `_by_profile`
_UNKNOWN: Where = ((0.0, 0.0), "", 0.0)  # a profile not yet asked (compared by identity)


def _profile_where(location: str, lang: str) -> Where | None:
    """The profile step's answer for a (location, language) that `_by_profile` lacks (`locate`
    looked), remembered there."""
    key = (location, lang)
    assert _geolocator is not None
    hit = _geolocator.locate_profile(location, None if lang == UNDETERMINED else lang)
    where = None if hit is None else _where(Evidence(hit.lat, hit.lon, "profile", hit.precision_km))
    if len(_by_profile) >= _by_profile_max:
        _by_profile.clear()
    _by_profile[key] = where
    return where


# Bio languages for the clustering: the pipeline asks between batches.
def label_bios(bios: Sequence[str], fallback: Sequence[str | None]) -> list[str | None] | None:
    """The bios' own languages (langid.bio_language) by this process's detector, so that the
    clustering process needs none of its own (some 150 MB); None when `[lang]` configures
    another detector than the default one the clustering labels with (it then labels them
    itself, rather than every worker building a second detector)."""
    if not _default_detector:
        return None
    return bio_language.label_bios(chooser().detect, bios, fallback)


def worker_ready() -> int:
    """A no-op task: submitted once per worker, it makes the pool start them all at once."""
    chooser()
    return os.getpid()


def chooser() -> LanguageChooser:
    if _chooser is None:
        raise RuntimeError("init_worker() was not called in this process")
    return _chooser


def process_batch(
    lines: Sequence[bytes], author_bios: Mapping[str, str] | None = None
) -> BatchResult:
    """author_bios: bios the daemon learnt elsewhere (Bluesky's AppView) for authors whose
    posts carry none, by user id: read by the geolocator's bio step only (the user window
    gets them from the enrichment, not from here)."""
    language_of = chooser()
    records: list[Detected] = []
    skipped: Counter[str] = Counter()
    samples: list[tuple[str, str]] = []
    users: dict[str, UserSeen] = {}  # one entry per user: the last bio in the batch wins
    lang_sources: Counter[str] = Counter()
    trimmed: Counter[str] = Counter()
    authors: dict[str, None] = {}  # Bluesky post authors without a bio, each once
    gone: list[str] = []
    located: Counter[tuple[str, str]] = Counter()
    dated: list[tuple[str, str | None, tuple[str, ...]]] = []  # trends: (lang, created_at, tags)
    # The hot loop: a post is by far the most common item, so it is tested first, by its
    # exact type (one pointer comparison), and Counter.update (a Python-level call) runs only
    # when a cap cut something.
    max_line = _max_line
    # Without a trusted platform label the detector decides every post: called directly, and
    # its posts counted once at the end. (Tests may stand in any callable for the chooser.)
    direct = isinstance(language_of, LanguageChooser) and language_of.detector_decides
    detect = language_of.detect if direct else None
    detected = 0
    for line in lines:
        item = parse_payload(line, max_line)
        if type(item) is Post or isinstance(item, Post):
            post = item  # narrowed by the test above (typing.cast would be a call per post)
            if post.trimmed:
                trimmed.update(post.trimmed)
            if detect is not None:
                lang = detect(post.text)
                detected += 1
            else:
                lang, decided_by = language_of(post.text, post.platform_lang)
                lang_sources[decided_by] += 1
            if author_bios and post.bio is None:
                bio = author_bios.get(post.user_id or "")
                where = locate(post if bio is None else post._replace(bio=bio), lang)
            else:
                where = locate(post, lang)
            if where is None:
                records.append(_new_detected((lang, post.hashtags, None, post.id, "exact", 0.0)))
                located[lang, "none"] += 1
            else:
                point, source, km = where
                records.append(_new_detected((lang, post.hashtags, point, post.id, source, km)))
                located[lang, source] += 1
            dated.append((lang, post.created_at, post.hashtags))
            user_id = post.user_id
            if user_id is not None:
                if post.bio is not None:
                    users[user_id] = _new_user((user_id, post.screen_name, post.bio, lang))
                elif user_id.startswith("did:"):
                    authors[user_id] = None
        elif isinstance(item, Skip):
            skipped[item.reason] += 1
            if item.reason in BAD_INPUT_REASONS and len(samples) < MAX_SAMPLES:
                samples.append((item.reason, item.detail[:200]))
        elif isinstance(item, Profile):
            if item.trimmed:
                trimmed.update(item.trimmed)
            skipped[PROFILE] += 1
            users[item.user_id] = UserSeen(item.user_id, item.screen_name, item.bio, None)
        elif isinstance(item, AccountGone):
            skipped[ACCOUNT_GONE] += 1
            users.pop(item.user_id, None)
            authors.pop(item.user_id, None)
            gone.append(item.user_id)
    if detected:
        lang_sources[DETECTOR] += detected
    return BatchResult(
        records,
        dict(skipped),
        samples,
        list(users.values()),
        dict(lang_sources),
        dict(trimmed),
        list(authors),
        gone,
        located=dict(located),
        trends=count_trends(dated),
    )


# Detected(*fields) and UserSeen(*fields) without NamedTuple.__new__'s Python frame (a call
# per post): every field, in order.
_new_detected = functools.partial(tuple.__new__, Detected)
_new_user = functools.partial(tuple.__new__, UserSeen)


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


def process_parts(
    parts: Sequence[bytes | Sequence[bytes]], author_bios: Mapping[str, str] | None = None
) -> PackedBatch:
    """The daemon's entry point: a batch as the pipeline sends it, packed for Redis.

    A part is either a list of lines or a buffer of lines each ended by b"\\n" (a replay's
    LineBlock): one bytes object per thousand lines is far cheaper to send than one per line.
    author_bios: as `process_batch` reads them.
    """
    lines: list[bytes] = []
    for part in parts:
        if isinstance(part, bytes):
            split = part.split(b"\n")
            split.pop()  # what follows the last newline: nothing
            lines += split
        else:
            lines += part
    result = process_batch(lines, author_bios)
    return PackedBatch(
        pack_records(result.records),
        result.skipped,
        result.samples,
        pack_users(result.users),
        result.lang_sources,
        result.trimmed,
        result.authors,
        result.gone,
        located=result.located,
        trends=NO_TRENDS if result.trends is None else pack_counts(result.trends),
    )
