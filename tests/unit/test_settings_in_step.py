"""Names the configuration checks against, kept in step with the layers that define them."""

from __future__ import annotations

from streamer.config import DEFAULT_MAX_LINE_BYTES, DETECTOR_NAMES
from streamer.ingest.langid import DETECTORS
from streamer.ingest.parser import MAX_LINE_BYTES, parse_payload


def test_the_detector_names_config_accepts_are_the_registered_detectors() -> None:
    assert sorted(DETECTOR_NAMES) == sorted(DETECTORS)


def test_the_line_cap_is_a_setting_passed_in_not_a_global() -> None:
    assert MAX_LINE_BYTES == DEFAULT_MAX_LINE_BYTES
    line = b'{"text":"' + b"x" * 100 + b'"}'
    assert parse_payload(line).__class__.__name__ == "Post"
    skip = parse_payload(line, max_line_bytes=50)
    assert getattr(skip, "reason", None) == "too_long"
    assert parse_payload(line).__class__.__name__ == "Post"  # nothing stayed behind
