"""Write a bio clustering as `clusters/latest.json` and a page a person can read, `index.html`.

The page is self-contained and works offline: inline CSS, and inline SVG for the pictures. An
overview says how many users each language model holds and how many are noise (no usable bio,
HDBSCAN noise). A scatter of the projected users (one tile per language model) shows the clusters
as colours (a CSS-only switch recolours it by KMeans or HDBSCAN cluster) with each user's bio on
hover. Then a section per language model: per cluster, a bar of its size, its size over the last
refits, its most distinctive terms and sample bios; its choice of k; its HDBSCAN clusters and
noise. Every piece of user text (bios, terms, model names) is HTML-escaped.

Both files are replaced atomically, like the heatmaps: a reader sees the old file or the new one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from pathlib import Path

from analysis.clustering import (
    NO_CLUSTER,
    OTHER,
    ClusterResult,
    ClusterSummary,
    LanguageModelOutcome,
    ProjectedUser,
)
from analysis.heatmaps import meta_refresh, write_atomically

CLUSTERS_DIR = "clusters"
JSON_NAME = "latest.json"
HTML_NAME = "index.html"

MAX_DOTS = 3000  # the page stays light and the picture readable
TOOLTIP_BIO_CHARS = 200
SCATTER_WIDTH, SCATTER_HEIGHT, SCATTER_MARGIN = 720, 480, 12

# Distinguishable on white and from the grey of noise; further clusters get hues by golden angle.
PALETTE = (
    "#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#b07aa1", "#edc948",
    "#76b7b2", "#ff9da7", "#9c755f", "#17becf", "#bcbd22", "#7f3c8d",
)  # fmt: skip
NOISE_COLOUR = "#c3c7cf"
_CHOSEN = ' class="chosen"'  # the row of the k that was picked


def write_cluster_report(
    out_dir: Path, result: ClusterResult, *, refresh_seconds: int = 0
) -> list[Path]:
    """Write `out_dir/clusters/latest.json` and `out_dir/clusters/index.html`; return both paths.

    refresh_seconds > 0 makes the page reload itself that often.
    """
    directory = Path(out_dir) / CLUSTERS_DIR
    directory.mkdir(parents=True, exist_ok=True)
    data = json.dumps(result.to_json_dict(), ensure_ascii=False, indent=2) + "\n"
    page = render_cluster_page(result, refresh_seconds=refresh_seconds)
    return [
        write_atomically(directory / JSON_NAME, data),
        write_atomically(directory / HTML_NAME, page),
    ]


def cluster_colour(cluster: int) -> str:
    if cluster == NO_CLUSTER:
        return NOISE_COLOUR
    if cluster < len(PALETTE):
        return PALETTE[cluster]
    return f"hsl({cluster * 137.508 % 360:.0f}, 55%, 48%)"


# --- the page ---------------------------------------------------------------------------------

_STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 72rem; padding: 0 1rem; color: #1d2330; background: #fafbfc; }
h1 { font-size: 1.4rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; }
p.meta { color: #5b6475; margin: 0 0 1.5rem; }
table { border-collapse: collapse; width: 100%; background: #fff; margin-bottom: 1rem; }
th, td { padding: .4rem .6rem; border-bottom: 1px solid #e3e6eb; text-align: left;
         vertical-align: top; }
th { background: #f0f2f5; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.chosen td { font-weight: 600; background: #f3f7ff; }
.swatch { display: inline-block; width: .8rem; height: .8rem; border-radius: 50%;
          vertical-align: -.1rem; margin-right: .35rem; }
td.size { width: 14rem; }
.bar { display: inline-block; height: .8rem; vertical-align: -.05rem; margin-right: .4rem;
       border-radius: 2px; }
ul.bios { margin: 0; padding-left: 1.1rem; color: #3a4252; font-size: .9em; }
ul.bios li { overflow-wrap: anywhere; }
.terms { font-family: ui-monospace, monospace; font-size: .9em; }
.scatter { background: #fff; border: 1px solid #e3e6eb; padding: .5rem; }
.scatter label { margin-right: 1rem; cursor: pointer; }
.scatter svg { display: block; width: 100%; height: auto; margin-top: .4rem; }
.scatter circle { fill: #c3c7cf; fill-opacity: .75; }
.scatter circle:hover { stroke: #1d2330; stroke-width: 1.5; }
p.note { color: #5b6475; font-size: .9em; margin: .3rem 0 0; }
p.sub { font-weight: 600; margin: 1rem 0 .3rem; }
td.history { font-variant-numeric: tabular-nums; font-size: .85em; color: #3a4252; }
"""


