"""The live page's stylesheet and script, inlined into `maps/index.html`.

Kept as Python strings so they ship with the package and the page stays one file. The script
reads the page's JSON data element, draws the chosen language and frame, and keeps the choice
(language, frame, playing, view) in the URL fragment, so the periodic reload and a shared link
both come back to the same picture. User text is only ever set with textContent.
"""

LIVE_PAGE_STYLE = """
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0;
       color: #1d2330; background: #fafbfc; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: .2rem 1rem;
         padding: .8rem 1.2rem .6rem; }
h1 { font-size: 1.3rem; margin: 0; }
p.generated { color: #5b6475; margin: 0; }
#age.stale { color: #b3261e; font-weight: 600; }
main.live { display: flex; gap: 1rem; height: 72vh; min-height: 26rem; padding: 0 1.2rem; }
.map { flex: 1; min-width: 0; border: 1px solid #d5dae1; border-radius: 4px; }
.map.leaflet-container { background: var(--sea); }
.map.failed { display: flex; align-items: center; justify-content: center; padding: 2rem;
              color: #5b6475; text-align: center; }
.panel { flex: none; width: 19rem; overflow-y: auto; padding: .8rem 1rem; background: #fff;
         border: 1px solid #e3e6eb; border-radius: 4px; }
.panel label { display: block; font-weight: 600; margin: .2rem 0 .3rem; }
.panel select { width: 100%; font: inherit; padding: .25rem; }
.panel h2 { font-size: 1rem; margin: 1.1rem 0 .4rem; }
.counts { color: #5b6475; font-size: .9em; margin: .4rem 0 1rem; }
.time-row { display: flex; align-items: center; gap: .5rem; }
.time-row input { flex: 1; }
#play { width: 2.3rem; height: 2rem; font: inherit; cursor: pointer; }
.frame-label { margin: .3rem 0 0; font-variant-numeric: tabular-nums; }
.note { color: #5b6475; font-size: .85em; margin: .3rem 0; }
ol.tags { margin: 0; padding-left: 1.6rem; }
ol.tags li { overflow-wrap: anywhere; }
.count { color: #5b6475; font-size: .85em; }
p.empty { color: #5b6475; }
section.overview { max-width: 72rem; padding: .5rem 1.2rem 2rem; }
section.overview h2 { font-size: 1.1rem; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { padding: .45rem .7rem; border-bottom: 1px solid #e3e6eb; text-align: left;
         vertical-align: top; }
th { background: #f0f2f5; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.lang { font-family: ui-monospace, monospace; white-space: nowrap; }
span.nomap { color: #8a92a3; font-size: .85em; }
ul.tags { list-style: none; margin: 0; padding: 0; }
ul.tags li { display: inline-block; margin: 0 .6rem .15rem 0; }
/* trends */
ol.trending { margin: 0; padding-left: 1.6rem; }
ol.trending li, ol.tags li.clickable { cursor: pointer; overflow-wrap: anywhere; }
ol.trending li.chosen, ol.tags li.chosen { font-weight: 600; }
svg.spark { width: 4.5rem; height: 1rem; vertical-align: middle; margin-left: .3rem; }
svg.spark polyline, svg.tag-line polyline { fill: none; stroke: #c2410c; stroke-width: 1.5;
                                            vector-effect: non-scaling-stroke; }
svg.tag-line { width: 100%; height: 4rem; background: #fff7ed; }
.tag-view h3 { font-size: .95rem; margin: .6rem 0 .2rem; }
@media (max-width: 50rem) {
  main.live { flex-direction: column; height: auto; }
  .map { height: 60vh; }
  .panel { width: auto; }
}
"""

