from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence

import redis

from analysis.snapshot import collect_summaries
from analysis.summaries import LanguageSummary
from streamer.config import MapsSettings
from streamer.core.records import Detected
from streamer.storage.connections import redis_client
from streamer.storage.keys import Keys
from streamer.storage.store import (
    ALREADY_APPLIED,
    APPLIED,
    GAP,
    PER_DUPLICATE,
    SEEN_ID_MAX,
    Checkpoint,
    CommitResult,
    Store,
    count_duplicates,
    decode_point,
    decode_timed_point,
    encode_point,
    point_time,
    rank_hashtags,
)


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


async def commit(
    store: Store,
    records: Sequence[Detected],
    counters: Mapping[str, int] | None = None,
    *,
    now: float = 0.0,
    instance: str = "t",
) -> None:
    """Commit `records` as `instance`'s next batch, through the daemon's own commit path."""
    checkpoint = await store.checkpoint(instance)
    seq = checkpoint.seq + 1 if checkpoint else 1
    result = await store.commit_batch(instance, seq, records, counters, now=now)
    assert result == CommitResult(APPLIED, seq)


def test_commits_push_in_order_count_and_cap(redis_url: str) -> None:
    async def go() -> None:
        client = redis_client(redis_url)
        store = Store(client, Keys("t:"), list_cap=5)
        batch = [
            Detected("en", ("a", "b"), (1.0, 2.0)),
            Detected("ja", ("東京",), None),
            Detected("en", (), (3.5, -4.25)),
            Detected("und", ("x",), None),
        ]
        await commit(store, batch, {"lines": 6, "accepted": 4, "skipped:delete": 2})
        await commit(store, [Detected("en", ("c", "d", "e", "f"), None)], {"lines": 1})
        assert await store.languages() == ["en", "ja", "und"]
        counts = await store.language_counts()
        assert (counts["en"].tweets, counts["en"].hashtags, counts["en"].geo) == (3, 6, 2)
        assert counts["und"].tweets == 1  # undetermined posts are kept, never dropped
        # Capped at 5: the oldest tag fell off, the totals still count it.
        assert await store.recent_hashtags("en", 100) == ["b", "c", "d", "e", "f"]
        assert await store.points("en") == [(1.0, 2.0), (3.5, -4.25)]
        assert await store.points("en", 1) == [(3.5, -4.25)]
        assert await store.pipeline_counters() == {
            "lines": 7,
            "accepted": 4,
            "skipped:delete": 2,
        }
        await client.aclose()

    run(go())
    raw = redis.Redis.from_url(redis_url, decode_responses=True)
    assert raw.lrange("t:hashtag_ja", 0, -1) == ["東京"]
    assert raw.type("t:geo_en") == "list"


def test_top_hashtags_uses_the_window_and_breaks_ties_by_name(redis_url: str) -> None:
    async def go() -> dict[str, list[tuple[str, int]]]:
        client = redis_client(redis_url)
        store = Store(client, Keys("t:"))
        tags = ("z",) * 5 + ("b", "a", "a", "b", "c")
        await commit(store, [Detected("en", (t,), None) for t in tags])
        out = await store.top_hashtags(["en"], n=3, window=5)
        await client.aclose()
        return out

    assert run(go()) == {"en": [("a", 2), ("b", 2), ("c", 1)]}


def test_rank_hashtags() -> None:
    assert rank_hashtags(["x", "y", "y", "x", "w"], 2) == [("x", 2), ("y", 2)]
    assert rank_hashtags([], 3) == []


