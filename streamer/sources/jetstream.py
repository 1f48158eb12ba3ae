"""Bluesky Jetstream: repository commits as JSON text frames over a websocket.

Every frame is one JSON event carrying `time_us`, the cursor the server can replay from. The
source remembers the cursor of the last event it handed over and resumes there after a
reconnect, so a drop loses nothing (the replayed duplicates are removed downstream). When an
instance cannot be reached, the next one in the list is tried.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import time
from collections.abc import AsyncGenerator, Callable, Sequence

import aiohttp
import orjson
from yarl import URL

from streamer.config import DEFAULT_MAX_LINE_BYTES
from streamer.core.logs import get_logger
from streamer.sources.http_stream import (
    CHUNK_LINES,
    USER_AGENT,
    Sleep,
    StreamEnded,
    describe_error,
)
from streamer.sources.live_stats import ConnectionReport, ConsumerWatch, StreamStats
from streamer.sources.reconnect import Backoff, Reason, ReconnectPolicy, reason_for_status
from streamer.sources.redact import Redactor, redact_url, url_secrets

log = get_logger("streamer.sources.jetstream")

JETSTREAM_INSTANCES: tuple[str, ...] = (
    "wss://jetstream1.us-east.bsky.network/subscribe",
    "wss://jetstream2.us-east.bsky.network/subscribe",
    "wss://jetstream1.us-west.bsky.network/subscribe",
    "wss://jetstream2.us-west.bsky.network/subscribe",
)
COLLECTIONS: tuple[str, ...] = ("app.bsky.feed.post", "app.bsky.actor.profile")

# Jetstream writes `did`, then `time_us`, then the rest: the cursor sits in the first bytes.
_TIME_US = re.compile(rb'"time_us"\s*:\s*(\d+)')
_CURSOR_SCAN_BYTES = 256
_CLEAN_CLOSE_CODES = (aiohttp.WSCloseCode.OK, aiohttp.WSCloseCode.GOING_AWAY)
CLOSE_TIMEOUT = 1.0  # how long to wait for the server's answer to our close frame
_TOO_BIG = aiohttp.WSCloseCode.MESSAGE_TOO_BIG


def event_time_us(line: bytes) -> int | None:
    """The event's `time_us`, found without parsing the whole event when possible."""
    match = _TIME_US.search(line, 0, _CURSOR_SCAN_BYTES)
    if match is not None:
        return int(match.group(1))
    try:  # an unusual key order: pay for a full parse
        event = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    value = event.get("time_us") if isinstance(event, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# An event's author opens it too: `{"did":"did:plc:...",`. A line is matched at its start
# only, so no DID quoted inside a record (a reply's parent, a mention) is taken for it.
_AUTHOR = re.compile(rb'^\{\s*"did"\s*:\s*"(did:[a-z0-9]+:[A-Za-z0-9._:%-]{1,2000})"', re.M)


def event_authors(part: bytes | Sequence[bytes]) -> set[str]:
    """The DIDs that open a chunk's events: a buffer of newline-ended lines (a replay's
    LineBlock) or a list of lines. Lines of any other shape (v1.1, a notice) give none."""
    if isinstance(part, bytes):
        return {m.group(1).decode() for m in _AUTHOR.finditer(part)}
    match = _AUTHOR.match
    return {m.group(1).decode() for line in part if (m := match(line)) is not None}


def chunk_cursor(chunk: Sequence[bytes]) -> int | None:
    """The `time_us` of the last event in the chunk that has one."""
    for line in reversed(chunk):
        cursor = event_time_us(line)
        if cursor is not None:
            return cursor
    return None


class FrameReader:
    """Receives a websocket's frames in a task into a small bounded queue, so that a chunk can
    take every frame already received without waiting for another one. When the queue is
    full the task stops receiving, and the socket's buffers push back on the server."""

    def __init__(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        stats: StreamStats,
        stall_timeout: float,
        chunk_lines: int = CHUNK_LINES,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    ) -> None:
        self._ws = ws
        self._max_line_bytes = max_line_bytes
        self._stats = stats
        self._stall_timeout = stall_timeout
        self._chunk_lines = chunk_lines
        self._queue: asyncio.Queue[bytes | StreamEnded] = asyncio.Queue(chunk_lines)
        self.ended: StreamEnded | None = None
        self.oversized = False  # the connection ended on a frame over the client's size limit
        self._task = asyncio.create_task(self._receive_all())

    async def next_lines(self) -> list[bytes]:
        """Frames: all that are queued now (at least one), up to `chunk_lines`. Empty once
        the connection has ended and every frame was handed over."""
        lines: list[bytes] = []
        if self.ended is not None:
            return lines
        item = await self._queue.get()
        while True:
            if isinstance(item, StreamEnded):
                self.ended = item
                break
            lines.append(item)
            if len(lines) >= self._chunk_lines or self._queue.empty():
                break
            item = self._queue.get_nowait()
        return lines

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _receive_all(self) -> None:
        try:
            end = await self._receive_until_end()
        except Exception as exc:  # anything unexpected still ends the connection visibly
            end = StreamEnded(Reason.NETWORK, describe_error(exc))
        await self._queue.put(end)

    async def _receive_until_end(self) -> StreamEnded:
        ws = self._ws
        while True:
            try:
                msg = await ws.receive(timeout=self._stall_timeout)
            except TimeoutError:
                return StreamEnded(Reason.STALL, f"no frames for {self._stall_timeout:g}s")
            if msg.type is aiohttp.WSMsgType.TEXT:
                data = msg.data.encode("utf-8")
            elif msg.type is aiohttp.WSMsgType.BINARY:
                data = msg.data  # not Jetstream's; the parser will say what it is
            elif msg.type is aiohttp.WSMsgType.ERROR:
                error = msg.data
                if isinstance(error, aiohttp.WebSocketError) and error.code == _TOO_BIG:
                    self.oversized = True
                return StreamEnded(Reason.NETWORK, describe_error(error))
            else:  # CLOSE, CLOSING, CLOSED
                return self._closed()
            self._stats.bytes += len(data)
            if not data:
                self._stats.keepalives += 1
                continue
            limit = self._max_line_bytes
            if len(data) > limit:
                self._stats.oversized_lines += 1
                data = data[: limit + 1]  # enough for the parser to call it too long
            await self._queue.put(data)

    def _closed(self) -> StreamEnded:
        code = self._ws.close_code
        if code in _CLEAN_CLOSE_CODES:
            return StreamEnded(Reason.CLEAN)
        exc = self._ws.exception()
        detail = f"websocket closed, code {code}"
        return StreamEnded(Reason.NETWORK, f"{detail}: {describe_error(exc)}" if exc else detail)


class OversizeSkip:
    """Where to resume after a frame over the size limit. The frame's own `time_us` is never
    seen (the client refuses it unread), only that it came after the last cursor handed
    over: so resume one microsecond past that, and if the next connection dies on an oversized
    frame again before anything arrives, skip twice as far each time. Events in a skipped
    span are lost (the skip is counted); the stream never loops on one frame."""

    def __init__(self) -> None:
        self.base: int | None = None  # the cursor the frame came after
        self.step = 0  # microseconds skipped past it the last time

    @property
    def active(self) -> bool:
        return self.base is not None

    def past(self, cursor: int, delivered: bool) -> int:
        if self.base is None or delivered:
            # The frame follows what was just handed over (a resumed connection hands over
            # only what lies past the skip, so its cursor is the newer base).
            self.base, self.step = cursor, 1
        else:
            self.step *= 2
        return self.base + self.step

    def reset(self) -> None:
        self.base, self.step = None, 0


class JetstreamSource:
    name = "jetstream"

    def __init__(
        self,
        urls: Sequence[str] = JETSTREAM_INSTANCES,
        *,
        collections: Sequence[str] = COLLECTIONS,
        wanted_dids: Sequence[str] = (),
        start_cursor: int | None = None,
        rewind_us: int = 0,
        stall_timeout: float = 30.0,
        heartbeat: float = 15.0,
        connect_timeout: float = 10.0,
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        chunk_lines: int = CHUNK_LINES,
        slow_consumer_s: float = 5.0,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    ) -> None:
        self.max_line_bytes = max_line_bytes
        if not urls:
            raise ValueError("jetstream: at least one instance URL is required")
        for url in urls:
            if URL(url).scheme not in ("ws", "wss"):
                raise ValueError(f"jetstream: not a ws(s) URL: {redact_url(url)}")
        self.urls = tuple(urls)
        self.collections = tuple(dict.fromkeys(collections))
        self.wanted_dids = tuple(dict.fromkeys(wanted_dids))  # empty: every author
        self.start_cursor = start_cursor
        self.rewind_us = rewind_us  # Jetstream's docs suggest a few seconds for gapless replay
        self.stall_timeout = stall_timeout
        self.heartbeat = heartbeat
        self.connect_timeout = connect_timeout
        self.stats = StreamStats()
        self.policy = ReconnectPolicy(backoff, rng)
        self._last_cursor: int | None = None
        self._sleep = sleep
        self._clock = clock
        self._chunk_lines = chunk_lines
        self._slow_consumer_s = slow_consumer_s
        self._skip = OversizeSkip()

    @property
    def cursor(self) -> int | None:
        """Where a new connection resumes: the `time_us` of the last event handed over, or
        the start cursor while nothing has been."""
        return self._last_cursor if self._last_cursor is not None else self.start_cursor

    # It resumes a few seconds behind its saved position, so the store de-duplicates by id.
    repeats_on_resume = True

    def position(self) -> int | None:
        """The cursor to save with the batch that ends with the last chunk handed over."""
        return self.cursor

    def subscribe_url(self, instance: str) -> str:
        query = [("wantedCollections", c) for c in self.collections]
        query += [("wantedDids", did) for did in self.wanted_dids]
        cursor = self.cursor
        if cursor is not None:
            # Past an oversized frame, never rewind: that would replay it again.
            rewind = 0 if self._skip.active else self.rewind_us
            query.append(("cursor", str(max(cursor - rewind, 0))))
        return str(URL(instance).extend_query(query))

    async def chunks(self) -> AsyncGenerator[list[bytes], None]:
        stats = self.stats
        redact = Redactor([secret for url in self.urls for secret in url_secrets(url)])
        report = ConnectionReport(self.name, stats, self.policy, log, redact, self._clock)
        consumer = ConsumerWatch(self.name, stats, log, self._clock, self._slow_consumer_s)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self.connect_timeout)
        instance = 0
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                while True:
                    url = self.subscribe_url(self.urls[instance])
                    report.connecting(self.urls[instance])
                    delivered = False
                    try:
                        ws = await self._connect(session, url)
                    except aiohttp.WSServerHandshakeError as exc:
                        reason = reason_for_status(exc.status)
                        error = f"HTTP {exc.status}: {exc.message}"
                        delay = report.disconnected(reason, exc.status, error)
                    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                        delay = report.disconnected(Reason.NETWORK, None, describe_error(exc))
                    else:
                        report.connected(101, cursor=self.cursor)
                        frames = FrameReader(
                            ws, stats, self.stall_timeout, self._chunk_lines, self.max_line_bytes
                        )
                        try:
                            while lines := await frames.next_lines():
                                delivered = True
                                stats.messages += len(lines)
                                report.data_arrived()
                                cursor = chunk_cursor(lines)
                                if cursor is not None:
                                    self._last_cursor = cursor
                                consumer.handed_over()
                                yield lines
                                consumer.asked_again()
                        finally:
                            await frames.close()
                            await ws.close()
                        ended = frames.ended or StreamEnded(Reason.CLEAN)
                        delay = report.disconnected(ended.reason, None, ended.error)
                        self._after_connection(frames.oversized, delivered)
                    if not delivered and len(self.urls) > 1:
                        instance = (instance + 1) % len(self.urls)
                        log.info(
                            "stream_failover",
                            source=self.name,
                            next_url=redact_url(self.urls[instance]),
                        )
                    await self._sleep(delay)
        finally:
            report.stopped()

    def _after_connection(self, oversized: bool, delivered: bool) -> None:
        """A frame too big for the client ends the connection, and a server replaying from
        our cursor would send it again, forever: resume past it instead (counted)."""
        if not oversized:
            if delivered:
                self._skip.reset()
            return
        cursor = self.cursor
        if cursor is None:
            return  # a live tail: the next connection starts after the frame anyway
        self._last_cursor = self._skip.past(cursor, delivered)
        self.stats.oversized_skips += 1
        log.warning(
            "jetstream_oversized_frame_skipped",
            source=self.name,
            limit_bytes=4 * self.max_line_bytes,
            resume_cursor=self._last_cursor,
        )

    async def _connect(
        self, session: aiohttp.ClientSession, url: str
    ) -> aiohttp.ClientWebSocketResponse:
        async with asyncio.timeout(self.connect_timeout):
            return await session.ws_connect(
                url,
                heartbeat=self.heartbeat,
                autoping=True,
                timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=CLOSE_TIMEOUT),
                headers={"User-Agent": USER_AGENT},
                max_msg_size=4 * self.max_line_bytes,
            )
