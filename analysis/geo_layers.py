"""Exact and inferred points as two heat layers: their names, colours, legend and credit.

A map draws a post's own geotag ("exact") apart from a place guessed from its place box, its
author's profile location or bio ("inferred"), so a reader never takes a city-sized guess for
a street corner. Both the language pages (Folium) and the live page use these.
"""

from __future__ import annotations

from html import escape

from streamer.ingest.geolocate.gazetteer import GEONAMES_CREDIT

EXACT_LAYER = "Exact geotags"
INFERRED_LAYER = "Inferred locations"
# leaflet-heat gradients (stops as strings: JSON keys): warm for exact points, purple for inferred.
EXACT_GRADIENT = {"0.4": "#fdd49e", "0.7": "#fc8d59", "1.0": "#b30000"}
INFERRED_GRADIENT = {"0.4": "#9e9ac8", "0.7": "#6a51a3", "1.0": "#3f007d"}
EXACT_MEANS = "the post's own geotag"
INFERRED_MEANS = "from the place, the author's profile location or bio, precision shown"
GEONAMES_URL = "https://www.geonames.org/"
CREDIT = GEONAMES_CREDIT

LEGEND_STYLE = """
.geo-legend { font: 12px/1.45 system-ui, sans-serif; color: #1d2330; }
.geo-legend .swatch { display: inline-block; width: 1.6em; height: .8em; margin-right: .35em;
                      vertical-align: middle; border-radius: 2px; }
.geo-legend .exact { background: linear-gradient(90deg, #fdd49e, #fc8d59, #b30000); }
.geo-legend .inferred { background: linear-gradient(90deg, #9e9ac8, #6a51a3, #3f007d); }
.geo-legend p { margin: .15rem 0; }
.geo-legend .credit { color: #5b6475; font-size: .9em; margin-top: .3rem; }
"""


def precision_text(km: float | None) -> str:
    return f"median precision {km:,.0f} km" if km is not None else "no inferred points yet"


def legend_html(exact: int, inferred: int, precision_km: float | None) -> str:
    """The legend's inner HTML: what each layer means, how many points, and the credit."""
    return (
        f'<p><span class="swatch exact"></span><b>exact</b>: {escape(EXACT_MEANS)} '
        f"({_points(exact)})</p>"
        f'<p><span class="swatch inferred"></span><b>inferred</b>: {escape(INFERRED_MEANS)} '
        f"({_points(inferred)}, {precision_text(precision_km)})</p>"
        f"{credit_html()}"
    )


def _points(n: int) -> str:
    return f"{n:,} point" if n == 1 else f"{n:,} points"


def credit_html() -> str:
    """GeoNames' CC BY credit, linked: the inferred places come from its gazetteer."""
    return (
        f'<p class="credit"><a href="{GEONAMES_URL}" target="_blank" rel="noopener">'
        f"{escape(CREDIT)}</a></p>"
    )
