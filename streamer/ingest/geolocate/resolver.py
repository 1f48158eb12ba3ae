# ruff: noqa: RUF001  (tables of names and separators in many scripts)
"""Turn a profile location or a bio into a point, preferring no answer to a wrong one.

A profile location is split on the separators people use ("Austin, TX", "Madrid | she/her",
"São Paulo - SP"); the first part that names a city is the head and the others qualify it (a
country, a US state, a province or its code, a flag). Ties between same-named cities go to the
qualifier, then to the bigger city weighted by where the post's language is spoken.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any, NamedTuple

import regex

from streamer.ingest.geolocate.aliases import (
    CITY_ALIASES,
    CJK_ADMIN_MARKERS,
    CJK_LEADING,
    CJK_TRAILING,
    JP_PREFECTURE_KANA,
    JP_PREFECTURES,
    JP_REGIONS,
    KO_CITY_SUFFIXES,
    KO_UNIT_SUFFIXES,
    LANGUAGE_PRIORS,
    LEADING_FILLERS,
    NON_PLACE_WORDS,
    NON_PLACES,
    PRONOUNS,
    TRAILING_FILLERS,
)
from streamer.ingest.geolocate.gazetteer import Gazetteer, haversine_km
from streamer.ingest.geolocate.normalize import fold


class Located(NamedTuple):
    lat: float
    lon: float
    precision_km: float
    granularity: str  # "city" | "state" | "country"
    name: str


CITY, STATE, COUNTRY = "city", "state", "country"
# Cities at least this big may be named by a word that is also common ("Phoenix", "London").
LARGE_CITY = 1_000_000
# Unqualified one-word names that are also known words need a town at least this big.
SMALL_TOWN = 100_000
# Unqualified names shared by cities this far apart need this much more score (log10 units).
AMBIGUITY_MARGIN = 0.3
MAX_PROFILE_CHARS = 120
_CJK_ADMIN_SUFFIXES = frozenset("市府県都省区州道郡")
# US postal codes that are English words first: alone they say nothing.
_WORDLIKE_STATE_CODES = frozenset({"IN", "OR", "ME", "OK", "HI", "OH", "AL", "DE", "GA", "LA"})

_URL = re.compile(r"(https?://\S+|www\.\S+|\S+\.(com|net|org|io|me|co|xyz|app)(/\S*)?\b)", re.I)
_HANDLE = re.compile(
    r"\b(?:ig|insta|instagram|twitter|tw|tiktok|tt|snap|sc|yt|youtube|twitch)\s*[:\-]?\s*@\w+|@\w+",
    re.I,
)
_PRONOUN_PAIR = re.compile(
    r"\b(he|she|they|xe|ze|it|any)\s*/\s*(him|her|them|hers|theirs|xem|zir|its|he|she|they|all)"
    r"(\s*/\s*\w+)?\b",
    re.I,
)
_FLAG = regex.compile(r"[\U0001F1E6-\U0001F1FF]{2}")
# Emoji and other symbols separate parts ("NYC 🗽", "📍Berlin"); letters and digits stay.
_SYMBOL = regex.compile(r"[\p{So}\p{Sk}\p{Cn}\u200d\ufe0f\u2600-\u27bf]+")
# Not " and ": it belongs to names (Bosnia and Herzegovina, Trinidad and Tobago). The Arabic
# and CJK commas separate as the Latin one does ("الرياض، السعودية").
_SEPARATORS = re.compile(
    r"\s+[-–—~x&+]\s+|[,،|/;•·\n\t()\[\]{}<>:!?¡¿【】「」『』（）、。！？＜＞・／→←⇒⇔↔]+"
)
# "Jordan-amman", "Luján-Bs As": a hyphen without spaces, tried only when the whole fails.
_TIGHT_HYPHEN = re.compile(r"(?<=[^\W\d])-(?=[^\W\d])")
# Coordinates people (and old clients: "ÜT: 40.7,-74.0", "iPhone: ...") put in the field.
_DECIMAL_POINT = re.compile(
    r"^\s*(?:[^\W\d]+\s*:\s*)?(-?\d{1,2}\.\d{2,})\s*,\s*(-?\d{1,3}\.\d{2,})\s*$"
)
_DMS_POINT = re.compile(
    r"^\s*([NS])\s*(\d{1,2})\D{1,3}(\d{1,2})\D{1,3}(\d{1,2}(?:\.\d+)?)\D*/\s*"
    r"([EW])\s*(\d{1,3})\D{1,3}(\d{1,2})\D{1,3}(\d{1,2}(?:\.\d+)?)\D*$"
)
_HAN_KANA = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}]")
_CJK_ONLY = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}]+")
_IN_WORD = re.compile(r"(?<=\w)\s+in\s+(?=\w)", re.I)
_MOVED = re.compile(r"[→⇒➡]")
_HANGUL_WORDS = regex.compile(r"^\p{Hangul}+(?: \p{Hangul}+)+$")
_BIO_MARKER = regex.compile(
    r"(?:📍|📌|🏠|\b(?:based in|based out of|living in|live in|lives in|located in|"
    r"location|loc|from|vivo en|desde|moro em|wohne in|habite à|basée? à|basado en|baseado em)"
    r"\b\s*[:\-]?)\s*",
    regex.I,
)
# Every _BIO_MARKER match contains one of these (casefolded): a cheap test that must pass first.
_BIO_HINTS = (
    "📍",
    "📌",
    "🏠",
    "bas",
    "liv",
    "loc",
    "from",
    "vivo",
    "desde",
    "moro",
    "wohne",
    "habite",
)
# A bio's place ends at a sentence or list break; flags and " - Country" stay with it.
_BIO_STOP = regex.compile(r"[|•\n\.!?;()\[\]]| and | but | & | who | where ")


def bio_may_name_place(bio: str) -> bool:
    """Whether the bio step could place a bio at all: it has a marker ("📍", "based in", ...)
    for `Geolocator.locate_bio` to read after. Cheap, and needs no gazetteer: a process that
    keeps bios for the workers keeps only these."""
    return _has_bio_hint(bio) and _BIO_MARKER.search(bio) is not None


def _has_bio_hint(bio: str) -> bool:
    """The cheap test every _BIO_MARKER match passes: one of _BIO_HINTS in the folded bio."""
    folded = bio.casefold()
    # A loop, not any(genexpr) (ruff SIM110): this runs for half of all posts.
    for hint in _BIO_HINTS:  # noqa: SIM110
        if hint in folded:
            return True
    return False


def _flag_countries(text: str) -> list[str]:
    return [
        chr(ord(f[0]) - 0x1F1E6 + 65) + chr(ord(f[1]) - 0x1F1E6 + 65) for f in _FLAG.findall(text)
    ]


class _Part(NamedTuple):
    key: str  # folded
    raw: str  # as written, stripped


# Bios remembered (an LRU). A bio is long (a remembered one costs about 1 KB) and comes back
# only with its author's next post, and few posts reach the bio step at all (those whose profile
# location names no place): a long memory of them grew each worker by tens of MB for a few
# hundred µs of CPU a second.
BIO_CACHE_SIZE = 1 << 12


class Geolocator:
    """Resolves profile locations and bios against one loaded gazetteer (one per process)."""

    def __init__(
        self, gazetteer: Gazetteer, cache_size: int = 1 << 16, bio_cache_size: int = BIO_CACHE_SIZE
    ) -> None:
        self.gaz = gazetteer
        # Fillers by their first (leading) or last (trailing) word, longest first.
        self._leading = _by_word(LEADING_FILLERS, first=True)
        self._trailing = _by_word(TRAILING_FILLERS, first=False)
        self.locate_profile = lru_cache(maxsize=cache_size)(self._locate_profile)
        self._cached_bio = lru_cache(maxsize=min(cache_size, bio_cache_size))(self._locate_bio)
        self._common = lru_cache(maxsize=cache_size)(self._is_common_word)
        self._jp = _jp_areas(gazetteer)

    # ---- profile location -------------------------------------------------------------
    def _locate_profile(self, text: str | None, lang: str | None = None) -> Located | None:
        if not text or len(text) > MAX_PROFILE_CHARS:
            return None
        point = _coordinates(text)
        if point is not None:
            return point
        lang = (lang or "").split("-")[0].lower() or None
        flags = [cc for cc in _flag_countries(text) if cc in self.gaz.countries]
        cleaned = _URL.sub(" | ", text)
        cleaned = _HANDLE.sub(" | ", cleaned)
        cleaned = _PRONOUN_PAIR.sub(" | ", cleaned)
        cleaned = _SYMBOL.sub(" | ", cleaned)
        if fold(cleaned) in NON_PLACES:
            return None
        moved = _MOVED.split(cleaned)
        if len(moved) > 1:
            # "大阪府→埼玉県", "Hyogo → Utsunomiya": a move; where one lives now comes last.
            now = self._parts(moved[-1])
            found = self._resolve_text(moved[-1], now, flags, lang) if now else None
            if found is not None:
                return found
        parts = self._parts(cleaned)
        if not parts:
            if len(set(flags)) == 1:
                return self._country(flags[0])
            return None
        return self._resolve_text(cleaned, parts, flags, lang)

    def _resolve_text(
        self, cleaned: str, parts: list[_Part], flags: list[str], lang: str | None
    ) -> Located | None:
        found = self._resolve_parts(parts, flags, lang)
        if found is None and (_TIGHT_HYPHEN.search(cleaned) or _IN_WORD.search(cleaned)):
            # "Jordan-amman", "Suwon in Korea": only when every piece is a known place.
            split = self._parts(_IN_WORD.sub(" , ", _TIGHT_HYPHEN.sub(" - ", cleaned)))
            if len(split) > len(parts) and all(self._known_any(p) for p in split):
                found = self._resolve_parts(split, flags, lang)
                parts = split
        if found is None and len(parts) >= 2:
            found = self._shared_country(parts, lang)
        if found is None and len(parts) == 1 and _HANGUL_WORDS.match(parts[0].key):
            found = self._korean_address(parts[0].key, lang)
        if found is None and _HAN_KANA.search(cleaned):
            for part in parts:
                found = self._cjk_address(part.key.replace(" ", ""), lang)
                if found is not None:
                    break
        return found

    def _shared_country(self, parts: list[_Part], lang: str | None) -> Located | None:
        """'Jakarta, Surabaya', 'Bandung - Magelang': several places that each stand alone,
        all of one country; which one is home is open, the country is not."""
        common: set[str] | None = None
        for part in parts:
            if self._alone(part, [], lang) is None:
                return None
            ccs = {self.gaz.cc[c] for c in self.gaz.city_ids(part.key)}
            ccs.update(cc for k, cc in self._region(part, codes=False) if k in ("country", "sub"))
            ccs.update("US" for k, _ in self._region(part, codes=False) if k == "state")
            ccs.update("JP" for k, _ in self._region(part, codes=False) if k == "jp")
            alias = CITY_ALIASES.get(part.key)
            if alias:
                home = self._country_of(alias[0], alias[1])
                ccs = {home} if home else set()
            common = ccs if common is None else common & ccs
            if not common:
                return None
        return self._country(common.pop()) if common and len(common) == 1 else None

    def _country_of(self, lat: float, lon: float) -> str | None:
        # The nearest country centre within its radius: enough for a nickname's country.
        best, best_km = None, float("inf")
        for cc, (clat, clon, radius, _name) in self.gaz.countries.items():
            km = haversine_km(lat, lon, clat, clon)
            if km <= radius * 1.5 and km < best_km:
                best, best_km = cc, km
        return best

    def _known_any(self, part: _Part) -> bool:
        return self._known(part.key) or bool(self._region(part)) or part.key in self._jp

    def _parts(self, cleaned: str) -> list[_Part]:
        parts = []
        for piece in _SEPARATORS.split(cleaned):
            key = fold(piece)
            words = key.split()
            if len(words) >= 4 and all(len(w) == 1 for w in words):
                joined = "".join(words)  # "A U S T R A L I A"; not "C O A S T"
                big = any(self.gaz.pop[c] >= SMALL_TOWN for c in self.gaz.city_ids(joined))
                if big or joined in self.gaz.country_names or joined in self._jp:
                    key = joined
            elif len(words) >= 2 and any(_postcode(w) for w in words):
                # "75020 PARIS", "Wisconsin 54810": a postcode beside a name says nothing more.
                key = " ".join(w for w in words if not _postcode(w))
            key = self._strip_fillers(key)
            if not key or key.isdigit():
                continue
            if all(w in PRONOUNS for w in key.split()):
                continue
            parts.append(_Part(key, piece.strip()))
        return parts

    def _known(self, key: str) -> bool:
        g = self.gaz
        return bool(
            key in CITY_ALIASES
            or key in g.country_names
            or key in g.state_names
            or g.city_ids(key)
            or key in self._jp
        )

    def _strip_fillers(self, key: str) -> str:
        changed = True
        while changed and key and not self._known(key) and key not in self.gaz.subdivisions:
            changed = False
            words = key.split(" ")
            for filler in self._leading.get(words[0], ()):
                rest = key[len(filler) + 1 :]
                if key.startswith(filler + " ") and rest not in NON_PLACES:
                    key, changed = rest, True
                    break
            words = key.split(" ")
            for filler in self._trailing.get(words[-1], ()):
                if key.endswith(" " + filler):
                    key, changed = key[: -len(filler) - 1], True
                    break
        if len(key) > 2 and key[-1] in _CJK_ADMIN_SUFFIXES and not self._known(key):
            key = key[:-1]  # 大阪府 -> 大阪, 杭州市 -> 杭州
        return key

    def _resolve_parts(
        self, parts: list[_Part], flags: list[str], lang: str | None
    ) -> Located | None:
        parts = self._split_trailing_qualifier(parts[0]) + parts[1:]
        parts = self._split_leading_country(parts[0]) + parts[1:]
        head, qualifiers = parts[0], parts[1:]
        if not qualifiers:
            return self._alone(head, flags, lang)
        head_cc = self.gaz.country_names.get(head.key)
        if len(parts) == 2 and head_cc:
            inner = [r for r in self._region(qualifiers[0], codes=False) if r[0] != "country"]
            if inner and self._region_fits(inner, [("country", head_cc)]):
                # "日本 東京", "USA, New Jersey": a country, then a region inside it.
                return self._alone(qualifiers[0], flags, lang)
        if (
            len(parts) == 2
            and not self.gaz.city_ids(head.key)
            and head.key not in CITY_ALIASES
            and self._region(head, codes=False)
            and not self._region(qualifiers[0])
        ):
            # "Indonesia, Manado", "Riau, Pekanbaru": the region first, then a city in it.
            found = self._city_with_qualifiers(qualifiers[0], [head], flags, lang)
            if found is not None and found.granularity == CITY:
                return found
        found = self._city_with_qualifiers(head, qualifiers, flags, lang)
        if found is not None:
            return found
        # "Shoreditch, London": an unknown head, a known place after it.
        unknown_head = not self.gaz.city_ids(head.key) and head.key not in CITY_ALIASES
        if (unknown_head or head.key in NON_PLACES) and not self._region(head):
            return self._resolve_parts(qualifiers, flags, lang)
        return None

    def _split_leading_country(self, part: _Part) -> list[_Part]:
        # "Indonesia Manado", "日本 埼玉": a country name, then a place of that country.
        words = part.key.split()
        if len(words) < 2 or self._known(part.key):
            return [part]
        for n in (3, 2, 1):
            if len(words) <= n:
                continue
            lead, rest = " ".join(words[:n]), " ".join(words[n:])
            cc = self.gaz.country_names.get(lead)
            if cc and self._known(rest):
                inside = [c for c in self.gaz.city_ids(rest) if self.gaz.cc[c] == cc]
                if inside or (cc == "JP" and rest in self._jp):
                    return [_Part(rest, rest), _Part(lead, lead)]
        return [part]

    def _split_trailing_qualifier(self, part: _Part) -> list[_Part]:
        # "Austin TX", "Paris France", "Sydney NSW": only when the whole string is not a name.
        words = part.key.split()
        if len(words) < 2 or self._known(part.key) or part.key in self.gaz.subdivisions:
            return [part]
        raw_words = part.raw.split()
        for n in (4, 3, 2, 1):
            if len(words) <= n:
                continue
            tail = " ".join(words[-n:])
            raw_tail = " ".join(raw_words[-n:]) if len(raw_words) >= n else tail
            head = " ".join(words[:-n])
            # Without a separator only a known head counts ("het van" is Dutch, not Van).
            if self._known(head) and self._region(_Part(tail, raw_tail), strict_codes=True):
                return [_Part(head, head), _Part(tail, raw_tail)]
            if self._known(head) and n == 1:
                # "dallas tx", "brasilia df": a lower-case code only where the city lies.
                loose = self._region(_Part(tail, raw_tail), lower3=True)
                if loose and any(self._matches(c, loose) for c in self.gaz.city_ids(head)):
                    return [_Part(head, head), _Part(tail, raw_tail)]
        if len(words) >= 3:
            # "Las Vegas Nevada USA": peel the country, then the state.
            last = _Part(words[-1], raw_words[-1] if raw_words else words[-1])
            if self._region(last, strict_codes=True) and not self._known(" ".join(words[-2:])):
                rest = " ".join(words[:-1])
                inner = self._split_trailing_qualifier(_Part(rest, " ".join(raw_words[:-1])))
                if len(inner) > 1:
                    return [*inner, last]
        return [part]

    def _region(
        self, part: _Part, strict_codes: bool = False, codes: bool = True, lower3: bool = False
    ) -> list[tuple[str, str]]:
        """A qualifier's readings: ('country', cc), ('state', code), ('sub', cc)."""
        key, found = part.key, []
        cc = self.gaz.country_names.get(key)
        if cc:
            found.append(("country", cc))
        state = self.gaz.state_names.get(key)
        if state:
            found.append(("state", state))
        code = part.raw.strip(" .").upper().replace(".", "")
        code_ok = codes and (part.raw.strip(" .").isupper() or not strict_codes)
        if len(code) == 2 and code_ok:
            if code in self.gaz.states:
                found.append(("state", code))
            if code in self.gaz.countries:
                found.append(("country", code))
        upper = part.raw.strip(" .").isupper()
        if len(code) == 3 and codes and (upper or lower3) and code.lower() in self.gaz.alpha3:
            found.append(("country", self.gaz.alpha3[code.lower()]))  # "Manila PHL"
        for cc in self.gaz.subdivisions.get(key, ()):
            found.append(("sub", cc))
        area = self._jp.get(key)
        if area is not None:
            found.extend(("jp", a1) for a1 in area[4])
        # A country's name ("UK") is not also read as some province's code.
        if code_ok and len(key) <= 3 and key not in self.gaz.country_names:
            for cc in self.gaz.subdivision_codes.get(key, ()):
                found.append(("sub", cc))
        return found

    def _matches(self, city: int, readings: list[tuple[str, str]]) -> bool:
        cc = self.gaz.cc[city]
        for kind, value in readings:
            if kind in ("country", "sub") and cc == value:
                return True
            if kind == "state" and cc == "US" and self.gaz.admin1[city] == value:
                return True
            if kind == "jp" and cc == "JP" and self.gaz.admin1[city] == value:
                return True
        return False

    def _city_with_qualifiers(
        self, head: _Part, qualifiers: list[_Part], flags: list[str], lang: str | None
    ) -> Located | None:
        readings = [self._region(q) for q in qualifiers]
        readings = [r for r in readings if r]
        cities = list(self.gaz.city_ids(head.key))
        alias = CITY_ALIASES.get(head.key)
        # Provinces often share their capital's name (Gabès, Samsun, Oaxaca): a city of that
        # name wins there, so only states and countries are read as regions first.
        own = [r for r in self._region(head) if r[0] != "sub"]
        if own and readings and all(self._region_fits(own, r) for r in readings):
            # "Virginia, USA", "Ontario, Canada": a region and its country, unless the head is
            # also a big city of that country ("São Paulo, Brasil").
            big = [
                c
                for c in cities
                if self.gaz.pop[c] >= 500_000 and all(self._matches(c, r) for r in readings)
            ]
            if not big and alias is None:
                return self._region_located(own, lang)
        if not readings:
            # Qualifiers we cannot read ("Brooklyn, New York" is a city pair; "Lagos, Naija").
            near = [n for n in (self._alone(q, [], lang) for q in qualifiers) if n is not None]
            if alias and (not near or any(_close(alias[:2], n, 200) for n in near)):
                return Located(alias[0], alias[1], alias[2], CITY, alias[3])
            if not near:
                return self._alone(head, flags, lang)
            if cities and near:
                close = [
                    c
                    for c in cities
                    if any(_close((self.gaz.lat[c], self.gaz.lon[c]), n, 200) for n in near)
                ]
                if close:
                    return self._city(self._best(close, flags, lang, margin=False))
                return None
            return self._alone(head, flags, lang) if len(head.key) > 3 else None
        if alias and all(self._alias_fits(alias, r) for r in readings):
            return Located(alias[0], alias[1], alias[2], CITY, alias[3])
        fitting = [c for c in cities if all(self._matches(c, r) for r in readings)]
        if fitting:
            # "Anderson, USA", "Changle, 中国": a country alone does not settle same-named towns.
            loose = all(k != "state" for r in readings for k, _ in r)
            best = self._best(fitting, flags, lang, margin=loose)
            if best is not None:
                return self._city(best)
            jp = [r for r in own if r[0] == "jp"]
            if jp and {self.gaz.cc[c] for c in fitting} == {"JP"}:
                return self._region_located(jp, lang)  # "日本 東京": the prefecture
            return None
        named = [r for r in (self._region(q, codes=False) for q in qualifiers) if r]
        if (cities or alias) and not named:
            # Only codes, and they contradict a known city ("Monterrey, N.L."): the codes
            # are the weaker evidence.
            return self._alone(head, flags, lang)
        if cities or alias:
            # A known name that the qualifier contradicts, or a small town we do not hold:
            # answer at the qualifier's own (coarser) level.
            return self._region_located(readings[-1], lang)
        head_regions = self._region(head)
        if (
            not head_regions
            and not cities
            and alias is None
            and any(self.gaz.city_ids(q.key) and not self._region(q) for q in qualifiers)
        ):
            return None  # "Camp Nou, Barcelona": the caller reads the qualifiers alone
        if any(k != "sub" for k, _ in head_regions) or any(
            self._region_fits(head_regions, r) for r in readings
        ):
            # "Texas, USA", "Ontario, Canada": a region qualified by its country.
            return self._alone(head, flags, lang)
        # "South East, UK" is not Cameroon's South-East region; "Somerset, UK": the
        # qualifier is all we can trust.
        return self._region_located(readings[-1], lang)

    @staticmethod
    def _region_fits(own: list[tuple[str, str]], readings: list[tuple[str, str]]) -> bool:
        ccs = {"US" if k == "state" else "JP" if k == "jp" else v for k, v in own}
        return any(v in ccs for k, v in readings if k in ("country", "sub"))

    def _alias_fits(self, alias: tuple[float, float, float, str], readings) -> bool:
        for kind, value in readings:
            if kind == "state" and value in self.gaz.states:
                s = self.gaz.states[value]
                if haversine_km(alias[0], alias[1], s[0], s[1]) <= s[2] * 2.5:
                    return True
            elif kind in ("country", "sub") and value in self.gaz.countries:
                c = self.gaz.countries[value]
                if haversine_km(alias[0], alias[1], c[0], c[1]) <= max(c[2] * 2.0, 150):
                    return True
        return False

    def _region_located(self, readings: list[tuple[str, str]], lang: str | None) -> Located | None:
        kinds = {k for k, _ in readings}
        jp = {v for k, v in readings if k == "jp"}
        if jp:
            area = next(a for a in self._jp.values() if a[4] == tuple(sorted(jp)))
            return Located(area[0], area[1], area[2], STATE, area[3])
        for kind, value in readings:
            if kind == "state" and (kinds == {"state"} or lang in (None, "en")):
                return self._state(value)
        ccs = {v for k, v in readings if k in ("country", "sub")}
        if len(ccs) == 1:
            return self._country(ccs.pop())
        return None

    def _alone(self, part: _Part, flags: list[str], lang: str | None) -> Located | None:
        key = part.key
        if key in NON_PLACES or all(w in NON_PLACE_WORDS for w in key.split()):
            return None
        alias = CITY_ALIASES.get(key)
        if alias:
            return Located(
                alias[0], alias[1], alias[2], COUNTRY if alias[2] >= 300 else CITY, alias[3]
            )
        area = self._jp.get(key)
        if area is not None and not any(self.gaz.cc[c] == "JP" for c in self.gaz.city_ids(key)):
            return Located(area[0], area[1], area[2], STATE, area[3])
        subnation = self.gaz.subnations.get(key)
        if subnation:
            return Located(subnation[0], subnation[1], subnation[2], STATE, part.raw)
        cc = self.gaz.country_names.get(key)
        state = self.gaz.state_names.get(key)
        if cc and state and lang == "en":
            return self._state(state)
        if cc:
            return self._country(cc)
        cities = list(self.gaz.city_ids(key))
        flagged = [c for c in cities if self.gaz.cc[c] in flags]
        if flagged:
            # "Victoria 🇨🇦", "Nice 🇫🇷": a flag that fits is a qualifier.
            return self._city(self._best(flagged, flags, lang, margin=True))
        biggest = max((self.gaz.pop[c] for c in cities), default=0)
        if state and biggest < LARGE_CITY:
            return self._state(state)
        raw_code = part.raw.strip(" .").replace(".", "")
        if len(raw_code) == 2 and raw_code.isupper() and raw_code in self.gaz.states:
            return None if raw_code in _WORDLIKE_STATE_CODES else self._state(raw_code)
        if _too_short(key) and biggest < LARGE_CITY:
            return None
        subs = self.gaz.subdivisions.get(key, ())
        if subs and biggest < SMALL_TOWN and all(self.gaz.cc[c] in subs for c in cities):
            # "Guerrero": the Mexican state, not the small town named after it.
            return self._country(subs[0]) if len(subs) == 1 else None
        if (
            subs
            and not any(self.gaz.cc[c] in subs for c in cities)
            and self._province_first(subs, biggest)
        ):
            return self._country(subs[0]) if len(subs) == 1 else None
        if not cities:
            return None
        spoken = {
            lang for c in cities for lang in self.gaz.country_languages.get(self.gaz.cc[c], ())
        }
        if _foreign_han_word(_CJK_ONLY.fullmatch(key) is not None, biggest, lang, spoken):
            return None
        if not self._plausible_alone(key, biggest, lang, lang in spoken):
            return None
        best = self._best(cities, flags, lang, margin=True)
        return self._city(best) if best is not None else None

    def _province_first(self, subs: tuple[str, ...], biggest: int) -> bool:
        # "Ontario" is the province, "Portland" the city, not the Jamaican parish.
        if biggest < 100_000:
            return True
        people = max(self.gaz.country_population.get(cc, 0) for cc in subs)
        return people >= 20_000_000 and biggest < LARGE_CITY

    def _plausible_alone(self, key: str, biggest: int, lang: str | None, spoken: bool) -> bool:
        """spoken: the post's language is spoken where the candidates are, so the name being
        frequent in that language is expected (Bologna in Italian)."""
        if biggest >= LARGE_CITY:
            return True
        if " " in key:
            return True
        if self._common(key, None if spoken else lang):
            return False
        # "Jupiter", "Eden", "Sunshine": a word people know that is also a small town.
        # A town's name is a known word in its own country's language (Troyes in French,
        # Gresik in Indonesian): only English then counts against it, unless the word is
        # an everyday one there too ("mujeres" in Spanish).
        own_word = spoken and not self._listed(self.gaz.common_words, key, lang)
        return not (
            biggest < SMALL_TOWN
            and self._listed(self.gaz.word_like, key, None if own_word else lang)
        )

    @staticmethod
    def _listed(table: dict[str, str], word: str, lang: str | None) -> bool:
        langs = table.get(word)
        if not langs:
            return False
        found = langs.split()
        return "en" in found or (lang is not None and lang in found)

    def _is_common_word(self, word: str, lang: str | None) -> bool:
        """An everyday word ('reading', 'nice') in English or the post's language (the lists
        are checked when the gazetteer is built)."""
        langs = self.gaz.common_words.get(word)
        if not langs:
            return False
        found = langs.split()
        return "en" in found or (lang is not None and lang in found)

    def _score(self, city: int, flags: list[str], lang: str | None) -> float:
        cc = self.gaz.cc[city]
        score = math.log10(self.gaz.pop[city] + 1)
        if lang:
            weight = LANGUAGE_PRIORS.get(lang, {}).get(cc)
            if weight is None and lang in self.gaz.country_languages.get(cc, ()):
                weight = 0.3
            score += math.log10(1 + 40 * (weight or 0.0))
        if cc in flags:
            score += 1.0
        return score

    def _best(
        self, cities: list[int], flags: list[str], lang: str | None, margin: bool
    ) -> int | None:
        ranked = sorted(cities, key=lambda c: -self._score(c, flags, lang))
        best = ranked[0]
        if margin:
            top = self._score(best, flags, lang)
            for other in ranked[1:]:
                far = haversine_km(
                    self.gaz.lat[best], self.gaz.lon[best], self.gaz.lat[other], self.gaz.lon[other]
                )
                if far > 161:
                    if top - self._score(other, flags, lang) < AMBIGUITY_MARGIN:
                        return None
                    break
        return best

    # ---- CJK addresses -----------------------------------------------------------------
    def _cjk_address(self, text: str, lang: str | None) -> Located | None:
        """'愛知県名古屋市中村区名駅南1-1-5', '三重県鈴鹿市', '我在泰国': known names read from the
        start, each optionally followed by 県/市/区...; the string must end there, or
        the last name must carry such a marker (an address, not a sentence that names a city)."""
        for lead in CJK_LEADING:
            if text.startswith(lead):
                text = text[len(lead) :]
                break
        for trail in CJK_TRAILING:
            if text.endswith(trail) and len(text) > len(trail) + 1:
                text = text[: -len(trail)]
                break
        if not _HAN_KANA.match(text):
            return None  # "MADE2列目...": Latin words are read by the ordinary rules
        cut = re.search(r"\d", text)
        if cut:
            text = text[: cut.start()]  # house numbers: 名駅南1-1-5
        tokens: list[tuple[str, Any]] = []
        i, n, marked, sure = 0, len(text), False, 0
        while i < n:
            match: tuple[str, Any] | None = None
            for j in range(min(n, i + 7), i + 1, -1):
                piece = text[i:j]
                if piece in self._jp:
                    match = ("jp", self._jp[piece])
                elif piece in self.gaz.country_names:
                    match = ("country", self.gaz.country_names[piece])
                elif self._cjk_city(piece):
                    match = ("city", self.gaz.city_ids(piece))
                if match:
                    break
            if match is None:
                break
            tokens.append(match)
            i = j
            marked = text[j - 1] in CJK_ADMIN_MARKERS  # the name was found with its 県/市
            if i < n and text[i] in CJK_ADMIN_MARKERS:
                marked, i = True, i + 1
            if marked:
                sure = len(tokens)  # everything up to a 県/市 is an address so far
        if not tokens:
            return None
        # "大阪の北部", "札幌のどこか": a Japanese place, then の ("of") and words about it.
        possessive = i < n and text[i] == "の" and self._japanese_place(tokens[-1])
        if i < n and not marked and not possessive:
            # "京都府長岡京市": 長岡 read as Nagaoka, then 京 unknown; keep what was marked.
            tokens = tokens[:sure]
        if not tokens:
            return None
        return self._most_specific(tokens, lang)

    def _korean_address(self, key: str, lang: str | None) -> Located | None:
        """'서울특별시 강남구', '부산 광안리': a known first word, then address units only."""
        first, *units = key.split(" ")
        if not all(len(u) >= 2 and u[-1] in KO_UNIT_SUFFIXES for u in units):
            return None
        for suffix in ("", *KO_CITY_SUFFIXES):
            if suffix and not (first.endswith(suffix) and len(first) > len(suffix) + 1):
                continue
            name = first[: len(first) - len(suffix)]
            found = self._alone(_Part(name, name), [], lang)
            if found is not None:
                return found
        return None

    def _japanese_place(self, token: tuple[str, Any]) -> bool:
        kind, value = token
        if kind == "jp":
            return True
        return kind == "city" and any(
            self.gaz.cc[c] == "JP" and self.gaz.pop[c] >= SMALL_TOWN for c in value
        )

    def _cjk_city(self, piece: str) -> bool:
        # Katakana spellings of foreign towns ("トラン") are mostly other words; only Han
        # names, or katakana names of cities of a million.
        ids = self.gaz.city_ids(piece)
        if not ids:
            return False
        return bool(regex.search(r"\p{Han}", piece)) or self.gaz.pop[ids[0]] >= LARGE_CITY

    def _most_specific(self, tokens: list[tuple[str, Any]], lang: str | None) -> Located | None:
        cc: str | None = None
        admin1: tuple[str, ...] = ()
        answer: Located | None = None
        for kind, value in tokens:
            if kind == "country":
                if cc not in (None, value):
                    break
                cc = str(value)
                answer = answer or self._country(cc)
            elif kind == "jp":
                area = value
                if cc not in (None, "JP") or (admin1 and not set(area[4]) <= set(admin1)):
                    break
                cc, admin1 = "JP", area[4]
                answer = Located(area[0], area[1], area[2], STATE, area[3])
            else:
                ids = [
                    c
                    for c in value
                    if (cc is None or self.gaz.cc[c] == cc)
                    and (not admin1 or self.gaz.admin1[c] in admin1)
                ]
                if not ids:
                    break
                best = self._best(ids, [], lang, margin=cc is None)
                if best is None:
                    break
                langs = set(self.gaz.country_languages.get(self.gaz.cc[best], ()))
                if cc is None and _foreign_han_word(True, self.gaz.pop[best], lang, langs):
                    break
                cc, admin1 = self.gaz.cc[best], (self.gaz.admin1[best],)
                answer = self._city(best)
        return answer

    # ---- answers ----------------------------------------------------------------------
    def _city(self, city: int | None) -> Located | None:
        if city is None:
            return None
        g = self.gaz
        pop = g.pop[city]
        precision = 5.0 if pop < 100_000 else 10.0 if pop < 1_000_000 else 25.0
        where = g.admin1[city] if g.cc[city] == "US" else g.cc[city]
        return Located(g.lat[city], g.lon[city], precision, CITY, f"{g.label[city]}, {where}")

    def _state(self, code: str) -> Located:
        lat, lon, radius, name = self.gaz.states[code]
        return Located(lat, lon, radius, STATE, f"{name}, US")

    def _country(self, cc: str) -> Located | None:
        if cc not in self.gaz.countries:
            return None
        lat, lon, radius, name = self.gaz.countries[cc]
        return Located(lat, lon, radius, COUNTRY, name)

    # ---- bio --------------------------------------------------------------------------
    def locate_bio(self, bio: str | None, lang: str | None = None) -> Located | None:
        """A place a bio names after a marker, or None. Most bios name none and are seen once
        (a stream's authors rarely repeat), so a plain substring test turns them away before
        the marker regex (4-11 µs on a 150-character bio) and before the LRU keeps them."""
        if not bio or not _has_bio_hint(bio):
            return None
        return self._cached_bio(bio, lang)

    def _locate_bio(self, bio: str | None, lang: str | None = None) -> Located | None:
        """Only what follows an explicit marker: '📍 Berlin', 'based in Lisbon', 'from X'."""
        if not bio:
            return None
        for marker in _BIO_MARKER.finditer(bio):
            tail = bio[marker.end() : marker.end() + 60]
            stop = _BIO_STOP.search(tail)
            if stop:
                tail = tail[: stop.start()]
            words = tail.split()[:6]
            # Longest first: "from New York but live in Paris" -> "New York".
            for n in range(len(words), 0, -1):
                candidate = " ".join(words[:n]).rstrip(",")
                if not candidate or (n < len(words) and len(candidate) <= 3):
                    # A cut-down "La Unión - Colombia" must not become "LA".
                    continue
                found = self.locate_profile(candidate, lang)
                if found is not None:
                    return found
        return None


