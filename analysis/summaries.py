"""What the map pages are drawn from: one `LanguageSummary` per language, and checks on it."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

Point = tuple[float, float]

# Language codes become file names: only plain BCP-47-ish codes ("en", "pt-br", "und") pass.
_LANG_CODE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})?")


@dataclass(frozen=True)
class LanguageSummary:
    lang: str
    tweets: int
    geo: int
    hashtags: int
    top_hashtags: tuple[tuple[str, int], ...]  # (tag, count), most common first
    points: tuple[tuple[float, float], ...]  # (lat, lon), oldest first, the N most recent
    # When each point was committed (Unix seconds), aligned with `points`; None when some
    # point has no time (stored before times were kept): the live page then spreads the
    # points over the last hour instead.
    point_times: tuple[float, ...] | None = None
    # --- geolocation ---
    # Where each point came from, aligned with `points`: "exact" (the post's own geotag) or
    # "place", "profile", "bio" (inferred); None when every point is exact.
    point_sources: tuple[str, ...] | None = None
    # How far off the inferred points may be: the median of their precisions, in km.
    inferred_precision_km: float | None = None

    def split_by_source(self) -> tuple[list[Point], list[Point]]:
        """(exact points, inferred points), each oldest first."""
        if self.point_sources is None:
            return list(self.points), []
        exact = [p for p, s in zip(self.points, self.point_sources, strict=True) if s == "exact"]
        inferred = [p for p, s in zip(self.points, self.point_sources, strict=True) if s != "exact"]
        return exact, inferred

    # trends: the "Trending now" input (`analysis.trend_panel.TrendInput`), None when off
    trends: object | None = None


def is_safe_lang_code(lang: str) -> bool:
    """True for codes like "en", "pt-br" or "und" that are safe to use as a file name."""
    # fullmatch, not match with "$": "$" would also accept a trailing newline.
    return _LANG_CODE.fullmatch(lang) is not None


def is_drawable(lat: float, lon: float) -> bool:
    """A point Leaflet can place: finite and on the globe."""
    return math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180


def usable_points(points: Sequence[Point]) -> list[list[float]]:
    """The points Leaflet can draw, as [lat, lon] lists; one bad point must not sink the map."""
    return [[lat, lon] for lat, lon in points if is_drawable(lat, lon)]


def as_utc(moment: datetime) -> datetime:
    """Naive datetimes are taken to be UTC already; aware ones are converted."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
