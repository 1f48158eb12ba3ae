"""Whether to trust the platform's own language label over the detector's answer.

Twitter labels most posts itself (the "lang" field). When the configuration trusts it, a label
that names one of the configured languages wins; anything else (no label, a label for no
language, a language we do not sort) leaves the detector's answer in place. Labels come in
several spellings: BCP 47 tags ("en-US", "zh-cn"), upper case, and Twitter's legacy codes.
"""

from __future__ import annotations

from collections.abc import Collection

PLATFORM = "platform"
DETECTOR = "detector"

# Twitter's labels for posts with no language: undetermined, media links only, hashtags only,
# mentions only, cashtags only, too short, no linguistic content, artificial.
NON_LANGUAGE_LABELS: frozenset[str] = frozenset(
    {"und", "qme", "qht", "qam", "qct", "qst", "zxx", "art"}
)
# Withdrawn ISO 639-1 codes that Twitter (and Java's Locale) still send, and codes for which
# the configuration uses another: Filipino is sorted as Tagalog, Bokmål as Norwegian.
LABEL_ALIASES: dict[str, str] = {"iw": "he", "in": "id", "ji": "yi", "fil": "tl", "nb": "no"}


def normalize_label(label: str | None) -> str | None:
    """The ISO 639-1 code a platform label names, or None for no label or a non-language one.

    "en-US", "EN" and "en_us" give "en"; "zh-cn" and "zh-TW" give "zh"; "iw" gives "he".
    """
    if not label:
        return None
    primary = label.strip().replace("_", "-").split("-", 1)[0].lower()
    if not primary or primary in NON_LANGUAGE_LABELS:
        return None
    return LABEL_ALIASES.get(primary, primary)


def choose_language(
    detected: str,
    platform_lang: str | None,
    languages: Collection[str],
    trust_platform: bool,
) -> tuple[str, str]:
    """(lang, lang_source): the platform's label when trusted, present, a language, and one of
    the configured languages (lang_source "platform"); otherwise the detector's answer
    (lang_source "detector")."""
    label = trusted_label(platform_lang, languages) if trust_platform else None
    return (label, PLATFORM) if label is not None else (detected, DETECTOR)


def trusted_label(platform_lang: str | None, languages: Collection[str]) -> str | None:
    """The configured language a platform label names, or None (then the detector decides)."""
    label = normalize_label(platform_lang)
    return label if label in languages else None
