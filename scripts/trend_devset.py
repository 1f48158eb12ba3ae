#!/usr/bin/env python3
"""Generate a trend dev set: v1.1-shaped tweets over hours of event time with known bursts.

Writes, into --out:
  stream_a.ndjson, stream_b.ndjson  the same posts in two arrival orders (different jitter;
                                    the same posts are late beyond the allowed lateness)
  truth.json                        injected bursts (tag, lang, onset, kind, ...), the
                                    perennial and drifting tags that must never be reported

Per language: perennial high-volume tags (a slow daily swing and over-dispersed noise), a
Zipf tail of ordinary tags, ever-new random tags (seen once), one slowly drifting tag (its
rate triples over the run, which is not a burst), untagged posts, and bursts of three kinds
after a warm-up hour (a burst's base rate carries the same noise as the perennials):
  new      a tag rising from nothing to a few posts a minute
  double   a steady high-volume tag whose rate doubles
  jump     a tail tag jumping about tenfold
Arrival: most posts a few seconds after their time, some minutes late (within a 5-minute
lateness: still counted), some 10-30 minutes late (beyond it: dropped, in both orders).

    python scripts/trend_devset.py --out /tmp/trend-dev --hours 5 --seed 7
"""

from __future__ import annotations

import argparse
import json
import math
import random
import string
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

START = datetime(2018, 10, 10, 12, 0, tzinfo=UTC)
TWITTER_TIME = "%a %b %d %H:%M:%S +0000 %Y"


@dataclass(frozen=True)
class LangPlan:
    lang: str
    perennial: tuple[float, ...]  # posts per minute of each perennial tag
    tail_rate: float  # posts per minute over the whole Zipf tail
    tail_size: int
    random_rate: float  # ever-new tags per minute
    untagged_rate: float
    drift: tuple[float, float]  # rate at start and at end
    bursts: int


PLANS = (
    LangPlan("en", (40, 25, 15, 10, 8), 60, 300, 20, 100, (3, 9), 6),
    LangPlan("es", (20, 12, 8), 30, 200, 8, 40, (2, 6), 5),
    LangPlan("ja", (25, 15, 10, 6), 40, 250, 10, 60, (2, 6), 5),
    LangPlan("pt", (10, 6), 12, 120, 4, 20, (1, 3), 4),
)
KINDS = ("new", "double", "jump")


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, lam**0.5)))
    # Knuth: fine for the small rates used here.
    limit, k, p = pow(2.718281828459045, -lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _word(rng: random.Random, n: int = 8) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(n))


def _burst_rate(minute: int, onset: int, duration: int, peak: float) -> float:
    """Extra posts per minute of a burst: a 3-minute ramp, a plateau, a 5-minute fall."""
    t = minute - onset
    if t < 0 or t >= duration + 5:
        return 0.0
    if t < 3:
        return peak * (t + 1) / 3
    if t < duration:
        return peak
    return peak * (duration + 5 - t) / 6


def plan_bursts(rng: random.Random, plan: LangPlan, minutes: int) -> list[dict[str, Any]]:
    bursts: list[dict[str, Any]] = []
    # Onsets spread over the run after the warm-up hour, at least 35 minutes apart.
    slots = list(range(70, minutes - 40, 35))
    rng.shuffle(slots)
    for i in range(min(plan.bursts, len(slots))):
        onset = slots[i] + rng.randrange(0, 10)
        kind = KINDS[i % len(KINDS)]
        duration = rng.randrange(15, 35)
        if kind == "new":
            tag, base, peak = f"{plan.lang}new{_word(rng, 6)}", 0.0, rng.uniform(4, 10)
        elif kind == "double":
            base = max(plan.perennial) * rng.uniform(0.5, 0.8)
            tag, peak = f"{plan.lang}big{_word(rng, 6)}", base
        else:
            base = rng.uniform(0.3, 0.8)
            tag, peak = f"{plan.lang}tail{_word(rng, 6)}", base * rng.uniform(9, 14)
        bursts.append(
            {
                "tag": tag,
                "lang": plan.lang,
                "kind": kind,
                "onset_minute": onset,
                "onset": datetime.fromtimestamp(START.timestamp() + 60 * onset, UTC).strftime(
                    "%Y-%m-%dT%H:%M:%SZ"
                ),
                "duration_min": duration,
                "base_per_min": round(base, 3),
                "peak_extra_per_min": round(peak, 3),
            }
        )
    return bursts


def _tweet(rng: random.Random, n: int, lang: str, when: float, tags: list[str]) -> dict[str, Any]:
    uid = rng.randrange(1, 50_000)
    text = " ".join(["post", *(f"#{t}" for t in tags)])
    return {
        "id_str": str(10**15 + n),
        "created_at": datetime.fromtimestamp(when, UTC).strftime(TWITTER_TIME),
        "text": text,
        "lang": lang,
        "entities": {"hashtags": [{"text": t} for t in tags]},
        "user": {"id_str": str(uid), "screen_name": f"u{uid}", "description": "dev set"},
    }