def test_commit_batch_skips_replayed_posts_as_if_they_never_came(redis_url: str) -> None:
    """De-duplication on: a resumed stream's repeated posts leave Redis as if only the new
    posts had been sent (to a store without de-duplication), except for the counters, where
    the repeats move from `accepted` to `skipped:duplicate`."""
    batch = [
        Detected("en", ("a", "b"), (1.0, 2.0), "at://x/1"),
        Detected("ja", ("東京",), None, "at://x/2"),
        Detected("en", (), (3.5, -4.25), "at://x/3"),
        Detected("und", ("x",), None, None),  # no id: cannot be de-duplicated, always stored
    ]

    async def go() -> tuple[dict[str, object], dict[str, object], Checkpoint | None]:
        client = redis_client(redis_url)
        plain, once = Store(client, Keys("p:"), list_cap=3), Store(client, Keys("o:"), list_cap=3)
        counters = {"lines": 4, "accepted": 4}
        await commit(plain, batch, counters, now=5.0)
        first = await once.commit_batch("js", 1, batch, counters, 100, dedupe=True, now=5.0)
        assert first == CommitResult(APPLIED, 1, 0)
        # A resumed stream repeats the last two posts and brings one new one.
        replay = [*batch[2:], Detected("en", ("c", "d"), None, "at://x/4")]
        second = await once.commit_batch(
            "js", 2, replay, {"lines": 3, "accepted": 3}, 200, dedupe=True, now=6.0
        )
        await commit(plain, [replay[-1], batch[3]], {"lines": 3, "accepted": 2}, now=6.0)
        snapshots = []
        for store in (plain, once):
            counts = await store.language_counts()
            snapshots.append(
                {
                    "counts": counts,
                    "tags": {lang: await store.recent_hashtags(lang, 10) for lang in counts},
                    "points": {lang: await store.timed_points(lang) for lang in counts},
                    "pipeline": {
                        k: v
                        for k, v in (await store.pipeline_counters()).items()
                        if k != "skipped:duplicate"
                    },
                }
            )
        dup_count = (await once.pipeline_counters()).get("skipped:duplicate", 0)
        checkpoint = await once.checkpoint("js")
        await client.aclose()
        assert second == CommitResult(APPLIED, 2, 1)
        assert dup_count == 1
        return snapshots[0], snapshots[1], checkpoint

    plain, once, checkpoint = run(go())
    assert once == plain
    assert once["tags"]["en"] == ["b", "c", "d"]  # capped at 3 like every list
    assert checkpoint == Checkpoint(2, 200, 6.0)


def test_duplicates_move_from_accepted_to_skipped_duplicate() -> None:
    counters = {"lines": 5, "accepted": 4, "skipped:delete": 1}
    assert count_duplicates(counters, 3) == {
        "lines": 5, "accepted": 1, "skipped:delete": 1, "skipped:duplicate": 3,
    }  # fmt: skip
    assert count_duplicates({"skipped:duplicate": 2}, 1) == {
        "accepted": -1, "skipped:duplicate": 3,
    }  # fmt: skip
    assert count_duplicates(counters, 0) == counters
    assert counters == {"lines": 5, "accepted": 4, "skipped:delete": 1}  # not changed in place
    # What the single-Redis script adds per duplicate is the same rule.
    assert dict(PER_DUPLICATE) == {"accepted": -1, "skipped:duplicate": 1}


def test_commit_batch_applies_each_sequence_number_once_and_reports_gaps(redis_url: str) -> None:
    post = [Detected("en", ("a",), (1.0, 2.0), None)]
    position = {"index": 0, "file": "10:ab", "offset": 77}

    async def go() -> list[object]:
        client = redis_client(redis_url)
        store = Store(client, Keys("s:"))
        out: list[object] = [
            await store.commit_batch("r", 1, post, {"lines": 1}, position),
            await store.commit_batch("r", 1, post, {"lines": 1}, position),  # sent twice
            await store.commit_batch("r", 3, post, {"lines": 1}, None),  # 2 never arrived
            (await store.language_counts())["en"].tweets,
            # Batch 2 is gone for good: the writer moves past it explicitly.
            await store.commit_batch("r", 3, post, {"lines": 1}, None, expected=1),
            (await store.language_counts())["en"].tweets,
            (await store.pipeline_counters())["lines"],
            await store.checkpoint("r"),
            await store.checkpoint("other"),
        ]
        await client.aclose()
        return out

    got = run(go())
    assert got[0] == CommitResult(APPLIED, 1)
    assert got[1] == CommitResult(ALREADY_APPLIED, 1)
    assert got[2] == CommitResult(GAP, 1)
    assert got[3] == 1
    assert got[4] == CommitResult(APPLIED, 3)
    assert got[5:7] == [2, 2]
    assert isinstance(got[7], Checkpoint) and got[7].seq == 3 and got[7].position is None
    assert got[8] is None


def test_long_post_ids_are_hashed_before_they_name_a_seen_key(redis_url: str) -> None:
    long_a, long_b = "at://" + "a" * 5000, "at://" + "a" * 4999 + "b"

    async def go() -> tuple[list[CommitResult], list[str]]:
        client = redis_client(redis_url)
        store = Store(client, Keys("h:"), list_cap=10)
        results = [
            await store.commit_batch("js", 1, [Detected("en", (), None, long_a)], dedupe=True),
            # the same long id again is a duplicate; one differing only at the end is not
            await store.commit_batch(
                "js", 2, [Detected("en", (), None, long_a), Detected("en", (), None, long_b)],
                dedupe=True,
            ),
        ]  # fmt: skip
        seen = [key async for key in client.scan_iter("h:seen:*")]
        await client.aclose()
        return results, seen

    results, seen = run(go())
    assert [r.duplicates for r in results] == [0, 1]
    assert len(seen) == 2
    assert all(len(key) <= len("h:seen:h:") + 2 * 16 for key in seen)
    assert SEEN_ID_MAX < 5000


