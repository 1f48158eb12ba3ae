"""A real headless Chromium opens a generated language page and the heat layer paints pixels,
and the live page's slider follows the times the store keeps with each point.

Playwright drives Debian's Chromium (/usr/bin/chromium; Playwright never downloads a browser
here). Pages are written with `assets="local"`, so they load Leaflet, the heat plugin and the
country outlines from `maps/assets/`, copied from what `make setup` installed, and are served
on 127.0.0.1. Every other request is aborted and recorded: map tiles are the only thing a page
may ask the internet for. The helpers here are shared with test_live_page.py.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Route, sync_playwright

from analysis.assets import OUTLINES_SOURCE, web_assets_dir
from analysis.heatmaps import LanguageSummary, write_maps
from analysis.snapshot import collect_summaries
from streamer.config import MapsSettings
from streamer.core.records import Detected
from streamer.storage.connections import redis_client
from streamer.storage.keys import Keys
from streamer.storage.store import Store

CHROMIUM = Path("/usr/bin/chromium")
TILE_HOST = "tile.openstreetmap.org"
TIMEOUT_MS = 20_000  # any single browser step; a normal one takes well under a second
VIEWPORT = {"width": 1200, "height": 800}
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "out" / "test-artifacts"

# (lat, lon) of the cities the test points cluster around: far apart and lat != lon, so a
# swapped coordinate would land elsewhere and leave the city's pixel blank.
CITIES = {
    "Madrid": (40.4168, -3.7038),
    "Mexico City": (19.4326, -99.1332),
    "Buenos Aires": (-34.6037, -58.3816),
}
MIN_PAINTED_PIXELS = 500

# Keeps the heat canvas's alpha channel in the page (shipping a megapixel to Python is slow)
# and reports how many pixels are painted; CHANGED_JS compares two kept snapshots.
HEAT_SNAPSHOT_JS = """() => {
  const canvas = document.querySelector("canvas.leaflet-heatmap-layer");
  if (!canvas || !canvas.width || !canvas.height) { return null; }
  const rgba = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  const alpha = new Uint8Array(rgba.length / 4);
  let painted = 0;
  for (let i = 0; i < alpha.length; i++) {
    alpha[i] = rgba[4 * i + 3];
    if (alpha[i]) { painted++; }
  }
  const kept = (window.__heatSnapshots = window.__heatSnapshots || []);
  kept.push(alpha);
  return {id: kept.length - 1, painted: painted, pixels: alpha.length};
}"""
CHANGED_JS = """([a, b]) => {
  const x = window.__heatSnapshots[a], y = window.__heatSnapshots[b];
  let changed = 0;
  for (let i = 0; i < x.length; i++) { if (x[i] !== y[i]) { changed++; } }
  return changed;
}"""

# Heat alpha at each named (lat, lon); the heat canvas sits at the map container's origin.
ALPHA_AT_JS = """([mapVariable, places]) => {
  const map = mapVariable ? window[mapVariable] : window.tweetheatLive.map;
  const ctx = document.querySelector("canvas.leaflet-heatmap-layer").getContext("2d");
  const out = {};
  for (const [name, latLon] of Object.entries(places)) {
    const p = map.latLngToContainerPoint(latLon);
    out[name] = ctx.getImageData(Math.round(p.x), Math.round(p.y), 1, 1).data[3];
  }
  return out;
}"""

# Two animation frames: leaflet-heat redraws on the next one after a change.
SETTLE_JS = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


# --- helpers (shared with test_live_page.py) --------------------------------------------------


def require_browser_setup() -> None:
    """Fail, never skip, when set-up has not run: the browser tests are part of `make test`."""
    if not CHROMIUM.is_file():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: run 'make test' (it installs it)")
    needed = [
        web_assets_dir() / "leaflet" / "dist" / "leaflet.js",
        web_assets_dir() / OUTLINES_SOURCE,
    ]
    missing = [str(path) for path in needed if not path.is_file()]
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: run 'make test' (it installs the web assets)")


@contextmanager
def chromium() -> Iterator[Browser]:
    require_browser_setup()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            timeout=TIMEOUT_MS,
            args=[
                "--no-sandbox",  # tests run as root in containers
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--disable-background-networking",
                "--disable-component-update",
                # Belt and braces with the request routing: nothing but loopback resolves.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            ],
        )
        try:
            yield browser
        finally:
            browser.close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest output clean


@contextmanager
def serve_directory(root: Path) -> Iterator[str]:
    """Serve `root` on a free loopback port in a thread; yield the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.daemon = True
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class PageRecord:
    """What a page did besides drawing: its errors, and what it asked outside the loopback."""

    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def on_route(self, route: Route) -> None:
        url = route.request.url
        if url.startswith("http://127.0.0.1:"):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def on_console(self, message: ConsoleMessage) -> None:
        # An aborted tile shows up as "Failed to load resource": expected, not a page error.
        if message.type == "error" and message.location.get("url") not in self.outside:
            self.errors.append(f"{message.text} ({message.location.get('url')})")

    def assert_clean(self) -> None:
        assert self.errors == [], self.errors
        assert all(TILE_HOST in url for url in self.outside), self.outside


