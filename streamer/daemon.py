"""The daemon's life: open Redis, resume the source, run the pipeline, stop on a signal."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

from streamer.commits import Recovery
from streamer.config import Settings


async def run_daemon(settings: Settings) -> int:
    from streamer.connections import open_store
    from streamer.logs import get_logger
    from streamer.pipeline import Pipeline, make_committer
    from streamer.sources import make_source

    log = get_logger("streamer.daemon")
    source = make_source(settings)
    log.info(
        "starting",
        pid=os.getpid(),
        source=source.name,
        rate="max" if settings.source.rate == 0 else settings.source.rate,
        redis="embedded" if not settings.redis.url else "external",
        detector=settings.lang.detector,
        workers=settings.pipeline.workers,
        out=str(settings.out_path),
    )
    async with open_store(settings, daemon=True) as store:
        await store.redis.ping()
        committer = make_committer(settings, source, store)
        recovery = await committer.recover()
        resume_source(source, recovery, settings)
        recorder = None
        if settings.source.record_dir:
            from streamer.recording import Recorder

            recorder = Recorder(
                settings.source.record_dir,
                source.name,
                max_bytes=int(settings.source.record_max_mb * 1024 * 1024),
                max_seconds=settings.source.record_max_seconds,
            )
            log.info("recording", directory=settings.source.record_dir)
        pipeline = Pipeline(settings, source, store, recorder, committer)
        main_task = asyncio.current_task()
        loop = asyncio.get_running_loop()

        def on_signal(signum: int) -> None:
            if pipeline.stopping and main_task is not None:
                log.warning("forced_exit", signal=signal.Signals(signum).name)
                main_task.cancel()
            else:
                pipeline.request_stop()

        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, on_signal, signum)
        try:
            metrics = await pipeline.run()
        except asyncio.CancelledError:
            return 1
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)
    log.info(
        "stopped",
        read=metrics.lines_read,
        accepted=metrics.accepted,
        skipped=dict(metrics.skipped),
    )
    return 0


def resume_source(source: Any, recovery: Recovery, settings: Settings) -> None:
    """Continue where the last committed (or journaled) batch ended. A replay seeks to its
    byte offset; Jetstream restarts a few seconds behind its cursor, and the store drops the
    posts it already holds. Other sources cannot rewind: the journal covers what they sent."""
    from streamer.logs import get_logger

    log = get_logger("streamer.daemon")
    if recovery.to_resend:
        log.info("journal_resend", batches=recovery.to_resend, redis_has=recovery.committed)
    position = recovery.position
    if settings.source.from_start:
        log.info("resuming", source=source.name, decision="--from-start: reading from the start")
    elif hasattr(source, "resume_from"):
        log.info("resuming", source=source.name, decision=source.resume_from(position))
    elif hasattr(source, "start_cursor") and isinstance(position, int):
        rewind = int(settings.live.jetstream_rewind_seconds * 1_000_000)
        source.start_cursor = max(0, position - rewind)
        log.info(
            "resuming", source=source.name, saved_cursor=position, start_cursor=source.start_cursor
        )
