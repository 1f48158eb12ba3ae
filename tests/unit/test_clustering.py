"""Bio clustering: preprocessing, KMeans/HDBSCAN fits, assignment of new users, the report.

The users come from scripts/bench_clusters.py: bios composed from the demo corpus, one topic per
user, in many languages, with links, emoji, stretched words and some empty bios. Knowing each
user's topic lets the tests measure how pure the clusters are.
"""

from __future__ import annotations

import json
import os
import pickle
from collections import Counter
from pathlib import Path

import pytest

from analysis.bios import URL_TOKEN, BioTokenizer, multilingual_stopwords
from analysis.cluster_report import (
    HTML_NAME,
    JSON_NAME,
    MAX_DOTS,
    shown_dots,
    write_cluster_report,
)
from analysis.clustering import (
    NO_CLUSTER,
    ClusterResult,
    ClusterSettings,
    ProjectedUser,
    SkipReason,
    assign,
    fit_clusters,
)
from scripts.bench_clusters import SyntheticUser, purity, synthetic_users
from streamer.ingest.langid import stopwords as langid_stopwords
from tests.conftest import SHARED_DATA

PURITY_FLOOR = 0.9
SETTINGS = ClusterSettings(seed=5, scatter_points=300)  # a small scatter keeps t-SNE quick
SCRIPT_BIO = "<script>alert(1)</script> musician | guitar"


def pairs(users: list[SyntheticUser]) -> list[tuple[str, str]]:
    return [(u.user_id, u.bio) for u in users]


@pytest.fixture(scope="module")
def users() -> list[SyntheticUser]:
    return synthetic_users(3000, seed=11)


@pytest.fixture(scope="module")
def fitted(users: list[SyntheticUser]) -> ClusterResult:
    result = fit_clusters(pairs(users), SETTINGS)
    assert isinstance(result, ClusterResult), result
    return result


def majority_topics(
    users: list[SyntheticUser], result: ClusterResult, algorithm: int
) -> dict[int, str | None]:
    """cluster id -> most common topic of its members (algorithm 0: KMeans, 1: HDBSCAN)."""
    counts: dict[int, Counter[str | None]] = {}
    for user in users:
        cluster = result.assignments[user.user_id][algorithm]
        counts.setdefault(cluster, Counter())[user.topic] += 1
    return {cluster: c.most_common(1)[0][0] for cluster, c in counts.items()}


# --- preprocessing ----------------------------------------------------------------------------


def test_links_become_one_token() -> None:
    tokens = BioTokenizer(stopwords=())("guitar https://t.co/abc123 and www.example.com/x")
    assert tokens == ["guitar", URL_TOKEN, "and", URL_TOKEN]


def test_repeated_letters_are_shortened_and_handles_dropped() -> None:
    tokens = BioTokenizer(stopwords=())("Sooooooo happppyyyyy cooool @someone")
    assert tokens == ["soo", "happyy", "cool"]


def test_stopwords_of_several_languages_are_removed() -> None:
    tokens = BioTokenizer()("The guitar and I, je suis le musicien, ich bin ein Gitarrist")
    assert tokens == ["guitar", "musicien", "gitarrist"]


def test_punctuation_numbers_symbols_and_emoji_never_become_terms() -> None:
    tokens = BioTokenizer(stopwords=())("guitar | drums ... !!! — (bass) 🎸 ❤️ #Music 18 ♡ → ☆ 18yo")
    # Terms need a letter: emoji, symbols, punctuation and bare numbers say nothing about a topic
    # and are shared by every language, so they used to make the largest clusters.
    assert tokens == ["guitar", "drums", "bass", "music"]


def test_tokenizer_pickles_with_its_stopwords() -> None:
    tokenizer = BioTokenizer(stopwords={"guitar"})
    copy = pickle.loads(pickle.dumps(tokenizer))
    assert copy("Guitar and drums") == tokenizer("Guitar and drums") == ["and", "drums"]


def test_stopwords_come_from_nltk_when_its_corpus_is_there(monkeypatch: pytest.MonkeyPatch) -> None:
    nltk_data = SHARED_DATA / "nltk_data"
    assert (nltk_data / "corpora" / "stopwords").is_dir(), f"no NLTK corpus under {nltk_data}"
    monkeypatch.setenv("NLTK_DATA", str(nltk_data))
    multilingual_stopwords.cache_clear()
    try:
        words = multilingual_stopwords()
    finally:
        multilingual_stopwords.cache_clear()
    # stopwords-iso's English list has content words like "computer"; NLTK's has not.
    assert {"the", "und", "les", "и"} <= words
    assert "computer" not in words


