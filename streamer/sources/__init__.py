"""Sources yield raw payload lines (bytes), in chunks, and know nothing of their formats."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from streamer.config import Settings


class Source(Protocol):
    name: str

    def chunks(self) -> AsyncIterator[list[bytes]]:
        """Raw lines, a chunk at a time, ending when the source is exhausted."""
        ...


def make_source(settings: Settings) -> Source:
    src = settings.source
    if src.kind == "demo":
        from streamer.sources.demo import DemoSource

        return DemoSource(
            rate=src.rate, seed=src.demo_seed, geo_share=src.demo_geo_share, count=src.demo_count
        )
    if src.kind == "replay":
        from streamer.sources.replay import ReplaySource

        return ReplaySource(src.replay_files, rate=src.rate)
    raise ValueError(f"unknown source {src.kind!r}")
