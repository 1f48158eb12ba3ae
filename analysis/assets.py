"""Where the map pages load Leaflet, its heat plugin and the country outlines from.

"cdn" (the default) links the public CDNs Folium uses: the pages need internet access.
"local" links copies written next to the pages, under `maps/assets/`, so the pages need no
internet except for map tiles, and without tiles they still show country outlines:
- Leaflet (npm `leaflet`) and Natural Earth's 1:110m countries (npm `world-atlas`), which
  `make setup` installs under `.cache/web-assets/` (see scripts/web-assets.lock);
- the heat plugin bundled with the folium package, the same file Folium's CDN link serves.
If the installed copies are missing, the pages fall back to the CDN and a warning is logged.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import folium
import orjson
from folium.plugins import HeatMap

from analysis.pages import write_atomically
from analysis.topojson import as_multipolygon
from streamer.core.logs import get_logger

log = get_logger("analysis.assets")

AssetMode = Literal["cdn", "local"]
ASSET_MODES: tuple[AssetMode, ...] = ("cdn", "local")
ASSETS_DIR = "assets"  # under the maps directory; the pages link it relatively
WEB_ASSETS_ENV = "TWEETHEAT_WEB_ASSETS"  # where `make setup` put the npm packages, if elsewhere
DEFAULT_WEB_ASSETS = Path(__file__).resolve().parents[1] / ".cache" / "web-assets"
FOLIUM_HEAT_JS = Path(folium.__file__).parent / "templates" / "leaflet_heat.min.js"

# The outlines script sets this global; the pages draw it when it is there.
OUTLINES_GLOBAL = "tweetheatOutlines"
OUTLINES_SOURCE = Path("world-atlas") / "countries-110m.json"
OUTLINES_DIGITS = 2  # about 1 km: finer than a 1:110m outline can show
# Land on a pale sea: quiet enough that the heat stays the first thing one sees.
OUTLINE_STYLE = {"color": "#98a2ae", "weight": 0.6, "fillColor": "#f5f3ee", "fillOpacity": 1}
SEA_COLOUR = "#dbe4ec"


@dataclass(frozen=True)
class PageAssets:
    """The URLs a page links, relative to the maps directory when local."""

    leaflet_js: str
    leaflet_css: str
    heat_js: str
    outlines_js: str | None = None  # None: no offline outlines; tiles only

    @property
    def is_local(self) -> bool:
        return not self.leaflet_js.startswith(("http://", "https://"))


def _folium_link(links: list[tuple[str, str]], name: str) -> str:
    return dict(links)[name]


# Taken from Folium, so CDN pages keep loading exactly what Folium pages load.
CDN_ASSETS = PageAssets(
    leaflet_js=_folium_link(folium.Map.default_js, "leaflet"),
    leaflet_css=_folium_link(folium.Map.default_css, "leaflet_css"),
    heat_js=_folium_link(HeatMap.default_js, "leaflet-heat.js"),
)
LOCAL_ASSETS = PageAssets(
    leaflet_js=f"{ASSETS_DIR}/leaflet.js",
    leaflet_css=f"{ASSETS_DIR}/leaflet.css",
    heat_js=f"{ASSETS_DIR}/leaflet-heat.js",
    outlines_js=f"{ASSETS_DIR}/outlines.js",
)

_warned: set[str] = set()  # the daemon writes maps every 30 s: warn once per process, not each time


def web_assets_dir() -> Path:
    return Path(os.environ.get(WEB_ASSETS_ENV) or DEFAULT_WEB_ASSETS)


def leaflet_files(source: Path) -> dict[str, Path]:
    """Name under maps/assets/ -> installed file, for everything but the outlines."""
    dist = source / "leaflet" / "dist"
    files = {
        "leaflet.js": dist / "leaflet.js",
        "leaflet.css": dist / "leaflet.css",
        "leaflet-heat.js": FOLIUM_HEAT_JS,
    }
    # leaflet.css draws the layer switcher and markers with these.
    images = dist / "images"
    if images.is_dir():
        files.update({f"images/{p.name}": p for p in sorted(images.glob("*.png"))})
    return files


def prepare_assets(maps_dir: Path, mode: str, *, source: Path | None = None) -> PageAssets:
    """The links pages in `maps_dir` should use; for "local", first copy the assets there."""
    if mode not in ASSET_MODES:
        raise ValueError(f"assets must be one of {', '.join(ASSET_MODES)}, not {mode!r}")
    if mode == "cdn":
        return CDN_ASSETS
    source = source or web_assets_dir()
    files = leaflet_files(source)
    missing = sorted(str(path) for path in files.values() if not path.is_file())
    if missing:
        warn_once("map_assets_missing", missing=missing, fallback="cdn", fix="run 'make setup'")
        return CDN_ASSETS

    target = Path(maps_dir) / ASSETS_DIR
    for name, path in files.items():
        copy_if_changed(path, target / name)
    outlines = source / OUTLINES_SOURCE
    if not outlines.is_file():
        warn_once("map_outlines_missing", missing=str(outlines), fix="run 'make setup'")
        return replace(LOCAL_ASSETS, outlines_js=None)
    write_outlines_if_changed(outlines, target / "outlines.js")
    return LOCAL_ASSETS


def warn_once(event: str, **details: object) -> None:
    if event not in _warned:
        _warned.add(event)
        log.warning(event, **details)


def is_current(source: Path, target: Path, *, same_size: bool) -> bool:
    """A copy carries its source's mtime, so an unchanged source is not copied again."""
    try:
        src, dst = source.stat(), target.stat()
    except FileNotFoundError:
        return False
    return src.st_mtime_ns == dst.st_mtime_ns and (not same_size or src.st_size == dst.st_size)


def copy_if_changed(source: Path, target: Path) -> None:
    if is_current(source, target, same_size=True):
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
            os.fchmod(out.fileno(), 0o644)
            shutil.copyfileobj(src, out)
        stamp_like(source, Path(tmp_name))
        os.replace(tmp_name, target)  # a browser never loads half a script
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def write_outlines_if_changed(topojson_path: Path, target: Path) -> None:
    """Convert the TopoJSON countries into a script that sets window.tweetheatOutlines.

    A script rather than a .json file: pages opened from disk (file://) cannot fetch JSON."""
    if is_current(topojson_path, target, same_size=False):
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    topology = orjson.loads(topojson_path.read_bytes())
    geometry = as_multipolygon(topology, "countries", digits=OUTLINES_DIGITS)
    script = b"window.%s = %s;\n" % (OUTLINES_GLOBAL.encode(), orjson.dumps(geometry))
    write_atomically(target, script)
    stamp_like(topojson_path, target)


def stamp_like(source: Path, target: Path) -> None:
    stat = source.stat()
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
