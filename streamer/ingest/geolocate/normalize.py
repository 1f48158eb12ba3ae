# ruff: noqa: RUF001  (tables of names and separators in many scripts)
"""Text normalisation shared by the gazetteer builder and the resolver.

Both sides must fold names the same way, so this module is the single definition: case-fold,
drop Latin diacritics (São -> sao) but keep the marks that other scripts need (Thai, Devanagari
vowel signs), turn punctuation into spaces and spell out the usual abbreviations (St. -> saint).
"""

from __future__ import annotations

import re
import unicodedata

# Letters that NFD does not decompose but people type without their stroke or ligature.
_FOLD = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i", "ħ": "h"}
)
_COMBINING_LATIN = re.compile("[\u0300-\u036f]")
_PUNCT = re.compile(r"[\s\.\,'’`´\"“”\-‐‑–—_:;!¡?¿()\[\]{}<>*#~+=]+")
_ABBREVIATIONS = {
    "st": "saint",
    "ste": "sainte",
    "sta": "santa",
    "mt": "mount",
    "ft": "fort",
    "pt": "port",
}


def fold(text: str) -> str:
    """The lookup key of a name: 'St. Louis' and 'saint louis' both give 'saint louis'."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_FOLD)
    text = _COMBINING_LATIN.sub("", unicodedata.normalize("NFD", text))
    text = unicodedata.normalize("NFC", text).replace("\u0640", "")  # Arabic tatweel
    words = _PUNCT.sub(" ", text).split()
    return " ".join(_ABBREVIATIONS.get(w, w) for w in words)
