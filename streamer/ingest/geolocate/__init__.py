"""Where a post comes from: exact point, place box, or the author's profile location / bio.

One Geolocator per worker process (the gazetteer takes ~0.2 s to load from its cache file):

    geo = load_geolocator(cache_dir)          # builds the cache file on first use (~5 s)
    evidence = geolocate(geo, point, bbox, profile_location, bio, lang)

The module-level locate_profile() uses a process-wide default built on first call.
"""

from __future__ import annotations

import os
from pathlib import Path

from streamer.ingest.geolocate.gazetteer import (
    DEFAULT_MIN_POPULATION,
    GEONAMES_CREDIT,
    Gazetteer,
    cache_file,
    haversine_km,
    load_gazetteer,
)
from streamer.ingest.geolocate.ladder import Evidence, geolocate, place_centre
from streamer.ingest.geolocate.resolver import Geolocator, Located, bio_may_name_place

__all__ = [
    "DEFAULT_MIN_POPULATION",
    "GEONAMES_CREDIT",
    "Evidence",
    "Gazetteer",
    "Geolocator",
    "Located",
    "bio_may_name_place",
    "cache_file",
    "default_cache_dir",
    "geolocate",
    "haversine_km",
    "load_gazetteer",
    "load_geolocator",
    "locate_profile",
    "place_centre",
]

_default: Geolocator | None = None


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tweetheat" / "geo"


def load_geolocator(cache_dir: Path | None = None, cache_size: int = 1 << 16) -> Geolocator:
    """A resolver over the gazetteer cached in cache_dir; also becomes the module default."""
    global _default
    _default = Geolocator(load_gazetteer(cache_dir or default_cache_dir()), cache_size)
    return _default


def locate_profile(text: str, lang: str | None = None) -> Located | None:
    """Resolve a profile location with the process default (loaded on first call)."""
    geo = _default or load_geolocator()
    return geo.locate_profile(text, lang)
