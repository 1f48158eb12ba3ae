"""The bios' own languages can come from the ingest workers: the same labels, the same clusters.

The daemon asks its workers (streamer.ingest.worker.label_bios), whose detector is built
already, so that its clustering process never builds one; what it clusters must not change.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from analysis.bios import bio_languages
from analysis.clustering import ClusterResult, ClusterSettings, assign, fit_clusters
from scripts.bios_devset import DevUser, dev_users
from streamer.ingest import worker
from streamer.ingest.langid.chooser import LanguageChooser

SETTINGS = ClusterSettings(seed=1, scatter_points=100, min_users_per_language=100)
TIMING = ("fitted_at", "seconds")


@pytest.fixture(scope="module")
def users() -> list[DevUser]:
    users = dev_users(900, seed=7)
    # Bios that say nothing keep the post's language; users without one keep none.
    extra = [DevUser("blank", "  ", "en", None), DevUser("emoji", "🔥🔥", "ja", None)]
    return users + extra


def _rows(users: list[DevUser]) -> tuple[list[str], list[str | None]]:
    fallback: list[str | None] = [None if i % 10 == 3 else u.lang for i, u in enumerate(users)]
    return [u.bio for u in users], fallback


def test_a_worker_labels_bios_as_the_clustering_would(
    users: list[DevUser], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker, "_chooser", LanguageChooser("default", None, False))
    monkeypatch.setattr(worker, "_default_detector", True)
    bios, fallback = _rows(users)
    expected = bio_languages(bios, fallback)
    assert worker.label_bios(bios, fallback) == expected
    assert expected[-2:] == ["en", "ja"] and None in expected  # the fallbacks are exercised
    assert sum(e != f for e, f in zip(expected, fallback, strict=True)) > 0  # so is the detector


def test_a_worker_with_another_detector_declines(
    users: list[DevUser], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Configured with other languages its detector answers differently: the clustering
    process labels the bios itself instead."""
    monkeypatch.setattr(worker, "_chooser", LanguageChooser("default", ("en", "fr"), False))
    monkeypatch.setattr(worker, "_default_detector", False)
    bios, fallback = _rows(users)
    assert worker.label_bios(bios, fallback) is None


def _report(result: Any) -> dict[str, Any]:
    assert isinstance(result, ClusterResult), result
    return {k: v for k, v in result.to_json_dict().items() if k not in TIMING}


def test_clusters_of_labelled_users_are_the_same(users: list[DevUser]) -> None:
    bios, fallback = _rows(users)
    ids = [u.user_id for u in users]
    plain = fit_clusters(list(zip(ids, bios, fallback, strict=True)), SETTINGS)
    own = bio_languages(bios, fallback)
    labelled = fit_clusters(list(zip(ids, bios, own, strict=True)), SETTINGS, labelled=True)
    assert _report(labelled) == _report(plain)
    assert isinstance(plain, ClusterResult) and isinstance(labelled, ClusterResult)
    assert labelled.assignments == plain.assignments
    # Newcomers too: labelled first, or by the model's own detector.
    new = dev_users(60, seed=8)
    new_bios = [u.bio for u in new]
    new_langs: list[str | None] = [u.lang for u in new]
    by_model = assign(plain.model, new_bios, new_langs)
    given = assign(plain.model, new_bios, bio_languages(new_bios, new_langs), labelled=True)
    assert given == by_model


def test_labelled_languages_are_taken_as_they_are(users: list[DevUser]) -> None:
    """`labelled` really skips the detector: post languages given as labels route by post."""
    bios, fallback = _rows(users)
    rows = list(zip([u.user_id for u in users], bios, fallback, strict=True))
    as_given = fit_clusters(rows, SETTINGS, labelled=True)
    by_post = fit_clusters(rows, replace(SETTINGS, bio_language=False))
    assert _report(as_given) == _report(by_post)
