"""A real local Redis Cluster for tests: 3 masters, 3 replicas, started with
scripts/redis-cluster-local.sh on free loopback ports, and what tests need to know about it
(which master serves a key, its replica, their pids)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import redis
import redis.cluster
from redis.crc import key_slot

from tests.conftest import REPO

SCRIPT = REPO / "scripts" / "redis-cluster-local.sh"


class LocalCluster:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.base = 0

    def start(self, attempts: int = 8) -> LocalCluster:
        if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
            pytest.fail("redis-server and redis-cli are needed: run 'make test' (installs them)")
        last = ""
        for _ in range(attempts):
            # Six node ports and their bus ports (+10000) must be free: pick a random block.
            base = random.randrange(20000, 29000, 10)
            proc = subprocess.run(
                ["bash", str(SCRIPT), "start", "--dir", str(self.dir), "--base-port", str(base)],
                capture_output=True, text=True, timeout=120, check=False,
            )  # fmt: skip
            if proc.returncode == 0:
                self.base = base
                return self
            last = proc.stdout + proc.stderr
            if "in use" not in last:
                break
        raise RuntimeError(f"redis-cluster-local.sh start failed:\n{last}")

    def stop(self) -> None:
        subprocess.run(
            ["bash", str(SCRIPT), "stop", "--dir", str(self.dir)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    @property
    def ports(self) -> list[int]:
        return [self.base + i for i in range(6)]

    @property
    def url(self) -> str:
        """Two startup nodes: the client still finds the cluster when one of them is dead."""
        return f"redis+cluster://127.0.0.1:{self.base},127.0.0.1:{self.base + 1}"

    def node(self, port: int) -> redis.Redis:
        return redis.Redis(port=port, decode_responses=True, socket_timeout=5)

    def client(self) -> redis.cluster.RedisCluster:
        for port in self.ports:
            try:
                c = redis.cluster.RedisCluster(host="127.0.0.1", port=port, decode_responses=True)
                c.ping()
                return c
            except (redis.RedisError, redis.cluster.RedisClusterException):
                continue
        raise RuntimeError("no cluster node answers")

    def pid(self, port: int) -> int:
        return int((self.dir / f"node-{port}" / "redis.pid").read_text().strip())

    def alive_ports(self) -> list[int]:
        alive = []
        for port in self.ports:
            try:
                os.kill(self.pid(port), 0)
                alive.append(port)
            except (ProcessLookupError, FileNotFoundError, ValueError):
                pass
        return alive

    def flush(self) -> None:
        for port in self.alive_ports():
            node = self.node(port)
            try:
                if node.execute_command("ROLE")[0] == "master":
                    node.flushall()
            finally:
                node.close()

    def master_of(self, key: str) -> int:
        """The port of the master serving `key`'s slot."""
        slot = key_slot(key.encode())
        for port in self.alive_ports():
            node = self.node(port)
            try:
                for start, end, master, *_ in node.execute_command("CLUSTER", "SLOTS"):
                    if int(start) <= slot <= int(end):
                        return int(master[1])
            except redis.RedisError:
                continue
            finally:
                node.close()
        raise RuntimeError(f"no master for slot {slot}")

    def replica_of(self, master_port: int) -> int:
        node = self.node(master_port)
        try:
            info = node.info("replication")
        finally:
            node.close()
        return int(info["slave0"]["port"])

    def kill9(self, port: int) -> None:
        os.kill(self.pid(port), signal.SIGKILL)

    def wait_master(self, port: int, timeout: float = 30.0) -> None:
        """Until the node at `port` is a master serving slots and the cluster says ok."""
        deadline = time.monotonic() + timeout
        while True:
            node = self.node(port)
            try:
                role = node.execute_command("ROLE")[0]
                state = node.execute_command("CLUSTER", "INFO")
                ok = "cluster_state:ok" in (state if isinstance(state, str) else str(state))
                if role == "master" and ok:
                    return
            except redis.RedisError:
                pass
            finally:
                node.close()
            if time.monotonic() > deadline:
                raise TimeoutError(f"node {port} did not become a serving master")
            time.sleep(0.1)