def _foreign_han_word(cjk: bool, biggest: int, lang: str | None, spoken: set[str]) -> bool:
    # 温泉 ("hot spring") in a Japanese profile is no Chinese town: Han words are shared
    # between the languages, so a small town abroad needs more than its name.
    return cjk and lang in ("ja", "zh") and biggest < SMALL_TOWN and lang not in spoken


def _coordinates(text: str) -> Located | None:
    """'ÜT: 40.71,-74.00', '-6.15689,106.9294', "N 39°20' 0'' / W 74°35' 0''"."""
    found = _DECIMAL_POINT.match(text)
    if found:
        lat, lon = float(found.group(1)), float(found.group(2))
    else:
        dms = _DMS_POINT.match(text)
        if not dms:
            return None
        g = dms.groups()
        lat = (int(g[1]) + int(g[2]) / 60 + float(g[3]) / 3600) * (-1 if g[0] == "S" else 1)
        lon = (int(g[5]) + int(g[6]) / 60 + float(g[7]) / 3600) * (-1 if g[4] == "W" else 1)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None
    return Located(round(lat, 4), round(lon, 4), 1.0, CITY, f"{lat:.4f},{lon:.4f}")


def _postcode(word: str) -> bool:
    # Four to six digits, or the UK/Canadian letter-digit forms are too varied: digits only.
    return word.isdigit() and 4 <= len(word) <= 6


