"""The built-in demo stream: synthetic v1.1 sample payloads (or, with `format="jetstream"`,
Bluesky Jetstream events) at a steady rate."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator

from streamer.sources.generator import generate
from streamer.sources.jetstream_generator import generate_jetstream
from streamer.sources.pacing import Pacer


class DemoSource:
    name = "demo"

    def __init__(
        self,
        rate: float = 50.0,
        seed: int = 1,
        geo_share: float = 0.01,
        count: int = 0,
        format: str = "v1",
    ) -> None:
        self.rate = rate
        self.seed = seed
        self.geo_share = geo_share
        self.count = count  # 0: endless
        self.format = format  # "v1" or "jetstream"

    async def chunks(self) -> AsyncIterator[list[bytes]]:
        pacer = Pacer(self.rate)
        # An endless stream is the same generator restarted with the next seed each round.
        seeds = itertools.count(self.seed) if self.count == 0 else iter([self.seed])
        for seed in seeds:
            n = self.count or 100_000
            if self.format == "jetstream":
                lines = (line for line, _ in generate_jetstream(n, seed))
            else:
                lines = (line for line, _ in generate(n, seed, self.geo_share))
            while True:
                chunk = list(itertools.islice(lines, pacer.chunk_size(200)))
                if not chunk:
                    break
                await pacer.wait(len(chunk))
                yield chunk
                await asyncio.sleep(0)  # generation is CPU work: let the loop breathe
