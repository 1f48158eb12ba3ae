from __future__ import annotations

from typing import Any

from streamer.core.logs import RateLimitedLog


class Recorder:
    def __init__(self) -> None:
        self.lines: list[tuple[str, dict[str, Any]]] = []

    def warning(self, event: str, **kw: Any) -> None:
        self.lines.append((event, kw))


def test_rate_limited_log_counts_what_it_suppressed() -> None:
    now = [0.0]
    rec = Recorder()
    log = RateLimitedLog(rec, interval=10.0, clock=lambda: now[0])
    assert log.warning("bad_json", "bad_input", n=1)
    for _ in range(99):
        assert not log.warning("bad_json", "bad_input")
    assert log.warning("bad_utf8", "bad_input")  # another key has its own budget
    now[0] = 10.5
    assert log.warning("bad_json", "bad_input")
    assert [kw.get("suppressed") for _, kw in rec.lines] == [None, None, 99]
