"""The daemon's refit ships the user window in parts and fetches the assignments in parts, on a
real Redis: the same report and the same stored clusters as one refit of the whole list, whether
the bios' languages come from the ingest workers or from the clustering process itself."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import analysis.bios
import analysis.clustering
from analysis import live_clusters
from analysis.bios import bio_languages
from scripts.bios_devset import dev_users
from streamer.config import ClustersSettings
from streamer.core.records import UserSeen
from streamer.ingest import worker
from streamer.ingest.langid.chooser import LanguageChooser
from streamer.storage.connections import redis_client
from streamer.storage.keys import Keys
from streamer.storage.store import Store

SETTINGS = ClustersSettings(seed=1, min_users_per_language=100)
TIMING = ("fitted_at", "seconds")  # the only fields two fits of the same users may differ in


def _without_timing(report: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in report.items() if key not in TIMING}


async def _by_worker(bios: list[str], fallback: list[str | None]) -> list[str | None]:
    """The ingest workers' labels, as Pipeline.label_bios asks them (here in a thread)."""
    return await asyncio.to_thread(worker.label_bios, bios, fallback)


async def _cannot_answer(bios: list[str], fallback: list[str | None]) -> None:
    return None  # a broken or stopped pool: the clustering process labels the bios itself


@pytest.mark.parametrize("label", [None, _by_worker, _cannot_answer])
def test_refit_in_parts_equals_one_refit(
    redis_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    label: live_clusters.LabelBios | None,
) -> None:
    users = dev_users(400, seed=5)
    monkeypatch.setattr(live_clusters, "PART_SIZE", 37)  # many parts, the last one short
    monkeypatch.setattr(live_clusters, "_model", None)
    monkeypatch.setattr(worker, "_chooser", LanguageChooser("default", None, False))
    monkeypatch.setattr(worker, "_default_detector", True)
    calls: list[str] = []

    async def in_thread(job: Callable[[], Any]) -> Any:
        calls.append(getattr(job, "func", job).__name__)
        return await asyncio.to_thread(job)

    async def scenario() -> tuple[live_clusters.RefitOutcome, list[Any], dict[str, str]]:
        client = redis_client(redis_url)
        try:
            store = Store(client, Keys("refitparts:"))
            seen = [UserSeen(u.user_id, None, u.bio, u.lang) for u in users]
            await store.update_users(seen, time.time())  # inside the window's age
            rows = await store.user_bios_with_language()  # the order a refit reads them in
            outcome = await live_clusters.refit_window(
                store, SETTINGS, tmp_path / "parts", in_thread, state_dir=tmp_path / "s1",
                label=label,
            )  # fmt: skip
            stored = await client.hgetall(store.keys.user_cluster)
            return outcome, rows, {str(k): str(v) for k, v in stored.items()}
        finally:
            await client.aclose()

    local: list[int] = []  # bios the clustering process labelled itself

    def counted(bios: list[str], fallback: list[str | None]) -> list[str | None]:
        local.append(len(bios))
        return bio_languages(bios, fallback)

    with monkeypatch.context() as patch:
        patch.setattr(analysis.bios, "bio_languages", counted)
        patch.setattr(analysis.clustering, "bio_languages", counted)
        outcome, rows, stored = asyncio.run(scenario())
    assert (sum(local) == 0) == (label is _by_worker)
    whole = live_clusters.refit(rows, SETTINGS, tmp_path / "whole", state_dir=tmp_path / "s2")
    assert outcome.skipped is None and whole.skipped is None
    assert calls.count("receive_users") == -(-len(rows) // 37) > 1
    assert _without_timing(outcome.report) == _without_timing(whole.report)
    assert stored == {uid: f"{a},{b}" for uid, (a, b) in whole.assignments.items()}
    assert len(stored) == len(users)
    assert live_clusters.take_assignments(10) == {}  # every assignment was fetched once


def test_an_empty_window_is_skipped(redis_url: str, tmp_path: Path) -> None:
    async def in_thread(job: Callable[[], Any]) -> Any:
        return await asyncio.to_thread(job)

    async def scenario() -> live_clusters.RefitOutcome:
        client = redis_client(redis_url)
        try:
            store = Store(client, Keys("refitempty:"))
            return await live_clusters.refit_window(store, SETTINGS, tmp_path, in_thread)
        finally:
            await client.aclose()

    outcome = asyncio.run(scenario())
    assert outcome.skipped is not None and outcome.users == 0
