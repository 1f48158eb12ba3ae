"""Every ingest instance's own heartbeat, beside the latest one."""

from __future__ import annotations

import asyncio

import redis

from streamer.storage.connections import redis_client
from streamer.storage.keys import Keys
from streamer.storage.store import HEARTBEAT_TTL_S, Store


def test_each_instance_keeps_its_own_heartbeat_and_expired_ones_leave(redis_url: str) -> None:
    admin = redis.Redis.from_url(redis_url, decode_responses=True)

    async def go() -> tuple[dict[str, str], dict[str, dict[str, str]], dict[str, dict[str, str]]]:
        client = redis_client(redis_url)
        store = Store(client, Keys("hb:"))
        await store.set_heartbeat({"pid": 1, "read": 10}, "replay-1of2")
        await store.set_heartbeat({"pid": 2, "read": 20}, "replay-2of2")
        latest, both = await store.heartbeat(), await store.heartbeats()
        admin.delete("hb:daemon:replay-1of2")  # as if its week had passed
        after = await store.heartbeats()
        await client.aclose()
        return latest, both, after

    latest, both, after = asyncio.run(go())
    assert latest == {"pid": "2", "read": "20"}  # the last writer's, as before
    assert both == {
        "replay-1of2": {"pid": "1", "read": "10"},
        "replay-2of2": {"pid": "2", "read": "20"},
    }
    assert list(after) == ["replay-2of2"]
    assert admin.smembers("hb:daemons") == {"replay-2of2"}
    assert 0 < admin.ttl("hb:daemon:replay-2of2") <= HEARTBEAT_TTL_S
