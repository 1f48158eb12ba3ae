"""The live page's "Trending now" panel in a real headless Chromium, on what a daemon stored
from a replay with an injected burst: the burst is listed with its sparkline; clicking it
draws its points as the heat layer and its time line; clicking a top hashtag works too."""

from __future__ import annotations

import subprocess
from pathlib import Path

import orjson

from tests.conftest import TWEETHEAT
from tests.e2e.test_browser import (
    chromium,
    heat_snapshot,
    open_page,
    save_artifact,
    serve_directory,
)
from tests.trend_stream import BURST_TAG, CONFIG, T0, write_stream


def test_the_trending_panel_shows_the_burst_and_clicking_it_draws_its_points_and_line(
    redis_url: str, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    data = tmp_path / "burst.ndjson"
    truth = write_stream(data)
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    common = ["--config", str(config), "--redis-url", redis_url]
    for args in (
        ["run", *common, "--replay-file", str(data), "--rate", "max", "--exit-at-eof",
         "--no-http", "--out", str(tmp_path / "out"), "--data-dir", str(tmp_path / "data")],
        ["maps", *common, "--out", str(tmp_path / "out")],
    ):  # fmt: skip
        proc = subprocess.run(
            [TWEETHEAT, *args], env=cli_env, cwd=tmp_path, capture_output=True, text=True,
            timeout=180,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
    # The page scores the newest final minute: the stream's end less lateness and a bucket.
    at = int(T0) + 60 * 74 - 360
    window = sum(truth.burst_per_minute.get(at - 60 * i, 0) for i in range(5))
    with chromium() as browser, serve_directory(tmp_path / "out" / "maps") as base:
        page, record = open_page(browser, f"{base}/index.html")
        page.wait_for_function("() => window.tweetheatLive && window.tweetheatLive.heat")
        items = page.locator("#trending li")
        texts = items.all_inner_texts()
        spark_points = page.locator("#trending li svg.spark polyline").first.get_attribute("points")
        all_posts_shown = page.evaluate("() => window.tweetheatLive.shown")
        items.first.click()
        heat = heat_snapshot(page)
        live = page.evaluate(
            "() => ({tag: window.tweetheatLive.tag, shown: window.tweetheatLive.shown,"
            " line: window.tweetheatLive.tagLine})"
        )
        line_attr = page.locator("#tag-line polyline").get_attribute("points")
        view_visible = page.locator("#tag-view").is_visible()
        save_artifact(page, "trending-panel.png")
        page.locator("#tag-clear").click()
        after_clear = page.evaluate("() => window.tweetheatLive.shown")
        page.locator("#tags li", has_text="#news").click()
        top_tag = page.evaluate("() => window.tweetheatLive.tag")
        record.assert_clean()
    assert len(texts) == 1 and texts[0].startswith(f"#{BURST_TAG} {window} (usual"), texts
    assert spark_points and len(spark_points.split()) == 60  # the tag's last hour
    assert view_visible and live["tag"] == BURST_TAG
    assert live["shown"] == len(truth.burst_points)  # its points, not the language's
    assert heat.painted > 0
    want_line = [truth.burst_per_minute.get(b, 0) for b in range(int(T0), at + 1, 60)]
    assert live["line"] == want_line
    assert line_attr and len(line_attr.split()) == len(want_line)
    assert after_clear == all_posts_shown
    assert top_tag == "news"
    summary = orjson.loads((tmp_path / "out" / "maps" / "index.html").read_bytes().split(
        b'id="tweetheat-data">')[1].split(b"</script>")[0])  # fmt: skip
    assert summary["languages"][0]["trends"]["trending"][0]["tag"] == BURST_TAG
