"""The live page (maps/index.html) in a real headless Chromium: offline, switching, sliding.

The site holds four languages. "es" carries real point times: Madrid's points in the hour's
first 5-minute frame, Mexico City's in the middle, Buenos Aires' in the last, so each frame of
the slider must show exactly one city. "ja" has no times, so its points are spread over the
hour. "en" has hostile hashtags; "th" has no points at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from analysis.heatmaps import LanguageSummary, write_maps
from tests.e2e.test_browser import (
    ALPHA_AT_JS,
    CITIES,
    MIN_PAINTED_PIXELS,
    PageRecord,
    changed,
    chromium,
    clustered_points,
    heat_snapshot,
    open_page,
    save_artifact,
    serve_directory,
)

NOW = datetime.now(UTC).replace(microsecond=0)  # the page shows how old it is: keep it fresh
HOUR_START = (NOW - timedelta(hours=1)).timestamp()
JAPAN = {"Tokyo": (35.6762, 139.6503), "Osaka": (34.6937, 135.5023)}
ENGLISH = {"London": (51.5072, -0.1276), "New York": (40.7128, -74.006)}
EVIL_TAGS = ("</script><script>window.pwned = 1</script>", '<img src=x onerror="window.pwned=1">')
FRAMES = 12  # 5-minute frames in the hour; slider value 12 is the whole hour


def spanish() -> LanguageSummary:
    per_city = 100
    points: list[tuple[float, float]] = []
    times: list[float] = []
    # Madrid at minutes 0-5, Mexico City at 30-35, Buenos Aires at 55-60 of the hour.
    for city, first_second in (("Madrid", 5), ("Mexico City", 1805), ("Buenos Aires", 3305)):
        cluster = clustered_points([CITIES[city]], per_centre=per_city, spread=0.5)
        points += cluster
        times += [HOUR_START + first_second + 2.9 * i for i in range(per_city)]
    return LanguageSummary(
        lang="es",
        tweets=500,
        geo=len(points),
        hashtags=40,
        top_hashtags=(("futbol", 30), ("musica", 10)),
        points=tuple(points),
        point_times=tuple(times),
    )


SUMMARIES = [
    LanguageSummary("th", 50, 0, 3, (("songkran", 3),), ()),
    spanish(),
    LanguageSummary(
        "ja", 900, 200, 70, (("anime", 50), ("tokyo", 20)),
        clustered_points(list(JAPAN.values()), per_centre=100, spread=0.3),
    ),
    LanguageSummary(
        "en", 300, 200, 9, ((EVIL_TAGS[0], 5), (EVIL_TAGS[1], 4)),
        clustered_points(list(ENGLISH.values()), per_centre=100, spread=0.5),
    ),
]  # fmt: skip


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The live page (no self-refresh: a reload mid-test would only make results racy)."""
    out = tmp_path_factory.mktemp("live")
    write_maps(out, SUMMARIES, refresh_seconds=0, generated_at=NOW, assets="local")
    with serve_directory(out / "maps") as base_url:
        yield base_url


def open_live_page(browser: Browser, url: str) -> tuple[Page, PageRecord]:
    page, record = open_page(browser, url)
    page.wait_for_function("() => window.tweetheatLive && window.tweetheatLive.heat")
    return page, record


def alpha_at(page: Page, places: dict[str, tuple[float, float]]) -> dict[str, int]:
    heat_snapshot(page)  # let the heat layer finish drawing
    result: dict[str, int] = page.evaluate(ALPHA_AT_JS, [None, places])
    return result


def frame_label(page: Page) -> str:
    return page.locator("#frame-label").inner_text()


def test_loads_offline_with_no_errors(browser: Browser, site: str) -> None:
    page, record = open_live_page(browser, f"{site}/index.html")
    heat = heat_snapshot(page)
    options = page.locator("#lang option").all_inner_texts()
    chosen = page.locator("#lang").input_value()
    tags = page.locator("#tags li").all_inner_texts()
    leaflet_version = page.evaluate("() => L.version")
    outline_paths = page.locator(".leaflet-outlines-pane path").count()
    updated = page.locator("header time").inner_text()
    label = frame_label(page)
    save_artifact(page, "live-page.png")

    record.assert_clean()
    assert leaflet_version == "1.9.4"  # the set-up copy, not a CDN's
    assert outline_paths >= 1
    # Busiest first, with counts; the busiest is shown first.
    assert options == [
        "ja — 900 posts",
        "es — 500 posts",
        "en — 300 posts",
        "th — 50 posts, no location",
    ]
    assert chosen == "ja"
    assert tags == ["#anime 50", "#tokyo 20"]
    assert heat.painted > MIN_PAINTED_PIXELS
    assert updated == NOW.strftime("%Y-%m-%d %H:%M:%S UTC")
    assert label.startswith("Whole hour") and label.endswith(": 200 points"), label
    assert page.locator("#estimated").is_visible()  # ja has no real times


