"""Redis Cluster: the `redis+cluster://` URL, its client, and the reads that differ from one
Redis (pipeline counters summed over ingest instances, memory summed over masters).

    redis+cluster://host:port[,host:port...]          plain TCP
    redis+cluster://[user]:password@host:port,...     with AUTH (percent-encode odd characters)
    rediss+cluster://host:port,...                    TLS

The nodes are only where the client starts: it asks any of them for the slot map and finds
the rest. A failover (a master dies, its replica is promoted) costs the commit in flight a few
retries: the client re-reads the slot map on the first MOVED or connection error, and the
committer (`streamer.delivery.cluster_committer`) retries with backoff on top, with batches
waiting in the journal meanwhile.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.cluster import ClusterNode as SyncClusterNode
from redis.cluster import RedisCluster as SyncRedisCluster

from streamer.core.redis_urls import ClusterUrl, is_cluster_url, parse_cluster_url
from streamer.storage.keys import Keys

__all__ = [
    "ClusterUrl",
    "cluster_client",
    "cluster_memory",
    "cluster_pipeline_counters",
    "is_cluster_client",
    "is_cluster_url",
    "parse_cluster_url",
    "sync_cluster_client",
]


# The client's own retries are immediate (redis-py's cluster client uses the Retry object only
# for its count) and each one re-reads the slot map: a few are enough to follow a MOVED or a
# refused connection to the promoted replica; longer outages are the committer's (backoff,
# journal, one log line per outage).
CLIENT_RETRIES = 3
CONNECT_TIMEOUT_S = 2.0  # a dead host (no RST) costs this much per attempt
SOCKET_TIMEOUT_S = 10.0  # a commit of a 100k-post batch takes well under a second


def cluster_client(url: str) -> RedisCluster:
    """A cluster client (`decode_responses=True`, like the single-Redis one) whose retries ride
    through a master failover."""
    spec = parse_cluster_url(url)
    return RedisCluster(
        startup_nodes=[ClusterNode(host, port) for host, port in spec.nodes],
        username=spec.username,
        password=spec.password,
        ssl=spec.tls,
        decode_responses=True,
        # Serve the slots that are up while a whole shard (master and replicas) is away.
        require_full_coverage=False,
        # After a failover every slot of the old master answers MOVED: re-read the whole map
        # on the first one instead of patching slot after slot.
        reinitialize_steps=1,
        retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=1.0), CLIENT_RETRIES),
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        socket_timeout=SOCKET_TIMEOUT_S,
        health_check_interval=30,
    )


def sync_cluster_client(url: str) -> SyncRedisCluster:
    """The blocking client of the same URL, for the notebook API."""
    spec = parse_cluster_url(url)
    return SyncRedisCluster(
        startup_nodes=[SyncClusterNode(host, port) for host, port in spec.nodes],
        username=spec.username,
        password=spec.password,
        ssl=spec.tls,
        decode_responses=True,
        require_full_coverage=False,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        socket_timeout=SOCKET_TIMEOUT_S,
    )


def is_cluster_client(client: Any) -> bool:
    return isinstance(client, RedisCluster | SyncRedisCluster)


# --- reads that differ on a cluster ---------------------------------------------------------


async def cluster_pipeline_counters(client: Any, keys: Keys) -> dict[str, int]:
    """Every ingest instance's counters, summed (each instance keeps its own in its slot)."""
    instances = sorted(str(i) for i in await client.smembers(keys.instances))
    totals: dict[str, int] = {}
    if not instances:
        return totals
    async with client.pipeline(transaction=False) as pipe:
        for instance in instances:
            pipe.hgetall(keys.instance_pipeline(instance))
        rows = await pipe.execute()
    for row in rows:
        for name, value in row.items():
            totals[str(name)] = totals.get(str(name), 0) + int(value)
    return totals


async def cluster_memory(client: Redis | RedisCluster) -> dict[str, Any]:
    """used_memory summed over the masters (replicas hold copies)."""
    assert isinstance(client, RedisCluster)
    infos = await client.info("memory", target_nodes=RedisCluster.PRIMARIES)
    if infos and all(isinstance(v, dict) for v in infos.values()):
        used = sum(int(v.get("used_memory", 0)) for v in infos.values())
    else:  # one master: redis-py answers with its INFO itself
        used = int(infos.get("used_memory", 0))
    return {"used_memory": used, "used_memory_human": _human(used), "masters": len(infos)}


def _human(n: float) -> str:
    for unit in ("B", "K", "M", "G"):
        if n < 1024 or unit == "G":
            return f"{n:.2f}{unit}" if unit != "B" else f"{int(n)}B"
        n /= 1024
    return f"{n:.2f}G"  # pragma: no cover
