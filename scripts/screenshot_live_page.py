#!/usr/bin/env python3
"""Take docs/live-page.png: the live page drawn from the demo stream, in Debian's Chromium.

    .venv/bin/python scripts/screenshot_live_page.py [--out docs/live-page.png] [--lang en]

No Redis needed: the summaries are built straight from the demo generator, as the store would
hold them. The page uses the local assets `make setup` installs and no tiles (the internet is
blocked), so the picture shows the offline country outlines.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from playwright.sync_api import Route, sync_playwright

from analysis.heatmaps import LanguageSummary, write_maps
from streamer.ingest.geolocate import geolocate, load_geolocator
from streamer.sources.generator import generate
from streamer.storage.store import rank_hashtags

CHROMIUM = "/usr/bin/chromium"


def demo_summaries(count: int, seed: int, end: float) -> list[LanguageSummary]:
    """As the store would hold them after an hour of the demo stream at a steady rate: each
    point carries the second its post arrived, so the slider shows real times, and is placed by
    the geolocation ladder as the daemon places it (exact geotags and inferred points)."""
    geo = load_geolocator(Path("data/geo"))  # the gazetteer `make setup` built
    tweets: dict[str, int] = defaultdict(int)
    tags: dict[str, list[str]] = defaultdict(list)
    points: dict[str, list[tuple[float, float]]] = defaultdict(list)
    times: dict[str, list[float]] = defaultdict(list)
    sources: dict[str, list[str]] = defaultdict(list)
    km: dict[str, list[float]] = defaultdict(list)
    for n, (_line, truth) in enumerate(generate(count, seed=seed)):
        if truth.kind != "tweet" or truth.lang is None:
            continue
        tweets[truth.lang] += 1
        tags[truth.lang].extend(truth.hashtags)
        found = geolocate(
            geo, truth.geo, truth.place_bbox, truth.location or None, truth.bio, truth.lang
        )
        if found is not None:
            points[truth.lang].append((found.lat, found.lon))
            times[truth.lang].append(float(int(end - 3600 + 3600 * (n + 1) / count)))
            sources[truth.lang].append(found.source)
            if found.source != "exact":
                km[truth.lang].append(found.precision_km)
    return [
        LanguageSummary(
            lang=lang,
            tweets=n,
            geo=len(points[lang]),
            hashtags=len(tags[lang]),
            top_hashtags=tuple(rank_hashtags(tags[lang][-5000:], 10)),
            points=tuple(points[lang][-400:]),
            point_times=tuple(times[lang][-400:]),
            point_sources=tuple(sources[lang][-400:]),
            inferred_precision_km=statistics.median(km[lang]) if km[lang] else None,
        )
        for lang, n in tweets.items()
    ]


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve(root: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def loopback_only(route: Route) -> None:
    if route.request.url.startswith("http://127.0.0.1:"):
        route.continue_()
    else:
        route.abort()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/live-page.png"))
    parser.add_argument("--lang", default="en")
    parser.add_argument("--count", type=int, default=20000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="th-shot-") as tmp:
        when = datetime.now(UTC).replace(microsecond=0)
        summaries = demo_summaries(args.count, seed=1, end=when.timestamp())
        write_maps(Path(tmp), summaries, refresh_seconds=0, generated_at=when, assets="local")
        with serve(Path(tmp) / "maps") as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1200, "height": 760})
            page.route("**/*", loopback_only)
            page.goto(f"{base}/index.html#lang={args.lang}")
            page.wait_for_function("() => window.tweetheatLive && window.tweetheatLive.shown > 0")
            page.wait_for_timeout(500)  # the heat layer draws on the next animation frame
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out))
            browser.close()
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
