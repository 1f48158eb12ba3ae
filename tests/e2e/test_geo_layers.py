"""Exact and inferred points paint as two heat layers that the map's layer control switches,
on a language page and on the live page, in Debian's Chromium (see test_browser.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from analysis.heatmaps import LanguageSummary, write_maps
from tests.e2e.test_browser import (
    CITIES,
    SETTLE_JS,
    chromium,
    clustered_points,
    open_page,
    save_artifact,
    serve_directory,
)

NOW = datetime.now(UTC).replace(microsecond=0)
# Exact geotags around Madrid, inferred points around Buenos Aires: each city is painted by one
# layer only, so switching a layer off must blank its city and leave the other.
EXACT = clustered_points([CITIES["Madrid"]], per_centre=120, spread=0.5)
INFERRED = clustered_points([CITIES["Buenos Aires"]], per_centre=150, spread=0.5)
PLACES = {"Madrid": CITIES["Madrid"], "Buenos Aires": CITIES["Buenos Aires"]}

# The highest heat alpha at each place over every heat canvas on the page (a layer switched
# off takes its canvas out of the page).
ALPHA_ANY_JS = """([mapVariable, places]) => {
  const map = mapVariable ? window[mapVariable] : window.tweetheatLive.map;
  const canvases = Array.from(document.querySelectorAll("canvas.leaflet-heatmap-layer"));
  const out = {};
  for (const [name, latLon] of Object.entries(places)) {
    const p = map.latLngToContainerPoint(latLon);
    out[name] = Math.max(0, ...canvases.map(c =>
      c.getContext("2d").getImageData(Math.round(p.x), Math.round(p.y), 1, 1).data[3]));
  }
  return out;
}"""
# Painted pixels on one layer's canvas, found by the class the live page gives it.
PAINTED_JS = """(selector) => {
  const canvas = document.querySelector(selector);
  if (!canvas || !canvas.isConnected) { return 0; }
  const rgba = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < rgba.length; i += 4) { if (rgba[i]) { painted++; } }
  return painted;
}"""


def summary() -> LanguageSummary:
    points = EXACT + INFERRED
    start = (NOW - timedelta(minutes=50)).timestamp()
    return LanguageSummary(
        lang="es",
        tweets=5000,
        geo=len(points),
        hashtags=0,
        top_hashtags=(),
        points=points,
        point_times=tuple(start + i for i in range(len(points))),
        point_sources=("exact",) * len(EXACT) + ("profile",) * len(INFERRED),
        inferred_precision_km=25.0,
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    out = tmp_path_factory.mktemp("geo-layers")
    write_maps(out, [summary()], refresh_seconds=0, generated_at=NOW, assets="local")
    with serve_directory(out / "maps") as base_url:
        yield base_url


def switch(page: Page, layer: str) -> None:
    """Click a layer's checkbox in the map's layer control, then let the heat redraw."""
    label = page.locator(".leaflet-control-layers-overlays label", has_text=layer)
    label.locator("input").click()
    page.evaluate(SETTLE_JS)


def alpha(page: Page, map_variable: str | None = None) -> dict[str, int]:
    page.evaluate(SETTLE_JS)
    found: dict[str, int] = page.evaluate(ALPHA_ANY_JS, [map_variable, PLACES])
    return found


def test_the_language_page_switches_exact_and_inferred_layers(browser: Browser, site: str) -> None:
    page, record = open_page(browser, f"{site}/es.html")
    map_variable = page.evaluate('() => document.querySelector(".folium-map").id')
    both = alpha(page, map_variable)
    legend = page.locator("#geo-legend").inner_text()
    save_artifact(page, "language-page-layers.png")
    switch(page, "Exact geotags")
    inferred_only = alpha(page, map_variable)
    switch(page, "Inferred locations")
    neither = alpha(page, map_variable)
    switch(page, "Exact geotags")
    exact_only = alpha(page, map_variable)

    record.assert_clean()
    assert both["Madrid"] > 0 and both["Buenos Aires"] > 0
    assert inferred_only["Madrid"] == 0 and inferred_only["Buenos Aires"] > 0
    assert neither == {"Madrid": 0, "Buenos Aires": 0}
    assert exact_only["Madrid"] > 0 and exact_only["Buenos Aires"] == 0
    assert "exact: the post's own geotag (120 points)" in legend
    assert "median precision 25 km" in legend and "GeoNames" in legend


def test_the_live_page_switches_the_layers_and_keeps_the_choice(
    browser: Browser, site: str
) -> None:
    page, record = open_page(browser, f"{site}/index.html")
    page.wait_for_function("() => window.tweetheatLive && window.tweetheatLive.inferred")
    page.evaluate(SETTLE_JS)
    painted = {
        kind: page.evaluate(PAINTED_JS, f"canvas.heat-{kind}") for kind in ("exact", "inferred")
    }
    shown = page.evaluate("() => [window.tweetheatLive.shownExact, window.tweetheatLive.shown]")
    legend = page.locator("#geo-legend").inner_text()
    attribution = page.locator(".leaflet-control-attribution").inner_text()
    save_artifact(page, "live-page-layers.png")

    switch(page, "Exact geotags")
    after = alpha(page)
    hidden = page.evaluate("() => [window.tweetheatLive.shownExact, window.tweetheatLive.shown]")
    label = page.locator("#frame-label").inner_text()
    page.reload()
    page.wait_for_function("() => window.tweetheatLive && window.tweetheatLive.inferred")
    reloaded = alpha(page)
    checked = page.locator(".leaflet-control-layers-overlays input").evaluate_all(
        "inputs => inputs.map(i => i.checked)"
    )

    record.assert_clean()
    assert painted["exact"] > 500 and painted["inferred"] > 500
    assert shown == [120, 270]
    assert "120 in the hour" in legend and "150 in the hour" in legend
    assert "median precision 25 km" in legend
    assert "GeoNames" in attribution
    assert after["Madrid"] == 0 and after["Buenos Aires"] > 0
    assert hidden == [0, 150] and label.endswith(": 150 points")
    # The choice rides in the URL: after a reload the exact layer is still off.
    assert reloaded["Madrid"] == 0 and reloaded["Buenos Aires"] > 0
    assert checked == [False, True]


def test_no_layer_is_missing_when_the_page_has_only_exact_points(tmp_path: Path) -> None:
    """Pages of a store without inferred points still carry both layers (one empty)."""
    only_exact = LanguageSummary("es", 10, 5, 0, (), EXACT[:5])
    write_maps(tmp_path, [only_exact], refresh_seconds=0, generated_at=NOW)
    page = (tmp_path / "maps" / "es.html").read_text()
    assert page.count("L.heatLayer") == 2 and "(0 points, no inferred points yet)" in page