def open_page(browser: Browser, url: str) -> tuple[Page, PageRecord]:
    """A fresh page on `url` whose requests may only reach 127.0.0.1 and whose errors count."""
    record = PageRecord()
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.route("**/*", record.on_route)
    page.on("console", record.on_console)
    page.on("pageerror", lambda error: record.errors.append(f"uncaught: {error}"))
    page.goto(url, wait_until="load")
    return page, record


@dataclass(frozen=True)
class HeatSnapshot:
    id: int  # where the page keeps this snapshot's pixels
    painted: int
    pixels: int


def heat_snapshot(page: Page) -> HeatSnapshot:
    """The heat canvas as drawn now, once leaflet-heat has caught up with the last change."""
    page.evaluate(SETTLE_JS)
    found = page.evaluate(HEAT_SNAPSHOT_JS)
    assert found is not None, "no heat canvas on the page"
    return HeatSnapshot(**found)


def changed(page: Page, before: HeatSnapshot, after: HeatSnapshot) -> int:
    """How many heat-canvas pixels differ between two snapshots of the same page."""
    count: int = page.evaluate(CHANGED_JS, [before.id, after.id])
    return count


def save_artifact(page: Page, name: str) -> Path:
    """Keep a screenshot for a person to look at after the run."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path))
    print(f"screenshot: {path}")
    return path


def clustered_points(
    centres: Sequence[tuple[float, float]], per_centre: int, spread: float, seed: int = 7
) -> tuple[tuple[float, float], ...]:
    """Points scattered around each centre, interleaved like a live stream would store them."""
    rng = random.Random(seed)
    return tuple(
        (rng.gauss(lat, spread), rng.gauss(lon, spread))
        for _ in range(per_centre)
        for lat, lon in centres
    )


# --- the test ---------------------------------------------------------------------------------


def test_chromium_draws_the_language_page_offline(tmp_path: Path) -> None:
    points = clustered_points(list(CITIES.values()), per_centre=100, spread=0.6)
    summary = LanguageSummary(
        lang="es", tweets=500, geo=len(points), hashtags=0, top_hashtags=(), points=points
    )
    # No refresh: a reload in the middle of the run would only make the result racy.
    write_maps(tmp_path, [summary], refresh_seconds=0, assets="local")

    with serve_directory(tmp_path / "maps") as base_url, chromium() as browser:
        page, record = open_page(browser, f"{base_url}/es.html")
        heat = heat_snapshot(page)
        map_variable = page.evaluate('() => document.querySelector(".folium-map").id')
        at_cities = page.evaluate(ALPHA_AT_JS, [map_variable, CITIES])
        leaflet_version = page.evaluate("() => L.version")
        outline_paths = page.locator(".leaflet-outlines-pane path").count()
        canvases = page.locator("canvas.leaflet-heatmap-layer").count()
        save_artifact(page, "language-page.png")

    record.assert_clean()
    assert leaflet_version == "1.9.4"  # the copy set-up installed, not a CDN's
    assert outline_paths >= 1, "no country outlines drawn"
    assert canvases == 2  # the exact layer and the inferred one (empty here)
    # Heat in a few spots, not a canvas filled edge to edge.
    assert MIN_PAINTED_PIXELS < heat.painted < 0.5 * heat.pixels
    assert all(value > 0 for value in at_cities.values()), at_cities


def test_the_live_page_slider_follows_the_stored_point_times(
    redis_url: str, tmp_path: Path
) -> None:
    """Points committed through the store at real, uneven times, in the hour's first and last
    ten minutes: the slider's first frame shows only the early ones, its last frame only the
    late ones, and the middle of the hour none (spread evenly, as without times, the middle
    would hold points). A language with a point stored before times were kept says its times
    are estimated."""
    generated = datetime.now(UTC).replace(microsecond=0)
    end = generated.timestamp()
    early = clustered_points([CITIES["Madrid"]], per_centre=40, spread=0.5)
    late = clustered_points([CITIES["Buenos Aires"]], per_centre=40, spread=0.5)

    async def fill() -> list[LanguageSummary]:
        client = redis_client(redis_url)
        store = Store(client, Keys("bt:"))
        # Minute 2 of the hour, then minute 58: the first and the last 5-minute frame.
        for seq, (points, at) in enumerate([(early, end - 3480), (late, end - 120)], 1):
            records = [Detected("es", (), point, None) for point in points]
            await store.commit_batch(
                "b", seq, [*records, Detected("pt", (), points[0], None)], now=at
            )
        await client.rpush("bt:geo_pt", "[38.72,-9.14]")  # no time: pt's times are estimated
        summaries = await collect_summaries(store, MapsSettings())
        await client.aclose()
        return summaries

    write_maps(
        tmp_path, asyncio.run(fill()), refresh_seconds=0, generated_at=generated, assets="local"
    )

    with serve_directory(tmp_path / "maps") as base_url, chromium() as browser:
        page, record = open_page(browser, f"{base_url}/index.html#lang=es")
        page.wait_for_function("() => window.tweetheatLive && window.tweetheatLive.heat")
        whole_hour = heat_snapshot(page)
        estimated_shown = page.locator("#estimated").is_visible()
        slider = page.locator("#frame")
        slider.focus()
        seen = {}
        for name, keys in (
            ("first", ["Home"]),
            ("middle", ["ArrowRight"] * 6),
            ("last", ["End", "ArrowLeft"]),
        ):
            for key in keys:
                page.keyboard.press(key)
            snapshot = heat_snapshot(page)
            seen[name] = (
                snapshot,
                page.evaluate(ALPHA_AT_JS, [None, CITIES]),
                page.locator("#frame-label").inner_text(),
            )
        first_to_last = changed(page, seen["first"][0], seen["last"][0])
        whole_to_first = changed(page, whole_hour, seen["first"][0])
        page.select_option("#lang", "pt")
        pt_estimated_shown = page.locator("#estimated").is_visible()

    record.assert_clean()
    assert not estimated_shown  # es has real times
    assert pt_estimated_shown
    _, first_alpha, first_label = seen["first"]
    middle, _, middle_label = seen["middle"]
    _, last_alpha, last_label = seen["last"]
    assert first_label.endswith(": 40 points") and last_label.endswith(": 40 points")
    assert middle_label.endswith(": 0 points") and middle.painted == 0, middle_label
    assert first_alpha["Madrid"] > 0 and first_alpha["Buenos Aires"] == 0, first_alpha
    assert last_alpha["Buenos Aires"] > 0 and last_alpha["Madrid"] == 0, last_alpha
    assert whole_to_first > MIN_PAINTED_PIXELS and first_to_last > MIN_PAINTED_PIXELS
