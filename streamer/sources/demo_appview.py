"""A stand-in AppView for the Jetstream demo only: `getProfiles` on 127.0.0.1, never in live mode.

It answers for any DID with the profile `demo_profile(did)` makes (and leaves out the DIDs
that function says no longer exist), with `RateLimit-*` headers shaped like the real
AppView's, so the demo's enrichment, cluster report and counters work offline.
"""

from __future__ import annotations

import time

import orjson
from aiohttp import web

from streamer.sources.appview import GET_PROFILES, MAX_ACTORS
from streamer.sources.jetstream_generator import demo_profile

__all__ = ["DemoAppView"]

_BUDGET = 3000  # requests per 5-minute window, as the public AppView announces


class DemoAppView:
    def __init__(self, runner: web.AppRunner, url: str) -> None:
        self._runner = runner
        self.url = url
        self.requests = 0

    @classmethod
    async def start(cls, host: str = "127.0.0.1", port: int = 0) -> DemoAppView:
        app = web.Application()
        runner = web.AppRunner(app, access_log=None)
        server = cls(runner, "")
        app.router.add_get(GET_PROFILES, server._get_profiles)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0]
        server.url = f"http://{host}:{bound[1]}"
        return server

    async def close(self) -> None:
        await self._runner.cleanup()

    async def _get_profiles(self, request: web.Request) -> web.Response:
        actors = request.query.getall("actors", [])
        if not actors or len(actors) > MAX_ACTORS:
            body = {"error": "InvalidRequest", "message": "actors: 1 to 25 items"}
            return web.Response(status=400, body=orjson.dumps(body))
        self.requests += 1
        profiles = [p for p in map(demo_profile, dict.fromkeys(actors)) if p is not None]
        window_end = (int(time.time()) // 300 + 1) * 300
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "RateLimit-Limit": str(_BUDGET),
            "RateLimit-Remaining": str(max(0, _BUDGET - self.requests % _BUDGET)),
            "RateLimit-Reset": str(window_end),
            "RateLimit-Policy": f"{_BUDGET};w=300",
        }
        return web.Response(body=orjson.dumps({"profiles": profiles}), headers=headers)
