"""A real headless Chromium opens a generated heatmap and the heat layer paints pixels.

Folium pages load Leaflet and leaflet-heat from CDNs, which are out of reach offline. The test
serves a copy of the page on 127.0.0.1 whose CDN links point at local copies (Debian's
libjs-leaflet, folium's bundled leaflet-heat) and drops the assets drawing does not need
(jQuery, Bootstrap, awesome-markers, Font Awesome: Folium only uses them for markers and popups).
A probe script appended to the page counts the heat canvas's painted pixels and writes the result
into the DOM, which Chromium dumps.
"""

from __future__ import annotations

import html
import json
import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import folium
import pytest

from analysis.heatmaps import LanguageSummary, write_maps

LEAFLET_DIR = Path("/usr/share/javascript/leaflet")
FOLIUM_TEMPLATES = Path(folium.__file__).parent / "templates"

# CDN file name -> local copy served instead; every other CDN asset is dropped.
LOCAL_ASSETS = {
    "leaflet.js": LEAFLET_DIR / "leaflet.js",
    "leaflet.css": LEAFLET_DIR / "leaflet.css",
    "leaflet_heat.min.js": FOLIUM_TEMPLATES / "leaflet_heat.min.js",
}

# (lat, lon) of the cities the test points cluster around: far apart and lat != lon, so a
# swapped coordinate would land elsewhere and leave the city's pixel blank.
CITIES = {
    "Madrid": (40.4168, -3.7038),
    "Mexico City": (19.4326, -99.1332),
    "Buenos Aires": (-34.6037, -58.3816),
}

CHROMIUM_TIMEOUT = 60  # seconds; a normal run takes two or three
MIN_PAINTED_PIXELS = 500

_CDN_SCRIPT = re.compile(r'<script src="(https?://[^"]+)"></script>')
_CDN_STYLESHEET = re.compile(r'<link rel="stylesheet" href="(https?://[^"]+)"\s*/?>')

# Runs first: remembers script errors and assets that failed to load, for the failure message.
_ERROR_COLLECTOR = """<script>
window.__probeErrors = [];
window.addEventListener("error", function (e) {
  var t = e.target || {};
  window.__probeErrors.push(e.message || ("failed to load " + (t.src || t.href)));
}, true);
</script>"""

# Runs last: measures the heat canvas and checks the heat sits on each city's pixel.
_PROBE = """<script>
(function () {
  var cities = %(cities)s;
  function report() {
    var out = document.getElementById("heat-probe");
    if (!out) {
      out = document.body.appendChild(document.createElement("pre"));
      out.id = "heat-probe";
    }
    var result = {leaflet: typeof L, errors: window.__probeErrors, canvases: 0, painted: 0,
                  width: 0, height: 0, cities: {}};
    var canvas = document.querySelector("canvas.leaflet-heatmap-layer");
    if (canvas) {
      var ctx = canvas.getContext("2d");
      var data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      for (var i = 3; i < data.length; i += 4) { if (data[i] !== 0) result.painted++; }
      result.canvases = document.querySelectorAll("canvas.leaflet-heatmap-layer").length;
      result.width = canvas.width;
      result.height = canvas.height;
      // The heat canvas is kept at the map container's origin: container point == pixel.
      var map = window[document.querySelector(".folium-map").id];
      Object.keys(cities).forEach(function (name) {
        var p = map.latLngToContainerPoint(cities[name]);
        result.cities[name] = ctx.getImageData(Math.round(p.x), Math.round(p.y), 1, 1).data[3];
      });
    }
    out.textContent = JSON.stringify(result);
  }
  window.addEventListener("load", function () {
    setTimeout(report, 300);
    setTimeout(report, 1500);  // the later report wins if the heat was still being drawn
  });
})();
</script>"""


# --- helpers (also used to take docs/map.png) -------------------------------------------------


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("Chromium is not installed: run 'make test' (it installs it)")


def check_local_assets() -> None:
    missing = [str(path) for path in LOCAL_ASSETS.values() if not path.is_file()]
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: run 'make test' (it installs libjs-leaflet)")


