"""Where the Redis connection comes from: a configured URL, or the embedded server."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from redis.asyncio import Redis

from streamer.config import Settings
from streamer.storage.embedded_redis import EmbeddedRedis
from streamer.storage.keys import Keys
from streamer.storage.redis_cluster import cluster_client, is_cluster_url
from streamer.storage.store import Store
from streamer.storage.trend_store import TrendSettings


class AlreadyRunning(RuntimeError):
    pass


def redis_client(url: str) -> Redis:
    """A client for redis://, rediss:// or unix:// URLs (passwords go in the URL)."""
    return Redis.from_url(
        url, decode_responses=True, socket_connect_timeout=5.0, health_check_interval=30
    )


@contextlib.contextmanager
def daemon_lock(data_dir: Path, wait: float = 5.0) -> Iterator[None]:
    """One daemon per data directory: a second one is refused instead of sharing the files."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / "daemon.lock", "a+") as handle:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise AlreadyRunning(
                        f"another tweetheat daemon is running on {data_dir}"
                    ) from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def trend_settings(settings: Settings) -> TrendSettings:
    """`[trends]` as the commit scripts apply it (trends)."""
    t = settings.trends
    return TrendSettings(
        top_k=t.top_k,
        retention_seconds=t.retention_seconds,
        lateness_seconds=t.lateness_seconds,
        tag_points=t.tag_points,
        point_tags=t.point_tags,
    )


@contextlib.asynccontextmanager
async def open_store(settings: Settings, *, daemon: bool) -> AsyncIterator[Store]:
    """Yield a Store on the configured Redis, starting the embedded one when there is no URL.

    The daemon owns the embedded server and stops it on exit. A read command uses the
    daemon's server when it runs, or starts one just for itself (holding the daemon lock,
    so that no daemon can adopt a server that is about to be stopped).
    """
    keys = Keys(settings.redis.key_prefix)
    if is_cluster_url(settings.redis.url):
        # A Redis Cluster: hash-tagged key names (streamer.storage.keys), RedisCluster client.
        cluster = cluster_client(settings.redis.url)
        try:
            await cluster.initialize()  # the slot map, before any concurrent command
            cluster_keys = Keys(settings.redis.key_prefix, cluster=True)
            yield Store(cluster, cluster_keys, settings.redis.list_cap, trend_settings(settings))
        finally:
            await cluster.aclose()
        return
    if settings.redis.url:
        client = redis_client(settings.redis.url)
        try:
            yield Store(client, keys, settings.redis.list_cap, trend_settings(settings))
        finally:
            await client.aclose()
        return

    embedded = EmbeddedRedis(settings.data_path)
    async with contextlib.AsyncExitStack() as stack:
        if daemon:
            await asyncio.to_thread(embedded.start)
            stack.callback(embedded.stop)
        elif not await asyncio.to_thread(embedded.ping):
            stack.enter_context(daemon_lock(settings.data_path, wait=0.0))
            await asyncio.to_thread(embedded.start)
            stack.callback(embedded.stop)
        client = redis_client(embedded.url)
        stack.push_async_callback(client.aclose)
        yield Store(client, keys, settings.redis.list_cap, trend_settings(settings))
