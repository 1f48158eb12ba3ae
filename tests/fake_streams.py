"""Fake streaming servers on 127.0.0.1 that speak the real wire formats and misbehave on cue.

Each server runs in its own thread with its own event loop, so it can serve an asyncio test in
this process as well as a `tweetheat run` subprocess. A server plays a script: one `Reply` per
incoming connection, in order. Once the script is used up it plays `then`, which by default
accepts and then sends nothing while holding the connection open. A request whose credentials
are wrong gets a 401 and does not use up a reply.

    with start_v2_server([Reply(actions=(lines(v2_post(1)), KEEPALIVE, Cut()))]) as server:
        ... TwitterV2Source(server.token, url=server.url) ...
        server.requests[0].headers["Authorization"]

Replies are made of actions. Over HTTP (chunked, optionally gzip): `Send` writes bytes,
`Pause` waits, `Hang` holds the connection open silently, `Cut` closes the TCP connection
without ending the body, `Flood` writes lines until a byte count is reached (and stops when
the client stops reading). Over a websocket: `Send` sends one text frame, `Close` sends a close
frame, `Cut` drops the TCP connection without one. Ending the actions ends the response
cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from aiohttp import web

from streamer.sources.oauth1 import (
    OAuth1Credentials,
    hmac_sha1_signature,
    parse_authorization,
    signature_base_string,
)

# --- actions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Send:
    data: bytes


@dataclass(frozen=True)
class Pause:
    seconds: float


@dataclass(frozen=True)
class Hang:
    """Send nothing and keep the connection open until the client leaves or the server stops."""


@dataclass(frozen=True)
class Cut:
    """Close the TCP connection without ending the response (no final chunk, no close frame)."""


@dataclass(frozen=True)
class Close:
    """Websocket only: send a close frame with this code."""

    code: int = 1000


@dataclass(frozen=True)
class Flood:
    """Write `line` over and over until `total` bytes were written (or the client is gone)."""

    total: int
    line: bytes = b'{"data":{"id":"1","text":"flood"}}'


Action = Send | Pause | Hang | Cut | Close | Flood

KEEPALIVE = Send(b"\r\n")


def encode_message(message: bytes | str | Mapping[str, Any]) -> bytes:
    if isinstance(message, bytes):
        return message
    if isinstance(message, str):
        return message.encode("utf-8")
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def lines(*messages: bytes | str | Mapping[str, Any], end: bytes = b"\r\n") -> Send:
    """One write holding each message followed by `end` (Twitter terminates with CRLF)."""
    return Send(b"".join(encode_message(m) + end for m in messages))


def frame(message: bytes | str | Mapping[str, Any]) -> Send:
    """One websocket text frame."""
    return Send(encode_message(message))


@dataclass(frozen=True)
class Reply:
    """What one connection gets. `status` other than 200 refuses it with `body`."""

    status: int = 200
    actions: tuple[Action, ...] = ()
    gzip: bool = False
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)

    def complete_lines(self) -> list[bytes]:
        """The non-blank lines this reply sends with their terminating newline: exactly what a
        client must hand over (a trailing partial line is not among them)."""
        if self.status != 200:
            return []
        data = b"".join(a.data for a in self.actions if isinstance(a, Send))
        complete = data[: data.rfind(b"\n") + 1].split(b"\n")[:-1]
        return [line.rstrip(b"\r") for line in complete if line.rstrip(b"\r")]

    def frames(self) -> list[bytes]:
        """Websocket replies: the frames sent, in order."""
        if self.status != 200:
            return []
        return [a.data for a in self.actions if isinstance(a, Send)]


HOLD = Reply(actions=(Hang(),))


@dataclass
class Recorded:
    """One request as the server saw it."""

    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    status: int = 0

    def param(self, name: str) -> str | None:
        return next((v for k, v in self.query if k == name), None)


# --- credentials checks -------------------------------------------------------------------

Authorize = Callable[[web.Request], bool]


def bearer(token: str) -> Authorize:
    return lambda request: request.headers.get("Authorization") == f"Bearer {token}"


def oauth1(credentials: OAuth1Credentials) -> Authorize:
    """Verifies the OAuth 1.0a signature against the request as received: its method, its URL
    and every query parameter, so a client that signs something else is refused."""

    def check(request: web.Request) -> bool:
        oauth = parse_authorization(request.headers.get("Authorization", ""))
        signature = oauth.pop("oauth_signature", None)
        if (
            signature is None
            or oauth.get("oauth_consumer_key") != credentials.consumer_key
            or oauth.get("oauth_token") != credentials.token
            or oauth.get("oauth_signature_method") != "HMAC-SHA1"
        ):
            return False
        url = f"{request.scheme}://{request.host}{request.path}"
        params = [*request.query.items(), *oauth.items()]
        base = signature_base_string(request.method, url, params)
        expected = hmac_sha1_signature(base, credentials.consumer_secret, credentials.token_secret)
        return signature == expected

    return check


UNAUTHORIZED = {"title": "Unauthorized", "type": "about:blank", "status": 401}


# --- servers ------------------------------------------------------------------------------


class FakeServer:
    """An aiohttp app on a free 127.0.0.1 port, served from a background thread."""

    scheme = "http"

    def __init__(
        self,
        script: Iterable[Reply],
        *,
        path: str,
        authorize: Authorize | None = None,
        then: Reply = HOLD,
    ) -> None:
        self.path = path
        self.requests: list[Recorded] = []
        self.bytes_sent = 0
        self.then = then
        self._script = deque(script)
        self._authorize = authorize
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self.port = int(self._sock.getsockname()[1])
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._stopping: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{self.path}"

    def start(self) -> FakeServer:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._serve())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name=f"fake-{self.path}", daemon=True)
        self._thread.start()
        if not ready.wait(10) or failure:
            raise RuntimeError(f"fake server did not start: {failure}")
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or not thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)

    def __enter__(self) -> FakeServer:
        return self.start() if self._thread is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        app = web.Application()
        app.router.add_get(self.path, self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.SockSite(self._runner, self._sock).start()

    async def _shutdown(self) -> None:
        assert self._stopping is not None and self._runner is not None
        self._stopping.set()
        await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        record = Recorded(request.path, list(request.query.items()), dict(request.headers))
        self.requests.append(record)
        if self._authorize is not None and not self._authorize(request):
            record.status = 401
            return web.json_response(UNAUTHORIZED, status=401)
        reply = self._script.popleft() if self._script else self.then
        record.status = reply.status
        if reply.status != 200:
            return web.Response(status=reply.status, body=reply.body, headers=reply.headers)
        return await self._play(request, reply)

    async def _play(self, request: web.Request, reply: Reply) -> web.StreamResponse:
        raise NotImplementedError

    async def _hold(self, request: web.Request) -> None:
        assert self._stopping is not None
        while not self._stopping.is_set():
            transport = request.transport
            if transport is None or transport.is_closing():
                return  # the client left
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), 0.05)


class HttpStreamServer(FakeServer):
    """A Twitter-like streaming endpoint: chunked, CRLF-terminated JSON lines."""

    async def _play(self, request: web.Request, reply: Reply) -> web.StreamResponse:
        response = web.StreamResponse(
            status=200, headers={"Content-Type": "application/json", **reply.headers}
        )
        compressor = zlib.compressobj(wbits=31) if reply.gzip else None
        if compressor is not None:
            response.headers["Content-Encoding"] = "gzip"
        response.enable_chunked_encoding()
        await response.prepare(request)

        async def write(data: bytes) -> None:
            if compressor is not None:  # sync-flush: the client can decode each piece at once
                data = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
            await response.write(data)
            self.bytes_sent += len(data)

        try:
            for action in reply.actions:
                if isinstance(action, Send):
                    await write(action.data)
                elif isinstance(action, Pause):
                    await asyncio.sleep(action.seconds)
                elif isinstance(action, Hang):
                    await self._hold(request)
                elif isinstance(action, Flood):
                    piece = (action.line + b"\r\n") * max(1, 65536 // (len(action.line) + 2))
                    while self.bytes_sent < action.total:
                        await write(piece)
                elif isinstance(action, Cut):
                    if request.transport is not None:
                        request.transport.close()  # flushes what was written, then FIN
                    return response
            if compressor is not None:
                await response.write(compressor.flush())
            await response.write_eof()
        except (ConnectionError, RuntimeError):
            pass  # the client went away first
        return response


class JetstreamServer(FakeServer):
    """A Jetstream-like websocket endpoint: one JSON event per text frame."""

    scheme = "ws"

    async def _play(self, request: web.Request, reply: Reply) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        try:
            for action in reply.actions:
                if isinstance(action, Send):
                    await ws.send_str(action.data.decode("utf-8"))
                    self.bytes_sent += len(action.data)
                elif isinstance(action, Pause):
                    await asyncio.sleep(action.seconds)
                elif isinstance(action, Hang):
                    await self._hold(request)
                elif isinstance(action, Close):
                    await ws.close(code=action.code)
                    return ws
                elif isinstance(action, Cut):
                    if request.transport is not None:
                        request.transport.close()
                    return ws
            await ws.close()
        except (ConnectionError, RuntimeError):
            pass
        return ws


# --- ready-made servers -------------------------------------------------------------------

V2_PATH = "/2/tweets/sample/stream"
V1_PATH = "/1.1/statuses/sample.json"
JETSTREAM_PATH = "/subscribe"
TEST_BEARER = "test-bearer-AAAA%2Fsecret"
TEST_OAUTH = OAuth1Credentials(
    consumer_key="test-consumer-key",
    consumer_secret="test-consumer-secret",
    token="12345-test-access-token",
    token_secret="test-token-secret",
)


def start_v2_server(
    script: Iterable[Reply], *, bearer_token: str = TEST_BEARER, then: Reply = HOLD
) -> HttpStreamServer:
    """A running v2 sampled-stream server that wants `Authorization: Bearer <bearer_token>`."""
    server = HttpStreamServer(script, path=V2_PATH, authorize=bearer(bearer_token), then=then)
    server.start()
    return server


def start_v1_server(
    script: Iterable[Reply], *, credentials: OAuth1Credentials = TEST_OAUTH, then: Reply = HOLD
) -> HttpStreamServer:
    """A running v1.1 statuses/sample server that checks each request's OAuth signature."""
    server = HttpStreamServer(script, path=V1_PATH, authorize=oauth1(credentials), then=then)
    server.start()
    return server