def render_cluster_page(result: ClusterResult, *, refresh_seconds: int = 0) -> str:
    kmeans, found = result.kmeans, result.hdbscan
    stamp = result.fitted_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    iso = result.fitted_at.isoformat(timespec="seconds")
    refresh = f"\n{meta_refresh(refresh_seconds)}" if refresh_seconds > 0 else ""
    empty = f", {result.empty_bios} more had no usable bio" if result.empty_bios else ""
    sections = "\n".join(_model_section(result, name) for name in model_names(result))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">{refresh}
<title>tweetheat — bio clusters</title>
<style>{_STYLE}{_scatter_colours(result)}</style>
</head>
<body>
<h1>tweetheat — bio clusters</h1>
<p class="meta">{result.users} users clustered by their bios{empty}. Fitted
<time datetime="{iso}">{stamp}</time> in {result.seconds:.1f} s.
KMeans: k = {kmeans.k} clusters over {len(model_names(result))} language models, silhouette
{kmeans.silhouette:.3f} (weighed by users). HDBSCAN: {len(found.clusters)} clusters,
{found.noise} users in noise.</p>
<h2>Language models</h2>
{_overview(result)}
{_scatter(result)}
{sections}
{_gone(result)}
</body>
</html>
"""


def model_names(result: ClusterResult) -> list[str]:
    """The language models of the result, largest first (from the clusters if not listed)."""
    names = [m.name for m in result.models]
    for cluster in (*result.kmeans.clusters, *result.hdbscan.clusters):
        if cluster.model not in names:
            names.append(cluster.model)
    return names


def _model_title(name: str) -> str:
    return "Other languages" if name == OTHER else f"Language: {escape(name)}"


def _overview(result: ClusterResult) -> str:
    """One row per language model: who it holds, its k, and its noise; then the totals."""
    if not result.models:
        return '<p class="note">One model for all users.</p>'
    rows = "\n".join(_overview_row(m) for m in result.models)
    noise = result.hdbscan.noise
    return f"""<table>
<thead><tr><th>Model</th><th>Languages (users)</th><th class="num">Clustered</th>
<th class="num">No usable bio</th><th class="num">k</th><th class="num">Silhouette</th>
<th class="num">HDBSCAN clusters</th><th class="num">HDBSCAN noise</th></tr></thead>
<tbody>
{rows}
<tr><td>all</td><td></td><td class="num">{result.users}</td>
<td class="num">{result.empty_bios}</td><td class="num">{result.kmeans.k}</td>
<td class="num">{result.kmeans.silhouette:.3f}</td>
<td class="num">{len(result.hdbscan.clusters)}</td><td class="num">{noise}</td></tr>
</tbody>
</table>
<p class="note">No usable bio: empty, or only links, numbers, emoji, symbols or stopwords, or
only terms no other user of the model has; such users are in no cluster. HDBSCAN noise: users
with a usable bio that HDBSCAN found in no dense group.</p>"""


def _overview_row(model: LanguageModelOutcome) -> str:
    shown = sorted(model.languages.items(), key=lambda kv: (-kv[1], kv[0]))
    languages = ", ".join(f"{escape(lang)} ({n})" for lang, n in shown[:8])
    if len(shown) > 8:
        languages += f", {len(shown) - 8} more"
    return (
        f"<tr><td>{escape(model.name)}</td><td>{languages}</td>"
        f'<td class="num">{model.users}</td><td class="num">{model.no_usable_bio}</td>'
        f'<td class="num">{model.k}</td><td class="num">{model.silhouette:.3f}</td>'
        f'<td class="num">{model.hdbscan_clusters}</td><td class="num">{model.hdbscan_noise}</td>'
        "</tr>"
    )


def _model_section(result: ClusterResult, name: str) -> str:
    kmeans = [c for c in result.kmeans.clusters if c.model == name]
    found = [c for c in result.hdbscan.clusters if c.model == name]
    model = next((m for m in result.models if m.name == name), None)
    noise = model.hdbscan_noise if model is not None else result.hdbscan.noise
    k_choice = (
        _k_table(model.k, model.silhouettes, model.inertia)
        if model is not None
        else (_k_table(result.kmeans.k, result.kmeans.silhouettes, result.kmeans.inertia))
    )
    return f"""<h2>{_model_title(name)}</h2>
