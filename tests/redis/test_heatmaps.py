"""write_maps: which files appear, what the index says, and that the map carries the points."""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import structlog

from analysis import assets, heatmaps, topojson
from analysis.heatmaps import LanguageSummary, is_safe_lang_code, write_maps
from analysis.snapshot import collect_summaries
from streamer.config import MapsSettings
from streamer.core.records import Detected
from streamer.storage.connections import redis_client
from streamer.storage.keys import Keys
from streamer.storage.store import Store

# Asymmetric on purpose: lat and lon differ in sign and size, so a swap cannot go unnoticed.
PARIS = (48.8566, 2.3522)
BUENOS_AIRES = (-34.6037, -58.3816)
TOKYO = (35.6762, 139.6503)
WHEN = datetime(2024, 5, 17, 9, 30, 5, tzinfo=UTC)


def summary(
    lang: str,
    tweets: int = 10,
    *,
    points: tuple[tuple[float, float], ...] = (PARIS,),
    tops: tuple[tuple[str, int], ...] = (),
) -> LanguageSummary:
    return LanguageSummary(
        lang=lang,
        tweets=tweets,
        geo=len(points),
        hashtags=sum(count for _, count in tops),
        top_hashtags=tops,
        points=points,
    )


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


class IndexTable(HTMLParser):
    """Collects the index's body rows: each cell's text and the links found in the row."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.links: dict[str, str] = {}  # language cell text -> href
        self._in_body = False
        self._cell: list[str] | None = None
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tbody":
            self._in_body = True
        elif self._in_body and tag == "tr":
            self.rows.append([])
        elif self._in_body and tag == "td":
            self._cell = []
        elif self._in_body and tag == "a":
            self._href = dict(attrs).get("href")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._in_body = False
        elif tag == "td" and self._cell is not None:
            self.rows[-1].append(" ".join(" ".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
            if self._href is not None:
                self.links[data] = self._href
                self._href = None


def parse_index(path: Path) -> IndexTable:
    table = IndexTable()
    table.feed(path.read_text(encoding="utf-8"))
    return table


def heat_data(map_html: str) -> list[list[float]]:
    """The data array Folium hands to L.heatLayer, as Python lists."""
    found = re.search(r"L\.heatLayer\(\s*(\[.*?\]\])\s*,", map_html, re.S)
    assert found, "no L.heatLayer(...) call in the map page"
    return list(json.loads(found.group(1)))


def fitted_bounds(map_html: str) -> list[list[float]]:
    found = re.search(r"\.fitBounds\(\s*(\[\[.*?\]\])", map_html, re.S)
    assert found, "no fitBounds(...) call in the map page"
    return list(json.loads(found.group(1)))


# --- files ------------------------------------------------------------------------------------


def test_writes_a_map_per_language_with_points_and_an_index(tmp_path: Path) -> None:
    summaries = [summary("en"), summary("pt-br", points=(BUENOS_AIRES,)), summary("fr", points=())]

    written = write_maps(tmp_path, summaries, generated_at=WHEN)

    maps = tmp_path / "maps"
    assert written == [maps / "en.html", maps / "pt-br.html", maps / "index.html"]
    assert files_under(tmp_path) == ["maps/en.html", "maps/index.html", "maps/pt-br.html"]


def test_empty_summaries_still_write_an_index(tmp_path: Path) -> None:
    written = write_maps(tmp_path, [], generated_at=WHEN)

    assert written == [tmp_path / "maps" / "index.html"]
    page = written[0].read_text(encoding="utf-8")
    assert "No languages seen yet" in page
    assert "2024-05-17 09:30:05 UTC" in page


def test_leaves_no_temp_files_behind(tmp_path: Path) -> None:
    summaries = [summary("en"), summary("de"), summary("und", points=(TOKYO,))]

    write_maps(tmp_path, summaries)
    write_maps(tmp_path, summaries)  # the second run replaces existing files

    assert files_under(tmp_path) == [
        "maps/de.html",
        "maps/en.html",
        "maps/index.html",
        "maps/und.html",
    ]


def test_files_are_readable_by_others(tmp_path: Path) -> None:
    # The temp file starts as 0600; a web server running as another user must still read pages.
    write_maps(tmp_path, [summary("en")])

    assert (tmp_path / "maps" / "en.html").stat().st_mode & 0o777 == 0o644


def test_a_failed_write_keeps_the_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_maps(tmp_path, [summary("en")], generated_at=WHEN)
    before = (tmp_path / "maps" / "index.html").read_text(encoding="utf-8")

    def refuse(src: str, dst: str) -> None:
        raise OSError("disk says no")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk says no"):
        write_maps(tmp_path, [summary("en", tweets=99)], generated_at=WHEN + timedelta(hours=1))

    assert (tmp_path / "maps" / "index.html").read_text(encoding="utf-8") == before
    assert files_under(tmp_path) == ["maps/en.html", "maps/index.html"]


# --- language codes ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "und", "pt-br", "zh-hant", "es-419", "ckb"])
def test_accepts_plain_language_codes(lang: str) -> None:
    assert is_safe_lang_code(lang)


@pytest.mark.parametrize(
    "lang", ["../evil", "EN", "x y", "en\n", "", "e", "engl", "en-", "en/x", "..", "en.html"]
)
def test_bad_language_codes_are_not_written_anywhere(tmp_path: Path, lang: str) -> None:
    out = tmp_path / "out"

    written = write_maps(out, [summary(lang), summary("en")], generated_at=WHEN)

    assert written == [out / "maps" / "en.html", out / "maps" / "index.html"]
    assert files_under(tmp_path) == ["out/maps/en.html", "out/maps/index.html"]
    assert [row[0] for row in parse_index(out / "maps" / "index.html").rows] == ["en"]


# --- the index --------------------------------------------------------------------------------


def test_index_lists_languages_by_tweets_then_code(tmp_path: Path) -> None:
    summaries = [summary("de", 5), summary("fr", 40), summary("en", 40), summary("ja", 100)]

    write_maps(tmp_path, summaries, generated_at=WHEN)

    rows = parse_index(tmp_path / "maps" / "index.html").rows
    assert [row[0] for row in rows] == ["ja", "en", "fr", "de"]


def test_index_shows_counts_and_top_hashtags(tmp_path: Path) -> None:
    tops = (("python", 7), ("redis", 3))
    lang = LanguageSummary(
        lang="en", tweets=1234, geo=56, hashtags=789, top_hashtags=tops, points=(PARIS,)
    )

    write_maps(tmp_path, [lang], generated_at=WHEN)

    (row,) = parse_index(tmp_path / "maps" / "index.html").rows
    assert row == ["en", "1234", "56", "789", "#python 7 #redis 3"]


def test_index_links_only_languages_with_maps(tmp_path: Path) -> None:
    summaries = [summary("en"), summary("fr", points=()), summary("de", points=(TOKYO,))]

    write_maps(tmp_path, summaries, generated_at=WHEN)

    table = parse_index(tmp_path / "maps" / "index.html")
    assert table.links == {"en": "en.html", "de": "de.html"}
    for href in table.links.values():
        assert (tmp_path / "maps" / href).is_file()


def test_index_shows_generation_time_in_utc(tmp_path: Path) -> None:
    paris_summer = timezone(timedelta(hours=2))

    write_maps(tmp_path, [], generated_at=datetime(2024, 5, 17, 11, 30, 5, tzinfo=paris_summer))

    page = (tmp_path / "maps" / "index.html").read_text(encoding="utf-8")
    assert '<time datetime="2024-05-17T09:30:05+00:00">2024-05-17 09:30:05 UTC</time>' in page


def test_hashtags_are_escaped(tmp_path: Path) -> None:
    evil = "<script>alert(1)</script>"
    tops = ((evil, 3), ('"quoted"&amp', 1))

    write_maps(tmp_path, [summary("en", tops=tops)], generated_at=WHEN)

    page = (tmp_path / "maps" / "index.html").read_text(encoding="utf-8")
    assert evil not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&quot;quoted&quot;&amp;amp" in page
    (row,) = parse_index(tmp_path / "maps" / "index.html").rows
    assert row[-1] == f'#{evil} 3 #"quoted"&amp 1'  # the text a reader sees is the tag itself


# --- the maps ---------------------------------------------------------------------------------


def test_map_carries_the_points_in_lat_lon_order(tmp_path: Path) -> None:
    points = (PARIS, BUENOS_AIRES, TOKYO)

    write_maps(tmp_path, [summary("en", points=points)])

    page = (tmp_path / "maps" / "en.html").read_text(encoding="utf-8")
    assert heat_data(page) == [list(p) for p in points]


def test_map_is_fitted_to_the_points(tmp_path: Path) -> None:
    write_maps(tmp_path, [summary("en", points=(PARIS, BUENOS_AIRES, TOKYO))])

    page = (tmp_path / "maps" / "en.html").read_text(encoding="utf-8")
    assert fitted_bounds(page) == [[-34.6037, -58.3816], [48.8566, 139.6503]]


def test_points_leaflet_cannot_draw_are_dropped(tmp_path: Path) -> None:
    points = (PARIS, (float("nan"), 1.0), (91.0, 0.0), (0.0, float("inf")), TOKYO)

    write_maps(tmp_path, [summary("en", points=points), summary("fr", points=((95.0, 0.0),))])

    page = (tmp_path / "maps" / "en.html").read_text(encoding="utf-8")
    assert heat_data(page) == [list(PARIS), list(TOKYO)]
    assert not (tmp_path / "maps" / "fr.html").exists()


def test_map_title_names_the_language(tmp_path: Path) -> None:
    write_maps(tmp_path, [summary("pt-br")])

    page = (tmp_path / "maps" / "pt-br.html").read_text(encoding="utf-8")
    assert "<title>tweetheat — heatmap: pt-br</title>" in page


def test_a_few_hundred_points_per_language_stay_fast(tmp_path: Path) -> None:
    points = tuple((40 + i / 100, -3 - i / 50) for i in range(400))
    summaries = [summary(f"l{a}{b}", points=points) for a in "abc" for b in "abcdefghij"]

    started = time.monotonic()
    write_maps(tmp_path, summaries)  # 30 languages x 400 points: the daemon's every-30 s job

    # About 0.2 s on a laptop; the bound only catches a blow-up, not a slow machine.
    assert time.monotonic() - started < 10
    assert len(files_under(tmp_path)) == 31
    assert len(heat_data((tmp_path / "maps" / "lbc.html").read_text(encoding="utf-8"))) == 400


# --- refresh ----------------------------------------------------------------------------------


def test_pages_refresh_themselves(tmp_path: Path) -> None:
    write_maps(tmp_path, [summary("en")], refresh_seconds=45)

    for name in ("en.html", "index.html"):
        page = (tmp_path / "maps" / name).read_text(encoding="utf-8")
        assert '<meta http-equiv="refresh" content="45">' in page, name


def test_refresh_zero_disables_it(tmp_path: Path) -> None:
    write_maps(tmp_path, [summary("en")], refresh_seconds=0)

    for name in ("en.html", "index.html"):
        page = (tmp_path / "maps" / name).read_text(encoding="utf-8")
        assert 'http-equiv="refresh"' not in page, name


def test_meta_refresh_tag() -> None:
    assert heatmaps.meta_refresh(30) == '<meta http-equiv="refresh" content="30">'


# --- the live page's data ---------------------------------------------------------------------

HOUR = 3600


def live_data(path: Path) -> dict[str, Any]:
    """The JSON the live page's script draws from."""
    found = re.search(
        r'<script type="application/json" id="tweetheat-data">(.*?)</script>',
        path.read_text(encoding="utf-8"),
        re.S,
    )
    assert found, "no data element in the live page"
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def test_live_page_carries_every_listed_language_busiest_first(tmp_path: Path) -> None:
    summaries = [
        summary("fr", 5, points=(), tops=(("paris", 2),)),
        summary("ja", 90, points=(TOKYO, TOKYO)),
        summary("../x", 99),
    ]

    write_maps(tmp_path, summaries, generated_at=WHEN, refresh_seconds=45)

    data = live_data(tmp_path / "maps" / "index.html")
    assert [lang["lang"] for lang in data["languages"]] == ["ja", "fr"]
    ja, fr = data["languages"]
    assert ja["page"] == "ja.html" and fr["page"] is None
    assert [p[:2] for p in ja["points"]] == [list(TOKYO), list(TOKYO)]
    assert fr["top"] == [["paris", 2]] and fr["points"] == []
    assert data["generatedAt"] == WHEN.timestamp()
    assert data["windowStart"] == WHEN.timestamp() - HOUR
    assert data["refreshSeconds"] == 45


