"""Process pools: fresh processes from a forkserver, never a fork of the event loop's process."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

# What the fork server imports before it forks a pool process: only its signal set-up. Each
# process imports its own modules (a fraction of a second, beside building a detector):
# preloading them would keep ~18 MB of them in the fork server, and RSS counts them there too.
FORKSERVER_PRELOAD = ["streamer.runtime.forkserver_preload"]


def process_pool(
    workers: int, initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = ()
) -> ProcessPoolExecutor:
    """A pool of fresh processes (forkserver: never fork a process that runs an event loop)."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(FORKSERVER_PRELOAD)
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=initializer, initargs=initargs
    )
