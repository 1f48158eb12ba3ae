"""Cluster users by their profile bios: KMeans with k chosen by silhouette, and HDBSCAN.

The seed notebook's method, made to refit 100,000 users in well under a minute on two cores:

1. Bios become words (analysis.bios), then TF-IDF rows (sublinear tf, L2-normalized).
2. TruncatedSVD reduces them to `svd_components` dimensions (LSA), rows normalized again so that
   euclidean distance ranks like cosine. KMeans and the silhouette run there: dense and small,
   about three times faster than on the sparse rows, and as pure on the demo bios.
3. KMeans is fitted for every k in [k_min, k_max]; the k with the best silhouette (computed on a
   deterministic sample) wins. The inertia of every k is kept for the elbow.
4. HDBSCAN is too slow on 100k rows in 50 dimensions (density estimates need neighbour queries
   that degrade with dimension), so it runs on the leading `hdbscan_components` SVD components
   (renormalized) of a deterministic sample of `hdbscan_sample` users, with prediction data; the
   other users get `approximate_predict`, exactly as new users do between refits.
5. Each cluster is described by its strongest terms (the KMeans centroid in term space, i.e. the
   members' mean TF-IDF row; the summed TF-IDF rows for HDBSCAN), its size and sample bios.
6. For the picture, t-SNE projects a deterministic sample of `scatter_points` users to 2-D.
   t-SNE of every user would take minutes; a sample of a few thousand takes seconds and is all
   a scatter plot can show anyway.

Cluster ids are renumbered by size, largest first, so cluster 0 is the biggest. NO_CLUSTER (-1)
is HDBSCAN's noise label, and both labels of a bio that has no known words left.

Everything returned is plain data or fitted scikit-learn/hdbscan objects, so it pickles: the
daemon fits in a worker process and keeps the model to `assign` new users between refits.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import hdbscan
import numpy as np
from scipy import sparse
from sklearn.cluster import KMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.manifold import TSNE
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import normalize

from analysis.bios import BioTokenizer

NO_CLUSTER = -1
JSON_DECIMALS = 4  # floats in the JSON: enough to compare runs, and stable across thread timing


@dataclass(frozen=True)
class ClusterSettings:
    k_min: int = 2
    k_max: int = 12
    kmeans_n_init: int = 3
    silhouette_sample: int = 2000  # the silhouette is quadratic in the users it scores
    max_features: int = 20_000  # vocabulary cap: the most frequent words
    min_df: int = 2  # a word used by one user cannot bring two users together
    svd_components: int = 50
    hdbscan_components: int = 10  # leading SVD components HDBSCAN sees
    hdbscan_sample: int = 10_000  # users HDBSCAN is fitted on; the rest are predicted
    min_cluster_size: int = 100  # HDBSCAN's, counted in the fitted sample
    min_samples: int = 10  # HDBSCAN's; approximate_predict queries 2x this many neighbours
    scatter_points: int = 2000  # users projected to 2-D for the picture
    seed: int = 0
    min_users: int = 50  # fewer users with a usable bio than this: skip the refit
    top_terms: int = 10
    sample_bios: int = 5

    def __post_init__(self) -> None:
        if not 2 <= self.k_min <= self.k_max:
            raise ValueError("need 2 <= k_min <= k_max")
        positive = ("kmeans_n_init", "silhouette_sample", "max_features", "min_df",
                    "svd_components", "hdbscan_components", "hdbscan_sample", "scatter_points",
                    "top_terms", "sample_bios")  # fmt: skip
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.min_cluster_size < 2 or self.min_samples < 1:
            raise ValueError("need min_cluster_size >= 2 and min_samples >= 1")
        if self.min_users < max(self.k_max + 1, 3):
            raise ValueError("min_users must exceed k_max")


@dataclass(frozen=True)
class SkipReason:
    """Why a refit did not happen (too few users, nothing left to cluster). Never an error."""

    reason: str
    users: int  # distinct users given


@dataclass(frozen=True)
class ClusterSummary:
    id: int
    size: int
    top_terms: tuple[str, ...]
    sample_bios: tuple[str, ...]

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "size": self.size,
            "top_terms": list(self.top_terms),
            "sample_bios": list(self.sample_bios),
        }


@dataclass(frozen=True)
class KMeansOutcome:
    k: int
    silhouette: float
    silhouettes: dict[int, float]  # every k tried
    inertia: dict[int, float]  # every k tried
    clusters: tuple[ClusterSummary, ...]


@dataclass(frozen=True)
class HDBSCANOutcome:
    clusters: tuple[ClusterSummary, ...]
    noise: int


@dataclass(frozen=True)
class ProjectedUser:
    """One dot of the scatter: where t-SNE put the user, and what to show on hover."""

    user_id: str
    x: float
    y: float
    kmeans: int
    hdbscan: int
    bio: str


@dataclass(frozen=True)
class BioClusterModel:
    """What `assign` needs to place new users in the clusters of the last fit. Pickles."""

    vectorizer: TfidfVectorizer
    svd: TruncatedSVD
    kmeans: KMeans
    hdbscan: hdbscan.HDBSCAN
    hdbscan_components: int
    kmeans_ids: np.ndarray  # fitted label -> reported cluster id
    hdbscan_ids: np.ndarray  # fitted label -> reported cluster id (noise stays NO_CLUSTER)


@dataclass(frozen=True)
class ClusterResult:
    users: int  # users clustered: those whose bio had words left after preprocessing
    # Users left out, labelled NO_CLUSTER: empty bios, stopwords only, or only words no other
    # user has (min_df).
    empty_bios: int
    kmeans: KMeansOutcome
    hdbscan: HDBSCANOutcome
    assignments: dict[str, tuple[int, int]]  # user_id -> (kmeans id, hdbscan id), every user
    projection: tuple[ProjectedUser, ...]  # a sample of users in 2-D
    model: BioClusterModel = field(repr=False)
    settings: ClusterSettings
    fitted_at: datetime
    seconds: float
    timings: dict[str, float]  # seconds per stage

    @property
    def coordinates(self) -> dict[str, tuple[float, float]]:
        """user_id -> (x, y) for the projected sample."""
        return {p.user_id: (p.x, p.y) for p in self.projection}

    def to_json_dict(self) -> dict[str, Any]:
        """The documented report shape, plus fitted_at, seconds, inertia and silhouettes."""
        return {
            "users": self.users,
            "kmeans": {
                "k": self.kmeans.k,
                "silhouette": _rounded(self.kmeans.silhouette),
                "clusters": [c.to_json_dict() for c in self.kmeans.clusters],
                "inertia": {str(k): _rounded(v) for k, v in self.kmeans.inertia.items()},
                "silhouettes": {str(k): _rounded(v) for k, v in self.kmeans.silhouettes.items()},
            },
            "hdbscan": {
                "clusters": [c.to_json_dict() for c in self.hdbscan.clusters],
                "noise": self.hdbscan.noise,
            },
            "empty_bios": self.empty_bios,
            "fitted_at": self.fitted_at.isoformat(timespec="seconds"),
            "seconds": round(self.seconds, 2),
        }


def fit_clusters(
    users: Sequence[tuple[str, str]], settings: ClusterSettings | None = None
) -> ClusterResult | SkipReason:
    """Cluster (user_id, bio) pairs. A user listed twice keeps the last bio given.

    Returns a SkipReason instead when fewer than `settings.min_users` bios have usable words.
    The same users and settings give the same clusters.
    """
    settings = settings or ClusterSettings()
    started = time.perf_counter()
    clock = _StageClock()
    latest = dict(users)
    user_ids, bios = list(latest), list(latest.values())

    vectorized = _vectorize(bios, settings)
    if isinstance(vectorized, str):
        return SkipReason(vectorized, len(user_ids))
    vectorizer, tfidf_all = vectorized
    usable = np.flatnonzero(tfidf_all.getnnz(axis=1) > 0)
    if len(usable) < settings.min_users:
        return SkipReason(
            f"too few users with a usable bio: {len(usable)} < {settings.min_users}",
            len(user_ids),
        )
    tfidf = tfidf_all[usable]
    clock.lap("tfidf")

    rng = np.random.default_rng(settings.seed)
    svd = TruncatedSVD(
        n_components=min(settings.svd_components, tfidf.shape[1] - 1),
        random_state=settings.seed,
    )
    reduced = svd.fit_transform(tfidf)
    lsa = normalize(reduced)
    clock.lap("svd")

    kmeans, kmeans_labels, silhouettes, inertia = _best_kmeans(lsa, settings, rng)
    clock.lap("kmeans")

    hdbscan_dims = min(settings.hdbscan_components, reduced.shape[1])
    clusterer, hdbscan_labels = _fit_hdbscan(normalize(reduced[:, :hdbscan_dims]), settings, rng)
    clock.lap("hdbscan")

    kmeans_ids = _ids_by_size(kmeans_labels, kmeans.n_clusters)
    hdbscan_ids = _ids_by_size(hdbscan_labels, int(hdbscan_labels.max()) + 1)
    kmeans_final = _renumber(kmeans_labels, kmeans_ids)
    hdbscan_final = _renumber(hdbscan_labels, hdbscan_ids)
    usable_bios = [bios[i] for i in usable]
    terms = vectorizer.get_feature_names_out()
    describe = _ClusterDescriber(tfidf, terms, usable_bios, settings, rng)
    kmeans_outcome = KMeansOutcome(
        k=kmeans.n_clusters,
        silhouette=silhouettes[kmeans.n_clusters],
        silhouettes=silhouettes,
        inertia=inertia,
        clusters=describe(kmeans_final, kmeans.n_clusters, mean=True),
    )
    hdbscan_outcome = HDBSCANOutcome(
        clusters=describe(hdbscan_final, len(hdbscan_ids), mean=False),
        noise=int(np.count_nonzero(hdbscan_final == NO_CLUSTER)),
    )
    clock.lap("describe")

    usable_ids = [user_ids[i] for i in usable]
    labels = list(zip(kmeans_final.tolist(), hdbscan_final.tolist(), strict=True))
    assignments = dict.fromkeys(user_ids, (NO_CLUSTER, NO_CLUSTER))
    assignments.update(zip(usable_ids, labels, strict=True))
    projected = tuple(
        ProjectedUser(usable_ids[row], x, y, *labels[row], usable_bios[row])
        for row, (x, y) in _project(lsa, rng, settings)
    )
    clock.lap("projection")

    model = BioClusterModel(
        vectorizer, svd, kmeans, clusterer, hdbscan_dims, kmeans_ids, hdbscan_ids
    )
    return ClusterResult(
        users=len(usable),
        empty_bios=len(user_ids) - len(usable),
        kmeans=kmeans_outcome,
        hdbscan=hdbscan_outcome,
        assignments=assignments,
        projection=projected,
        model=model,
        settings=settings,
        fitted_at=datetime.now(UTC),
        seconds=time.perf_counter() - started,
        timings=clock.laps,
    )


def assign(model: BioClusterModel, bios: Sequence[str]) -> list[tuple[int, int]]:
    """(kmeans id, hdbscan id) for each bio, in the clusters of the fit that made `model`.

    A bio with no word the model knows gets (NO_CLUSTER, NO_CLUSTER).
    """
    if not bios:
        return []
    tfidf = model.vectorizer.transform(list(bios))
    reduced = model.svd.transform(tfidf)
    kmeans_ids = _renumber(model.kmeans.predict(normalize(reduced)), model.kmeans_ids)
    hdbscan_labels = _predict_hdbscan(
        model.hdbscan, normalize(reduced[:, : model.hdbscan_components])
    )
    hdbscan_ids = _renumber(hdbscan_labels, model.hdbscan_ids)
    known = tfidf.getnnz(axis=1) > 0
    return [
        (int(k), int(h)) if ok else (NO_CLUSTER, NO_CLUSTER)
        for k, h, ok in zip(kmeans_ids, hdbscan_ids, known, strict=True)
    ]


# --- stages -----------------------------------------------------------------------------------


def _vectorize(
    bios: list[str], settings: ClusterSettings
) -> tuple[TfidfVectorizer, sparse.csr_matrix] | str:
    """The fitted vectorizer and every bio's TF-IDF row, or why there is nothing to cluster."""
    vectorizer = TfidfVectorizer(
        analyzer=BioTokenizer(),
        sublinear_tf=True,  # a word said twice in a bio is not twice as telling
        min_df=settings.min_df,
        max_features=settings.max_features,
        dtype=np.float32,
    )
    try:
        tfidf = vectorizer.fit_transform(bios)
    except ValueError:  # no word at all, or none used by min_df users
        return "no bio has words left after preprocessing"
    if tfidf.shape[1] < 2:
        return "the bios share fewer than 2 words"
    return vectorizer, tfidf


