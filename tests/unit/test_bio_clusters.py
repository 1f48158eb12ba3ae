"""Language-aware bio clustering: terms in every script, one model per language, noise, stable
cluster ids and their size history, on the multilingual dev set (scripts/bios_devset.py)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

import pytest

from analysis import live_clusters
from analysis.bios import URL_TOKEN, BioTokenizer, is_term
from analysis.cluster_report import write_cluster_report
from analysis.clustering import (
    NO_CLUSTER,
    OTHER,
    ClusterResult,
    ClusterSettings,
    assign,
    fit_clusters,
)
from scripts.bios_devset import DevUser, dev_users
from streamer.config import ClustersSettings

SETTINGS = ClusterSettings(seed=1, scatter_points=100, min_users_per_language=100)
NOTHING_TO_SAY = (
    "",
    "   ",
    "🔥🔥✨",
    "18",
    "♡ ♪ ☆ → 20↑",
    "https://t.co/abc",
    "the and of",
    "@someone",
)


@pytest.fixture(scope="module")
def users() -> list[DevUser]:
    return dev_users(1200, seed=3)


def triples(users: list[DevUser]) -> list[tuple[str, str, str | None]]:
    return [(u.user_id, u.bio, u.lang) for u in users]


@pytest.fixture(scope="module")
def fitted(users: list[DevUser]) -> ClusterResult:
    result = fit_clusters(triples(users), SETTINGS)
    assert isinstance(result, ClusterResult), result
    return result


def majority_language(users: list[DevUser], result: ClusterResult) -> dict[int, str]:
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    for user in users:
        counts[result.assignments[user.user_id][0]][user.lang] += 1
    return {cluster: c.most_common(1)[0][0] for cluster, c in counts.items()}


# --- terms in every script --------------------------------------------------------------------


def test_japanese_and_chinese_become_words() -> None:
    tokenize = BioTokenizer(stopwords=())
    assert tokenize("程序员") == ["程序员"]  # a word of the list stays whole
    # Katakana runs are words whole, Hiragana-only words are grammar, affixes join their word.
    terms = tokenize("無言フォロー失礼します。アニメとゲームが大好きです\uff01成人済腐女子")
    assert terms == ["無言", "フォロー", "失礼", "アニメ", "ゲーム", "大好き", "成人済", "腐女子"]
    assert tokenize("ﾌｫﾛｰ") == ["フォロー"]  # half-width Katakana folds to the usual letters
    assert tokenize("猫") == ["猫"]
    assert tokenize("ツ \u30ce") == []  # a single kana is a smiley or a stroke, not a word


def test_thai_becomes_ngrams_that_keep_vowels_with_their_consonant() -> None:
    thai = BioTokenizer(stopwords=())("ชอบฟังเพลง")
    assert thai and all(2 <= len(t) <= 8 for t in thai)
    assert "ฟัง" in thai  # the vowel mark stays with its consonant: graphemes, not code points
    assert "เพลง" in thai  # a leading vowel stays with the consonant after it
    assert not any(t.endswith("เ") or t.startswith("า") for t in thai)


def test_spaced_scripts_become_words() -> None:
    tokenize = BioTokenizer(stopwords=())
    assert tokenize("مشجع كرة القدم") == ["مشجع", "كرة", "القدم"]
    assert tokenize("방탄소년단 팬") == ["방탄소년단", "팬"]
    assert tokenize("Футбольный БОЛЕЛЬЩИК") == ["футбольный", "болельщик"]
    assert tokenize("python開発") == ["python", "開発"]
    assert tokenize("팬") == ["팬"]  # a Hangul syllable is no single letter
    # A particle after a known Korean noun goes: "헤더는" and "헤더" are one term.
    assert tokenize("헤더는 인장은 고양이") == ["헤더", "인장", "고양이"]
    assert tokenize("𝓂𝓊𝓈𝒾𝒸 \uff4d\uff55\uff53\uff49\uff43") == [
        "music",
        "music",
    ]  # styled letters fold to plain ones


def test_symbols_numbers_contacts_and_links_are_not_terms() -> None:
    tokenize = BioTokenizer(stopwords=(), links=False)
    assert tokenize("→ instagram life ig 18 ♪ https://t.co/x 2024 ♡ ˘ ♥ ☆") == ["life"]
    # Ages, ordinals, single letters and kaomoji letters say nothing about a topic.
    assert tokenize("18yo 21y 28th 90s x ε ʃƪ(\u02c6\u25bd\u02c6) ㅤㅤ ㅠㅠ 5sos") == ["5sos"]
    assert BioTokenizer(stopwords=())("life https://t.co/x") == ["life", URL_TOKEN]
    for bio in NOTHING_TO_SAY:
        assert BioTokenizer()(bio) == [] or bio.startswith("https"), bio


def test_top_terms_are_words(fitted: ClusterResult) -> None:
    terms = [t for c in (*fitted.kmeans.clusters, *fitted.hdbscan.clusters) for t in c.top_terms]
    assert terms and all(is_term(t) for t in terms)
    assert all("<" not in t for t in terms)


# --- one model per language -------------------------------------------------------------------


def test_each_large_language_has_its_model_and_the_rest_share_one(
    users: list[DevUser], fitted: ClusterResult
) -> None:
    per_language = Counter(u.lang for u in users if BioTokenizer(links=False)(u.bio))
    names = {m.name for m in fitted.models}
    large = {lang for lang, n in per_language.items() if n >= SETTINGS.min_users_per_language}
    assert large and large | {OTHER} == names
    other = next(m for m in fitted.models if m.name == OTHER)
    assert set(other.languages) == set(per_language) - large


def test_clusters_hold_one_language(users: list[DevUser], fitted: ClusterResult) -> None:
    majority = majority_language(users, fitted)
    clustered = [u for u in users if fitted.assignments[u.user_id][0] != NO_CLUSTER]
    own = sum(majority[fitted.assignments[u.user_id][0]] == u.lang for u in clustered)
    assert own / len(clustered) >= 0.9
    for lang in ("ja", "zh", "th"):
        mine = [u for u in clustered if u.lang == lang]
        assert mine, lang
        home = sum(majority[fitted.assignments[u.user_id][0]] == lang for u in mine)
        assert home / len(mine) >= 0.9, lang


def test_undetermined_language_is_never_a_model_of_its_own(users: list[DevUser]) -> None:
    undetermined = [(u.user_id, u.bio, "und") for u in users]
    by_post = fit_clusters(undetermined, replace(SETTINGS, bio_language=False))
    assert isinstance(by_post, ClusterResult)
    assert [m.name for m in by_post.models] == [OTHER]
    # By the bio's own language, most find their model; the bios it cannot tell stay shared.
    by_bio = fit_clusters(undetermined, SETTINGS)
    assert isinstance(by_bio, ClusterResult)
    assert "und" not in {m.name for m in by_bio.models} and {"en", "ja"} <= {
        m.name for m in by_bio.models
    }


def test_the_bio_language_picks_the_model_not_the_post_language(users: list[DevUser]) -> None:
    # Bios in English over posts labelled Indonesian: the English model, not the Indonesian.
    english = [u for u in users if u.lang == "en"]
    relabelled = [(u.user_id, u.bio, "id" if u in english else u.lang) for u in users]
    result = fit_clusters(relabelled, SETTINGS)
    assert isinstance(result, ClusterResult)
    en = next(m for m in result.models if m.name == "en")
    # (The rest are bios too short for the detector: they keep the post's label.)
    assert len(en.user_ids & {u.user_id for u in english}) >= 0.75 * len(english)


def test_a_new_user_joins_the_model_of_their_language(
    users: list[DevUser], fitted: ClusterResult
) -> None:
    [(kmeans, _)] = assign(fitted.model, ["ゲーム実況 | 配信者"], ["ja"])
    ja = {c.id for c in fitted.kmeans.clusters if c.model == "ja"}
    assert kmeans in ja
    # The bio's own language decides: a Japanese bio joins ja whatever its post's label ...
    assert assign(fitted.model, ["ゲーム実況 | 配信者"], ["xx"])[0][0] in ja
    # ... and the post's label is used when the bio has no language the detector can tell.
    by_post = fit_clusters(triples(users), replace(SETTINGS, bio_language=False))
    assert isinstance(by_post, ClusterResult)
    ja_by_post = {c.id for c in by_post.kmeans.clusters if c.model == "ja"}
    assert assign(by_post.model, ["ゲーム実況 | 配信者"], ["xx"])[0][0] not in ja_by_post


# --- noise -----------------------------------------------------------------------------------


def test_bios_with_nothing_usable_are_the_noise_group(users: list[DevUser]) -> None:
    blank = [(f"blank{n}", NOTHING_TO_SAY[n % len(NOTHING_TO_SAY)], "en") for n in range(80)]
    result = fit_clusters(triples(users) + blank, SETTINGS)
    assert isinstance(result, ClusterResult)
    assert all(result.assignments[uid] == (NO_CLUSTER, NO_CLUSTER) for uid, _, _ in blank)
    english = next(m for m in result.models if m.name == "en")
    assert english.no_usable_bio >= len(blank)
    assert result.users + result.empty_bios == len(users) + len(blank)
    report = result.to_json_dict()
    assert report["empty_bios"] == result.empty_bios
    assert sum(m["no_usable_bio"] for m in report["models"]) <= result.empty_bios
    hdbscan_noise = sum(1 for _, h in result.assignments.values() if h == NO_CLUSTER)
    assert result.hdbscan.noise == hdbscan_noise - result.empty_bios


# --- stable ids ------------------------------------------------------------------------------


def test_ids_are_stable_across_two_refits_of_the_same_users(
    users: list[DevUser], fitted: ClusterResult
) -> None:
    state = json.loads(json.dumps(fitted.identities))  # as it comes back from the file
    again = fit_clusters(triples(users), SETTINGS, previous=state)
    assert isinstance(again, ClusterResult)
    assert again.assignments == fitted.assignments
    before = {c.id: c.size for c in fitted.kmeans.clusters}
    assert all(c.history == (before[c.id], c.size) for c in again.kmeans.clusters)
    assert all(c.trend == "steady" for c in again.kmeans.clusters)
    assert not again.gone


def test_ids_follow_the_same_members_when_the_fit_numbers_them_differently(
    users: list[DevUser], fitted: ClusterResult
) -> None:
    # Another seed: KMeans finds its clusters in another order (and some differ). A cluster
    # that is mostly one previous cluster must carry that cluster's id; others get fresh ids.
    other_seed = ClusterSettings(seed=7, scatter_points=100, min_users_per_language=100)
    again = fit_clusters(triples(users), other_seed, previous=fitted.identities)
    plain = fit_clusters(triples(users), other_seed)
    assert isinstance(again, ClusterResult) and isinstance(plain, ClusterResult)
    members: dict[int, Counter[int]] = defaultdict(Counter)
    for user in users:
        members[again.assignments[user.user_id][0]][fitted.assignments[user.user_id][0]] += 1
    before = {c.id: c.size for c in fitted.kmeans.clusters}
    same = 0
    for cluster in again.kmeans.clusters:
        previous, shared = members[cluster.id].most_common(1)[0]
        # The same community: 80% of it were in the old cluster, and 80% of the old cluster
        # are in it (where a cluster splits, which part keeps the id is the matching's call).
        if shared >= 0.8 * cluster.size and shared >= 0.8 * before.get(previous, 0):
            assert cluster.id == previous
            same += cluster.size
        if cluster.id >= fitted.identities["kmeans"]["next_id"]:
            assert len(cluster.history) == 1
    # Each language model picks its own k with its seed, so not every cluster survives.
    assert same >= 0.3 * again.users
    # Without the previous state the ids are simply by size: not the same numbering.
    assert plain.assignments != again.assignments


def test_history_is_bounded_and_gone_clusters_are_reported(users: list[DevUser]) -> None:
    settings = ClusterSettings(seed=1, scatter_points=50, min_users_per_language=100, history=2)
    state = None
    for _ in range(3):
        result = fit_clusters(triples(users), settings, previous=state)
        assert isinstance(result, ClusterResult)
        state = result.identities
    assert max(len(c.history) for c in result.kmeans.clusters) == 2
    assert all(len(c["history"]) <= 2 for c in state["kmeans"]["clusters"])
    english = [u for u in users if u.lang == "en"]
    only_en = fit_clusters(triples(english), settings, previous=state)
    assert isinstance(only_en, ClusterResult)
    assert {g.model for g in only_en.gone} >= {"ja", OTHER}
    assert all(c.model == "en" for c in only_en.kmeans.clusters)


def test_the_daemon_keeps_ids_in_a_state_file(users: list[DevUser], tmp_path: Path) -> None:
    settings = ClustersSettings(seed=1, min_users_per_language=100)
    rows = triples(users)
    first = live_clusters.refit(rows, settings, tmp_path / "out", state_dir=tmp_path / "state")
    assert (tmp_path / "state" / live_clusters.IDENTITIES_NAME).is_file()
    second = live_clusters.refit(rows, settings, tmp_path / "out", state_dir=tmp_path / "state")
    assert first.assignments == second.assignments
    histories = [c["history"] for c in second.report["kmeans"]["clusters"]]
    assert histories and all(len(h) == 2 for h in histories)
    page = (tmp_path / "out" / "clusters" / "index.html").read_text(encoding="utf-8")
    assert "Language models" in page and "Language: ja" in page and "Other languages" in page


def test_report_has_a_section_per_model(fitted: ClusterResult, tmp_path: Path) -> None:
    page = write_cluster_report(tmp_path, fitted)[1].read_text(encoding="utf-8")
    for model in fitted.models:
        assert f"<td>{model.name}</td>" in page
    assert page.count("<h2>Language: ") + page.count("<h2>Other languages") == len(fitted.models)
    assert "No usable bio" in page and "HDBSCAN noise" in page
