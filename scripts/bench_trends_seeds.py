#!/usr/bin/env python3
"""Score trend detection over many generated dev sets: one seed holds only 20 bursts, so one
missed burst moves its recall by 5 points; the pooled figures over many seeds are the ones to
read.

For each seed: generate the dev set in memory (scripts/trend_devset.py, order A), replay it
through the trend engine in batches of 500 and score every final minute (as
scripts/bench_trends.py does), then evaluate recall within 5 event minutes and precision.
Prints a row per seed and the pooled row (bursts and episodes summed over the seeds). With
--calibration, also how often the score of tags that never burst (perennial, drifting, and
tail tags with at least 300 posts) reaches 3, 3.5 and 4, against a normal variable's share:
a score that reads as a false-alarm rate should come close.

    python scripts/bench_trends_seeds.py --seeds 1-15 [--dispersion 0.25] [--hours 5]
        [--min-score Z] [--min-ratio R] [--calibration]
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_trends
import trend_devset

from analysis.trends import tag_scores


def seed_range(text: str) -> list[int]:
    """'1-5,9' -> [1, 2, 3, 4, 5, 9]."""
    seeds: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        seeds += list(range(int(lo), int(hi or lo) + 1))
    return seeds


def records_of(hours: float, seed: int, dispersion: float) -> tuple[list[Any], dict[str, Any]]:
    """The seed's posts in arrival order A, read by the product's parser, and the truth."""
    posts, truth = trend_devset.generate(hours, seed, dispersion=dispersion)
    lines = (orjson.dumps(tweet) for tweet in trend_devset.arrival_order(posts, seed, 1))
    return bench_trends.records_of_lines(lines), truth


THRESHOLDS = (3.0, 3.5, 4.0)


def quiet_exceedances(run: bench_trends.Run, truth: dict[str, Any], params: Any) -> dict[str, Any]:
    """Per kind of quiet tag: evaluations, and how many scored at least each threshold."""
    bursting = {(b["lang"], b["tag"]) for b in truth["bursts"]}
    named = {(t["lang"], t["tag"]): kind for kind in ("perennial", "drift") for t in truth[kind]}
    out: dict[str, Any] = {}
    for lang, buckets in run.state.items():
        totals: dict[str, int] = {}
        for counts in buckets.values():
            for tag, n in counts.items():
                totals[tag] = totals.get(tag, 0) + n
        tags = [t for t, n in totals.items() if n >= 300 and (lang, t) not in bursting]
        ats = sorted(buckets)[params.min_history + params.window :]
        for tag, scores in tag_scores(buckets, tags, ats, params).items():
            kind = named.get((lang, tag), "tail")
            fresh: dict[str | float, int] = {"n": 0, **dict.fromkeys(THRESHOLDS, 0)}
            row = out.setdefault(kind, fresh)
            row["n"] += len(scores)
            for t in THRESHOLDS:
                row[t] += sum(z >= t for z in scores)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seeds", type=seed_range, default=seed_range("1-15"))
    ap.add_argument("--hours", type=float, default=5.0)
    ap.add_argument("--dispersion", type=float, default=0.25)
    ap.add_argument("--min-score", type=float, default=bench_trends.PARAMS.min_score)
    ap.add_argument("--min-ratio", type=float, default=bench_trends.PARAMS.min_ratio)
    ap.add_argument("--calibration", action="store_true")
    args = ap.parse_args()
    params = dataclasses.replace(
        bench_trends.PARAMS, min_score=args.min_score, min_ratio=args.min_ratio
    )
    print(
        f"min_score {params.min_score}, min_ratio {params.min_ratio}, "
        f"dispersion {args.dispersion}, {args.hours} h per seed"
    )
    print("| seed | bursts | reported within 5 min | recall | episodes | precision | missed |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    bursts = detected = episodes = matched = 0
    calibration: dict[str, Any] = {}
    for seed in args.seeds:
        records, truth = records_of(args.hours, seed, args.dispersion)
        run = bench_trends.replay(records, bench_trends.fixed(500), params)
        r = bench_trends.evaluate(run.reports, truth)
        n_det = round(r["recall_5min"] * r["bursts"])
        n_match = round(r["precision"] * r["episodes"])
        bursts, detected = bursts + r["bursts"], detected + n_det
        episodes, matched = episodes + r["episodes"], matched + n_match
        if args.calibration:
            for kind, row in quiet_exceedances(run, truth, params).items():
                pooled = calibration.setdefault(kind, dict.fromkeys(row, 0))
                for key, value in row.items():
                    pooled[key] += value
        kinds = ", ".join(m.split(" ")[-1].strip("()") for m in r["missed"]) or "-"
        print(
            f"| {seed} | {r['bursts']} | {n_det} | {r['recall_5min']:.0%} | {r['episodes']} "
            f"| {r['precision']:.0%} | {kinds} |"
        )
    print(
        f"| pooled | {bursts} | {detected} | {detected / bursts:.1%} | {episodes} "
        f"| {matched / max(1, episodes):.1%} | |"
    )

    if calibration:
        print("\nquiet tags: evaluations with score >= threshold (a normal variable's expectation)")
        print("| tags | evaluations | " + " | ".join(f">= {t}" for t in THRESHOLDS) + " |")
        print("|---|---:|" + "---:|" * len(THRESHOLDS))
        for kind, row in sorted(calibration.items()):
            cells = [f"{row[t]} ({row['n'] * normal_sf(t):.1f})" for t in THRESHOLDS]
            print(f"| {kind} | {row['n']} | " + " | ".join(cells) + " |")


def normal_sf(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2))


if __name__ == "__main__":
    main()