def test_stopwords_fall_back_to_stopwordsiso(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(langid_stopwords, "load_nltk_lists", lambda nltk_data=None: {})
    multilingual_stopwords.cache_clear()
    try:
        words = multilingual_stopwords()
    finally:
        multilingual_stopwords.cache_clear()
    assert {"the", "und", "les", "и", "computer"} <= words


# --- fitting ----------------------------------------------------------------------------------


def test_kmeans_clusters_are_mostly_one_topic(
    users: list[SyntheticUser], fitted: ClusterResult
) -> None:
    labels = {uid: kmeans for uid, (kmeans, _) in fitted.assignments.items()}
    assert purity(labels, {u.user_id: u.topic for u in users}) >= PURITY_FLOOR
    # Without languages every user is in one model; its k range widens past k_max while the
    # best silhouette sits at the top of the range.
    [model] = fitted.models
    assert SETTINGS.k_min <= model.k <= SETTINGS.k_limit
    assert model.silhouette == max(model.silhouettes.values())
    tried = sorted(model.inertia)
    assert tried == list(range(SETTINGS.k_min, tried[-1] + 1))
    assert tried[-1] >= SETTINGS.k_max
    assert model.k < tried[-1] or tried[-1] in (SETTINGS.k_max, SETTINGS.k_limit)
    assert fitted.kmeans.k == len(fitted.kmeans.clusters) == model.k


def test_hdbscan_clusters_are_mostly_one_topic_with_noise(
    users: list[SyntheticUser], fitted: ClusterResult
) -> None:
    labels = {uid: found for uid, (_, found) in fitted.assignments.items()}
    assert purity(labels, {u.user_id: u.topic for u in users}) >= PURITY_FLOOR
    assert len(fitted.hdbscan.clusters) >= 2
    usable_noise = sum(1 for label in labels.values() if label == NO_CLUSTER) - fitted.empty_bios
    assert fitted.hdbscan.noise == usable_noise > 0


def test_terms_describe_the_topics(fitted: ClusterResult) -> None:
    all_terms = {term for c in fitted.kmeans.clusters for term in c.top_terms}
    assert {"musician", "gamer", "journalist", "chef", "illustrator"} <= all_terms


def test_empty_bios_are_left_out_with_no_cluster(
    users: list[SyntheticUser], fitted: ClusterResult
) -> None:
    blank = [u for u in users if not u.bio.strip() or u.bio == "..."]
    assert blank
    assert all(fitted.assignments[u.user_id] == (NO_CLUSTER, NO_CLUSTER) for u in blank)
    assert fitted.users + fitted.empty_bios == len(users) == len(fitted.assignments)
    assert fitted.empty_bios >= len(blank)


def test_same_seed_gives_the_same_json(users: list[SyntheticUser], fitted: ClusterResult) -> None:
    again = fit_clusters(pairs(users), SETTINGS)
    assert isinstance(again, ClusterResult)
    first, second = fitted.to_json_dict(), again.to_json_dict()
    for moment in ("fitted_at", "seconds"):
        first.pop(moment)
        second.pop(moment)
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    assert again.assignments == fitted.assignments


def test_a_clear_music_bio_goes_where_the_music_users_are(
    users: list[SyntheticUser], fitted: ClusterResult
) -> None:
    model = pickle.loads(pickle.dumps(fitted.model))  # as the daemon keeps it between refits
    [(kmeans, found)] = assign(model, ["Musician | songwriter | live music, concerts"])
    assert majority_topics(users, fitted, 0)[kmeans] == "music"
    assert found != NO_CLUSTER
    assert majority_topics(users, fitted, 1)[found] == "music"


def test_new_users_join_clusters_of_their_topic(
    users: list[SyntheticUser], fitted: ClusterResult
) -> None:
    newcomers = [u for u in synthetic_users(400, seed=12) if u.topic is not None]
    placed = assign(fitted.model, [u.bio for u in newcomers])
    topic_of_cluster = majority_topics(users, fitted, 0)
    agreeing = sum(
        topic_of_cluster.get(kmeans) == u.topic
        for u, (kmeans, _) in zip(newcomers, placed, strict=True)
    )
    assert agreeing / len(newcomers) >= PURITY_FLOOR


def test_bios_without_known_words_get_no_cluster(fitted: ClusterResult) -> None:
    assert (
        assign(fitted.model, ["", "... !!!", "zzqxv wqkrp", "the and le"])
        == [(NO_CLUSTER, NO_CLUSTER)] * 4
    )
    assert assign(fitted.model, []) == []


def test_result_pickles(fitted: ClusterResult) -> None:
    copy = pickle.loads(pickle.dumps(fitted))
    assert copy.to_json_dict() == fitted.to_json_dict()
    bios = ["python developer | open source", "chef | recipes"]
    assert assign(copy.model, bios) == assign(fitted.model, bios)


def test_too_few_users_is_a_skip(users: list[SyntheticUser]) -> None:
    skip = fit_clusters(pairs(users[:20]), SETTINGS)
    assert isinstance(skip, SkipReason)
    assert "too few" in skip.reason
    assert skip.users == 20


def test_bios_empty_after_preprocessing_are_a_skip() -> None:
    blank = [(f"u{n}", ("", "   ", "!!! ...", "the and of", "@someone")[n % 5]) for n in range(200)]
    skip = fit_clusters(blank, SETTINGS)
    assert isinstance(skip, SkipReason)
    assert skip.reason
    assert skip.users == 200


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="k_min"):
        ClusterSettings(k_min=6, k_max=3)
    with pytest.raises(ValueError, match="min_users"):
        ClusterSettings(k_max=12, min_users=10)


