"""The live page, `maps/index.html`: every language on one map, with the last hour on a slider.

A language selector (busiest first, with counts), the selected language's heat layer, a slider
and a play button over the last hour in 5-minute frames (the far right shows the whole hour),
the language's top hashtags beside the map, when the page was generated and how long ago, and
below, the table of all languages linking their own pages.

All data rides in the page as one JSON script element (no fetch, so the page also works opened
from disk). The JSON has "<", ">" and "&" escaped, and every piece of user text that is put
into the HTML is escaped; the script only ever sets user text with textContent.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import Any

from analysis.assets import OUTLINE_STYLE, OUTLINES_GLOBAL, SEA_COLOUR, PageAssets
from analysis.geo_layers import (
    CREDIT,
    EXACT_GRADIENT,
    EXACT_LAYER,
    EXACT_MEANS,
    GEONAMES_URL,
    INFERRED_GRADIENT,
    INFERRED_LAYER,
    INFERRED_MEANS,
    LEGEND_STYLE,
    credit_html,
)
from analysis.live_page_script import LIVE_PAGE_SCRIPT, LIVE_PAGE_STYLE
from analysis.pages import json_for_script, meta_refresh
from analysis.summaries import LanguageSummary, is_drawable
from analysis.trend_panel import TrendInput, panel_data

WINDOW_SECONDS = 3600  # the slider covers the last hour...
FRAME_SECONDS = 300  # ...in 5-minute frames
TILES_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
TILES_ATTRIBUTION = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)
DATA_ELEMENT_ID = "tweetheat-data"


def render_live_page(
    summaries: Sequence[LanguageSummary],
    mapped: set[str],
    *,
    refresh_seconds: int,
    generated_at: datetime,
    assets: PageAssets,
    heat_options: dict[str, Any],
    fit_options: dict[str, Any],
) -> str:
    """The whole page; `mapped` names the languages that have their own map page.

    `heat_options` go to L.heatLayer, `fit_options` to fitBounds, as on the language pages."""
    ordered = sorted(summaries, key=lambda s: (-s.tweets, s.lang))
    data = page_data(
        ordered,
        mapped,
        generated_at=generated_at,
        refresh_seconds=refresh_seconds,
        assets=assets,
        heat_options=heat_options,
        fit_options=fit_options,
    )
    # Without JavaScript the table still refreshes; with it, the script reloads the page and
    # keeps the chosen language, frame and view (a meta refresh would lose them).
    refresh = (
        f"\n<noscript>{meta_refresh(refresh_seconds)}</noscript>" if refresh_seconds > 0 else ""
    )
    stamp = generated_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    iso = generated_at.isoformat(timespec="seconds")
    scripts = [assets.leaflet_js, assets.heat_js]
    if assets.outlines_js:
        scripts.append(assets.outlines_js)
    script_tags = "\n".join(f'<script src="{escape(src)}"></script>' for src in scripts)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">{refresh}
<title>tweetheat — live map</title>
<link rel="stylesheet" href="{escape(assets.leaflet_css)}">
<style>:root {{ --sea: {SEA_COLOUR}; }}{LIVE_PAGE_STYLE}{LEGEND_STYLE}</style>
</head>
<body>
<header>
<h1>tweetheat — live map</h1>
<p class="generated">Updated <time datetime="{iso}">{stamp}</time> <span id="age"></span></p>
</header>
<main class="live">
<div id="map" class="map" role="region" aria-label="Heatmap of the selected language"></div>
{side_panel(ordered, mapped)}
</main>
<section class="overview">
<h2>All languages</h2>
{languages_table(ordered, mapped)}
<footer class="geo-legend">{credit_html()}</footer>
</section>
<script type="application/json" id="{DATA_ELEMENT_ID}">{json_for_script(data)}</script>
{script_tags}
<script>{LIVE_PAGE_SCRIPT}</script>
</body>
</html>
"""


# --- the data the script draws from -----------------------------------------------------------


def page_data(
    ordered: Sequence[LanguageSummary],
    mapped: set[str],
    *,
    generated_at: datetime,
    refresh_seconds: int,
    assets: PageAssets,
    heat_options: dict[str, Any],
    fit_options: dict[str, Any],
) -> dict[str, Any]:
    end = generated_at.timestamp()
    start = end - WINDOW_SECONDS
    return {
        "windowStart": start,  # Unix seconds; a point's third number counts from here
        "windowSeconds": WINDOW_SECONDS,
        "frameSeconds": FRAME_SECONDS,
        "refreshSeconds": max(0, int(refresh_seconds)),
        "generatedAt": end,
        "tiles": {"url": TILES_URL, "attribution": TILES_ATTRIBUTION},
        "outlinesGlobal": OUTLINES_GLOBAL if assets.outlines_js else None,
        "outlineStyle": OUTLINE_STYLE,
        "heat": heat_options,
        "fit": fit_options,
        # geolocation: the two heat layers and the credit the map's attribution carries
        "layers": {
            "exact": {"name": EXACT_LAYER, "gradient": EXACT_GRADIENT},
            "inferred": {"name": INFERRED_LAYER, "gradient": INFERRED_GRADIENT},
        },
        "credit": {"text": CREDIT, "url": GEONAMES_URL},
        "languages": [language_data(s, has_map=s.lang in mapped, start=start) for s in ordered],
    }


