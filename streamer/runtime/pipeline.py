"""The daemon's data path: source -> bounded queue -> batcher -> process pool -> writer -> Redis.

The event loop only moves bytes and waits: parsing and detection run in the pool, map
rendering in a separate process. Every hand-over is bounded: the line queue by lines, the pool
by in-flight batches, so a slow pool or a slow Redis slows the reader instead of growing memory.
Batches are written in the order they were read.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

import orjson
from redis.exceptions import RedisError

from streamer.config import LIVE_SOURCES, Settings
from streamer.core.logs import RateLimitedLog, get_logger
from streamer.core.records import PackedRecords, PackedUsers
from streamer.core.trend_packing import dropped_in_batch
from streamer.delivery.committer import Committer
from streamer.delivery.journal import Entry, Journal
from streamer.ingest.worker import (
    PackedBatch,
    TrendCounting,
    init_worker,
    label_bios,
    process_parts,
    worker_ready,
)
from streamer.runtime.analyst import AnalysisJobs, Analyst
from streamer.runtime.enrichment import Enricher
from streamer.runtime.metrics import Metrics
from streamer.runtime.periodic import cancel_all, raise_if_cancelling, run_every
from streamer.runtime.pools import process_pool
from streamer.runtime.recording import Recorder
from streamer.sources.base import LineBlock, Source
from streamer.storage.store import Store, count_duplicates

log = get_logger("streamer.pipeline")

CHUNK_CAP = 1000  # sources hand over at most this many lines at once
# Bios per labelling task (Pipeline.label_bios): about 30 ms of a worker, like a batch.
LABEL_PART = 2000
DRAIN_SECONDS = 20.0  # at stop, how long to wait for Redis to take the journal's backlog


def make_committer(settings: Settings, source: Source, store: Store) -> Committer:
    """The journal lives under data_dir, one per ingest instance (its checkpoint's name)."""
    p = settings.pipeline
    instance = p.instance or default_instance(settings, source.name)
    journal = Journal(
        settings.data_path / "journal" / instance,
        max_bytes=int(p.journal_max_mb * 1024 * 1024),
        keep_seconds=p.journal_keep_seconds,
    )
    # A source that resumes a little behind its position (Jetstream) repeats some posts:
    # those are stored once per post id.
    dedupe = bool(getattr(source, "repeats_on_resume", False))
    if store.keys.cluster:  # a Redis Cluster: one commit chain per language slot
        from streamer.delivery.cluster_committer import ClusterCommitter

        return ClusterCommitter(store, journal, instance, dedupe=dedupe)
    return Committer(store, journal, instance, dedupe=dedupe)


def default_instance(settings: Settings, source_name: str) -> str:
    """The source's name, and the share of the input when it is split: "replay-1of2"."""
    parts = settings.source.partition_parts
    return f"{source_name}-{parts[0]}of{parts[1]}" if parts else source_name


async def _unless_it_dies(work: Any, guard: asyncio.Task[None]) -> None:
    """Await `work`, but if the `guard` task (which never returns) fails first, cancel the
    work and raise the guard's error instead of waiting forever."""
    work = asyncio.ensure_future(work)
    await asyncio.wait({work, guard}, return_when=asyncio.FIRST_COMPLETED)
    if guard.done() and not work.done():
        work.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await work
        guard.result()
        raise RuntimeError("the committer stopped")
    work.result()


# What a pool process is sent: per chunk, a LineBlock's buffer or a list of lines.
Parts = list[bytes | Sequence[bytes]]


@dataclass
class _InFlight:
    parts: Parts
    lines: int
    future: asyncio.Future[PackedBatch]
    read_at: float
    pool: ProcessPoolExecutor
    position: Any = None  # a resumable source's position after this batch's last line
    author_bios: dict[str, str] | None = None  # Bluesky: bios kept for the bio step


class _Chunk(NamedTuple):
    lines: Sequence[bytes]  # a list of lines, or a LineBlock
    read_at: float
    position: Any


def _part(chunk: Sequence[bytes]) -> bytes | Sequence[bytes]:
    """How a chunk travels to a pool process: a LineBlock as its buffer (one object for the
    whole chunk), a list of lines as it is."""
    return chunk.data if isinstance(chunk, LineBlock) else chunk


# --- trends: what the pool processes are told about event-time counting ---
def trend_counting(settings: Settings) -> TrendCounting | None:
    """None when trends are off; live sources get a clock-skew bound (`newest_allowed`)."""
    t = settings.trends
    if not t.enabled:
        return None
    live = settings.source.kind in LIVE_SOURCES
    return TrendCounting(
        t.bucket_seconds, t.lateness_seconds, t.clock_skew_seconds if live else None
    )


# --- end trends ---


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        source: Source,
        store: Store,
        recorder: Recorder | None = None,
        committer: Committer | None = None,
        analysis: AnalysisJobs | None = None,
    ) -> None:
        self.settings = settings
        self.source = source
        self.store = store
        self.recorder = recorder
        self.committer = committer or make_committer(settings, source, store)
        self.committer.on_commit = self._committed
        # A source that can resume reports its position after each chunk it hands over.
        self._position: Callable[[], Any] | None = getattr(source, "position", None)
        self.metrics = Metrics()
        p = settings.pipeline
        self._lines: asyncio.Queue[_Chunk | None] = asyncio.Queue(
            maxsize=max(1, p.queue_size // CHUNK_CAP)
        )
        self._inflight: asyncio.Queue[_InFlight | None] = asyncio.Queue(
            maxsize=p.max_inflight_batches
        )
        self._stop = asyncio.Event()
        self._pool: ProcessPoolExecutor | None = None
        # Maps and refits with the jobs the composition root passes (runtime.daemon), unless
        # this daemon only ingests (`--role ingest`).
        self.analyst = (
            Analyst(settings, store, self.metrics, analysis)
            if analysis is not None and settings.pipeline.role != "ingest"
            else None
        )
        if self.analyst is not None:
            self.analyst.label_bios = self.label_bios  # the workers have a detector
        self._bad_input_log = RateLimitedLog(log, interval=10.0)
        self._users: asyncio.Queue[Any] = asyncio.Queue(maxsize=16)
        # Bluesky profile enrichment (runtime.enrichment), set by the daemon when wanted.
        self.enricher: Enricher | None = None
        self.eof = False
        self.started_at = time.time()

    # --- control ------------------------------------------------------------------------

    def request_stop(self) -> None:
        if not self._stop.is_set():
            log.info("stopping", reason="signal", queued_chunks=self._lines.qsize())
            self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def pool_alive(self) -> bool:
        # A pool whose worker died is "broken" until the writer replaces it.
        return self._pool is not None and not getattr(self._pool, "_broken", False)

    def queue_depths(self) -> dict[str, int]:
        return {"line_queue": self._lines.qsize(), "inflight_batches": self._inflight.qsize()}

    # --- run ----------------------------------------------------------------------------

    async def run(self) -> Metrics:
        """Run until the source ends (with exit_at_eof) or a stop is requested, then drain."""
        if not self.committer.recovered:
            await self.committer.recover()
        committing = asyncio.create_task(self.committer.run())
        self._pool = self._new_pool()
        background = [
            asyncio.create_task(run_every(self.settings.status_interval, self.report)),
            asyncio.create_task(self._remember_users()),
        ]
        if self.analyst is not None:
            self.analyst.start()
            background += self.analyst.tasks()
        finished = False
        try:
            await asyncio.gather(self._pool_ready(), self._preload_map_modules())
            flow = [
                asyncio.create_task(self._reader()),
                asyncio.create_task(self._batcher()),
                asyncio.create_task(self._writer()),
            ]
            await _unless_it_dies(asyncio.gather(*flow), committing)
            await _unless_it_dies(self.committer.drain(timeout=DRAIN_SECONDS), committing)
            await self._drain_users(DRAIN_SECONDS)  # hostile-input finding 4: bios at exit
            if self.eof and not self.settings.source.exit_at_eof:
                log.info("source_exhausted", note="waiting for a stop signal")
                await self._stop.wait()
            finished = True
        finally:
            await cancel_all([*background, committing])
            self.committer.journal.close()
            if not finished:
                # Stopping on an error (a refused commit, a cancel): the analysis process is
                # not a daemonic child, and the interpreter's exit would wait for it forever.
                self._shutdown_pools()
        if self.analyst is not None:
            await self.analyst.last_maps()
        await self.report(final=True)
        self._shutdown_pools()
        return self.metrics

    def _shutdown_pools(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self.analyst is not None:
            self.analyst.close()

    def _new_pool(self) -> ProcessPoolExecutor:
        lang = self.settings.lang
        max_line = self.settings.source.max_line_bytes
        geo = self.settings.geo  # the gazetteer's cache: [geo] cache_dir or <data_dir>/geo
        geo_cache = str(geo.cache_path(self.settings.data_dir))
        args = (
            lang.detector, lang.languages, os.getpid(), lang.trust_platform, max_line,
            geo, geo_cache, trend_counting(self.settings),
        )  # fmt: skip
        workers = self.settings.pipeline.workers
        pool = process_pool(workers, init_worker, args)
        # Start every worker now, not at the first batches: each builds its detector (about
        # a second of CPU), and the first posts should not wait for that.
        self._warming = [pool.submit(worker_ready) for _ in range(workers)]
        return pool

    _warming: list[Future[int]] = []  # noqa: RUF012 - replaced, never mutated

    async def _preload_map_modules(self) -> None:
        """Import what the map export needs in this process (folium: half a second) while the
        workers start, instead of in the middle of the stream at the first export, where it
        would hold up the event loop and every post in flight."""
        if self.analyst is not None:
            await asyncio.to_thread(self.analyst.preload)

    async def _pool_ready(self, timeout: float = 120.0) -> None:
        """Wait, before reading, until every worker has built its detector: what is read
        sooner only waits for the pool, and shows as latency (a paced stream's first seconds).
        A pool that fails to start is not handled here: the first batch restarts it."""
        try:
            async with asyncio.timeout(timeout):
                await asyncio.gather(*map(asyncio.wrap_future, self._warming))
        except Exception as exc:
            log.warning("pool_not_ready", error=f"{type(exc).__name__}: {exc}")

    # --- stages -------------------------------------------------------------------------

    async def _reader(self) -> None:
        chunks = self.source.chunks().__aiter__()
        stop = asyncio.ensure_future(self._stop.wait())
        try:
            # Check the flag first: a fast source can finish its next chunk in the same loop
            # turn that the stop future reports done, and asyncio.wait would hand us both.
            while not self._stop.is_set():
                nxt: asyncio.Future[Sequence[bytes]] = asyncio.ensure_future(anext(chunks))
                waiting: set[asyncio.Future[Any]] = {nxt, stop}
                done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                if nxt not in done:
                    nxt.cancel()
                    with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                        await nxt
                    break
                try:
                    chunk = nxt.result()
                except StopAsyncIteration:
                    self.eof = True
                    log.info("source_eof", source=self.source.name)
                    break
                self.metrics.lines_read += len(chunk)
                if self.recorder is not None:
                    await self._record(chunk)
                position = self._position() if self._position is not None else None
                await self._lines.put(_Chunk(chunk, time.monotonic(), position))
        finally:
            stop.cancel()
            with contextlib.suppress(Exception):
                await chunks.aclose()  # type: ignore[attr-defined]
            if self.recorder is not None:
                with contextlib.suppress(OSError):
                    await asyncio.to_thread(self.recorder.close)
            await self._lines.put(None)

    async def _record(self, chunk: Sequence[bytes]) -> None:
        """Tee to disk in a thread (gzip is CPU work). A full disk costs the recording, never
        the stream: the failure is logged and the next chunk tries again."""
        assert self.recorder is not None
        try:
            await asyncio.to_thread(self.recorder.write, chunk)
        except OSError as exc:
            self.metrics.record_errors += 1
            self._bad_input_log.warning("record", "recording_failed", error=str(exc))

    async def _batcher(self) -> None:
        """Gather whole chunks into batches of at least `batch_size` lines (or whatever came
        within `batch_timeout`). A chunk is never split, so a batch ends exactly where its
        last chunk's source position says, and resuming from it repeats nothing.

        While more chunks are already waiting (a backlog: the source is faster than the
        pool), a batch takes them too, up to twice `batch_size`: fewer, larger batches cost
        less per line to send, journal and commit. A steady stream that keeps up is batched
        at `batch_size`, so its latency does not grow."""
        size = self.settings.pipeline.batch_size
        timeout = self.settings.pipeline.batch_timeout
        batch: Parts = []
        lines = 0
        read_at = 0.0
        position: Any = None

        while True:
            try:
                if batch:
                    # The deadline counts from the batch's first line, not from the last chunk:
                    # a slow steady stream (50/s in chunks of 2) must not hold a batch forever.
                    left = read_at + timeout - time.monotonic()
                    # asyncio.timeout, not wait_for: on Python 3.11 wait_for can time out
                    # after get() took an item, and that item would be lost.
                    async with asyncio.timeout(max(left, 0.0)):
                        item = await self._lines.get()
                else:
                    item = await self._lines.get()
            except TimeoutError:
                await self._submit(batch, lines, read_at, position)
                batch, lines = [], 0
                continue
            if item is None:
                if batch:
                    await self._submit(batch, lines, read_at, position)
                await self._inflight.put(None)
                return
            if not batch:
                read_at = item.read_at
            batch.append(_part(item.lines))
            lines += len(item.lines)
            position = item.position
            if lines >= size and (lines >= 2 * size or self._lines.empty()):
                await self._submit(batch, lines, read_at, position)
                batch, lines = [], 0

    async def _submit(self, parts: Parts, lines: int, read_at: float, position: Any) -> None:
        bios = None if self.enricher is None else self.enricher.placed_bios(parts)
        pool, future = self._run_in_pool(parts, bios)
        await self._inflight.put(_InFlight(parts, lines, future, read_at, pool, position, bios))

    async def label_bios(
        self, bios: list[str], fallback: list[str | None]
    ) -> list[str | None] | None:
        """The bios' own languages for the clustering, from the ingest workers (which have the
        detector it needs), LABEL_PART bios per task so batches keep flowing between them;
        None when the pool cannot answer (not started, broken, stopping, another detector)."""
        out: list[str | None] = []
        loop = asyncio.get_running_loop()
        for start in range(0, len(bios), LABEL_PART):
            pool = self._pool
            if pool is None or not self.pool_alive:
                return None
            part = slice(start, start + LABEL_PART)
            try:
                labels = await loop.run_in_executor(pool, label_bios, bios[part], fallback[part])
            except (BrokenProcessPool, RuntimeError):  # RuntimeError: the pool shut down
                return None
            if labels is None:  # the workers detect with another detector than the default
                return None
            out += labels
        return out

    def _run_in_pool(
        self, parts: Parts, author_bios: dict[str, str] | None
    ) -> tuple[ProcessPoolExecutor, asyncio.Future[PackedBatch]]:
        pool = self._pool
        assert pool is not None
        loop = asyncio.get_running_loop()
        return pool, loop.run_in_executor(pool, process_parts, parts, author_bios)

    async def _writer(self) -> None:
        """Results in read order, into the journal; the committer takes them to Redis."""
        while True:
            item = await self._inflight.get()
            if item is None:
                return
            result = await self._result(item)
            counters: dict[str, int] = {"lines": item.lines, "accepted": len(result.records)}
            for reason, n in result.skipped.items():
                counters[f"skipped:{reason}"] = n
            for decided_by, n in result.lang_sources.items():
                counters[f"lang_source:{decided_by}"] = n
            for cap, n in result.trimmed.items():  # input caps (ingest.limits)
                counters[f"trimmed:{cap}"] = n
            # Packed, the records are a Sequence, not a list: the committers only store them.
            records = cast(list[Any], result.records)
            await self.committer.submit(
                records, counters, item.position, item.read_at, result.trends
            )
            self._account(item, result)
            if result.users and self.settings.clusters.enabled:
                # Bios are best effort and must never hold up the batches: when Redis is
                # slow or away they are dropped (the user's next post brings its bio again).
                try:
                    self._users.put_nowait(result.users)
                except asyncio.QueueFull:
                    self.metrics.users_dropped += len(result.users)
            # --- Bluesky: authors to look up, accounts gone (never waits) ---
            if self.enricher is not None and (result.authors or result.gone):
                self.enricher.offer(result.authors, result.gone)

    async def _result(self, item: _InFlight) -> PackedBatch:
        """A batch's result. If the pool broke (a worker died), the first batch to notice
        restarts it; every batch that was in the dead pool is submitted again."""
        for _attempt in range(3):
            try:
                return await item.future
            except BrokenProcessPool:
                if item.pool is self._pool:
                    self.metrics.pool_restarts += 1
                    log.error("pool_broken", lines=item.lines, action="restarting pool")
                    self._restart_pool()
                item.pool, item.future = self._run_in_pool(item.parts, item.author_bios)
        # The batch itself keeps killing workers: count it as bad input, don't loop forever.
        log.error("batch_dropped_after_worker_crashes", lines=item.lines)
        crashed = {"worker_crash": item.lines}
        return PackedBatch(PackedRecords(b"[]", 0), crashed, [], PackedUsers(b"[]", 0), {})

    def _restart_pool(self) -> None:
        old = self._pool
        self._pool = self._new_pool()
        if old is not None:
            old.shutdown(wait=False, cancel_futures=True)

    def _committed(self, entry: Entry, duplicates: int, read_at: float | None) -> None:
        m = self.metrics
        m.committed_batches += 1
        if self.analyst is not None:
            self.analyst.data_arrived.set()  # the first maps need not wait a whole interval
        m.stored += entry.counters.get("accepted", 0) - duplicates
        if duplicates:  # the store's rule, on this process's own counts
            for name, change in count_duplicates({}, duplicates).items():
                if name == "accepted":
                    m.accepted += change
                else:
                    m.skipped[name.removeprefix("skipped:")] += change
        if read_at is not None:
            lag = time.monotonic() - read_at
            m.lag_last = lag
            m.last_commit_at = time.monotonic()
            m.lag_max = max(m.lag_max, lag)
            lines = entry.counters.get("lines", 0)
            m.latency.observe(lag, lines)
            m.latency_interval.observe(lag, lines)

    async def _drain_users(self, timeout: float) -> None:
        """At a stop, the bios already queued go to Redis before the task that writes them is
        cancelled: a replay that ends must not lose the last batches' users (it did, now and
        then, when the stop came before the task's turn)."""
        try:
            async with asyncio.timeout(timeout):
                await self._users.join()
        except TimeoutError:
            left = sum(len(users) for users in getattr(self._users, "_queue", ()))
            self.metrics.users_dropped += left
            log.error("stopped_with_user_backlog", users=left)

    async def _remember_users(self) -> None:
        """Bios feed the clustering: a failure here is logged and never retried."""
        while True:
            users = await self._users.get()
            try:
                await self.store.update_users(users, time.time())
            except (RedisError, OSError) as exc:
                self._bad_input_log.warning("users", "user_update_failed", error=str(exc))
            finally:
                self._users.task_done()
            raise_if_cancelling()  # or the stop would wait on this task forever

    def _account(self, item: _InFlight, result: PackedBatch) -> None:
        m = self.metrics
        m.batches += 1
        m.lines_done += item.lines
        m.accepted += len(result.records)
        m.skipped.update(result.skipped)
        m.trimmed.update(result.trimmed)
        m.located.update(result.located)  # (lang, geo source) -> posts located
        if result.trends:  # trends: posts the pool left out of the counts
            late, undated = dropped_in_batch(result.trends)
            m.trend_dropped.update({"late": late, "undated": undated})
        for reason, detail in result.samples:
            self._bad_input_log.warning(reason, "bad_input", reason=reason, detail=detail)

    # --- periodic jobs ------------------------------------------------------------------

    _last_report: tuple[float, int, int] | None = None

    def _stream_stats(self) -> dict[str, Any]:
        stats = getattr(self.source, "stats", None)
        as_dict = getattr(stats, "as_dict", None)
        return dict(as_dict()) if callable(as_dict) else {}

    async def report(self, final: bool = False) -> None:
        now = time.monotonic()
        m = self.metrics
        last = self._last_report or (now - self.settings.status_interval, 0, 0)
        span = max(now - last[0], 1e-9)
        rate_in = (m.lines_read - last[1]) / span
        rate_out = (m.lines_done - last[2]) / span
        self._last_report = (now, m.lines_read, m.lines_done)
        m.rate_in, m.rate_out = rate_in, rate_out
        depths = self.queue_depths()
        memory: dict[str, Any] = {}
        with contextlib.suppress(RedisError, OSError):
            memory = await self.store.memory()
        fields = {
            "in_per_s": round(rate_in, 1),
            "out_per_s": round(rate_out, 1),
            "read": m.lines_read,
            "accepted": m.accepted,
            "skipped": sum(m.skipped.values()),
            **depths,
            "pool": "ok" if self._pool is not None else "down",
            "pool_restarts": m.pool_restarts,
            "redis": "down" if self.committer.redis_down_since is not None else "ok",
            "backlog_batches": self.committer.backlog,
            "redis_memory": memory.get("used_memory_human", "?"),
            "lag_s": round(m.lag_last, 3),
            "lag_max_s": round(m.lag_max, 3),
        }
        if self.enricher is not None:  # Bluesky profile enrichment's counters
            fields.update(self.enricher.stats.status_fields())
        window = m.latency if final else m.latency_interval
        for q, name in ((0.5, "lat_p50_s"), (0.99, "lat_p99_s")):
            value = window.quantile(q)
            fields[name] = round(value, 3) if value is not None else None
        m.latency_interval.reset()
        if self.recorder is not None:
            fields["recorded"] = self.recorder.lines
        stream = self._stream_stats()
        if stream:
            fields.update(
                stream_state=stream.get("state"),
                stream_connects=stream.get("connects"),
                stream_disconnects=stream.get("disconnects"),  # the total; by reason in status
                stream_stalls=stream.get("stalls"),
                stream_bytes=stream.get("bytes"),
                stream_messages=stream.get("messages"),
            )
        m.lag_max = 0.0
        log.info("final_status" if final else "status", **fields)
        heartbeat = {
            "pid": os.getpid(),
            "source": self.source.name,
            "started_at": round(self.started_at, 3),
            "updated_at": round(time.time(), 3),
            "state": "stopped" if final else "running",
            **fields,
        }
        if stream:
            heartbeat["stream"] = orjson.dumps(stream).decode()
        with contextlib.suppress(RedisError, OSError):
            await self.store.set_heartbeat(heartbeat, self.committer.instance)
