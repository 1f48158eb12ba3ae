"""One post's language as the daemon and `tweetheat parse` decide it: the detector's answer,
or the platform's own label when the configuration trusts it."""

from __future__ import annotations

from collections.abc import Sequence

from streamer.ingest.langid import DEFAULT_LANGUAGES, make_detector
from streamer.ingest.langid.platform import DETECTOR, PLATFORM, trusted_label


class LanguageChooser:
    def __init__(self, detector: str, languages: Sequence[str] | None, trust_platform: bool):
        self.detect = make_detector(detector, languages or None).detect
        self._languages = frozenset(languages or DEFAULT_LANGUAGES)
        self._trust_platform = trust_platform

    @property
    def detector_decides(self) -> bool:
        """Whether every answer is the detector's (lang_source "detector"): then a caller
        may call `detect` itself, one call less per post."""
        return not self._trust_platform

    def __call__(self, text: str, platform_lang: str | None) -> tuple[str, str]:
        """(lang, lang_source), lang_source being "platform" or "detector"."""
        if self._trust_platform:
            # choose_language's answer, without detecting a text whose label wins anyway
            label = trusted_label(platform_lang, self._languages)
            if label is not None:
                return label, PLATFORM
        return self.detect(text), DETECTOR
