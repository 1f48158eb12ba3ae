"""Process pools: fresh processes from a forkserver, never a fork of the event loop's process."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any


def process_pool(
    workers: int, initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = ()
) -> ProcessPoolExecutor:
    """A pool of fresh processes (forkserver: never fork a process that runs an event loop)."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["streamer.runtime.forkserver_preload", "streamer.ingest.worker"])
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=initializer, initargs=initargs
    )