def test_switching_language_redraws_the_heat(browser: Browser, site: str) -> None:
    page, record = open_live_page(browser, f"{site}/index.html")
    before = heat_snapshot(page)

    page.select_option("#lang", "es")
    after = heat_snapshot(page)

    record.assert_clean()
    assert changed(page, before, after) > MIN_PAINTED_PIXELS
    assert all(alpha > 0 for alpha in alpha_at(page, CITIES).values())
    assert page.locator("#tags li").all_inner_texts() == ["#futbol 30", "#musica 10"]
    assert page.locator("#page-link").get_attribute("href") == "es.html"
    assert not page.locator("#estimated").is_visible()  # es carries real times

    page.select_option("#lang", "th")  # no points: an empty heat layer, and no error
    assert heat_snapshot(page).painted == 0
    assert page.locator("#page-link").is_hidden()
    record.assert_clean()


def test_the_slider_moves_the_heat_through_the_hour(browser: Browser, site: str) -> None:
    page, record = open_live_page(browser, f"{site}/index.html#lang=es")
    whole_hour = heat_snapshot(page)
    slider = page.locator("#frame")

    slider.focus()
    page.keyboard.press("Home")  # the hour's first 5 minutes: Madrid only
    first = heat_snapshot(page)
    at_first = alpha_at(page, CITIES)
    first_label = frame_label(page)

    page.keyboard.press("End")
    page.keyboard.press("ArrowLeft")  # the last 5 minutes: Buenos Aires only
    last = heat_snapshot(page)
    at_last = alpha_at(page, CITIES)

    record.assert_clean()
    assert changed(page, whole_hour, first) > MIN_PAINTED_PIXELS
    assert changed(page, first, last) > MIN_PAINTED_PIXELS
    assert at_first["Madrid"] > 0 and at_first["Mexico City"] == at_first["Buenos Aires"] == 0
    assert at_last["Buenos Aires"] > 0 and at_last["Madrid"] == at_last["Mexico City"] == 0
    start = datetime.fromtimestamp(HOUR_START, UTC)
    end = start + timedelta(minutes=5)
    assert first_label == f"{start:%H:%M}\u2013{end:%H:%M} UTC: 100 points", first_label


def test_estimated_times_spread_the_points_evenly(browser: Browser, site: str) -> None:
    page, record = open_live_page(browser, f"{site}/index.html#lang=ja&frame=0")

    shown = [page.evaluate("() => window.tweetheatLive.shown")]
    slider = page.locator("#frame")
    slider.focus()
    for _ in range(FRAMES - 1):
        page.keyboard.press("ArrowRight")
        shown.append(page.evaluate("() => window.tweetheatLive.shown"))

    record.assert_clean()
    assert sum(shown) == 200  # every point in exactly one frame
    assert max(shown) - min(shown) <= 1, shown


def test_user_text_stays_text(browser: Browser, site: str) -> None:
    page, record = open_live_page(browser, f"{site}/index.html#lang=en")

    tags = page.locator("#tags li").all_inner_texts()
    table_row = page.locator("tbody tr").nth(2).inner_text()  # ja, es, en, th

    record.assert_clean()
    assert page.evaluate("() => window.pwned") is None
    assert tags == [f"#{EVIL_TAGS[0]} 5", f"#{EVIL_TAGS[1]} 4"]
    assert table_row.startswith("en") and EVIL_TAGS[0] in table_row and EVIL_TAGS[1] in table_row


def test_play_then_reload_keeps_what_was_chosen(browser: Browser, tmp_path: Path) -> None:
    # The page reloads itself after `refresh_seconds`: long enough for the steps before the
    # reload to finish on a loaded machine (at 3 s, they sometimes did not).
    write_maps(tmp_path, SUMMARIES, refresh_seconds=8, generated_at=NOW, assets="local")
    with serve_directory(tmp_path / "maps") as base_url:
        page, record = open_live_page(browser, f"{base_url}/index.html")
        page.select_option("#lang", "es")
        page.locator("#map").hover()
        page.mouse.wheel(0, -300)  # zoom in: the view must survive the reload too
        page.wait_for_function("() => window.tweetheatLive.map.getZoom() > 2")
        page.click("#play")
        page.wait_for_function("() => window.tweetheatLive.state.frame >= 2")
        zoom = page.evaluate("() => window.tweetheatLive.map.getZoom()")

        with page.expect_navigation(timeout=15_000):  # the page's own reload, after 8 s
            pass
        page.wait_for_function("() => window.tweetheatLive && window.tweetheatLive.heat")

        assert page.locator("#lang").input_value() == "es"
        assert page.evaluate("() => window.tweetheatLive.map.getZoom()") == zoom
        # Still playing after the reload: the frame keeps moving.
        frame = page.evaluate("() => window.tweetheatLive.state.frame")
        page.wait_for_function(f"() => window.tweetheatLive.state.frame !== {frame}")
        page.click("#play")
        assert page.locator("#play").get_attribute("aria-label") == "Play the last hour"
        record.assert_clean()
