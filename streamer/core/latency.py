"""A fixed-bucket latency histogram: constant memory however long the daemon runs."""

from __future__ import annotations

import bisect
import math

# Seconds; the last bucket is +Inf.
BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0,
    math.inf,
)  # fmt: skip


class LatencyHistogram:
    def __init__(self, buckets: tuple[float, ...] = BUCKETS) -> None:
        self.buckets = buckets
        self.counts = [0] * len(buckets)
        self.total = 0
        self.sum = 0.0

    def observe(self, value: float, count: int = 1) -> None:
        if count <= 0:
            return
        self.counts[bisect.bisect_left(self.buckets, value)] += count
        self.total += count
        self.sum += value * count

    def quantile(self, q: float) -> float | None:
        """The upper bound of the bucket where the cumulative count reaches q (None when
        empty). Coarse by design: good enough to check a 250 ms target, and O(1) memory."""
        if self.total == 0:
            return None
        rank = q * self.total
        seen = 0
        for bound, n in zip(self.buckets, self.counts, strict=True):
            seen += n
            if seen >= rank:
                return bound
        return self.buckets[-1]

    def cumulative(self) -> list[tuple[float, int]]:
        out, seen = [], 0
        for bound, n in zip(self.buckets, self.counts, strict=True):
            seen += n
            out.append((bound, seen))
        return out

    def reset(self) -> None:
        self.counts = [0] * len(self.buckets)
        self.total = 0
        self.sum = 0.0
