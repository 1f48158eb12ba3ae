"""The live sources against real loopback servers that speak each wire format and misbehave.

Back-off delays go through a recording sleep that returns at once, so the schedules are
asserted exactly (jitter off) without waiting; stalls use a 0.3 s stall timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, Callable, Coroutine
from typing import Any, Protocol

import orjson
import pytest
from structlog.testing import capture_logs

from streamer.core.records import Post
from streamer.ingest.parser import MAX_LINE_BYTES, parse_payload
from streamer.sources.jetstream import (
    JetstreamSource,
    chunk_cursor,
    event_authors,
    event_time_us,
)
from streamer.sources.live_stats import StreamStats
from streamer.sources.oauth1 import OAuth1Credentials, parse_authorization
from streamer.sources.reconnect import Backoff
from streamer.sources.redact import Redactor, redact_url, url_secrets
from streamer.sources.twitter_v1 import TwitterV1Source
from streamer.sources.twitter_v2 import STREAM_PARAMS, TwitterV2Source
from tests.fake_streams import (
    JETSTREAM_EPOCH_US,
    KEEPALIVE,
    TEST_BEARER,
    TEST_OAUTH,
    Close,
    Cut,
    Flood,
    Hang,
    Pause,
    Reply,
    Send,
    encode_message,
    frame,
    jetstream_post,
    lines,
    start_jetstream_server,
    start_v1_server,
    start_v2_server,
    unused_url,
    v1_status,
    v2_operational_disconnect,
    v2_post,
)

NO_JITTER = Backoff(jitter=0.0)
STALL = 0.3


class LiveSource(Protocol):
    @property
    def stats(self) -> StreamStats: ...

    def chunks(self) -> AsyncGenerator[list[bytes], None]: ...


class RecordingSleep:
    """Stands in for asyncio.sleep: records each requested delay and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


def run(coro: Coroutine[Any, Any, Any], timeout: float = 10.0) -> Any:
    async def bounded() -> Any:
        async with asyncio.timeout(timeout):
            return await coro

    return asyncio.run(bounded())


async def consume_until(
    source: LiveSource, done: Callable[[], bool], timeout: float = 5.0
) -> list[bytes]:
    """Collect lines until `done()`, then stop the source as the pipeline does: cancel the
    pending read, then close the iterator."""
    got: list[bytes] = []
    chunks = source.chunks()

    async def consume() -> None:
        async for chunk in chunks:
            got.extend(chunk)

    task = asyncio.create_task(consume())
    try:
        async with asyncio.timeout(timeout):
            while not done() and not task.done():
                await asyncio.sleep(0.01)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task  # re-raises whatever the source raised
        await chunks.aclose()
    return got


def blob(messages: list[Any]) -> list[bytes]:
    return [encode_message(m) for m in messages]


# --- Twitter v2 ---------------------------------------------------------------------------


def test_v2_streams_lines_with_the_bearer_token_gzip_and_the_fields_the_parser_needs() -> None:
    posts = [v2_post(1), v2_post(2), v2_post(3)]
    script = [Reply(actions=(lines(posts[0]), KEEPALIVE, lines(posts[1], b"{not json"), KEEPALIVE))]
    script.append(Reply(gzip=True, actions=(lines(posts[2]), KEEPALIVE)))

    async def go() -> None:
        with start_v2_server(script) as server:
            sleep = RecordingSleep()
            source = TwitterV2Source(TEST_BEARER, url=server.url, sleep=sleep, backoff=NO_JITTER)
            got = await consume_until(
                source, lambda: len(server.requests) == 3 and source.stats.connects == 3
            )
            assert got == [*blob(posts[:2]), b"{not json", blob(posts)[2]]
            assert sleep.delays == [0.0, 0.0]  # clean ends, data each time: reconnect at once
            request = server.requests[0]
            assert request.headers["Authorization"] == f"Bearer {TEST_BEARER}"
            assert request.headers["Accept-Encoding"] == "gzip"  # asked for explicitly
            assert request.query == list(STREAM_PARAMS)
            assert all(r.status == 200 for r in server.requests)
            stats = source.stats
            assert (stats.messages, stats.keepalives, stats.connects) == (4, 3, 3)
            assert stats.disconnects == {"clean": 2}
            assert stats.state == "stopped"
            assert isinstance(parse_payload(got[0]), Post)  # the fake speaks what we parse

    run(go())