def _jp_areas(gaz: Gazetteer) -> dict[str, tuple[float, float, float, str, tuple[str, ...]]]:
    """Japan's prefectures and regions: folded name -> (lat, lon, radius km, label, admin1
    codes). Each prefecture's code comes from its seat; its centre from its cities."""
    members: dict[str, list[int]] = {}
    for city, cc in enumerate(gaz.cc):
        if cc == "JP":
            members.setdefault(gaz.admin1[city], []).append(city)
    codes: dict[str, str] = {}
    for name, romaji, seat in JP_PREFECTURES:
        for key in (seat, seat + "市", fold(romaji)):
            seats = [c for c in gaz.city_ids(key) if gaz.cc[c] == "JP"]
            if seats:
                codes[name] = gaz.admin1[seats[0]]
                break
    areas: dict[str, tuple[float, float, float, str, tuple[str, ...]]] = {}

    def add(keys: list[str], label: str, admin1: tuple[str, ...]) -> None:
        cities = [c for a in admin1 for c in members.get(a, ())]
        if not cities:
            return
        total = sum(gaz.pop[c] for c in cities)
        lat = sum(gaz.lat[c] * gaz.pop[c] for c in cities) / total
        lon = sum(gaz.lon[c] * gaz.pop[c] for c in cities) / total
        spread = math.sqrt(
            sum(haversine_km(lat, lon, gaz.lat[c], gaz.lon[c]) ** 2 for c in cities) / len(cities)
        )
        entry = (round(lat, 4), round(lon, 4), round(max(20.0, spread), 1), label, admin1)
        for key in keys:
            areas.setdefault(fold(key), entry)

    for name, romaji, _seat in JP_PREFECTURES:
        if name not in codes:
            continue
        suffix = (
            ""
            if name == "北海道"
            else "都"
            if name == "東京"
            else "府"
            if name
            in (
                "大阪",
                "京都",
            )
            else "県"
        )
        keys = [name + suffix, name, romaji + " prefecture", romaji + " ken", romaji + "ken"]
        if not gaz.city_ids(fold(romaji)):
            keys.append(romaji)  # 'Aichi', 'Kanagawa'; not 'Osaka' (the city answers)
        add(keys, f"{romaji.title()}, JP", (codes[name],))
    for kana, name in JP_PREFECTURE_KANA.items():
        if fold(name) in areas:
            areas.setdefault(kana, areas[fold(name)])
    for region, prefectures in JP_REGIONS.items():
        admin1 = tuple(sorted(codes[p] for p in prefectures if p in codes))
        add([region, region + "地方"], f"{region}, JP", admin1)
    return areas


def _too_short(key: str) -> bool:
    # Three Latin letters, or three letters of an alphabet like Arabic, are mostly words or
    # codes; two CJK characters are a normal city name (東京).
    letters = key.replace(" ", "")
    if key.isascii() or not any(
        "\u2e80" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af" for ch in key
    ):
        return len(letters) <= 3
    return len(letters) <= 1


def _by_word(fillers: tuple[str, ...], first: bool) -> dict[str, tuple[str, ...]]:
    grouped: dict[str, list[str]] = {}
    for filler in {fold(f) for f in fillers}:
        words = filler.split(" ")
        grouped.setdefault(words[0] if first else words[-1], []).append(filler)
    return {w: tuple(sorted(fs, key=len, reverse=True)) for w, fs in grouped.items()}


def _close(point: tuple[float, float], other: Located, km: float) -> bool:
    return haversine_km(point[0], point[1], other.lat, other.lon) <= km + other.precision_km
