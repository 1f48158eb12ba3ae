"""Language detection: the Detector interface and the registry of detectors by name.

A detector maps a post's text to an ISO 639-1 code, or UNDETERMINED. Detectors are built once
per worker process with make_detector(name, languages); the configuration picks the name, so a
new method only needs a factory registered in DETECTORS.

- "default" (streamer.ingest.langid.default): tweet-aware; script first, then a word model, then a
  character model for the texts the word model is unsure of.
- "stopwords" (streamer.ingest.langid.stopwords): the seed's method, kept as the baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from streamer.ingest.langid.stopwords import (
    DEFAULT_LANGUAGES,
    KNOWN_LANGUAGES,
    StopwordDetector,
    build_stopword_detector,
)

__all__ = [
    "DEFAULT_LANGUAGES",
    "DETECTORS",
    "KNOWN_LANGUAGES",
    "Detector",
    "DetectorFactory",
    "StopwordDetector",
    "make_detector",
    "unsupported_languages",
]


class Detector(Protocol):
    def detect(self, text: str) -> str:
        """The ISO 639-1 code of the text's language, or UNDETERMINED."""
        ...


class DetectorFactory(Protocol):
    def __call__(self, languages: Sequence[str] | None) -> Detector:
        """A detector choosing among languages (None: the detector's defaults), in order of
        preference; ValueError for a language it cannot detect."""
        ...


def _build_default_detector(languages: Sequence[str] | None) -> Detector:
    # Imported on first use: its models need numpy, wordfreq and py3langid, which only the
    # processes that detect should load (not the CLI's read commands, not the event loop).
    from streamer.ingest.langid.default import build_default_detector

    return build_default_detector(languages)


DETECTORS: dict[str, DetectorFactory] = {
    "default": _build_default_detector,
    "stopwords": build_stopword_detector,
}


def make_detector(name: str, languages: Sequence[str] | None = None) -> Detector:
    """Build the detector registered under name (ValueError if there is none)."""
    try:
        factory = DETECTORS[name]
    except KeyError:
        known = ", ".join(sorted(DETECTORS))
        raise ValueError(f"unknown language detector {name!r}: expected one of {known}") from None
    return factory(languages)


def unsupported_languages(name: str, languages: Sequence[str]) -> list[str]:
    """The codes among `languages` that detector `name` cannot be built with, checked without
    building it, so a bad `[lang] languages` is a config error at start-up, not a traceback
    in every pool process."""
    if name == "default":
        from streamer.ingest.langid.default import supported

        return [code for code in languages if not supported(code)]
    return [code for code in languages if code not in KNOWN_LANGUAGES]