def start_jetstream_server(script: Iterable[Reply], *, then: Reply = HOLD) -> JetstreamServer:
    server = JetstreamServer(script, path=JETSTREAM_PATH, then=then)
    server.start()
    return server


def unused_url(scheme: str = "http", path: str = "/") -> str:
    """A loopback URL that nothing listens on (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"{scheme}://127.0.0.1:{port}{path}"


# --- payloads in each platform's shape ----------------------------------------------------


def v2_post(n: int, text: str | None = None, lang: str = "en") -> dict[str, Any]:
    text = text or f"Sample post number {n} about the weather #test{n % 3}"
    return {
        "data": {
            "id": str(1_000_000 + n),
            "text": text,
            "lang": lang,
            "created_at": "2026-01-02T03:04:05.000Z",
            "author_id": str(500 + n),
            "entities": {"hashtags": [{"start": 0, "end": 6, "tag": f"test{n % 3}"}]},
        },
        "includes": {
            "users": [
                {
                    "id": str(500 + n),
                    "username": f"user{n}",
                    "description": "Just a test account",
                    "created_at": "2020-01-01T00:00:00.000Z",
                }
            ]
        },
    }


def v2_operational_disconnect() -> dict[str, Any]:
    return {
        "errors": [
            {
                "title": "operational-disconnect",
                "disconnect_type": "UpstreamOperationalDisconnect",
                "detail": "This stream has been disconnected upstream for operational reasons.",
                "type": "https://api.twitter.com/2/problems/operational-disconnect",
            }
        ]
    }


def v1_status(n: int, text: str | None = None, lang: str = "en") -> dict[str, Any]:
    text = text or f"Sample status number {n} #test{n % 3}"
    return {
        "created_at": "Fri Jan 02 03:04:05 +0000 2026",
        "id": 2_000_000 + n,
        "id_str": str(2_000_000 + n),
        "text": text,
        "lang": lang,
        "truncated": False,
        "entities": {"hashtags": [{"text": f"test{n % 3}", "indices": [0, 6]}]},
        "user": {"id": 700 + n, "screen_name": f"user{n}", "description": "A test bio"},
        "coordinates": None,
        "place": None,
    }


JETSTREAM_EPOCH_US = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z


def jetstream_post(n: int, text: str | None = None, lang: str = "en") -> dict[str, Any]:
    text = text or f"Sample skeet number {n} #test{n % 3}"
    return {
        "did": f"did:plc:test{n:020d}",
        "time_us": JETSTREAM_EPOCH_US + n * 1000,
        "kind": "commit",
        "commit": {
            "rev": f"3lrev{n:08d}",
            "operation": "create",
            "collection": "app.bsky.feed.post",
            "rkey": f"3lkey{n:08d}",
            "record": {
                "$type": "app.bsky.feed.post",
                "createdAt": "2026-01-01T00:00:00.000Z",
                "langs": [lang],
                "text": text,
            },
            "cid": f"bafyreitest{n:08d}",
        },
    }
