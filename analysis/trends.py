"""Trending hashtags: a tag trends when its recent count is far above its own usual rate.

Pure functions over one language's bucket counts, `{bucket start (Unix s): {tag: count}}`,
as `streamer.core.trend_counts` aggregates them and `streamer.storage.trend_store` reads
them back. A bucket present in the map (even empty) means the language had posts then; an
absent bucket is a gap in the stream and is left out of the baseline rather than counted as
silence.

At event time `at` (a bucket start), for a tag:

* count x   = its posts in the window, the `window` buckets ending with `at`;
* rate r    = its usual count per bucket at the window's centre, from the `history` buckets
              before the window: a line (level and slope) fitted to them by least squares,
              weighted by an exponential decay (half-life `half_life` buckets), so that a
              slow drift or a daily swing is followed rather than lagged behind. The slope is
              shrunk by its own evidence, k = max(0, 1 - 1/t^2) with t the slope over its
              standard error: a clear drift is followed whole, while a busy tag's noisy slope,
              extrapolated an hour ahead, would cost more in uncertainty than it corrects.
              The line's level is kept within a factor `max_trend_factor` (1.25) of the
              decayed mean: enough to follow a drift, and it stops a burst's own minutes, once
              they are history, from tilting the line so far that the burst stops being listed;
* prior p   = `prior_share` of the language's decayed tag volume per bucket (at least
              `prior_floor`): the rate assumed for a tag with no history, so a new tag is
              compared with something, never divided by zero;
* expected e = window x max(r, p);
* score z   = 2 (sqrt(x + 3/8) - sqrt(e + 3/8)) / sqrt(d (1 + window u)): the
              variance-stabilised distance of a Poisson count from its mean (about N(0, 1)
              when nothing happens), widened by the tag's dispersion d = max(1, decayed
              variance / rate per bucket), since busy tags wobble more than Poisson, and by
              the baseline's own uncertainty u (the sum of the squared weights with which the
              fitted level reads the history: about 1 / effective number of buckets, more
              the more of the slope is extrapolated). d comes from the history older than
              `dispersion_guard` buckets (when it has `min_dispersion_history` buckets), so a
              burst's own start does not count as the tag's usual wobble. With both widenings
              the score of a tag that is not bursting stays close to N(0, 1) on the dev set
              (BENCHMARKS.md), so `min_score` reads as a false-alarm rate.

It trends when x >= `min_support`, x >= `min_ratio` * e and z >= `min_score`, and the
language has at least `min_history` buckets of history (no trends during warm-up). The same
test also runs on the newest `short_window` buckets alone (same rate, same dispersion), since
a burst that ramps up shows there first; the score is then that window's. `since`
is the first bucket of the unbroken run of trending buckets that ends at `at`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple, TypedDict

__all__ = [
    "Trend",
    "TrendParams",
    "span_seconds",
    "tag_scores",
    "timeline",
    "trending",
    "trending_by_lang",
]

Buckets = Mapping[int, Mapping[str, int]]


@dataclass(frozen=True)
class TrendParams:
    bucket_seconds: int = 60
    window: int = 5  # buckets in the recent window
    history: int = 180  # buckets of baseline before the window
    half_life: float = 60.0  # buckets: older history counts half as much per half-life
    min_support: int = 8  # posts in the window, so that three posts are never a trend
    min_ratio: float = 1.6  # x / e: a big tag's small wobble is not a trend
    min_score: float = 3.5  # z (calibrated: about 2 in 10,000 quiet evaluations pass)
    min_history: int = 30  # buckets of history before a language reports anything
    prior_share: float = 0.001  # a new tag's assumed share of the language's tag volume
    prior_floor: float = 0.02  # posts per bucket, the least rate any tag is assumed to have
    since_lookback: int = 120  # buckets walked back to find `since`
    short_window: int = 3  # buckets; also test the newest few alone, for ramps (0: off)
    dispersion_guard: int = 30  # newest history buckets left out of the dispersion
    min_dispersion_history: int = 20  # older buckets needed to use them; else all history
    max_trend_factor: float = 1.25  # the fitted level stays within this factor of the mean


class _Line(NamedTuple):
    """A line fit's tag-independent parts at one bucket: the weighted mean and variance of
    the history's ages (buckets from the window's centre), the three sums the level's
    uncertainty is made of, and the slope's variance per unit of bucket variance."""

    t_mean: float
    t_var: float
    a: float
    b: float
    c: float
    slope_var: float


class Trend(TypedDict):
    tag: str
    score: float
    count: int
    baseline: float  # expected count in the window
    since: str  # ISO 8601 UTC bucket start


