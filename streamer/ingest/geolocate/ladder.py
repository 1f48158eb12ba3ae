"""The evidence ladder for one post: exact point, then place box, then profile, then bio."""

from __future__ import annotations

import math
from typing import NamedTuple

from streamer.ingest.geolocate.gazetteer import haversine_km
from streamer.ingest.geolocate.resolver import Geolocator


class Evidence(NamedTuple):
    lat: float
    lon: float
    source: str  # "exact" | "place" | "profile" | "bio"
    precision_km: float


def place_centre(bbox: tuple[float, float, float, float]) -> Evidence | None:
    """Centre of a (west, south, east, north) box; precision is half its diagonal."""
    west, south, east, north = bbox
    if not all(math.isfinite(v) for v in bbox) or south > north:
        return None
    if east < west:  # the box crosses the antimeridian
        east += 360.0
    lat, lon = (south + north) / 2, (west + east) / 2
    lon = (lon + 180.0) % 360.0 - 180.0
    return Evidence(lat, lon, "place", haversine_km(south, west, north, east) / 2)


def geolocate(
    geo: Geolocator,
    point: tuple[float, float] | None,
    place_bbox: tuple[float, float, float, float] | None,
    profile_location: str | None,
    bio: str | None,
    lang: str | None,
) -> Evidence | None:
    """The best evidence of where a post comes from, or None. point is (lat, lon)."""
    if point is not None and -90 <= point[0] <= 90 and -180 <= point[1] <= 180:
        return Evidence(point[0], point[1], "exact", 0.0)
    if place_bbox is not None:
        found = place_centre(place_bbox)
        if found is not None:
            return found
    if profile_location:
        hit = geo.locate_profile(profile_location, lang)
        if hit is not None:
            return Evidence(hit.lat, hit.lon, "profile", hit.precision_km)
    if bio:
        hit = geo.locate_bio(bio, lang)
        if hit is not None:
            return Evidence(hit.lat, hit.lon, "bio", hit.precision_km)
    return None
