"""A small replay with a known hashtag burst, for the trend tests (CLI, e2e, browser).

v1.1 tweets in English over `minutes` of event time from T0: steady tags every minute, an
untagged share, and from `burst_at` on a burst tag ("quakealert") rising from nothing, every
burst post geotagged around Lisbon. Arrival order is event order, with a few posts a minute
late (within the allowed lateness) so the watermark path runs too.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson

T0 = datetime(2026, 11, 1, 10, 0, tzinfo=UTC).timestamp()
BURST_TAG = "quakealert"
LISBON = (38.7223, -9.1393)
STEADY = ("news", "music", "weather")
TWITTER_TIME = "%a %b %d %H:%M:%S +0000 %Y"
CONFIG = "[lang]\ntrust_platform = true\n[clusters]\nenabled = false\n"


@dataclass
class BurstTruth:
    burst_per_minute: dict[int, int] = field(default_factory=dict)  # bucket -> burst posts
    burst_points: list[tuple[float, float]] = field(default_factory=list)
    lines: int = 0


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_stream(path: Path, minutes: int = 75, burst_at: int = 55, seed: int = 2) -> BurstTruth:
    rng = random.Random(seed)
    truth = BurstTruth()
    rows: list[tuple[float, dict[str, object]]] = []
    n = 0
    for m in range(minutes):
        for k in range(24):
            tags: list[str] = [rng.choice(STEADY)] if k % 3 else []
            geo = None
            if m >= burst_at and k < min(4 + (m - burst_at), 14):
                tags = [BURST_TAG]
                geo = (
                    round(LISBON[0] + rng.uniform(-0.3, 0.3), 4),
                    round(LISBON[1] + rng.uniform(-0.3, 0.3), 4),
                )
            when = T0 + 60 * m + rng.uniform(0, 59)
            arrival = when + (rng.uniform(60, 170) if k == 23 else rng.uniform(0, 2))
            n += 1
            tweet: dict[str, object] = {
                "id_str": str(7 * 10**17 + n),
                "created_at": datetime.fromtimestamp(when, UTC).strftime(TWITTER_TIME),
                "text": "people are talking about this today " + " ".join("#" + t for t in tags),
                "lang": "en",
                "user": {"id_str": str(n % 300), "screen_name": f"user{n % 300}"},
                "entities": {"hashtags": [{"text": t} for t in tags]},
            }
            if geo is not None:
                tweet["coordinates"] = {"type": "Point", "coordinates": [geo[1], geo[0]]}
                bucket = int(T0) + 60 * m
                truth.burst_per_minute[bucket] = truth.burst_per_minute.get(bucket, 0) + 1
                truth.burst_points.append(geo)
            rows.append((arrival, tweet))
    rows.sort(key=lambda row: row[0])
    with open(path, "wb") as fh:
        for _, tweet in rows:
            fh.write(orjson.dumps(tweet) + b"\n")
    # Points are stored in arrival order.
    truth.burst_points = [
        (t["coordinates"]["coordinates"][1], t["coordinates"]["coordinates"][0])  # type: ignore[index]
        for _, t in rows
        if "coordinates" in t
    ]
    truth.lines = len(rows)
    return truth