def _best_kmeans(
    lsa: np.ndarray, settings: ClusterSettings, rng: np.random.Generator
) -> tuple[KMeans, np.ndarray, dict[int, float], dict[int, float]]:
    """Fit every k in range; keep the one with the best silhouette (ties: the smaller k)."""
    n = lsa.shape[0]
    scored = _sample(rng, n, settings.silhouette_sample)
    silhouettes: dict[int, float] = {}
    inertia: dict[int, float] = {}
    best: KMeans | None = None
    for k in range(settings.k_min, min(settings.k_max, n - 1) + 1):
        fitted = KMeans(k, n_init=settings.kmeans_n_init, random_state=settings.seed)
        with warnings.catch_warnings():
            # Many identical bios can leave fewer distinct clusters than k: the silhouette of
            # such a k is simply worse, which is all the choice needs to know.
            warnings.simplefilter("ignore", ConvergenceWarning)
            fitted.fit(lsa)
        labels = fitted.labels_[scored]
        distinct = len(np.unique(labels))
        silhouettes[k] = (
            float(silhouette_score(lsa[scored], labels)) if 1 < distinct < len(scored) else -1.0
        )
        inertia[k] = float(fitted.inertia_)
        if best is None or silhouettes[k] > silhouettes[best.n_clusters]:
            best = fitted
    assert best is not None  # min_users > k_max >= k_min guarantees one k
    return best, best.labels_, silhouettes, inertia


