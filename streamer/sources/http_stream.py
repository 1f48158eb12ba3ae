"""One long-lived streaming GET, reconnected per the policy and cut into chunks of lines.

Shared by the Twitter v1.1 and v2 sources, which differ only in URL, authorization and the
control messages they watch for. Bytes are read from the socket only when the pipeline asks
for the next chunk, so a slow pipeline slows the TCP connection instead of growing a buffer.
"""

from __future__ import annotations

import asyncio
import collections
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote

import aiohttp
from yarl import URL

from streamer.config import DEFAULT_MAX_LINE_BYTES
from streamer.core.logs import get_logger
from streamer.sources.lines import LineSplitter
from streamer.sources.live_stats import ConnectionReport, ConsumerWatch, StreamStats
from streamer.sources.reconnect import Backoff, Reason, ReconnectPolicy, reason_for_status
from streamer.sources.redact import Redactor, redact_url

log = get_logger("streamer.sources.http_stream")

USER_AGENT = "tweetheat/0.1"
CHUNK_LINES = 1000  # the pipeline's CHUNK_CAP
ERROR_BODY_BYTES = 2048  # how much of a refusal's body to read for the log

Sleep = Callable[[float], Awaitable[object]]
# Given the full request URL (query included), the headers that authorize it.
AuthHeaders = Callable[[str], Mapping[str, str]]
# Given a line, the reason if it announces that the server is about to close the stream.
ControlWatch = Callable[[bytes], Reason | None]


@dataclass(frozen=True)
class StreamEnded:
    """How a connection's stream ended."""

    reason: Reason
    error: str = ""


class Refused(Exception):
    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(status)
        self.status = status
        self.body = body

    def describe(self) -> str:
        text = self.body.decode("utf-8", "replace").strip()
        return f"HTTP {self.status}" + (f": {text}" if text else "")


def with_query(url: str, params: Sequence[tuple[str, str]]) -> str:
    """The URL with the parameters appended, each percent-encoded per RFC 3986 (which is also
    what OAuth 1.0a signs, so the bytes sent and the bytes signed are the same)."""
    if not params:
        return url
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params)
    return f"{url}{'&' if '?' in url else '?'}{query}"


def describe_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def buffered_bytes(content: aiohttp.StreamReader) -> bytes:
    """Bytes aiohttp had received but not handed over when the connection broke.

    StreamReader raises a broken connection's error before returning its buffer, which would
    lose complete messages that arrived just before the drop. The buffer is private: if its
    shape ever changes this recovers nothing, and the disconnect tests fail loudly.
    """
    buffer = getattr(content, "_buffer", None)
    if not isinstance(buffer, collections.deque) or not buffer:
        return b""
    offset = getattr(content, "_buffer_offset", 0)
    data = b"".join(bytes(piece) for piece in buffer)
    return data[offset:] if isinstance(offset, int) else data


class LineReader:
    """The lines of one response body, read only when the next chunk is asked for."""

    def __init__(
        self,
        content: aiohttp.StreamReader,
        stats: StreamStats,
        stall_timeout: float,
        chunk_lines: int = CHUNK_LINES,
        watch: ControlWatch | None = None,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    ) -> None:
        self._content = content
        self._stats = stats
        self._stall_timeout = stall_timeout
        self._chunk_lines = chunk_lines
        self._watch = watch
        self._splitter = LineSplitter(max_line_bytes)
        self._pending: list[bytes] = []
        self._announced: Reason | None = None
        self.ended: StreamEnded | None = None

    async def next_lines(self) -> list[bytes]:
        """Complete lines: what is available now (at least one line), up to `chunk_lines`.
        Empty once the body has ended and every complete line was handed over."""
        while not self._pending:
            if self.ended is not None:
                return []
            await self._read()
        chunk = self._pending[: self._chunk_lines]
        del self._pending[: self._chunk_lines]
        return chunk

    async def _read(self) -> None:
        try:
            async with asyncio.timeout(self._stall_timeout):
                data = await self._content.readany()
        except TimeoutError:
            self._end(Reason.STALL, f"no bytes for {self._stall_timeout:g}s")
        except (aiohttp.ClientError, OSError) as exc:
            self._take(buffered_bytes(self._content))
            self._end(Reason.NETWORK, describe_error(exc))
        else:
            if data:
                self._take(data)
            else:
                self._end(Reason.CLEAN)

    def _take(self, data: bytes) -> None:
        stats = self._stats
        stats.bytes += len(data)
        for line in self._splitter.feed(data):
            if len(line) > self._splitter.limit:
                stats.oversized_lines += 1  # handed on cut short: the parser counts it
            elif line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                stats.keepalives += 1
                continue
            if self._watch is not None and (announced := self._watch(line)) is not None:
                self._announced = announced
            self._pending.append(line)

    def _end(self, reason: Reason, error: str = "") -> None:
        # A line cut off by the disconnect is lost, as the platform would lose it.
        if self._splitter.close():
            self._stats.partial_lines_dropped += 1
        if self._announced is not None and reason in (Reason.CLEAN, Reason.NETWORK):
            reason = self._announced
        self.ended = StreamEnded(reason, error)


