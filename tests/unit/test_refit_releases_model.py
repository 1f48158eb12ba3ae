"""A refit drops the previous model before it fits the next, so the two never stack up in the
analysis process at the refit's peak."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path
from typing import Any

import pytest

from analysis import clustering, live_clusters
from streamer.config import ClustersSettings


class OldModel:
    """Stands for a fitted BioClusterModel; a cycle, as fitted estimators have."""

    def __init__(self) -> None:
        self.me = self


def test_the_previous_model_is_freed_before_the_next_fit(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    old = OldModel()
    gone = weakref.ref(old)
    monkeypatch.setattr(live_clusters, "_model", old)
    del old
    seen: dict[str, Any] = {}

    def fit(users: Any, settings: Any, previous: Any = None, *, labelled: bool = False) -> Any:
        seen["old model alive at the fit"] = gone() is not None
        return clustering.SkipReason("too few users", len(users))

    monkeypatch.setattr(clustering, "fit_clusters", fit)
    outcome = live_clusters.refit([("1", "a bio", "en")], ClustersSettings(), tmp_path)
    assert outcome.skipped == "too few users"
    assert seen == {"old model alive at the fit": False}
    # A skipped refit leaves no model: newcomers wait for the next one.
    assert live_clusters.assign_new([("2", "another bio", "en")]) == {}
    gc.collect()
    assert gone() is None
