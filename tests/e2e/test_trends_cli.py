"""Trending now, end to end: a replay with a known burst through the daemon, then the
`trends`, `timeline` and `points --tag` commands; the same file replayed at full speed and
paced gives the same `trends --json --at` answer (event time, not arrival time)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import orjson
import pytest
import redis

from tests.conftest import TWEETHEAT
from tests.trend_stream import BURST_TAG, CONFIG, T0, BurstTruth, iso, write_stream

AT = iso(T0 + 60 * 66)  # eleven minutes into the burst


def tweetheat(*args: str, env: dict[str, str], cwd: Path, check: bool = True) -> str:
    proc = subprocess.run(
        [TWEETHEAT, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=180
    )
    if check:
        assert proc.returncode == 0, f"tweetheat {args[0]}:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def replay(data: Path, url: str, tmp: Path, env: dict[str, str], rate: str = "max") -> list[str]:
    config = tmp / "config.toml"
    config.write_text(CONFIG)
    common = ["--config", str(config), "--redis-url", url]
    tweetheat(
        "run", *common, "--replay-file", str(data), "--rate", rate, "--exit-at-eof",
        "--no-http", "--out", str(tmp / "out"), "--data-dir", str(tmp / "data"),
        env=env, cwd=tmp,
    )  # fmt: skip
    return common


@pytest.fixture
def burst(tmp_path: Path) -> tuple[Path, BurstTruth]:
    data = tmp_path / "burst.ndjson"
    return data, write_stream(data)


def test_trends_timeline_and_tag_points_show_the_burst(
    burst: tuple[Path, BurstTruth], redis_url: str, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    data, truth = burst
    common = replay(data, redis_url, tmp_path, cli_env)
    answer = orjson.loads(
        tweetheat("trends", *common, "--at", AT, "--json", env=cli_env, cwd=tmp_path)
    )
    assert list(answer) == ["en"]
    tags = [t["tag"] for t in answer["en"]]
    assert tags == [BURST_TAG]  # the steady tags never trend, and nothing pads the list
    top = answer["en"][0]
    assert set(top) == {"tag", "score", "count", "baseline", "since"}
    window = sum(truth.burst_per_minute.get(int(T0) + 60 * m, 0) for m in range(62, 67))
    assert top["count"] == window and top["score"] >= 4.0
    # Before the burst nothing trends: an empty list, not an error.
    before = tweetheat(
        "trends", *common, "--at", iso(T0 + 60 * 50), "--json", env=cli_env, cwd=tmp_path
    )
    assert orjson.loads(before) == {"en": []}

    line = orjson.loads(
        tweetheat("timeline", *common, "--tag", BURST_TAG, "--json", env=cli_env, cwd=tmp_path)
    )
    per_bucket = {b: c for b, c in line["en"]}
    assert len(line["en"]) == 75  # every retained minute, zeros included
    assert {b: c for b, c in per_bucket.items() if c} == {
        iso(b): n for b, n in truth.burst_per_minute.items()
    }
    pts = orjson.loads(
        tweetheat(
            "points",
            *common,
            "--tag",
            BURST_TAG,
            "--lang",
            "en",
            "-n",
            "1000",
            "--json",
            env=cli_env,
            cwd=tmp_path,
        )
    )
    assert [v for p in pts for v in p] == pytest.approx([v for p in truth.burst_points for v in p])
    text = tweetheat("trends", *common, "--at", AT, env=cli_env, cwd=tmp_path)
    assert f"#{BURST_TAG}" in text and "since" in text
    status = orjson.loads(tweetheat("status", *common, "--json", env=cli_env, cwd=tmp_path))
    assert status["pipeline"].get("trend_late", 0) == 0  # the stragglers were within lateness
    bad = subprocess.run(
        [TWEETHEAT, "trends", *common, "--at", "yesterday"], env=cli_env, cwd=tmp_path,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 2 and "ISO 8601" in bad.stderr


def test_full_speed_and_paced_replays_give_the_same_trends(
    burst: tuple[Path, BurstTruth], redis_server: str, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    data, _ = burst
    answers = []
    for db, rate in ((1, "max"), (2, "2000")):
        url = f"{redis_server}/{db}"
        redis.Redis.from_url(url).flushdb()
        run = tmp_path / f"run-{rate}"
        run.mkdir()
        common = replay(data, url, run, cli_env, rate=rate)
        answers.append(tweetheat("trends", *common, "--at", AT, "--json", env=cli_env, cwd=run))
    assert answers[0] == answers[1]
    assert BURST_TAG in answers[0]


def test_the_notebook_answers_as_the_cli_does(
    burst: tuple[Path, BurstTruth], redis_url: str, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    from analysis import notebook

    data, truth = burst
    common = replay(data, redis_url, tmp_path, cli_env)
    cli = orjson.loads(
        tweetheat("trends", *common, "--at", AT, "--json", env=cli_env, cwd=tmp_path)
    )
    default = orjson.loads(tweetheat("trends", *common, "--json", env=cli_env, cwd=tmp_path))
    line = orjson.loads(
        tweetheat("timeline", *common, "--tag", BURST_TAG, "--json", env=cli_env, cwd=tmp_path)
    )
    notebook.connect(redis_url)
    try:
        assert orjson.loads(orjson.dumps(notebook.trends(at=AT))) == cli
        assert orjson.loads(orjson.dumps(notebook.trends())) == default
        assert notebook.trends("en", 1, at=AT)["en"][0]["tag"] == BURST_TAG
        assert orjson.loads(orjson.dumps(notebook.timeline("#QuakeAlert"))) == line
        assert sum(c for _, c in notebook.timeline(BURST_TAG, "en")["en"]) == len(
            truth.burst_points
        )
    finally:
        notebook.disconnect()
