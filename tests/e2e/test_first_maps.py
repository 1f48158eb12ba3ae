"""The first minute, as the README tells it: the first maps come with the first stored batch,
not one map interval later."""

from __future__ import annotations

from pathlib import Path

from tests.daemon import Daemon


def test_the_first_maps_come_with_the_first_batch_not_an_interval_later(
    redis_url: str, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    interval = 600  # maps.interval: the first export must not wait for it
    config = tmp_path / "c.toml"
    config.write_text(f"[maps]\ninterval = {interval}\n[clusters]\nenabled = false\n")
    daemon = Daemon(
        ["--config", str(config), "--source", "demo", "--rate", "50", "--redis-url", redis_url,
         "--out", str(tmp_path / "out"), "--data-dir", str(tmp_path / "data")],
        cli_env, tmp_path,
    )  # fmt: skip
    try:
        # Start-up (the pool, the detectors) takes seconds; the interval is ten minutes.
        daemon.wait_for(lambda: "maps_written" in daemon.log, "the first maps", timeout=60)
        assert (tmp_path / "out" / "maps" / "index.html").is_file()
        assert daemon.log.index("maps_written") > daemon.log.index("starting")
    finally:
        code, _ = daemon.stop()
    assert code == 0, daemon.log