def offline_page(page: str, *, probe: str = "") -> str:
    """The Folium page with CDN assets swapped for local ones (or dropped) and `probe` appended."""

    def local_or_nothing(match: re.Match[str], tag: str) -> str:
        name = match.group(1).rsplit("/", 1)[-1]
        return tag.format(f"/assets/{name}") if name in LOCAL_ASSETS else ""

    page = _CDN_SCRIPT.sub(partial(local_or_nothing, tag='<script src="{}"></script>'), page)
    page = _CDN_STYLESHEET.sub(
        partial(local_or_nothing, tag='<link rel="stylesheet" href="{}"/>'), page
    )
    page = page.replace("<head>", "<head>\n" + _ERROR_COLLECTOR, 1)
    return page.replace("</html>", probe + "\n</html>")


def prepare_site(root: Path, map_page: Path, *, probe: str = "") -> str:
    """Lay out the offline copy of `map_page` and its assets under `root`; return its URL path."""
    (root / "assets").mkdir(parents=True, exist_ok=True)
    for name, source in LOCAL_ASSETS.items():
        shutil.copyfile(source, root / "assets" / name)
    page = offline_page(map_page.read_text(encoding="utf-8"), probe=probe)
    (root / map_page.name).write_text(page, encoding="utf-8")
    return f"/{map_page.name}"


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


def run_chromium(args: Sequence[str], url: str, *, timeout: float = CHROMIUM_TIMEOUT) -> str:
    """Run headless Chromium on `url` with a throwaway profile; return its stdout."""
    with tempfile.TemporaryDirectory(prefix="th-chromium-", ignore_cleanup_errors=True) as profile:
        command = [
            chromium_binary(),
            "--headless",
            "--no-sandbox",  # tests run as root in containers
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            # Nothing but the loopback server resolves: tiles fail at once instead of hanging.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            f"--user-data-dir={profile}",
            *args,
            url,
        ]
        # Own session, so a hung browser is killed with all its helper processes.
        proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            pytest.fail(f"chromium did not finish within {timeout} s")
    if proc.returncode != 0:
        pytest.fail(f"chromium exited with {proc.returncode}:\n{stderr[-2000:]}")
    return stdout


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


def read_probe(dom: str) -> dict[str, Any]:
    found = re.search(r'<pre id="heat-probe">(.*?)</pre>', dom, re.S)
    assert found, "the probe never reported: the page did not finish loading"
    result: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return result


# --- the test ---------------------------------------------------------------------------------


def test_chromium_draws_the_heat_layer(tmp_path: Path) -> None:
    check_local_assets()
    points = clustered_points(list(CITIES.values()), per_centre=100, spread=0.6)
    summary = LanguageSummary(
        lang="es", tweets=500, geo=len(points), hashtags=0, top_hashtags=(), points=points
    )
    # No refresh: a reload in the middle of the run would only make the result racy.
    (map_page, _index) = write_maps(tmp_path / "out", [summary], refresh_seconds=0)
    site = tmp_path / "site"
    page_path = prepare_site(site, map_page, probe=_PROBE % {"cities": json.dumps(CITIES)})

    with serve_directory(site) as base_url:
        dom = run_chromium(
            ["--window-size=1200,800", "--virtual-time-budget=5000", "--dump-dom"],
            base_url + page_path,
        )

    probe = read_probe(dom)
    assert probe["leaflet"] == "object", probe
    assert probe["canvases"] == 1, probe
    assert probe["width"] > 0 and probe["height"] > 0, probe
    painted = probe["painted"]
    assert painted > MIN_PAINTED_PIXELS, probe
    # Heat in a few spots, not a canvas filled edge to edge.
    assert painted < 0.5 * probe["width"] * probe["height"], probe
    assert all(alpha > 0 for alpha in probe["cities"].values()), probe
    print(f"heat canvas {probe['width']}x{probe['height']}: {painted} painted pixels")
