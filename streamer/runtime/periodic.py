"""Jobs that run every so often inside the event loop."""

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
        await asyncio.sleep(interval)


def _name(job: Callable[[], Any]) -> str:
    return str(getattr(job, "__name__", job))
