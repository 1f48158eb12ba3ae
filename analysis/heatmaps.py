"""Draw the per-language heatmaps and the live page that shows them all.

`write_maps` turns one snapshot of the store (a `LanguageSummary` per language) into static files
under `out_dir/maps/`: `<lang>.html`, a Folium map with a heat layer of the language's recent
points, for every language that has points, and `index.html`, the live page (`live_page.py`): a
language selector, the selected language's heatmap over the last hour, its top hashtags and the
table of all languages. The daemon calls it every 30 s from a worker process, so pages refresh
themselves and every file is replaced atomically: a browser or web server never sees a
half-written page. With `assets="local"` the pages load Leaflet from `maps/assets/` (`assets.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

import folium
from branca.element import MacroElement
from folium.map import FitBounds
from folium.plugins import HeatMap
from jinja2 import Template

from analysis.assets import (
    CDN_ASSETS,
    OUTLINE_STYLE,
    OUTLINES_GLOBAL,
    SEA_COLOUR,
    AssetMode,
    PageAssets,
    prepare_assets,
)
from analysis.geo_layers import (
    EXACT_GRADIENT,
    EXACT_LAYER,
    INFERRED_GRADIENT,
    INFERRED_LAYER,
    LEGEND_STYLE,
    legend_html,
)
from analysis.live_page import render_live_page
from analysis.pages import meta_refresh, write_atomically
from analysis.summaries import (
    LanguageSummary,
    Point,
    as_utc,
    is_safe_lang_code,
    usable_points,
)

# Older imports of these names go through this module; keep them working.
__all__ = [
    "INDEX_NAME",
    "MAPS_DIR",
    "LanguageSummary",
    "Point",
    "as_utc",
    "heatmap_map",
    "is_safe_lang_code",
    "meta_refresh",
    "usable_points",
    "write_atomically",
    "write_maps",
]

MAPS_DIR = "maps"
INDEX_NAME = "index.html"

# Sized for a few hundred points seen from world to city scale: clusters stay apart instead of
# merging into one blob. Fitting stops at city level so a lone point still shows its surroundings.
HEAT_RADIUS = 12
HEAT_BLUR = 15
HEAT_MIN_OPACITY = 0.4
FIT_MAX_ZOOM = 12
FIT_PADDING = (20, 20)
# The same, as Leaflet options for the live page's script.
HEAT_OPTIONS: dict[str, Any] = {
    "radius": HEAT_RADIUS,
    "blur": HEAT_BLUR,
    "minOpacity": HEAT_MIN_OPACITY,
}
FIT_OPTIONS: dict[str, Any] = {"maxZoom": FIT_MAX_ZOOM, "padding": list(FIT_PADDING)}


def write_maps(
    out_dir: Path,
    summaries: Sequence[LanguageSummary],
    *,
    refresh_seconds: int = 30,
    generated_at: datetime | None = None,
    assets: AssetMode | str = "cdn",
) -> list[Path]:
    """Write a heatmap per language with points, then the live index; return the pages written.

    Languages whose code is not a safe file name are skipped entirely (no map, no index row).
    Map files of languages that lost their points are left in place; the index stops linking them.
    `assets` is "cdn" (pages load Leaflet from the internet) or "local" (from copies written to
    `maps/assets/`, which are not in the returned list); "local" falls back to "cdn" with a
    warning when `make setup` has not installed them.
    """
    maps_dir = Path(out_dir) / MAPS_DIR
    maps_dir.mkdir(parents=True, exist_ok=True)
    generated_at = as_utc(generated_at or datetime.now(UTC))
    links = prepare_assets(maps_dir, assets)
    listed = [s for s in summaries if is_safe_lang_code(s.lang)]

    written: list[Path] = []
    mapped: set[str] = set()
    for summary in listed:
        exact, inferred = (usable_points(layer) for layer in summary.split_by_source())
        if not exact and not inferred:
            continue
        page = render_heatmap(
            summary.lang,
            exact,
            refresh_seconds=refresh_seconds,
            assets=links,
            inferred=inferred,
            precision_km=summary.inferred_precision_km,
        )
        written.append(write_atomically(maps_dir / f"{summary.lang}.html", page))
        mapped.add(summary.lang)

    index = render_live_page(
        listed,
        mapped,
        refresh_seconds=refresh_seconds,
        generated_at=generated_at,
        assets=links,
        heat_options=HEAT_OPTIONS,
        fit_options=FIT_OPTIONS,
    )
    written.append(write_atomically(maps_dir / INDEX_NAME, index))
    return written


# --- one language's heatmap -------------------------------------------------------------------


def render_heatmap(
    lang: str,
    points: Sequence[Sequence[float]],
    *,
    refresh_seconds: int,
    assets: PageAssets = CDN_ASSETS,
    inferred: Sequence[Sequence[float]] = (),
    precision_km: float | None = None,
) -> str:
    """A complete Folium page: heat layers of the exact `points` and the `inferred` ones, that a
    layer control switches, fitted to their bounds, with a legend."""
    fmap = heatmap_map(lang, points, assets=assets, inferred=inferred, precision_km=precision_km)
    root = fmap.get_root()
    # branca puts the title in the page unescaped.
    root.title = escape(f"tweetheat — heatmap: {lang}")  # type: ignore[attr-defined]
    if refresh_seconds > 0:
        root.header.add_child(  # type: ignore[attr-defined]
            folium.Element(meta_refresh(refresh_seconds)), name="meta_refresh"
        )
    return str(root.render())


def heatmap_map(
    lang: str,
    points: Sequence[Sequence[float]],
    *,
    assets: PageAssets = CDN_ASSETS,
    inferred: Sequence[Sequence[float]] = (),
    precision_km: float | None = None,
) -> folium.Map:
    """The Folium map of a language's heat layers (also what the notebook API shows inline):
    `points` are exact geotags, `inferred` the points the geolocator placed; a layer control
    switches each on and off and a legend says which is which.

    With no points it is an empty world map. With local assets it links only what a heatmap
    needs (Folium's default page also loads jQuery, Bootstrap and marker icons from CDNs)."""
    everything = [*points, *inferred]
    corners = bounds(everything) if everything else None
    centre = (
        [(corners[0][0] + corners[1][0]) / 2, (corners[0][1] + corners[1][1]) / 2]
        if corners
        else [20, 0]
    )
    fmap = folium.Map(location=centre, zoom_start=2)
    layers = [
        HeatMap(list(points), radius=HEAT_RADIUS, blur=HEAT_BLUR, min_opacity=HEAT_MIN_OPACITY,
                gradient=EXACT_GRADIENT, name=EXACT_LAYER),
        HeatMap(list(inferred), radius=HEAT_RADIUS, blur=HEAT_BLUR,
                min_opacity=HEAT_MIN_OPACITY, gradient=INFERRED_GRADIENT, name=INFERRED_LAYER),
    ]  # fmt: skip
    if assets.is_local:
        # Instance attributes: Folium's own add_js_link would change the class-wide lists.
        fmap.default_js = [("leaflet", assets.leaflet_js)]
        fmap.default_css = [("leaflet_css", assets.leaflet_css)]
        for heat in layers:
            heat.default_js = [("leaflet-heat.js", assets.heat_js)]
    if assets.outlines_js:
        fmap.add_child(OfflineOutlines(assets.outlines_js))
    for heat in layers:
        heat.add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.get_root().header.add_child(  # type: ignore[attr-defined]
        folium.Element(f"<style>{LEGEND_STYLE}{LEGEND_BOX_STYLE}</style>"), name="geo_legend_css"
    )
    fmap.get_root().html.add_child(  # type: ignore[attr-defined]
        folium.Element(
            '<div class="geo-legend geo-legend-box" id="geo-legend">'
            f"{legend_html(len(points), len(inferred), precision_km)}</div>"
        ),
        name="geo_legend",
    )
    if corners:
        fmap.add_child(fit_without_animation(list(corners)))
    return fmap


# The language page's legend floats over the map's bottom-left corner.
LEGEND_BOX_STYLE = """
.geo-legend-box { position: fixed; left: 10px; bottom: 24px; z-index: 1000; max-width: 24rem;
                  background: rgba(255, 255, 255, .92); padding: .4rem .6rem; border-radius: 4px;
                  box-shadow: 0 1px 4px rgba(0, 0, 0, .3); }
"""


class OfflineOutlines(MacroElement):
    """Country outlines under the tiles: they show wherever tiles do not load (offline)."""

    # The outlines script goes in the header: it must have run before the map script does.
    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <script src="{{ this.script_url|e }}"></script>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function (map) {
            var outlines = window[{{ this.global_name|tojson }}];
            if (!outlines) { return; }
            map.getContainer().style.background = {{ this.sea|tojson }};
            map.createPane("outlines").style.zIndex = 150;
            L.geoJSON(outlines, {pane: "outlines", interactive: false,
                                 style: {{ this.style|tojson }}}).addTo(map);
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, script_url: str) -> None:
        super().__init__()
        self._name = "OfflineOutlines"
        self.script_url = script_url
        self.global_name = OUTLINES_GLOBAL
        self.style = OUTLINE_STYLE
        self.sea = SEA_COLOUR


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
