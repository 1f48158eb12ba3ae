"""The analysis side of the daemon: map exports and bio-cluster refits from what Redis holds.

It reads only Redis, so it runs beside ingest in one daemon (`--role all`) or alone
(`--role analyze`), drawing the maps of everything several ingest daemons wrote. Maps and
clustering share one analysis process at a lower priority than ingest, each in a lane (a thread)
of its own: a refit can take minutes of CPU, and the maps must keep coming meanwhile; one
process instead of two saves an interpreter and a set of imports (~100 MB of RSS).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import partial
from typing import Any

from redis.exceptions import RedisError

from streamer.config import Settings
from streamer.core.logs import get_logger
from streamer.core.memory import trim
from streamer.ingest.worker import prepare_analysis_process
from streamer.runtime.lanes import ProcessLanes
from streamer.runtime.metrics import Metrics
from streamer.runtime.periodic import cancel_all, run_every
from streamer.storage.store import Store

log = get_logger("streamer.analyst")


@dataclass(frozen=True)
class AnalysisJobs:
    """The analysis functions the analyst schedules. The composition root (runtime.daemon)
    passes analysis/'s own, so this layer never imports the analysis package; `write_maps` runs
    in the analysis process and must be picklable (a module function)."""

    collect_summaries: Callable[..., Awaitable[Any]]  # (store, maps settings, trend settings)
    write_maps: Callable[..., list[Any]]
    refit_window: Callable[..., Awaitable[Any]]
    # (store, since, run in the clusters lane, label=...): clusters for newcomers
    assign_newcomers: Callable[..., Awaitable[Any]]
    preload: Callable[[], None]  # imports what a map export needs, ahead of the first one
    # trends: (summaries) -> (summaries with their "Trending now" panel, {"seconds", "tags"}),
    # run in the maps lane
    score_trends: Callable[[Any], tuple[Any, dict[str, float]]] | None = None
    # run in the clusters lane as the first refit's first step (imports, word tables)
    prepare_clusters: Callable[[], None] | None = None


# (bios, their posts' languages) -> the bios' own languages, or None when it cannot answer
LabelBios = Callable[[list[str], list[str | None]], Awaitable[list[str | None] | None]]

MAPS, CLUSTERS = "maps", "clusters"  # the analysis process's lanes
TREND_MEMORY_EVERY = 300.0  # seconds between samples of the trend keys' memory (trends)


class Analyst:
    """Owns the analysis process: its "maps" lane exports maps and scores trends, its
    "clusters" lane refits and assigns. `metrics` is the daemon's Metrics (maps_written,
    maps_seconds, clusters_refit, refit_seconds are updated here)."""

    def __init__(
        self, settings: Settings, store: Store, metrics: Metrics, jobs: AnalysisJobs
    ) -> None:
        self.jobs = jobs
        self.settings = settings
        self.store = store
        self.metrics = metrics
        self._process: ProcessLanes | None = None
        self._refitting = False
        self._fit_abandoned = False
        self._assigned_until: float | None = None
        self.last_export: float | None = None  # monotonic time of the last map export
        # The bios' own languages from the ingest workers (the pipeline sets it; a lone
        # analyst has none, and its clusters lane labels them itself).
        self.label_bios: LabelBios | None = None
        # Set by the pipeline at its first commit; a lone analyst has data from the start.
        self.data_arrived = asyncio.Event()
        if settings.pipeline.role == "analyze":
            self.data_arrived.set()

    # --- life -----------------------------------------------------------------------------

    def start(self) -> None:
        self._process = self._new_process()
        # The analysis process imports what an export needs now (folium and its templates:
        # half a second of CPU), while the workers start, not at the first export in mid-stream.
        self._maps_warm = self._process.submit(MAPS, self.jobs.preload)

    def _new_process(self) -> ProcessLanes:
        lanes = (MAPS, CLUSTERS) if self.settings.clusters.enabled else (MAPS,)
        return ProcessLanes(lanes, prepare_analysis_process, (os.getpid(),))

    def _restart_process(self) -> ProcessLanes:
        """A new analysis process for a dead one (the OOM killer, a stray signal). The fitted
        model died with it: newcomers wait for the next refit."""
        assert self._process is not None
        self._process.shutdown(wait=False, cancel_futures=True)
        self._process = self._new_process()
        self._assigned_until = None
        return self._process

    def tasks(self) -> list[asyncio.Task[None]]:
        """The periodic jobs: maps every `[maps] interval`, refits every `[clusters] interval`."""
        tasks = [asyncio.create_task(self._export_maps_every_interval())]
        if self.settings.clusters.enabled:
            interval = self.settings.clusters.interval
            # The first fit comes early so a new install shows clusters within minutes.
            first = min(60.0, interval)
            tasks.append(asyncio.create_task(run_every(interval, self.refit_clusters, first)))
        return tasks

    async def _export_maps_every_interval(self) -> None:
        """The first maps as soon as the first batch is stored (or after one interval, maps of
        an empty store), then every interval."""
        interval = self.settings.maps.interval
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.data_arrived.wait(), interval)
        await run_every(interval, self.export_maps, first=0)

    async def _prepare_clusters(self) -> None:
        """The clusters lane gets ready (imports, the bio word tables: a second or two of CPU)
        as the first step of the process's first refit, before the window travels there: built
        during the fit, the tables would stack on the window at the process's peak. Not when
        data first arrives: then ingest is often catching up (a replay, a resumed stream), and
        the one-off work took CPU from it for a job that is a minute away."""
        assert self._process is not None
        if self.jobs.prepare_clusters is None or self._prepared_in is self._process:
            return
        try:
            await self._in_clusters_lane(self.jobs.prepare_clusters)
        except Exception as exc:  # the refit still runs, and builds what it lacks
            log.warning("clusters_not_prepared", error=f"{type(exc).__name__}: {exc}")
        self._prepared_in = self._process

    _prepared_in: ProcessLanes | None = None

    async def last_maps(self) -> None:
        """At a stop, once the schedule's tasks are cancelled: the last maps, of everything
        stored, after winding down what still runs in the analysis process."""
        await self.wind_down()
        await self.export_maps(final=True)

    async def wind_down(self) -> None:
        """At a stop, before the last maps: the user window's upkeep is cancelled (the last
        export does it again, awaited: an assignment already in the clusters lane finishes
        first), and a refit still running there (its task already cancelled) is ended now, in
        a fresh process, rather than after the last export. Sharing the process with it, that
        export waited for the GIL behind the fit, and a stop during a refit took over a
        minute."""
        if self._upkeep is not None:
            await cancel_all([self._upkeep])
            self._upkeep = None
        if self._process is None or not (self._refitting or self._fit_abandoned):
            return
        log.info("refit_abandoned", reason="stopping")
        self._process.kill()  # it ignores SIGTERM: the daemon stops it
        self._refitting = self._fit_abandoned = False
        self._process = self._new_process()
        self._assigned_until = None
        self._maps_warm = self._process.submit(MAPS, self.jobs.preload)

    def close(self) -> None:
        """Stop the analysis process once its jobs are done (the last maps are exported before
        this is called); a refit in progress is abandoned, not waited for."""
        if self._process is None:
            return
        if self._refitting or self._fit_abandoned:
            # A refit can run for minutes; stopping must not wait for it. Its report is
            # written atomically, so the last complete one stays in place.
            log.info("refit_abandoned", reason="stopping")
            self._process.kill()  # it ignores SIGTERM: the daemon stops it
        else:
            self._process.shutdown(wait=True, cancel_futures=True)

    _maps_warm: Future[None] | None = None

    def preload(self, timeout: float = 60.0) -> None:
        """Import what a map export needs, here and in the analysis process (blocking: run it
        in a thread). A process that fails to start is not handled here: the first export
        restarts it."""
        self.jobs.preload()
        if self._maps_warm is not None:
            try:
                self._maps_warm.result(timeout)
            except Exception as exc:
                log.warning("analysis_process_not_ready", error=f"{type(exc).__name__}: {exc}")

    @property
    def alive(self) -> bool:
        return self._process is not None and not self._process.broken

    # --- jobs -----------------------------------------------------------------------------

    async def export_maps(self, final: bool = False) -> None:
        """Maps of what the store holds now, then the user window's upkeep: beside the map
        schedule, or awaited when `final` (the last maps at a stop), so that every user in the
        window has a cluster once the daemon has stopped."""
        started = time.monotonic()
        summaries = await self.jobs.collect_summaries(
            self.store, self.settings.maps, self.settings.trends
        )
        assert self._process is not None
        loop = asyncio.get_running_loop()
        if self.jobs.score_trends is not None and self.settings.trends.enabled:  # trends
            summaries = await self._score_trends(loop, summaries)
        job = partial(
            self.jobs.write_maps,
            self.settings.out_path,
            summaries,
            refresh_seconds=self.settings.maps.refresh,
            assets=self.settings.maps.assets,
        )
        try:
            paths = await loop.run_in_executor(self._process.lane(MAPS), job)
        except BrokenProcessPool:
            # The process died (OOM killer, a stray signal): start a new one, try once more.
            log.error("analysis_process_broken", action="restarting")
            process = self._restart_process()
            paths = await loop.run_in_executor(process.lane(MAPS), job)
        self.metrics.maps_written += 1
        self.last_export = time.monotonic()
        self.metrics.maps_seconds = self.last_export - started
        if self.settings.clusters.enabled:
            if final:
                await self._keep_user_window()
            else:
                self._start_upkeep()
        trim()  # the summaries and users just shipped: their pages go back (core.memory)
        log.info(
            "maps_written",
            languages=len(summaries),
            files=len(paths),
            out=str(self.settings.out_path / "maps"),
            seconds=round(time.monotonic() - started, 2),
        )

    def _start_upkeep(self) -> None:
        """The user window's upkeep (its bounds, the newcomers' clusters) runs beside the map
        schedule, never in it: at 6,000 posts/s an interval's newcomers took some 20 s to
        label and assign, and maps came every 50 s instead of 30. One run at a time: while
        one is still going, the next interval's newcomers wait for the one after."""
        if self._upkeep is None or self._upkeep.done():
            self._upkeep = asyncio.create_task(self._keep_user_window())

    _upkeep: asyncio.Task[None] | None = None

    async def _keep_user_window(self) -> None:
        c = self.settings.clusters
        try:
            await self.store.trim_users(c.max_users, c.max_age_hours * 3600, time.time())
            await self.assign_new_users()
        except (RedisError, OSError, BrokenProcessPool, ValueError) as exc:
            log.error("user_window_upkeep_failed", error=str(exc))
        except Exception:  # a task of its own: nobody else would see it
            log.exception("user_window_upkeep_failed")

    # --- trends -----------------------------------------------------------------------------

    async def _score_trends(self, loop: asyncio.AbstractEventLoop, summaries: Any) -> Any:
        """Score trends in the maps lane; sample the trend keys' memory every few minutes."""
        assert self._process is not None and self.jobs.score_trends is not None
        try:
            summaries, stats = await loop.run_in_executor(
                self._process.lane(MAPS), self.jobs.score_trends, summaries
            )
        except BrokenProcessPool:
            return summaries  # the export below restarts the process; the page scores itself
        self.metrics.trend_seconds = stats["seconds"]
        self.metrics.trend_tags = int(stats["tags"])
        now = time.monotonic()
        if now - self._trend_memory_at >= TREND_MEMORY_EVERY:
            self._trend_memory_at = now
            try:
                memory = await self.store.trend_memory()
            except (RedisError, OSError) as exc:
                log.error("trend_memory_failed", error=str(exc))
            else:
                self.metrics.trend_keys = memory["keys"]
                self.metrics.trend_key_bytes = memory["bytes"]
        return summaries

    _trend_memory_at = -math.inf

    async def refit_clusters(self) -> None:
        """Refit the bio clusters on the recent-user window in the clusters lane."""
        started = time.time()
        self._refitting = True
        try:
            await self._prepare_clusters()
            outcome = await self.jobs.refit_window(
                self.store, self.settings.clusters, self.settings.out_path, self._in_clusters_lane,
                self.settings.maps.refresh, label=self.label_bios,
            )  # fmt: skip
        except asyncio.CancelledError:
            self._fit_abandoned = True  # the process goes on fitting: close() must not wait
            raise
        finally:
            self._refitting = False
        if outcome.skipped:
            log.info("cluster_refit_skipped", reason=outcome.skipped, users=outcome.users)
            return
        self._assigned_until = started
        self.metrics.clusters_refit += 1
        self.metrics.refit_seconds = time.time() - started
        kmeans = outcome.report.get("kmeans", {})
        log.info(
            "clusters_refit",
            users=outcome.users,
            k=kmeans.get("k"),
            silhouette=kmeans.get("silhouette"),
            hdbscan_clusters=len(outcome.report.get("hdbscan", {}).get("clusters", [])),
            noise=outcome.report.get("hdbscan", {}).get("noise"),
            fit_s=round(outcome.seconds, 1),
            seconds=round(time.time() - started, 1),
        )

    def _in_clusters_lane(self, job: Callable[[], Any]) -> asyncio.Future[Any]:
        """Run a job in the clusters lane (an awaitable for the analysis functions)."""
        assert self._process is not None
        return asyncio.get_running_loop().run_in_executor(self._process.lane(CLUSTERS), job)

    async def assign_new_users(self) -> None:
        """Between refits, users seen since the last one get a cluster from the current model."""
        if self._assigned_until is None or self._refitting:
            return  # a refit running in the clusters lane will label everyone anyway
        since = time.time()
        await self.jobs.assign_newcomers(
            self.store, self._assigned_until, self._in_clusters_lane, label=self.label_bios
        )
        self._assigned_until = since
