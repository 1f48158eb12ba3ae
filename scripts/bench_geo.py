#!/usr/bin/env python3
# ruff: noqa: E501  (tables of names and separators in many scripts)
"""Measure the geolocator (streamer.ingest.geolocate) and Carmen on the same dev set.

    .venv/bin/python scripts/geo_devset.py --out out/geo_devset.jsonl
    .venv/bin/python scripts/bench_geo.py out/geo_devset.jsonl [--cache-dir out/geo-cache]

Reports coverage (share of place strings answered), acc@161 (share of answers within 161 km
of the truth), the false-positive rate on non-place strings, strings/s cold and per-post cost
with the LRU on a stream where authors repeat, the index load time and RSS, and the share of
stream posts located.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from streamer.ingest.geolocate import geolocate, haversine_km, load_geolocator

LOAD_PROBE = """
import resource, sys, time
from pathlib import Path
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS'):
            return int(line.split()[1]) / 1024
import streamer.ingest.geolocate as g
before = rss(); t = time.perf_counter()
geo = g.load_geolocator(Path(sys.argv[1]))
took = time.perf_counter() - t
geo.locate_profile('Austin, TX', 'en')
after_load = rss() - before
import json
for line in open(sys.argv[2], encoding='utf-8'):
    r = json.loads(line)
    geo.locate_profile(r['text'], r['lang'])
