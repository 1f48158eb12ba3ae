"""The first, cheapest decision: what a text's script says about its language.

A script written by one configured language only (Hangul, Thai, kana, Greek, ...) decides at
once. A shared script (Latin, Arabic, Cyrillic) narrows the choice to the configured languages
written in it, which the models then choose among; one candidate left decides too.

The script is the one that holds the most letters, however few: "네" is Korean, and a Korean
post with an English word in it is still Korean. Unlike the seed's rule, no minimum count:
a short text in a script of its own is as clear as a long one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache

import regex

from streamer.ingest.langid.scripts import (
    HAN,
    JAPANESE,
    KANA,
    LATIN,
    SCRIPT_LANGUAGE,
    script_letter_counts,
)

# The tag of a character of Arabic or Hebrew script that is no letter (a digit, a full stop):
# it counts for no script, but tells the word lookup to normalize the text as wordfreq does.
_ABJAD_SIGN = "~"
_ABJAD = regex.compile(r"[\p{sc=Arabic}\p{sc=Hebrew}]")
# Any character that could count for a script other than Latin, or that is Arabic or Hebrew:
# a text without one is Latin if it has a Latin letter, and has no script otherwise. Marks of
# no script (combining accents) count for none, as in script_letter_counts.
_NOT_LATIN = regex.compile(
    r"[[[\p{L}\p{M}]--[\p{sc=Latin}\p{sc=Inherited}]]\p{sc=Arabic}\p{sc=Hebrew}]",
    regex.VERSION1,
)
# The standard re module finds these several times faster than `regex` finds any Latin letter.
_ASCII_LETTER = re.compile(r"[A-Za-z]")
_LATIN_LETTER = regex.compile(r"[\p{sc=Latin}&&[\p{L}\p{M}]]", regex.VERSION1)


@cache
def _not_latin_or_astral() -> re.Pattern[str]:
    """_NOT_LATIN's own answers on the Basic Multilingual Plane, as a plain character class
    for the standard `re` (which tests a BMP class with one bitmap lookup per character, where
    `regex` evaluates the set operations: 5x slower), or any character beyond it, which
    `_has_not_latin` then asks _NOT_LATIN about. Built once per process (about 30 ms), from
    _NOT_LATIN itself, so the two can never disagree."""
    plane = "".join(map(chr, range(0x10000)))
    points = [m.start() for m in _NOT_LATIN.finditer(plane)]
    spans: list[list[int]] = []
    for point in points:
        if spans and spans[-1][1] == point - 1:
            spans[-1][1] = point
        else:
            spans.append([point, point])
    members = "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in spans
    )
    return re.compile(f"[{members}\U00010000-\U0010ffff]")


def _has_not_latin(text: str) -> bool:
    """_NOT_LATIN.search(text) is not None, faster: the BMP class decides BMP characters, and
    the few characters beyond it (emoji, mostly) are asked one by one."""
    found = _not_latin_or_astral().search
    pos = 0
    while (m := found(text, pos)) is not None:
        pos = m.start()
        if text[pos] < "\U00010000" or _NOT_LATIN.match(text, pos) is not None:
            return True
        pos += 1
    return False


class _ScriptTags(dict[int, str | None]):
    """A str.translate table from each letter to a one-character tag of its script, and from
    anything else to nothing; filled in as characters are first seen (a few thousand at most
    in practice), so one C-level translate pass replaces a regex over many scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.script_of_tag: dict[str, str] = {}
        self._tag_of_script: dict[str, str] = {}

    def __missing__(self, code_point: int) -> str | None:
        counts = script_letter_counts(chr(code_point))  # the seed's rules, one letter at a time
        tag = None
        if counts:
            script = next(iter(counts))
            tag = self._tag_of_script.get(script)
            if tag is None:
                tag = chr(ord("A") + len(self._tag_of_script))
                self._tag_of_script[script] = tag
                self.script_of_tag[tag] = script
        elif _ABJAD.match(chr(code_point)):
            tag = _ABJAD_SIGN
        self[code_point] = tag
        return tag


_TAGS = _ScriptTags()
ABJAD_SCRIPTS = frozenset({"Arabic", "Hebrew"})


def text_script(text: str) -> str | None:
    """The script that holds the most letters (kana with Han count as JAPANESE), or None if
    there are no letters; a tie goes to the script whose letters come first."""
    return text_scripts(text)[0]


def text_scripts(text: str) -> tuple[str | None, bool]:
    """text_script(text), and whether the text has any character of Arabic or Hebrew script
    (the word lookup reads such texts differently): one pass for both."""
    if text.isascii():
        return (LATIN if _ASCII_LETTER.search(text) else None), False
    if not _has_not_latin(text):  # Latin with accents, emoji, quotes: the common case
        latin = _ASCII_LETTER.search(text) or _LATIN_LETTER.search(text)
        return (LATIN if latin else None), False
    tags = text.translate(_TAGS)
    abjad = _ABJAD_SIGN in tags
    if abjad:
        tags = tags.replace(_ABJAD_SIGN, "")
    if not tags:
        return None, abjad
    if not tags.strip(tags[0]):  # letters of one script only: most such texts
        script = _TAGS.script_of_tag[tags[0]]
        return (JAPANESE if script == KANA else script), abjad or script in ABJAD_SCRIPTS
    # Per script: how many letters, and where the first one is (ties go to the earlier).
    found: dict[str, tuple[int, int]] = {}
    for tag in set(tags):
        found[_TAGS.script_of_tag[tag]] = (tags.count(tag), tags.find(tag))
    abjad = abjad or not ABJAD_SCRIPTS.isdisjoint(found)
    if KANA in found:
        kana, han = found.pop(KANA), found.pop(HAN, (0, len(tags)))
        found[JAPANESE] = (kana[0] + han[0], min(kana[1], han[1]))
    # Set order varies between processes, so the ranking is explicit.
    return min(found, key=lambda script: (-found[script][0], found[script][1])), abjad


class ScriptRouter:
    """Decides by script, or names the candidates the models must choose among."""

    def __init__(self, languages: Sequence[str], model_scripts: Mapping[str, str]) -> None:
        """languages: the configured codes; model_scripts: the script of each configured
        language that a model decides (the rest must be decided by their script)."""
        _not_latin_or_astral()  # built with the detector, not at its first post
        configured = set(languages)
        self._decided = {s: code for s, code in SCRIPT_LANGUAGE.items() if code in configured}
        # Han without kana is Chinese; if only Japanese is configured, it is Japanese's kanji.
        if HAN not in self._decided and "ja" in configured:
            self._decided[HAN] = "ja"
        candidates: dict[str, list[str]] = {}
        for code in languages:
            if code in model_scripts:
                candidates.setdefault(model_scripts[code], []).append(code)
        self._candidates = {script: tuple(codes) for script, codes in candidates.items()}

    def route(self, text: str) -> str | tuple[str, ...]:
        """The language if the script decides it, else the candidates (empty: none fits)."""
        return self.route_script(text_script(text))

    def route_script(self, script: str | None) -> str | tuple[str, ...]:
        """route() for a text whose script (text_script) is known."""
        if script is None:
            return ()
        decided = self._decided.get(script)
        if decided is not None:
            return decided
        candidates = self._candidates.get(script, ())
        return candidates[0] if len(candidates) == 1 else candidates
