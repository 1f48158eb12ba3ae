"""The analysis process imports what an export needs when the analyst starts, not at the first
export in mid-stream: `Analyst.preload` returns once both the daemon and that process have."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from typing import Any

from streamer.config import ClustersSettings, Settings
from streamer.runtime.analyst import AnalysisJobs, Analyst
from streamer.runtime.metrics import Metrics


def mark_preload(path: str) -> None:
    """The jobs' preload: notes which process ran it (a module function: it must pickle; the
    path travels with it, since a fork server started by an earlier test would not see an
    environment variable set now)."""
    with open(path, "a") as marks:
        marks.write(f"{os.getpid()}\n")


def unused(*args: Any) -> Any:
    raise AssertionError("not called by this test")


def test_preload_runs_in_the_analysis_process_too(tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    jobs = AnalysisJobs(unused, unused, unused, unused, preload=partial(mark_preload, str(marks)))
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
