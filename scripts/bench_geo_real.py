#!/usr/bin/env python3
"""Measure the geolocator on a real capture of v1.1 tweets (NDJSON, one tweet a line).

    .venv/bin/python scripts/bench_geo_real.py CAPTURE.ndjson [--years 2013,2016]
        [--cache-dir out/geo-cache] [--dump-misses N] [--dump-answers N] [--seed 1]

Reports the share of posts located by each source of the ladder (exact point, place box,
profile location, bio), the coverage of the non-empty profile-location strings, the same per
year of `created_at`, and the cost per post: every distinct location string resolved once
uncached, then the whole capture replayed through the ladder with the LRU on (CPU time of
this process, so other jobs on the machine move it less than wall time).
--dump-answers prints a random sample of answers (string -> place) to judge by hand;
--dump-misses prints the most frequent unanswered strings. Nothing here is needed by tests.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from streamer.ingest.geolocate import Geolocator, geolocate, load_geolocator


def _point(tweet: dict) -> tuple[float, float] | None:
    coords = tweet.get("coordinates") or {}
    if coords.get("type") == "Point":
        lon, lat = coords["coordinates"][:2]
        return float(lat), float(lon)
    return None


def _bbox(tweet: dict) -> tuple[float, float, float, float] | None:
    place = tweet.get("place") or {}
    box = (place.get("bounding_box") or {}).get("coordinates")
    if not box:
        return None
    ring = box[0]
    lons = [p[0] for p in ring]
    lats = [p[1] for p in ring]
    return min(lons), min(lats), max(lons), max(lats)


def _year(tweet: dict) -> str:
    return (tweet.get("created_at") or "").rsplit(" ", 1)[-1] or "?"


def read_capture(path: Path, years: set[str] | None) -> list[tuple]:
    rows = []
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            try:
                tweet = json.loads(line)
            except ValueError:
                continue
            user = tweet.get("user")
            if not isinstance(user, dict):
                continue
            year = _year(tweet)
            if years and year not in years:
                continue
            lang = tweet.get("lang")
            lang = None if lang in (None, "und") else lang
            rows.append(
                (
                    year,
                    _point(tweet),
                    _bbox(tweet),
                    user.get("location") or None,
                    user.get("description") or None,
                    lang,
                )
            )
    return rows


def located_shares(geo: Geolocator, rows: list[tuple]) -> dict[str, dict[str, float]]:
    by_year: dict[str, Counter] = defaultdict(Counter)
    for year, point, bbox, location, bio, lang in rows:
        found = geolocate(geo, point, bbox, location, bio, lang)
        for key in (year, "all"):
            by_year[key]["posts"] += 1
            by_year[key][found.source if found else "none"] += 1
            if location and location.strip():
                by_year[key]["with_location"] += 1
                if geo.locate_profile(location, lang) is not None:
                    by_year[key]["location_answered"] += 1
    out = {}
    for key, c in sorted(by_year.items()):
        n = c["posts"]
        out[key] = {
            "posts": n,
            "located": 1 - c["none"] / n,
            **{s: c[s] / n for s in ("exact", "place", "profile", "bio")},
            "with_location": c["with_location"] / n,
            "location_coverage": c["location_answered"] / max(1, c["with_location"]),
        }
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("capture", type=Path)
    ap.add_argument("--years", default="", help="comma-separated years of created_at to keep")
    ap.add_argument("--cache-dir", type=Path, default=Path("out/geo-cache"))
    ap.add_argument("--dump-misses", type=int, default=0)
    ap.add_argument("--dump-answers", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    years = {y for y in args.years.split(",") if y} or None

    t = time.perf_counter()
    geo = load_geolocator(args.cache_dir)
    load_s = time.perf_counter() - t
    rows = read_capture(args.capture, years)
    if not rows:
        print("no tweets read", file=sys.stderr)
        return 1

    # Uncached cost per distinct string (a fresh resolver, so nothing is cached).
    strings = sorted({(r[3], r[5]) for r in rows if r[3]}, key=str)
    cold = Geolocator(geo.gaz, cache_size=0)
    t = time.process_time()
    answers = {(s, lang): cold.locate_profile(s, lang) for s, lang in strings}
    cold_us = (time.process_time() - t) / max(1, len(strings)) * 1e6

    # The stream with the LRU on, in capture order (fresh cache).
    warm = Geolocator(geo.gaz)
    t = time.process_time()
    for _y, point, bbox, location, bio, lang in rows:
        geolocate(warm, point, bbox, location, bio, lang)
    stream_us = (time.process_time() - t) / len(rows) * 1e6

    shares = located_shares(warm, rows)
    print(f"capture: {args.capture.name}  posts: {len(rows)}  index load: {load_s:.2f} s")
    print(
        f"distinct (location, lang) strings: {len(strings)}  "
        f"answered: {sum(a is not None for a in answers.values()) / max(1, len(strings)):.1%}"
    )
    print(
        f"CPU time: uncached per string {cold_us:.1f} µs, stream with LRU {stream_us:.1f} µs/post"
    )
    print(
        f"{'year':>5} {'posts':>6} {'located':>8} {'exact':>6} {'place':>6} {'profile':>8} "
        f"{'bio':>5} {'has loc':>8} {'loc cov':>8}"
    )
    for key, s in shares.items():
        print(
            f"{key:>5} {s['posts']:>6} {s['located']:>8.1%} {s['exact']:>6.1%} {s['place']:>6.1%} "
            f"{s['profile']:>8.1%} {s['bio']:>5.1%} {s['with_location']:>8.1%} "
            f"{s['location_coverage']:>8.1%}"
        )

    if args.dump_misses:
        misses = sorted({s for (s, _lang), a in answers.items() if a is None})
        random.Random(args.seed).shuffle(misses)
        print(f"\n-- {args.dump_misses} random unanswered strings --")
        for s in misses[: args.dump_misses]:
            print(repr(s))
    if args.dump_answers:
        hits = [(s, lang, a) for (s, lang), a in answers.items() if a is not None]
        random.Random(args.seed).shuffle(hits)
        print(f"\n-- {args.dump_answers} random answers (judge by hand) --")
        for s, lang, a in hits[: args.dump_answers]:
            print(f"{s!r:60.60} [{lang}] -> {a.name} ({a.granularity}, {a.lat:.2f},{a.lon:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
