"""Groundwork for running over a Redis Cluster (issue 8): scripts/redis-cluster-local.sh brings
up a 3-master/3-replica cluster on loopback, and redis-py's asyncio cluster client keeps hash
tagged keys and a same-slot Lua script working across a master's `kill -9` and failover.

Real redis-server processes on free loopback ports; each test starts its own cluster in its
tmp dir and always stops it again. About 5 s per test."""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
import redis
from redis.asyncio import Redis as AsyncRedis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import (
    ClusterDownError,
    RedisClusterException,
    ResponseError,
    TryAgainError,
)

from tests.conftest import REPO

SCRIPT = REPO / "scripts" / "redis-cluster-local.sh"
NODES = 6
T = TypeVar("T")

# Per-language keys with the language as hash tag: they share one slot, so one script may
# touch both atomically (the shape a cluster-ready key schema would need).
TAGS_KEY = "tweetheat:hashtag_{en}"
STATS_KEY = "tweetheat:stats:{en}"

# The batch commit in miniature: push hashtags to a capped list and count them, atomically.
# KEYS: hashtag list, stats hash. ARGV: cap, tags... Returns {list length, hashtags total}.
COMMIT_LUA = """
redis.call("RPUSH", KEYS[1], unpack(ARGV, 2))
redis.call("LTRIM", KEYS[1], -tonumber(ARGV[1]), -1)
redis.call("HINCRBY", KEYS[2], "tweets", 1)
local total = redis.call("HINCRBY", KEYS[2], "hashtags", #ARGV - 1)
return {redis.call("LLEN", KEYS[1]), total}
"""

# What to retry while a failover is under way. redis-py's cluster client already refreshes
# its topology and retries these itself, but without pausing between attempts, so its
# retries run out in a fraction of a second, while the cluster needs about node-timeout plus
# an election (1-3 s here, node-timeout 1 s) to promote a replica.
FAILOVER_ERRORS: tuple[type[BaseException], ...] = (
    redis.ConnectionError,
    redis.TimeoutError,
    ClusterDownError,  # includes MasterDownError
    TryAgainError,
    RedisClusterException,  # includes SlotNotCoveredError; "cannot be connected" on refresh
)


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_base_port() -> int:
    """A base port P with P..P+5 and the cluster bus ports P+10000..P+10005 all free, below
    the kernel's ephemeral range so outgoing connections do not take them meanwhile."""
    for _ in range(200):
        base = random.randrange(12000, 22000 - NODES)
        if all(_bindable(base + i) and _bindable(base + 10000 + i) for i in range(NODES)):
            return base
    raise RuntimeError("no free block of cluster ports on 127.0.0.1")


