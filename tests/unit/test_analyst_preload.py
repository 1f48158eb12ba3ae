"""The map process imports what an export needs when the analyst starts, not at the first export
in mid-stream: `Analyst.preload` returns once both the daemon and the map process have."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from streamer.config import ClustersSettings, Settings
from streamer.runtime.analyst import AnalysisJobs, Analyst
from streamer.runtime.metrics import Metrics

MARKS = "TWEETHEAT_TEST_PRELOAD_MARKS"


def mark_preload() -> None:
    """The jobs' preload: notes which process ran it (a module function: it must pickle)."""
    with open(os.environ[MARKS], "a") as marks:
        marks.write(f"{os.getpid()}\n")


def unused(*args: Any) -> Any:
    raise AssertionError("not called by this test")


def test_preload_runs_in_the_map_process_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marks = tmp_path / "marks"
    monkeypatch.setenv(MARKS, str(marks))  # the map process starts after this: it inherits it
    jobs = AnalysisJobs(unused, unused, unused, unused, preload=mark_preload)
    settings = Settings(clusters=ClustersSettings(enabled=False))
    analyst = Analyst(settings, None, Metrics(), jobs)  # type: ignore[arg-type]
    analyst.start()
    try:
        analyst.preload()
        pids = marks.read_text().split()
    finally:
        analyst.close()
    assert len(pids) == 2
    assert str(os.getpid()) in pids
    (other,) = set(pids) - {str(os.getpid())}
    assert int(other) != os.getpid()
