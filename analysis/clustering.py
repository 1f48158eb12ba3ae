"""Cluster users by their profile bios, one model per language: KMeans with k chosen by
silhouette, HDBSCAN, readable labels and cluster ids that persist from refit to refit.

Why per language: bios in twenty languages share almost no words, so one model spends its
clusters on languages (and on what all languages share: links, numbers, emoji) instead of on what
people say. Each user's language is known to the daemon (the post detector's); a bio is often
in another language than the posts (English bios over Indonesian or Thai posts), so the bio's
own language, as the same detector labels it, decides where the post's is known
(`ClusterSettings.bio_language`; the post's language where the bio has none it can tell):

1. Users are grouped by language. A language with at least `min_users_per_language` usable bios
   gets a model of its own; all others share one "other languages" model (OTHER). A user whose
   bio has no usable term (empty, only emoji/numbers/links, only stopwords, or only terms no other
   user in its model has) is in no cluster: the "no usable bio" group, labelled NO_CLUSTER.
2. Per model, bios become terms (analysis.bios: words in every script a word list or spaces
   cut, character n-grams for Thai, Lao, Khmer and Myanmar), then TF-IDF rows (sublinear tf,
   L2), then TruncatedSVD to `svd_components` dimensions, rows renormalized (LSA): euclidean
   distance there ranks like cosine. Character n-gram columns weigh NGRAM_WEIGHT (a Thai line
   must not drown the words of the same bio);
   links are no term at all (a fifth of all bios in every language have one). In the shared
   model, one column per language (LANGUAGE_WEIGHT) keeps clusters within a language.
3. KMeans for every k in [k_min, k_max] on a seeded sample of `sweep_sample` users; the best
   silhouette (on a smaller sample) wins and that k is fitted on every user. When the best k is
   the top of the range, the range grows by `k_step` (up to `k_limit`, and to no more than one
   cluster per MIN_MEAN_CLUSTER_SIZE users), so a language with many communities is not cut at
   k_max. Models under THREADED_FROM_USERS users fit on one thread.
4. HDBSCAN on the leading `hdbscan_components` SVD components of a sample, the rest placed with
   approximate_predict; its noise label is NO_CLUSTER too, reported as noise.
5. Labels are class-based TF-IDF within the model (analysis.cluster_labels): each cluster's bios
   form one document, weighed against the model's other clusters, so a label says what sets the
   cluster apart, not what every bio of the language says.
6. Ids: each cluster keeps the id of the previous refit's cluster it matches, and its size
   history grows (analysis.cluster_ids); the state for the next refit is `identities`.
7. For the picture, t-SNE projects a sample of each model's users; each model gets a tile.

Everything returned is plain data or fitted scikit-learn/hdbscan objects, so it pickles: the
daemon fits in a worker process and keeps the model to `assign` new users between refits.
"""

from __future__ import annotations

import math
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import hdbscan
import numpy as np
from scipy import sparse
from sklearn.cluster import KMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.manifold import TSNE
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import normalize
from threadpoolctl import threadpool_limits

from analysis.bios import BioTokenizer, bio_languages, has_link, is_ngram, release_bio_detector
from analysis.cluster_ids import ClusterIdentities, GoneCluster
from analysis.cluster_labels import class_tfidf_terms, membership

LANGUAGE_AWARE = True  # fit_clusters takes (user_id, bio, language) triples
NO_CLUSTER = -1
OTHER = "other"  # the model of every language with too few users of its own, and of unknown ones
UNDETERMINED = "und"  # the detector's "no idea": a mix of languages, never a model of its own
JSON_DECIMALS = 4  # floats in the JSON: enough to compare runs, and stable across thread timing
ALGORITHMS = ("kmeans", "hdbscan")
MIN_MEAN_CLUSTER_SIZE = 20  # the widened k range stops at users / this
# Below this many users a model fits (SVD, KMeans, HDBSCAN) on one thread: on small data the
# start-up and spin-waiting of OpenMP/BLAS threads cost more than the work, many times over on
# a busy machine (KMeans 18x slower at 1,200 users, the SVD 100x at a few thousand).
THREADED_FROM_USERS = 20_000
# Character n-grams weigh this much against a word: a run of Thai (Lao, Khmer, Myanmar) gives
# about one n-gram per character, so a Thai line would otherwise outweigh the other words.
NGRAM_WEIGHT = 0.4
# In the shared model, a language column of this weight next to unit-length LSA rows: two bios
# of different languages are at least this far apart (before renormalizing).
LANGUAGE_WEIGHT = 1.0