def test_live_page_options_name_each_language_with_its_posts(tmp_path: Path) -> None:
    write_maps(tmp_path, [summary("en", 1234), summary("th", 7, points=())], generated_at=WHEN)

    page = (tmp_path / "maps" / "index.html").read_text(encoding="utf-8")
    assert '<option value="en">en — 1,234 posts</option>' in page
    assert '<option value="th">th — 7 posts, no location</option>' in page


def test_data_cannot_close_the_script_element(tmp_path: Path) -> None:
    evil = ("</script><script>alert(1)</script>", 3)
    comment = ("<!--<script>", 2)

    write_maps(tmp_path, [summary("en", tops=(evil, comment))], generated_at=WHEN)

    page = (tmp_path / "maps" / "index.html").read_text(encoding="utf-8")
    # Only the page's own script elements open and close: the data holds no "<" at all.
    assert page.count("<script") == page.count("</script>")
    assert "<!--" not in page
    assert live_data(tmp_path / "maps" / "index.html")["languages"][0]["top"] == [
        list(evil),
        list(comment),
    ]


def test_points_without_times_are_spread_over_the_hour_in_order(tmp_path: Path) -> None:
    points = (PARIS, TOKYO, BUENOS_AIRES, PARIS)

    write_maps(tmp_path, [summary("en", points=points)], generated_at=WHEN)

    (en,) = live_data(tmp_path / "maps" / "index.html")["languages"]
    assert en["estimatedTimes"] is True
    # Oldest first, each in the middle of its quarter of the hour.
    assert en["points"] == [
        [*p, t, 0] for p, t in zip(points, [450, 1350, 2250, 3150], strict=True)
    ]


