"""Which Bluesky authors were looked up lately, kept in Redis so a restart does not ask again.

One string per DID (`Keys.profile`), with a TTL:

* `"?"` while a lookup is under way (claimed with SET NX, so two daemons never both ask);
* the profile as JSON `[handle, display name, bio]` once the AppView answered;
* `"-"` when the AppView no longer knows the DID (a negative entry).

A DID whose key exists is not looked up again until the key expires. A lookup that failed
releases its claim, so the author's next post can try again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from streamer.storage.keys import Keys

__all__ = ["MISSING", "PENDING", "ProfileCache", "ProfileEntry"]

PENDING = b"?"
MISSING = b"-"
PENDING_TTL_S = 600  # a claim outlives no crashed lookup by more than this

_RELEASE_LUA = """
if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end
return 0
"""

# (did, handle, display name, bio)
ProfileEntry = tuple[str, str | None, str | None, str | None]


class ProfileCache:
    def __init__(self, redis: Redis | RedisCluster, keys: Keys, ttl_s: float) -> None:
        self.redis = redis
        self.keys = keys
        self.ttl_s = max(1, int(ttl_s))
        self._release = redis.register_script(_RELEASE_LUA)

    async def claim(self, dids: Sequence[str]) -> list[str]:
        """The DIDs nobody looked up within the TTL, now claimed for a lookup: one pipelined
        SET NX per DID, one round trip for the lot. The others are cache hits."""
        if not dids:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for did in dids:
                pipe.set(self.keys.profile(did), PENDING, nx=True, ex=PENDING_TTL_S)
            claimed = await pipe.execute()
        return [did for did, ok in zip(dids, claimed, strict=True) if ok]

    async def release(self, dids: Iterable[str]) -> None:
        """Give up claims whose lookup failed: only keys that still hold the claim, so an
        answer written meanwhile stays. Failures are rare: one call per DID is fine."""
        for did in dids:
            await self._release(keys=[self.keys.profile(did)], args=[PENDING])

    async def store(self, found: Sequence[ProfileEntry], missing: Sequence[str]) -> None:
        """Answers for the TTL; DIDs the AppView does not know as negative entries, and out
        of the user window too (a deleted account's bio must not stay)."""
        k = self.keys
        async with self.redis.pipeline(transaction=False) as pipe:
            for did, handle, name, bio in found:
                pipe.set(k.profile(did), orjson.dumps([handle, name, bio]), ex=self.ttl_s)
            for did in missing:
                pipe.set(k.profile(did), MISSING, ex=self.ttl_s)
            if missing:
                self._remove_users(pipe, missing)
            await pipe.execute()

    async def forget(self, dids: Sequence[str]) -> None:
        """An account that stopped being active: its cached profile and its user entry go."""
        if not dids:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for did in dids:
                pipe.delete(self.keys.profile(did))
            self._remove_users(pipe, dids)
            await pipe.execute()

    def _remove_users(self, pipe: Any, dids: Sequence[str]) -> None:
        k = self.keys
        pipe.hdel(k.users, *dids)
        pipe.zrem(k.users_seen, *dids)
        pipe.hdel(k.user_cluster, *dids)

    async def get(self, did: str) -> ProfileEntry | bytes | None:
        """The cached entry: a profile, MISSING, PENDING, or None when nothing is cached."""
        return _entry(did, await self.redis.get(self.keys.profile(did)))

    async def cached_bios(self, dids: Sequence[str]) -> dict[str, str]:
        """The bios cached for these DIDs (one pipelined round trip): those with a profile
        that has a bio; claims, negative entries and unknown DIDs give none."""
        if not dids:
            return {}
        async with self.redis.pipeline(transaction=False) as pipe:
            for did in dids:
                pipe.get(self.keys.profile(did))
            raws = await pipe.execute()
        bios: dict[str, str] = {}
        for did, raw in zip(dids, raws, strict=True):
            entry = _entry(did, raw)
            if isinstance(entry, tuple) and entry[3]:
                bios[did] = entry[3]
        return bios

    async def users_with_bio(self) -> int:
        """Users in the recent-user window (each has a bio)."""
        return int(await self.redis.zcard(self.keys.users_seen))


def _entry(did: str, raw: Any) -> ProfileEntry | bytes | None:
    """A cached value read back: a profile, MISSING, PENDING, or None when nothing usable is
    cached (no key, or a value this cache never writes)."""
    if raw is None:
        return None
    data = raw if isinstance(raw, bytes) else str(raw).encode()
    if data in (MISSING, PENDING):
        return data
    try:
        handle, name, bio = orjson.loads(data)
    except (orjson.JSONDecodeError, TypeError, ValueError):
        return None
    if not all(v is None or isinstance(v, str) for v in (handle, name, bio)):
        return None
    return did, handle, name, bio