UserRow = tuple[str, str] | tuple[str, str, str | None]
Identities = dict[str, Any]  # JSON-able state carried from one refit to the next


@dataclass(frozen=True)
class ClusterSettings:
    k_min: int = 2
    k_max: int = 12
    k_step: int = 4  # how far the k range grows when the best k is at its top
    k_limit: int = 24  # ... never past this
    kmeans_n_init: int = 3
    silhouette_sample: int = 2000  # per model: the silhouette is quadratic in the users it scores
    sweep_sample: int = 5000  # per model: users the k sweep fits on (the chosen k fits on all)
    max_features: int = 20_000  # vocabulary cap per model: the most frequent terms
    min_df: int = 2  # a term used by one user cannot bring two users together
    svd_components: int = 50
    hdbscan_components: int = 10  # leading SVD components HDBSCAN sees
    hdbscan_sample: int = 10_000  # users HDBSCAN is fitted on per model; the rest are predicted
    min_cluster_size: int = 100  # HDBSCAN's, counted in the fitted sample (capped at a tenth of it)
    min_samples: int = 10  # HDBSCAN's; approximate_predict queries 2x this many neighbours
    scatter_points: int = 2000  # users projected to 2-D for the picture, over all models
    seed: int = 0
    min_users: int = 50  # fewer users with a usable bio than this: skip the refit
    min_users_per_language: int = 200  # a language with fewer usable bios joins OTHER
    history: int = 10  # sizes kept per cluster id (the last refits)
    match_similarity: float = 0.3  # centroid cosine needed to keep a previous cluster's id
    centroid_terms: int = 50  # terms kept per centroid for matching the next refit
    top_terms: int = 10
    sample_bios: int = 5
    # Route each user by their bio's own language (the detector's), the post's language only
    # where the bio has none; False: the post's language as given.
    bio_language: bool = True

    def __post_init__(self) -> None:
        if not 2 <= self.k_min <= self.k_max <= self.k_limit:
            raise ValueError("need 2 <= k_min <= k_max <= k_limit")
        positive = ("kmeans_n_init", "silhouette_sample", "sweep_sample", "max_features",
                    "min_df", "k_step", "svd_components", "hdbscan_components", "hdbscan_sample",
                    "scatter_points", "top_terms", "sample_bios", "history",
                    "centroid_terms")  # fmt: skip
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.min_cluster_size < 2 or self.min_samples < 1:
            raise ValueError("need min_cluster_size >= 2 and min_samples >= 1")
        if self.min_users < max(self.k_max + 1, 3):
            raise ValueError("min_users must exceed k_max")
        if self.min_users_per_language < self.min_users:
            raise ValueError("min_users_per_language must be at least min_users")
        if not 0.0 <= self.match_similarity <= 1.0:
            raise ValueError("match_similarity must be within 0..1")


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
    model: str = OTHER  # the language model it belongs to
    history: tuple[int, ...] = ()  # its size at the last refits, oldest first, this one last
    link_share: float = 0.0  # share of its members whose bio has a link

    @property
    def trend(self) -> str:
        """new, growing, shrinking or steady: this refit's size against the previous one."""
        if len(self.history) < 2:
            return "new"
        before, now = self.history[-2], self.history[-1]
        if now > before * 1.1:
            return "growing"
        if now < before * 0.9:
            return "shrinking"
        return "steady"

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "size": self.size,
            "top_terms": list(self.top_terms),
            "sample_bios": list(self.sample_bios),
            "model": self.model,
            "history": list(self.history),
            "trend": self.trend,
            "link_share": _rounded(self.link_share),
        }


@dataclass(frozen=True)
class LanguageModelOutcome:
    """One language model of a refit: who it holds and how its k was chosen."""

    name: str  # a language code, or OTHER
    languages: dict[str, int]  # language -> users of it in this model with a usable bio
    users: int  # clustered users
    no_usable_bio: int
    k: int
    silhouette: float
    silhouettes: dict[int, float]  # every k tried
    inertia: dict[int, float]  # every k tried
    hdbscan_clusters: int
    hdbscan_noise: int
    user_ids: frozenset[str] = field(repr=False)  # every user routed to it

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "languages": dict(sorted(self.languages.items(), key=lambda kv: (-kv[1], kv[0]))),
            "users": self.users,
            "no_usable_bio": self.no_usable_bio,
            "k": self.k,
            "silhouette": _rounded(self.silhouette),
            "silhouettes": {str(k): _rounded(v) for k, v in self.silhouettes.items()},
            "inertia": {str(k): _rounded(v) for k, v in self.inertia.items()},
            "hdbscan_clusters": self.hdbscan_clusters,
            "hdbscan_noise": self.hdbscan_noise,
        }