def test_real_point_times_place_points_in_the_hour(tmp_path: Path) -> None:
    now = WHEN.timestamp()
    timed = LanguageSummary(
        lang="en",
        tweets=3,
        geo=4,
        hashtags=0,
        top_hashtags=(),
        points=(PARIS, TOKYO, BUENOS_AIRES, (float("nan"), 0.0)),
        point_times=(now - 2 * HOUR, now - 1800.4, now + 60, now),
    )

    write_maps(tmp_path, [timed], generated_at=WHEN)

    (en,) = live_data(tmp_path / "maps" / "index.html")["languages"]
    assert en["estimatedTimes"] is False
    # Older than the hour: left out; from the future: now; undrawable: left out.
    assert en["points"] == [[*TOKYO, 1800, 0], [*BUENOS_AIRES, HOUR, 0]]


def test_the_live_page_places_stored_points_at_their_commit_times(
    redis_url: str, tmp_path: Path
) -> None:
    end = WHEN.timestamp()

    async def go() -> list[LanguageSummary]:
        client = redis_client(redis_url)
        store = Store(client, Keys("lp:"))
        batches = [
            [Detected("en", (), BUENOS_AIRES, None)],  # older than the hour
            [Detected("en", (), PARIS, None)],
            [Detected("en", (), TOKYO, None), Detected("ja", (), TOKYO, None)],
        ]
        for seq, (batch, at) in enumerate(
            zip(batches, [end - 2 * HOUR, end - 3000.6, end - 30], strict=True), 1
        ):
            await store.commit_batch("r", seq, batch, now=at)
        await client.lpush("lp:geo_ja", json.dumps(PARIS))  # stored before times were kept
        summaries = await collect_summaries(store, MapsSettings())
        await client.aclose()
        return summaries

    write_maps(tmp_path, asyncio.run(go()), generated_at=WHEN)

    data = live_data(tmp_path / "maps" / "index.html")
    by_lang = {lang["lang"]: lang for lang in data["languages"]}
    en, ja = by_lang["en"], by_lang["ja"]
    # Real times: the old point is left out, the others sit where they were committed.
    assert en["estimatedTimes"] is False
    assert en["points"] == [[*PARIS, 599, 0], [*TOKYO, HOUR - 30, 0]]
    # One point without a time: all of the language's points are spread over the hour.
    assert ja["estimatedTimes"] is True
    assert ja["points"] == [[*PARIS, 900, 0], [*TOKYO, 2700, 0]]
    page = (tmp_path / "maps" / "index.html").read_text(encoding="utf-8")
    assert '<p id="estimated" class="note" hidden>Times are estimated' in page


