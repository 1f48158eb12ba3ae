"""The Jetstream demo's stand-in AppView answers getProfiles as the real one would."""

from __future__ import annotations

import asyncio
import random

import aiohttp

from streamer.sources.appview import AppViewClient
from streamer.sources.demo_appview import DemoAppView
from streamer.sources.jetstream_generator import demo_profile, make_did


def test_the_stand_in_answers_with_the_demo_profiles_on_loopback() -> None:
    rng = random.Random(8)
    dids = [make_did(rng) for _ in range(25)]

    async def go() -> None:
        stand_in = await DemoAppView.start()
        client = AppViewClient(stand_in.url)
        try:
            assert stand_in.url.startswith("http://127.0.0.1:")
            answer = await client.get_profiles(dids)
            expected = {d: demo_profile(d) for d in dids}
            assert {p.did for p in answer.profiles} == {d for d, p in expected.items() if p}
            assert answer.missing == [d for d, p in expected.items() if p is None]
            for profile in answer.profiles:
                assert profile.description == (expected[profile.did] or {}).get("description")
            assert answer.rate_limit.remaining is not None and answer.rate_limit.reset
            too_many = "&".join(f"actors={d}" for d in [*dids, dids[0]])
            async with aiohttp.ClientSession() as session:
                url = f"{stand_in.url}/xrpc/app.bsky.actor.getProfiles?{too_many}"
                async with session.get(url) as resp:
                    assert resp.status == 400
        finally:
            await client.close()
            await stand_in.close()

    asyncio.run(go())