def _fit_hdbscan(
    points: np.ndarray, settings: ClusterSettings, rng: np.random.Generator
) -> tuple[hdbscan.HDBSCAN, np.ndarray]:
    """HDBSCAN on a sample of `points`, the rest placed with approximate_predict."""
    n = points.shape[0]
    fitted_rows = _sample(rng, n, settings.hdbscan_sample)
    clusterer = hdbscan.HDBSCAN(
        min_cluster_size=min(settings.min_cluster_size, len(fitted_rows)),
        min_samples=min(settings.min_samples, len(fitted_rows) - 1),
        prediction_data=True,
        core_dist_n_jobs=1,  # the fit is short; worker processes would cost more than they save
    ).fit(points[fitted_rows])
    labels = np.full(n, NO_CLUSTER, dtype=np.int64)
    rest = np.ones(n, dtype=bool)
    rest[fitted_rows] = False
    labels[fitted_rows] = clusterer.labels_
    labels[rest] = _predict_hdbscan(clusterer, points[rest])
    return clusterer, labels


def _predict_hdbscan(clusterer: hdbscan.HDBSCAN, points: np.ndarray) -> np.ndarray:
    if len(points) == 0 or clusterer.labels_.max() < 0:  # nothing to predict, or no cluster
        return np.full(len(points), NO_CLUSTER, dtype=np.int64)
    labels, _strengths = hdbscan.approximate_predict(clusterer, points)
    return np.asarray(labels, dtype=np.int64)


