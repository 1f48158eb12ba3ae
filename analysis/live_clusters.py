"""The daemon's side of bio clustering: refit and assign, inside the analysis process.

The fitted model stays in this process between calls (it can weigh tens of MB), so the event
loop only ever ships user lists in and small summaries out. If the process is replaced, new
users wait for the next refit to get a cluster.

The window (up to `max_users` bios, tens of MB as Python objects) travels in parts of PART_SIZE
users, each read from Redis and shipped before the next is read, and the assignments come back
the same way: the daemon's main process never holds the whole window, only this one does.

What keeps cluster ids stable from refit to refit (each cluster's centroid terms and size
history, bounded by the number of clusters) is a small JSON file, IDENTITIES_NAME, in the state
directory (the data dir when the caller gives one, else next to the report): it survives a
restart of the daemon, and a lost or unreadable file only means fresh ids.
"""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from streamer.config import ClustersSettings
from streamer.storage.store import Store

if TYPE_CHECKING:
    # scikit-learn and hdbscan load only in the process that fits: the daemon's main process
    # imports this module for `refit_window`, and a second of import there stalls ingest.
    from analysis.clustering import BioClusterModel, ClusterSettings

_model: BioClusterModel | None = None
# One refit's users as they arrive, and its assignments until they are fetched: calls of one
# refit follow each other in this process (the analyst runs one refit at a time).
_incoming: list[UserRow] = []
_outgoing: list[tuple[str, tuple[int, int]]] = []
PART_SIZE = 5000
IDENTITIES_NAME = "cluster_identities.json"
UserRow = tuple[str, str] | tuple[str, str, str | None]  # (user id, bio[, language])
# (bios, their posts' languages) -> the bios' own languages, or None when it cannot answer
LabelBios = Callable[[list[str], list[str | None]], Awaitable[list[str | None] | None]]


@dataclass(frozen=True)
class RefitOutcome:
    users: int
    skipped: str | None = None  # why no model was fitted
    report: dict[str, Any] = field(default_factory=dict)  # the documented JSON report
    assignments: dict[str, tuple[int, int]] = field(default_factory=dict)
    seconds: float = 0.0


def model_settings(settings: ClustersSettings) -> ClusterSettings:
    from analysis.clustering import ClusterSettings

    return ClusterSettings(
        k_min=settings.k_min,
        k_max=settings.k_max,
        min_cluster_size=settings.min_cluster_size,
        min_users=settings.min_users,
        seed=settings.seed,
        min_users_per_language=settings.min_users_per_language,
        k_limit=settings.k_limit,
        history=settings.history,
        match_similarity=settings.match_similarity,
    )


def refit(
    users: Sequence[UserRow],
    settings: ClustersSettings,
    out_dir: Path,
    refresh: int = 0,
    state_dir: Path | None = None,
    labelled: bool = False,
) -> RefitOutcome:
    """Fit on the user window, write out/clusters/, keep the model for `assign_new`; cluster
    ids carry over from the previous refit through `state_dir` (default: out/clusters/).
    labelled: the users' languages are their bios' own already (see `fit_clusters`).

    The previous model is dropped first, so the fit does not stack on it (tens of MB at the
    refit's peak): until this refit ends (and after one that is skipped or fails) newcomers
    get no cluster, as before the first refit; the analyst assigns none during a refit."""
    from analysis.cluster_report import CLUSTERS_DIR, write_cluster_report
    from analysis.clustering import SkipReason, fit_clusters

    global _model
    _model = None
    gc.collect()  # the fitted estimators hold reference cycles: free them before the fit
    state = Path(state_dir if state_dir is not None else Path(out_dir) / CLUSTERS_DIR)
    result = fit_clusters(
        users, model_settings(settings), previous=read_identities(state), labelled=labelled
    )
    if isinstance(result, SkipReason):
        return RefitOutcome(users=result.users, skipped=result.reason)
    write_cluster_report(out_dir, result, refresh_seconds=refresh)
    write_identities(state, result.identities)
    _model = result.model
    return RefitOutcome(
        users=result.users,
        report=result.to_json_dict(),
        assignments=dict(result.assignments),
        seconds=result.seconds,
    )


def prepare() -> None:
    """What a refit needs before it gets its window: scikit-learn imported and the bio
    tokenizer's word tables built. Built during a refit, the tables (and twice their size while
    they are made) stacked on the window and the fit at the analysis process's peak."""
    import analysis.clustering  # noqa: F401
    from analysis.bios import load_word_tables

    load_word_tables()


