"""Twitter v1.1 `statuses/sample` stream, signed with OAuth 1.0a user context.

Each connection attempt is signed afresh (new nonce and timestamp). v1.1 sends a blank line
every 30 s, and its guidance is to reconnect after 90 s without any data.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncGenerator, Callable, Sequence

from streamer.config import DEFAULT_MAX_LINE_BYTES
from streamer.sources.http_stream import HttpStream, Sleep
from streamer.sources.live_stats import StreamStats
from streamer.sources.oauth1 import OAuth1Credentials, OAuth1Signer
from streamer.sources.reconnect import Backoff, Reason

DEFAULT_URL = "https://stream.twitter.com/1.1/statuses/sample.json"
# Stall warnings arrive as `{"warning": ...}` lines (counted by the parser) before the server
# drops a client that reads too slowly.
STREAM_PARAMS: tuple[tuple[str, str], ...] = (("stall_warnings", "true"),)


def disconnect_notice(line: bytes) -> Reason | None:
    """`{"disconnect": {"code": ..., "reason": ...}}`: the server is about to close."""
    return Reason.SERVER_DISCONNECT if line.startswith(b'{"disconnect"') else None


class TwitterV1Source:
    name = "twitter-v1"

    def __init__(
        self,
        credentials: OAuth1Credentials,
        *,
        url: str = DEFAULT_URL,
        params: Sequence[tuple[str, str]] = STREAM_PARAMS,
        stall_timeout: float = 90.0,
        connect_timeout: float = 10.0,
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        signer: OAuth1Signer | None = None,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    ) -> None:
        if not all((credentials.consumer_key, *credentials.secrets)):
            raise ValueError("twitter-v1: consumer key/secret and token/secret are required")
        self.signer = signer or OAuth1Signer(credentials)
        self.url = url
        self.stall_timeout = stall_timeout
        self._stream = HttpStream(
            source=self.name,
            url=url,
            params=params,
            auth=self._authorize,
            secrets=credentials.secrets,
            stall_timeout=stall_timeout,
            connect_timeout=connect_timeout,
            watch=disconnect_notice,
            backoff=backoff,
            rng=rng,
            sleep=sleep,
            clock=clock,
            max_line_bytes=max_line_bytes,
        )

    def _authorize(self, request_url: str) -> dict[str, str]:
        return {"Authorization": self.signer.authorization("GET", request_url)}

    @property
    def stats(self) -> StreamStats:
        return self._stream.stats

    def chunks(self) -> AsyncGenerator[list[bytes], None]:
        return self._stream.chunks()