<p class="sub">KMeans: {len(kmeans)} clusters</p>
{_cluster_table(kmeans)}
<p class="sub">Choice of k</p>
{k_choice}
<p class="sub">HDBSCAN: {len(found)} clusters, {noise} users in noise</p>
{_cluster_table(found, noise=noise)}"""


def _gone(result: ClusterResult) -> str:
    if not result.gone:
        return ""
    rows = "\n".join(
        f"<tr><td>{g.id}</td><td>{escape(g.model)}</td>"
        f'<td class="history">{_history(g.history)}</td></tr>'
        for g in result.gone
    )
    return f"""<h2>Gone since the last refit</h2>
<table>
<thead><tr><th>Cluster</th><th>Model</th><th>Sizes at the last refits</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>"""


def _history(sizes: Sequence[int]) -> str:
    return " → ".join(str(size) for size in sizes)


def _scatter_colours(result: ClusterResult) -> str:
    """CSS that colours the dots by KMeans or HDBSCAN cluster, whichever radio is checked."""
    rules = [
        f"\n#colour-kmeans:checked ~ svg .k{c.id} {{ fill: {cluster_colour(c.id)}; }}"
        for c in result.kmeans.clusters
    ]
    rules += [
        f"\n#colour-hdbscan:checked ~ svg .h{c.id} {{ fill: {cluster_colour(c.id)}; }}"
        for c in result.hdbscan.clusters
    ]
    return "".join(rules)


def _scatter(result: ClusterResult) -> str:
    dots = shown_dots(result.projection)
    if not dots:
        return '<p class="note">No users to draw.</p>'
    circles = "\n".join(_circle(dot, x, y) for dot, (x, y) in zip(dots, _scaled(dots), strict=True))
    return f"""<div class="scatter">
<input type="radio" name="colour" id="colour-kmeans" checked>
<label for="colour-kmeans">Colour by KMeans cluster</label>
<input type="radio" name="colour" id="colour-hdbscan">
<label for="colour-hdbscan">Colour by HDBSCAN cluster (grey: noise)</label>
<svg viewBox="0 0 {SCATTER_WIDTH} {SCATTER_HEIGHT}" role="img"
 aria-label="Users projected to two dimensions, coloured by cluster">
{circles}
</svg>
<p class="note">{len(dots)} of {result.users} users, placed by t-SNE: users with similar bios
sit close together. Each language model has a square of its own (largest first, left to right,
top to bottom). Point at a dot to read its bio.</p>
</div>"""


def shown_dots(projection: Sequence[ProjectedUser]) -> list[ProjectedUser]:
    """At most MAX_DOTS users, evenly spread over the (already random) projection sample."""
    if len(projection) <= MAX_DOTS:
        return list(projection)
    step = len(projection) / MAX_DOTS
    return [projection[int(i * step)] for i in range(MAX_DOTS)]


def _scaled(dots: Sequence[ProjectedUser]) -> list[tuple[float, float]]:
    """Dot positions in the SVG box, keeping the projection's aspect ratio."""
    xs = [d.x for d in dots]
    ys = [d.y for d in dots]
    span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1.0
    scale = min(SCATTER_WIDTH, SCATTER_HEIGHT) - 2 * SCATTER_MARGIN
    x_pad = (SCATTER_WIDTH - (max(xs) - min(xs)) / span * scale) / 2
    y_pad = (SCATTER_HEIGHT - (max(ys) - min(ys)) / span * scale) / 2
    return [
        ((d.x - min(xs)) / span * scale + x_pad, (d.y - min(ys)) / span * scale + y_pad)
        for d in dots
    ]