def test_v2_every_complete_message_lands_exactly_once_across_misbehaviour() -> None:
    """Refusals, a body cut mid-message, gzip, empty streams, a stall and an operational
    disconnect, in one run: the lines handed over are exactly the complete lines sent, and
    each delay follows the policy."""
    partial = b'{"data":{"id":"cut-off","te'
    script = [
        Reply(status=503, body=b'{"title":"Service Unavailable"}'),
        Reply(status=503),
        Reply(status=429, body=b'{"title":"ConnectionException"}'),
        Reply(actions=(lines(v2_post(1), v2_post(2)), KEEPALIVE, Send(partial), Cut())),
        Reply(gzip=True, actions=(lines(v2_post(3)), KEEPALIVE, lines(v2_post(4)))),
        Reply(),  # accepted, then ends at once: twice in a row
        Reply(),
        Reply(actions=(lines(v2_post(5)), Hang())),  # then silence: a stall
        Reply(actions=(lines(v2_post(6), v2_operational_disconnect()),)),
    ]
    expected = [line for reply in script for line in reply.complete_lines()]

    async def go() -> None:
        with start_v2_server(script) as server:
            sleep = RecordingSleep()
            source = TwitterV2Source(
                TEST_BEARER, url=server.url, sleep=sleep, backoff=NO_JITTER, stall_timeout=STALL
            )
            got = await consume_until(source, lambda: len(server.requests) == len(script) + 1)
            assert len(expected) == 7
            assert got == expected
            assert sleep.delays == [5.0, 10.0, 60.0, 0.25, 0.0, 0.25, 0.5, 0.25, 0.0]
            stats = source.stats
            assert stats.disconnects == {
                "http": 2,
                "rate_limited": 1,
                "network": 1,
                "clean": 3,
                "stall": 1,
                "operational_disconnect": 1,
            }
            assert (stats.partial_lines_dropped, stats.stalls, stats.messages) == (1, 1, 7)

    run(go())


def test_v2_a_drop_while_the_pipeline_is_busy_loses_no_complete_message() -> None:
    """The server sends more and hangs up while nobody reads: the complete lines already
    received must still come out, the cut-off one must not."""
    rest = lines(v2_post(2), v2_post(3)).data + b'{"data":{"id":"4","te'
    script = [Reply(actions=(lines(v2_post(1)), Pause(0.05), Send(rest), Cut()))]

    async def go() -> None:
        with start_v2_server(script) as server:
            sleep = RecordingSleep()
            source = TwitterV2Source(TEST_BEARER, url=server.url, sleep=sleep, backoff=NO_JITTER)
            chunks = source.chunks()
            got: list[bytes] = []
            try:
                got += await anext(chunks)
                await asyncio.sleep(0.3)  # busy: the rest and the hang-up arrive meanwhile
                got += await asyncio.wait_for(anext(chunks), 3)
                reconnecting = asyncio.ensure_future(anext(chunks))
                while len(server.requests) < 2:
                    await asyncio.sleep(0.01)
                reconnecting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reconnecting
            finally:
                await chunks.aclose()
            assert got == blob([v2_post(1), v2_post(2), v2_post(3)])
            assert source.stats.partial_lines_dropped == 1
            assert source.stats.disconnects == {"network": 1}

    run(go())