@dataclass(frozen=True)
class KMeansOutcome:
    k: int  # clusters over all models
    silhouette: float  # the models' silhouettes, weighed by their users
    silhouettes: dict[int, float]  # every k tried by the largest model
    inertia: dict[int, float]  # every k tried by the largest model
    clusters: tuple[ClusterSummary, ...]


@dataclass(frozen=True)
class HDBSCANOutcome:
    clusters: tuple[ClusterSummary, ...]
    noise: int  # usable bios HDBSCAN left in no cluster (no usable bio not counted)


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
class FittedLanguageModel:
    """One language model's fitted pieces; ids map fitted labels to reported cluster ids."""

    vectorizer: CountVectorizer
    tfidf: TfidfTransformer
    svd: TruncatedSVD
    kmeans: KMeans
    hdbscan: hdbscan.HDBSCAN | None
    hdbscan_components: int
    kmeans_ids: np.ndarray
    hdbscan_ids: np.ndarray
    language_columns: tuple[str, ...] = ()  # the shared model's language one-hot columns


@dataclass(frozen=True)
class BioClusterModel:
    """What `assign` needs to place new users in the clusters of the last fit. Pickles."""

    models: dict[str, FittedLanguageModel]
    tokenizer: BioTokenizer
    bio_language: bool = False  # route by the bio's own language (ClusterSettings.bio_language)

    def route(self, language: str | None) -> str:
        """The model a user of `language` belongs to."""
        return language if language in self.models and language != OTHER else OTHER


@dataclass(frozen=True)
class ClusterResult:
    users: int  # users clustered: those whose bio had usable terms in their model
    empty_bios: int  # the "no usable bio" group: in no cluster, labelled NO_CLUSTER
    kmeans: KMeansOutcome
    hdbscan: HDBSCANOutcome
    assignments: dict[str, tuple[int, int]]  # user_id -> (kmeans id, hdbscan id), every user
    projection: tuple[ProjectedUser, ...]  # a sample of users in 2-D
    model: BioClusterModel = field(repr=False)
    settings: ClusterSettings
    fitted_at: datetime
    seconds: float
    timings: dict[str, float]  # seconds per stage
    models: tuple[LanguageModelOutcome, ...] = ()  # largest first
    gone: tuple[GoneCluster, ...] = ()  # ids of the previous refit that ended here
    identities: Identities = field(default_factory=dict, repr=False)  # for the next refit

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
            "models": [m.to_json_dict() for m in self.models],
            "gone": [{"id": g.id, "model": g.model, "history": list(g.history)} for g in self.gone],
            "fitted_at": self.fitted_at.isoformat(timespec="seconds"),
            "seconds": round(self.seconds, 2),
        }


