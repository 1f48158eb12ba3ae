"""Exactly-once delivery of batches to Redis: journal first, then commit in sequence order.

The writer hands each detected batch to `Committer.submit`, which numbers it, puts it in the
journal on disk and returns; a separate task commits batches to Redis one at a time, in order.
So a Redis outage does not stop the reader: batches pile up in the journal (up to its bound,
then the source waits), and when Redis is back they are sent in order. Redis answers every
commit with its checkpoint; if it lost batches (a crash with `appendfsync everysec`), the
checkpoint is behind ours and the missing batches are read back from the journal.

`Committer` commits each batch with one atomic script on one Redis. It is also the template of
every committer: `_commit_next` takes the next batch, decides what it must follow, and hands it
to `_apply`, the one step a committer for another store layout replaces (`ClusterCommitter`,
which applies a batch part by part). Subclasses use only the protected hooks documented as
such below, never the attributes behind them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from redis.exceptions import RedisError

from streamer.core.logs import get_logger
from streamer.delivery.journal import Entry, Journal
from streamer.storage.errors import retry_can_fix
from streamer.storage.store import ALREADY_APPLIED, GAP, Checkpoint, CommitResult, Store

log = get_logger("streamer.commits")

T = TypeVar("T")

# Batches kept in memory between the writer and the committer; beyond this the committer
# reads them back from the journal, so an outage costs disk, not memory.
MEMORY_BATCHES = 64
IDLE_CHECK_SECONDS = 2.0  # an idle committer still checks Redis kept what it was given


class CommitRefused(RuntimeError):
    """Redis refused a commit in a way no retry fixes (a script error, WRONGTYPE, a value out
    of range): the daemon stops; the batches stay in the journal for the next start."""

    def __init__(self, error: RedisError, journaled: int) -> None:
        super().__init__(
            f"Redis refused a commit, and retrying cannot fix it: {error} "
            f"({journaled} batch(es) kept in the journal for the next start)"
        )
        self.journaled = journaled


@dataclass
class Recovery:
    """What start-up found: where the source resumes and what will be sent again."""

    position: Any
    committed: int
    to_resend: int


class Committer:
    """Journal, order, retry and recovery of batches; `_apply` puts one batch in Redis.

    The contract for subclasses (the protected hooks; everything else underscored is this
    class's own): override `_apply`, and if needed `_transient`, `_after_commit`,
    `_after_round` and `_check_redis_kept_it`; call `_call`, `_read_back`, `_waiting`,
    `_placeholder`, `_wake`, `_progress` and `_wait_until`; set up own state in `_prepare`
    and raise `min_keep_seconds` instead of overriding the constructor."""

    # Acknowledged batches stay in the journal at least this long: as long as the store may
    # take to show it lost writes it acknowledged. The journal's own setting stands if longer.
    min_keep_seconds = 0.0

    def __init__(
        self,
        store: Store,
        journal: Journal,
        instance: str,
        *,
        dedupe: bool = False,
        on_commit: Callable[[Entry, int, float | None], None] | None = None,
    ) -> None:
        self.store = store
        self.journal = journal
        self.instance = instance
        self.dedupe = dedupe
        self.on_commit = on_commit  # (entry, duplicates, read_at) after each applied batch
        self.committed = 0  # the newest batch Redis is known to hold
        self.next_seq = 1
        self.redis_down_since: float | None = None
        self.retries = 0
        self.resent = 0
        self.lost = 0
        self._cache: dict[int, tuple[Entry, float | None]] = {}
        self._work = asyncio.Event()
        self._room = asyncio.Event()
        self._last_position: Any = None
        self._fresh_base: int | None = None  # a new store: its first commit follows nothing
        self._failing = 0  # calls retrying right now; the outage ends when none is left
        self.recovered = False
        if journal.keep_seconds < self.min_keep_seconds:
            log.info(
                "journal_keep_raised",
                configured_s=journal.keep_seconds,
                keep_s=self.min_keep_seconds,
                reason="the store can lose acknowledged writes older than the configured window",
            )
            journal.keep_seconds = self.min_keep_seconds
        self._prepare()

    def _prepare(self) -> None:
        """Protected hook, the constructor's last step: a subclass sets up its own state."""

    # --- start-up -----------------------------------------------------------------------

    async def recover(self) -> Recovery:
        """Read Redis's checkpoint and the journal; decide where the source resumes."""
        checkpoint: Checkpoint | None = await self.store.checkpoint(self.instance)
        redis_has = checkpoint.seq if checkpoint else None
        await asyncio.to_thread(self.journal.open, None, redis_has)
        self.committed = checkpoint.seq if checkpoint else 0
        if checkpoint is None and self.journal.last_seq:
            # A store with no checkpoint is a new (or deliberately emptied) one, not a crashed
            # one: only batches it never acknowledged are sent to it, the rest is history.
            self.journal.forget_acked()
            self.committed = self._fresh_base = (
                self.journal.oldest_seq or self.journal.last_seq + 1
            ) - 1
        self.next_seq = max(self.committed, self.journal.last_seq) + 1
        if self.journal.last_seq > self.committed:
            position = self.journal.last_position
        else:
            position = checkpoint.position if checkpoint else None
        self._last_position = position
        self.recovered = True
        self._work.set()
        return Recovery(position, self.committed, self.journal.count_after(self.committed))

    # --- the writer's side --------------------------------------------------------------

    async def submit(
        self,
        records: list[Any],
        counters: dict[str, int],
        position: Any,
        read_at: float,
        trends: bytes = b"",
    ) -> Entry:
        """Journal a batch and queue it for Redis; waits while the journal is full. `trends`:
        the batch's packed trend counts, applied in the batch's own commit."""
        while self.journal.full:
            self._room.clear()
            await self._room.wait()
        entry = Entry(self.next_seq, position, counters, records, trends)
        self.next_seq += 1
        if position is not None:
            self._last_position = position
        self.journal.append(entry)
        if len(self._cache) < MEMORY_BATCHES:
            self._cache[entry.seq] = (entry, read_at)
        self._work.set()
        return entry

    async def drain(self, timeout: float) -> bool:
        """Wait until every submitted batch is in Redis, for at most `timeout` seconds (the
        daemon is stopping). False: Redis is still away; the journal keeps the rest for the
        next start."""
        self._wake()
        if not await self._wait_until(lambda: self.committed >= self.next_seq - 1, timeout):
            log.error("stopped_with_backlog", batches=self.backlog, kept_in="journal")
            return False
        return True

    # --- protected hooks: waking the committing task and waiting for it -------------------

    def _wake(self) -> None:
        """Have the committing task look for work now (and run `_after_round` after it)."""
        self._work.set()

    def _progress(self) -> None:
        """Something `_wait_until` waits on may have changed: have it look again. Called after
        every committed batch; a subclass calls it when its own progress happens."""
        self._room.set()

    async def _wait_until(self, done: Callable[[], bool], timeout: float) -> bool:
        """Wait until `done()` holds, checked at every `_progress`, for at most `timeout`
        seconds; False if it still does not."""
        try:
            async with asyncio.timeout(timeout):
                while not done():
                    self._room.clear()
                    await self._room.wait()
        except TimeoutError:
            return False
        return True

    # --- the committing task ------------------------------------------------------------

    async def run(self) -> None:
        while True:
            try:
                async with asyncio.timeout(IDLE_CHECK_SECONDS):
                    await self._work.wait()
            except TimeoutError:
                await self._check_redis_kept_it()
                continue
            self._work.clear()
            while self.committed < self.next_seq - 1:
                await self._commit_next()
                await self._after_commit()
            await self._after_round()

    async def _after_commit(self) -> None:
        """Between two commits of a busy round (a subclass may check Redis here)."""

    async def _after_round(self) -> None:
        """When every submitted batch is committed."""

    async def _take(self, seq: int) -> tuple[Entry | None, float | None]:
        """Batch `seq` and when it was read: from memory, else the journal (which answers with
        the oldest batch after `seq` when `seq` itself is gone; read_at is then unknown)."""
        cached = self._cache.pop(seq, None)
        if cached is not None:
            return cached
        return await asyncio.to_thread(self._read_back, seq), None

    def _past_lost(self, seq: int, entry: Entry | None) -> Entry:
        """Redis is missing batches the journal no longer has: they are lost. Say so, loudly,
        and return the batch that moves the checkpoint past them (an empty one when nothing is
        left)."""
        if entry is None:
            entry = self._placeholder(self.next_seq - 1)
            last = entry.seq
        else:
            last = entry.seq - 1
        self.lost += last - seq + 1
        log.error("batches_lost", first=seq, last=last, committed=self.committed)
        return entry

    async def _commit_next(self) -> None:
        """Commit the batch after `committed`, whichever way `_apply` does it, and account for
        the answer. The one copy of this logic: every committer runs it."""
        seq = self.committed + 1
        entry, read_at = await self._take(seq)
        prev: int | None = None
        if self._fresh_base is not None and entry is not None:
            prev, self._fresh_base = 0, None  # a new store: the first batch follows nothing
        if prev is None and (entry is None or entry.seq != seq):
            entry = self._past_lost(seq, entry)
            prev = self.committed
        assert entry is not None
        result = await self._apply(entry, prev)
        if result.status == GAP:
            log.warning(
                "redis_lost_batches",
                redis_has=result.committed,
                we_had=self.committed,
                resending=self.next_seq - 1 - result.committed,
            )
            self._cache.setdefault(entry.seq, (entry, read_at))
            self.resent += max(0, self.committed - result.committed)
            self.committed = result.committed
            return
        if result.status == ALREADY_APPLIED and result.committed > self.committed:
            self.committed = result.committed  # an earlier run's batches Redis already holds
        else:
            self.committed = max(self.committed, entry.seq)
            if self.on_commit is not None:
                self.on_commit(entry, result.duplicates, read_at)
        self.journal.ack(self.committed)
        self._progress()

    # --- protected hooks: the commit step and what it may use ---------------------------

    async def _apply(self, entry: Entry, prev: int | None) -> CommitResult:
        """Put `entry` in Redis once, retrying while Redis is away (`_call`).

        `prev` is the batch the store's checkpoint must hold for `entry` to apply: None for
        `entry.seq - 1` (the usual case), else the batch before a run of lost ones, or 0 for
        a new store. The answer: APPLIED (with the duplicates found), ALREADY_APPLIED (with
        the checkpoint, which may be past `entry`), or GAP (with the checkpoint, behind
        `prev`: Redis lost batches, which `_commit_next` then sends again in order)."""
        return await self._call(
            lambda: self.store.commit_batch(
                self.instance,
                entry.seq,
                entry.records,
                entry.counters,
                entry.position,
                dedupe=self.dedupe,
                expected=prev,
                now=time.time(),
                trends=entry.trends,
            )
        )

    def _read_back(self, seq: int) -> Entry | None:
        """The batch numbered `seq` from the journal, or the oldest one after it (blocking:
        run it in a thread)."""
        return next(self.journal.after(seq - 1), None)

    def _waiting(self, seq: int) -> Entry | None:
        """Batch `seq` if it is in memory waiting for its commit (it stays there)."""
        cached = self._cache.get(seq)
        return cached[0] if cached is not None else None

    def _placeholder(self, seq: int) -> Entry:
        """An empty batch numbered `seq` at the newest source position: it moves a checkpoint
        past batches that are lost for good."""
        return Entry(seq, self._last_position, {}, [])

    def _transient(self, exc: BaseException) -> bool:
        """Worth retrying: Redis unreachable or failing, not a bug of ours."""
        return retry_can_fix(exc)

    async def _call(self, command: Callable[[], Awaitable[T]]) -> T:
        """Run a Redis command until it answers: retry with backoff while Redis is away
        (batches wait in the journal meanwhile). The outage is logged once, when the first call
        starts failing, and its end when no call (several may run at once) fails any more."""
        delay = 0.1
        failed = False
        try:
            while True:
                try:
                    result = await command()
                except Exception as exc:
                    if not self._transient(exc):
                        if isinstance(exc, RedisError):  # hostile-settings: one clear line
                            raise CommitRefused(exc, self.backlog) from exc
                        raise
                    self.retries += 1
                    if not failed:
                        failed = True
                        self._failing += 1
                    if self.redis_down_since is None:
                        self.redis_down_since = time.monotonic()
                        log.error("redis_unavailable", error=str(exc), journaled=self.backlog)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 2.0)
                    continue
                if failed:
                    failed = False
                    self._failing -= 1
                    if self._failing == 0 and self.redis_down_since is not None:
                        outage = time.monotonic() - self.redis_down_since
                        self.redis_down_since = None
                        log.info("redis_back", outage_s=round(outage, 1), backlog=self.backlog)
                return result
        finally:
            if failed:  # cancelled while retrying
                self._failing -= 1

    async def _check_redis_kept_it(self) -> None:
        """With nothing to send, make sure a restarted Redis did not lose the last batches."""
        if self.committed == 0:
            return
        try:
            checkpoint = await self.store.checkpoint(self.instance)
        except (RedisError, OSError):
            return
        held = checkpoint.seq if checkpoint else 0
        if held < self.committed:
            log.warning("redis_lost_batches", redis_has=held, we_had=self.committed)
            self.resent += self.committed - held
            self.committed = held
            self._work.set()

    @property
    def backlog(self) -> int:
        """Batches journaled but not yet in Redis."""
        return self.next_seq - 1 - self.committed