def test_v2_wrong_token_is_refused_logged_clearly_and_retried_slowly_without_leaking() -> None:
    token = "wrong-token-9f8e7d6c5b4a"

    async def go() -> None:
        with start_v2_server([]) as server:
            sleep = RecordingSleep()
            source = TwitterV2Source(token, url=server.url, sleep=sleep, backoff=NO_JITTER)
            with capture_logs() as logs:
                got = await consume_until(source, lambda: len(sleep.delays) >= 3)
            assert got == []
            assert sleep.delays[:3] == [300.0, 300.0, 300.0]  # no faster, however many
            assert {r.status for r in server.requests} == {401}
            assert server.requests[0].headers["Authorization"] == f"Bearer {token}"
            assert source.stats.last_status == 401
            assert "HTTP 401" in source.stats.last_error
            refusals = [e for e in logs if e["event"] == "stream_disconnected"]
            assert len(refusals) >= 3
            assert refusals[0]["log_level"] == "error"
            assert (refusals[0]["reason"], refusals[0]["status"]) == ("auth", 401)
            assert refusals[0]["next_delay_s"] == 300.0
            assert token not in repr(logs) and token not in repr(source.stats.as_dict())

    run(go())


def test_v2_operational_disconnect_is_passed_on_and_reconnects_at_once() -> None:
    error = v2_operational_disconnect()
    script = [Reply(actions=(lines(v2_post(1), error),))]

    async def go() -> None:
        with start_v2_server(script) as server:
            sleep = RecordingSleep()
            source = TwitterV2Source(TEST_BEARER, url=server.url, sleep=sleep, backoff=NO_JITTER)
            got = await consume_until(source, lambda: len(server.requests) == 2)
            assert got == blob([v2_post(1), error])
            assert parse_payload(got[1]).reason == "stream_error"  # type: ignore[union-attr]
            assert source.stats.disconnects == {"operational_disconnect": 1}
            assert sleep.delays == [0.0]

    run(go())


def test_v2_a_line_too_long_is_cut_for_the_parser_and_the_next_line_survives() -> None:
    huge = b'{"data":{"text":"' + b"x" * (MAX_LINE_BYTES + 200_000) + b'"}}'
    script = [Reply(actions=(Send(huge[:300_000]), Send(huge[300_000:] + b"\r\n"), lines("ok")))]

    async def go() -> None:
        with start_v2_server(script) as server:
            source = TwitterV2Source(TEST_BEARER, url=server.url, sleep=RecordingSleep())
            got = await consume_until(source, lambda: len(server.requests) == 2)
            assert [len(line) for line in got] == [MAX_LINE_BYTES + 1, 2]
            assert got[0] == huge[: MAX_LINE_BYTES + 1] and got[1] == b"ok"
            assert source.stats.oversized_lines == 1
            assert parse_payload(got[0]).reason == "too_long"  # type: ignore[union-attr]

    run(go())


def test_v2_chunks_hold_what_is_available_up_to_1000_lines_in_order() -> None:
    posts = [{"data": {"id": str(i), "text": "t"}} for i in range(2500)]
    script = [Reply(actions=(lines(*posts), Hang()))]

    async def go() -> None:
        with start_v2_server(script) as server:
            source = TwitterV2Source(TEST_BEARER, url=server.url)
            chunks = source.chunks()
            sizes: list[int] = []
            got: list[bytes] = []
            try:
                while len(got) < 2500:
                    chunk = await anext(chunks)
                    sizes.append(len(chunk))
                    got.extend(chunk)
            finally:
                await chunks.aclose()
            assert got == blob(posts)
            assert max(sizes) == 1000 and len(sizes) < 100  # batched, never over the cap

    run(go())


