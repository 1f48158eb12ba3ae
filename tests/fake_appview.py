"""A fake Bluesky AppView on a free loopback port, served from a background thread.

It answers `app.bsky.actor.getProfiles` with `demo_profile(did)` (or a given function), and
can be told to answer slowly, to refuse the next requests (429 with `RateLimit-Reset`, 503),
and records every request: when it came and which DIDs it asked for.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import orjson
from aiohttp import web

from streamer.sources.appview import GET_PROFILES
from streamer.sources.jetstream_generator import demo_profile


@dataclass
class Asked:
    at: float  # time.time() when the request arrived
    actors: list[str]
    status: int = 200


@dataclass
class Refusal:
    status: int
    headers: dict[str, str] = field(default_factory=dict)


class FakeAppView:
    def __init__(
        self,
        profile: Callable[[str], dict[str, Any] | None] = demo_profile,
        *,
        delay: float = 0.0,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.profile = profile
        self.delay = delay  # seconds before each answer
        self.headers = headers or {}  # sent with every 200 answer
        self.refusals: deque[Refusal] = deque()  # the next requests' answers, in order
        self.dead = False  # answer 503 to everything
        self.asked: list[Asked] = []
        self._lock = threading.Lock()
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self.port = int(self._sock.getsockname()[1])
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def dids_asked(self) -> list[str]:
        with self._lock:
            return [did for asked in self.asked if asked.status == 200 for did in asked.actors]

    def start(self) -> FakeAppView:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            loop.run_until_complete(self._serve())
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-appview", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake AppView did not start")
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or not thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)

    def __enter__(self) -> FakeAppView:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_get(GET_PROFILES, self._get_profiles)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.SockSite(self._runner, self._sock).start()

    async def _shutdown(self) -> None:
        assert self._runner is not None
        await self._runner.cleanup()
        # Answers still waiting out their delay end here, not as pending tasks at exit.
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _get_profiles(self, request: web.Request) -> web.Response:
        asked = Asked(time.time(), request.query.getall("actors", []))
        with self._lock:
            self.asked.append(asked)
            refusal = self.refusals.popleft() if self.refusals else None
        if self.dead:
            refusal = Refusal(503)
        if refusal is not None:
            asked.status = refusal.status
            return web.Response(status=refusal.status, headers=refusal.headers, text="no")
        if self.delay:
            await asyncio.sleep(self.delay)
        profiles = [p for p in map(self.profile, asked.actors) if p is not None]
        return web.Response(
            body=orjson.dumps({"profiles": profiles}),
            content_type="application/json",
            headers=self.headers,
        )
