"""The pool's half of trend counting: the worker counts each batch on event time and packs it
as the commit scripts read it."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from streamer.core.trend_counts import aggregate
from streamer.core.trend_packing import (
    dropped_in_batch,
    language_part,
    pack_counts,
    unpack_counts,
)
from streamer.ingest import worker
from streamer.ingest.langid.chooser import LanguageChooser

TEN = int(datetime(2026, 11, 1, 10, 0, tzinfo=UTC).timestamp())


def tweet(n: int, created_at: str, tags: list[str], lang: str = "en") -> bytes:
    return orjson.dumps(
        {
            "id_str": str(n),
            "created_at": created_at,
            "text": "hello world " + " ".join("#" + t for t in tags),
            "lang": lang,
            "user": {"id_str": "1", "screen_name": "a"},
            "entities": {"hashtags": [{"text": t} for t in tags]},
        }
    )


def test_pack_round_trips_and_splits_by_language() -> None:
    counts = aggregate(
        [
            ("en", "2026-11-01T10:00:05Z", ("a", "b")),
            ("es", "2026-11-01T10:01:00Z", ("a",)),
            ("en", "2026-11-01T09:50:00Z", ("old",)),  # late within the batch
            ("en", None, ("x",)),  # undated
        ]
    )
    back = unpack_counts(pack_counts(counts))
    assert back == counts
    assert dropped_in_batch(pack_counts(counts)) == (1, 1)
    en = unpack_counts(language_part(pack_counts(counts), "en"))
    assert set(en.tags) == {("en", TEN)} and (en.late, en.undated) == (0, 0)
    assert en.newest == counts.newest == TEN + 60
    assert language_part(b"", "en") == b"" and dropped_in_batch(b"") == (0, 0)


def test_the_worker_counts_a_batch_on_event_time_only_when_trends_are_on() -> None:
    worker._chooser = LanguageChooser("default", None, True)
    lines = [
        tweet(1, "Sun Nov 01 10:00:05 +0000 2026", ["Goal", "news"]),
        tweet(2, "Sun Nov 01 10:00:50 +0000 2026", ["goal"]),
        tweet(3, "not a date", ["goal"]),
    ]
    try:
        worker._trends = None
        assert worker.process_parts([lines]).trends == b""
        worker._trends = worker.TrendCounting()
        packed = worker.process_parts([lines])
        counts = unpack_counts(packed.trends)
        assert counts.tags == {("en", TEN): {"goal": 2, "news": 1}}
        assert counts.posts == {("en", TEN): 2} and counts.undated == 1
        # Live sources: a post dated after now + skew is undated, not a watermark jump.
        worker._trends = worker.TrendCounting(clock_skew_seconds=60)
        future = tweet(4, "Fri Nov 01 10:00:05 +0000 2030", ["soon"])
        assert unpack_counts(worker.process_parts([[future]]).trends).undated == 1
    finally:
        worker._trends = None
