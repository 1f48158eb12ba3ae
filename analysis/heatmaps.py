"""Draw the per-language heatmaps and the index page that links them.

`write_maps` turns one snapshot of the store (a `LanguageSummary` per language) into static files
under `out_dir/maps/`: `<lang>.html`, a Folium map with a heat layer of the language's recent
points, for every language that has points, and `index.html`, a self-contained overview of all
languages. The daemon calls it every 30 s from a worker process, so pages refresh themselves and
every file is replaced atomically: a browser or web server never sees a half-written page.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from pathlib import Path

import folium
from folium.map import FitBounds
from folium.plugins import HeatMap

MAPS_DIR = "maps"
INDEX_NAME = "index.html"

# Language codes become file names: only plain BCP-47-ish codes ("en", "pt-br", "und") pass.
_LANG_CODE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})?")

# Sized for a few hundred points seen from world to city scale: clusters stay apart instead of
# merging into one blob. Fitting stops at city level so a lone point still shows its surroundings.
HEAT_RADIUS = 12
HEAT_BLUR = 15
HEAT_MIN_OPACITY = 0.4
FIT_MAX_ZOOM = 12
FIT_PADDING = (20, 20)

Point = tuple[float, float]


@dataclass(frozen=True)
class LanguageSummary:
    lang: str
    tweets: int
    geo: int
    hashtags: int
    top_hashtags: tuple[tuple[str, int], ...]  # (tag, count), most common first
    points: tuple[tuple[float, float], ...]  # (lat, lon), oldest first, the N most recent


def write_maps(
    out_dir: Path,
    summaries: Sequence[LanguageSummary],
    *,
    refresh_seconds: int = 30,
    generated_at: datetime | None = None,
) -> list[Path]:
    """Write a heatmap per language with points, then the index; return the paths written.

    Languages whose code is not a safe file name are skipped entirely (no map, no index row).
    Map files of languages that lost their points are left in place; the index stops linking them.
    """
    maps_dir = Path(out_dir) / MAPS_DIR
    maps_dir.mkdir(parents=True, exist_ok=True)
    generated_at = as_utc(generated_at or datetime.now(UTC))
    listed = [s for s in summaries if is_safe_lang_code(s.lang)]

    written: list[Path] = []
    mapped: set[str] = set()
    for summary in listed:
        points = usable_points(summary.points)
        if not points:
            continue
        page = render_heatmap(summary.lang, points, refresh_seconds=refresh_seconds)
        written.append(write_atomically(maps_dir / f"{summary.lang}.html", page))
        mapped.add(summary.lang)

    index = render_index(listed, mapped, refresh_seconds=refresh_seconds, generated_at=generated_at)
    written.append(write_atomically(maps_dir / INDEX_NAME, index))
    return written


def is_safe_lang_code(lang: str) -> bool:
    """True for codes like "en", "pt-br" or "und" that are safe to use as a file name."""
    # fullmatch, not match with "$": "$" would also accept a trailing newline.
    return _LANG_CODE.fullmatch(lang) is not None


def usable_points(points: Sequence[Point]) -> list[list[float]]:
    """The points Leaflet can draw, as [lat, lon] lists; one bad point must not sink the map."""
    return [
        [lat, lon]
        for lat, lon in points
        if math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180
    ]


def as_utc(moment: datetime) -> datetime:
    """Naive datetimes are taken to be UTC already; aware ones are converted."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


# --- one language's heatmap -------------------------------------------------------------------


def render_heatmap(lang: str, points: Sequence[Sequence[float]], *, refresh_seconds: int) -> str:
    """A complete Folium page: a heat layer of `points`, fitted to their bounds."""
    south_west, north_east = bounds(points)
    centre = [(south_west[0] + north_east[0]) / 2, (south_west[1] + north_east[1]) / 2]
    fmap = folium.Map(location=centre, zoom_start=2)
    HeatMap(
        points, radius=HEAT_RADIUS, blur=HEAT_BLUR, min_opacity=HEAT_MIN_OPACITY, name=lang
    ).add_to(fmap)
    fmap.add_child(fit_without_animation([south_west, north_east]))

    root = fmap.get_root()
    # branca puts the title in the page unescaped.
    root.title = escape(f"tweetheat — heatmap: {lang}")  # type: ignore[attr-defined]
    if refresh_seconds > 0:
        root.header.add_child(  # type: ignore[attr-defined]
            folium.Element(meta_refresh(refresh_seconds)), name="meta_refresh"
        )
    return str(root.render())


