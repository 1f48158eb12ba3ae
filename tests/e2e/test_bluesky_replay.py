"""A Jetstream-format replay with profile enrichment, end to end: real daemons, an embedded
Redis, a fake AppView on loopback. The cluster report holds one user per distinct posting
author with a bio, each DID is fetched once, a restarted daemon fetches none again, and posts
whose author's bio names a place are placed by it once the bio is known."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import orjson
import redis

from streamer.ingest.geolocate import bio_may_name_place
from streamer.sources.jetstream_generator import demo_profile, generate_jetstream
from streamer.storage.keys import Keys
from tests.conftest import TWEETHEAT
from tests.fake_appview import FakeAppView

LINES = 3000


def env() -> dict[str, str]:
    e = dict(os.environ)
    for name in ("TWEETHEAT_REDIS_URL", "TWEETHEAT_CONFIG", "NOTIFY_SOCKET"):
        e.pop(name, None)
    e["TWEETHEAT_HTTP_PORT"] = "0"
    return e


def tweetheat(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TWEETHEAT, *args], cwd=cwd, env=env(), capture_output=True, text=True, timeout=timeout
    )


def log_events(output: str, event: str) -> list[dict[str, Any]]:
    found = []
    for line in output.splitlines():
        if line.startswith("{"):
            record = orjson.loads(line)
            if record.get("event") == event:
                found.append(record)
    return found


def test_a_jetstream_replay_fills_the_cluster_report_with_posting_authors_bios(
    short_tmp: Path, redis_url: str
) -> None:
    replay = short_tmp / "jetstream.ndjson"
    again_file = short_tmp / "again.ndjson"  # the first events again, for a restarted daemon
    authors: set[str] = set()
    posted: list[str] = []  # each post's author
    again_posts: list[tuple[bytes, str]] = []
    with replay.open("wb") as fh:
        for line, truth in generate_jetstream(LINES, seed=21):
            if truth.kind == "profile":
                continue  # profile commits bring bios of their own: only enrichment here
            if truth.kind == "post":
                authors.add(truth.did)
                posted.append(truth.did)
                if len(authors) <= 300:
                    again_posts.append((line, truth.did))
            fh.write(line + b"\n")
    # Each post twice: by the second time, every author's bio is known.
    again_file.write_bytes(b"".join(line + b"\n" for line, _ in again_posts * 2))
    with_bio = {d for d in authors if (demo_profile(d) or {}).get("description")}
    assert len(with_bio) > 500

    with FakeAppView() as appview:
        config = short_tmp / "config.toml"
        config.write_text(
            f'[sources.jetstream]\nappview_url = "{appview.url}"\nlookups_per_second = 100.0\n'
            '[clusters]\nmin_users = 50\n[maps]\nassets = "cdn"\n'
        )
        common = ["--config", str(config), "--data-dir", "data", "--redis-url", redis_url]
        # --role ingest: no maps to draw, the clusters command refits below.
        run = ["run", *common, "--rate", "max", "--exit-at-eof", "--log-format", "json",
               "--out", "out", "--role", "ingest"]  # fmt: skip
        first = tweetheat(*run, "--replay-file", str(replay), cwd=short_tmp)
        assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
        stats = log_events(first.stdout, "enrichment_stopped")[-1]
        assert stats["enrich_dropped"] == 0 and stats["enrich_failed"] == 0
        asked = appview.dids_asked()
        assert sorted(asked) == sorted(authors)  # every posting author, each once

        clusters = tweetheat("clusters", *common, "--out", "out", "--json", cwd=short_tmp)
        assert clusters.returncode == 0, clusters.stderr
        assert orjson.loads(clusters.stdout)["users"] == len(with_bio)

        users = redis.Redis.from_url(redis_url).hgetall(Keys().users)
        for did in with_bio:
            profile = demo_profile(did) or {}
            name, bio, _lang, _seen = orjson.loads(users[did.encode()])
            assert (name, bio) == (profile["handle"], profile["description"])

        # A restarted daemon reading posts of the same authors: every DID is cached in Redis.
        # Paced: the second time round comes after the first's authors were offered.
        paced = [arg if arg != "max" else "300" for arg in run]
        again = tweetheat(*paced, "--replay-file", str(again_file), "--from-start", cwd=short_tmp)
        assert again.returncode == 0, again.stdout[-3000:]
        assert len(appview.dids_asked()) == len(asked)
        restarted = log_events(again.stdout, "enrichment_stopped")[-1]
        assert restarted["enrich_fetched"] == 0 and restarted["enrich_cached"] > 0

    # Bluesky posts carry no place; those whose author's bio names one were placed by it, at
    # the latest the second time (before it the bio may not have been known yet).
    placed_authors = {
        d for d in with_bio if bio_may_name_place((demo_profile(d) or {})["description"])
    }
    could = sum(did in placed_authors for _, did in again_posts)
    assert could >= 10
    status = tweetheat("status", *common, "--json", cwd=short_tmp)
    assert status.returncode == 0, status.stderr
    by_bio = sum(
        lang.get("geo_sources", {}).get("bio", 0)
        for lang in orjson.loads(status.stdout)["languages"].values()
    )
    sources = {
        source
        for lang in orjson.loads(status.stdout)["languages"].values()
        for source in lang.get("geo_sources", {})
    }
    assert sources <= {"bio"}  # no other evidence on Bluesky
    # The first run placed some (those whose bio was known in time), at most all of theirs.
    first_run_most = sum(did in placed_authors for did in posted)
    assert could * 0.9 <= by_bio <= 2 * could + first_run_most
