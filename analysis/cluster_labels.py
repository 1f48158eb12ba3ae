"""Readable cluster labels: class-based TF-IDF (BERTopic's idea) over one model's clusters."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse


def class_tfidf_terms(
    counts: sparse.csr_matrix, labels: np.ndarray, count: int, terms: np.ndarray, top: int
) -> list[tuple[str, ...]]:
    """Each cluster's `top` most distinctive terms by class-based TF-IDF.

    A cluster's bios are one document: a term weighs its share of that document's terms times
    log(1 + average terms per cluster / the term's count over all clusters). Terms used by only
    one member of a cluster of several are skipped: one bio's quirk is no label.
    """
    if count == 0:
        return []
    members = membership(labels, count)
    per_class = np.asarray((members @ counts).todense())
    users_with = np.asarray((members @ (counts > 0).astype(np.float32)).todense())
    totals = per_class.sum(axis=1, keepdims=True)
    tf = per_class / np.maximum(totals, 1)
    overall = per_class.sum(axis=0)
    idf = np.log1p(totals.mean() / np.maximum(overall, 1))
    weights = tf * idf
    sizes = np.bincount(labels[labels >= 0], minlength=count)
    weights[(users_with < 2) & (sizes[:, None] > 1)] = 0
    out = []
    for c in range(count):
        ranked = np.argsort(-weights[c], kind="stable")  # ties: vocabulary order
        strongest = [str(terms[i]) for i in ranked[: top * 4] if weights[c, i] > 0]
        out.append(tuple(_without_overlaps(strongest, top)))
    return out


def _without_overlaps(ranked: Sequence[str], top: int) -> list[str]:
    """The first `top` terms, a character n-gram inside a chosen longer one left out and a
    longer one replacing the shorter it contains ("アニ", "アニメ" -> "アニメ")."""
    chosen: list[str] = []
    for term in ranked:
        if any(term in other for other in chosen):
            continue
        inside = [i for i, other in enumerate(chosen) if other in term]
        if inside:
            chosen[inside[0]] = term
            chosen = [t for i, t in enumerate(chosen) if i not in inside[1:]]
        else:
            chosen.append(term)
        if len(chosen) == top:
            break
    return chosen


def membership(labels: np.ndarray, count: int) -> sparse.csr_matrix:
    """count x len(labels) 0/1 matrix: row c marks the members of cluster c."""
    clustered = np.flatnonzero(labels >= 0)
    return sparse.csr_matrix(
        (np.ones(len(clustered), dtype=np.float32), (labels[clustered], clustered)),
        shape=(count, len(labels)),
    )