def test_points_encode_with_a_time_and_decode_in_either_form() -> None:
    point = (48.8566, -2.3522)
    assert encode_point(point, 1_700_000_123) == b"[48.8566,-2.3522,1700000123]"
    assert encode_point(point) == b"[48.8566,-2.3522]"  # the form stored before times
    assert decode_timed_point(encode_point(point, 1_700_000_123)) == (*point, 1_700_000_123.0)
    assert decode_timed_point(encode_point(point)) == (*point, None)
    assert decode_timed_point("[1, 2]") == (1.0, 2.0, None)
    # The pair reader takes both forms, so `tweetheat points` and older readers keep working.
    assert decode_point(encode_point(point, 1_700_000_123)) == point
    assert decode_point(encode_point(point)) == point
    for bad in ("", "not json", "[1]", "[1, 2, 3, 4]", '{"lat": 1}', '[1, "x"]', '[1, 2, "t"]'):
        assert decode_timed_point(bad) is None, bad
        assert decode_point(bad) is None, bad


def test_point_time_is_whole_seconds_of_now_or_of_the_clock() -> None:
    assert point_time(1_700_000_123.987) == 1_700_000_123
    before = int(time.time())
    assert before <= point_time(0.0) <= time.time()


def test_committed_points_carry_the_commit_time(redis_url: str) -> None:
    commit_at = 1_764_067_287.75

    async def go() -> tuple[list[object], ...]:
        client = redis_client(redis_url)
        store = Store(client, Keys("tp:"))
        batch = [
            Detected("en", ("a",), (1.0, 2.0), "at://x/1"),
            Detected("en", (), None, "at://x/2"),
            Detected("ja", (), (35.5, 139.25), "at://x/3"),
        ]
        await store.commit_batch("js", 1, batch, {"lines": 3}, None, now=commit_at)
        await store.commit_batch(
            "js", 2, [Detected("en", (), (3.5, -4.25), None)], None, None, now=commit_at + 61
        )
        # Without `now`, points carry the clock's time.
        await store.commit_batch("js", 3, [Detected("fr", (), (48.0, 2.0))], now=commit_at + 120)
        before = time.time()
        await store.commit_batch("js", 4, [Detected("fr", (), (49.0, 3.0))])
        after = time.time()
        out = (
            await store.timed_points("en"),
            await store.timed_points("ja"),
            await store.timed_points("fr"),
            await store.points("en"),
            [before, after],
        )
        await client.aclose()
        return out

    en, ja, fr, pairs, (before, after) = run(go())
    assert en == [(1.0, 2.0, 1_764_067_287.0), (3.5, -4.25, 1_764_067_348.0)]
    assert ja == [(35.5, 139.25, 1_764_067_287.0)]
    assert fr[0] == (48.0, 2.0, 1_764_067_407.0)
    clock = fr[1][2]
    assert fr[1][:2] == (49.0, 3.0) and clock is not None
    assert int(before) <= clock <= after
    assert pairs == [(1.0, 2.0), (3.5, -4.25)]  # points() still gives pairs
    raw = redis.Redis.from_url(redis_url, decode_responses=True)
    assert raw.lrange("tp:geo_en", 0, -1) == ["[1.0,2.0,1764067287]", "[3.5,-4.25,1764067348]"]


def test_summaries_use_real_times_only_when_every_point_has_one(redis_url: str) -> None:
    async def go() -> list[LanguageSummary]:
        client = redis_client(redis_url)
        store = Store(client, Keys("ts:"))
        await commit(
            store, [Detected("en", (), (1.0, 2.0)), Detected("ja", (), (35.5, 139.25))], now=1000.0
        )
        # A point stored before times were kept, as an upgraded store still holds it.
        await client.rpush("ts:geo_ja", "[34.5,135.5]")
        summaries = await collect_summaries(store, MapsSettings())
        await client.aclose()
        return summaries

    by_lang = {s.lang: s for s in run(go())}
    assert by_lang["en"].points == ((1.0, 2.0),)
    assert by_lang["en"].point_times == (1000.0,)
    assert by_lang["ja"].points == ((35.5, 139.25), (34.5, 135.5))
    assert by_lang["ja"].point_times is None  # one point has no time: all are estimated
