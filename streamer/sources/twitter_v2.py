"""X/Twitter API v2 sampled stream (`GET /2/tweets/sample/stream`, app-only bearer token).

The fields and expansions asked for are the ones the parser reads: text, language, time,
hashtags, geo and place bounding boxes, and the author's description (joined from includes).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncGenerator, Callable, Sequence

import orjson

from streamer.config import DEFAULT_MAX_LINE_BYTES
from streamer.sources.http_stream import HttpStream, Sleep
from streamer.sources.live_stats import StreamStats
from streamer.sources.reconnect import Backoff, Reason

DEFAULT_URL = "https://api.twitter.com/2/tweets/sample/stream"
STREAM_PARAMS: tuple[tuple[str, str], ...] = (
    ("tweet.fields", "created_at,lang,entities,geo,note_tweet,referenced_tweets,author_id"),
    ("expansions", "author_id,geo.place_id,referenced_tweets.id"),
    ("user.fields", "description,username,created_at,location"),  # location: geolocation
    ("place.fields", "geo,full_name,country_code"),
)


def operational_disconnect(line: bytes) -> Reason | None:
    """`{"errors":[{"title":"operational-disconnect",...}]}` without data: the server is about
    to close. The line still goes to the parser, which counts it as a stream error."""
    if b"operational-disconnect" not in line:  # a substring scan: cheap on every line
        return None
    try:
        payload = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(payload, dict) or "data" in payload:
        return None
    errors = payload.get("errors")
    if isinstance(errors, list) and any(
        isinstance(e, dict) and e.get("title") == "operational-disconnect" for e in errors
    ):
        return Reason.OPERATIONAL
    return None


class TwitterV2Source:
    name = "twitter-v2"

    def __init__(
        self,
        bearer_token: str,
        *,
        url: str = DEFAULT_URL,
        params: Sequence[tuple[str, str]] = STREAM_PARAMS,
        stall_timeout: float = 30.0,  # X sends a keep-alive every 20 s
        connect_timeout: float = 10.0,
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    ) -> None:
        if not bearer_token:
            raise ValueError("twitter-v2: a bearer token is required")
        header = {"Authorization": f"Bearer {bearer_token}"}
        self.url = url
        self.stall_timeout = stall_timeout
        self._stream = HttpStream(
            source=self.name,
            url=url,
            params=params,
            auth=lambda _url: header,
            secrets=[bearer_token],
            stall_timeout=stall_timeout,
            connect_timeout=connect_timeout,
            watch=operational_disconnect,
            backoff=backoff,
            rng=rng,
            sleep=sleep,
            clock=clock,
            max_line_bytes=max_line_bytes,
        )

    @property
    def stats(self) -> StreamStats:
        return self._stream.stats

    def chunks(self) -> AsyncGenerator[list[bytes], None]:
        return self._stream.chunks()
