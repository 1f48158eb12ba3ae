"""The pipeline lends its ingest workers to the clustering: bios labelled in the pool are
labelled as the clustering process would label them, and a pool that is gone says so."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from analysis.bios import bio_languages
from scripts.bios_devset import dev_users
from streamer.runtime import pipeline as pipeline_module
from streamer.runtime.daemon import analysis_jobs
from streamer.runtime.pipeline import Pipeline
from streamer.sources.demo import DemoSource
from streamer.storage.connections import redis_client
from streamer.storage.keys import Keys
from streamer.storage.store import Store
from tests.redis.test_pipeline import settings_for


def test_the_workers_label_bios_in_parts_and_a_closed_pool_cannot(
    redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    users = dev_users(300, seed=9)
    bios = [u.bio for u in users]
    fallback: list[str | None] = [None if i % 7 == 0 else u.lang for i, u in enumerate(users)]
    settings = settings_for(tmp_path)

    async def go() -> tuple[list[str | None] | None, list[str | None] | None, bool]:
        client = redis_client(redis_url)
        try:
            store = Store(client, Keys("labels:"))
            pipeline = Pipeline(settings, DemoSource(rate=0, seed=1, count=0), store,
                                analysis=analysis_jobs())  # fmt: skip
            wired = pipeline.analyst is not None and pipeline.analyst.label_bios is not None
            pipeline._pool = pipeline._new_pool()
            try:
                labelled = await pipeline.label_bios(bios, fallback)
            finally:
                pipeline._pool.shutdown(wait=True)
            after = await pipeline.label_bios(bios, fallback)  # a shut-down pool refuses
            return labelled, after, wired
        finally:
            await client.aclose()

    monkeypatch.setattr(pipeline_module, "LABEL_PART", 64)  # several tasks, the last one short
    labelled, after, wired = asyncio.run(go())
    assert wired
    assert labelled == bio_languages(bios, fallback)
    assert after is None
