"""The pipeline in-process against a real Redis: backpressure, order and draining."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import redis

from streamer.config import PipelineSettings, Settings, SourceSettings
from streamer.connections import redis_client
from streamer.keys import Keys
from streamer.pipeline import Pipeline
from streamer.sources.demo import DemoSource
from streamer.store import Store


def settings_for(tmp_path: Path) -> Settings:
    return replace(
        Settings(),
        source=SourceSettings(kind="demo", rate=0.0),
        pipeline=PipelineSettings(
            workers=1, batch_size=100, batch_timeout=0.05, max_inflight_batches=2, queue_size=2000
        ),
        out_dir=str(tmp_path / "out"),
        status_interval=0.5,
    )


def test_a_stalled_redis_stops_the_reader_and_nothing_read_is_lost(
    redis_url: str, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path)
    admin = redis.Redis.from_url(redis_url)

    async def go() -> tuple[int, int, Pipeline]:
        client = redis_client(redis_url)
        store = Store(client, Keys(settings.redis.key_prefix))
        pipeline = Pipeline(settings, DemoSource(rate=0, seed=4, count=0), store)
        task = asyncio.create_task(pipeline.run())
        while pipeline.metrics.lines_done < 500:  # flowing
            await asyncio.sleep(0.05)
        admin.execute_command("CLIENT", "PAUSE", "2500", "WRITE")
        await asyncio.sleep(1.0)
        read_1 = pipeline.metrics.lines_read
        await asyncio.sleep(1.0)
        read_2 = pipeline.metrics.lines_read
        held = read_2 - pipeline.metrics.lines_done
        await asyncio.sleep(1.0)  # the pause ends; the backlog drains
        pipeline.request_stop()
        await asyncio.wait_for(task, 60)
        await client.aclose()
        return read_2 - read_1, held, pipeline

    grown, held, pipeline = asyncio.run(go())
    # Bounded: 2 queued chunks of <= 200 lines, the chunk the reader waits to queue, the chunk
    # the batcher is cutting, 2 batches of 100 in flight and 1 being written.
    assert grown == 0, "the reader kept reading while Redis could not take writes"
    assert 0 < held <= 2 * 200 + 200 + 200 + 2 * 100 + 100
    m = pipeline.metrics
    assert m.lines_done == m.lines_read
    counters = {k.decode(): int(v) for k, v in admin.hgetall("tweetheat:pipeline").items()}
    assert counters["lines"] == m.lines_read
    assert (tmp_path / "out" / "maps" / "index.html").is_file()
