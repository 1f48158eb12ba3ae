from __future__ import annotations

from streamer.sources.pacing import Pacer


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_unpaced_never_waits() -> None:
    pacer = Pacer(0)
    assert pacer.delay(10_000) == 0.0
    assert pacer.chunk_size(1000) == 1000


def test_paced_items_are_due_at_their_slot() -> None:
    clock = FakeClock()
    pacer = Pacer(100, clock=clock)  # one item every 10 ms
    assert pacer.chunk_size(1000) == 5  # about 20 hand-overs a second
    assert pacer.delay(5) == 0.0  # the first five go at once
    assert abs(pacer.delay(5) - 0.05) < 1e-9  # the next five are due 50 ms later
    clock.now += 0.05
    assert abs(pacer.delay(5) - 0.05) < 1e-9


def test_a_late_consumer_does_not_get_a_burst() -> None:
    clock = FakeClock()
    pacer = Pacer(10, clock=clock)
    pacer.delay(1)
    clock.now += 60  # the consumer stalled for a minute
    assert pacer.delay(1) == 0.0
    # The debt is forgiven: the next item is due one interval later, not immediately.
    assert abs(pacer.delay(1) - 0.1) < 1e-9
