"""The AppView client (streamer.sources.appview) against a fake AppView on loopback."""

from __future__ import annotations

import asyncio
import random

import pytest

from streamer.sources.appview import (
    AppViewClient,
    AppViewError,
    parse_profiles,
    parse_rate_limit,
)
from streamer.sources.jetstream_generator import demo_profile, make_did
from streamer.sources.reconnect import Reason
from tests.conftest import free_port
from tests.fake_appview import FakeAppView, Refusal


def dids(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    return [make_did(rng) for _ in range(n)]


def ask(url: str, wanted: list[str], timeout: float = 5.0):  # type: ignore[no-untyped-def]
    async def go():  # type: ignore[no-untyped-def]
        client = AppViewClient(url, timeout=timeout)
        try:
            return await client.get_profiles(wanted)
        finally:
            await client.close()

    return asyncio.run(go())


def test_profiles_come_back_with_their_bios_and_unknown_dids_as_missing() -> None:
    wanted = dids(25)
    limits = {
        "RateLimit-Limit": "3000",
        "RateLimit-Remaining": "2999",
        "RateLimit-Reset": "1800000000",
    }
    with FakeAppView(headers=limits) as appview:
        answer = ask(appview.url, wanted)
    assert appview.asked[0].actors == wanted  # one request, every DID as an `actors` param
    shown = {d: demo_profile(d) for d in wanted}
    assert {p.did for p in answer.profiles} == {d for d, p in shown.items() if p}
    assert answer.missing == [d for d, p in shown.items() if p is None]
    for profile in answer.profiles:
        expected = shown[profile.did]
        assert expected is not None
        assert profile.handle == expected["handle"]
        assert profile.display_name == expected["displayName"]
        assert profile.description == expected.get("description")
    assert (answer.rate_limit.limit, answer.rate_limit.remaining) == (3000, 2999)
    assert answer.rate_limit.reset == 1_800_000_000


def test_a_429_says_when_the_budget_resets() -> None:
    with FakeAppView() as appview:
        appview.refusals.append(Refusal(429, {"RateLimit-Reset": "1800000123",
                                              "RateLimit-Remaining": "0"}))  # fmt: skip
        with pytest.raises(AppViewError) as refused:
            ask(appview.url, dids(3))
    assert refused.value.reason is Reason.RATE_LIMITED
    assert refused.value.rate_limit.reset == 1_800_000_123
    assert refused.value.rate_limit.remaining == 0


@pytest.mark.parametrize(
    ("status", "reason"),
    [(503, Reason.HTTP), (500, Reason.HTTP), (400, Reason.HTTP), (403, Reason.AUTH)],
)
def test_refusals_name_their_back_off_schedule(status: int, reason: Reason) -> None:
    with FakeAppView() as appview:
        appview.refusals.append(Refusal(status))
        with pytest.raises(AppViewError) as refused:
            ask(appview.url, dids(2))
    assert (refused.value.reason, refused.value.status) == (reason, status)


def test_a_slow_answer_times_out_as_a_network_error() -> None:
    with FakeAppView(delay=2.0) as appview, pytest.raises(AppViewError) as refused:
        ask(appview.url, dids(2), timeout=0.3)
    assert refused.value.reason is Reason.NETWORK


def test_nobody_listening_is_a_network_error() -> None:
    with pytest.raises(AppViewError) as refused:
        ask(f"http://127.0.0.1:{free_port()}", dids(1))
    assert refused.value.reason is Reason.NETWORK


def test_answers_about_dids_not_asked_for_are_ignored() -> None:
    body = b'{"profiles":[{"did":"did:plc:a","handle":"a.test","description":"x"},' \
           b'{"did":"did:plc:evil","handle":"e","description":"y"}, 5, {"did": 7}]}'  # fmt: skip
    found, missing = parse_profiles(body, ["did:plc:a", "did:plc:b"])
    assert [p.did for p in found] == ["did:plc:a"]
    assert missing == ["did:plc:b"]
    for bad in (b"nope", b"[]", b'{"profiles": 3}'):
        with pytest.raises(ValueError):
            parse_profiles(bad, ["did:plc:a"])


def test_odd_rate_limit_headers_are_ignored() -> None:
    limits = parse_rate_limit({"RateLimit-Limit": "x", "RateLimit-Remaining": "-1",
                               "RateLimit-Reset": "inf"})  # fmt: skip
    assert (limits.limit, limits.remaining, limits.reset) == (None, None, None)


def test_more_than_25_actors_is_refused_before_asking() -> None:
    with pytest.raises(ValueError):
        ask("http://127.0.0.1:9", dids(26))