def read_identities(state_dir: Path) -> dict[str, Any] | None:
    """The previous refit's cluster identities, or None (no file, or one that is unreadable)."""
    try:
        data = json.loads((state_dir / IDENTITIES_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_identities(state_dir: Path, identities: dict[str, Any]) -> Path:
    from analysis.heatmaps import write_atomically

    state_dir.mkdir(parents=True, exist_ok=True)
    return write_atomically(state_dir / IDENTITIES_NAME, json.dumps(identities, ensure_ascii=False))


def assign_new(users: Sequence[UserRow], labelled: bool = False) -> dict[str, tuple[int, int]]:
    """Clusters for users seen since the last refit (with their language, when known, so they
    join their language's model; `labelled`: their bios' own); empty before the first one."""
    if _model is None or not users:
        return {}
    from analysis.clustering import assign

    languages = [row[2] if len(row) > 2 else None for row in users]
    labels = assign(_model, [row[1] for row in users], languages, labelled=labelled)
    return {row[0]: label for row, label in zip(users, labels, strict=True)}


def receive_users(rows: Sequence[UserRow], first: bool, labelled: bool = False) -> int:
    """Keep a part of the window for `refit_received` (`first`: a new refit begins). Rows not
    `labelled` with their bios' own languages are labelled here (analysis.bios.bio_languages),
    so that every kept row is."""
    if first:
        _incoming.clear()
        _outgoing.clear()
    if not labelled:
        from analysis.bios import bio_languages

        own = bio_languages([row[1] for row in rows], [_language(row) for row in rows])
        rows = [(row[0], row[1], lang) for row, lang in zip(rows, own, strict=True)]
    _incoming.extend(rows)
    return len(_incoming)


def _language(row: UserRow) -> str | None:
    return row[2] if len(row) > 2 else None


def refit_received(
    settings: ClustersSettings,
    out_dir: Path,
    refresh: int = 0,
    state_dir: Path | None = None,
) -> RefitOutcome:
    """`refit` on the users `receive_users` kept; the assignments stay here for
    `take_assignments` (the outcome carries none)."""
    users = list(_incoming)
    _incoming.clear()
    outcome = refit(users, settings, out_dir, refresh, state_dir, labelled=True)
    del users
    _outgoing[:] = outcome.assignments.items()
    return RefitOutcome(outcome.users, outcome.skipped, outcome.report, {}, outcome.seconds)


def take_assignments(count: int) -> dict[str, tuple[int, int]]:
    """Up to `count` of the last refit's assignments, each given once."""
    part = dict(_outgoing[-count:])
    del _outgoing[-count:]
    return part


async def label_rows(rows: list[UserRow], label: LabelBios | None) -> tuple[list[UserRow], bool]:
    """The rows with their bios' own languages from `label` (the daemon's ingest workers) and
    True, or the rows as they are and False when there is no `label` or it cannot answer."""
    if label is None or not rows:
        return rows, False
    own = await label([row[1] for row in rows], [_language(row) for row in rows])
    if own is None:
        return rows, False
    return [(row[0], row[1], lang) for row, lang in zip(rows, own, strict=True)], True


async def assign_newcomers(
    store: Store,
    since: float,
    run: Callable[[Callable[[], Any]], Awaitable[Any]],
    label: LabelBios | None = None,
) -> None:
    """Clusters from the current model (`assign_new`, run by `run` in the clustering process)
    for the users seen since `since`, labelled as a refit's window is. In parts, as that window
    travels: a busy stream's newcomers since the last refit can be tens of thousands, and the
    event loop's process need not hold them all at once."""
    async for part in store.user_bios_in_parts(since=since):
        rows, labelled = await label_rows(list(part), label)
        await store.set_user_clusters(await run(partial(assign_new, rows, labelled)))


async def refit_window(
    store: Store,
    settings: ClustersSettings,
    out_dir: Path,
    run: Callable[[Callable[[], Any]], Awaitable[Any]],
    refresh: int = 0,
    state_dir: Path | None = None,
    label: LabelBios | None = None,
) -> RefitOutcome:
    """Trim the user window, refit on it with `run` (a process pool or a thread: the fit is
    seconds of CPU, never on the event loop) and store every user's clusters. `label` gives
    bios their own languages (the ingest workers, which have a detector); without it, or when
    it fails, the clustering process labels them itself."""
    await store.trim_users(settings.max_users, settings.max_age_hours * 3600, time.time())
    first = True
    async for part in store.user_bios_in_parts(size=PART_SIZE):
        rows, labelled = await label_rows(list(part), label)
        await run(partial(receive_users, rows, first, labelled))
        first = False
    if first:
        await run(partial(receive_users, [], first))
    outcome: RefitOutcome = await run(
        partial(refit_received, settings, out_dir, refresh, state_dir)
    )
    if outcome.skipped is None:
        while assignments := await run(partial(take_assignments, PART_SIZE)):
            await store.set_user_clusters(assignments)
    return outcome