def test_v2_reads_only_when_asked_so_a_slow_pipeline_pushes_back_on_the_server() -> None:
    total = 64 << 20

    async def go() -> None:
        with start_v2_server([Reply(actions=(Flood(total),))]) as server:
            source = TwitterV2Source(TEST_BEARER, url=server.url)
            chunks = source.chunks()
            try:
                first = await anext(chunks)
                await asyncio.sleep(0.3)  # the pipeline is busy
                sent = server.bytes_sent
                await asyncio.sleep(0.2)
                assert server.bytes_sent == sent  # the server is blocked, not streaming on
                assert sent < total // 2
                assert source.stats.bytes < 1 << 20  # the source read only what it handed over
                assert len(first) <= 1000
            finally:
                await chunks.aclose()

    run(go())


def test_v2_logs_when_the_pipeline_is_slow_to_ask_for_more() -> None:
    now = [1000.0]
    script = [Reply(actions=(lines(v2_post(1)), Pause(0.05), lines(v2_post(2)), Hang()))]

    async def go() -> None:
        with start_v2_server(script) as server:
            source = TwitterV2Source(TEST_BEARER, url=server.url, clock=lambda: now[0])
            chunks = source.chunks()
            with capture_logs() as logs:
                try:
                    await anext(chunks)
                    now[0] += 12.0  # the pipeline held on to the chunk for 12 s
                    await anext(chunks)
                finally:
                    await chunks.aclose()
            waits = [e for e in logs if e["event"] == "stream_reader_waiting"]
            assert len(waits) == 1 and waits[0]["waited_s"] == 12.0
            assert source.stats.consumer_waits == 1

    run(go())


def test_v2_stops_within_two_seconds_while_backing_off_320s() -> None:
    """The pipeline's stop: cancel the pending read, then close the iterator."""

    async def go() -> None:
        with start_v2_server([Reply(status=503)]) as server:
            source = TwitterV2Source(
                TEST_BEARER, url=server.url, backoff=Backoff(http_first_s=320.0, jitter=0.0)
            )
            chunks = source.chunks()
            pending = asyncio.ensure_future(anext(chunks))
            async with asyncio.timeout(5):
                while source.stats.state != "backoff":
                    await asyncio.sleep(0.01)
            assert source.stats.next_delay == 320.0
            started = time.monotonic()
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await pending
            await chunks.aclose()
            assert time.monotonic() - started < 2.0
            assert source.stats.state == "stopped"

    run(go())


def test_v2_stops_promptly_while_waiting_on_a_silent_server() -> None:
    async def go() -> None:
        with start_v2_server([Reply(actions=(lines(v2_post(1)), Hang()))]) as server:
            source = TwitterV2Source(TEST_BEARER, url=server.url, stall_timeout=60.0)
            chunks = source.chunks()
            assert len(await anext(chunks)) == 1
            pending = asyncio.ensure_future(anext(chunks))
            await asyncio.sleep(0.1)
            assert not pending.done() and source.stats.state == "streaming"
            started = time.monotonic()
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pending
            await chunks.aclose()
            assert time.monotonic() - started < 2.0
            assert source.stats.state == "stopped"

    run(go())


def test_v2_unreachable_server_backs_off_linearly() -> None:
    async def go() -> None:
        sleep = RecordingSleep()
        url = unused_url(path="/2/tweets/sample/stream")
        source = TwitterV2Source(TEST_BEARER, url=url, sleep=sleep, backoff=NO_JITTER)
        await consume_until(source, lambda: len(sleep.delays) >= 4)
        assert sleep.delays[:4] == [0.25, 0.5, 0.75, 1.0]
        assert source.stats.disconnects["network"] >= 4
        assert source.stats.connects == 0
        assert "Cannot connect" in source.stats.last_error

    run(go())


# --- Twitter v1.1 -------------------------------------------------------------------------


