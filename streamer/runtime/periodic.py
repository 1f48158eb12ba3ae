"""Jobs that run every so often inside the event loop, and stopping them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError

from streamer.core.logs import get_logger

log = get_logger("streamer.analyst")


async def run_every(interval: float, job: Callable[[], Any], first: float | None = None) -> None:
    """Await `job` every `interval` seconds until cancelled; a failure is logged, not fatal."""
    await asyncio.sleep(interval if first is None else first)
    while True:
        try:
            await job()
        except asyncio.CancelledError:
            raise
        except (RedisError, OSError) as exc:
            # Redis away (a cluster failing over, a restart): expected, and retried next
            # interval, so one line says it; a traceback would only bury the log.
            log.error("periodic_job_failed", job=_name(job), error=f"{type(exc).__name__}: {exc}")
        except Exception:
            log.exception("periodic_job_failed", job=_name(job))
        raise_if_cancelling()
        await asyncio.sleep(interval)


def raise_if_cancelling() -> None:
    """redis-py can swallow a cancellation that lands mid-command: a job then returns as if
    nothing happened, and the loop would go on (an analyze daemon kept exporting maps after
    its SIGTERM). A cancellation requested is honoured here."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def cancel_all(tasks: list[asyncio.Task[Any]]) -> None:
    """Cancel the tasks and wait until they have all ended. A task that swallowed its
    cancellation (see `raise_if_cancelling`) and is still running after a second is cancelled
    again, so a stop never waits forever."""
    pending = set(tasks)
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=1.0)
    for task in tasks:
        if not task.cancelled():
            task.exception()  # retrieved: a task that failed as it stopped is not news


def _name(job: Callable[[], Any]) -> str:
    return str(getattr(job, "__name__", job))
