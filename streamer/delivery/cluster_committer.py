"""Exactly-once commits to a Redis Cluster: one chain of batches per (instance, language) slot.

On one Redis a batch is one atomic script (`streamer.storage.lua.COMMIT`). A cluster
cannot run one script over keys in many slots, so a batch is cut in parts that each live in one
slot:

- a language part per language in the batch: its posts' hashtags, points, totals and de-dup
  keys, all tagged `{lang}`, plus the (instance, language) checkpoint `checkpoint:<instance>:
  {lang}`. The part of batch `seq` applies only if that checkpoint holds the previous batch of
  this instance that touched the language (the chain head the committer tracks), and moves it
  to `seq` in the same step. So each language part lands once or not at all;
- then the instance part, tagged `{<instance>}`: the pipeline counters and the source position
  of the last fully committed batch, in `checkpoint:{<instance>}`, chained on every batch.

The guarantee is therefore per slot: a reader may see batch `seq` in one language before it
shows in another (a few milliseconds), never twice, and a crash between the parts is finished
by the next run (parts already applied answer "already applied"). A failover that promotes a
replica which missed the last acknowledged writes shows as a checkpoint behind the chain head:
on the next commit of that language (a GAP answer) or at the check every 2 s, whichever comes
first, the language's missing parts are sent again from the journal, in order. `languages` and
`instances` are sets updated outside the scripts (idempotent; re-added at every check).

`ClusterCommitter` is a `Committer` (same journal, recovery, submit, drain, counters and
commit loop) that replaces only the commit step (`_apply`: the parts above, through
`Store.commit_language_part` and `Store.commit_instance_part`) and the check of Redis;
`make_committer` picks it for a RedisCluster client.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import OrderedDict, defaultdict, deque
from collections.abc import Sequence
from typing import Any

from redis.exceptions import RedisClusterException

from streamer.core.logs import get_logger
from streamer.core.records import Detected
from streamer.core.trend_packing import dropped_in_batch, language_part
from streamer.delivery.committer import IDLE_CHECK_SECONDS, MEMORY_BATCHES, Committer, Recovery
from streamer.delivery.journal import Entry
from streamer.storage.errors import retry_can_fix
from streamer.storage.store import APPLIED, GAP, CommitResult

log = get_logger("streamer.cluster_commits")

# Acknowledged batches stay in the journal at least this long on a cluster: a failover takes
# cluster-node-timeout (15 s by default) plus an election before the promoted replica answers,
# and what it missed must still be on disk then (the single-Redis default is 10 s).
CLUSTER_KEEP_SECONDS = 60.0

# How many batches' languages and duplicate counts are remembered, to re-send a language's
# parts after a failover and to count the parts lost for good. Far more than a journal holds.
INDEX_BATCHES = 20_000


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: Redis or a node unreachable, a failover in progress, slots moving. Not
    a key-routing bug (keys of one script in two slots), which no retry fixes."""
    if isinstance(exc, RedisClusterException):
        return "same" not in str(exc) or "slot" not in str(exc)
    if isinstance(exc, AttributeError) and _raised_in_redis_py(exc):
        # redis-py 8.1's cluster client can hand a task a connection that a concurrent
        # (re)initialisation just closed ("'NoneType' object has no attribute 'writelines'"):
        # the command never reached Redis, so it is safe to send again.
        return True
    return retry_can_fix(exc)  # a refused command (script error, WRONGTYPE) is not an outage


