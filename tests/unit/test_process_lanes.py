"""The analysis process's lanes: maps and clustering share one process, and a job of one lane
runs while a long job of the other is still running."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from streamer.runtime.lanes import ProcessLanes, RemoteTraceback


def where() -> tuple[int, str]:
    return os.getpid(), threading.current_thread().name


def wait_for_file(path: str, timeout: float) -> str:
    """A long job: returns once `path` exists (the test creates it when the other lane's job
    has finished), or after `timeout`."""
    deadline = time.monotonic() + timeout
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.01)
    return "released" if os.path.exists(path) else "timed out"


def fail() -> None:
    raise ValueError("bad bios")


def unpicklable() -> object:
    return threading.Lock()


def test_both_lanes_run_in_one_process_each_in_its_own_thread() -> None:
    lanes = ProcessLanes(("maps", "clusters"))
    try:
        maps_pid, maps_thread = lanes.lane("maps").submit(where).result(60)
        clusters_pid, clusters_thread = lanes.lane("clusters").submit(where).result(60)
    finally:
        lanes.shutdown()
    assert maps_pid == clusters_pid == lanes.pid
    assert maps_pid != os.getpid()
    assert maps_thread != clusters_thread


def test_a_job_of_one_lane_runs_while_the_other_lane_is_busy(tmp_path: Path) -> None:
    release = str(tmp_path / "release")
    lanes = ProcessLanes(("maps", "clusters"))
    try:
        refit = lanes.lane("clusters").submit(wait_for_file, release, 60)
        # The maps lane answers although the clusters lane has not finished its job.
        assert lanes.lane("maps").submit(where).result(60)[0] == lanes.pid
        assert not refit.done()
        Path(release).touch()
        assert refit.result(60) == "released"
    finally:
        lanes.shutdown()


def test_a_failing_job_fails_alone_with_its_remote_traceback() -> None:
    lanes = ProcessLanes(("maps",))
    try:
        with pytest.raises(ValueError, match="bad bios") as raised:
            lanes.lane("maps").submit(fail).result(60)
        assert isinstance(raised.value.__cause__, RemoteTraceback)
        assert 'raise ValueError("bad bios")' in str(raised.value.__cause__)
        with pytest.raises(RuntimeError, match="result not sent"):
            lanes.lane("maps").submit(unpicklable).result(60)
        with pytest.raises(AttributeError, match="pickle"):  # a job that does not pickle
            lanes.lane("maps").submit(lambda: None).result(60)
        assert lanes.lane("maps").submit(where).result(60)[0] == lanes.pid
    finally:
        lanes.shutdown()
    assert not lanes.broken


def test_a_killed_process_breaks_its_unfinished_jobs(tmp_path: Path) -> None:
    lanes = ProcessLanes(("maps", "clusters"))
    refit = lanes.lane("clusters").submit(wait_for_file, str(tmp_path / "never"), 60)
    lanes.lane("maps").submit(where).result(60)  # the process is up
    lanes.kill()
    with pytest.raises(BrokenProcessPool):
        refit.result(10)
    assert lanes.broken
    with pytest.raises(BrokenProcessPool):
        lanes.lane("maps").submit(where)


def test_an_unknown_lane_is_refused() -> None:
    lanes = ProcessLanes(("maps",))
    try:
        with pytest.raises(ValueError, match="no lane"):
            lanes.lane("clusters")
    finally:
        lanes.shutdown()
