"""Shared fixtures: a real redis-server on a free loopback port, started once per session."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

REPO = Path(__file__).resolve().parents[1]


def _shared_data() -> Path:
    """The team's shared/data (UDHR texts, NLTK stopwords): beside the checkout, as CI lays it
    out; or, for a throwaway clone elsewhere, beside the repository it was cloned from; or
    wherever TWEETHEAT_SHARED_DATA says. Tests that need it fail (never skip) without it."""
    if os.environ.get("TWEETHEAT_SHARED_DATA"):
        return Path(os.environ["TWEETHEAT_SHARED_DATA"])
    beside = REPO.parent / "shared" / "data"
    if beside.is_dir():
        return beside
    origin = subprocess.run(
        ["git", "-C", str(REPO), "config", "--get", "remote.origin.url"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    if origin and Path(origin).is_dir():
        from_origin = Path(origin).resolve().parent / "shared" / "data"
        if from_origin.is_dir():
            return from_origin
    return beside


SHARED_DATA = _shared_data()
# Every daemon the tests start shares the gazetteer `make setup` built (data/geo): one build,
# not one per temporary data dir (a build takes about 30 s; a load, a fraction of a second).
os.environ.setdefault("TWEETHEAT_GEO_CACHE_DIR", str(REPO / "data" / "geo"))
TWEETHEAT = str(Path(sys.executable).with_name("tweetheat"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_ping(client: redis.Redis, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if client.ping():
                return
        except redis.ConnectionError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError("redis-server did not answer")
        time.sleep(0.02)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server for the whole session; yields its base URL (no db number)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: run 'make test' (it installs it)")
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis(port=port)
    try:
        wait_for_ping(client)
        yield f"redis://127.0.0.1:{port}"
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def redis_url(redis_server: str) -> Iterator[str]:
    """A clean database for one test."""
    url = f"{redis_server}/0"
    client = redis.Redis.from_url(url)
    client.flushall()
    client.close()
    yield url


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A short temporary directory: unix socket paths must stay under 108 bytes."""
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="th-", dir="/tmp"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("TWEETHEAT_REDIS_URL", None)
    env.pop("TWEETHEAT_CONFIG", None)
    env["TWEETHEAT_HTTP_PORT"] = "0"  # daemons side by side must not fight over one port
    env.pop("NOTIFY_SOCKET", None)
    return env