def test_times_that_do_not_match_the_points_are_not_used(tmp_path: Path) -> None:
    odd = LanguageSummary("en", 2, 2, 0, (), (PARIS, TOKYO), point_times=(WHEN.timestamp(),))

    write_maps(tmp_path, [odd], generated_at=WHEN)

    (en,) = live_data(tmp_path / "maps" / "index.html")["languages"]
    assert en["estimatedTimes"] is True
    assert [p[2] for p in en["points"]] == [900, 2700]


def test_live_page_reloads_itself_by_script_and_by_meta_without_it(tmp_path: Path) -> None:
    write_maps(tmp_path, [summary("en")], refresh_seconds=45, generated_at=WHEN)

    page = (tmp_path / "maps" / "index.html").read_text(encoding="utf-8")
    # The script reloads and keeps the chosen language; a bare meta refresh would lose it.
    assert '<noscript><meta http-equiv="refresh" content="45"></noscript>' in page
    assert live_data(tmp_path / "maps" / "index.html")["refreshSeconds"] == 45


# --- assets -----------------------------------------------------------------------------------

# Two unit squares side by side sharing one border, quantized: the smallest real topology.
SQUARES = {
    "type": "Topology",
    "transform": {"scale": [0.5, 0.25], "translate": [-10, 5]},
    "objects": {
        "countries": {
            "type": "GeometryCollection",
            "geometries": [
                {"type": "Polygon", "arcs": [[0, 1]]},
                {"type": "MultiPolygon", "arcs": [[[2, ~0]]]},
                {"type": "Point", "coordinates": [0, 0]},
            ],
        }
    },
    "arcs": [
        [[2, 0], [0, 4]],  # the shared border, (-9, 5) up to (-9, 6)
        [[2, 4], [-2, 0], [0, -4], [2, 0]],  # around the west square back to (-9, 5)
        [[2, 0], [2, 0], [0, 4], [-2, 0]],  # around the east square, (-9, 5) to (-9, 6)
    ],
}