def fit_clusters(
    users: Sequence[UserRow],
    settings: ClusterSettings | None = None,
    previous: Identities | None = None,
    *,
    labelled: bool = False,
) -> ClusterResult | SkipReason:
    """Cluster (user_id, bio) pairs or (user_id, bio, language) triples; a user listed twice
    keeps the last bio given, a user without a language goes to the OTHER model.

    previous: the `identities` of the last refit's result, so that its clusters keep their ids.
    labelled: the languages given are the bios' own already (`bio_languages` of them, as the
    daemon's ingest workers label them), so no detector is needed here.
    Returns a SkipReason instead when fewer than `settings.min_users` bios have usable terms.
    The same users, settings and previous state give the same clusters.
    """
    settings = settings or ClusterSettings()
    started = time.perf_counter()
    clock = _StageClock()
    latest: dict[str, tuple[str, str | None]] = {}
    for row in users:
        latest[row[0]] = (row[1], row[2] if len(row) > 2 else None)
    user_ids = list(latest)
    bios = [bio for bio, _ in latest.values()]
    languages = [lang for _, lang in latest.values()]
    del latest  # a dict of the whole window: not kept through the fit
    if settings.bio_language and not labelled:
        languages = bio_languages(bios, languages)
        release_bio_detector()  # assign() builds it again when new users need it
    clock.lap("languages")

    tokenizer = BioTokenizer(links=False)
    terms = _shared_terms(tokenizer(bio) for bio in bios)
    clock.lap("tokenize")
    usable = [i for i, t in enumerate(terms) if t]
    if len(usable) < settings.min_users:
        return SkipReason(
            f"too few users with a usable bio: {len(usable)} < {settings.min_users}",
            len(user_ids),
        )
    groups = _language_groups(languages, usable, settings)
    # Users with no usable term still belong to their language's model, for its counts.
    unusable: Counter[str] = Counter(
        str(languages[i]) if languages[i] in groups and languages[i] != OTHER else OTHER
        for i, t in enumerate(terms)
        if not t
    )

    rng = np.random.default_rng(settings.seed)
    fits: list[_ModelFit] = []
    for name, rows in groups.items():
        fit = _fit_model(name, rows, terms, languages, settings, rng)
        if fit is not None:
            fits.append(fit)
    del terms  # every bio's terms (tens of MB): the fitted models hold what is needed now
    if not fits:
        return SkipReason("no bio has terms shared with another user", len(user_ids))
    clock.lap("models")

    identities = ClusterIdentities(
        previous, ALGORITHMS, settings.history, settings.match_similarity, settings.centroid_terms
    )
    for algorithm in ALGORITHMS:
        identities.match(algorithm, fits)
    clock.lap("identities")

    assignments = dict.fromkeys(user_ids, (NO_CLUSTER, NO_CLUSTER))
    kmeans_clusters: list[ClusterSummary] = []
    hdbscan_clusters: list[ClusterSummary] = []
    outcomes = []
    link = [has_link(bio) for bio in bios]
    order = rng.permutation(len(bios))  # one shuffled order for every sample of bios
    for fit in fits:
        km = fit.ids["kmeans"][fit.kmeans_labels]
        hd = _renumber(fit.hdbscan_labels, fit.ids["hdbscan"])
        for row, k, h in zip(fit.rows, km.tolist(), hd.tolist(), strict=True):
            assignments[user_ids[row]] = (k, h)
        kmeans_clusters += fit.summaries("kmeans", km, bios, link, order, identities, settings)
        hdbscan_clusters += fit.summaries("hdbscan", hd, bios, link, order, identities, settings)
        outcomes.append(fit.outcome(languages, user_ids, groups[fit.name], unusable[fit.name]))
    kmeans_clusters.sort(key=lambda c: (-c.size, c.id))
    hdbscan_clusters.sort(key=lambda c: (-c.size, c.id))
    outcomes.sort(key=lambda m: (-m.users, m.name))
    clock.lap("describe")

    with threadpool_limits(1):  # a few thousand points: threads only add contention
        projected = _project(fits, user_ids, bios, assignments, settings)
    clock.lap("projection")

    clustered = sum(m.users for m in outcomes)
    largest = outcomes[0]
    kmeans = KMeansOutcome(
        k=len(kmeans_clusters),
        silhouette=sum(m.silhouette * m.users for m in outcomes) / max(clustered, 1),
        silhouettes=largest.silhouettes,
        inertia=largest.inertia,
        clusters=tuple(kmeans_clusters),
    )
    found = HDBSCANOutcome(
        clusters=tuple(hdbscan_clusters), noise=sum(m.hdbscan_noise for m in outcomes)
    )
    model = BioClusterModel(
        {fit.name: fit.fitted(identities) for fit in fits}, tokenizer, settings.bio_language
    )
    return ClusterResult(
        users=clustered,
        empty_bios=len(user_ids) - clustered,
        kmeans=kmeans,
        hdbscan=found,
        assignments=assignments,
        projection=tuple(projected),
        model=model,
        settings=settings,
        fitted_at=datetime.now(UTC),
        seconds=time.perf_counter() - started,
        timings=clock.laps,
        models=tuple(outcomes),
        gone=identities.gone(),
        identities=identities.state(),
    )


