"""The daemon's side of bio clustering: refit and assign, inside the analysis process.

The fitted model stays in this process between calls (it can weigh tens of MB), so the event
loop only ever ships user lists in and small summaries out. If the process is replaced, new
users wait for the next refit to get a cluster.
"""

from __future__ import annotations

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
    )


def refit(
    users: Sequence[tuple[str, str]], settings: ClustersSettings, out_dir: Path, refresh: int = 0
) -> RefitOutcome:
    """Fit on the user window, write out/clusters/, keep the model for `assign_new`."""
    from analysis.cluster_report import write_cluster_report
    from analysis.clustering import SkipReason, fit_clusters

    global _model
    result = fit_clusters(users, model_settings(settings))
    if isinstance(result, SkipReason):
        return RefitOutcome(users=result.users, skipped=result.reason)
    write_cluster_report(out_dir, result, refresh_seconds=refresh)
    _model = result.model
    return RefitOutcome(
        users=result.users,
        report=result.to_json_dict(),
        assignments=dict(result.assignments),
        seconds=result.seconds,
    )


def assign_new(users: Sequence[tuple[str, str]]) -> dict[str, tuple[int, int]]:
    """Clusters for users seen since the last refit; empty before the first one."""
    if _model is None or not users:
        return {}
    from analysis.clustering import assign

    labels = assign(_model, [bio for _, bio in users])
    return {user_id: label for (user_id, _), label in zip(users, labels, strict=True)}


async def refit_window(
    store: Store,
    settings: ClustersSettings,
    out_dir: Path,
    run: Callable[[Callable[[], RefitOutcome]], Awaitable[RefitOutcome]],
    refresh: int = 0,
) -> RefitOutcome:
    """Trim the user window, refit on it with `run` (a process pool or a thread: the fit is
    seconds of CPU, never on the event loop) and store every user's clusters."""
    await store.trim_users(settings.max_users, settings.max_age_hours * 3600, time.time())
    users = await store.user_bios()
    outcome = await run(partial(refit, users, settings, out_dir, refresh))
    if outcome.skipped is None:
        await store.set_user_clusters(outcome.assignments)
    return outcome
