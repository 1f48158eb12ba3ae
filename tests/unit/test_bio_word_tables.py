"""The bio tokenizer's word tables, read without wordfreq's caches, hold what wordfreq's own
readers give: the same segmentation costs, common words and Korean nouns."""

from __future__ import annotations

import math

import regex
import wordfreq

from analysis import bios


def test_segmentation_costs_are_those_of_the_frequency_dicts() -> None:
    pattern = regex.compile(r"[\p{Han}\p{Hiragana}々〆ヶ]{1,8}")
    expected: dict[str, float] = {}
    for lang in ("ja", "zh"):
        for word, freq in wordfreq.get_frequency_dict(lang, "large").items():
            if pattern.fullmatch(word):
                cost = -math.log(freq)
                expected[word] = min(cost, expected.get(word, cost))
    costs = bios._cjk_costs()
    assert len(costs) == len(expected)
    assert all(costs.get(word) == cost for word, cost in expected.items())
    assert costs.get("東京タワー") is None and costs.get("xyz") is None
    assert bios.segment_cjk("東京大学の学生") == ["東京大学", "の", "学生"]


def test_common_and_korean_words_are_wordfreqs() -> None:
    top = {w for lang in ("ja", "zh", "ko") for w in wordfreq.top_n_list(lang, bios.COMMON_WORDS)}
    assert bios.common_words() == top
    assert bios._korean_words() == frozenset(wordfreq.get_frequency_dict("ko", "small"))


def test_shared_terms_keep_every_list_and_share_equal_terms() -> None:
    from analysis.clustering import _shared_terms

    lists = [["music", "art"], [], ["mu" + "sic"], ["art", "art"]]
    shared = _shared_terms(iter(lists))
    assert shared == lists
    assert shared[0][0] is shared[2][0] and shared[3][0] is shared[3][1] is shared[0][1]
