"""One process, several lanes: jobs of different kinds run side by side in one fresh process.

The analysis side has two kinds of jobs: map exports (a second, every interval) and cluster
refits (minutes of CPU). Queued behind each other in one process, a refit held the maps up for
minutes; in a process each, the two paid for two interpreters and two sets of imports, and
every page of those counts in each process's RSS. Here each kind of job gets a thread of its
own (a lane) inside one process: a map export runs while a refit fits, and the imports are
paid for once. Native code (numpy, scikit-learn) releases the GIL, and a map export is short.

A lane is a `concurrent.futures.Executor`, so `loop.run_in_executor(lanes.lane("maps"), job)`
works as with a process pool, and a dead process fails its jobs with BrokenProcessPool.
"""

from __future__ import annotations

import itertools
import multiprocessing
import multiprocessing.queues
import threading
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from multiprocessing.connection import wait
from typing import Any

from streamer.core.memory import fix_mmap_threshold, trim
from streamer.runtime.pools import FORKSERVER_PRELOAD


class ProcessLanes:
    """A process from the fork server that runs each lane's jobs, one at a time per lane, in a
    thread of that lane. `initializer(*initargs)` runs in the process before any job."""

    def __init__(
        self,
        lanes: Sequence[str],
        initializer: Callable[..., None] | None = None,
        initargs: tuple[Any, ...] = (),
    ) -> None:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(FORKSERVER_PRELOAD)
        self.lanes = tuple(lanes)
        # Requests go through a Queue: its feeder thread pickles them, so submitting a job with
        # large arguments never blocks the event loop. Results are pickled in the lane thread
        # that made them, so one that does not pickle fails its own job only.
        self._requests = _Requests(ctx, self._not_sent)
        self._results: Any = ctx.SimpleQueue()
        self._pending: dict[int, Future[Any]] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count()
        self._broken = False
        self._closed = False
        self._process = ctx.Process(
            target=_serve,
            args=(self._requests, self._results, self.lanes, initializer, initargs),
            name="analysis",
            daemon=True,
        )
        self._process.start()
        self._reader = threading.Thread(target=self._read_results, daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int | None:
        return self._process.pid

    @property
    def broken(self) -> bool:
        return self._broken

    def lane(self, name: str) -> Executor:
        """An Executor whose jobs run in lane `name` of this process."""
        if name not in self.lanes:
            raise ValueError(f"no lane {name!r}: {self.lanes}")
        return _Lane(self, name)

    def submit(
        self, lane: str, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> Future[Any]:
        future: Future[Any] = Future()
        job = partial(fn, *args, **kwargs) if args or kwargs else fn
        with self._lock:
            if self._broken:
                raise BrokenProcessPool("the analysis process has died")
            if self._closed:
                raise RuntimeError("cannot submit after shutdown")
            job_id = next(self._ids)
            self._pending[job_id] = future
            self._requests.put((job_id, lane, job))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """No more jobs; the process ends once its lanes have finished the jobs they were
        given (`wait`: return only then). `cancel_futures`: nobody waits for their results."""
        with self._lock:
            if not self._closed and not self._broken:
                self._requests.put(None)
            self._closed = True
            if cancel_futures:
                for future in self._pending.values():
                    future.cancel()
        if wait:
            self._process.join()
            self._reader.join()

    def kill(self) -> None:
        """End the process now (a refit can run for minutes; stopping must not wait for it).
        Its unfinished jobs fail with BrokenProcessPool."""
        with self._lock:
            self._closed = True
        if self._process.is_alive():
            self._process.kill()
        self._process.join()
        self._reader.join()

    def _not_sent(self, request: tuple[int, str, Any], error: Exception) -> None:
        """A job that does not pickle fails alone (called by the requests' feeder thread)."""
        with self._lock:
            future = self._pending.pop(request[0], None)
        if future is not None and future.set_running_or_notify_cancel():
            future.set_exception(error)

    def _read_results(self) -> None:
        results = self._results._reader  # the receiving end of the SimpleQueue's pipe
        while True:
            ready = wait([results, self._process.sentinel])
            if results in ready:  # results first: the process may have sent its last and gone
                try:
                    job_id, ok, value = self._results.get()
                except (EOFError, OSError):
                    break
                with self._lock:
                    future = self._pending.pop(job_id, None)
                if future is not None and future.set_running_or_notify_cancel():
                    if ok:
                        future.set_result(value)
                    else:
                        exc, trace = value
                        if trace:
                            exc.__cause__ = RemoteTraceback(f"\n{trace}")
                        future.set_exception(exc)
                continue
            break
        with self._lock:
            self._broken = bool(self._pending) or not self._closed
            pending, self._pending = self._pending, {}
        for future in pending.values():
            if future.set_running_or_notify_cancel():
                future.set_exception(BrokenProcessPool("the analysis process has died"))
        self._requests.cancel_join_thread()  # requests nobody will read must not hold us up


class _Requests(multiprocessing.queues.Queue):
    """A Queue that says which request its feeder thread could not pickle."""

    def __init__(self, ctx: Any, on_error: Callable[[Any, Exception], None]) -> None:
        super().__init__(ctx=ctx)
        self._on_error = on_error

    def _on_queue_feeder_error(self, e: Exception, obj: Any) -> None:
        self._on_error(obj, e)


class _Lane(Executor):
    def __init__(self, process: ProcessLanes, name: str) -> None:
        self._owner = process
        self._name = name

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return self._owner.submit(self._name, fn, *args, **kwargs)


# --- in the process ---------------------------------------------------------------------------


def _serve(
    requests: Any,
    results: Any,
    lanes: Sequence[str],
    initializer: Callable[..., None] | None,
    initargs: tuple[Any, ...],
) -> None:
    # Big jobs one after another (a refit, map exports): what one frees must not stay in this
    # process's RSS under the next one.
    fix_mmap_threshold()
    if initializer is not None:
        initializer(*initargs)
    threads = {lane: ThreadPoolExecutor(1, thread_name_prefix=f"lane-{lane}") for lane in lanes}
    while (request := requests.get()) is not None:
        job_id, lane, job = request
        threads[lane].submit(job).add_done_callback(partial(_send_back, results, job_id))
    for pool in threads.values():
        pool.shutdown(wait=True)


def _send_back(results: Any, job_id: int, done: Future[Any]) -> None:
    exc = done.exception()
    if exc is None:
        reply: tuple[int, bool, Any] = (job_id, True, done.result())
    else:
        trace = "".join(traceback.format_exception(exc))
        reply = (job_id, False, (exc, trace))
    try:
        results.put(reply)  # pickles first, then writes under the queue's lock: lanes share it
    except Exception as failed:  # a result (or an exception) that does not pickle
        error = RuntimeError(f"result not sent: {type(failed).__name__}: {failed}")
        results.put((job_id, False, (error, "")))
    del reply, done
    trim()


class RemoteTraceback(Exception):
    """Where a job failed in the analysis process (its traceback there, as the cause)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""
