"""The recent-user window hands the clustering each user's language, on a real Redis."""

from __future__ import annotations

import asyncio

from streamer.core.records import UserSeen
from streamer.storage.connections import redis_client
from streamer.storage.keys import Keys
from streamer.storage.store import Store


def test_user_bios_come_with_the_language_of_the_latest_post(redis_url: str) -> None:
    async def scenario() -> tuple[list[tuple[str, str, str | None]], ...]:
        client = redis_client(redis_url)
        try:
            store = Store(client, Keys("langwin:"))
            await store.update_users(
                [UserSeen("a", "A", "ゲーム好き", "ja"), UserSeen("b", None, "chef", None)], 100.0
            )
            await store.update_users([UserSeen("c", "C", "músico", "es")], 200.0)
            await store.update_users([UserSeen("a", "A", "guitar player", "en")], 300.0)
            everyone = await store.user_bios_with_language()
            recent = await store.user_bios_with_language(since=150.0)
            return sorted(everyone), sorted(recent)
        finally:
            await client.aclose()

    everyone, recent = asyncio.run(scenario())
    assert everyone == [("a", "guitar player", "en"), ("b", "chef", None), ("c", "músico", "es")]
    assert recent == [("a", "guitar player", "en"), ("c", "músico", "es")]