def assign(
    model: BioClusterModel,
    bios: Sequence[str],
    languages: Sequence[str | None] | None = None,
    *,
    labelled: bool = False,
) -> list[tuple[int, int]]:
    """(kmeans id, hdbscan id) for each bio, in the clusters of the fit that made `model`;
    `languages` (one per bio, None: unknown) picks each bio's language model (`labelled`: they
    are the bios' own already, as for `fit_clusters`).

    A bio with no term its model knows gets (NO_CLUSTER, NO_CLUSTER).
    """
    if not bios:
        return []
    langs = list(languages) if languages is not None else [None] * len(bios)
    if model.bio_language and not labelled:
        langs = bio_languages(bios, langs)
    by_model: dict[str, list[int]] = defaultdict(list)
    for i, lang in enumerate(langs):
        by_model[model.route(lang)].append(i)
    out = [(NO_CLUSTER, NO_CLUSTER)] * len(bios)
    for name, rows in by_model.items():
        fitted = model.models.get(name)
        if fitted is None:
            continue
        counts = fitted.vectorizer.transform([model.tokenizer(bios[i]) for i in rows])
        vocabulary = fitted.vectorizer.get_feature_names_out()
        tfidf = _weigh_ngrams(fitted.tfidf.transform(counts), vocabulary)
        reduced = fitted.svd.transform(tfidf)
        row_langs = [langs[i] for i in rows]
        columns = fitted.language_columns
        lsa = _with_language(normalize(reduced), row_langs, columns)
        kmeans_ids = fitted.kmeans_ids[fitted.kmeans.predict(lsa)]
        if fitted.hdbscan is None:
            hdbscan_labels = np.full(len(rows), NO_CLUSTER, dtype=np.int64)
        else:
            leading = normalize(reduced[:, : fitted.hdbscan_components])
            hdbscan_labels = _predict_hdbscan(
                fitted.hdbscan, _with_language(leading, row_langs, columns)
            )
        hdbscan_ids = _renumber(hdbscan_labels, fitted.hdbscan_ids)
        known = counts.getnnz(axis=1) > 0
        for i, k, h, ok in zip(rows, kmeans_ids, hdbscan_ids, known, strict=True):
            if ok:
                out[i] = (int(k), int(h))
    return out


# --- one language model -----------------------------------------------------------------------


def _language_groups(
    languages: Sequence[str | None], usable: Sequence[int], settings: ClusterSettings
) -> dict[str, list[int]]:
    """model name -> rows of the usable users it holds, largest languages first."""
    counts = Counter(languages[i] for i in usable)
    own = {
        lang
        for lang, n in counts.items()
        if lang not in (None, OTHER, UNDETERMINED) and n >= settings.min_users_per_language
    }
    groups: dict[str, list[int]] = defaultdict(list)
    for i in usable:
        lang = languages[i]
        groups[lang if lang in own else OTHER].append(i)
    return dict(sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])))


def _shared_terms(lists: Iterable[list[str]]) -> list[list[str]]:
    """The lists with every equal term one str object: a window's bios hold a million terms,
    most of them repeats ("music", "love"), and a str each would cost some 60 MB."""
    seen: dict[str, str] = {}
    return [[seen.setdefault(term, term) for term in terms] for terms in lists]


def _identity(tokens: list[str]) -> list[str]:
    """The analyzer of a vectorizer fed already-tokenized bios (module level: it pickles)."""
    return tokens


