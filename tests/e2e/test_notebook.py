"""The notebook API against a real Redis filled by the real daemon, and docs/notebook.ipynb.

Demo data is replayed once for the module through `tweetheat run --exit-at-eof`; the answers are
checked against what the generator says it wrote. The example notebook's code cells then run top
to bottom in one namespace, as a fresh kernel would run them.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import folium
import pytest
import redis

from analysis import notebook as th
from tests.conftest import REPO
from tests.e2e.test_end_to_end import expected_from, flat, tweetheat, write_demo

NOTEBOOK = REPO / "docs" / "notebook.ipynb"


@pytest.fixture(scope="module")
def demo(redis_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """A Redis URL holding 3000 replayed demo posts, and what the generator says they are."""
    url = f"{redis_server}/0"
    client = redis.Redis.from_url(url)
    client.flushall()
    client.close()
    tmp = tmp_path_factory.mktemp("notebook")
    truths = write_demo(tmp / "demo.ndjson", 3000, seed=8)
    env = {
        k: v for k, v in os.environ.items() if k not in ("TWEETHEAT_REDIS_URL", "TWEETHEAT_CONFIG")
    }
    tweetheat(
        "run", "--replay-file", str(tmp / "demo.ndjson"), "--rate", "max", "--exit-at-eof",
        "--redis-url", url, "--out", str(tmp / "out"), "--data-dir", str(tmp / "data"),
        env=env, cwd=tmp,
    )  # fmt: skip
    yield url, expected_from(truths)


@pytest.fixture
def api(demo: tuple[str, Any], tmp_path: Path) -> Iterator[th.Tweetheat]:
    url, _ = demo
    connection = th.connect(url, out_dir=tmp_path / "out")
    try:
        yield connection
    finally:
        th.disconnect()


def test_language_counts_are_the_running_totals_busiest_first(
    api: th.Tweetheat, demo: tuple[str, Any]
) -> None:
    _, (tweets, tags, points) = demo

    counts = th.language_counts()

    assert counts == {
        lang: {"tweets": n, "geo": len(points[lang]), "hashtags": len(tags[lang])}
        for lang, n in sorted(tweets.items(), key=lambda item: (-item[1], item[0]))
    }
    assert list(counts) == sorted(counts, key=lambda lang: (-tweets[lang], lang))


def test_top_hashtags_match_the_cli_rule(api: th.Tweetheat, demo: tuple[str, Any]) -> None:
    _, (_, tags, _) = demo
    for lang, stored in tags.items():
        ranked = sorted(Counter(stored[-50:]).items(), key=lambda kv: (-kv[1], kv[0]))[:4]
        assert th.top_hashtags(lang, 4, window=50) == ranked, lang
    assert th.top_hashtags("en", 0) == []
    assert th.top_hashtags("xx") == []  # a language never seen


def test_points_are_the_newest_oldest_first(api: th.Tweetheat, demo: tuple[str, Any]) -> None:
    _, (_, _, points) = demo
    lang = max(points, key=lambda code: len(points[code]))

    got = th.points(lang, 25)

    assert flat(got) == pytest.approx(flat(points[lang][-25:]), abs=1e-9)
    assert th.points(lang, 0) == []


def test_timed_points_are_the_same_points_with_their_commit_times(
    api: th.Tweetheat, demo: tuple[str, Any]
) -> None:
    _, (_, _, points) = demo
    lang = max(points, key=lambda code: len(points[code]))

    timed = th.timed_points(lang, 25)

    assert [(lat, lon) for lat, lon, _ in timed] == th.points(lang, 25)
    times = [t for _, _, t in timed]
    assert all(t is not None and time.time() - 3600 < t <= time.time() for t in times), times
    assert times == sorted(times)  # oldest first
    assert th.timed_points(lang, 0) == []


def test_heatmap_is_a_folium_map_of_the_points(api: th.Tweetheat, demo: tuple[str, Any]) -> None:
    _, (_, _, points) = demo
    lang = max(points, key=lambda code: len(points[code]))

    fmap = th.heatmap(lang, 30)
    html = fmap.get_root().render()

    assert isinstance(fmap, folium.Map)
    assert "L.heatLayer" in html
    assert f"[{points[lang][-1][0]}, {points[lang][-1][1]}]" in html
    assert isinstance(th.heatmap("xx"), folium.Map)  # no points: an empty world map


def test_geo_points_carry_their_source_and_precision(
    api: th.Tweetheat, demo: tuple[str, Any]
) -> None:
    _, (tweets, _, points) = demo
    lang = max(points, key=lambda code: len(points[code]))

    located = th.geo_points(lang, 25)
    exact = th.geo_points(lang, 5, source="exact")
    by_source = th.located_by_source()
    html = th.heatmap(lang, 400).get_root().render()

    assert [(p.lat, p.lon) for p in located] == th.points(lang, 25)
    assert {p.source for p in located} <= {"exact", "place", "profile", "bio"}
    assert all(p.precision_km == 0 for p in located if p.source == "exact")
    assert all(p.precision_km > 0 for p in located if p.source != "exact")
    assert exact and all(p.source == "exact" for p in exact)
    assert set(by_source) == set(tweets)
    assert sum(by_source[lang].values()) == len(points[lang])
    assert "Exact geotags" in html and "Inferred locations" in html and "GeoNames" in html


def test_clusters_are_read_when_written(api: th.Tweetheat, tmp_path: Path) -> None:
    assert th.clusters() is None

    report = tmp_path / "out" / "clusters" / "latest.json"
    report.parent.mkdir(parents=True)
    report.write_text(json.dumps({"users": 3, "kmeans": {"k": 2, "clusters": []}}))

    assert th.clusters() == {"users": 3, "kmeans": {"k": 2, "clusters": []}}


def test_the_url_comes_from_the_environment(
    demo: tuple[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, (tweets, _, _) = demo
    th.disconnect()
    monkeypatch.setenv(th.URL_ENV, url)
    try:
        assert {lang: c["tweets"] for lang, c in th.language_counts().items()} == dict(tweets)
        # Another key prefix is another data set: nothing stored under it.
        assert th.connect(key_prefix="elsewhere:").language_counts() == {}
    finally:
        th.disconnect()


def test_no_url_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    th.disconnect()
    monkeypatch.delenv(th.URL_ENV, raising=False)
    with pytest.raises(LookupError, match=th.URL_ENV):
        th.language_counts()


# --- the example notebook ---------------------------------------------------------------------


def code_cells(path: Path) -> list[str]:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    assert notebook["nbformat"] == 4
    cells = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    # Committed clean: outputs would carry one run's data into the repository.
    assert all(not cell["outputs"] and cell["execution_count"] is None for cell in cells)
    return ["".join(cell["source"]) for cell in cells]


def test_the_example_notebook_runs_top_to_bottom(
    demo: tuple[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, (tweets, _, _) = demo
    docs = tmp_path / "docs"  # the notebook finds ../out from docs/, as in the repository
    docs.mkdir()
    monkeypatch.chdir(docs)
    monkeypatch.setenv(th.URL_ENV, url)
    namespace: dict[str, Any] = {"__name__": "__main__"}
    try:
        for number, source in enumerate(code_cells(NOTEBOOK), 1):
            exec(compile(source, f"{NOTEBOOK.name}, code cell {number}", "exec"), namespace)
    finally:
        th.disconnect()

    busiest = min(tweets, key=lambda lang: (-tweets[lang], lang))
    assert namespace["busiest"] == busiest
    assert len(namespace["tops"]) == 10
    assert isinstance(namespace["fmap"], folium.Map)
    # The demo was just committed: every recent point falls in the last hour's slots.
    assert sum(namespace["slots"]) == len(namespace["timed"]) > 0
    assert namespace["found"] is None  # no clustering has run in this test