def _raised_in_redis_py(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and f"{os.sep}redis{os.sep}" in tb.tb_frame.f_code.co_filename


def split_by_language(records: Sequence[Detected]) -> dict[str, list[Detected]]:
    """A batch's records per language, each in read order."""
    parts: dict[str, list[Detected]] = defaultdict(list)
    for rec in records:
        parts[rec.lang].append(rec)
    return parts


def languages_of(entry: Entry) -> tuple[str, ...]:
    """The languages a batch touched, sorted."""
    return tuple(sorted({rec.lang for rec in entry.records}))


class ClusterCommitter(Committer):
    min_keep_seconds = CLUSTER_KEEP_SECONDS  # outlives a failover

    def _prepare(self) -> None:
        self.heads: dict[str, int] = {}  # language -> newest seq whose part Redis holds
        self._langs: OrderedDict[int, tuple[str, ...]] = OrderedDict()  # seq -> languages
        self._by_lang: dict[str, deque[int]] = defaultdict(deque)  # language -> its seqs
        self._dups: dict[int, int] = {}  # seq -> duplicates its language parts found
        self._recent: OrderedDict[int, Entry] = OrderedDict()  # committed, for re-sends
        self._in_languages: set[str] = set()  # added to the `languages` set by this run
        self._last_check = 0.0
        self._check_wanted = False  # drain() asks the committing task for a last check
        self.checks = 0  # completed checks of every chain against Redis

    # --- start-up -----------------------------------------------------------------------

    async def recover(self) -> Recovery:
        # Learn the slot map before the language parts go out side by side.
        await self.store.learn_slots()
        recovery = await super().recover()
        # Which languages each batch on disk touched: a language whose checkpoint is behind
        # one of them lost that part (a failover before this start), and gets it again.
        for seq, langs in await asyncio.to_thread(self._index_journal):
            self._remember(seq, langs)
        await self.store.add_instance(self.instance)
        return recovery

    def _index_journal(self) -> list[tuple[int, tuple[str, ...]]]:
        return [(e.seq, languages_of(e)) for e in self.journal.after(0)]

    def _remember(self, seq: int, langs: tuple[str, ...]) -> None:
        """Index a batch's languages; batches come in ascending order, and only the oldest
        committed ones are forgotten."""
        if seq in self._langs or (self._langs and seq < next(reversed(self._langs))):
            return
        self._langs[seq] = langs
        for lang in langs:
            self._by_lang[lang].append(seq)
        while len(self._langs) > INDEX_BATCHES:
            old = next(iter(self._langs))
            if old > self.committed:
                break
            for lang in self._langs.pop(old):
                self._by_lang[lang].popleft()
            self._dups.pop(old, None)

    def _touching(self, lang: str, after: int, upto: int) -> list[int]:
        """The batches numbered after `after` up to `upto` that touched `lang`, in order."""
        found = []
        for seq in reversed(self._by_lang.get(lang, ())):
            if seq <= after:
                break
            if seq <= upto:
                found.append(seq)
        return found[::-1]

    # --- the writer's side --------------------------------------------------------------

    async def submit(
        self,
        records: list[Any],
        counters: dict[str, int],
        position: Any,
        read_at: float,
        trends: bytes = b"",
    ) -> Entry:
        if trends:  # trends: the batch's own late and undated posts go with its counters
            late, undated = dropped_in_batch(trends)
            counters = {**counters, "trend_late": late, "trend_undated": undated}
        entry = await super().submit(records, counters, position, read_at, trends)
        self._remember(entry.seq, languages_of(entry))
        return entry

    # --- the committing task ------------------------------------------------------------

    def _transient(self, exc: BaseException) -> bool:
        return is_transient(exc)

    async def _after_commit(self) -> None:
        # Busy or not, every chain is checked every 2 s: a language part lost in a failover
        # shows nowhere else until that language comes again.
        if time.monotonic() - self._last_check >= IDLE_CHECK_SECONDS:
            await self._check_redis_kept_it()

    async def _after_round(self) -> None:
        if self._check_wanted:
            self._check_wanted = False
            await self._check_redis_kept_it()

    async def drain(self, timeout: float) -> bool:
        """As Committer.drain, then one last check of every chain: a failover during the run
        may have dropped parts of a language nothing touched since."""
        started = time.monotonic()
        if not await super().drain(timeout):
            return False
        checks = self.checks
        self._check_wanted = True
        self._wake()
        left = max(0.0, timeout - (time.monotonic() - started))
        if not await self._wait_until(
            lambda: self.checks != checks and self.committed >= self.next_seq - 1, left
        ):
            log.error("stopped_unchecked", batches=self.backlog, kept_in="journal")
            return False
        return True

    async def _apply(self, entry: Entry, prev: int | None) -> CommitResult:
        """The language parts side by side, each after any earlier part of its chain that Redis
        lost; then the instance part, chained on `prev` (see `Committer._apply`), with the
        counters less the duplicates the language parts found. A GAP of the instance chain is
        mended here too (`_commit_instance`), so the answer is never GAP."""
        self._remember(entry.seq, languages_of(entry))  # a placeholder for lost batches
        parts = split_by_language(entry.records)
        found = await asyncio.gather(
            *(self._commit_language(lang, entry, parts[lang]) for lang in sorted(parts))
        )
        dups = sum(found)
        if dups:
            self._dups[entry.seq] = dups
        result = await self._commit_instance(entry, entry.seq - 1 if prev is None else prev)
        self._recent[entry.seq] = entry  # for re-sends after a failover
        while len(self._recent) > MEMORY_BATCHES:
            self._recent.popitem(last=False)
        return CommitResult(result.status, result.committed, dups)

    # --- language parts -----------------------------------------------------------------

    async def _head(self, lang: str) -> int:
        """The language's chain head: tracked, or read from Redis the first time this run."""
        if lang not in self.heads:
            head = await self._call(lambda: self.store.language_chain_head(self.instance, lang))
            self.heads.setdefault(lang, head)
        if lang not in self._in_languages:
            await self._call(lambda: self.store.add_language(lang))
            self._in_languages.add(lang)
        return self.heads[lang]

    async def _commit_language(self, lang: str, entry: Entry, records: list[Detected]) -> int:
        """Apply the language's part of `entry` once, after re-sending any earlier part of the
        chain Redis lost. Returns the part's duplicates."""
        head = await self._head(lang)
        if head < entry.seq:
            await self._catch_up(lang, head, entry.seq - 1)
        while True:
            result = await self._send_part(lang, entry, records, self.heads[lang])
            if result.status == GAP:
                log.warning(
                    "redis_lost_batches",
                    language=lang,
                    redis_has=result.committed,
                    we_had=self.heads[lang],
                )
                await self._catch_up(lang, result.committed, entry.seq - 1)
                continue
            if result.status == APPLIED:
                self.heads[lang] = entry.seq
            else:  # ALREADY_APPLIED: this or a later part is there (an earlier run sent it)
                self.heads[lang] = max(self.heads[lang], result.committed)
                if result.committed != entry.seq:
                    return 0  # the later part's count is not this one's
            return result.duplicates

    async def _catch_up(self, lang: str, redis_has: int, upto: int) -> None:
        """Send again, in order, the language's parts of the batches after `redis_has` up to
        `upto` that touched it: Redis lost them (or never got them, for a crash between a
        batch's parts). Parts the journal no longer holds are lost: counted and logged."""
        self.heads[lang] = redis_has
        for seq in self._touching(lang, redis_has, upto):
            entry = await self._entry(seq)
            if entry is None:
                self.lost += 1
                log.error("batches_lost", language=lang, first=seq, last=seq)
                continue
            part = split_by_language(entry.records).get(lang, [])
            result = await self._send_part(lang, entry, part, self.heads[lang])
            if result.status == GAP:  # Redis moved again (another failover): start over
                await self._catch_up(lang, result.committed, upto)
                return
            self.heads[lang] = max(self.heads[lang], result.committed)
            self.resent += 1

    async def _send_part(
        self, lang: str, entry: Entry, records: list[Detected], prev: int
    ) -> CommitResult:
        return await self._call(
            lambda: self.store.commit_language_part(
                self.instance,
                lang,
                entry.seq,
                prev,
                records,
                dedupe=self.dedupe,
                now=time.time(),
                trends=language_part(entry.trends, lang),
            )
        )

    # --- instance parts -----------------------------------------------------------------

    async def _commit_instance(self, entry: Entry, prev: int) -> CommitResult:
        while True:
            result = await self._send_instance(entry, prev)
            if result.status != GAP:
                return result
            log.warning("redis_lost_batches", instance=self.instance, redis_has=result.committed)
            prev = await self._catch_up_instance(result.committed, entry.seq - 1)

    async def _catch_up_instance(self, redis_has: int, upto: int) -> int:
        """Send again the instance parts (counters, position) after `redis_has` up to `upto`;
        returns the chain's new head. The instance chain has every batch: one the journal no
        longer holds is lost."""
        prev = redis_has
        for seq in range(redis_has + 1, upto + 1):
            entry = await self._entry(seq)
            if entry is None:
                self.lost += 1
                log.error("batches_lost", instance=self.instance, first=seq, last=seq)
                if seq < upto:
                    continue
                entry = self._placeholder(seq)  # move the checkpoint on
            result = await self._send_instance(entry, prev)
            if result.status == GAP:
                return await self._catch_up_instance(result.committed, upto)
            prev = max(prev, result.committed)
            self.resent += 1
        return prev

    async def _send_instance(self, entry: Entry, prev: int) -> CommitResult:
        return await self._call(
            lambda: self.store.commit_instance_part(
                self.instance,
                entry.seq,
                prev,
                entry.counters,
                entry.position,
                duplicates=self._dups.get(entry.seq, 0),
                now=time.time(),
            )
        )

    # --- shared -------------------------------------------------------------------------

    async def _entry(self, seq: int) -> Entry | None:
        """Batch `seq` for a re-send: from memory, else from the journal; None if gone."""
        entry = self._recent.get(seq) or self._waiting(seq)
        if entry is None:
            entry = await asyncio.to_thread(self._read_back, seq)
        return entry if entry is not None and entry.seq == seq else None

    async def _check_redis_kept_it(self) -> None:
        """Every 2 s: do the checkpoints still hold the chain heads? A promoted replica may
        have missed the last writes of a language nothing has touched since (or, at start-up,
        of a language in the journal that this run has not touched yet); send them again.
        Also re-add this run's languages and instance to their sets (idempotent)."""
        self._last_check = time.monotonic()
        expected = dict(self.heads)
        for lang, seqs in self._by_lang.items():
            if lang not in expected:
                # The newest batch that touched it and that the instance counts as committed.
                done = next((seq for seq in reversed(seqs) if seq <= self.committed), None)
                if done is not None:
                    expected[lang] = done
        if self.committed == 0 and not expected:
            self._checked()
            return
        langs = sorted(expected)
        try:
            instance_has, lang_heads = await self.store.chain_heads(
                self.instance, langs, re_add=sorted(self._in_languages)
            )
        except Exception as exc:
            if self._transient(exc):
                return  # Redis is away: the next check (or commit) finds out
            raise
        for lang, redis_has in zip(langs, lang_heads, strict=True):
            if redis_has < expected[lang]:
                log.warning(
                    "redis_lost_batches", language=lang, redis_has=redis_has, we_had=expected[lang]
                )
                await self._head(lang)  # into `languages` too, in case that was lost with it
                await self._catch_up(lang, redis_has, expected[lang])
            elif lang not in self.heads:
                self.heads[lang] = redis_has
        if instance_has < self.committed:
            log.warning(
                "redis_lost_batches",
                instance=self.instance,
                redis_has=instance_has,
                we_had=self.committed,
            )
            await self._catch_up_instance(instance_has, self.committed)
        self._checked()

    def _checked(self) -> None:
        self.checks += 1
        self._progress()