@dataclass
class _ModelFit:
    name: str
    rows: np.ndarray  # users clustered by this model (rows of the input)
    dropped: int  # usable bios with no term of the model's vocabulary
    language_columns: tuple[str, ...]  # languages one-hot encoded next to the LSA rows
    vectorizer: CountVectorizer
    tfidf_transformer: TfidfTransformer
    counts: sparse.csr_matrix
    tfidf: sparse.csr_matrix
    lsa: np.ndarray
    svd: TruncatedSVD
    kmeans: KMeans
    kmeans_labels: np.ndarray
    silhouettes: dict[int, float]
    inertia: dict[int, float]
    clusterer: hdbscan.HDBSCAN | None
    hdbscan_components: int
    hdbscan_labels: np.ndarray
    ids: dict[str, np.ndarray] = field(default_factory=dict)  # algorithm -> label -> id

    def labels(self, algorithm: str) -> tuple[np.ndarray, int]:
        if algorithm == "kmeans":
            return self.kmeans_labels, self.kmeans.n_clusters
        return self.hdbscan_labels, int(self.hdbscan_labels.max()) + 1

    def centroids(self, algorithm: str) -> np.ndarray:
        """Mean TF-IDF row of each fitted cluster (k x vocabulary, dense, L2-normalized)."""
        labels, count = self.labels(algorithm)
        return normalize((membership(labels, count) @ self.tfidf).toarray())

    def summaries(
        self,
        algorithm: str,
        ids: np.ndarray,
        bios: Sequence[str],
        link: Sequence[bool],
        order: np.ndarray,
        identities: ClusterIdentities,
        settings: ClusterSettings,
    ) -> list[ClusterSummary]:
        labels, count = self.labels(algorithm)
        sizes = np.bincount(labels[labels >= 0], minlength=count)
        label_terms = class_tfidf_terms(
            self.counts, labels, count, self.vectorizer.get_feature_names_out(), settings.top_terms
        )
        samples = _samples(self.rows, labels, count, bios, order, settings.sample_bios)
        links = np.bincount(
            labels[labels >= 0], weights=[link[r] for r in self.rows[labels >= 0]], minlength=count
        )
        table = self.ids[algorithm]
        return [
            ClusterSummary(
                id=int(table[c]),
                size=int(sizes[c]),
                top_terms=label_terms[c],
                sample_bios=tuple(samples[c]),
                model=self.name,
                history=identities.history(algorithm, int(table[c])),
                link_share=float(links[c] / max(sizes[c], 1)),
            )
            for c in range(count)
        ]

    def outcome(
        self,
        languages: Sequence[str | None],
        user_ids: Sequence[str],
        group: Sequence[int],
        unusable: int,
    ) -> LanguageModelOutcome:
        """unusable: users of the model's languages whose bio had no term at all."""
        return LanguageModelOutcome(
            name=self.name,
            languages=dict(Counter(languages[i] or "unknown" for i in group)),
            users=len(self.rows),
            no_usable_bio=self.dropped + unusable,
            k=self.kmeans.n_clusters,
            silhouette=self.silhouettes[self.kmeans.n_clusters],
            silhouettes=self.silhouettes,
            inertia=self.inertia,
            hdbscan_clusters=int(self.hdbscan_labels.max()) + 1,
            hdbscan_noise=int(np.count_nonzero(self.hdbscan_labels < 0)),
            user_ids=frozenset(user_ids[i] for i in group),
        )

    def fitted(self, identities: ClusterIdentities) -> FittedLanguageModel:
        return FittedLanguageModel(
            self.vectorizer, self.tfidf_transformer, self.svd, self.kmeans, self.clusterer,
            self.hdbscan_components, self.ids["kmeans"], self.ids["hdbscan"],
            self.language_columns,
        )  # fmt: skip


def _fit_model(
    name: str,
    group: Sequence[int],
    terms: Sequence[list[str]],
    languages: Sequence[str | None],
    settings: ClusterSettings,
    rng: np.random.Generator,
) -> _ModelFit | None:
    """Fit one language model on the users at rows `group`; None if too few are left."""
    with threadpool_limits(None if len(group) >= THREADED_FROM_USERS else 1):
        return _fit_model_now(name, group, terms, languages, settings, rng)


def _fit_model_now(
    name: str,
    group: Sequence[int],
    terms: Sequence[list[str]],
    languages: Sequence[str | None],
    settings: ClusterSettings,
    rng: np.random.Generator,
) -> _ModelFit | None:
    if len(group) < settings.min_users:
        return None
    vectorizer = CountVectorizer(
        analyzer=_identity, min_df=settings.min_df, max_features=settings.max_features,
        dtype=np.float32,
    )  # fmt: skip
    try:
        counts_all = vectorizer.fit_transform([terms[i] for i in group])
    except ValueError:  # no term used by min_df users
        return None
    kept = np.flatnonzero(counts_all.getnnz(axis=1) > 0)
    if len(kept) < settings.min_users or counts_all.shape[1] < 3:
        return None
    counts = counts_all[kept].tocsr()
    transformer = TfidfTransformer(sublinear_tf=True)  # a term said twice is not twice as telling
    tfidf = _weigh_ngrams(transformer.fit_transform(counts), vectorizer.get_feature_names_out())
    svd = TruncatedSVD(
        n_components=min(settings.svd_components, tfidf.shape[1] - 1, len(kept) - 1),
        random_state=settings.seed,
    )
    reduced = svd.fit_transform(tfidf)
    rows = np.asarray(group)[kept]
    # The shared model holds many languages: their columns keep clusters within one language
    # unless the words really are the same (es/pt "programador"). A single language has none.
    columns = tuple(sorted({languages[i] or "" for i in rows})) if name == OTHER else ()
    lsa = _with_language(normalize(reduced), [languages[i] for i in rows], columns)
    sized = Counter(languages[i] for i in rows)
    sized_languages = sum(n >= MIN_MEAN_CLUSTER_SIZE for n in sized.values()) if columns else 1
    kmeans, silhouettes, inertia = _best_kmeans(lsa, settings, rng, sized_languages)
    dims = min(settings.hdbscan_components, reduced.shape[1])
    leading = _with_language(normalize(reduced[:, :dims]), [languages[i] for i in rows], columns)
    clusterer, hdbscan_labels = _fit_hdbscan(leading, settings, rng)
    return _ModelFit(
        name=name, rows=rows, dropped=len(group) - len(kept), language_columns=columns,
        vectorizer=vectorizer, tfidf_transformer=transformer, counts=counts, tfidf=tfidf,
        lsa=lsa, svd=svd, kmeans=kmeans, kmeans_labels=kmeans.labels_, silhouettes=silhouettes,
        inertia=inertia, clusterer=clusterer, hdbscan_components=dims,
        hdbscan_labels=hdbscan_labels,
    )  # fmt: skip


