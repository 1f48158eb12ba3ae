from __future__ import annotations

import random

import pytest

from streamer.sources.reconnect import Backoff, Reason, ReconnectPolicy, reason_for_status

NO_JITTER = Backoff(jitter=0.0)


def delays(policy: ReconnectPolicy, reason: Reason, n: int) -> list[float]:
    return [policy.on_disconnect(reason) for _ in range(n)]


def test_network_errors_back_off_linearly_by_250ms_up_to_16s() -> None:
    out = delays(ReconnectPolicy(NO_JITTER), Reason.NETWORK, 70)
    assert out[:4] == [0.25, 0.5, 0.75, 1.0]
    assert out[63] == 16.0  # the 64th attempt reaches the cap
    assert max(out) == 16.0 and out[-1] == 16.0


def test_a_stall_is_a_network_error_and_shares_its_schedule() -> None:
    policy = ReconnectPolicy(NO_JITTER)
    assert policy.on_disconnect(Reason.STALL) == 0.25
    assert policy.on_disconnect(Reason.NETWORK) == 0.5
    assert policy.on_disconnect(Reason.STALL) == 0.75


def test_http_errors_back_off_exponentially_from_5s_up_to_320s() -> None:
    out = delays(ReconnectPolicy(NO_JITTER), Reason.HTTP, 9)
    assert out == [5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0, 320.0, 320.0]


def test_rate_limits_back_off_exponentially_from_a_minute() -> None:
    out = delays(ReconnectPolicy(NO_JITTER), Reason.RATE_LIMITED, 7)
    assert out == [60.0, 120.0, 240.0, 480.0, 960.0, 960.0, 960.0]


def test_auth_failures_retry_slowly_and_steadily() -> None:
    assert delays(ReconnectPolicy(NO_JITTER), Reason.AUTH, 5) == [300.0] * 5


def test_a_clean_drop_reconnects_at_once_but_repeated_empty_drops_back_off() -> None:
    policy = ReconnectPolicy(NO_JITTER)
    assert delays(policy, Reason.CLEAN, 4) == [0.0, 0.25, 0.5, 0.75]
    policy.on_data()
    assert policy.on_disconnect(Reason.OPERATIONAL) == 0.0
    assert policy.on_disconnect(Reason.SERVER_DISCONNECT) == 0.25  # same "drop" schedule


def test_a_message_resets_every_schedule() -> None:
    policy = ReconnectPolicy(NO_JITTER)
    delays(policy, Reason.HTTP, 3)
    delays(policy, Reason.RATE_LIMITED, 2)
    delays(policy, Reason.NETWORK, 5)
    assert policy.failures == 10
    policy.on_data()
    assert policy.failures == 0
    assert policy.on_disconnect(Reason.HTTP) == 5.0
    assert policy.on_disconnect(Reason.RATE_LIMITED) == 60.0
    assert policy.on_disconnect(Reason.NETWORK) == 0.25


def test_schedules_count_separately() -> None:
    policy = ReconnectPolicy(NO_JITTER)
    assert policy.on_disconnect(Reason.HTTP) == 5.0
    assert policy.on_disconnect(Reason.NETWORK) == 0.25
    assert policy.on_disconnect(Reason.HTTP) == 10.0


def test_jitter_stays_within_its_band_is_seeded_and_never_negative() -> None:
    def run(seed: int, backoff: Backoff) -> list[float]:
        policy = ReconnectPolicy(backoff, random.Random(seed))
        out = []
        for _ in range(200):
            out.append(policy.on_disconnect(Reason.AUTH))
        return out

    jittered = run(7, Backoff(jitter=0.2))
    assert all(240.0 <= d <= 360.0 for d in jittered)
    assert len(set(jittered)) > 100  # really random
    assert run(7, Backoff(jitter=0.2)) == jittered  # and reproducible
    wild = run(3, Backoff(jitter=1.5))
    assert min(wild) == 0.0 and all(d >= 0.0 for d in wild)


def test_jitter_keeps_an_immediate_reconnect_immediate() -> None:
    policy = ReconnectPolicy(Backoff(jitter=0.2), random.Random(1))
    assert policy.on_disconnect(Reason.CLEAN) == 0.0


def test_a_day_of_failures_does_not_overflow() -> None:
    policy = ReconnectPolicy(NO_JITTER)
    assert delays(policy, Reason.HTTP, 5000)[-1] == 320.0


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (401, Reason.AUTH),
        (403, Reason.AUTH),
        (420, Reason.RATE_LIMITED),
        (429, Reason.RATE_LIMITED),
        (500, Reason.HTTP),
        (503, Reason.HTTP),
        (404, Reason.HTTP),
        (302, Reason.HTTP),
    ],
)
def test_http_statuses_map_to_reasons(status: int, reason: Reason) -> None:
    assert reason_for_status(status) is reason
