# ruff: noqa: RUF001, RUF003  (place names and separators in many scripts)
"""The geolocator on the real GeoNames index (built once into .cache/geo, then loaded in ~0.2 s)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from streamer.ingest.geolocate import (
    Geolocator,
    cache_file,
    gazetteer,
    geolocate,
    haversine_km,
    load_gazetteer,
    place_centre,
)

CACHE = Path(__file__).resolve().parents[2] / ".cache" / "geo"


@pytest.fixture(scope="module")
def geo() -> Geolocator:
    return Geolocator(load_gazetteer(CACHE))


def near(geo: Geolocator, text: str, lang: str | None, lat: float, lon: float, km: float = 60):
    found = geo.locate_profile(text, lang)
    assert found is not None, text
    assert haversine_km(found.lat, found.lon, lat, lon) <= km, (text, found)
    return found


@pytest.mark.parametrize(
    ("text", "lang", "lat", "lon"),
    [
        ("Austin, TX", "en", 30.27, -97.74),
        ("austin texas", None, 30.27, -97.74),
        ("東京", "ja", 35.69, 139.69),
        ("Москва", "ru", 55.75, 37.62),
        ("القاهرة", "ar", 30.04, 31.24),
        ("서울", "ko", 37.57, 126.98),
        ("กรุงเทพ", "th", 13.76, 100.50),
        ("NYC 🗽", "en", 40.71, -74.01),
        ("The Big Apple", "en", 40.71, -74.01),
        ("São Paulo - SP", "pt", -23.55, -46.63),
        ("SAO PAULO", None, -23.55, -46.63),
        ("📍Berlin", None, 52.52, 13.40),
        ("Living in Berlin ✨", "en", 52.52, 13.40),
        ("Madrid 🇪🇸 | she/her", "es", 40.42, -3.70),
        ("Toronto/Canada", None, 43.65, -79.38),
        ("Lagos | Nigeria", None, 6.45, 3.39),
        ("Sydney NSW", None, -33.87, 151.21),
        ("CDMX", "es", 19.43, -99.13),
        ("Philly", "en", 39.95, -75.17),
        ("Bogotá, Colombia", "es", 4.61, -74.08),
    ],
)
def test_forms_people_write(geo, text, lang, lat, lon):
    near(geo, text, lang, lat, lon)


@pytest.mark.parametrize(
    "text",
    [
        "Earth",
        "Worldwide",
        "online",
        "everywhere",
        "in your heart",
        "Narnia",
        "Hogwarts",
        "he/him",
        "she/they 🏳️‍🌈",
        "✨🌙",
        "https://example.com/me",
        "@someone",
        "reading",
        "home",
        "love",
        "nowhere",
        "bed",
        "Nice",
        "IG: @whatever",
        "",
    ],
)
def test_non_places_are_refused(geo, text):
    assert geo.locate_profile(text, "en") is None


def test_qualifier_picks_the_small_namesake(geo):
    paris_tx = near(geo, "Paris, TX", "en", 33.66, -95.56, 30)
    assert paris_tx.granularity == "city"
    near(geo, "London, Ontario", "en", 42.98, -81.23, 30)
    near(geo, "Moscow, Idaho", None, 46.73, -117.0, 30)
    near(geo, "Paris", "en", 48.85, 2.35, 30)


def test_common_word_town_needs_a_qualifier(geo):
    assert geo.locate_profile("Reading", "en") is None
    near(geo, "Reading, UK", "en", 51.46, -0.97, 30)


def test_language_prior_breaks_a_tie(geo):
    near(geo, "Valencia", "es", 39.47, -0.38, 30)
    # Without a language the two Valencias are too close to call: no dot.
    assert geo.locate_profile("Valencia", None) is None


def test_country_and_state_keep_their_granularity(geo):
    brazil = geo.locate_profile("🇧🇷", None)
    assert brazil is not None and brazil.granularity == "country"
    assert brazil.precision_km > 1000
    assert geo.locate_profile("Brasil", "pt") == brazil
    texas = geo.locate_profile("Texas", "en")
    assert texas is not None and texas.granularity == "state"
    virginia = geo.locate_profile("Virginia, USA", "en")
    assert virginia is not None and virginia.granularity == "state"


def test_bio_only_after_a_marker(geo):
    assert geo.locate_bio("Designer based in Lisbon. she/her", "en") is not None
    assert geo.locate_bio("📍 Berlin | coffee", None) is not None
    assert geo.locate_bio("I love Lisbon and Berlin", "en") is None
    assert geo.locate_bio("from the heart", "en") is None


def test_place_box_centre_and_precision():
    found = place_centre((-1.0, 50.0, 1.0, 52.0))
    assert found is not None
    assert (found.lat, found.lon) == (51.0, 0.0)
    assert found.precision_km == pytest.approx(haversine_km(50, -1, 52, 1) / 2)
    wrapped = place_centre((179.0, -1.0, -179.0, 1.0))  # crosses the antimeridian
    assert wrapped is not None and abs(abs(wrapped.lon) - 180.0) < 1e-9


def test_ladder_order(geo):
    exact = geolocate(geo, (10.0, 20.0), (-1, 50, 1, 52), "Austin, TX", None, "en")
    assert exact is not None and exact.source == "exact" and exact.precision_km == 0
    place = geolocate(geo, None, (-1, 50, 1, 52), "Austin, TX", None, "en")
    assert place is not None and place.source == "place"
    profile = geolocate(geo, None, None, "Austin, TX", "📍 Berlin", "en")
    assert profile is not None and profile.source == "profile"
    bio = geolocate(geo, None, None, "in your heart", "📍 Berlin", "en")
    assert bio is not None and bio.source == "bio"
    assert geolocate(geo, None, None, "Earth", "I like tea", "en") is None


def test_lru_answers_repeats_from_the_cache(geo):
    geo.locate_profile.cache_clear()
    first = geo.locate_profile("Austin, TX", "en")
    again = geo.locate_profile("Austin, TX", "en")
    info = geo.locate_profile.cache_info()
    assert again is first
    assert (info.hits, info.misses) == (1, 1)


def test_cache_file_is_reused(geo, tmp_path):
    source = cache_file(CACHE)
    assert source.exists()
    target = cache_file(tmp_path)
    target.write_bytes(source.read_bytes())
    stamp = os.stat(target).st_mtime_ns
    gaz = load_gazetteer(tmp_path)
    assert os.stat(target).st_mtime_ns == stamp  # loaded, not rebuilt
    assert gaz.city_ids("london")


def test_small_towns_named_like_words_need_a_qualifier(geo):
    # Towns called Jupiter, Eden and Sunshine exist; alone these are not places.
    for word in ("Jupiter", "Eden", "Sunshine"):
        assert geo.locate_profile(word, "en") is None, word
    near(geo, "Jupiter, FL", "en", 26.93, -80.09, 30)


def test_codes_do_not_overrule_a_known_city(geo):
    near(geo, "Monterrey, N.L.", "es", 25.67, -100.31, 30)


def test_names_with_and_and_native_suffixes(geo):
    bosnia = geo.locate_profile("Bosnia and Herzegovina", None)
    assert bosnia is not None and bosnia.granularity == "country"
    near(geo, "大阪府", "ja", 34.69, 135.50)
    near(geo, "Hrvatska", "hr", 45.2, 16.2, 300)


# ---- forms seen on real captures (rules, each with a refusal beside it) --------------------
@pytest.mark.parametrize(
    ("text", "lang", "lat", "lon"),
    [
        ("愛知県名古屋市中村区名駅南1-1-5", "ja", 35.18, 136.91),  # address down to the ward
        ("三重県鈴鹿市", "ja", 34.88, 136.58),
        ("千葉県 松戸", "ja", 35.78, 139.90),
        ("愛知", "ja", 35.1, 137.0),  # a prefecture alone: its centre
        ("兵庫県", "ja", 34.8, 135.1),
        ("とうきょう", "ja", 35.69, 139.7),  # hiragana reading
        ("関東", "ja", 35.8, 139.7),  # a region of prefectures
        ("Nagoya, Aichi", "en", 35.18, 136.91),  # a prefecture as a qualifier
        ("我在泰国", "zh", 13.7, 100.7),
        ("ÜT: -6.15689,106.9294", "id", -6.1569, 106.9294),  # coordinates
        ("N 39°20' 0'' / W 74°35' 0''", "en", 39.33, -74.58),
        ("75020 PARIS", "fr", 48.85, 2.35),  # postcodes
        ("Balsam Lake, Wisconsin 54810", "en", 43.5, -88.7),
        ("dallas tx.", "en", 32.78, -96.81),  # lower-case code where the city lies
        ("Brasilia df", "pt", -15.78, -47.93),
        ("manila phl", "en", 14.6, 120.98),  # ISO alpha-3
        ("Las Vegas Nevada USA", "en", 36.17, -115.14),
        ("Jordan-amman", "en", 31.96, 35.95),  # country first, tight hyphen
        ("Indonesia   Manado", "id", 1.48, 124.85),
        ("Kingdom of Saudi Arabia", "ar", 23.8, 43.0),  # official name
        ("المملكـة العربـية السـعـوديـة", "ar", 23.8, 43.0),  # tatweel
        ("A U S T R A L I A", "en", -33.3, 144.8),  # spaced letters
        ("京都府長岡京市", "ja", 35.0, 135.7),  # keep what was marked when the rest fails
        ("東京都大田区東矢口2-15-15-106", "ja", 35.56, 139.72),
        ("大阪の北部", "ja", 34.67, 135.52),  # a Japanese place, then の
        ("札幌のどこか", "ja", 43.07, 141.35),
        ("Central Java", "id", -4.76, 109.6),  # Indonesian province in English: the country
        ("Makassar -- Sulsel", "id", -5.15, 119.43),  # province short form as a qualifier
        ("Troyes", "fr", 48.3, 4.09),  # a known French word, but in French it is the town
        ("Г. ВОЛЖСКИЙ", "ru", 48.79, 44.78),  # unit word before the name
        ("จ.สุราษฎร์ธานี", "th", 9.14, 99.33),
        ("서울특별시 강남구", "ko", 37.57, 126.98),  # Korean address: city, then units
        ("부산 광안리", "ko", 35.1, 129.03),
        ("한국 korea", "ko", 36.58, 127.51),  # one country named twice
        ("アメリカ", "ja", 37.5, -93.0),  # everyday name where CLDR has the formal one
        ("kanagawaken", "ja", 35.45, 139.53),
        ("日本 東京", "ja", 35.69, 139.69),  # a country, then a place inside it
        ("Japan, Saitama", "en", 35.9, 139.6),
        ("大阪府→埼玉県", "ja", 35.93, 139.59),  # a move: where one lives now comes last
        ("東北出身(仮)→現東海", "ja", 35.05, 137.25),
        ("Suwon in Korea", "ko", 37.29, 127.01),  # "X in Y" when both are places
        ("دولة الكويت", "ar", 29.3, 47.9),  # "State of Kuwait"
    ],
)
def test_real_capture_forms(geo, text: str, lang: str, lat: float, lon: float) -> None:
    found = geo.locate_profile(text, lang)
    assert found is not None, text
    assert haversine_km(found.lat, found.lon, lat, lon) < 60, (text, found)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("東京だけど埼玉より。", "ja"),  # a sentence that names cities, not an address
        ("東京タワーが見えるとこ", "ja"),
        ("MADE2列目でペンサもらって死亡", "ja"),  # Latin word before CJK text
        ("アルマ・トラン", "ja"),  # katakana word that is also a small foreign town
        ("来栖翔の出身地", "ja"),  # の after a name that is no place
        ("夢の国", "ja"),
        ("新日暮里", "ja"),  # a station name the gazetteer does not hold
        ("☞next 8/17 BLUE ENCOUNT＠福岡", "ja"),  # ＠ a concert venue, not a home
        ("c.da Baccatani (BR)", "it"),  # BR: Brazil, or the province of Brindisi
        ("사랑 해요", "ko"),  # Hangul words that are no address
        ("ピューロランド⇔温泉", "ja"),  # 温泉 "hot spring", also a small Chinese town
        ("hp / got", "en"),  # a province code does not make a word a town
        ("C O A S T || 1 7", "en"),  # spaced letters join only into a country or big city
        ("London//Cairo//Amman", "en"),  # places of several countries: no home among them
        ("love in paris", "en"),  # "in" splits only when both sides are places
        ("mujeres", "es"),  # an everyday Spanish word, not Isla Mujeres
        ("محافظة عمان", "ar"),  # Amman's governorate, not Oman
        ("Gorakhpur, India", "en"),  # same-named towns of India: no country-centre dot
        ("부산 사랑해", "ko"),  # a city, then words that are not address units
        ("ÜT: 0.0,0.0", "en"),  # no fix
        ("95.1234,200.5", "en"),  # off the globe
        ("Newcastle", None),  # ambiguous without a language prior
    ],
)
def test_real_capture_refusals(geo, text: str, lang: str | None) -> None:
    assert geo.locate_profile(text, lang) is None


def test_region_that_contradicts_its_country_answers_the_country(geo) -> None:
    # Cameroon has a "South-East" region: "South East, UK" must not land there.
    found = geo.locate_profile("South East, UK", "en")
    assert found is not None and found.granularity == "country"
    assert haversine_km(found.lat, found.lon, 52.5, -1.4) < 100


def test_county_alone_answers_its_country(geo) -> None:
    found = geo.locate_profile("Somerset, UK", "en")
    assert found is not None and haversine_km(found.lat, found.lon, 52.5, -1.4) < 100


def test_lower_case_alpha3_alone_is_not_a_country(geo) -> None:
    found = geo.locate_profile("wilks, ken", "en")
    assert found is None or found.name != "Kenya"


def test_state_named_like_a_small_town_of_its_country_is_the_state(geo) -> None:
    found = geo.locate_profile("Guerrero.", "es")
    assert found is not None and found.granularity == "country" and found.name == "Mexico"


def test_cities_of_one_country_answer_the_country(geo) -> None:
    found = geo.locate_profile("Bandung - Magelang", "id")
    assert found is not None and found.granularity == "country" and found.name == "Indonesia"


def test_lists_of_countries_keep_the_first(geo) -> None:
    found = geo.locate_profile("Malaysia-UK.", "id")
    assert found is not None and found.name == "Malaysia"


def test_code_columns_hold_one_string_per_code(geo):
    """The loaded country and admin1 columns share one string object per distinct code."""
    for column in (geo.gaz.cc, geo.gaz.admin1):
        assert len(column) == len(geo.gaz.lat)
        assert len({id(code) for code in column}) == len(set(column))
    made = ["".join(letters) for letters in ("US", "FR", "US", "JP", "FR", "")]
    shared = gazetteer._shared_codes(made)
    assert shared == made
    assert shared[0] is shared[2] and shared[1] is shared[4]
    assert all(a is not b for a, b in zip(shared, made, strict=True) if a)