def fit_without_animation(corners: list[list[float]]) -> FitBounds:
    """Fit the view to `corners` at once: the page opens on the points rather than zooming to
    them, and the heat layer is drawn once, for the final view, instead of mid-animation."""
    fit = FitBounds(corners, padding=FIT_PADDING, max_zoom=FIT_MAX_ZOOM)
    fit.options["animate"] = False
    return fit


def bounds(points: Sequence[Sequence[float]]) -> tuple[list[float], list[float]]:
    """South-west and north-east corners of the points' bounding box."""
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    return [min(lats), min(lons)], [max(lats), max(lons)]


def meta_refresh(seconds: int) -> str:
    return f'<meta http-equiv="refresh" content="{int(seconds)}">'


# --- the index page ---------------------------------------------------------------------------

_INDEX_STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 64rem; padding: 0 1rem; color: #1d2330; background: #fafbfc; }
h1 { font-size: 1.4rem; margin: 0 0 .25rem; }
p.generated { color: #5b6475; margin: 0 0 1.5rem; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { padding: .45rem .7rem; border-bottom: 1px solid #e3e6eb; text-align: left;
         vertical-align: top; }
th { background: #f0f2f5; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.lang { font-family: ui-monospace, monospace; white-space: nowrap; }
span.nomap { color: #8a92a3; font-size: .85em; }
ul.tags { list-style: none; margin: 0; padding: 0; }
ul.tags li { display: inline-block; margin: 0 .6rem .15rem 0; }
ul.tags .count { color: #5b6475; font-size: .85em; }
p.empty { color: #5b6475; }
"""


def render_index(
    summaries: Sequence[LanguageSummary],
    mapped: set[str],
    *,
    refresh_seconds: int,
    generated_at: datetime,
) -> str:
    """The overview page: one row per language, busiest first, linking the maps that exist."""
    ordered = sorted(summaries, key=lambda s: (-s.tweets, s.lang))
    rows = "\n".join(index_row(s, has_map=s.lang in mapped) for s in ordered)
    refresh = f"\n{meta_refresh(refresh_seconds)}" if refresh_seconds > 0 else ""
    stamp = generated_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    iso = generated_at.isoformat(timespec="seconds")
    body = (
        f"""<table>
<thead><tr><th>Language</th><th class="num">Tweets</th><th class="num">Geotagged</th>
<th class="num">Hashtags</th><th>Top hashtags</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>"""
        if ordered
        else '<p class="empty">No languages seen yet.</p>'
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">{refresh}
<title>tweetheat — languages</title>
<style>{_INDEX_STYLE}</style>
</head>
<body>
<h1>tweetheat — languages</h1>
<p class="generated">Generated <time datetime="{iso}">{stamp}</time></p>
{body}
</body>
</html>
"""


def index_row(summary: LanguageSummary, *, has_map: bool) -> str:
    code = escape(summary.lang)
    lang = (
        f'<a href="{code}.html">{code}</a>'
        if has_map
        else f'{code} <span class="nomap">no map</span>'
    )
    return (
        f'<tr><td class="lang">{lang}</td>'
        f'<td class="num">{summary.tweets}</td>'
        f'<td class="num">{summary.geo}</td>'
        f'<td class="num">{summary.hashtags}</td>'
        f"<td>{top_hashtags_list(summary.top_hashtags)}</td></tr>"
    )


def top_hashtags_list(tops: Sequence[tuple[str, int]]) -> str:
    if not tops:
        return ""
    items = "".join(
        f'<li>#{escape(tag)} <span class="count">{count}</span></li>' for tag, count in tops
    )
    return f'<ul class="tags">{items}</ul>'


# --- files ------------------------------------------------------------------------------------


def write_atomically(path: Path, text: str) -> Path:
    """Write to a temp file next to `path`, then rename over it: readers see old or new, whole."""
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            # mkstemp makes the file 0600; the pages are meant to be served, so make them readable.
            os.fchmod(f.fileno(), 0o644)
            f.write(text)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path
