"""What the reference pipelines of scripts/bench.py take from a v1.1 payload, and how they read it.

Shared by scripts/seed_pipeline.py and scripts/speed_of_light.py so that both push exactly the
same entries as the product: the hashtags of the longest text a status offers (a retweet's
original, whose text the retweet cuts at 140 characters; `extended_tweet` when the status was
truncated: the short `entities` miss the hashtags past the cut), lower-cased, each once; and a
point from `coordinates`, else the centre of the `place` bounding box, as [lat, lon] rounded to
6 places. Benchmark helpers only, not product code.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any


class FileLines:
    """The non-empty lines of an NDJSON file, without their newline; iterable again and again.

    Holds only the path, so it pickles small and a forked process can read the file itself
    instead of inheriting the payloads in memory.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __iter__(self) -> Iterator[bytes]:
        with self.path.open("rb", buffering=1 << 20) as f:
            for line in f:
                line = line.rstrip(b"\r\n")
                if line:
                    yield line

    def __repr__(self) -> str:
        return f"FileLines({str(self.path)!r})"


def is_status(tweet: Any) -> bool:
    """A status (post), not a delete or limit notice."""
    return isinstance(tweet, dict) and ("text" in tweet or "extended_tweet" in tweet)


def _original(tweet: dict[str, Any]) -> dict[str, Any]:
    """The retweeted status of a retweet (the product reads its text), else the tweet."""
    original = tweet.get("retweeted_status")
    return original if isinstance(original, dict) and is_status(original) else tweet


def text_of(tweet: dict[str, Any]) -> str:
    tweet = _original(tweet)
    extended = tweet.get("extended_tweet")
    if isinstance(extended, dict) and isinstance(extended.get("full_text"), str):
        return str(extended["full_text"])
    return str(tweet.get("text") or "")


def hashtags_of(tweet: dict[str, Any]) -> list[str]:
    tweet = _original(tweet)
    extended = tweet.get("extended_tweet")
    entities = extended.get("entities") if isinstance(extended, dict) else None
    if not isinstance(entities, dict):
        entities = tweet.get("entities") or {}
    tags = (item.get("text") for item in entities.get("hashtags") or ())
    return list(dict.fromkeys(tag.lower() for tag in tags if tag))


def point_of(tweet: dict[str, Any]) -> tuple[float, float] | None:
    """(lat, lon) of a geotagged tweet, else None."""
    coordinates = tweet.get("coordinates")
    if isinstance(coordinates, dict):
        lon, lat = coordinates["coordinates"][:2]
        return round(float(lat), 6), round(float(lon), 6)
    place = tweet.get("place")
    if isinstance(place, dict) and isinstance(place.get("bounding_box"), dict):
        ring = place["bounding_box"]["coordinates"][0]
        lons = [corner[0] for corner in ring]
        lats = [corner[1] for corner in ring]
        return (
            round((min(lats) + max(lats)) / 2, 6),
            round((min(lons) + max(lons)) / 2, 6),
        )
    return None