def generate(
    hours: float, seed: int, plans: tuple[LangPlan, ...] = PLANS, dispersion: float = 0.25
) -> tuple[list[tuple[float, dict[str, Any]]], dict[str, Any]]:
    """Posts as (event time, tweet) in event order, and the truth. `dispersion` is the
    coefficient of variation of the per-minute noise on high-volume rates (0: pure Poisson)."""
    rng = random.Random(seed)
    shape = 1 / dispersion**2 if dispersion > 0 else 0.0

    def noise() -> float:
        return rng.gammavariate(shape, 1 / shape) if shape else 1.0

    minutes = int(hours * 60)
    posts: list[tuple[float, dict[str, Any]]] = []
    truth: dict[str, Any] = {"start": START.isoformat(), "minutes": minutes, "bursts": []}
    truth["perennial"] = []
    truth["drift"] = []
    n = 0
    for plan in plans:
        bursts = plan_bursts(rng, plan, minutes)
        truth["bursts"] += bursts
        perennials = [f"{plan.lang}daily{i}" for i in range(len(plan.perennial))]
        drift_tag = f"{plan.lang}drift"
        truth["perennial"] += [{"tag": t, "lang": plan.lang} for t in perennials]
        truth["drift"].append({"tag": drift_tag, "lang": plan.lang})
        tail = [f"{plan.lang}t{i}{_word(rng, 3)}" for i in range(plan.tail_size)]
        zipf = [1.0 / (r + 1) for r in range(plan.tail_size)]
        zsum = sum(zipf)
        phase = rng.random()
        for minute in range(minutes):
            # Perennials are not clean Poisson: a slow daily swing and minute-to-minute
            # over-dispersion (gamma noise, CV `dispersion`), as real high-volume tags have.
            swing = 1.0 + 0.3 * math.sin(2 * math.pi * (minute / 1440.0 + phase))
            rates: list[tuple[str, float]] = [
                (tag, rate * swing * noise())
                for tag, rate in zip(perennials, plan.perennial, strict=True)
            ]
            lo, hi = plan.drift
            rates.append((drift_tag, lo + (hi - lo) * minute / max(1, minutes - 1)))
            for b in bursts:
                extra = _burst_rate(
                    minute, b["onset_minute"], b["duration_min"], b["peak_extra_per_min"]
                )
                noisy = b["base_per_min"] * noise()
                rates.append((b["tag"], noisy + extra))
            events: list[list[str]] = []
            for tag, lam in rates:
                events += [[tag] for _ in range(_poisson(rng, lam))]
            for _ in range(_poisson(rng, plan.tail_rate)):
                r = rng.random() * zsum
                i = 0
                while r > zipf[i] and i < plan.tail_size - 1:
                    r -= zipf[i]
                    i += 1
                events.append([tail[i]])
            events += [[f"r{_word(rng, 10)}"] for _ in range(_poisson(rng, plan.random_rate))]
            events += [[] for _ in range(_poisson(rng, plan.untagged_rate))]
            for tags in events:
                if tags and rng.random() < 0.2:  # some posts carry a second, tail tag
                    second = tail[rng.randrange(plan.tail_size)]
                    if second not in tags:
                        tags.append(second)
                when = START.timestamp() + 60 * minute + rng.random() * 60
                posts.append((when, _tweet(rng, n, plan.lang, when, tags)))
                n += 1
    posts.sort(key=lambda p: p[0])
    return posts, truth


def arrival_order(
    posts: list[tuple[float, dict[str, Any]]], seed: int, order_seed: int
) -> list[dict[str, Any]]:
    """The posts sorted by arrival time. Which posts are late (and how much, in class) depends
    on `seed` only; the jitter inside a class on `order_seed`."""
    cls_rng = random.Random(seed * 1_000_003 + 1)
    jit_rng = random.Random(order_seed)
    arrivals: list[tuple[float, int, dict[str, Any]]] = []
    for i, (when, tweet) in enumerate(posts):
        u = cls_rng.random()
        if u < 0.95:
            delay = jit_rng.uniform(0, 20)
        elif u < 0.99:
            delay = jit_rng.uniform(60, 240)  # late, but within the 5-minute lateness
        else:
            delay = cls_rng.uniform(600, 1800)  # beyond it: dropped
        arrivals.append((when + delay, i, tweet))
    arrivals.sort(key=lambda a: (a[0], a[1]))
    return [a[2] for a in arrivals]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--hours", type=float, default=5.0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--dispersion", type=float, default=0.25, help="0: pure Poisson rates")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    posts, truth = generate(args.hours, args.seed, dispersion=args.dispersion)
    for name, order_seed in (("stream_a.ndjson", 1), ("stream_b.ndjson", 2)):
        with (args.out / name).open("w") as fh:
            for tweet in arrival_order(posts, args.seed, order_seed):
                fh.write(json.dumps(tweet, ensure_ascii=False) + "\n")
    (args.out / "truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    print(f"{len(posts)} posts, {len(truth['bursts'])} bursts -> {args.out}")


if __name__ == "__main__":
    main()