def run_script(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@dataclass
class Cluster:
    dir: Path
    base: int
    pids: dict[int, int] = field(default_factory=dict)  # port -> pid, read at start

    @property
    def ports(self) -> list[int]:
        return [self.base + i for i in range(NODES)]

    def client(self, port: int) -> redis.Redis:
        return redis.Redis(port=port, decode_responses=True, socket_timeout=5)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    """A fresh cluster from the script; stopped (and checked gone) whatever the test does."""
    cdir = tmp_path / "cluster"
    started = None
    for _ in range(3):  # another process may take a port between the probe and the start
        base = free_base_port()
        proc = run_script("start", "--dir", str(cdir), "--base-port", str(base))
        if proc.returncode == 0:
            started = Cluster(cdir, base)
            break
        if "in use" not in proc.stderr:
            pytest.fail(f"start failed:\n{proc.stdout}{proc.stderr}")
    if started is None:
        pytest.fail("no free ports for the cluster after 3 tries")
    try:
        for port in started.ports:
            started.pids[port] = int((cdir / f"node-{port}" / "redis.pid").read_text())
        yield started
    finally:
        stop = run_script("stop", "--dir", str(cdir))
        assert stop.returncode == 0, stop.stdout + stop.stderr
        deadline = time.monotonic() + 5
        while any(pid_alive(p) for p in started.pids.values()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [p for p in started.pids.values() if pid_alive(p)], "stop left nodes behind"
        assert not cdir.exists()


def cluster_nodes(client: redis.Redis) -> list[dict[str, Any]]:
    """CLUSTER NODES (as redis-py parses it) as dicts: id, port, flags, master ("-" for a
    master), slots (how many it serves)."""
    nodes = []
    for addr, node in client.execute_command("CLUSTER NODES").items():
        nodes.append(
            {
                "id": node["node_id"],
                "port": int(addr.split("@")[0].rsplit(":", 1)[1]),
                "flags": set(node["flags"].split(",")),
                "master": node["master_id"],
                "slots": sum(int(r[-1]) - int(r[0]) + 1 for r in node["slots"]),
            }
        )
    return nodes


def cluster_info(client: redis.Redis) -> dict[str, str]:
    return {k: str(v) for k, v in client.execute_command("CLUSTER INFO").items()}


def test_script_starts_a_healthy_cluster_once(cluster: Cluster) -> None:
    for port in cluster.ports:
        with cluster.client(port) as c:
            info = cluster_info(c)
            assert info["cluster_state"] == "ok", (port, info)
            assert info["cluster_slots_assigned"] == "16384"
            assert info["cluster_slots_ok"] == "16384"
            assert info["cluster_known_nodes"] == str(NODES)
            assert c.config_get("appendonly")["appendonly"] == "yes"
            assert c.config_get("appendfsync")["appendfsync"] == "everysec"
            assert c.config_get("cluster-node-timeout")["cluster-node-timeout"] == "1000"

    with cluster.client(cluster.base) as c:
        nodes = cluster_nodes(c)
        slot_ranges = c.execute_command("CLUSTER SLOTS")
    masters = [n for n in nodes if "master" in n["flags"]]
    replicas = [n for n in nodes if "slave" in n["flags"]]
    assert len(masters) == 3 and len(replicas) == 3, nodes
    assert sorted(n["port"] for n in nodes) == cluster.ports
    assert sum(m["slots"] for m in masters) == 16384
    assert all(m["slots"] > 0 for m in masters)
    # One replica per master.
    assert sorted(r["master"] for r in replicas) == sorted(m["id"] for m in masters)
    covered = sorted((int(r[0]), int(r[1])) for r in slot_ranges)
    assert covered[0][0] == 0 and covered[-1][1] == 16383
    assert all(a[1] + 1 == b[0] for a, b in itertools.pairwise(covered))

    # Idempotent: a second start changes nothing; status says ok.
    again = run_script("start", "--dir", str(cluster.dir))
    assert again.returncode == 0 and "already running" in again.stdout, again
    for port in cluster.ports:
        assert int((cluster.dir / f"node-{port}" / "redis.pid").read_text()) == cluster.pids[port]
    status = run_script("status", "--dir", str(cluster.dir))
    assert status.returncode == 0 and "ok:" in status.stdout, status

    # Ports in use are refused, and nothing is left behind.
    other = cluster.dir.parent / "other"
    busy = run_script("start", "--dir", str(other), "--base-port", str(cluster.base))
    assert busy.returncode != 0 and "in use" in busy.stderr, busy
    assert not other.exists()


async def ride_through(
    call: Callable[[], Awaitable[T]], errors: list[str], deadline_s: float = 15.0
) -> T:
    """`call()` until it succeeds, pausing 0.2 s after each failover-type error (recorded in
    `errors`): what a daemon's writer loop does around the cluster client."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            return await call()
        except FAILOVER_ERRORS as exc:
            errors.append(type(exc).__name__)
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


def test_failover_keeps_replicated_writes(cluster: Cluster) -> None:
    asyncio.run(_failover_scenario(cluster))


async def _failover_scenario(cluster: Cluster) -> None:
    rc = RedisCluster(
        host="127.0.0.1",
        port=cluster.base,
        decode_responses=True,
        socket_connect_timeout=1.0,
        socket_timeout=2.0,
        retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=1.0), retries=3),
    )
    try:
        await rc.initialize()

        # Hash tags: both keys in one slot, by the server's count and the client's.
        slot = rc.keyslot(TAGS_KEY)
        assert await rc.cluster_keyslot(TAGS_KEY) == slot
        assert await rc.cluster_keyslot(STATS_KEY) == slot
        assert rc.keyslot("tweetheat:stats:en") != slot  # without the tag, elsewhere

        owner = rc.get_node_from_key(TAGS_KEY)
        assert owner is not None
        owner_port = int(owner.port)
        with cluster.client(cluster.base) as c:
            nodes = cluster_nodes(c)
        owner_id = next(n["id"] for n in nodes if n["port"] == owner_port)
        replica_port = next(n["port"] for n in nodes if n["master"] == owner_id)

        # Plain writes, then the script (EVALSHA, loaded on demand) on two same-slot keys.
        await rc.delete(TAGS_KEY, STATS_KEY)
        await rc.rpush(TAGS_KEY, "a")
        await rc.hset(STATS_KEY, mapping={"tweets": 0, "hashtags": 1})
        commit = rc.register_script(COMMIT_LUA)
        assert await commit(keys=[TAGS_KEY, STATS_KEY], args=[3, "b", "c"]) == [3, 3]
        assert await commit(keys=[TAGS_KEY, STATS_KEY], args=[3, "d"]) == [3, 4]
        # A script over keys of two slots is refused by the client before it is sent.
        with pytest.raises(RedisClusterException):
            await commit(keys=[TAGS_KEY, "tweetheat:stats:{de}"], args=[3, "x"])
        # And a script that builds its key names from ARGV (as streamer/store.py's commit
        # does) fails on a node that does not own them.
        other = next(n for n in nodes if "master" in n["flags"] and n["port"] != owner_port)
        with cluster.client(other["port"]) as c, pytest.raises(ResponseError, match="non local"):
            c.eval("return redis.call('LLEN', ARGV[1])", 0, TAGS_KEY)

        # Acknowledged by the replica before the kill.
        assert await rc.execute_command("WAIT", 1, 1000, target_nodes=owner) >= 1
        with cluster.client(replica_port) as c:
            pipe = c.pipeline(transaction=False)
            pipe.execute_command("READONLY")
            pipe.lrange(TAGS_KEY, 0, -1)
            pipe.hgetall(STATS_KEY)
            _, replica_tags, replica_stats = pipe.execute()
        expected_tags = ["b", "c", "d"]
        expected_stats = {"tweets": "2", "hashtags": "4"}
        assert (replica_tags, replica_stats) == (expected_tags, expected_stats)

        # kill -9 the master that owns the slot.
        killed_at = time.monotonic()
        os.kill(cluster.pids[owner_port], signal.SIGKILL)

        # The client reads at once: its cached owner is dead, so it fails (its own retries
        # do not wait long enough) until the replica is promoted; then a topology refresh
        # finds the new owner.
        errors: list[str] = []
        tags = await ride_through(lambda: rc.lrange(TAGS_KEY, 0, -1), errors)
        read_after = time.monotonic() - killed_at
        stats = await ride_through(lambda: rc.hgetall(STATS_KEY), errors)
        assert tags == expected_tags and stats == expected_stats, errors
        assert read_after < 10, f"read back only after {read_after:.1f}s: {errors}"
        assert set(errors) <= {"ConnectionError", "TimeoutError", "ClusterDownError"}, errors

        async with AsyncRedis(port=replica_port, decode_responses=True) as promoted:
            role = await promoted.execute_command("ROLE")
            # Redis 7 does not replicate SCRIPT LOAD: the new master answers NOSCRIPT and
            # redis-py's Script loads it again.
            had_script = (await promoted.script_exists(commit.sha))[0]
        assert role[0] == "master", role
        new_owner = rc.get_node_from_key(TAGS_KEY)
        assert new_owner is not None and int(new_owner.port) == replica_port

        # Writes go on, the script too (reloaded on the new master if it lacks it).
        assert await ride_through(
            lambda: commit(keys=[TAGS_KEY, STATS_KEY], args=[3, "e"]), errors
        ) == [3, 5]
        assert await rc.lrange(TAGS_KEY, 0, -1) == ["c", "d", "e"]
        await rc.rpush("tweetheat:geo_{en}", "[1.0, 2.0]")
        assert await rc.llen("tweetheat:geo_{en}") == 1

        print(
            f"\nfailover: owner {owner_port} killed, replica {replica_port} served the data "
            f"after {read_after:.2f}s; client errors ridden through: {len(errors)} "
            f"({', '.join(sorted(set(errors))) or 'none'}); promoted node had the script "
            f"cached: {had_script}"
        )
    finally:
        await rc.aclose()

    status = run_script("status", "--dir", str(cluster.dir))
    assert status.returncode == 1 and f"127.0.0.1:{owner_port} down" in status.stdout, status
