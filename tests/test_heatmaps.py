"""write_maps: which files appear, what the index says, and that the map carries the points."""

from __future__ import annotations

import json
import os
import re
import time
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest

from analysis import heatmaps
from analysis.heatmaps import LanguageSummary, is_safe_lang_code, write_maps

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
