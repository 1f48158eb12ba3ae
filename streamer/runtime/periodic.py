"""Jobs that run every so often inside the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

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
        except Exception:
            log.exception("periodic_job_failed", job=getattr(job, "__name__", str(job)))
        await asyncio.sleep(interval)