def _with_language(
    points: np.ndarray, languages: Sequence[str | None], columns: tuple[str, ...]
) -> np.ndarray:
    """points with one column per language in `columns` (LANGUAGE_WEIGHT for the row's own,
    none for a language not in them), rows renormalized; points unchanged without columns."""
    if not columns:
        return points
    index = {lang: i for i, lang in enumerate(columns)}
    onehot = np.zeros((len(points), len(columns)), dtype=points.dtype)
    for row, lang in enumerate(languages):
        if (lang or "") in index:
            onehot[row, index[lang or ""]] = LANGUAGE_WEIGHT
    return normalize(np.hstack([points, onehot]))


def _weigh_ngrams(tfidf: sparse.csr_matrix, vocabulary: np.ndarray) -> sparse.csr_matrix:
    """Rows with the columns of character n-grams scaled by NGRAM_WEIGHT, renormalized."""
    weights = np.array(
        [NGRAM_WEIGHT if is_ngram(term) else 1.0 for term in vocabulary], dtype=np.float32
    )
    return normalize(tfidf @ sparse.diags(weights)).astype(np.float32).tocsr()


def _best_kmeans(
    lsa: np.ndarray, settings: ClusterSettings, rng: np.random.Generator, groups: int = 1
) -> tuple[KMeans, dict[int, float], dict[int, float]]:
    """Fit every k in range, widening it while the best k is at its top; keep the best
    silhouette (ties: the smaller k). groups: how many languages of some size the model holds;
    the range starts there (the silhouette would otherwise stop at one cluster per language).

    The sweep runs on a seeded sample of `sweep_sample` users (inertia and silhouettes are the
    sample's); the chosen k is then fitted on every user."""
    n = lsa.shape[0]
    swept = lsa[_sample(rng, n, settings.sweep_sample)]
    scored = _sample(rng, len(swept), settings.silhouette_sample)
    silhouettes: dict[int, float] = {}
    inertia: dict[int, float] = {}
    best: KMeans | None = None
    # A cluster of a handful of bios is no community: k stays below n / MIN_MEAN_CLUSTER_SIZE.
    limit = max(settings.k_min, min(settings.k_limit, n // MIN_MEAN_CLUSTER_SIZE, n - 1))
    k = min(max(settings.k_min, groups), limit)
    top = min(max(settings.k_max, k + settings.k_max - settings.k_min), limit)
    while k <= top:
        fitted = _kmeans(swept, k, settings, n_init=1)  # one start to rank k; more for the fit
        labels = fitted.labels_[scored]
        distinct = len(np.unique(labels))
        silhouettes[k] = (
            float(silhouette_score(swept[scored], labels)) if 1 < distinct < len(scored) else -1.0
        )
        inertia[k] = float(fitted.inertia_)
        if best is None or silhouettes[k] > silhouettes[best.n_clusters]:
            best = fitted
        if k == top and best.n_clusters == top:  # the best is at the edge: look further
            top = min(top + settings.k_step, limit)
        k += 1
    assert best is not None  # min_users > k_max >= k_min guarantees one k
    if len(swept) < n or settings.kmeans_n_init > 1:
        best = _kmeans(lsa, best.n_clusters, settings, n_init=settings.kmeans_n_init)
    return best, silhouettes, inertia


def _kmeans(points: np.ndarray, k: int, settings: ClusterSettings, n_init: int) -> KMeans:
    fitted = KMeans(k, n_init=n_init, random_state=settings.seed)
    with warnings.catch_warnings():
        # Many identical bios can leave fewer distinct clusters than k: the silhouette of such
        # a k is simply worse, which is all the choice needs to know.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fitted.fit(points)


def _fit_hdbscan(
    points: np.ndarray, settings: ClusterSettings, rng: np.random.Generator
) -> tuple[hdbscan.HDBSCAN | None, np.ndarray]:
    """HDBSCAN on a sample of `points`, the rest placed with approximate_predict."""
    n = points.shape[0]
    fitted_rows = _sample(rng, n, settings.hdbscan_sample)
    # A small language cannot have clusters of 100: at most a tenth of its sample.
    min_size = max(5, min(settings.min_cluster_size, len(fitted_rows) // 10))
    labels = np.full(n, NO_CLUSTER, dtype=np.int64)
    if len(fitted_rows) < 2 * min_size:
        return None, labels
    clusterer = hdbscan.HDBSCAN(
        min_cluster_size=min_size,
        min_samples=min(settings.min_samples, min_size),
        prediction_data=True,
        core_dist_n_jobs=1,  # the fit is short; worker processes would cost more than they save
    ).fit(points[fitted_rows])
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


# --- sample bios ------------------------------------------------------------------------------


def _samples(
    rows: np.ndarray,
    labels: np.ndarray,
    count: int,
    bios: Sequence[str],
    order: np.ndarray,
    wanted: int,
) -> list[list[str]]:
    """Up to `wanted` distinct bios per cluster, in the shared shuffled order."""
    label_of = {int(r): int(lab) for r, lab in zip(rows, labels, strict=True) if lab >= 0}
    samples: list[list[str]] = [[] for _ in range(count)]
    full = 0
    for row in order:
        cluster = label_of.get(int(row))
        if cluster is None or len(samples[cluster]) >= wanted:
            continue
        bio = bios[row].strip()
        if bio not in samples[cluster]:
            samples[cluster].append(bio)
            full += len(samples[cluster]) == wanted
            if full == count:
                break
    return samples


# --- the picture ------------------------------------------------------------------------------


def _project(
    fits: Sequence[_ModelFit],
    user_ids: Sequence[str],
    bios: Sequence[str],
    assignments: dict[str, tuple[int, int]],
    settings: ClusterSettings,
) -> list[ProjectedUser]:
    """A sample of each model's users in 2-D, each model in a tile of its own (its space is not
    the other models'), tiles in a row-major grid, largest model first."""
    total = sum(len(f.rows) for f in fits)
    columns = max(1, math.ceil(math.sqrt(len(fits))))
    rng = np.random.default_rng(settings.seed)
    out = []
    for tile, fit in enumerate(sorted(fits, key=lambda f: -len(f.rows))):
        share = max(10, round(settings.scatter_points * len(fit.rows) / total))
        rows = _sample(rng, len(fit.rows), share)
        points = _embed(fit.lsa[rows], settings.seed)
        span = np.ptp(points, axis=0).max() if len(points) else 0.0
        points = (points - points.min(axis=0)) / (span or 1.0)  # within a unit square
        ox, oy = (tile % columns) * 1.25, (tile // columns) * 1.25
        for row, (x, y) in zip(rows, points, strict=True):
            user = user_ids[fit.rows[row]]
            out.append(
                ProjectedUser(
                    user, float(x + ox), float(y + oy), *assignments[user], bios[fit.rows[row]]
                )
            )
    return out


def _embed(points: np.ndarray, seed: int) -> np.ndarray:
    if len(points) > 10:
        return TSNE(
            n_components=2,
            perplexity=min(30.0, (len(points) - 1) / 3),
            init="pca",
            max_iter=500,  # half the default: plenty for a picture, half the seconds
            random_state=seed,
        ).fit_transform(points)
    embedded = np.zeros((len(points), 2))
    embedded[:, : min(2, points.shape[1])] = points[:, :2]
    return embedded


# --- helpers ----------------------------------------------------------------------------------


def _sample(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    """Sorted row indices: all n rows, or a seeded sample of `size` of them."""
    if n <= size:
        return np.arange(n)
    return np.sort(rng.choice(n, size=size, replace=False))


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
