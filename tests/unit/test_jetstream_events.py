"""The whole Jetstream event zoo: every kind parsed or skipped by name, against the demo's
generator (what it put in) and a hypothesis fuzz over Jetstream-shaped events."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamer.core.records import AccountGone, Post, Profile, Skip
from streamer.ingest import worker
from streamer.ingest.jetstream_events import REASONS
from streamer.ingest.parser import MAX_DETAIL_CHARS, parse_payload
from streamer.sources.jetstream_generator import (
    demo_profile,
    generate_jetstream,
    make_did,
    make_tid,
)

DID = re.compile(r"did:plc:[a-z2-7]{24}")
TID = re.compile(r"[2-7a-z]{13}")
# What each generated kind must become.
EXPECTED = {
    "delete": "delete",
    "like": "other_collection",
    "repost": "other_collection",
    "follow": "other_collection",
    "identity": "identity",
    "account": "account",
}


def test_generated_events_look_like_jetstream() -> None:
    times = []
    for line, truth in generate_jetstream(2000, seed=3):
        event = orjson.loads(line)
        assert list(event)[:3] == ["did", "time_us", "kind"]  # the source reads the cursor early
        assert DID.fullmatch(event["did"]) and event["did"] == truth.did
        times.append(event["time_us"])
        if event["kind"] == "commit":
            assert TID.fullmatch(event["commit"]["rev"])
            if event["commit"]["collection"] != "app.bsky.actor.profile":
                assert TID.fullmatch(event["commit"]["rkey"])
    assert times == sorted(times)
    kinds = Counter(truth.kind for _, truth in generate_jetstream(2000, seed=3))
    assert set(kinds) == {"post", *EXPECTED, "profile", "account_gone"}


def test_tids_sort_like_their_times() -> None:
    tids = [make_tid(t, 5) for t in (1, 2, 10**15, 10**15 + 1, 2**53 - 1)]
    assert tids == sorted(tids)
    assert all(len(tid) == 13 for tid in tids)


def test_every_generated_event_parses_as_the_generator_meant() -> None:
    seen = Counter()
    for line, truth in generate_jetstream(3000, seed=5):
        item = parse_payload(line)
        seen[truth.kind] += 1
        if truth.kind == "post":
            assert isinstance(item, Post), item
            assert item.id == truth.id and item.user_id == truth.did
            assert item.hashtags == truth.hashtags, orjson.loads(line)
            assert item.platform_lang == truth.lang
            assert item.geo is None and item.bio is None
        elif truth.kind == "profile":
            shown = demo_profile(truth.did)
            if shown is not None and "description" in shown:
                assert item == Profile(truth.did, shown["displayName"], shown["description"])
            else:
                assert isinstance(item, Skip) and item.reason == "profile_no_bio"
        elif truth.kind == "account_gone":
            assert isinstance(item, AccountGone) and item.user_id == truth.did
            assert item.status in ("takendown", "deactivated", "deleted", "suspended")
        else:
            assert isinstance(item, Skip) and item.reason == EXPECTED[truth.kind], item
    assert seen["post"] > 2000


def test_posts_with_tags_only_in_their_text_are_read_by_bluesky_rules() -> None:
    text_only = 0
    for line, truth in generate_jetstream(3000, seed=2):
        event = orjson.loads(line)
        record = event.get("commit", {}).get("record", {})
        if truth.kind == "post" and truth.hashtags and "facets" not in record:
            text_only += 1
            assert parse_payload(line).hashtags == truth.hashtags  # type: ignore[union-attr]
    assert text_only > 50


def test_the_worker_reports_post_authors_once_and_accounts_gone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A pool process ignores SIGINT/SIGTERM; the test process must not: later tests start
    # pools of their own, which would inherit that and never stop.
    monkeypatch.setattr(worker, "prepare_pool_process", lambda pid: None)
    worker.init_worker("default", None, 1)
    lines = [line for line, _ in generate_jetstream(1500, seed=9)]
    truths = [truth for _, truth in generate_jetstream(1500, seed=9)]
    result = worker.process_batch(lines)
    posting = {t.did for t in truths if t.kind == "post"}
    gone = [t.did for t in truths if t.kind == "account_gone"]
    assert set(result.authors) == posting - set(gone)
    assert len(result.authors) == len(set(result.authors))
    assert result.gone == gone
    assert result.skipped["account_gone"] == len(gone)
    assert len(result.records) == sum(t.kind == "post" for t in truths)


def test_demo_profiles_are_a_function_of_the_did() -> None:
    import random

    rng = random.Random(4)
    dids = [make_did(rng) for _ in range(400)]
    assert [demo_profile(d) for d in dids] == [demo_profile(d) for d in dids]
    unknown = sum(demo_profile(d) is None for d in dids)
    assert 0 < unknown < 40


# --- fuzz: Jetstream-shaped events with odd values anywhere ------------------------------

ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.lists(st.booleans(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.booleans(), max_size=3),
)
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)) | st.sampled_from("#\uff03 \u200b\ufe0f"),
    max_size=80,
)
FEATURE = st.fixed_dictionaries(
    {"$type": st.sampled_from(["app.bsky.richtext.facet#tag", "app.bsky.richtext.facet#link",
                               "app.bsky.richtext.facet#mention", "x#tag"]),
     "tag": st.one_of(TEXT, ODD)}
)  # fmt: skip
FACET = st.one_of(
    st.fixed_dictionaries(
        {"index": ODD, "features": st.one_of(st.lists(FEATURE, max_size=3), ODD)}
    ),
    ODD,
)
RECORD = st.fixed_dictionaries(
    {"$type": st.just("app.bsky.feed.post"), "text": st.one_of(TEXT, ODD)},
    optional={
        "facets": st.one_of(st.lists(FACET, max_size=4), ODD),
        "tags": st.one_of(st.lists(st.one_of(TEXT, ODD), max_size=4), ODD),
        "langs": st.one_of(st.lists(st.one_of(st.text(max_size=6), ODD), max_size=3), ODD),
        "createdAt": st.one_of(st.text(max_size=30), st.just("2024-09-09T19:46:02.102Z"), ODD),
        "reply": ODD,
        "embed": ODD,
        "description": st.one_of(TEXT, ODD),
        "displayName": st.one_of(TEXT, ODD),
    },
)
COMMIT = st.fixed_dictionaries(
    {
        "operation": st.one_of(st.sampled_from(["create", "update", "delete"]), ODD),
        "collection": st.one_of(
            st.sampled_from(["app.bsky.feed.post", "app.bsky.actor.profile",
                             "app.bsky.feed.like"]), ODD),
    },
    optional={"rkey": st.one_of(st.text(max_size=15), ODD), "record": st.one_of(RECORD, ODD)},
)  # fmt: skip
EVENT = st.fixed_dictionaries(
    {
        "did": st.one_of(st.just("did:plc:eygmaihciaxprqvxpfvl6flk"), ODD),
        "kind": st.one_of(st.sampled_from(["commit", "identity", "account", "sync"]), ODD),
    },
    optional={
        "time_us": st.one_of(st.integers(min_value=0, max_value=2**63 - 1), ODD),
        "commit": st.one_of(COMMIT, ODD),
        "account": st.one_of(
            st.fixed_dictionaries({"active": st.one_of(st.booleans(), ODD)},
                                  optional={"status": st.one_of(st.text(max_size=80), ODD)}),
            ODD),
        "identity": ODD,
    },
)  # fmt: skip


@settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=400,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(EVENT)
def test_any_jetstream_shaped_event_is_read_or_skipped_by_name(event: dict[str, Any]) -> None:
    item = parse_payload(orjson.dumps(event, option=orjson.OPT_NON_STR_KEYS))
    if isinstance(item, Skip):
        assert item.reason in REASONS, item
        assert len(item.detail) <= MAX_DETAIL_CHARS
        assert not item.detail.startswith("parser bug"), item.detail
    elif isinstance(item, AccountGone):
        assert event["kind"] == "account" and event["account"]["active"] is False
        assert item.user_id == event["did"] and len(item.status) <= 64
    elif isinstance(item, Profile):
        assert event["commit"]["collection"] == "app.bsky.actor.profile"
        assert isinstance(item.bio, str)
    else:
        assert isinstance(item, Post)
        assert event["commit"]["collection"] == "app.bsky.feed.post"
        assert item.text == event["commit"]["record"]["text"]
        for tag in item.hashtags:
            assert tag and tag == tag.lower() and len(tag) <= 64 * 4