def language_data(summary: LanguageSummary, *, has_map: bool, start: float) -> dict[str, Any]:
    points, estimated = timed_points(summary, start=start, end=start + WINDOW_SECONDS)
    return {
        "lang": summary.lang,
        "tweets": summary.tweets,
        "geo": summary.geo,
        "hashtags": summary.hashtags,
        "top": [[tag, count] for tag, count in summary.top_hashtags],
        "page": f"{summary.lang}.html" if has_map else None,
        "estimatedTimes": estimated,
        "points": points,
        "precisionKm": summary.inferred_precision_km,
        "trends": trends_of(summary),  # trends: the "Trending now" panel, None when off
    }


# --- trends: the "Trending now" panel's data ----------------------------------------------------


def trends_of(summary: LanguageSummary) -> dict[str, Any] | None:
    """The panel as the analysis process scored it (`trend_panel.score_trends`), or scored here
    when the summary still holds the raw input (`tweetheat maps`)."""
    found = summary.trends
    if isinstance(found, dict):
        return found
    if isinstance(found, TrendInput):
        return panel_data(found, [tag for tag, _ in summary.top_hashtags])
    return None


# --- end trends ---


def timed_points(
    summary: LanguageSummary, *, start: float, end: float
) -> tuple[list[list[float]], bool]:
    """[lat, lon, seconds after `start`, inferred] for each drawable point of the hour (inferred
    is 1 for a point the geolocator placed, 0 for an exact geotag), and whether the times are
    estimated.

    Real times are each point's commit time, used when every point has one. Points older than
    the hour are left out; times in the future (clock skew) count as now. Without real times
    (`point_times` is None: some point was stored before times were kept), the points, which
    are oldest first, are spread evenly over the hour in arrival order: the slider then shows
    the order they came in, not real times, and the page says the times are estimated.
    """
    times = summary.point_times
    estimated = times is None or len(times) != len(summary.points)
    if times is None or estimated:
        times = spread_evenly(len(summary.points), start=start, end=end)
    sources = summary.point_sources or ("exact",) * len(summary.points)
    timed = []
    for (lat, lon), when, source in zip(summary.points, times, sources, strict=True):
        if is_drawable(lat, lon) and math.isfinite(when) and when >= start:
            timed.append([lat, lon, round(min(when, end) - start), int(source != "exact")])
    return timed, estimated


def spread_evenly(count: int, *, start: float, end: float) -> tuple[float, ...]:
    """`count` times from oldest to newest, each in the middle of an equal share of the span."""
    step = (end - start) / count if count else 0.0
    return tuple(start + (i + 0.5) * step for i in range(count))


# --- the HTML around the map ------------------------------------------------------------------


def side_panel(ordered: Sequence[LanguageSummary], mapped: set[str]) -> str:
    if not ordered:
        return '<aside class="panel"><p class="empty">No languages seen yet.</p></aside>'
    options = "\n".join(language_option(s, has_map=s.lang in mapped) for s in ordered)
    frames = WINDOW_SECONDS // FRAME_SECONDS
    return f"""<aside class="panel">
<label for="lang">Language</label>
<select id="lang">
{options}
</select>
<p id="counts" class="counts"></p>
<div class="geo-legend" id="geo-legend">
<p><span class="swatch exact"></span><b>exact</b>: {escape(EXACT_MEANS)}
(<span id="n-exact">0</span>)</p>
<p><span class="swatch inferred"></span><b>inferred</b>: {escape(INFERRED_MEANS)}
(<span id="n-inferred">0</span>; <span id="precision"></span>)</p>
<p class="note">Switch each layer on or off with the control on the map.</p>
</div>
<label for="frame">Time</label>
<div class="time-row">
<button id="play" type="button" aria-label="Play the last hour">&#9654;</button>
<input id="frame" type="range" min="0" max="{frames}" step="1" value="{frames}">
</div>
<p id="frame-label" class="frame-label"></p>
<p id="estimated" class="note" hidden>Times are estimated: the points are spread over the hour
in the order they arrived.</p>
<h2>Trending now</h2>
<p id="trend-at" class="note"></p>
<ol id="trending" class="trending"></ol>
<p id="no-trending" class="note" hidden>Nothing trends right now.</p>
<div id="tag-view" class="tag-view" hidden>
<h3 id="tag-title"></h3>
<svg id="tag-line" class="tag-line" viewBox="0 0 240 60" preserveAspectRatio="none"
 role="img" aria-label="The tag's posts per minute"><polyline points=""/></svg>
<p id="tag-note" class="note"></p>
<button id="tag-clear" type="button">Back to all posts</button>
</div>
<h2>Top hashtags</h2>
<ol id="tags" class="tags"></ol>
<p id="no-tags" class="note" hidden>No hashtags yet.</p>
<p><a id="page-link" href="#" hidden>This language's own map</a></p>
</aside>"""


def language_option(summary: LanguageSummary, *, has_map: bool) -> str:
    code = escape(summary.lang)
    # Short enough for the panel's width; the full counts show under the selector.
    located = "" if has_map else ", no location"
    return f'<option value="{code}">{code} — {summary.tweets:,} posts{located}</option>'


def languages_table(ordered: Sequence[LanguageSummary], mapped: set[str]) -> str:
    if not ordered:
        return '<p class="empty">No languages seen yet.</p>'
    rows = "\n".join(language_row(s, has_map=s.lang in mapped) for s in ordered)
    return f"""<table>
<thead><tr><th>Language</th><th class="num">Tweets</th><th class="num">Located</th>
<th class="num">Hashtags</th><th>Top hashtags</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>"""


def language_row(summary: LanguageSummary, *, has_map: bool) -> str:
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