def test_v1_signs_each_connection_with_oauth_and_the_server_accepts_it() -> None:
    statuses = [v1_status(1), v1_status(2), v1_status(3)]
    script = [
        Reply(actions=(lines(statuses[0]), KEEPALIVE, Send(b'{"created_at":'), Cut())),
        Reply(actions=(lines(*statuses[1:]), lines({"disconnect": {"code": 1, "reason": "x"}}))),
    ]

    async def go() -> None:
        with start_v1_server(script) as server:
            sleep = RecordingSleep()
            source = TwitterV1Source(TEST_OAUTH, url=server.url, sleep=sleep, backoff=NO_JITTER)
            assert source.stall_timeout == 90.0  # v1.1's own guidance
            got = await consume_until(source, lambda: len(server.requests) == 3)
            assert got == [*blob(statuses), b'{"disconnect":{"code":1,"reason":"x"}}']
            assert [r.status for r in server.requests] == [200, 200, 200]  # signatures valid
            assert server.requests[0].query == [("stall_warnings", "true")]
            nonces = {
                parse_authorization(r.headers["Authorization"])["oauth_nonce"]
                for r in server.requests
            }
            assert len(nonces) == 3
            assert sleep.delays == [0.25, 0.0]  # cut mid-message, then the disconnect notice
            assert source.stats.disconnects == {"network": 1, "server_disconnect": 1}
            assert source.stats.partial_lines_dropped == 1
            assert isinstance(parse_payload(got[0]), Post)

    run(go())


def test_v1_wrong_secret_gets_401_and_the_secret_stays_out_of_logs() -> None:
    wrong = OAuth1Credentials(
        TEST_OAUTH.consumer_key, "not-the-secret-1234", TEST_OAUTH.token, TEST_OAUTH.token_secret
    )

    async def go() -> None:
        with start_v1_server([]) as server:
            sleep = RecordingSleep()
            source = TwitterV1Source(wrong, url=server.url, sleep=sleep, backoff=NO_JITTER)
            with capture_logs() as logs:
                await consume_until(source, lambda: len(sleep.delays) >= 2)
            assert {r.status for r in server.requests} == {401}
            assert sleep.delays[:2] == [300.0, 300.0]
            shown = repr(logs) + repr(source.stats.as_dict())
            for secret in wrong.secrets:
                assert secret not in shown

    run(go())


# --- Jetstream ----------------------------------------------------------------------------


def test_jetstream_resumes_from_the_last_cursor_it_handed_over() -> None:
    events = [jetstream_post(n) for n in range(1, 6)]
    script = [
        Reply(actions=(*map(frame, events[:3]), Cut())),  # dropped without a close frame
        Reply(actions=(*map(frame, events[3:]), Close(1000))),
    ]

    async def go() -> None:
        with start_jetstream_server(script) as server:
            sleep = RecordingSleep()
            source = JetstreamSource([server.url], sleep=sleep, backoff=NO_JITTER)
            got = await consume_until(source, lambda: len(server.requests) == 3)
            assert got == blob(events)
            first, second, third = server.requests
            assert first.param("cursor") is None
            collections = [v for k, v in first.query if k == "wantedCollections"]
            assert collections == ["app.bsky.feed.post", "app.bsky.actor.profile"]
            assert second.param("cursor") == str(events[2]["time_us"])
            assert third.param("cursor") == str(events[4]["time_us"])
            assert source.cursor == events[4]["time_us"]
            assert sleep.delays == [0.25, 0.0]
            assert source.stats.disconnects == {"network": 1, "clean": 1}
            assert isinstance(parse_payload(got[0]), Post)

    run(go())


def test_jetstream_starts_from_the_given_cursor_minus_the_rewind() -> None:
    start = JETSTREAM_EPOCH_US + 10_000_000

    async def go() -> None:
        with start_jetstream_server([]) as server:
            source = JetstreamSource([server.url], start_cursor=start, rewind_us=2_000_000)
            assert source.cursor == start
            await consume_until(source, lambda: source.stats.state == "streaming")
            assert server.requests[0].param("cursor") == str(start - 2_000_000)

    run(go())


