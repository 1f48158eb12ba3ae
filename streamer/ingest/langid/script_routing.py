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
from collections.abc import Iterable, Mapping, Sequence
from functools import cache

import regex

from streamer.ingest.langid.scripts import (
    _SCRIPT_RUNS,
    HAN,
    JAPANESE,
    KANA,
    LATIN,
    OTHER,
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


def _class_members(points: Iterable[int]) -> str:
    """The members of a `re` character class holding exactly these (sorted) code points."""
    spans: list[list[int]] = []
    for point in points:
        if spans and spans[-1][1] == point - 1:
            spans[-1][1] = point
        else:
            spans.append([point, point])
    return "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in spans
    )


_ASTRAL = "\U00010000-\U0010ffff"


@cache
def _not_latin_or_astral() -> re.Pattern[str]:
    """_NOT_LATIN's own answers on the Basic Multilingual Plane, as a plain character class
    for the standard `re` (which tests a BMP class with one bitmap lookup per character, where
    `regex` evaluates the set operations: 5x slower), or any character beyond it, which
    `_first_not_latin` then asks _NOT_LATIN about. Built once per process (about 30 ms), from
    _NOT_LATIN itself, so the two can never disagree."""
    plane = "".join(map(chr, range(0x10000)))
    members = _class_members(m.start() for m in _NOT_LATIN.finditer(plane))
    return re.compile(f"[{members}{_ASTRAL}]")


def _first_not_latin(text: str) -> int:
    """Where _NOT_LATIN.search(text) finds its character, or -1, faster: the BMP class
    decides BMP characters, and the few characters beyond it (emoji, mostly) are asked one
    by one."""
    found = _not_latin_or_astral().search
    pos = 0
    while (m := found(text, pos)) is not None:
        pos = m.start()
        char = text[pos]
        if char < "\U00010000":
            return pos
        not_latin = _astral_not_latin.get(char)
        if not_latin is None:
            if len(_astral_not_latin) >= 4096:  # a few hundred emoji in practice
                _astral_not_latin.clear()
            not_latin = _astral_not_latin[char] = _NOT_LATIN.match(char) is not None
        if not_latin:
            return pos
        pos += 1
    return -1


# _NOT_LATIN's answers for the characters beyond the BMP seen so far (emoji, mostly).
_astral_not_latin: dict[str, bool] = {}


def _has_not_latin(text: str) -> bool:
    """_NOT_LATIN.search(text) is not None."""
    return _first_not_latin(text) >= 0


class _ScriptTags(dict[int, str | None]):
    """A str.translate table from each letter to a one-character tag of its script, and from
    anything else to nothing; filled in as characters are first seen (a few thousand at most
    in practice), so one C-level translate pass replaces a regex over many scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.script_of_tag: dict[str, str] = {}
        self._tag_of_script: dict[str, str] = {}

    def __missing__(self, code_point: int) -> str | None:
        script = _census_script(code_point)
        tag = script
        if script is not None and script != _ABJAD_SIGN:
            tag = self._tag_of_script.get(script)
            if tag is None:
                tag = chr(ord("A") + len(self._tag_of_script))
                self._tag_of_script[script] = tag
                self.script_of_tag[tag] = script
        self[code_point] = tag
        return tag


def _census_script(code_point: int) -> str | None:
    """The script a character counts for in the census (the seed's rules, one letter at a
    time), _ABJAD_SIGN for a character of Arabic or Hebrew script that is no letter, or None."""
    counts = script_letter_counts(chr(code_point))
    if counts:
        return next(iter(counts))
    return _ABJAD_SIGN if _ABJAD.match(chr(code_point)) else None


_TAGS = _ScriptTags()
ABJAD_SCRIPTS = frozenset({"Arabic", "Hebrew"})


# Kana and Han count together (as Japanese, or Han alone as Chinese): one group for _one_script.
_CJK = (KANA, HAN)


@cache
def _bmp_census() -> dict[str, str]:
    """Each script's characters on the Basic Multilingual Plane as the census counts them
    (_census_script; abjad signs under _ABJAD_SIGN), as the members of a `re` class. Built
    once per process (about 0.1 s): the census's own pattern run over every character alone
    (a NUL, which no script has, between each two)."""
    plane = "\0".join(map(chr, range(0x10000)))
    by_script: dict[str, list[int]] = {}
    for m in _SCRIPT_RUNS.finditer(plane):
        by_script.setdefault(m.lastgroup or OTHER, []).append(m.start() // 2)
    signs = by_script.setdefault(_ABJAD_SIGN, [])
    lettered = {p for points in by_script.values() for p in points}
    signs.extend(m.start() // 2 for m in _ABJAD.finditer(plane) if m.start() // 2 not in lettered)
    surrogates = range(0xD800, 0xE000)
    return {
        script: _class_members(p for p in sorted(points) if p not in surrogates)
        for script, points in by_script.items()
    }


@cache
def _other_scripts(script: str) -> re.Pattern[str]:
    """A `re` class of every BMP character that counts for a script other than `script`'s
    (kana and Han are one group), or is an abjad sign where `script` is no abjad, or is beyond
    the BMP: a text where it finds nothing (beyond the BMP: nothing the census counts) has
    letters of `script` only. A few ms to build; the router builds them all."""
    own = set(_CJK) if script in _CJK else {script}
    if script in ABJAD_SCRIPTS:
        own.add(_ABJAD_SIGN)
    members = "".join(chars for name, chars in _bmp_census().items() if name not in own)
    return re.compile(f"[{members}{_ASTRAL}]")


@cache
def _bmp_kana() -> re.Pattern[str]:
    return re.compile(f"[{_bmp_census().get(KANA, '')}]")


def _one_script(text: str, first: str) -> tuple[str | None, bool] | None:
    """text_scripts(text) for a text whose letters are all of the script of `first`, its first
    character that is not Latin; None (ask the census) for any other text. Most texts that
    are not Latin are of one script, and one regex search costs less than a census."""
    tag = _TAGS[ord(first)]
    if tag is None or tag == _ABJAD_SIGN:
        return None
    script = _TAGS.script_of_tag[tag]
    others = _other_scripts(script).search
    pos = 0
    while (m := others(text, pos)) is not None:
        pos = m.start()
        if text[pos] < "\U00010000" or _TAGS[ord(text[pos])] is not None:
            return None
        pos += 1
    if script in _CJK:  # any kana make it Japanese (kana beyond the BMP were asked above)
        return (JAPANESE if script == KANA or _bmp_kana().search(text) else HAN), False
    return script, script in ABJAD_SCRIPTS


def text_script(text: str) -> str | None:
    """The script that holds the most letters (kana with Han count as JAPANESE), or None if
    there are no letters; a tie goes to the script whose letters come first."""
    return text_scripts(text)[0]


def text_scripts(text: str) -> tuple[str | None, bool]:
    """text_script(text), and whether the text has any character of Arabic or Hebrew script
    (the word lookup reads such texts differently): one pass for both."""
    if text.isascii():
        return (LATIN if _ASCII_LETTER.search(text) else None), False
    first = _first_not_latin(text)
    if first < 0:  # Latin with accents, emoji, quotes: the common case
        latin = _ASCII_LETTER.search(text) or _LATIN_LETTER.search(text)
        return (LATIN if latin else None), False
    single = _one_script(text, text[first])
    if single is not None:
        return single
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
        for script in _bmp_census():
            if script != _ABJAD_SIGN:
                _other_scripts(script)
        _bmp_kana()
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
