"""The live sources from the command line, against loopback fake servers, with a real Redis."""

from __future__ import annotations

import gzip
import re
import subprocess
import urllib.request
from pathlib import Path

import orjson
import redis

from tests.conftest import TWEETHEAT
from tests.daemon import Daemon
from tests.fake_streams import (
    JETSTREAM_EPOCH_US,
    TEST_BEARER,
    Cut,
    Reply,
    frame,
    jetstream_post,
    lines,
    start_jetstream_server,
    start_v2_server,
    v2_operational_disconnect,
    v2_post,
)


def counters(r: redis.Redis) -> dict[str, int]:
    return {k: int(v) for k, v in r.hgetall("tweetheat:pipeline").items()}


def test_twitter_v2_from_the_command_line_records_and_never_leaks_the_token(
    redis_url: str, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    first = Reply(actions=(lines(*(v2_post(n) for n in range(200))),
                           lines(v2_operational_disconnect()), Cut()))  # fmt: skip
    second = Reply(actions=(lines(*(v2_post(n) for n in range(200, 400))),))
    env = {**cli_env, "TWITTER_BEARER_TOKEN": TEST_BEARER}
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    with start_v2_server([first, second]) as server:
        daemon = Daemon(
            ["--source", "twitter-v2", "--stream-url", server.url, "--redis-url", redis_url,
             "--record", str(tmp_path / "rec"), "--out", str(tmp_path / "out"),
             "--data-dir", str(tmp_path / "data")],
            env, tmp_path,
        )  # fmt: skip
        daemon.wait_for(lambda: counters(r).get("accepted", 0) >= 400, "400 posts")
        port = re.search(r"http_listening.*?port=(\d+)", daemon.log)
        assert port, daemon.log
        served = b"".join(
            urllib.request.urlopen(f"http://127.0.0.1:{port.group(1)}{path}", timeout=10).read()
            for path in ("/healthz", "/metrics")
        )
        code, _ = daemon.stop()
    status = subprocess.run(
        [TWEETHEAT, "status", "--json", "--redis-url", redis_url],
        env=env, cwd=tmp_path, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert code == 0, daemon.log
    got = counters(r)
    assert got["accepted"] == 400 and got["skipped:stream_error"] == 1
    assert int(r.hget("tweetheat:stats:en", "tweets") or 0) == 400
    assert "stream_connected" in daemon.log and "stream_disconnected" in daemon.log
    assert "reason=operational_disconnect" in daemon.log or "reason=server_disconnect" in (
        daemon.log
    )
    assert orjson.loads(status)["stream"]["connects"] >= 2
    recorded = [
        line
        for f in sorted((tmp_path / "rec").glob("*.ndjson.gz"))
        for line in gzip.decompress(f.read_bytes()).splitlines()
    ]
    assert len(recorded) == 401  # every post and the error object, as they came
    secret = TEST_BEARER.encode()
    assert secret not in daemon.log.encode() and secret not in status.encode()
    assert secret not in served and b"tweetheat_stream_connects_total" in served
    assert all(secret not in line for line in recorded)
    assert all(req.headers.get("Authorization") == f"Bearer {TEST_BEARER}"
               for req in server.requests)  # fmt: skip


def test_sigterm_exits_promptly_while_the_source_backs_off(
    redis_url: str, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    env = {**cli_env, "TWITTER_BEARER_TOKEN": TEST_BEARER}
    unavailable = Reply(status=503, body=b'{"title":"Service Unavailable"}')
    with start_v2_server([unavailable], then=unavailable) as server:
        daemon = Daemon(
            ["--source", "twitter-v2", "--stream-url", server.url, "--redis-url", redis_url,
             "--out", str(tmp_path / "out"), "--data-dir", str(tmp_path / "data")],
            env, tmp_path,
        )  # fmt: skip
        daemon.wait_for(lambda: "next_delay_s" in daemon.log, "the first back-off")
        code, took = daemon.stop()
    assert code == 0, daemon.log
    assert took < 10, f"took {took:.1f}s to stop during back-off"
    assert "status=503" in daemon.log


def test_jetstream_resumes_from_its_cursor_and_counts_each_post_once(
    redis_url: str, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    args = ["--source", "jetstream", "--redis-url", redis_url, "--out", str(tmp_path / "out"),
            "--data-dir", str(tmp_path / "data")]  # fmt: skip

    def run_against(posts: range, until: int) -> tuple[Daemon, list[str | None]]:
        script = [Reply(actions=tuple(frame(jetstream_post(n)) for n in posts))]
        with start_jetstream_server(script) as server:
            daemon = Daemon([*args, "--stream-url", server.url], cli_env, tmp_path)
            daemon.wait_for(
                lambda: (
                    counters(r).get("accepted", 0) + counters(r).get("skipped:duplicate", 0)
                    >= until
                ),
                f"{until} posts",
            )
            code, _ = daemon.stop()
            assert code == 0, daemon.log
            return daemon, [req.param("cursor") for req in server.requests]

    _, cursors = run_against(range(100), until=100)
    saved = int(orjson.loads(r.hget("tweetheat:checkpoint:jetstream", "position") or "0"))
    assert saved == JETSTREAM_EPOCH_US + 99 * 1000
    # The fake instance closes after its frames; the reconnect resumes where we were.
    assert cursors[0] is None and set(cursors[1:]) <= {str(saved)}

    # The instance replays from a little before the cursor: posts 95..99 arrive again.
    daemon, cursors = run_against(range(95, 150), until=150 + 5)
    assert cursors[0] == str(saved - 5_000_000)
    assert "resuming" in daemon.log
    got = counters(r)
    assert got["accepted"] == 150 and got["skipped:duplicate"] == 5
    assert int(r.hget("tweetheat:stats:en", "tweets") or 0) == 150
    assert r.llen("tweetheat:hashtag_en") == 150  # each post's one tag, once