def test_jetstream_fails_over_to_the_next_instance() -> None:
    async def go() -> None:
        refusing = start_jetstream_server([Reply(status=429)])
        serving = start_jetstream_server([Reply(actions=(frame(jetstream_post(1)), Hang()))])
        with refusing, serving:
            sleep = RecordingSleep()
            urls = [unused_url("ws", "/subscribe"), refusing.url, serving.url]
            source = JetstreamSource(urls, sleep=sleep, backoff=NO_JITTER)
            got = await consume_until(source, lambda: source.stats.messages == 1)
            assert got == blob([jetstream_post(1)])
            assert sleep.delays == [0.25, 60.0]  # refused connection, then a 429 handshake
            assert [r.status for r in refusing.requests] == [429]
            assert len(serving.requests) == 1
            assert source.stats.url == serving.url

    run(go())


def test_jetstream_reconnects_after_a_stall() -> None:
    events = [jetstream_post(1), jetstream_post(2)]
    script = [Reply(actions=(*map(frame, events), Hang()))]

    async def go() -> None:
        with start_jetstream_server(script) as server:
            sleep = RecordingSleep()
            source = JetstreamSource(
                [server.url], sleep=sleep, backoff=NO_JITTER, stall_timeout=STALL
            )
            started = time.monotonic()
            got = await consume_until(source, lambda: len(server.requests) == 2)
            assert got == blob(events)
            assert source.stats.stalls == 1 and sleep.delays == [0.25]
            assert server.requests[1].param("cursor") == str(events[1]["time_us"])
            assert time.monotonic() - started < 3.0

    run(go())


async def frames_piled_up(server: Any, quiet: float = 0.05, most: float = 2.0) -> None:
    """Wait until the server has stopped sending for `quiet` seconds (it sent everything, or
    the connection's buffers are full): a fixed pause was not always enough on a busy machine,
    where the server's thread then trickled a few frames per chunk."""
    deadline = time.monotonic() + most
    sent = -1
    while server.bytes_sent != sent and time.monotonic() < deadline:
        sent = server.bytes_sent
        await asyncio.sleep(quiet)


def test_jetstream_chunks_batch_frames_up_to_1000() -> None:
    events = [jetstream_post(n) for n in range(2500)]

    async def go() -> None:
        with start_jetstream_server([Reply(actions=(*map(frame, events), Hang()))]) as server:
            source = JetstreamSource([server.url])
            chunks = source.chunks()
            sizes: list[int] = []
            got: list[bytes] = []
            try:
                await asyncio.sleep(0)
                while len(got) < len(events):
                    chunk = await anext(chunks)
                    await frames_piled_up(server)  # behind this chunk
                    sizes.append(len(chunk))
                    got.extend(chunk)
                    assert source.position() == orjson.loads(chunk[-1])["time_us"]
            finally:
                await chunks.aclose()
            assert got == blob(events)
            assert max(sizes) == 1000 and len(sizes) < 100
            assert source.cursor == events[-1]["time_us"]

    run(go())


def test_jetstream_stops_within_two_seconds_while_backing_off() -> None:
    async def go() -> None:
        with start_jetstream_server([Reply(status=503)]) as server:
            source = JetstreamSource([server.url], backoff=Backoff(http_first_s=320.0))
            chunks = source.chunks()
            pending = asyncio.ensure_future(anext(chunks))
            async with asyncio.timeout(5):
                while source.stats.state != "backoff":
                    await asyncio.sleep(0.01)
            started = time.monotonic()
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pending
            await chunks.aclose()
            assert time.monotonic() - started < 2.0
            assert source.stats.state == "stopped"

    run(go())


