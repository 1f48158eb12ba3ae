"""Periodic jobs: a Redis outage (a cluster failing over) is one log line per failed run, an
unexpected failure a traceback; neither stops the schedule."""

from __future__ import annotations

import asyncio
import contextlib

from redis.exceptions import ConnectionError as RedisConnectionError
from structlog.testing import capture_logs

from streamer.runtime.periodic import run_every


def _runs(failure: Exception, times: int) -> list[dict[str, object]]:
    calls = 0

    async def export_maps() -> None:
        nonlocal calls
        calls += 1
        raise failure

    async def go() -> None:
        task = asyncio.create_task(run_every(0.001, export_maps, first=0))
        while calls < times:
            await asyncio.sleep(0.001)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    with capture_logs() as logs:
        asyncio.run(go())
    return [e for e in logs if e["event"] == "periodic_job_failed"]


def test_a_redis_outage_is_one_line_per_run_without_a_traceback() -> None:
    lines = _runs(RedisConnectionError("Error 111 connecting to 10.0.0.7:7001"), times=3)
    assert len(lines) >= 3  # the schedule went on after each failure
    assert all("exc_info" not in e for e in lines)
    assert lines[0]["job"] == "export_maps"
    assert lines[0]["error"] == "ConnectionError: Error 111 connecting to 10.0.0.7:7001"


def test_an_unexpected_failure_keeps_its_traceback() -> None:
    lines = _runs(ZeroDivisionError("bug"), times=2)
    assert len(lines) >= 2
    assert all(e.get("exc_info") for e in lines)


def test_a_job_that_swallows_its_cancellation_still_ends_the_schedule() -> None:
    """redis-py can swallow a cancellation that lands mid-command: the job returns as if
    nothing happened. The schedule must end there, not run the job again."""
    calls = 0
    started = asyncio.Event()

    async def export_maps() -> None:
        nonlocal calls
        calls += 1
        started.set()
        if calls == 1:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(10)  # cancelled here, and the cancellation is lost

    async def go() -> bool:
        task = asyncio.create_task(run_every(0.001, export_maps, first=0))
        await started.wait()
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=5)
        return task in done and task.cancelled()

    assert asyncio.run(go())
    assert calls == 1
