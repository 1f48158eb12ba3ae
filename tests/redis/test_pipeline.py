"""The pipeline in-process against a real Redis: backpressure, order and draining."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import redis

from streamer.config import PipelineSettings, Settings, SourceSettings
from streamer.runtime.daemon import analysis_jobs
from streamer.runtime.pipeline import Pipeline
from streamer.sources.demo import DemoSource
from streamer.storage.connections import redis_client
from streamer.storage.keys import Keys
from streamer.storage.store import Store


def settings_for(tmp_path: Path, journal_mb: float = 512.0) -> Settings:
    return replace(
        Settings(),
        source=SourceSettings(kind="demo", rate=0.0),
        pipeline=PipelineSettings(
            workers=1,
            batch_size=100,
            batch_timeout=0.05,
            max_inflight_batches=2,
            queue_size=2000,
            journal_max_mb=journal_mb,
        ),
        out_dir=str(tmp_path / "out"),
        data_dir=str(tmp_path / "data"),
        status_interval=0.5,
    )


def test_a_stalled_redis_fills_the_journal_then_stops_the_reader_and_nothing_is_lost(
    redis_url: str, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, journal_mb=0.25)
    admin = redis.Redis.from_url(redis_url)

    async def go() -> tuple[int, int, int, Pipeline]:
        client = redis_client(redis_url)
        store = Store(client, Keys(settings.redis.key_prefix))
        source = DemoSource(rate=0, seed=4, count=0)
        pipeline = Pipeline(settings, source, store, analysis=analysis_jobs())
        task = asyncio.create_task(pipeline.run())
        while pipeline.metrics.lines_done < 500:  # flowing
            await asyncio.sleep(0.05)
        committed = pipeline.committer.committed
        admin.execute_command("CLIENT", "PAUSE", "20000", "WRITE")
        # Redis takes nothing: batches go to the journal until it is full (on a busy machine
        # that takes longer, so wait for it rather than for a fixed time).
        deadline = asyncio.get_running_loop().time() + 15.0
        while not pipeline.committer.journal.full:
            assert asyncio.get_running_loop().time() < deadline, "the journal never filled"
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # what was already in flight settles
        read_1 = pipeline.metrics.lines_read
        journaled = pipeline.committer.backlog
        await asyncio.sleep(1.0)
        read_2 = pipeline.metrics.lines_read
        admin.execute_command("CLIENT", "UNPAUSE")  # the backlog drains
        deadline = asyncio.get_running_loop().time() + 20.0
        while pipeline.committer.committed <= committed + journaled:
            assert asyncio.get_running_loop().time() < deadline, "the backlog never drained"
            await asyncio.sleep(0.05)
        pipeline.request_stop()
        await asyncio.wait_for(task, 60)
        await client.aclose()
        return read_2 - read_1, journaled, read_2 - pipeline.metrics.lines_done, pipeline

    grown, journaled, _held, pipeline = asyncio.run(go())
    assert grown == 0, "the reader kept reading while the journal was full"
    # The journal took well over what the in-memory queues hold (2 batches in flight).
    assert journaled * 100 > 2000
    m = pipeline.metrics
    assert m.lines_done == m.lines_read
    counters = {k.decode(): int(v) for k, v in admin.hgetall("tweetheat:pipeline").items()}
    assert counters["lines"] == m.lines_read
    assert pipeline.committer.backlog == 0
    assert (tmp_path / "out" / "maps" / "index.html").is_file()