LIVE_PAGE_SCRIPT = """
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("tweetheat-data").textContent);
  var frames = Math.round(data.windowSeconds / data.frameSeconds);  // frame == frames: whole hour
  var languages = {};
  data.languages.forEach(function (lang) { languages[lang.lang] = lang; });
  function byId(id) { return document.getElementById(id); }
  var select = byId("lang"), slider = byId("frame"), playButton = byId("play");
  var state = readState();
  var timer = null;
  // For the curious and for the browser tests: what is on screen.
  // heat: the exact points' layer; inferred: the layer of points the geolocator placed.
  var live = window.tweetheatLive = {state: state, shown: 0, shownExact: 0, shownInferred: 0,
                                     map: null, heat: null, inferred: null};

  startAgeClock();
  scheduleReload();
  if (!select) { return; }  // no language seen yet: nothing to choose or draw

  live.map = setUpMap();
  if (!languages[state.lang]) { state.lang = select.options[0].value; }
  state.frame = state.frame >= 0 && state.frame <= frames ? Math.round(state.frame) : frames;
  select.addEventListener("change", function () { state.lang = select.value; showLanguage(true); });
  slider.addEventListener("input", function () {
    stop();
    state.frame = Number(slider.value);
    draw();
  });
  playButton.addEventListener("click", function () { if (timer) { stop(); } else { play(); } });
  if (live.map && state.view) {
    live.map.setView([state.view[0], state.view[1]], state.view[2], {animate: false});
  }
  showLanguage(!state.view);
  if (state.playing) { play(); }

  function setUpMap() {
    var container = byId("map");
    if (typeof L === "undefined" || typeof L.heatLayer !== "function") {
      container.classList.add("failed");
      container.textContent = "The map scripts did not load (no internet access?). " +
        "The numbers beside and below are still current.";
      return null;
    }
    var map = L.map(container, {worldCopyJump: true, minZoom: 1}).setView([20, 0], 2);
    var tiles = L.tileLayer(data.tiles.url, {attribution: data.tiles.attribution, maxZoom: 19});
    tiles.addTo(map);
    var outlines = data.outlinesGlobal && window[data.outlinesGlobal];
    var bases = null;
    if (outlines) {
      // Under the tiles: loaded tiles cover the outlines, missing ones let them show through.
      map.createPane("outlines").style.zIndex = 150;
      L.geoJSON(outlines, {pane: "outlines", interactive: false, style: data.outlineStyle})
        .addTo(map);
      bases = {"OpenStreetMap": tiles, "Country outlines only": L.layerGroup()};
    }
    map.attributionControl.addAttribution(
      '<a href="' + data.credit.url + '">' + data.credit.text + "</a>");
    live.heat = heatLayer("exact", map);
    live.inferred = heatLayer("inferred", map);
    var overlays = {};
    overlays[data.layers.exact.name] = live.heat;
    overlays[data.layers.inferred.name] = live.inferred;
    L.control.layers(bases, overlays, {collapsed: false}).addTo(map);
    map.on("overlayadd overlayremove", function () {
      state.layers = {exact: map.hasLayer(live.heat), inferred: map.hasLayer(live.inferred)};
      draw();
    });
    map.on("moveend", saveState);
    return map;
  }

  // One heat layer per kind of point, its canvas marked with the kind (heat-exact or
  // heat-inferred), on the map unless the saved state switched it off.
  function heatLayer(kind, map) {
    var options = {};
    Object.keys(data.heat).forEach(function (key) { options[key] = data.heat[key]; });
    options.gradient = data.layers[kind].gradient;
    var layer = L.heatLayer([], options);
    if (state.layers[kind]) {
      layer.addTo(map);
      layer._canvas.classList.add("heat-" + kind);
    } else {
      layer.once("add", function () { layer._canvas.classList.add("heat-" + kind); });
    }
    return layer;
  }

  function showLanguage(fit) {
    var lang = languages[state.lang];
    select.value = state.lang;
    byId("counts").textContent = lang.tweets.toLocaleString("en") + " posts, " +
      lang.geo.toLocaleString("en") + " with location, " +
      lang.hashtags.toLocaleString("en") + " hashtags";
    var list = byId("tags");
    list.textContent = "";
    lang.top.forEach(function (pair) {
      var item = document.createElement("li");
      item.appendChild(document.createTextNode("#" + pair[0] + " "));
      var count = item.appendChild(document.createElement("span"));
      count.className = "count";
      count.textContent = pair[1];
      clickable(item, pair[0]);  // trends: a top tag draws its own layer too
      list.appendChild(item);
    });
    showTrending(lang);
    byId("no-tags").hidden = lang.top.length > 0;
    byId("estimated").hidden = !(lang.estimatedTimes && lang.points.length);
    var inferred = lang.points.filter(function (p) { return p[3]; }).length;
    byId("n-exact").textContent = (lang.points.length - inferred).toLocaleString("en") +
      " in the hour";
    byId("n-inferred").textContent = inferred.toLocaleString("en") + " in the hour";
    byId("precision").textContent = lang.precisionKm === null ? "no inferred points" :
      "median precision " + Math.round(lang.precisionKm).toLocaleString("en") + " km";
    var link = byId("page-link");
    link.hidden = !lang.page;
    link.href = lang.page || "#";
    if (live.map && fit) { fitTo(lang.points); }
    draw();
  }

  function fitTo(points) {
    if (!points.length) {
      live.map.setView([20, 0], 2, {animate: false});
      return;
    }
    var bounds = L.latLngBounds(points.map(function (p) { return [p[0], p[1]]; }));
    live.map.fitBounds(bounds, {padding: data.fit.padding, maxZoom: data.fit.maxZoom,
                                animate: false});
  }

  // --- trends: the "Trending now" panel and the chosen tag's layer and time line ---
  function showTrending(lang) {
    var panel = lang.trends, list = byId("trending");
    list.textContent = "";
    var rows = panel ? panel.trending : [];
    byId("trend-at").textContent = panel ? "As of " + panel.at.slice(0, 16).replace("T", " ") +
      " UTC (event time)" : "No trend data.";
    rows.forEach(function (t) {
      var item = document.createElement("li");
      item.appendChild(document.createTextNode("#" + t.tag + " "));
      var count = item.appendChild(document.createElement("span"));
      count.className = "count";
      count.textContent = t.count + " (usual " + t.baseline.toFixed(1) + ")";
      item.appendChild(sparkline(t.spark, "spark"));
      item.title = "score " + t.score + ", since " + t.since;
      clickable(item, t.tag);
      list.appendChild(item);
    });
    byId("no-trending").hidden = rows.length > 0 || !panel;
    if (state.tag && !(panel && panel.tags[state.tag])) { state.tag = ""; }
    showTag();
  }

  function clickable(item, tag) {
    item.classList.add("clickable");
    item.setAttribute("data-tag", tag);
    item.tabIndex = 0;
    function choose() { state.tag = state.tag === tag ? "" : tag; showTag(); draw(); }
    item.addEventListener("click", choose);
    item.addEventListener("keydown", function (e) { if (e.key === "Enter") { choose(); } });
  }

  function sparkline(values, cls) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("class", cls);
    svg.setAttribute("viewBox", "0 0 100 20");
    svg.setAttribute("preserveAspectRatio", "none");
    var line = svg.appendChild(document.createElementNS(ns, "polyline"));
    line.setAttribute("points", linePoints(values, 100, 20));
    return svg;
  }

  function linePoints(values, width, height) {
    var top = Math.max.apply(null, values.concat([1]));
    var step = values.length > 1 ? width / (values.length - 1) : 0;
    return values.map(function (v, i) {
      return (i * step).toFixed(1) + "," + (height - 1 - (height - 2) * v / top).toFixed(1);
    }).join(" ");
  }

  function showTag() {
    var panel = languages[state.lang].trends;
    var tag = panel && state.tag ? panel.tags[state.tag] : null;
    live.tag = tag ? state.tag : "";
    byId("tag-view").hidden = !tag;
    document.querySelectorAll("[data-tag]").forEach(function (el) {
      el.classList.toggle("chosen", !!tag && el.getAttribute("data-tag") === state.tag);
    });
    if (!tag) { live.tagLine = null; return; }
    byId("tag-title").textContent = "#" + state.tag;
    byId("tag-line").querySelector("polyline")
      .setAttribute("points", linePoints(tag.line, 240, 60));
    live.tagLine = tag.line;
    var total = tag.line.reduce(function (a, b) { return a + b; }, 0);
    byId("tag-note").textContent = total + " posts from " +
      panel.lineStart.slice(11, 16) + " to " + panel.at.slice(11, 16) + " UTC; " +
      tag.points.length + " points on the map";
  }

  function tagPoints() {
    var panel = languages[state.lang].trends;
    return panel && state.tag && panel.tags[state.tag] ? panel.tags[state.tag].points : null;
  }

  byId("tag-clear").addEventListener("click", function () {
    state.tag = ""; showTag(); draw();
  });
  // --- end trends ---

  function draw() {
    var chosen = tagPoints();  // trends: a chosen tag's points replace the language's
    if (chosen) {
      live.shown = chosen.length;
      if (live.heat) {
        live.heat.setLatLngs(chosen.map(latLng));
        live.inferred.setLatLngs([]);
      }
      byId("frame-label").textContent = "#" + state.tag + ": " + chosen.length + " points";
      saveState();
      return;
    }
    var inFrame = pointsIn(languages[state.lang].points, state.frame);
    var exact = state.layers.exact ? inFrame.filter(function (p) { return !p[3]; }) : [];
    var inferred = state.layers.inferred ? inFrame.filter(function (p) { return p[3]; }) : [];
    var shown = exact.concat(inferred);
    live.shown = shown.length;
    live.shownExact = exact.length;
    live.shownInferred = inferred.length;
    if (live.heat) {
      live.heat.setLatLngs(inFrame.filter(function (p) { return !p[3]; }).map(latLng));
      live.inferred.setLatLngs(inFrame.filter(function (p) { return p[3]; }).map(latLng));
    }
    slider.value = String(state.frame);
    byId("frame-label").textContent = frameLabel(state.frame, shown.length);
    saveState();
  }

  function latLng(p) { return [p[0], p[1]]; }

  function pointsIn(points, frame) {
    if (frame >= frames) { return points; }
    var from = frame * data.frameSeconds, to = from + data.frameSeconds;
    var last = frame === frames - 1;  // the newest point sits exactly on the hour's end
    return points.filter(function (p) {
      return p[2] >= from && (p[2] < to || (last && p[2] === to));
    });
  }

  function frameLabel(frame, count) {
    var whole = frame >= frames;
    var from = whole ? 0 : frame * data.frameSeconds;
    var to = whole ? data.windowSeconds : from + data.frameSeconds;
    var span = clock(data.windowStart + from) + "\\u2013" + clock(data.windowStart + to) + " UTC";
    var points = count === 1 ? " point" : " points";
    return (whole ? "Whole hour, " : "") + span + ": " + count + points;
  }

  function clock(seconds) { return new Date(seconds * 1000).toISOString().slice(11, 16); }

  function play() {
    if (state.frame >= frames - 1) { state.frame = -1; }  // from the start of the hour
    timer = setInterval(step, 800);
    step();
    playButton.innerHTML = "&#10074;&#10074;";
    playButton.setAttribute("aria-label", "Pause");
  }

  function step() {
    state.frame = (state.frame + 1) % frames;
    draw();
  }

  function stop() {
    if (!timer) { return; }
    clearInterval(timer);
    timer = null;
    playButton.innerHTML = "&#9654;";
    playButton.setAttribute("aria-label", "Play the last hour");
    saveState();
  }

  function readState() {
    var params = new URLSearchParams(location.hash.slice(1));
    var view = (params.get("view") || "").split(",").map(Number);
    var layers = params.has("layers") ? params.get("layers").split(",") : ["exact", "inferred"];
    return {
      layers: {exact: layers.indexOf("exact") >= 0, inferred: layers.indexOf("inferred") >= 0},
      lang: params.get("lang") || "",
      frame: params.has("frame") ? Number(params.get("frame")) : frames,
      playing: params.get("play") === "1",
      tag: params.get("tag") || "",
      view: view.length === 3 && view.every(isFinite) ? view : null
    };
  }

  function saveState() {
    if (!select) { return; }
    var params = new URLSearchParams();
    params.set("lang", state.lang);
    params.set("frame", String(state.frame));
    var layers = ["exact", "inferred"].filter(function (kind) { return state.layers[kind]; });
    if (layers.length < 2) { params.set("layers", layers.join(",")); }
    if (timer) { params.set("play", "1"); }
    if (state.tag) { params.set("tag", state.tag); }
    if (live.map) {
      var centre = live.map.getCenter();
      var view = [centre.lat.toFixed(4), centre.lng.toFixed(4), live.map.getZoom()];
      params.set("view", view.join(","));
    }
    try {
      history.replaceState(null, "", "#" + params.toString());
    } catch (e) {
      location.replace("#" + params.toString());  // some browsers refuse it for file:// pages
    }
  }

  function scheduleReload() {
    if (data.refreshSeconds > 0) {
      setTimeout(function () { saveState(); location.reload(); }, data.refreshSeconds * 1000);
    }
  }

  function startAgeClock() {
    var age = byId("age");
    // Well past a missed refresh or two: the daemon has probably stopped writing maps.
    var staleAfter = Math.max(3 * data.refreshSeconds, 120);
    function tick() {
      var seconds = Math.max(0, Math.round(Date.now() / 1000 - data.generatedAt));
      var stale = data.refreshSeconds > 0 && seconds > staleAfter;
      age.textContent = "(" + ago(seconds) + ")" +
        (stale ? " \\u2014 no newer data: is the daemon running?" : "");
      age.classList.toggle("stale", stale);
    }
    tick();
    setInterval(tick, 1000);
  }

  function ago(seconds) {
    if (seconds < 90) { return seconds + " s ago"; }
    if (seconds < 5400) { return Math.round(seconds / 60) + " min ago"; }
    return Math.round(seconds / 3600) + " h ago";
  }
})();
"""