def test_jetstream_stops_promptly_while_connected_to_a_silent_server() -> None:
    async def go() -> None:
        with start_jetstream_server([Reply(actions=(frame(jetstream_post(1)), Hang()))]) as server:
            source = JetstreamSource([server.url], stall_timeout=60.0)
            chunks = source.chunks()
            assert len(await anext(chunks)) == 1
            pending = asyncio.ensure_future(anext(chunks))
            await asyncio.sleep(0.1)
            assert not pending.done() and source.stats.state == "streaming"
            started = time.monotonic()
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pending
            await chunks.aclose()
            assert time.monotonic() - started < 2.0
            assert source.stats.state == "stopped"

    run(go())


def test_cursor_extraction() -> None:
    event = encode_message(jetstream_post(7))
    assert event_time_us(event) == JETSTREAM_EPOCH_US + 7000
    late = orjson.dumps({"did": "did:plc:" + "x" * 400, "kind": "identity", "time_us": 42})
    assert event_time_us(late) == 42  # past the scanned prefix: parsed in full
    assert event_time_us(b"{broken") is None
    assert event_time_us(b'{"time_us": true}') is None
    assert chunk_cursor([event, b"{broken"]) == JETSTREAM_EPOCH_US + 7000
    assert chunk_cursor([b"{broken"]) is None


def test_event_authors_are_read_from_the_start_of_each_event() -> None:
    post = orjson.dumps(
        {
            "did": "did:plc:author",
            "time_us": 1,
            "kind": "commit",
            "commit": {
                "record": {"reply": {"parent": {"uri": "at://did:plc:parent/app.bsky.feed.post/x"}}}
            },
        }
    )
    other = b'{ "did" : "did:web:example.com", "time_us": 2}'
    tweet = orjson.dumps({"id_str": "1", "text": "did:plc:nobody", "user": {"id_str": "2"}})
    lines = [post, other, tweet, b"{broken", b""]
    expected = {"did:plc:author", "did:web:example.com"}  # never a DID quoted inside a record
    assert event_authors(lines) == expected
    assert event_authors(b"".join(line + b"\n" for line in lines)) == expected  # a LineBlock
    assert event_authors([tweet]) == set() == event_authors(b"")


# --- redaction ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:pw@stream.example/x?a=1", "https://stream.example/x?a=1"),
        ("wss://h.example/subscribe?access_token=abc&cursor=5", "wss://h.example/subscribe?access_token=***&cursor=5"),
        ("https://api.twitter.com/2/tweets/sample/stream", "https://api.twitter.com/2/tweets/sample/stream"),
    ],
)  # fmt: skip
def test_urls_are_redacted(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_url_secrets_names_what_a_url_carries() -> None:
    assert url_secrets("wss://u:pw@h.example/s?token=tok&cursor=5") == ["u", "pw", "tok"]
    assert url_secrets("https://h.example/s") == []


def test_credentials_in_a_url_stay_out_of_errors_and_stats() -> None:
    async def go() -> None:
        sleep = RecordingSleep()
        url = unused_url("ws", "/subscribe?token=tok-5ecret").replace("://", "://me:hunter2@")
        source = JetstreamSource([url], sleep=sleep)
        with capture_logs() as logs:
            await consume_until(source, lambda: len(sleep.delays) >= 1)
        assert source.stats.last_error and source.stats.disconnects["network"] >= 1
        shown = repr(logs) + repr(source.stats.as_dict())
        assert "hunter2" not in shown and "tok-5ecret" not in shown

    run(go())


def test_http_sources_refuse_credentials_in_the_url_without_showing_them() -> None:
    with pytest.raises(ValueError, match="credentials in the URL") as refused:
        TwitterV2Source(TEST_BEARER, url="https://me:hunter2@api.example/2/stream")
    assert "hunter2" not in str(refused.value)


def test_redactor_removes_every_secret_and_keeps_one_line() -> None:
    redact = Redactor(["s3cr3t-token", "ab"])
    assert redact("bad s3cr3t-token\nhere") == "bad *** here"
    assert redact("ab stays: too short to be a secret") == "ab stays: too short to be a secret"
    assert len(redact("x" * 1000)) == 300
