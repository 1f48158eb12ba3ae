"""The cluster report as a person sees it: after two refits on the same users, Chromium shows
every cluster with the same id and its size history over both refits."""

from __future__ import annotations

import re
from pathlib import Path

from analysis.live_clusters import refit
from streamer.config import ClustersSettings
from streamer.ingest.parser import parse_payload
from streamer.sources.generator import generate
from tests.e2e.test_browser import chromium, open_page, save_artifact, serve_directory


def demo_users(lines: int) -> list[tuple[str, str, str | None]]:
    users: dict[str, tuple[str, str, str | None]] = {}
    for line, truth in generate(lines, seed=7):
        post = parse_payload(line)
        user_id, bio = getattr(post, "user_id", None), getattr(post, "bio", None)
        if truth.kind == "tweet" and user_id and bio:
            users[user_id] = (user_id, bio, truth.lang)
    return list(users.values())


def test_the_report_shows_each_clusters_size_over_the_last_refits(tmp_path: Path) -> None:
    users = demo_users(3000)
    assert len(users) > 300
    settings = ClustersSettings(min_users=50, min_users_per_language=5000)  # one model: quick
    first = refit(users, settings, tmp_path)
    second = refit(users, settings, tmp_path)
    assert not first.skipped and not second.skipped

    with serve_directory(tmp_path / "clusters") as base_url, chromium() as browser:
        page, record = open_page(browser, f"{base_url}/index.html")
        rows = page.eval_on_selector_all(
            "td.history", "cells => cells.map(c => c.textContent.trim())"
        )
        save_artifact(page, "cluster-report-history.png")
        record.assert_clean()
    histories = [
        [int(n) for n in re.findall(r"\d+", row.split("(")[0])] for row in rows if "(" in row
    ]
    assert histories, rows
    # The same users twice: every cluster kept its id, so each shows two equal sizes, steady.
    assert all(len(sizes) == 2 and sizes[0] == sizes[1] for sizes in histories), rows
    assert all(row.endswith("(steady)") for row in rows if "(" in row), rows
