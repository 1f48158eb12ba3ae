"""The trend model: event-time counting with a watermark, and scoring against a baseline."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from analysis.trends import TrendParams, span_seconds, timeline, trending
from streamer.core.trend_counts import (
    EventClock,
    aggregate,
    bucket_iso,
    bucket_of,
    merge_capped,
)

T0 = 1539172800  # 2018-10-10T12:00:00Z
STEP = 60
Buckets = dict[int, dict[str, int]]


def series(minutes: int, rate: Callable[[int], dict[str, int]]) -> Buckets:
    """Buckets T0, T0+60, ... with the counts `rate(minute)` gives."""
    return {T0 + STEP * m: {t: n for t, n in rate(m).items() if n} for m in range(minutes)}


def at(minute: int) -> int:
    return T0 + STEP * minute


def tags_at(buckets: Buckets, minute: int, params: TrendParams | None = None) -> list[str]:
    return [t["tag"] for t in trending(buckets, at(minute), params)]


BACKGROUND = {"daily": 30, "weather": 12, "music": 5}


def test_a_tag_rising_from_nothing_trends_from_its_onset() -> None:
    onset = 90
    buckets = series(100, lambda m: {**BACKGROUND, "quake": 4 if m >= onset else 0})
    found = trending(buckets, at(onset + 4))
    assert [t["tag"] for t in found] == ["quake"]
    quake = found[0]
    assert quake["count"] == 20
    assert quake["baseline"] > 0
    assert quake["score"] >= TrendParams().min_score
    # `since` is the first bucket of the run that ends now, never before the onset.
    since = bucket_of(quake["since"])
    assert since is not None and at(onset) <= since <= at(onset + 4)
    assert trending(buckets, since - STEP) == []


def test_a_tag_doubling_from_a_high_base_trends_a_small_rise_does_not() -> None:
    doubled = series(130, lambda m: {**BACKGROUND, "news": 40 if m < 120 else 80})
    assert "news" in tags_at(doubled, 124)
    risen = series(130, lambda m: {**BACKGROUND, "news": 40 if m < 120 else 52})
    assert tags_at(risen, 124) == []


def test_a_slow_drift_is_never_a_trend() -> None:
    # Triples over four hours: large in total, small from one hour to the next.
    buckets = series(240, lambda m: {**BACKGROUND, "drift": 10 + m * 20 // 240})
    reported = {tag for minute in range(35, 240) for tag in tags_at(buckets, minute)}
    assert reported == set()


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth's method; the rates here are small)."""
    limit, k, p = 2.718281828459045**-lam, 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def test_a_steep_noisy_drift_is_followed_not_lagged_behind() -> None:
    # Quadruples over four hours with Poisson noise: a baseline that only averages the past
    # lags about an hour behind such a line and sees the present as a rise.
    rng = random.Random(5)
    buckets = series(300, lambda m: {**BACKGROUND, "drift": poisson(rng, 5 + 15 * m / 240)})
    reported = {tag for minute in range(35, 300) for tag in tags_at(buckets, minute)}
    assert reported == set()


def test_a_burst_on_top_of_a_drift_still_trends() -> None:
    rng = random.Random(6)
    buckets = series(
        200,
        lambda m: {**BACKGROUND, "drift": poisson(rng, 5 + 15 * m / 240 + 12 * (m >= 190))},
    )
    assert "drift" in tags_at(buckets, 194)


def baseline_of(buckets: Buckets, tag: str, minute: int) -> float:
    """The tag's expected window count at `minute`, read with a jump planted there so that
    the tag is listed (its baseline comes from the history only)."""
    jumped = {**buckets, at(minute): {**buckets[at(minute)], tag: 1000}}
    params = TrendParams(max_trend_factor=10.0, short_window=0)
    [found] = [t for t in trending(jumped, at(minute), params) if t["tag"] == tag]
    return found["baseline"]


