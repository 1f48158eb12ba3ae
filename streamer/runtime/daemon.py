"""The daemon's life: open Redis, resume the source, run the pipeline, stop on a signal."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import signal
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from streamer.config import Settings
from streamer.core.logs import configure_logging_stream, get_logger
from streamer.delivery.committer import CommitRefused, Recovery
from streamer.runtime.analyst import AnalysisJobs, Analyst
from streamer.runtime.enrichment import start_enrichment
from streamer.runtime.health import AnalystHealth, DaemonHealth, status_text, watchdog_healthy
from streamer.runtime.http_api import HttpServer, start_http_server
from streamer.runtime.metrics import Metrics
from streamer.runtime.periodic import cancel_all, run_every
from streamer.runtime.pipeline import Pipeline, make_committer
from streamer.runtime.progress import ClearingStream, Progress
from streamer.runtime.recording import Recorder
from streamer.runtime.systemd import Notifier, watchdog_loop
from streamer.sources.factory import make_source
from streamer.storage.connections import open_store

# The exit status when something read is not in Redis (it waits in the journal).
EXIT_NOT_STORED = 3


class StopSignals:
    """The one place SIGINT and SIGTERM are handled: from construction until `remove()`, each
    calls `handler(signum)` in the event loop instead of killing the process."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, handler: Callable[[int], None]) -> None:
        self._loop = asyncio.get_running_loop()
        for signum in self.SIGNALS:
            self._loop.add_signal_handler(signum, handler, signum)

    def remove(self) -> None:
        for signum in self.SIGNALS:
            self._loop.remove_signal_handler(signum)


def analysis_jobs() -> AnalysisJobs:
    """The analysis package's jobs, for the analyst: this module is the composition root, the
    one place in streamer/ that imports analysis/ (the CLI aside)."""
    from analysis.live_clusters import assign_newcomers, prepare, refit_window
    from analysis.map_jobs import write_maps  # folium loads in the analysis process only
    from analysis.snapshot import collect_summaries
    from analysis.trend_panel import score_trends

    return AnalysisJobs(
        collect_summaries=collect_summaries,
        write_maps=write_maps,
        refit_window=refit_window,
        assign_newcomers=assign_newcomers,
        preload=_preload_maps,
        score_trends=score_trends,  # trends
        prepare_clusters=prepare,
    )


def _preload_maps() -> None:
    # What an export runs in this process (reading the summaries), imported while the workers
    # start, not mid-stream; folium, the slow one, loads in the analysis process.
    import analysis.snapshot  # noqa: F401


async def run_daemon(settings: Settings) -> int:

    log = get_logger("streamer.daemon")
    notifier = Notifier.from_env()
    if settings.pipeline.role == "analyze":
        return await run_analyze(settings, notifier)
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
            recorder = Recorder(
                settings.source.record_dir,
                source.name,
                max_bytes=int(settings.source.record_max_mb * 1024 * 1024),
                max_seconds=settings.source.record_max_seconds,
            )
            log.info("recording", directory=settings.source.record_dir)
        pipeline = Pipeline(settings, source, store, recorder, committer, analysis_jobs())
        enrichment = await start_enrichment(settings, store)  # Bluesky bios; None otherwise
        pipeline.enricher = enrichment.enricher if enrichment is not None else None
        main_task = asyncio.current_task()

        def on_signal(signum: int) -> None:
            if pipeline.stopping and main_task is not None:
                log.warning("forced_exit", signal=signal.Signals(signum).name)
                main_task.cancel()
            else:
                notifier.stopping("stopping: draining batches into Redis")
                pipeline.request_stop()

        signals = StopSignals(on_signal)
        http = await start_http(settings, pipeline)
        progress = progress_for(source)
        companions = companion_tasks(settings, pipeline, notifier, progress)
        # Recovery is done and Redis answers: `systemctl start` may return now.
        notifier.ready(f"started; resumed at batch {recovery.committed}")
        try:
            metrics = await pipeline.run()
        except asyncio.CancelledError:
            return 1
        except CommitRefused as refused:
            log.error("stopped_commit_refused", error=str(refused))
            return EXIT_NOT_STORED
        finally:
            signals.remove()
            for task in companions:
                task.cancel()
            await asyncio.gather(*companions, return_exceptions=True)
            if enrichment is not None:  # a finished replay's lookups may still finish
                drain = settings.live.jetstream_eof_drain_seconds if pipeline.eof else 0.0
                await enrichment.close(drain)
            if progress is not None:
                show_final_progress(progress, pipeline)
            if http is not None:
                await http.close()
            notifier.close()
    log.info(
        "stopped",
        read=metrics.lines_read,
        accepted=metrics.accepted,
        skipped=dict(metrics.skipped),
    )
    if settings.source.exit_at_eof and committer.backlog:
        # A replay that ends with batches only in the journal did not do its job: say so in
        # the exit status, so a script running it does not take it for a success.
        log.error("stopped_with_unstored_batches", batches=committer.backlog, kept_in="journal")
        return EXIT_NOT_STORED
    return 0