def _iso(bucket: int) -> str:
    return datetime.fromtimestamp(bucket, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def poisson_score(count: float, expected: float) -> float:
    """Anscombe-style z of `count` against a Poisson mean `expected`."""
    return 2.0 * (math.sqrt(count + 0.375) - math.sqrt(expected + 0.375))


class _Scorer:
    """Scores of one language's tags at any bucket; caches per-bucket volume."""

    def __init__(self, buckets: Buckets, params: TrendParams) -> None:
        self.buckets = buckets
        self.p = params
        self.step = params.bucket_seconds
        self.weights = [
            0.5 ** ((params.window + i) / params.half_life) for i in range(params.history)
        ]
        self._volume: dict[int, int] = {}
        self._history: dict[int, tuple[list[tuple[int, float]], float, float]] = {}
        self._lines: dict[int, _Line] = {}

    def volume(self, bucket: int) -> int:
        vol = self._volume.get(bucket)
        if vol is None:
            vol = self._volume[bucket] = sum(self.buckets[bucket].values())
        return vol

    def history(self, at: int) -> tuple[list[tuple[int, float]], float, float]:
        """(present history buckets with their weights, sum of weights, prior rate)."""
        cached = self._history.get(at)
        if cached is not None:
            return cached
        first = at - self.p.window * self.step
        present: list[tuple[int, float]] = []
        den = vol = 0.0
        for i, w in enumerate(self.weights):
            b = first - i * self.step
            if b in self.buckets:
                present.append((b, w))
                den += w
                vol += w * self.volume(b)
        prior = self.p.prior_floor
        if den:
            prior = max(prior, self.p.prior_share * vol / den)
        result = (present, den, prior)
        self._history[at] = result
        return result

    def window_count(self, tag: str, at: int, window: int | None = None) -> int:
        total = 0
        for i in range(self.p.window if window is None else window):
            counts = self.buckets.get(at - i * self.step)
            if counts:
                total += counts.get(tag, 0)
        return total

    def evaluate(
        self, tag: str, at: int, count: int | None = None
    ) -> tuple[bool, int, float, float]:
        """(trends?, window count, expected count, score) of `tag` at `at`."""
        x = self.window_count(tag, at) if count is None else count
        if x < self.p.min_support:
            return False, x, 0.0, 0.0
        present, den, prior = self.history(at)
        if len(present) < self.p.min_history:
            return False, x, 0.0, 0.0
        # Rate over the whole history; dispersion over its older part only (when there is
        # enough of it), so that a burst's own first minutes do not pass for the tag's usual
        # wobble and switch the trend off a few minutes after it started.
        guard = at - (self.p.window + self.p.dispersion_guard) * self.step
        centre = at - (self.p.window - 1) * self.step / 2
        num = num_t = num2 = old_num = old_num2 = old_den = 0.0
        old_n = 0
        for b, w in present:
            c = self.buckets[b].get(tag, 0)
            num += w * c
            num_t += w * c * (b - centre) / self.step
            num2 += w * c * c
            if b < guard:
                old_n += 1
                old_den += w
                old_num += w * c
                old_num2 += w * c * c
        mean = num / den
        whole_variance = num2 / den - mean * mean
        level, level_u = self._level(at, mean, num_t / den, whole_variance, prior)
        rate = max(level, prior)
        expected = self.p.window * rate
        if old_n >= self.p.min_dispersion_history:
            v_mean = old_num / old_den
            variance, v_rate = old_num2 / old_den - v_mean * v_mean, max(v_mean, prior)
        else:
            variance, v_rate = whole_variance, rate
        # Busy tags wobble more than Poisson: widen the test by the tag's own dispersion
        # (variance / mean per bucket), never narrow it; and by the baseline's uncertainty.
        dispersion = max(1.0, variance / v_rate)
        score = poisson_score(x, expected) / math.sqrt(dispersion * (1 + self.p.window * level_u))
        ok = x >= self.p.min_ratio * expected and score >= self.p.min_score
        if not ok and self.p.short_window:
            # A burst with a ramp shows first in the newest buckets: the same test on them.
            xs = self.window_count(tag, at, self.p.short_window)
            es = self.p.short_window * rate
            widen = math.sqrt(dispersion * (1 + self.p.short_window * level_u))
            short = poisson_score(xs, es) / widen
            if (
                xs >= self.p.min_support
                and xs >= self.p.min_ratio * es
                and short >= self.p.min_score
            ):
                ok, score = True, short
        return ok, x, expected, score

    def _line(self, at: int) -> _Line:
        """What a line fit over the history at `at` needs that is the same for every tag."""
        cached = self._lines.get(at)
        if cached is not None:
            return cached
        present, den, _ = self.history(at)
        centre = at - (self.p.window - 1) * self.step / 2
        ages = [((b - centre) / self.step, w / den) for b, w in present]
        t_mean = sum(w * t for t, w in ages)
        t_var = sum(w * (t - t_mean) ** 2 for t, w in ages)
        # The level read at age 0 with a slope shrunk by k weighs bucket i by
        # w_i (1 - k g_i); its variance is Var(bucket) * sum of those weights squared,
        # = Var(bucket) * (a - 2 k b + k^2 c).
        g = [(t - t_mean) * t_mean / t_var if t_var > 0 else 0.0 for t, _ in ages]
        a = sum(w * w for _, w in ages)
        b = sum(w * w * gi for (_, w), gi in zip(ages, g, strict=True))
        c = sum(w * w * gi * gi for (_, w), gi in zip(ages, g, strict=True))
        # Var(slope) = Var(bucket) * slope_var.
        slope_var = sum(w * w * (t - t_mean) ** 2 for t, w in ages) / t_var**2 if t_var > 0 else 0
        self._lines[at] = line = _Line(t_mean, t_var, a, b, c, slope_var)
        return line

    def _level(
        self, at: int, mean: float, mean_ct: float, variance: float, prior: float
    ) -> tuple[float, float]:
        """(the baseline's level at the window's centre, its uncertainty factor) from the
        tag's weighted mean count, weighted mean of count x age and weighted variance."""
        line = self._line(at)
        if line.t_var <= 0:
            return mean, line.a
        slope = (mean_ct - line.t_mean * mean) / line.t_var
        # Shrink the slope by its own evidence: a bucket's variance is what the line leaves
        # unexplained (at least Poisson), t is the slope over its standard error, and
        # k = max(0, 1 - 1/t^2) keeps a clear drift whole and drops a slope that is noise.
        residual = max(variance - slope * slope * line.t_var, mean, prior)
        t2 = slope * slope / (residual * line.slope_var) if line.slope_var > 0 else 0.0
        k = max(0.0, 1.0 - 1.0 / t2) if t2 > 0 else 0.0
        level = mean - k * slope * line.t_mean
        factor = self.p.max_trend_factor
        u = line.a - 2 * k * line.b + k * k * line.c
        return max(0.0, min(max(level, mean / factor), mean * factor)), u

    def since(self, tag: str, at: int) -> int:
        first = at
        for i in range(1, self.p.since_lookback + 1):
            t = at - i * self.step
            if not self.evaluate(tag, t)[0]:
                break
            first = t
        return first


def tag_scores(
    buckets: Buckets, tags: list[str], ats: list[int], params: TrendParams | None = None
) -> dict[str, list[float]]:
    """Each tag's score at each of `ats` (bucket starts), whether or not it passes the other
    tests: for measuring how the score behaves on tags that do not burst."""
    scorer = _Scorer(buckets, params or TrendParams())
    return {tag: [scorer.evaluate(tag, at)[3] for at in ats] for tag in tags}


def trending(buckets: Buckets, at: int, params: TrendParams | None = None) -> list[Trend]:
    """Tags of one language that trend at event time `at` (a bucket start), strongest first.
    Empty when nothing trends; never padded."""
    p = params or TrendParams()
    at -= at % p.bucket_seconds
    scorer = _Scorer(buckets, p)
    window_counts: dict[str, int] = {}
    for i in range(p.window):
        counts = buckets.get(at - i * p.bucket_seconds)
        if counts:
            for tag, n in counts.items():
                window_counts[tag] = window_counts.get(tag, 0) + n
    found: list[Trend] = []
    for tag, x in window_counts.items():
        if x < p.min_support:
            continue
        ok, _, expected, score = scorer.evaluate(tag, at, x)
        if not ok:
            continue
        found.append(
            Trend(
                tag=tag,
                score=round(score, 3),
                count=x,
                baseline=round(expected, 3),
                since=_iso(scorer.since(tag, at)),
            )
        )
    found.sort(key=lambda t: (-t["score"], -t["count"], t["tag"]))
    return found


def span_seconds(params: TrendParams | None = None) -> int:
    """How far back from `at` the buckets `trending` reads reach (window, history and the walk
    back for `since`): read [at - span_seconds, at] from the store and nothing else."""
    p = params or TrendParams()
    return (p.window + p.history + p.since_lookback) * p.bucket_seconds


def trending_by_lang(
    by_lang: Mapping[str, Buckets], at: int, params: TrendParams | None = None
) -> dict[str, list[Trend]]:
    """`trending` for every language, as of event time `at`."""
    return {lang: trending(buckets, at, params) for lang, buckets in sorted(by_lang.items())}


def timeline(
    buckets: Buckets,
    tag: str,
    start: int | None = None,
    end: int | None = None,
) -> list[tuple[str, int]]:
    """(bucket ISO time, count) of `tag` over the present buckets between start and end."""
    return [
        (_iso(b), buckets[b].get(tag, 0))
        for b in sorted(buckets)
        if (start is None or b >= start) and (end is None or b <= end)
    ]