def fake_web_assets(root: Path, *, outlines: bool = True) -> Path:
    """What `make setup` installs, in miniature."""
    dist = root / "leaflet" / "dist"
    (dist / "images").mkdir(parents=True)
    (dist / "leaflet.js").write_text("/* leaflet */")
    (dist / "leaflet.css").write_text("/* leaflet css */")
    (dist / "images" / "layers.png").write_bytes(b"\x89PNG")
    if outlines:
        (root / "world-atlas").mkdir()
        (root / "world-atlas" / "countries-110m.json").write_text(json.dumps(SQUARES))
    return root


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = fake_web_assets(tmp_path / "web-assets")
    monkeypatch.setenv(assets.WEB_ASSETS_ENV, str(root))
    monkeypatch.setattr(assets, "_warned", set())
    return root


def linked_urls(page: str) -> list[str]:
    return re.findall(r'<(?:script src|link rel="stylesheet" href)="([^"]+)"', page)


def test_local_assets_are_copied_next_to_the_pages(installed: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"

    written = write_maps(out, [summary("en")], generated_at=WHEN, assets="local")

    maps = out / "maps"
    assert written == [maps / "en.html", maps / "index.html"]  # pages only
    assert files_under(maps / "assets") == [
        "images/layers.png",
        "leaflet-heat.js",
        "leaflet.css",
        "leaflet.js",
        "outlines.js",
    ]
    assert (maps / "assets" / "leaflet-heat.js").read_bytes() == assets.FOLIUM_HEAT_JS.read_bytes()
    for name in ("en.html", "index.html"):
        urls = linked_urls((maps / name).read_text(encoding="utf-8"))
        assert "assets/leaflet.js" in urls and "assets/outlines.js" in urls, name
        assert not [url for url in urls if "//" in url], name  # nothing from the internet


def test_outlines_become_a_script_of_one_multipolygon(installed: Path, tmp_path: Path) -> None:
    write_maps(tmp_path, [summary("en")], generated_at=WHEN, assets="local")

    script = (tmp_path / "maps" / "assets" / "outlines.js").read_text()
    prefix = f"window.{assets.OUTLINES_GLOBAL} = "
    assert script.startswith(prefix) and script.endswith(";\n")
    geometry = json.loads(script[len(prefix) : -2])
    west = [[-9.0, 5.0], [-9.0, 6.0], [-10.0, 6.0], [-10.0, 5.0], [-9.0, 5.0]]
    east = [[-9.0, 5.0], [-8.0, 5.0], [-8.0, 6.0], [-9.0, 6.0], [-9.0, 5.0]]
    assert geometry == {"type": "MultiPolygon", "coordinates": [[west], [east]]}


def test_unchanged_assets_are_not_copied_again(installed: Path, tmp_path: Path) -> None:
    write_maps(tmp_path, [summary("en")], assets="local")
    copied = {p: p.stat().st_ino for p in (tmp_path / "maps" / "assets").rglob("*")}

    write_maps(tmp_path, [summary("en")], assets="local")

    assert {p: p.stat().st_ino for p in (tmp_path / "maps" / "assets").rglob("*")} == copied
    assert not list((tmp_path / "maps").rglob("*.tmp"))


def test_missing_assets_fall_back_to_the_cdn_with_one_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(assets.WEB_ASSETS_ENV, str(tmp_path / "nothing-installed"))
    monkeypatch.setattr(assets, "_warned", set())

    with structlog.testing.capture_logs() as logs:
        write_maps(tmp_path, [summary("en")], assets="local")
        write_maps(tmp_path, [summary("en")], assets="local")  # the daemon's next round

    assert [entry["event"] for entry in logs] == ["map_assets_missing"]
    assert logs[0]["fallback"] == "cdn"
    assert not (tmp_path / "maps" / "assets").exists()
    for name in ("en.html", "index.html"):
        urls = linked_urls((tmp_path / "maps" / name).read_text(encoding="utf-8"))
        assert assets.CDN_ASSETS.leaflet_js in urls, name


def test_missing_outlines_keep_local_leaflet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = fake_web_assets(tmp_path / "web-assets", outlines=False)
    monkeypatch.setenv(assets.WEB_ASSETS_ENV, str(root))
    monkeypatch.setattr(assets, "_warned", set())

    with structlog.testing.capture_logs() as logs:
        write_maps(tmp_path, [summary("en")], assets="local")

    assert [entry["event"] for entry in logs] == ["map_outlines_missing"]
    urls = linked_urls((tmp_path / "maps" / "index.html").read_text(encoding="utf-8"))
    assert "assets/leaflet.js" in urls and "assets/outlines.js" not in urls
    assert live_data(tmp_path / "maps" / "index.html")["outlinesGlobal"] is None


def test_cdn_is_the_default_and_writes_no_assets(tmp_path: Path) -> None:
    write_maps(tmp_path, [summary("en")])

    assert not (tmp_path / "maps" / "assets").exists()
    index = (tmp_path / "maps" / "index.html").read_text(encoding="utf-8")
    assert assets.CDN_ASSETS.leaflet_js in linked_urls(index)
    assert live_data(tmp_path / "maps" / "index.html")["outlinesGlobal"] is None


def test_an_unknown_asset_mode_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cdn, local"):
        write_maps(tmp_path, [summary("en")], assets="offline")


# --- TopoJSON ---------------------------------------------------------------------------------


def test_arcs_are_decoded_and_reversed_arcs_run_backwards() -> None:
    polygons = topojson.polygons_of(SQUARES, "countries")

    (west,), (east,) = polygons
    assert west[0] == west[-1] == [-9.0, 5.0]  # closed, shared end points kept once
    assert len(west) == 5
    # East starts along its own arc, then walks the shared border (arc 0) downwards.
    assert east[-2:] == [[-9.0, 6.0], [-9.0, 5.0]]


def test_a_polygon_across_the_antimeridian_is_drawn_on_both_sides() -> None:
    fiji_like = {
        "type": "Topology",
        "objects": {"f": {"type": "Polygon", "arcs": [[0]]}},
        "arcs": [[[179, -17], [-179, -17], [-179, -16], [179, -16], [179, -17]]],
    }

    polygons = topojson.polygons_of(fiji_like, "f")

    assert polygons == [
        [[[179, -17], [181, -17], [181, -16], [179, -16], [179, -17]]],
        [[[-181, -17], [-179, -17], [-179, -16], [-181, -16], [-181, -17]]],
    ]


def test_a_ring_around_the_pole_is_kept_as_stored() -> None:
    antarctica_like = {
        "type": "Topology",
        "objects": {"a": {"type": "Polygon", "arcs": [[0]]}},
        "arcs": [[[-180, -80], [0, -70], [180, -80], [-180, -80]]],
    }

    assert topojson.polygons_of(antarctica_like, "a") == [[antarctica_like["arcs"][0]]]