class HttpStream:
    """A streaming endpoint, connected and reconnected for as long as chunks are asked for."""

    def __init__(
        self,
        *,
        source: str,
        url: str,
        params: Sequence[tuple[str, str]] = (),
        auth: AuthHeaders | None = None,
        secrets: Sequence[str] = (),
        stall_timeout: float = 30.0,
        connect_timeout: float = 10.0,
        watch: ControlWatch | None = None,
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        chunk_lines: int = CHUNK_LINES,
        slow_consumer_s: float = 5.0,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    ) -> None:
        self.max_line_bytes = max_line_bytes
        parsed = URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError(f"{source}: not an http(s) URL: {redact_url(url)}")
        if parsed.user is not None:  # aiohttp cannot send them beside our Authorization header
            raise ValueError(f"{source}: credentials in the URL are not used: {redact_url(url)}")
        self.source = source
        self.url = url
        self.request_url = with_query(url, params)
        self.stats = StreamStats()
        self.policy = ReconnectPolicy(backoff, rng)
        self.stall_timeout = stall_timeout
        self.connect_timeout = connect_timeout
        self._auth = auth
        self._redact = Redactor(secrets)
        self._watch = watch
        self._sleep = sleep
        self._clock = clock
        self._chunk_lines = chunk_lines
        self._slow_consumer_s = slow_consumer_s

    async def chunks(self) -> AsyncGenerator[list[bytes], None]:
        stats = self.stats
        report = ConnectionReport(self.source, stats, self.policy, log, self._redact, self._clock)
        consumer = ConsumerWatch(self.source, stats, log, self._clock, self._slow_consumer_s)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self.connect_timeout)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                while True:
                    report.connecting(self.url)  # the query is long and holds no news
                    try:
                        response = await self._open(session)
                    except Refused as refused:
                        reason = reason_for_status(refused.status)
                        delay = report.disconnected(reason, refused.status, refused.describe())
                    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                        delay = report.disconnected(Reason.NETWORK, None, describe_error(exc))
                    else:
                        report.connected(response.status)
                        reader = LineReader(
                            response.content, stats, self.stall_timeout, self._chunk_lines,
                            self._watch, self.max_line_bytes,
                        )  # fmt: skip
                        try:
                            while lines := await reader.next_lines():
                                stats.messages += len(lines)
                                report.data_arrived()  # data flows: the back-off starts over
                                consumer.handed_over()
                                yield lines
                                consumer.asked_again()
                        finally:
                            response.close()
                        ended = reader.ended or StreamEnded(Reason.CLEAN)
                        delay = report.disconnected(ended.reason, None, ended.error)
                    await self._sleep(delay)
        finally:
            report.stopped()

    async def _open(self, session: aiohttp.ClientSession) -> aiohttp.ClientResponse:
        headers = {"Accept-Encoding": "gzip", "User-Agent": USER_AGENT}
        if self._auth is not None:
            headers.update(self._auth(self.request_url))
        async with asyncio.timeout(self.connect_timeout):
            response = await session.get(
                URL(self.request_url, encoded=True), headers=headers, allow_redirects=False
            )
        if response.status == 200:
            return response
        body = b""
        try:
            async with asyncio.timeout(2.0):
                body = await response.content.read(ERROR_BODY_BYTES)
        except (aiohttp.ClientError, OSError, TimeoutError):
            pass  # the status says enough
        finally:
            response.close()
        raise Refused(response.status, body)