print(took, after_load, rss() - before)
"""


def score(answers, rows) -> dict:
    places = [(a, r) for a, r in zip(answers, rows, strict=True) if r["truth"] is not None]
    nonplaces = [(a, r) for a, r in zip(answers, rows, strict=True) if r["truth"] is None]
    answered = [(a, r) for a, r in places if a is not None]
    good = [1 for a, r in answered if haversine_km(a[0], a[1], *r["truth"]) <= 161]
    return {
        "coverage": len(answered) / len(places),
        "acc161": len(good) / max(1, len(answered)),
        "fp": sum(a is not None for a, _ in nonplaces) / len(nonplaces),
    }


def carmen_answers(rows) -> tuple[list, float]:
    import carmen

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        resolver = carmen.get_resolver()
        resolver.load_locations()
    out = []
    t = time.perf_counter()
    for r in rows:
        tweet = {"user": {"location": r["text"]}, "place": None, "coordinates": None, "geo": None}
        found = resolver.resolve_tweet(tweet)
        loc = found[1] if found else None
        ok = loc is not None and loc.latitude is not None
        out.append((float(loc.latitude), float(loc.longitude)) if ok else None)
    return out, time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("devset", type=Path)
    parser.add_argument("--cache-dir", type=Path, default=Path("out/geo-cache"))
    parser.add_argument("--misses", type=int, default=0, help="print this many errors")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.devset.open(encoding="utf-8")]

    load_geolocator(args.cache_dir)  # make sure the cache file exists before timing a load
    probe = subprocess.run(
        [sys.executable, "-c", LOAD_PROBE, str(args.cache_dir), str(args.devset)],
        capture_output=True,
        text=True,
        check=True,
    )
    load_s, rss_mb, rss_used_mb = (float(x) for x in probe.stdout.split())

    geo = load_geolocator(args.cache_dir)
    t = time.perf_counter()
    found = [geo.locate_profile(r["text"], r["lang"]) for r in rows]
    cold = time.perf_counter() - t
    ours = [(f.lat, f.lon) if f else None for f in found]
    geo = load_geolocator(args.cache_dir)  # empty LRU; word lists already loaded
    t = time.perf_counter()
    for r in rows:
        geo.locate_profile(r["text"], r["lang"])
    warm = time.perf_counter() - t
    mine = score(ours, rows)
    theirs_answers, carmen_s = carmen_answers(rows)
    theirs = score(theirs_answers, rows)

    by_kind: dict[str, list[int]] = {}
    for f, r in zip(ours, rows, strict=True):
        k = by_kind.setdefault(r["kind"], [0, 0, 0])
        k[0] += 1
        if f is not None:
            k[1] += 1
            if r["truth"] is not None and haversine_km(f[0], f[1], *r["truth"]) <= 161:
                k[2] += 1

    from geo_devset import DevSet

    stream = DevSet(11).stream(200_000, n_authors=50_000)
    geo = load_geolocator(args.cache_dir)
    t = time.perf_counter()
    located = 0
    sources: dict[str, int] = {}
    for p in stream:
        ev = geolocate(geo, p["point"], p["bbox"], p["profile"], p["bio"], p["lang"])
        if ev is not None:
            located += 1
            sources[ev.source] = sources.get(ev.source, 0) + 1
    stream_s = time.perf_counter() - t
    # The most any resolver could locate: posts with a point, a box, or a profile naming a place.
    ceiling = sum(
        1 for p in stream if p["point"] or p["bbox"] or (p["profile"] and p["truth"] is not None)
    ) / len(stream)

    bios = DevSet(5).bios(2000)
    t = time.perf_counter()
    bio_found = [geo.locate_bio(b["text"], b["lang"]) for b in bios]
    bio_s = time.perf_counter() - t
    marked = [(f, b) for f, b in zip(bio_found, bios, strict=True) if b["truth"] is not None]
    marked_ok = [
        1 for f, b in marked if f is not None and haversine_km(f.lat, f.lon, *b["truth"]) <= 161
    ]
    prose = [f for f, b in zip(bio_found, bios, strict=True) if b["truth"] is None]

    print(f"dev set: {len(rows)} strings ({sum(r['truth'] is not None for r in rows)} places)")
    print("| resolver | coverage | acc@161 | FP on non-places | strings/s (cold) |")
    print("|---|---|---|---|---|")
    print(
        f"| tweetheat geolocate | {mine['coverage']:.1%} | {mine['acc161']:.1%} | {mine['fp']:.1%} | {len(rows) / cold:,.0f} |"
    )
    print(
        f"| Carmen 2.0.0 | {theirs['coverage']:.1%} | {theirs['acc161']:.1%} | {theirs['fp']:.1%} | {len(rows) / carmen_s:,.0f} |"
    )
    print("\nby kind (rows, answered, within 161 km):")
    for kind, (n, a, g) in sorted(by_kind.items()):
        print(f"  {kind:9s} {n:5d} answered {a / n:6.1%}  within161 {g / max(1, a):6.1%}")
    print(
        f"\nuncached cost per string: {cold / len(rows) * 1e6:.1f} µs first pass,"
        f" {warm / len(rows) * 1e6:.1f} µs second pass (LRU emptied)"
    )
    print(
        f"index load (fresh process, from cache file): {load_s:.2f} s, +{rss_mb:.0f} MB RSS;"
        f" +{rss_used_mb:.0f} MB after resolving the dev set"
    )
    print(
        f"stream of {len(stream):,} posts from {len({p['author'] for p in stream}):,} authors"
        f" (LRU on): {stream_s / len(stream) * 1e6:.2f} µs/post,"
        f" located {located / len(stream):.1%} {sources}"
    )
    print(f"stream ceiling (posts with a point, a box or a place-naming profile): {ceiling:.1%}")
    print(
        f"bios: {len(marked)} with a marked place: answered {sum(f is not None for f, _ in marked) / len(marked):.1%},"
        f" within 161 km {len(marked_ok) / max(1, sum(f is not None for f, _ in marked)):.1%};"
        f" {len(prose)} UDHR prose (with or without an unmarked place): answered"
        f" {sum(f is not None for f in prose) / len(prose):.1%}; {bio_s / len(bios) * 1e6:.0f} µs/bio"
    )
    if args.misses:
        shown = 0
        for f, r in zip(ours, rows, strict=True):
            wrong = (r["truth"] is None and f is not None) or (
                r["truth"] is not None
                and (f is None or haversine_km(f[0], f[1], *r["truth"]) > 161)
            )
            if wrong and shown < args.misses:
                shown += 1
                print("MISS", json.dumps(r, ensure_ascii=False), "->", f)


if __name__ == "__main__":
    main()
