"""`tweetheat parse`: the default detector, and the switch to trust the platform's label."""

from __future__ import annotations

import subprocess
from pathlib import Path

import orjson

from tests.conftest import TWEETHEAT

ENGLISH_LABELLED_FRENCH = {
    "id_str": "1",
    "text": "I think we are going to the park this afternoon with the kids",
    "lang": "fr",
    "user": {"id_str": "9", "screen_name": "ann", "description": "baker"},
}


def parse(lines: list[bytes], cwd: Path, env: dict[str, str]) -> list[dict[str, object]]:
    out = subprocess.run(
        [TWEETHEAT, "parse"], input=b"\n".join(lines) + b"\n", cwd=cwd, env=env,
        capture_output=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    return [orjson.loads(line) for line in out.splitlines()]


def test_parse_uses_the_default_detector_unless_told_to_trust_the_platform(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    lines = [orjson.dumps(ENGLISH_LABELLED_FRENCH), b"{broken", orjson.dumps({"text": "今日は"})]
    detected = parse(lines, tmp_path, cli_env)
    assert detected[0]["lang"] == "en" and detected[0]["lang_source"] == "detector"
    assert detected[1] == {"skipped": "bad_json"}
    assert detected[2]["lang"] == "ja"

    (tmp_path / "config.toml").write_text("[lang]\ntrust_platform = true\n")
    trusted = parse(lines, tmp_path, cli_env)
    assert trusted[0]["lang"] == "fr" and trusted[0]["lang_source"] == "platform"
    assert trusted[2]["lang_source"] == "detector"  # no label: the detector decides