def _circle(dot: ProjectedUser, x: float, y: float) -> str:
    hdbscan_class = "hn" if dot.hdbscan == NO_CLUSTER else f"h{dot.hdbscan}"
    hdbscan_name = "noise" if dot.hdbscan == NO_CLUSTER else str(dot.hdbscan)
    bio = dot.bio.strip()
    if len(bio) > TOOLTIP_BIO_CHARS:
        bio = bio[: TOOLTIP_BIO_CHARS - 1] + "…"
    tooltip = f"KMeans {dot.kmeans} · HDBSCAN {hdbscan_name}\n{bio}"
    return (
        f'<circle class="k{dot.kmeans} {hdbscan_class}" cx="{x:.1f}" cy="{y:.1f}" r="3">'
        f"<title>{escape(tooltip)}</title></circle>"
    )


def _cluster_table(clusters: Sequence[ClusterSummary], *, noise: int | None = None) -> str:
    if not clusters:
        return '<p class="note">No clusters found.</p>'
    largest = max([c.size for c in clusters] + [noise or 0]) or 1
    rows = [_cluster_row(c, largest) for c in clusters]
    if noise is not None:
        rows.append(
            f'<tr><td><span class="swatch" style="background:{NOISE_COLOUR}"></span>noise</td>'
            f'<td class="size">{_bar(noise, largest, NOISE_COLOUR)}</td>'
            "<td></td><td></td><td></td></tr>"
        )
    body = "\n".join(rows)
    return f"""<table>
<thead><tr><th>Cluster</th><th>Users</th><th>Size at the last refits</th>
<th>Distinctive terms</th><th>Sample bios</th></tr></thead>
<tbody>
{body}
</tbody>
</table>"""


def _cluster_row(cluster: ClusterSummary, largest: int) -> str:
    colour = cluster_colour(cluster.id)
    terms = escape(", ".join(cluster.top_terms))
    bios = "".join(f"<li>{escape(bio)}</li>" for bio in cluster.sample_bios)
    return (
        f'<tr><td><span class="swatch" style="background:{colour}"></span>{cluster.id}</td>'
        f'<td class="size">{_bar(cluster.size, largest, colour)}</td>'
        f'<td class="history">{_history(cluster.history)} ({cluster.trend})</td>'
        f'<td class="terms">{terms}</td>'
        f'<td><ul class="bios">{bios}</ul></td></tr>'
    )


def _bar(size: int, largest: int, colour: str) -> str:
    width = 9 * size / largest  # rem: the largest cluster's bar is 9rem long
    return f'<span class="bar" style="width:{width:.2f}rem;background:{colour}"></span>{size}'


def _k_table(chosen: int, silhouettes: dict[int, float], inertia: dict[int, float]) -> str:
    rows = "\n".join(
        f'<tr{_CHOSEN if k == chosen else ""}><td class="num">{k}</td>'
        f'<td class="num">{silhouettes[k]:.3f}</td>'
        f'<td class="num">{inertia[k]:.1f}</td></tr>'
        for k in sorted(inertia)
    )
    return f"""<table>
<thead><tr><th class="num">k</th><th class="num">Silhouette (higher is better)</th>
<th class="num">Inertia (look for the elbow)</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>"""
