"""The analyst's map exports and refits share one analysis process, each in a lane of its own:
maps keep coming while a refit runs, and stopping does not wait for a refit."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from structlog.testing import capture_logs

from streamer.config import ClustersSettings, MapsSettings, Settings
from streamer.runtime.analyst import AnalysisJobs, Analyst
from streamer.runtime.metrics import Metrics


def pid_of_job(*_args: Any, **_kwargs: Any) -> list[Path]:
    return [Path(str(os.getpid()))]


def wait_for_file(path: str, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.01)
    return os.getpid()


def write_pid(path: str) -> None:
    Path(path).write_text(str(os.getpid()))


def append_pid(path: str) -> None:
    with open(path, "a") as out:
        out.write(f"{os.getpid()}\n")


async def no_summaries(*_args: Any) -> list[Any]:
    return []


class FakeStore:
    async def trim_users(self, *_args: Any) -> None:
        return None


def refit_job(release: str, pids: list[int]) -> Callable[..., Awaitable[Any]]:
    """A refit_window whose job in the clusters lane runs until `release` exists."""

    async def refit_window(
        _store: Any, _settings: Any, _out: Any, run: Callable[..., Awaitable[Any]], *_a: Any,
        **_kw: Any,
    ) -> Any:  # fmt: skip
        pids.append(await run(partial(wait_for_file, release, 60)))
        return SimpleNamespace(skipped="test", users=0)

    return refit_window


def analyst_for(tmp_path: Path, refit: Callable[..., Awaitable[Any]], prepared: Path) -> Analyst:
    jobs = AnalysisJobs(
        collect_summaries=no_summaries,
        write_maps=pid_of_job,
        refit_window=refit,
        assign_newcomers=no_summaries,
        preload=partial(write_pid, str(tmp_path / "preloaded")),
        prepare_clusters=partial(append_pid, str(prepared)),
    )
    settings = Settings(
        clusters=ClustersSettings(enabled=True),
        maps=MapsSettings(interval=3600.0),
        out_dir=str(tmp_path / "out"),
    )
    return Analyst(settings, FakeStore(), Metrics(), jobs)  # type: ignore[arg-type]


def test_maps_are_exported_in_the_refits_process_while_the_refit_runs(tmp_path: Path) -> None:
    release, prepared, refit_pids = tmp_path / "release", tmp_path / "prepared", []
    analyst = analyst_for(tmp_path, refit_job(str(release), refit_pids), prepared)

    async def scenario() -> list[str]:
        analyst.start()
        analyst.data_arrived.set()
        exports = asyncio.create_task(analyst._export_maps_every_interval())
        refit = asyncio.create_task(analyst.refit_clusters())
        await asyncio.sleep(0.5)
        await analyst.export_maps()  # the refit is still running
        assert not refit.done()
        exported = analyst.metrics.maps_written
        release.touch()
        await asyncio.wait_for(refit, 60)
        exports.cancel()
        return [str(exported)]

    try:
        (exported,) = asyncio.run(scenario())
    finally:
        analyst.close()
    assert int(exported) >= 1
    assert analyst._process is not None
    analysis_pid = analyst._process.pid
    assert analysis_pid != os.getpid()
    assert refit_pids == [analysis_pid]
    assert prepared.read_text() == f"{analysis_pid}\n"  # the clusters lane got ready there too


def test_the_clusters_lane_gets_ready_at_the_first_refit_not_when_data_arrives(
    tmp_path: Path,
) -> None:
    release, prepared = tmp_path / "release", tmp_path / "prepared"
    release.touch()  # refits end at once
    analyst = analyst_for(tmp_path, refit_job(str(release), []), prepared)

    async def scenario() -> tuple[bool, str]:
        analyst.start()
        analyst.data_arrived.set()
        await analyst.export_maps()
        ready_before_refit = prepared.exists()
        await analyst.refit_clusters()
        await analyst.refit_clusters()
        return ready_before_refit, prepared.read_text()

    try:
        ready_before_refit, prepared_by = asyncio.run(scenario())
    finally:
        analyst.close()
    assert analyst._process is not None
    assert not ready_before_refit  # ingest's first seconds do not pay for it
    assert prepared_by == f"{analyst._process.pid}\n"  # once per process, not once per refit


def test_stopping_during_a_refit_does_not_wait_for_it(tmp_path: Path) -> None:
    analyst = analyst_for(tmp_path, refit_job(str(tmp_path / "never"), []), tmp_path / "p")

    async def scenario() -> None:
        analyst.start()
        refit = asyncio.create_task(analyst.refit_clusters())
        await asyncio.sleep(1.0)
        refit.cancel()  # as the daemon's shutdown cancels its periodic tasks
        await asyncio.gather(refit, return_exceptions=True)

    asyncio.run(scenario())
    started = time.monotonic()
    analyst.close()
    assert time.monotonic() - started < 10
    assert analyst._process is not None and not analyst.alive


def test_the_last_maps_at_a_stop_during_a_refit_come_from_a_fresh_process(tmp_path: Path) -> None:
    refit_pids: list[int] = []
    analyst = analyst_for(tmp_path, refit_job(str(tmp_path / "never"), refit_pids), tmp_path / "p")

    async def scenario() -> tuple[int, int]:
        analyst.start()
        refit = asyncio.create_task(analyst.refit_clusters())
        await asyncio.sleep(1.0)
        assert analyst._process is not None
        fitting_in = analyst._process.pid
        assert fitting_in is not None
        refit.cancel()  # as the daemon's shutdown cancels its periodic tasks
        await asyncio.gather(refit, return_exceptions=True)
        await asyncio.wait_for(analyst.last_maps(), 30)
        return fitting_in, analyst.metrics.maps_written

    try:
        fitting_in, written = asyncio.run(scenario())
        assert analyst._process is not None
        exported_in = analyst._process.pid
        started = time.monotonic()
    finally:
        analyst.close()
    assert time.monotonic() - started < 10  # nothing left to wait for
    assert written == 1
    assert exported_in != fitting_in
    with contextlib.suppress(ProcessLookupError):
        os.kill(fitting_in, 0)
        raise AssertionError("the fitting process outlived the stop")


def test_the_user_window_upkeep_runs_beside_the_maps_and_not_in_the_last_ones(
    tmp_path: Path,
) -> None:
    """Assigning an interval's newcomers can take most of the interval: the maps must keep
    their schedule, one upkeep runs at a time, and the last maps at a stop wait for theirs."""
    started: list[float] = []
    release = asyncio.Event()

    async def assign_newcomers(*_args: Any, **_kwargs: Any) -> None:
        started.append(time.monotonic())
        await release.wait()

    analyst = analyst_for(tmp_path, refit_job(str(tmp_path / "r"), []), tmp_path / "p")
    analyst.jobs = replace(analyst.jobs, assign_newcomers=assign_newcomers)

    async def scenario() -> tuple[int, int, bool]:
        analyst.start()
        analyst._assigned_until = 0.0  # as after a refit
        await asyncio.wait_for(analyst.export_maps(), 30)  # returns with the upkeep running
        await asyncio.sleep(0.1)
        await asyncio.wait_for(analyst.export_maps(), 30)  # the upkeep still runs: no second
        upkeep = analyst._upkeep
        assert upkeep is not None and not upkeep.done()
        await analyst.wind_down()
        cancelled = upkeep.cancelled()
        release.set()
        await asyncio.wait_for(analyst.export_maps(final=True), 30)
        return analyst.metrics.maps_written, len(started), cancelled

    try:
        written, upkeeps, cancelled = asyncio.run(scenario())
    finally:
        analyst.close()
    assert written == 3
    assert upkeeps == 2  # the two periodic exports' one, then the last maps' own
    assert cancelled
    assert analyst._upkeep is None  # the last maps' upkeep was awaited, not left running


def test_an_upkeep_that_fails_is_logged_not_lost(tmp_path: Path) -> None:
    async def assign_newcomers(*_args: Any, **_kwargs: Any) -> None:
        raise ZeroDivisionError("bug")

    analyst = analyst_for(tmp_path, refit_job(str(tmp_path / "r"), []), tmp_path / "p")
    analyst.jobs = replace(analyst.jobs, assign_newcomers=assign_newcomers)

    async def scenario() -> asyncio.Task[None] | None:
        analyst.start()
        analyst._assigned_until = 0.0  # as after a refit
        await asyncio.wait_for(analyst.export_maps(), 30)
        upkeep = analyst._upkeep
        assert upkeep is not None
        await asyncio.wait_for(asyncio.shield(upkeep), 30)
        return upkeep

    try:
        with capture_logs() as logs:
            upkeep = asyncio.run(scenario())
    finally:
        analyst.close()
    assert upkeep is not None and upkeep.exception() is None
    failed = [e for e in logs if e["event"] == "user_window_upkeep_failed"]
    assert len(failed) == 1 and failed[0].get("exc_info")