async def run_analyze(settings: Settings, notifier: Any) -> int:
    """`--role analyze`: no source; maps and refits from what the ingest daemons store."""

    log = get_logger("streamer.daemon")
    log.info("starting", pid=os.getpid(), role="analyze", out=str(settings.out_path))
    async with open_store(settings, daemon=True) as store:
        await store.redis.ping()
        metrics = Metrics()
        analyst = Analyst(settings, store, metrics, analysis_jobs())
        analyst.start()
        provider = AnalystHealth(analyst, settings.maps.interval)
        stop = asyncio.Event()

        def on_signal(_signum: int) -> None:
            notifier.stopping("stopping: writing the last maps")
            stop.set()

        signals = StopSignals(on_signal)

        async def report() -> None:
            log.info("status", role="analyze", maps_written=metrics.maps_written,
                     clusters_refit=metrics.clusters_refit,
                     maps_s=round(metrics.maps_seconds, 2))  # fmt: skip
            notifier.status(f"analyze: {metrics.maps_written} map exports")

        http = await start_http(settings, provider)
        tasks = [
            *analyst.tasks(),
            asyncio.create_task(run_every(settings.status_interval, report)),
            asyncio.create_task(watchdog_loop(notifier, lambda: analyst.alive)),
        ]
        notifier.ready("analyzing")
        try:
            await stop.wait()
        finally:
            signals.remove()
            await cancel_all(tasks)
            if http is not None:
                await http.close()
        await analyst.last_maps()  # the last word: maps of everything stored so far
        analyst.close()
        notifier.close()
    log.info("stopped", role="analyze", maps_written=metrics.maps_written)
    return 0


async def start_http(settings: Settings, provider: Any) -> HttpServer | None:
    """/healthz, /metrics and /maps/ for a pipeline or another HealthProvider. A port in use is
    logged, not fatal: the endpoint reports on ingest and must never be the reason it stops."""

    h = settings.http
    if not h.enabled:
        return None
    log = get_logger("streamer.daemon")
    if not _is_loopback(h.host):
        log.warning("http_not_loopback", host=h.host, note="/metrics and /maps/ have no auth")
    if not hasattr(provider, "metric_families"):
        provider = DaemonHealth(provider)  # a Pipeline
    try:
        return await start_http_server(
            provider, h.host, h.port, settings.out_path / "maps", h.max_lag_seconds
        )
    except OSError as exc:
        log.error("http_unavailable", host=h.host, port=h.port, error=exc.strerror or str(exc))
        return None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def progress_for(source: Any) -> Progress | None:
    """A progress display for sources that know how far through their input they are."""

    if not hasattr(source, "bytes_done"):
        return None
    progress = Progress(getattr(source, "total_bytes", None), sys.stderr)
    if progress.is_tty and sys.stdout.isatty():
        # Logs and the bar share the terminal: each log line first wipes the bar.
        configure_logging_stream(ClearingStream(sys.stdout, progress))
    return progress


def show_final_progress(progress: Progress, pipeline: Pipeline) -> None:
    """The totals at the end, whenever the last periodic update came."""
    m = pipeline.metrics
    done = getattr(pipeline.source, "bytes_done", 0)
    # Stored means in Redis: a run that ends with batches in the journal must not show them.
    progress.update(done, m.lines_read, m.stored, sum(m.skipped.values()))
    progress.close()


def companion_tasks(
    settings: Settings, pipeline: Pipeline, notifier: Any, progress: Progress | None
) -> list[asyncio.Task[None]]:
    """The daemon's side jobs: systemd's STATUS line and watchdog, and the progress display."""

    async def every(interval: float, job: Callable[[], Any]) -> None:
        while True:
            job()
            await asyncio.sleep(interval)

    def show_progress() -> None:
        assert progress is not None
        m = pipeline.metrics
        progress.update(
            pipeline.source.bytes_done,  # type: ignore[attr-defined]
            m.lines_read,
            m.stored,
            sum(m.skipped.values()),
        )

    jobs: list[Coroutine[Any, Any, None]] = [
        watchdog_loop(notifier, lambda: watchdog_healthy(pipeline)),
    ]
    if notifier.enabled:
        jobs.append(every(settings.status_interval, lambda: notifier.status(status_text(pipeline))))
    if progress is not None:
        jobs.append(every(0.2 if progress.is_tty else 1.0, show_progress))
    return [asyncio.create_task(job) for job in jobs]


def resume_source(source: Any, recovery: Recovery, settings: Settings) -> None:
    """Continue where the last committed (or journaled) batch ended. A replay seeks to its
    byte offset; Jetstream restarts a few seconds behind its cursor, and the store drops the
    posts it already holds. Other sources cannot rewind: the journal covers what they sent."""

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
