"""Cluster ids that persist from refit to refit, and each id's size history.

Each cluster of a refit is matched to the previous refit's clusters of the same language model
by the cosine of their centroids in term space (terms, not SVD axes: each refit has its own
SVD); the Hungarian assignment (scipy's linear_sum_assignment) pairs them so that the total
similarity is largest, and a pair below `match_similarity` is no match. A matched cluster keeps
the old id and extends its size history; the others get fresh ids, largest cluster first. The
state handed to the next refit is plain JSON and bounded: the current clusters only, with
`centroid_terms` terms and `history` sizes each.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.feature_extraction.text import CountVectorizer

UNMATCHED = -1


class FittedClusters(Protocol):
    """What matching needs of one language model's fit."""

    name: str
    vectorizer: CountVectorizer
    ids: dict[str, np.ndarray]  # algorithm -> fitted label -> id, filled in by `match`

    def labels(self, algorithm: str) -> tuple[np.ndarray, int]: ...

    def centroids(self, algorithm: str) -> np.ndarray: ...


@dataclass(frozen=True)
class GoneCluster:
    """A cluster of the previous refit that nothing in this one matched."""

    id: int
    model: str
    history: tuple[int, ...]


class ClusterIdentities:
    """Gives each fitted cluster an id: the id of the previous refit's cluster it matches (same
    model, centroid cosine >= match_similarity, Hungarian assignment), else a fresh one."""

    def __init__(
        self,
        previous: dict[str, Any] | None,
        algorithms: Sequence[str],
        history: int,
        match_similarity: float,
        centroid_terms: int,
    ) -> None:
        """previous: the `state()` of the last refit (None: every id is fresh)."""
        previous = previous or {}
        self.algorithms = tuple(algorithms)
        self.history_length = history
        self.match_similarity = match_similarity
        self.centroid_terms = centroid_terms
        self.previous: dict[str, list[dict[str, Any]]] = {
            a: list(previous.get(a, {}).get("clusters", [])) for a in self.algorithms
        }
        self.next_id = {a: int(previous.get(a, {}).get("next_id", 0)) for a in self.algorithms}
        self.current: dict[str, list[dict[str, Any]]] = {a: [] for a in self.algorithms}
        self._history: dict[tuple[str, int], tuple[int, ...]] = {}
        self._matched: dict[str, set[int]] = {a: set() for a in self.algorithms}

    def match(self, algorithm: str, fits: Sequence[FittedClusters]) -> None:
        fresh: list[tuple[int, FittedClusters, int, dict[str, float]]] = []  # (size, fit, label, c)
        for fit in fits:
            labels, count = fit.labels(algorithm)
            sizes = np.bincount(labels[labels >= 0], minlength=count)
            centroids = fit.centroids(algorithm) if count else np.zeros((0, 0))
            vocabulary = fit.vectorizer.get_feature_names_out()
            described = [self._describe(row, vocabulary) for row in centroids]
            old = [c for c in self.previous[algorithm] if c["model"] == fit.name]
            ids = np.full(count, UNMATCHED, dtype=np.int64)
            if old and count:
                similarity = np.array(
                    [[_cosine(new, o["centroid"]) for o in old] for new in described]
                )
                for new, o in zip(*linear_sum_assignment(-similarity), strict=True):
                    if similarity[new, o] >= self.match_similarity:
                        ids[new] = old[o]["id"]
                        self._remember(algorithm, fit.name, int(ids[new]), int(sizes[new]),
                                       described[new], tuple(old[o]["history"]))  # fmt: skip
            for label in np.flatnonzero(ids == UNMATCHED):
                fresh.append((int(sizes[label]), fit, int(label), described[label]))
            fit.ids[algorithm] = ids
        # New ids go to the largest clusters first, so a first refit numbers by size.
        fresh.sort(key=lambda f: -f[0])
        for size, owner, fitted_label, centroid in fresh:
            new_id = self.next_id[algorithm]
            self.next_id[algorithm] += 1
            owner.ids[algorithm][fitted_label] = new_id
            self._remember(algorithm, owner.name, new_id, size, centroid, ())

    def history(self, algorithm: str, cluster_id: int) -> tuple[int, ...]:
        return self._history[(algorithm, cluster_id)]

    def gone(self) -> tuple[GoneCluster, ...]:
        """KMeans clusters of the previous refit that nothing matched."""
        return tuple(
            GoneCluster(int(c["id"]), str(c["model"]), tuple(c["history"]))
            for c in self.previous["kmeans"]
            if c["id"] not in self._matched["kmeans"]
        )

    def state(self) -> dict[str, Any]:
        """What the next refit needs: plain JSON, bounded by the current clusters."""
        return {
            a: {"next_id": self.next_id[a], "clusters": self.current[a]} for a in self.algorithms
        }

    def _remember(
        self,
        algorithm: str,
        model: str,
        cluster_id: int,
        size: int,
        centroid: dict[str, float],
        before: tuple[int, ...],
    ) -> None:
        history = (*before, size)[-self.history_length :]
        self._history[(algorithm, cluster_id)] = history
        self._matched[algorithm].add(cluster_id)
        self.current[algorithm].append(
            {"id": cluster_id, "model": model, "centroid": centroid, "history": list(history)}
        )

    def _describe(self, row: np.ndarray, vocabulary: np.ndarray) -> dict[str, float]:
        strongest = np.argsort(-row, kind="stable")[: self.centroid_terms]
        return {str(vocabulary[i]): round(float(row[i]), 5) for i in strongest if row[i] > 0}


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    dot = sum(w * b.get(t, 0.0) for t, w in a.items())
    norm = math.sqrt(sum(w * w for w in a.values())) * math.sqrt(sum(w * w for w in b.values()))
    return dot / norm if norm else 0.0
