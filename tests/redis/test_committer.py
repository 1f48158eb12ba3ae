"""The single-Redis committer against a real Redis: batches land once, in order; what Redis
loses is sent again from the journal; duplicates reach the counters and `on_commit` once."""

from __future__ import annotations

import asyncio
from pathlib import Path

from streamer.core.records import Detected
from streamer.delivery.committer import Committer
from streamer.delivery.journal import Entry, Journal
from streamer.storage.connections import redis_client
from streamer.storage.keys import Keys
from streamer.storage.store import Store


def post(n: int) -> Detected:
    return Detected("en", (f"t{n}",), None, f"at://x/{n}")


def test_lost_batches_are_sent_again_once_and_duplicates_are_counted_once(
    redis_url: str, tmp_path: Path
) -> None:
    async def go() -> None:
        client = redis_client(redis_url)
        store = Store(client, Keys("c:"))
        seen: list[tuple[int, int]] = []

        def on_commit(entry: Entry, duplicates: int, read_at: float | None) -> None:
            seen.append((entry.seq, duplicates))

        committer = Committer(
            store, Journal(tmp_path / "j", 1 << 20), "js", dedupe=True, on_commit=on_commit
        )
        await committer.recover()
        task = asyncio.create_task(committer.run())

        async def submit(*numbers: int) -> None:
            records = [post(n) for n in numbers]
            counters = {"lines": len(records), "accepted": len(records)}
            await committer.submit(records, counters, {"offset": max(numbers)}, 0.0)
            assert await committer.drain(10)

        try:
            await submit(1, 2)
            # What Redis holds after batch 1, as a Redis that crashed later comes back with.
            saved = {key: await client.dump(key) async for key in client.scan_iter("c:*")}
            await submit(2, 3)  # a resumed stream repeats post 2
            assert seen == [(1, 0), (2, 1)]
            await client.flushdb()
            for key, value in saved.items():
                await client.restore(key, 0, value)
            await submit(4)  # Redis answers "gap": batch 2 is sent again, then 4
            assert committer.resent == 1 and committer.lost == 0
            assert seen[2:] == [(2, 1), (3, 0)]
            checkpoint = await store.checkpoint("js")
            assert checkpoint is not None and (checkpoint.seq, checkpoint.position) == (
                3, {"offset": 4},
            )  # fmt: skip
            assert await store.recent_hashtags("en", 10) == ["t1", "t2", "t3", "t4"]
            assert await store.pipeline_counters() == {
                "lines": 5, "accepted": 4, "skipped:duplicate": 1,
            }  # fmt: skip
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            committer.journal.close()
            await client.aclose()

    asyncio.run(go())