def _project(
    lsa: np.ndarray, rng: np.random.Generator, settings: ClusterSettings
) -> list[tuple[int, tuple[float, float]]]:
    """(row, (x, y)) for a sample of rows: t-SNE, or the first two LSA axes for tiny samples."""
    rows = _sample(rng, lsa.shape[0], settings.scatter_points)
    if len(rows) > 10:
        embedded = TSNE(
            n_components=2,
            perplexity=min(30.0, (len(rows) - 1) / 3),
            init="pca",
            random_state=settings.seed,
        ).fit_transform(lsa[rows])
    else:
        embedded = np.zeros((len(rows), 2))
        embedded[:, : min(2, lsa.shape[1])] = lsa[rows, :2]
    return [(int(row), (float(x), float(y))) for row, (x, y) in zip(rows, embedded, strict=True)]


class _ClusterDescriber:
    """Top terms, size and sample bios of each cluster of one labelling of the users."""

    def __init__(
        self,
        tfidf: sparse.csr_matrix,
        terms: np.ndarray,
        bios: Sequence[str],
        settings: ClusterSettings,
        rng: np.random.Generator,
    ) -> None:
        self.tfidf = tfidf
        self.terms = terms
        self.bios = bios
        self.settings = settings
        # One shuffled order for all samples: each cluster's sample is its first bios in it.
        self.order = rng.permutation(len(bios))

    def __call__(self, labels: np.ndarray, count: int, *, mean: bool) -> tuple[ClusterSummary, ...]:
        """mean: weigh terms by the members' mean TF-IDF (a centroid) instead of their sum."""
        clustered = np.flatnonzero(labels >= 0)
        membership = sparse.csr_matrix(
            (np.ones(len(clustered), dtype=np.float32), (labels[clustered], clustered)),
            shape=(count, len(labels)),
        )
        weights = (membership @ self.tfidf).toarray()
        sizes = np.bincount(labels[clustered], minlength=count)
        if mean:
            weights /= np.maximum(sizes, 1)[:, None]
        samples = self._samples(labels, count)
        return tuple(
            ClusterSummary(
                id=cluster,
                size=int(sizes[cluster]),
                top_terms=self._top_terms(weights[cluster]),
                sample_bios=tuple(samples[cluster]),
            )
            for cluster in range(count)
        )

    def _top_terms(self, weights: np.ndarray) -> tuple[str, ...]:
        # Stable sort on the negated weights: equal weights keep vocabulary order, run to run.
        strongest = np.argsort(-weights, kind="stable")[: self.settings.top_terms]
        return tuple(str(self.terms[i]) for i in strongest if weights[i] > 0)

    def _samples(self, labels: np.ndarray, count: int) -> list[list[str]]:
        """Up to `sample_bios` distinct bios per cluster, in the shuffled order."""
        samples: list[list[str]] = [[] for _ in range(count)]
        wanted = self.settings.sample_bios
        full = 0
        for row in self.order:
            cluster = labels[row]
            if cluster < 0 or len(samples[cluster]) >= wanted:
                continue
            bio = self.bios[row].strip()
            if bio not in samples[cluster]:
                samples[cluster].append(bio)
                full += len(samples[cluster]) == wanted
                if full == count:
                    break
        return samples


# --- helpers ----------------------------------------------------------------------------------


def _sample(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    """Sorted row indices: all n rows, or a seeded sample of `size` of them."""
    if n <= size:
        return np.arange(n)
    return np.sort(rng.choice(n, size=size, replace=False))


def _ids_by_size(labels: np.ndarray, count: int) -> np.ndarray:
    """fitted label -> id, biggest cluster first; equal sizes keep the fitted order."""
    sizes = np.bincount(labels[labels >= 0], minlength=count)
    by_size = np.argsort(-sizes, kind="stable")
    ids = np.empty(count, dtype=np.int64)
    ids[by_size] = np.arange(count)
    return ids


def _renumber(labels: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Fitted labels as reported ids; NO_CLUSTER stays."""
    renumbered = np.full(len(labels), NO_CLUSTER, dtype=np.int64)
    clustered = labels >= 0
    renumbered[clustered] = ids[labels[clustered]]
    return renumbered


def _rounded(value: float) -> float:
    return round(float(value), JSON_DECIMALS)


class _StageClock:
    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.laps[stage] = round(now - self._last, 3)
        self._last = now
