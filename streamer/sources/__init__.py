"""Sources yield raw payload lines (bytes), in chunks, and know nothing of their formats."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Protocol, overload

from streamer.config import Settings


class LineBlock(Sequence[bytes]):
    """A chunk of lines held as one buffer, each line ended by b"\\n" (a replay reads its files
    this way): the pipeline hands the buffer on to a pool process whole, so no bytes object is
    made per line in the event loop. Iterating or indexing it splits it (slow, for tests)."""

    __slots__ = ("data", "length")

    def __init__(self, data: bytes, length: int) -> None:
        self.data = data
        self.length = length  # how many lines: the newlines in data

    def lines(self) -> list[bytes]:
        lines = self.data.split(b"\n")
        lines.pop()  # after the last newline: nothing
        return lines

    def __len__(self) -> int:
        return self.length

    @overload
    def __getitem__(self, index: int) -> bytes: ...
    @overload
    def __getitem__(self, index: slice) -> list[bytes]: ...
    def __getitem__(self, index: int | slice) -> bytes | list[bytes]:
        return self.lines()[index]

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.lines())

    def __repr__(self) -> str:
        return f"LineBlock({self.length} lines, {len(self.data)} bytes)"


class Source(Protocol):
    name: str

    def chunks(self) -> AsyncIterator[Sequence[bytes]]:
        """Raw lines, a chunk at a time (a list of lines or a LineBlock), ending when the source
        is exhausted."""
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

        return ReplaySource(src.replay_files, rate=src.rate, partition=src.partition_parts)
    return make_live_source(settings)


def make_live_source(settings: Settings) -> Source:
    live = settings.live
    kind = settings.source.kind
    if kind == "twitter-v2":
        from streamer.sources.twitter_v2 import TwitterV2Source

        return TwitterV2Source(
            live.v2_bearer_token, url=live.v2_url, stall_timeout=live.v2_stall_timeout
        )
    if kind == "twitter-v1":
        from streamer.sources.oauth1 import OAuth1Credentials
        from streamer.sources.twitter_v1 import TwitterV1Source

        credentials = OAuth1Credentials(
            live.v1_consumer_key,
            live.v1_consumer_secret,
            live.v1_access_token,
            live.v1_access_token_secret,
        )
        return TwitterV1Source(credentials, url=live.v1_url, stall_timeout=live.v1_stall_timeout)
    if kind == "jetstream":
        from streamer.sources.jetstream import JetstreamSource

        # The daemon sets start_cursor from Redis before reading (see daemon.resume_source).
        return JetstreamSource(live.jetstream_urls, stall_timeout=live.jetstream_stall_timeout)
    raise ValueError(f"unknown source {kind!r}")