# --- JSON and report --------------------------------------------------------------------------


def test_json_has_the_documented_shape(fitted: ClusterResult) -> None:
    data = json.loads(json.dumps(fitted.to_json_dict()))
    assert {"users", "kmeans", "hdbscan"} <= set(data)
    assert data["users"] == fitted.users
    assert {"k", "silhouette", "clusters"} <= set(data["kmeans"])
    assert {"clusters", "noise"} <= set(data["hdbscan"])
    kmeans, found = data["kmeans"]["clusters"], data["hdbscan"]["clusters"]
    assert len(kmeans) == data["kmeans"]["k"]
    for clusters in (kmeans, found):
        assert [c["id"] for c in clusters] == list(range(len(clusters)))
        assert [c["size"] for c in clusters] == sorted((c["size"] for c in clusters), reverse=True)
        for cluster in clusters:
            assert {"id", "size", "top_terms", "sample_bios", "model", "history"} <= set(cluster)
            assert cluster["history"][-1] == cluster["size"]
            assert 0 < len(cluster["top_terms"]) <= SETTINGS.top_terms
            assert 0 < len(cluster["sample_bios"]) <= SETTINGS.sample_bios
            assert all(isinstance(t, str) for t in cluster["top_terms"] + cluster["sample_bios"])
    assert sum(c["size"] for c in kmeans) == data["users"]
    assert sum(c["size"] for c in found) + data["hdbscan"]["noise"] == data["users"]


def test_sample_bios_belong_to_their_cluster(
    users: list[SyntheticUser], fitted: ClusterResult
) -> None:
    members: dict[int, set[str]] = {}
    for user in users:
        members.setdefault(fitted.assignments[user.user_id][0], set()).add(user.bio.strip())
    for cluster in fitted.kmeans.clusters:
        assert set(cluster.sample_bios) <= members[cluster.id]


@pytest.fixture(scope="module")
def with_script_bio() -> ClusterResult:
    users = synthetic_users(250, seed=3)
    users += [SyntheticUser(f"x{n}", SCRIPT_BIO, "music", "en") for n in range(5)]
    # Every user is projected (scatter_points > users), so every bio is in a tooltip.
    result = fit_clusters(pairs(users), ClusterSettings(seed=1, min_cluster_size=10))
    assert isinstance(result, ClusterResult)
    return result


def test_report_escapes_user_text(tmp_path: Path, with_script_bio: ClusterResult) -> None:
    json_path, html_path = write_cluster_report(tmp_path, with_script_bio)
    page = html_path.read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # Offline: nothing is loaded from elsewhere.
    assert "<link" not in page and "src=" not in page
    assert page.count("<circle") == len(with_script_bio.projection)
    assert json.loads(json_path.read_text(encoding="utf-8")) == json.loads(
        json.dumps(with_script_bio.to_json_dict())
    )


def test_report_shows_clusters_and_noise(tmp_path: Path, with_script_bio: ClusterResult) -> None:
    page = write_cluster_report(tmp_path, with_script_bio)[1].read_text(encoding="utf-8")
    assert "<svg" in page and "<title>" in page
    assert f"k = {with_script_bio.kmeans.k}" in page
    assert page.count('<span class="bar"') >= len(with_script_bio.kmeans.clusters)
    for cluster in with_script_bio.kmeans.clusters:
        assert f".k{cluster.id} {{ fill:" in page
    assert "noise" in page


def test_report_is_written_atomically(tmp_path: Path, with_script_bio: ClusterResult) -> None:
    directory = tmp_path / "clusters"
    directory.mkdir()
    (directory / JSON_NAME).write_text("old", encoding="utf-8")
    written = write_cluster_report(tmp_path, with_script_bio)
    assert written == [directory / JSON_NAME, directory / HTML_NAME]
    assert sorted(os.listdir(directory)) == sorted([HTML_NAME, JSON_NAME])
    assert (directory / JSON_NAME).read_text(encoding="utf-8") != "old"


def test_a_failed_write_leaves_the_old_report_and_no_temp_file(
    tmp_path: Path, with_script_bio: ClusterResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "clusters"
    directory.mkdir()
    (directory / JSON_NAME).write_text("old", encoding="utf-8")

    def failing_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        write_cluster_report(tmp_path, with_script_bio)
    assert os.listdir(directory) == [JSON_NAME]
    assert (directory / JSON_NAME).read_text(encoding="utf-8") == "old"


def test_scatter_draws_at_most_max_dots() -> None:
    many = [ProjectedUser(str(n), float(n), 0.0, 0, NO_CLUSTER, "bio") for n in range(MAX_DOTS * 2)]
    shown = shown_dots(many)
    assert len(shown) == MAX_DOTS
    assert shown == shown_dots(many)
    assert len({d.user_id for d in shown}) == MAX_DOTS