def test_a_clear_drift_is_read_as_a_line_at_the_window() -> None:
    buckets = series(200, lambda m: {**BACKGROUND, "drift": 20 + m // 10})
    # The line at the window's centre (minute 194): 20 + 19.4 per bucket, x 5 buckets; a
    # decayed mean would lag about an hour (6 per bucket) behind it.
    assert baseline_of(buckets, "drift", 196) == pytest.approx(5 * (20 + 194 / 10), rel=0.03)


def test_a_slope_within_its_noise_is_dropped_for_the_decayed_mean() -> None:
    rng = random.Random(3)
    counts = [poisson(rng, 30) for _ in range(200)]
    buckets = series(200, lambda m: {**BACKGROUND, "busy": counts[m]})
    p = TrendParams()
    history = range(196 - p.window, 196 - p.window - p.history, -1)
    weights = [0.5 ** ((p.window + i) / p.half_life) for i in range(p.history)]
    total = sum(weights)
    w_n = [w / total for w in weights]
    mean = sum(w * counts[m] for w, m in zip(w_n, history, strict=True))
    # This seed's weighted least-squares slope is within one standard error of zero.
    t_mean = sum(w * m for w, m in zip(w_n, history, strict=True))
    t_var = sum(w * (m - t_mean) ** 2 for w, m in zip(w_n, history, strict=True))
    slope = sum(w * (m - t_mean) * counts[m] for w, m in zip(w_n, history, strict=True)) / t_var
    se2 = 30 * sum(w * w * (m - t_mean) ** 2 for w, m in zip(w_n, history, strict=True)) / t_var**2
    assert slope * slope < se2
    assert baseline_of(buckets, "busy", 196) == pytest.approx(5 * mean, abs=1e-3)


def test_min_support_keeps_a_handful_of_posts_from_trending() -> None:
    params = TrendParams()
    few = series(60, lambda m: {**BACKGROUND, "rare": params.min_support - 1 if m == 59 else 0})
    assert tags_at(few, 59, params) == []
    enough = series(60, lambda m: {**BACKGROUND, "rare": params.min_support if m == 59 else 0})
    assert tags_at(enough, 59, params) == ["rare"]


def test_a_new_tag_is_compared_with_a_prior_derived_from_the_language_volume() -> None:
    params = TrendParams()
    quiet = series(60, lambda m: {"x": 1 if m < 59 else 0, "fresh": 12 if m == 59 else 0})
    busy = series(60, lambda m: {f"t{i}": 20 for i in range(200)} | {"fresh": 12 * (m == 59)})
    # No history of the tag, almost no volume: the floor, never zero.
    [fresh] = trending(quiet, at(59), params)
    assert fresh["tag"] == "fresh"
    assert fresh["baseline"] == pytest.approx(params.window * params.prior_floor)
    # A busy language assumes more of an unseen tag: the same 12 posts are not a trend there.
    assert params.window * params.prior_share * 200 * 20 * params.min_ratio > 12
    assert trending(busy, at(59), params) == []


def test_nothing_is_reported_during_warm_up() -> None:
    params = TrendParams()

    def burst_after(history: int) -> list[str]:
        last = history + params.window - 1
        buckets = series(last + 1, lambda m: {"a": 3, "new": 20 * (m >= history)})
        return tags_at(buckets, last, params)

    assert burst_after(params.min_history - 1) == []
    assert burst_after(params.min_history) == ["new"]


def test_steady_traffic_gives_an_empty_list_not_a_padded_one() -> None:
    buckets = series(120, lambda m: BACKGROUND)
    assert all(trending(buckets, at(m)) == [] for m in range(30, 120))


def test_at_answers_as_of_that_event_time_whatever_came_later() -> None:
    onset = 80
    burst = series(140, lambda m: {**BACKGROUND, "goal": 15 if onset <= m < onset + 10 else 0})
    during = trending(burst, at(onset + 3))
    assert [t["tag"] for t in during] == ["goal"]
    # Later buckets do not change the answer at an earlier time.
    past_only = {b: c for b, c in burst.items() if b <= at(onset + 3)}
    assert trending(past_only, at(onset + 3)) == during
    # Long after, with the burst out of the window, nothing trends.
    assert trending(burst, at(onset + 30)) == []


def test_results_are_ordered_strongest_first() -> None:
    buckets = series(70, lambda m: {**BACKGROUND, "big": 30 * (m >= 66), "small": 4 * (m >= 66)})
    found = trending(buckets, at(69))
    assert [t["tag"] for t in found] == ["big", "small"]
    assert found[0]["score"] > found[1]["score"]


def test_timeline_lists_a_tags_count_per_present_bucket() -> None:
    buckets = series(5, lambda m: {"a": m})
    del buckets[at(2)]  # a gap in the stream is not a zero
    line = timeline(buckets, "a", start=at(1))
    assert line == [(bucket_iso(at(1)), 1), (bucket_iso(at(3)), 3), (bucket_iso(at(4)), 4)]


def test_bucket_of_reads_iso_utc_and_refuses_garbage() -> None:
    assert bucket_of("2018-10-10T12:00:59Z") == T0
    assert bucket_of("2018-10-11T12:01:00Z") == T0 + 86400 + 60
    assert bucket_of("2018-10-10T12:07:00Z", bucket_seconds=300) == T0 + 300
    for bad in (None, "", "yesterday", "2018-13-10T12:00:00Z", "Wed Oct 10 20:19:24 +0000 2018"):
        assert bucket_of(bad) is None


def _stamp(minute: int, second: int = 0) -> str:
    return bucket_iso(at(minute) + second)


def test_a_post_behind_the_watermark_in_its_batch_is_late() -> None:
    records = [
        ("en", _stamp(10), ("a",)),
        ("en", _stamp(4, 30), ("a",)),  # 6 minutes behind the newest: late
        ("en", _stamp(5, 30), ("a",)),  # 5 minutes behind: still counted
        ("en", None, ("a",)),
    ]
    batch = aggregate(records, lateness_seconds=300)
    assert batch.late == 1 and batch.undated == 1
    assert batch.tags == {("en", at(10)): {"a": 1}, ("en", at(5)): {"a": 1}}
    assert batch.newest == at(10)


def test_cells_behind_the_watermark_of_earlier_batches_are_dropped() -> None:
    clock = EventClock(lateness_seconds=300)
    first = clock.admit(aggregate([("en", _stamp(20), ("a",))]))
    assert first.late == 0 and clock.newest == at(20)
    second = clock.admit(
        aggregate(
            [("en", _stamp(14), ("old",)), ("es", _stamp(15), ("ok",)), ("en", _stamp(14), ())]
        )
    )
    assert second.late == 2
    assert second.tags == {("es", at(15)): {"ok": 1}}
    assert clock.final_through() == at(14)


def test_a_future_post_cannot_push_the_watermark() -> None:
    batch = aggregate(
        [("en", _stamp(500), ("x",)), ("en", _stamp(1), ("y",))], newest_allowed=at(2)
    )
    assert batch.undated == 1 and batch.newest == at(1)


def _stream(seed: int, n: int = 3000) -> list[tuple[str, str | None, tuple[str, ...]]]:
    """Posts in arrival order: mostly on time, some a few minutes late, some far too late."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        event = i * 2.0 + rng.choice([0, 0, 0, -rng.uniform(0, 280), -rng.uniform(400, 1200)])
        lang = rng.choice(["en", "es"])
        tags = tuple(rng.sample(["a", "b", "c", "d"], rng.randint(0, 2)))
        out.append((lang, bucket_iso(T0 + int(max(0, event))), tags))
    return out


def _replay(records: list, sizes: Callable[[], int]) -> tuple[dict, dict, int]:
    clock = EventClock(lateness_seconds=300)
    tags: dict = {}
    posts: dict = {}
    late = i = 0
    while i < len(records):
        n = sizes()
        admitted = clock.admit(aggregate(records[i : i + n], lateness_seconds=300))
        i += n
        late += admitted.late
        for cell, counts in admitted.tags.items():
            merge_capped(tags.setdefault(cell, {}), counts, 10)
        for cell, count in admitted.posts.items():
            posts[cell] = posts.get(cell, 0) + count
    return tags, posts, late


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_counts_do_not_depend_on_how_the_stream_is_cut_into_batches(seed: int) -> None:
    records = _stream(seed)
    one_by_one = _replay(records, lambda: 1)
    assert one_by_one[2] > 0  # the stream really has late posts
    rng = random.Random(seed)
    assert _replay(records, lambda: 500) == one_by_one
    assert _replay(records, lambda: rng.randint(1, 700)) == one_by_one


def test_merge_capped_keeps_the_largest_and_reports_what_it_dropped() -> None:
    held = {"a": 5, "b": 1, "c": 1}
    mass, largest = merge_capped(held, {"d": 2, "c": 1}, top_k=2)
    # b (1) goes, then c and d tie at 2: ties go in member order, as in a Redis sorted set.
    assert held == {"a": 5, "d": 2}
    assert (mass, largest) == (3, 2)
    assert merge_capped(held, {}, top_k=2) == (0, 0)


def test_a_tag_that_always_wobbles_needs_a_bigger_jump_than_a_steady_one() -> None:
    def with_history(history: Callable[[int], int]) -> list[str]:
        buckets = series(125, lambda m: {**BACKGROUND, "tag": history(m) if m < 120 else 64})
        return tags_at(buckets, 124)

    # Both average 40 a minute before the same rise to 64 (x1.6).
    assert with_history(lambda m: 40) == ["tag"]
    assert with_history(lambda m: 10 if m % 2 else 70) == []


def test_the_short_window_catches_a_rise_the_full_window_still_dilutes() -> None:
    # A steady 40 a minute gets 25 more in its last 3 minutes: x1.375 over 5 minutes (below
    # min_ratio), x1.6 over the last 3.
    buckets = series(63, lambda m: {**BACKGROUND, "rise": 40 + 25 * (m >= 60)})
    assert tags_at(buckets, 62, TrendParams(short_window=0)) == []
    [rise] = trending(buckets, at(62), TrendParams(short_window=3))
    assert rise["tag"] == "rise" and rise["count"] == 5 * 40 + 3 * 25


def test_the_buckets_within_span_seconds_give_the_whole_answer() -> None:
    params = TrendParams(history=60, since_lookback=10)
    buckets = series(200, lambda m: {**BACKGROUND, "wave": 12 * (m % 90 >= 70)})
    for minute in (75, 80, 165):
        now = at(minute)
        span = {b: c for b, c in buckets.items() if now - span_seconds(params) <= b <= now}
        assert trending(span, now, params) == trending(buckets, now, params)
        assert trending(span, now, params)  # the wave really trends there


def test_a_sustained_burst_keeps_trending_past_its_first_minutes() -> None:
    # Its own first minutes enter the history after `window` buckets; they must not pass for
    # the tag's usual wobble and switch the trend off.
    onset = 100
    buckets = series(130, lambda m: {**BACKGROUND, "storm": 10 * (m >= onset)})
    assert all(tags_at(buckets, m) == ["storm"] for m in range(onset + 1, onset + 20))
