# ruff: noqa: RUF001  (place names and texts in many scripts: look-alike letters are the point)
"""Realistic development input: stream lines shaped like today's Twitter v1.1 and Jetstream.

Dev-only (reads the UDHR texts of the team's shared data, never needed by the product). The
demo generator (streamer.sources.generator) writes fourteen languages of hand-written sentences
with a hashtag on most posts and a location on a third of them; live streams look different,
and parsers, detectors and geocoders tuned on the demo can fail on them. Here:

* texts are real sentences cut from the UDHR in 34 languages, English about a third, then
  Japanese, Spanish, Portuguese, Arabic, ...; a few percent have no language at all (emoji,
  a bare link, hashtags only); lengths follow a long-tailed distribution up to 280 weighted
  characters (CJK count double, as on Twitter), mean about 110 code points;
* about 15% of posts carry hashtags, placed where people put them (end, start, inline); reply
  mentions lead, links and media come last, emoji here and there;
* v1.1: retweets (`retweeted_status`, outer text "RT @user: ..." cut at 140), quote tweets,
  replies, `extended_tweet` for texts over 140, delete and limit notices (about 4% of lines);
  about 1% of posts have an exact point and about 2.5% a `place` bounding box; about 58% of
  authors fill their profile `location`, a third of them with no place at all ("Earth",
  "he/him", emoji), the rest a real place in many spellings ("Austin, TX", "東京",
  "São Paulo - SP", "NYC 🗽"); authors repeat with a Zipf-like skew; bios are UDHR clauses
  in the author's language (20% empty, 20% with a link);
* Jetstream (`--format jetstream`): the same content as `app.bsky.feed.post` commits with tag,
  mention and link facets at UTF-8 byte offsets, replies and embeds, plus post deletes,
  profile updates, identity and account events (`--collections all` adds the likes, reposts,
  follows and blocks a subscription without wantedCollections receives).

    .venv/bin/python scripts/realistic_stream.py --count 200000 --seed 1 --out tweets.ndjson --stats
    .venv/bin/python scripts/realistic_stream.py --format jetstream --count 50000 --out bsky.ndjson
    .venv/bin/python scripts/realistic_stream.py --describe some-recording.ndjson

Same seed, same bytes. Retweets make about a third of the statuses: lower than Twitter's sample
in its last years (about half), so that lines stay near the demo's size.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import functools
import itertools
import math
import os
import random
import re
import statistics
import string
import subprocess
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import orjson

REPO = Path(__file__).resolve().parents[1]

# --- shares (of lines, statuses or posts as named) ------------------------------------------

DELETE_SHARE = 0.035  # of v1.1 lines
LIMIT_SHARE = 0.004  # of v1.1 lines
RETWEET_SHARE = 0.35  # of v1.1 statuses
QUOTE_SHARE = 0.04  # of original statuses
REPLY_SHARE = 0.22  # of original posts
POINT_SHARE = 0.01  # of all statuses: an exact point (always with its place, as Twitter sent it)
PLACE_ONLY_SHARE = 0.015  # of all statuses: a place bounding box without a point
LOCATION_SHARE = 0.585  # of authors: a non-empty profile location
NON_PLACE_SHARE = 1 / 3  # of those: a joke, pronouns, emoji
EMPTY_BIO_SHARE = 0.20
LINK_BIO_SHARE = 0.20  # of all authors
UND_SHARE = 0.025  # of posts: no language (emoji, a bare link, mentions or hashtags only)
ZIPF_AUTHORS = 0.75  # exponent of the author skew; retweeted authors are skewed harder
ZIPF_RETWEETED = 1.05
STREAM_RATE = 55.0  # statuses per second of the 1% sample, for timestamps
DEFAULT_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
TWITTER_EPOCH_MS = 1288834974657
SHORT_LIMIT = 140

# Jetstream event mixes: (what, weight). "post" is a post create; the rest name themselves.
JETSTREAM_MIX = {
    # wantedCollections = app.bsky.feed.post, app.bsky.actor.profile (the product's default)
    "posts": (
        ("post", 89.0), ("post_delete", 5.0), ("profile", 2.5), ("identity", 1.8),
        ("account", 1.7),
    ),
    # no wantedCollections: everything a relay sends
    "all": (
        ("like", 56.0), ("post", 15.0), ("repost", 11.0), ("follow", 10.0), ("block", 1.0),
        ("post_delete", 1.2), ("like_delete", 2.5), ("profile", 1.0), ("identity", 1.2),
        ("account", 1.1),
    ),
}  # fmt: skip


class Lang(NamedTuple):
    code: str  # ISO 639-1: the UDHR file, Bluesky's langs
    twitter: str  # Twitter's label (it kept the withdrawn "in" and "iw")
    share: float
    spaced: bool  # words separated by spaces
    wide: bool  # counts double toward Twitter's 280


# Shares in percent of posts, after the 2020-2022 sample streams; the UDHR has all of these.
LANGS: tuple[Lang, ...] = tuple(
    Lang(code, label, share, code not in ("ja", "zh"), code in ("ja", "zh", "ko"))
    for code, label, share in (
        ("en", "en", 33.0), ("ja", "ja", 13.0), ("es", "es", 8.0), ("pt", "pt", 5.5),
        ("ar", "ar", 5.0), ("ko", "ko", 3.5), ("th", "th", 3.5), ("id", "in", 3.2),
        ("fr", "fr", 2.6), ("tr", "tr", 2.2), ("ru", "ru", 1.8), ("de", "de", 1.4),
        ("tl", "tl", 1.3), ("hi", "hi", 1.1), ("it", "it", 1.0), ("fa", "fa", 0.9),
        ("zh", "zh", 0.8), ("pl", "pl", 0.6), ("nl", "nl", 0.6), ("ur", "ur", 0.5),
        ("uk", "uk", 0.4), ("vi", "vi", 0.4), ("ca", "ca", 0.3), ("sv", "sv", 0.3),
        ("ta", "ta", 0.3), ("el", "el", 0.25), ("he", "iw", 0.25), ("bn", "bn", 0.2),
        ("cs", "cs", 0.2), ("ro", "ro", 0.2), ("hu", "hu", 0.15), ("fi", "fi", 0.15),
        ("da", "da", 0.1), ("no", "no", 0.1),
    )
)  # fmt: skip
LANG_BY_CODE = {lang.code: lang for lang in LANGS}
_LANG_INDEX = {lang.code: i for i, lang in enumerate(LANGS)}

# --- places ---------------------------------------------------------------------------------


class City(NamedTuple):
    name: str
    lat: float
    lon: float
    cc: str
    country: str
    langs: tuple[str, ...]
    forms: tuple[str, ...]  # how people write it; the first is the place's full_name


def _c(name: str, lat: float, lon: float, cc: str, country: str, langs: str, *forms: str) -> City:
    return City(name, lat, lon, cc, country, tuple(langs.split()), forms or (name,))


US, UK, SAUDI = "United States", "United Kingdom", "Kingdom of Saudi Arabia"
CITIES: tuple[City, ...] = (
    _c("New York", 40.71, -74.01, "US", US, "en", "New York, NY", "NYC 🗽", "nyc", "Brooklyn, NY",
       "New York City", "Manhattan, NY"),
    _c("Los Angeles", 34.05, -118.24, "US", US, "en", "Los Angeles, CA", "LA", "los angeles",
       "Hollywood, CA", "LA 🌴"),
    _c("Chicago", 41.88, -87.63, "US", US, "en", "Chicago, IL", "Chicago", "chi-town"),
    _c("Austin", 30.27, -97.74, "US", US, "en", "Austin, TX", "Austin, Texas", "ATX",
       "austin tx 🤠"),
    _c("Houston", 29.76, -95.37, "US", US, "en", "Houston, TX", "H-Town", "Houston"),
    _c("Atlanta", 33.75, -84.39, "US", US, "en", "Atlanta, GA", "ATL", "Atlanta"),
    _c("Washington", 38.91, -77.04, "US", US, "en", "Washington, DC", "DC", "D.C."),
    _c("Philadelphia", 39.95, -75.17, "US", US, "en", "Philadelphia, PA", "Philly"),
    _c("Seattle", 47.61, -122.33, "US", US, "en", "Seattle, WA", "Seattle", "PNW 🌲"),
    _c("London", 51.51, -0.13, "GB", UK, "en", "London, England", "London", "London, UK", "ldn"),
    _c("Manchester", 53.48, -2.24, "GB", UK, "en", "Manchester, England", "Manchester", "mcr"),
    _c("Toronto", 43.65, -79.38, "CA", "Canada", "en", "Toronto, Ontario", "Toronto", "the 6ix"),
    _c("Sydney", -33.87, 151.21, "AU", "Australia", "en", "Sydney, New South Wales", "Sydney"),
    _c("Lagos", 6.52, 3.38, "NG", "Nigeria", "en", "Lagos, Nigeria", "Lagos", "lag"),
    _c("Nairobi", -1.29, 36.82, "KE", "Kenya", "en", "Nairobi, Kenya", "Nairobi"),
    _c("Dublin", 53.35, -6.26, "IE", "Ireland", "en", "Dublin City, Ireland", "Dublin"),
    _c("Johannesburg", -26.2, 28.05, "ZA", "South Africa", "en",
       "Johannesburg, South Africa", "Joburg", "Jozi"),
    _c("Mumbai", 19.08, 72.88, "IN", "India", "en hi", "Mumbai, India", "Mumbai", "मुंबई",
       "Bombay"),
    _c("New Delhi", 28.61, 77.21, "IN", "India", "en hi", "New Delhi, India", "Delhi",
       "नई दिल्ली", "दिल्ली"),
    _c("Lucknow", 26.85, 80.95, "IN", "India", "hi", "Lucknow, India", "लखनऊ, भारत"),
    _c("Manila", 14.6, 120.98, "PH", "Republic of the Philippines", "en tl",
       "Manila City, National Capital Region", "Manila", "Metro Manila", "Quezon City"),
    _c("Cebu", 10.32, 123.89, "PH", "Republic of the Philippines", "tl",
       "Cebu City, Central Visayas", "Cebu"),
    _c("Tokyo", 35.68, 139.69, "JP", "Japan", "ja", "東京都", "東京", "Tokyo, Japan",
       "東京都渋谷区", "とうきょう", "東京⇔大阪"),
    _c("Osaka", 34.69, 135.5, "JP", "Japan", "ja", "大阪府", "大阪", "Osaka", "大阪市"),
    _c("Nagoya", 35.18, 136.91, "JP", "Japan", "ja", "愛知県名古屋市", "名古屋", "愛知"),
    _c("Fukuoka", 33.59, 130.4, "JP", "Japan", "ja", "福岡県", "福岡", "ふくおか"),
    _c("Sapporo", 43.06, 141.35, "JP", "Japan", "ja", "北海道札幌市", "札幌", "北海道"),
    _c("Madrid", 40.42, -3.7, "ES", "España", "es", "Madrid, España", "Madrid",
       "Madrid, Comunidad de Madrid"),
    _c("Barcelona", 41.39, 2.17, "ES", "España", "es ca", "Barcelona, España", "Barcelona",
       "BCN", "Barcelona, Catalunya"),
    _c("València", 39.47, -0.38, "ES", "España", "es ca", "València, España", "Valencia"),
    _c("Mexico City", 19.43, -99.13, "MX", "México", "es", "Ciudad de México, México", "CDMX",
       "México, D.F.", "Ciudad de México"),
    _c("Buenos Aires", -34.6, -58.38, "AR", "Argentina", "es", "Buenos Aires, Argentina",
       "Buenos Aires", "CABA"),
    _c("Bogotá", 4.71, -74.07, "CO", "Colombia", "es", "Bogotá, D.C., Colombia", "Bogotá"),
    _c("Lima", -12.05, -77.04, "PE", "Perú", "es", "Lima, Peru", "Lima"),
    _c("Santiago", -33.45, -70.67, "CL", "Chile", "es", "Santiago, Chile", "Santiago"),
    _c("Caracas", 10.48, -66.9, "VE", "Venezuela", "es", "Caracas, Venezuela", "Caracas"),
    _c("São Paulo", -23.55, -46.63, "BR", "Brasil", "pt", "São Paulo, Brasil",
       "São Paulo - SP", "sp", "Sampa", "são paulo"),
    _c("Rio de Janeiro", -22.91, -43.17, "BR", "Brasil", "pt", "Rio de Janeiro, Brasil",
       "Rio de Janeiro - RJ", "rj", "Rio 🌊"),
    _c("Belo Horizonte", -19.92, -43.94, "BR", "Brasil", "pt", "Belo Horizonte, Brasil", "BH"),
    _c("Salvador", -12.97, -38.5, "BR", "Brasil", "pt", "Salvador, Brasil", "Salvador - BA"),
    _c("Lisbon", 38.72, -9.14, "PT", "Portugal", "pt", "Lisboa, Portugal", "Lisboa"),
    _c("Riyadh", 24.71, 46.68, "SA", SAUDI, "ar", "Riyadh, Kingdom of Saudi Arabia",
       "الرياض", "الرياض، المملكة العربية السعودية"),
    _c("Jeddah", 21.49, 39.19, "SA", SAUDI, "ar", "Jeddah, Kingdom of Saudi Arabia",
       "جدة", "Jeddah"),
    _c("Cairo", 30.04, 31.24, "EG", "Egypt", "ar", "Cairo, Egypt", "القاهرة", "مصر القاهرة"),
    _c("Dubai", 25.2, 55.27, "AE", "United Arab Emirates", "ar en",
       "Dubai, United Arab Emirates", "دبي", "Dubai"),
    _c("Kuwait City", 29.38, 47.99, "KW", "Kuwait", "ar", "Kuwait City, Kuwait", "الكويت"),
    _c("Baghdad", 33.31, 44.37, "IQ", "Iraq", "ar", "Baghdad, Iraq", "بغداد، العراق"),
    _c("Seoul", 37.57, 126.98, "KR", "Republic of Korea", "ko", "Seoul, Republic of Korea", "서울",
       "서울특별시", "Seoul"),
    _c("Busan", 35.18, 129.08, "KR", "Republic of Korea", "ko", "Busan, Republic of Korea", "부산"),
    _c("Bangkok", 13.76, 100.5, "TH", "Thailand", "th", "Bangkok, Thailand", "กรุงเทพมหานคร",
       "กรุงเทพ", "bkk"),
    _c("Chiang Mai", 18.79, 98.98, "TH", "Thailand", "th", "Chiang Mai, Thailand", "เชียงใหม่"),
    _c("Jakarta", -6.2, 106.85, "ID", "Indonesia", "id", "Jakarta Capital Region, Indonesia",
       "Jakarta, Indonesia", "Jakarta Selatan, DKI Jakarta", "jkt"),
    _c("Surabaya", -7.25, 112.75, "ID", "Indonesia", "id", "Surabaya, Jawa Timur", "Surabaya"),
    _c("Bandung", -6.92, 107.61, "ID", "Indonesia", "id", "Bandung, Indonesia", "Bandung"),
    _c("Paris", 48.86, 2.35, "FR", "France", "fr", "Paris, France", "Paris", "Île-de-France"),
    _c("Lyon", 45.76, 4.84, "FR", "France", "fr", "Lyon, France", "Lyon"),
    _c("Marseille", 43.3, 5.37, "FR", "France", "fr", "Marseille, France", "Marseille"),
    _c("Montréal", 45.5, -73.57, "CA", "Canada", "fr en", "Montréal, Québec", "Montreal", "MTL"),
    _c("Brussels", 50.85, 4.35, "BE", "Belgique", "fr nl", "Bruxelles, Belgique", "Brussels"),
    _c("Istanbul", 41.01, 28.98, "TR", "Türkiye", "tr", "İstanbul, Türkiye", "İstanbul",
       "istanbul"),
    _c("Ankara", 39.93, 32.86, "TR", "Türkiye", "tr", "Ankara, Türkiye", "Ankara"),
    _c("İzmir", 38.42, 27.14, "TR", "Türkiye", "tr", "İzmir, Türkiye", "izmir"),
    _c("Moscow", 55.76, 37.62, "RU", "Россия", "ru", "Москва, Россия", "Москва", "Moscow"),
    _c("Saint Petersburg", 59.93, 30.34, "RU", "Россия", "ru", "Санкт-Петербург, Россия",
       "Санкт-Петербург", "СПб"),
    _c("Kyiv", 50.45, 30.52, "UA", "Україна", "uk", "Київ, Україна", "Київ", "Kyiv"),
    _c("Berlin", 52.52, 13.4, "DE", "Deutschland", "de", "Berlin, Deutschland", "Berlin",
       "📍 Berlin"),
    _c("Munich", 48.14, 11.58, "DE", "Deutschland", "de", "München, Bayern", "München"),
    _c("Hamburg", 53.55, 9.99, "DE", "Deutschland", "de", "Hamburg, Deutschland", "Hamburg"),
    _c("Vienna", 48.21, 16.37, "AT", "Österreich", "de", "Wien, Österreich", "Wien"),
    _c("Zürich", 47.38, 8.54, "CH", "Schweiz", "de", "Zürich, Schweiz", "Zürich"),
    _c("Rome", 41.9, 12.5, "IT", "Italia", "it", "Roma, Lazio", "Roma"),
    _c("Milan", 45.46, 9.19, "IT", "Italia", "it", "Milano, Lombardia", "Milano"),
    _c("Beijing", 39.9, 116.41, "CN", "中国", "zh", "北京市, 中国", "北京", "中国北京"),
    _c("Shanghai", 31.23, 121.47, "CN", "中国", "zh", "上海市, 中国", "上海"),
    _c("Taipei", 25.03, 121.57, "TW", "Taiwan", "zh", "Taipei City, Taiwan", "台北市", "臺北"),
    _c("Hong Kong", 22.32, 114.17, "HK", "Hong Kong", "zh en", "Hong Kong", "香港"),
    _c("Tehran", 35.69, 51.39, "IR", "Iran", "fa", "Tehran, Iran", "تهران", "ایران، تهران"),
    _c("Mashhad", 36.3, 59.61, "IR", "Iran", "fa", "Mashhad, Iran", "مشهد"),
    _c("Warsaw", 52.23, 21.01, "PL", "Polska", "pl", "Warszawa, Polska", "Warszawa"),
    _c("Kraków", 50.06, 19.94, "PL", "Polska", "pl", "Kraków, Polska", "Kraków"),
    _c("Amsterdam", 52.37, 4.9, "NL", "Nederland", "nl", "Amsterdam, Nederland", "Amsterdam",
       "020"),
    _c("Rotterdam", 51.92, 4.48, "NL", "Nederland", "nl", "Rotterdam, Nederland", "Rotterdam"),
    _c("Karachi", 24.86, 67.0, "PK", "Pakistan", "ur", "Karachi, Pakistan", "کراچی"),
    _c("Lahore", 31.55, 74.34, "PK", "Pakistan", "ur", "Lahore, Pakistan", "لاہور"),
    _c("Hanoi", 21.03, 105.85, "VN", "Việt Nam", "vi", "Hà Nội, Việt Nam", "Hanoi"),
    _c("Ho Chi Minh City", 10.82, 106.63, "VN", "Việt Nam", "vi", "Thành phố Hồ Chí Minh",
       "Sài Gòn", "HCMC"),
    _c("Stockholm", 59.33, 18.07, "SE", "Sverige", "sv", "Stockholm, Sverige", "Stockholm"),
    _c("Athens", 37.98, 23.73, "GR", "Ελλάδα", "el", "Αθήνα, Ελλάδα", "Αθήνα", "Athens"),
    _c("Tel Aviv", 32.09, 34.78, "IL", "Israel", "he", "Tel Aviv-Yafo, Israel", "תל אביב"),
    _c("Dhaka", 23.81, 90.41, "BD", "Bangladesh", "bn", "Dhaka, Bangladesh", "ঢাকা, বাংলাদেশ"),
    _c("Chennai", 13.08, 80.27, "IN", "India", "ta en", "Chennai, India", "சென்னை"),
    _c("Prague", 50.08, 14.44, "CZ", "Česko", "cs", "Praha, Česká republika", "Praha"),
    _c("Bucharest", 44.43, 26.1, "RO", "România", "ro", "București, România", "București"),
    _c("Budapest", 47.5, 19.04, "HU", "Magyarország", "hu", "Budapest, Magyarország", "Budapest"),
    _c("Helsinki", 60.17, 24.94, "FI", "Suomi", "fi", "Helsinki, Suomi", "Helsinki"),
    _c("Copenhagen", 55.68, 12.57, "DK", "Danmark", "da", "København, Danmark", "København"),
    _c("Oslo", 59.91, 10.75, "NO", "Norge", "no", "Oslo, Norge", "Oslo"),
)  # fmt: skip
CITIES_BY_LANG: dict[str, tuple[City, ...]] = {
    code: tuple(c for c in CITIES if code in c.langs) or CITIES for code in LANG_BY_CODE
}
# A country alone is a place too ("Brasil", "日本").
COUNTRY_FORMS: dict[str, tuple[str, ...]] = {
    "en": ("USA", "United States", "UK", "England", "Nigeria", "Canada", "Australia", "India",
           "Philippines", "South Africa", "Kenya", "Ghana"),
    "ja": ("日本", "Japan", "にほん"), "es": ("España", "México", "Argentina", "Colombia",
    "Chile", "Venezuela"), "pt": ("Brasil", "Brazil 🇧🇷", "Portugal"),
    "ar": ("السعودية", "مصر", "الكويت", "العراق", "الإمارات"), "ko": ("대한민국", "한국", "Korea"),
    "th": ("ประเทศไทย", "Thailand"), "id": ("Indonesia", "🇮🇩"), "fr": ("France", "Belgique"),
    "tr": ("Türkiye", "Turkey"), "ru": ("Россия", "Russia"), "de": ("Deutschland", "Germany"),
    "tl": ("Pilipinas", "Philippines"), "hi": ("भारत", "India"), "it": ("Italia",),
    "fa": ("ایران",), "zh": ("中国", "台灣"), "pl": ("Polska",), "nl": ("Nederland",),
}  # fmt: skip
NON_PLACES: tuple[str, ...] = (
    "Earth", "Planet Earth 🌍", "everywhere", "somewhere", "he/him", "she/her", "they/them",
    "she/they", "in your heart", "in my head", "ur mom's house", "the internet", "online",
    "Hell", "the void", "Narnia", "Hogwarts", "Wakanda", "the moon 🌙", "☁️", "✨", "🌸", "💜",
    "⭐️🌙", "🏳️\u200d🌈", "Worldwide", "Mars", "your dreams", "behind you", "404", "localhost",
    "ARMY 💜", "18+", "home", "bed", "lost", "currently: crying", "main character energy",
    "地球", "どこか", "布団の中", "宇宙", "二次元", "en tu corazón", "en algún lugar", "Tierra",
    "no mundo da lua", "Dünya", "Земля", "العالم", "في قلبك", "ในใจเธอ", "어딘가", "마음속",
    "Bumi", "di hatimu", "partout", "dans ta tête", "überall", "ovunque", "हर जगह", "дома",
    "🇵🇭🇺🇸", "🌎", "🌍🌏", "Multiverse", "Neverland", "Gotham City",
)  # fmt: skip
_NON_PLACE_SET = frozenset(NON_PLACES)

# --- hashtags, emoji, links -----------------------------------------------------------------

# Tags people in each language used a lot, most popular first; drawn with a Zipf skew
# together with the language's frequent UDHR words and a few that travel across languages.
TAGS: dict[str, tuple[str, ...]] = {
    "en": ("NBA", "NFL", "Music", "News", "Love", "GRAMMYs", "Art", "Crypto", "AI",
           "Photography", "Gaming", "Movies", "TBT", "Fitness", "SuperBowl", "Election2026"),
    "ja": ("拡散希望", "お絵描き", "ポケモン", "原神", "ウマ娘", "プロ野球", "今日の一枚", "猫",
           "イラスト", "相互フォロー"),
    "es": ("LaLiga", "Noticias", "Música", "Fútbol", "Viernes", "Amor", "México", "Argentina"),
    "pt": ("BBB26", "Futebol", "Brasil", "Flamengo", "Música", "Notícias", "Corinthians"),
    "ar": ("السعودية", "الهلال", "النصر", "عاجل", "رمضان", "الكويت", "مصر"),
    "ko": ("방탄소년단", "BTS", "세븐틴", "뉴진스", "트와이스", "스트레이키즈", "케이팝"),
    "th": ("ไบร์ทวิน", "ข่าว", "กรุงเทพ", "ดูหนัง", "ฟุตบอล", "สงกรานต์"),
    "id": ("Indonesia", "Jakarta", "Berita", "Persib", "Timnas", "Ramadan"),
    "fr": ("Paris", "PSG", "Actu", "Musique", "Foot", "Politique"),
    "tr": ("Galatasaray", "Fenerbahçe", "İstanbul", "Gündem", "Beşiktaş"),
    "ru": ("Москва", "новости", "футбол", "музыка"),
    "de": ("Bundesliga", "Berlin", "Tatort", "BVB", "FCBayern"),
    "tl": ("PinoyPride", "ALDubNation", "Manila", "KathNiel", "PBA"),
    "hi": ("भारत", "क्रिकेट", "बॉलीवुड", "IPL", "Cricket"),
    "it": ("SerieA", "Juventus", "Sanremo", "Roma", "Milano"),
    "fa": ("ایران", "تهران", "فوتبال"),
    "zh": ("中国", "台湾", "音乐", "电影", "香港"),
}  # fmt: skip
GLOBAL_TAGS = ("BTS", "NFT", "WorldCup", "Eurovision", "F1", "Bitcoin", "ChatGPT", "Oscars")
EMOJI = (
    "😂", "😭", "❤️", "🥺", "🔥", "✨", "🙏", "😍", "💜", "👀", "🤣", "😊", "🥰", "💀", "🙄",
    "👍🏽", "👏🏻", "💪🏾", "🇧🇷", "🇯🇵", "🇺🇸", "🇵🇭", "🏳️\u200d🌈", "👨\u200d👩\u200d👧",
    "🤷\u200d♀️", "1️⃣", "⚽", "🎶", "🌸", "🍜", "☕", "🌙", "💯", "🤔", "😳",
)  # fmt: skip
LINK_TARGETS = (
    "www.youtube.com/watch?v=", "open.spotify.com/track/", "www.instagram.com/p/",
    "www.tiktok.com/@", "www.nytimes.com/2026/01/", "bit.ly/", "www.twitch.tv/",
    "github.com/", "www.bbc.co.uk/news/", "g1.globo.com/", "news.yahoo.co.jp/articles/",
    "www.elpais.com/", "www.reddit.com/r/",
)  # fmt: skip
SOURCES = (
    ('<a href="http://twitter.com/download/iphone" rel="nofollow">Twitter for iPhone</a>', 42),
    ('<a href="http://twitter.com/download/android" rel="nofollow">Twitter for Android</a>', 40),
    ('<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>', 14),
    ('<a href="https://about.twitter.com/products/tweetdeck" rel="nofollow">TweetDeck</a>', 2),
    ('<a href="https://www.socialbakers.com" rel="nofollow">Socialbakers</a>', 1),
    ('<a href="https://ifttt.com" rel="nofollow">IFTTT</a>', 1),
)
_SOURCE_TEXTS = tuple(s for s, _ in SOURCES)
_SOURCE_CUM = tuple(itertools.accumulate(float(w) for _, w in SOURCES))
_ALNUM = string.ascii_letters + string.digits
_B32 = "abcdefghijklmnopqrstuvwxyz234567"
_TID_CHARS = "234567abcdefghijklmnopqrstuvwxyz"  # atproto's sortable base32
_SYLLABLES = (
    "ka", "mi", "ro", "lu", "sa", "to", "ne", "ri", "jo", "an", "el", "yu", "ki", "ma", "da",
    "li", "no", "ve", "za", "be", "ta", "shi", "ra", "mo", "gi", "ha", "ni", "ko", "pe", "su",
)  # fmt: skip
_BIO_EXTRAS = (
    "she/her", "he/him", "they/them", "🏳️\u200d🌈", "✨", "💜", "☕", "📚", "🎮", "🎶", "🌸",
    "ARMY", "INFP", "20", "18+", "🇧🇷", "🇵🇭", "🇯🇵", "IG: @", "fan account", "NO DM",
)  # fmt: skip


# --- the UDHR sentence pool -----------------------------------------------------------------


def find_shared_data() -> Path:
    """The team's shared/data: $TWEETHEAT_SHARED_DATA, else beside the checkout, else beside
    the main checkout of a git worktree."""
    if os.environ.get("TWEETHEAT_SHARED_DATA"):
        return Path(os.environ["TWEETHEAT_SHARED_DATA"])
    beside = REPO.parent / "shared" / "data"
    if beside.is_dir():
        return beside
    common = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--path-format=absolute", "--git-common-dir"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    if common:
        main_checkout = Path(common).parent
        candidate = main_checkout.parent / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return beside


class Pool(NamedTuple):
    """One language's UDHR text, ready to cut: the text twice over (so a cut never runs off
    the end), where sentences and clauses start, and the words fit to be hashtags."""

    text: str
    sentence_starts: tuple[int, ...]
    clause_starts: tuple[int, ...]
    words: tuple[str, ...]  # letters and marks only, 4..16 characters
    tags: tuple[str, ...]
    tag_cum: tuple[float, ...]


_CLAUSE_END = re.compile(r"(?:[,;:،؛]\s+|[、，。；：]|[.!?]\s+|\u3000)")
_SPACES = re.compile(r"[ \t\u00a0]+")


def _is_word(word: str) -> bool:
    return all(ch.isalpha() or unicodedata.category(ch)[0] == "M" for ch in word)


@functools.lru_cache(maxsize=4)
def load_pools(udhr: Path) -> dict[str, Pool]:
    pools = {}
    for lang in LANGS:
        raw = (udhr / f"{lang.code}.txt").read_text(encoding="utf-8")
        lines = [_SPACES.sub(" ", line).strip() for line in raw.splitlines()]
        lines = [line for line in lines if len(line) >= 25 and not line[:1].isdigit()]
        sep = " " if lang.spaced else ""
        starts, position = [], 0
        for line in lines:
            starts.append(position)
            position += len(line) + len(sep)
        one = sep.join(lines)
        clauses = tuple(m.end() for m in _CLAUSE_END.finditer(one) if m.end() < len(one))
        words: list[str] = []
        if lang.spaced:
            words = [w for w in one.split(" ") if 4 <= len(w) <= 16 and _is_word(w)]
        frequent = [w for w, _ in Counter(w.lower() for w in words if len(w) >= 5).most_common(30)]
        if lang.code not in ("ja", "zh", "ko", "th"):  # their space-runs are phrases, not words
            frequent = [w.capitalize() if w[:1].isalpha() else w for w in frequent[:25]]
        else:
            frequent = []
        tags = tuple(dict.fromkeys([*TAGS.get(lang.code, ()), *GLOBAL_TAGS[:4], *frequent]))
        weights = [1.0 / (rank + 1) ** 1.0 for rank in range(len(tags))]
        cum, total = [], 0.0
        for w in weights:
            total += w
            cum.append(total)
        pools[lang.code] = Pool(
            one + sep + one, tuple(starts), clauses, tuple(words), tags, tuple(cum)
        )
    return pools


# --- what one line means ------------------------------------------------------------------


class Made(NamedTuple):
    """What the generator put in a line, for tests and the bench: kind is "post" (any
    status or post create), "delete", "limit", "profile", "identity", "account", or the
    other Jetstream collections' "like", "repost", "follow", "block", "like_delete"."""

    kind: str
    lang: str | None  # ISO 639-1 of the text, "und" for none
    hashtags: tuple[str, ...]  # lower-cased, each once: what the parser must report
    geo: tuple[float, float] | None  # the post's own (lat, lon) the parser must report
    text: str | None  # the text the parser must report


class Piece(NamedTuple):
    kind: str  # "text", "tag", "mention", "reply", "link", "media"
    value: str  # the text, the tag without '#', the handle, the link's path


def _piece_weight(piece: Piece) -> int:
    """A piece's weighted length once written out: Twitter counts any link as 23."""
    if piece.kind in ("link", "media"):
        return 24  # with the space before it
    extra = {"tag": 1, "mention": 1, "reply": 2}.get(piece.kind, 0)
    return extra + _weighted(piece.value)


class Author(NamedTuple):
    key: tuple[str, int]
    lang: str
    id: int
    handle: str
    did: str
    name: str
    location: str  # "" when empty
    location_kind: str  # "place", "other" or ""
    bio: str
    bio_link: str  # "" or the link's target


class Content(NamedTuple):
    lang: Lang | None  # None: no language
    twitter_label: str
    pieces: tuple[Piece, ...]
    author: Author
    reply_to: Author | None


# --- the generator ------------------------------------------------------------------------


def _cum(weights: Sequence[float]) -> tuple[float, ...]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return tuple(out)


_LANG_CUM = _cum([lang.share for lang in LANGS])


class RealisticStream:
    """Lines for a seed; `v1()` and `jetstream()` draw from the same content generator."""

    def __init__(self, seed: int = 1, udhr: Path | None = None, start: datetime | None = None):
        self.seed = seed
        self.rng = random.Random(seed)
        self.pools = load_pools(udhr or find_shared_data() / "udhr")
        self.start = start or DEFAULT_EPOCH + timedelta(days=seed)
        self.authors: dict[tuple[str, int], Author] = {}
        self.v1_users: dict[tuple[str, int], dict[str, Any]] = {}
        self.pool_sizes: dict[str, int] = {}
        self.recent_posts: list[tuple[str, str]] = []  # (uri, cid) of recent Bluesky posts
        self._seq = 0

    # -- drawing ----------------------------------------------------------------------------

    def _lang(self) -> Lang:
        return LANGS[self._bisect(_LANG_CUM, self.rng.random() * _LANG_CUM[-1])]

    @staticmethod
    def _bisect(cum: Sequence[float], x: float) -> int:
        lo, hi = 0, len(cum) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if cum[mid] < x:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def _author(self, lang: str, skew: float = ZIPF_AUTHORS) -> Author:
        """An author of `lang`, drawn with a Zipf-like skew over a pool sized to the run."""
        size = self.pool_sizes.get(lang, 1000)
        # Inverse CDF of a continuous power law on [1, size + 1]: rank r has weight ~ r^-skew.
        u = self.rng.random()
        a = 1.0 - skew
        if abs(a) < 1e-9:
            x = math.exp(u * math.log(size + 1))
        else:
            x = (1.0 + u * ((size + 1) ** a - 1.0)) ** (1.0 / a)
        index = min(int(x) - 1, size - 1)
        key = (lang, index)
        author = self.authors.get(key)
        if author is None:
            author = self.authors[key] = self._make_author(lang, index)
        return author

    def _make_author(self, lang: str, index: int) -> Author:
        # The same author in any run order: seeded by who it is, not by when it first posts.
        rng = random.Random((self.seed << 48) ^ (_LANG_INDEX[lang] << 40) ^ index)
        handle = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
        style = rng.random()
        if style < 0.3:
            handle += str(rng.randint(1, 9999))
        elif style < 0.45:
            handle += "_" + rng.choice(("official", "fan", "art", "tv", "xo", "jr", "ph", "br"))
        handle = (handle[:1].upper() + handle[1:] if rng.random() < 0.3 else handle)[:15]
        user_id = rng.randint(10**7, 17 * 10**17)
        name = handle.replace("_", " ").title() if rng.random() < 0.5 else handle.capitalize()
        if rng.random() < 0.15:
            name += " " + rng.choice(EMOJI)
        location, kind = self._profile_location(rng, lang)
        bio = "" if rng.random() < EMPTY_BIO_SHARE else self._bio(rng, lang)
        link = ""
        if rng.random() < LINK_BIO_SHARE:
            link = rng.choice(LINK_TARGETS) + _token(rng, 8)
        did = "did:plc:" + _b32(rng, 24)
        return Author((lang, index), lang, user_id, handle, did, name, location, kind, bio, link)

    def _v1(self, author: Author) -> dict[str, Any]:
        """The author's v1.1 user object, made on first use (mentioned authors and Jetstream
        never need one) from a generator of its own, so it is the same in any run order."""
        user = self.v1_users.get(author.key)
        if user is None:
            lang, index = author.key
            rng = random.Random((self.seed << 48) ^ (_LANG_INDEX[lang] << 40) ^ index ^ (1 << 39))
            user = self.v1_users[author.key] = self._v1_user(rng, author)
        return user

    def _profile_location(self, rng: random.Random, lang: str) -> tuple[str, str]:
        if rng.random() >= LOCATION_SHARE:
            return "", ""
        if rng.random() < NON_PLACE_SHARE:
            return rng.choice(NON_PLACES), "other"
        countries = COUNTRY_FORMS.get(lang)
        if countries and rng.random() < 0.15:
            return rng.choice(countries), "place"
        cities = CITIES_BY_LANG[lang] if rng.random() < 0.93 else CITIES  # some live abroad
        city = rng.choice(cities)
        roll = rng.random()
        if roll < 0.45:
            text = city.forms[0] if len(city.forms) == 1 else city.forms[1]
        elif roll < 0.85:
            text = rng.choice(city.forms)
        elif roll < 0.93:
            text = rng.choice(city.forms).lower()
        else:
            text = (
                rng.choice(("📍 ", ""))
                + rng.choice(city.forms)
                + rng.choice(
                    (
                        " ✈️ " + rng.choice(CITIES).forms[-1],
                        " 🌴",
                        " | " + rng.choice(_BIO_EXTRAS),
                        "",
                    )
                )
            )
        return text, "place"

    def _bio(self, rng: random.Random, lang: str) -> str:
        text = self._cut(rng, lang, rng.randint(25, 140))
        roll = rng.random()
        if roll < 0.3:
            text = f"{text} | {rng.choice(_BIO_EXTRAS)}"
        elif roll < 0.45:
            text = f"{rng.choice(_BIO_EXTRAS)} {text}"
        elif roll < 0.5:
            text = f"{text} 📍{rng.choice(CITIES_BY_LANG[lang]).forms[-1]}"
        return text

    def _cut(self, rng: random.Random, lang: str, budget: int) -> str:
        """A piece of real text of about `budget` characters, cut where people would cut."""
        pool = self.pools[lang]
        if rng.random() < 0.6 or not pool.clause_starts:
            start = rng.choice(pool.sentence_starts)
        else:
            start = rng.choice(pool.clause_starts)
        budget = max(budget, 4)
        window = pool.text[start : start + budget]
        if LANG_BY_CODE[lang].spaced:
            cut = window.rfind(" ")
            if (
                cut >= budget // 2
                and start + budget < len(pool.text)
                and pool.text[start + budget] not in " \u3000"
            ):
                window = window[:cut]
        else:
            cut = max(window.rfind("、"), window.rfind("，"), window.rfind("。"))
            if cut >= budget // 2:
                window = window[: cut + (window[cut] == "。")]
        window = window.strip().rstrip(",;:、，،؛(\"'«“")
        if window and window[0] in ")\"'»”":
            window = window[1:].lstrip()
        if len(window) > 3 and rng.random() < 0.12 and window.isascii():
            window = window.lower()
        return window or pool.text[start : start + 8].strip() or "…"

    # -- content ----------------------------------------------------------------------------

    def _length_budget(self) -> int:
        """Twitter-weighted length: a long tail with a pile at the 280 limit."""
        rng = self.rng
        if rng.random() < 0.035:
            return rng.randint(255, 280)
        return max(6, min(280, int(rng.lognormvariate(4.63, 0.72))))

    def _tag(self, pool: Pool) -> str:
        return pool.tags[self._bisect(pool.tag_cum, self.rng.random() * pool.tag_cum[-1])]

    def content(self) -> Content:
        rng = self.rng
        if rng.random() < UND_SHARE:
            return self._und_content()
        lang = self._lang()
        pool = self.pools[lang.code]
        author = self._author(lang.code)
        budget = self._length_budget()
        head: list[Piece] = []
        tail: list[Piece] = []
        reply_to = None
        if rng.random() < REPLY_SHARE:
            reply_to = self._author(lang.code)
            head.append(Piece("reply", reply_to.handle))
            r = rng.random()
            for _ in range(0 if r < 0.8 else 1 if r < 0.95 else 2):
                head.append(Piece("reply", self._author(lang.code).handle))
        roll = rng.random()
        n_tags = 0 if roll < 0.85 else 1 if roll < 0.93 else 2 if roll < 0.97 else rng.randint(3, 6)
        tags = list(dict.fromkeys(self._tag(pool) for _ in range(n_tags)))
        inline_tag = bool(tags) and lang.spaced and rng.random() < 0.2
        start_tag = bool(tags) and not inline_tag and rng.random() < 0.2
        if start_tag:
            head += [Piece("tag", tags.pop(0)), Piece("text", " ")]
        if rng.random() < 0.04:
            tail += [Piece("text", " "), Piece("mention", self._author(lang.code).handle)]
        if rng.random() < 0.25:
            r = rng.random()
            emoji = "".join(rng.choice(EMOJI) for _ in range(1 if r < 0.6 else 2 if r < 0.9 else 3))
            tail.append(Piece("text", " " + emoji))
        for tag in tags if not inline_tag else ():
            tail += [Piece("text", " "), Piece("tag", tag)]
        if rng.random() < 0.12:
            tail.append(Piece("link", rng.choice(LINK_TARGETS) + _token(rng, 8)))
        if rng.random() < 0.18:
            tail.append(Piece("media", _token(rng, 10)))
        # Twitter counts a link as 23 characters whatever its length.
        used = sum(_piece_weight(p) for p in (*head, *tail))
        used += sum(_weighted(tag) + 2 for tag in tags if inline_tag)
        body_budget = max(6, budget - used)
        body = self._cut(rng, lang.code, body_budget // 2 if lang.wide else body_budget)
        middle = [Piece("text", body)]
        if inline_tag:
            middle = self._inline_tag(body, tags) or middle
            if middle[0].kind == "text" and len(middle) == 1:  # no word fit: tags go last
                for tag in tags:
                    tail[:0] = [Piece("text", " "), Piece("tag", tag)]
        return Content(lang, lang.twitter, (*head, *middle, *tail), author, reply_to)

    def _inline_tag(self, body: str, tags: list[str]) -> list[Piece] | None:
        """Turn one word of the body into a hashtag ("love #Paris in spring"); the other tags
        go at the end."""
        words = body.split(" ")
        fit = [i for i, w in enumerate(words) if 4 <= len(w) <= 16 and _is_word(w)]
        if not fit:
            return None
        i = self.rng.choice(fit)
        out = []
        if i:
            out.append(Piece("text", " ".join(words[:i]) + " "))
        out.append(Piece("tag", words[i]))
        if i + 1 < len(words):
            out.append(Piece("text", " " + " ".join(words[i + 1 :])))
        for tag in tags:
            if tag.lower() != words[i].lower():
                out += [Piece("text", " "), Piece("tag", tag)]
        return out

    def _und_content(self) -> Content:
        """A post with no language: emoji, a reply of emoji, a bare link or photo, tags only."""
        rng = self.rng
        lang = self._lang()
        author = self._author(lang.code)
        emoji = "".join(rng.choice(EMOJI) for _ in range(rng.randint(1, 4)))
        roll = rng.random()
        reply_to = None
        label = "und"
        if roll < 0.4:
            pieces: list[Piece] = [Piece("text", emoji)]
        elif roll < 0.7:
            reply_to = self._author(lang.code)
            pieces = [Piece("reply", reply_to.handle), Piece("text", emoji)]
        elif roll < 0.9:
            label = "qme"
            pieces = [Piece("media", _token(rng, 10))]
        else:
            label = "qht"
            pool = self.pools[lang.code]
            tags = list(dict.fromkeys(self._tag(pool) for _ in range(rng.randint(1, 3))))
            pieces = []
            for tag in tags:
                pieces += [Piece("tag", tag), Piece("text", " ")]
            pieces[-1] = Piece("text", " " + emoji)
        return Content(None, label, tuple(pieces), author, reply_to)

    # -- Twitter v1.1 -------------------------------------------------------------------------

    def v1(self, count: int) -> Iterator[tuple[bytes, Made]]:
        """`count` v1.1 sample-stream lines with what each means."""
        self._size_pools(count)
        rng = self.rng
        for i in range(count):
            when_ms = int(self.start.timestamp() * 1000) + int(i * 1000 / STREAM_RATE)
            roll = rng.random()
            if roll < DELETE_SHARE:
                gone = _snowflake(when_ms - rng.randint(1_000, 3_600_000), rng)
                payload: dict[str, Any] = {"delete": {
                    "status": {"id": gone, "id_str": str(gone), "user_id": rng.randint(10**7,
                               17 * 10**17), "user_id_str": ""},
                    "timestamp_ms": str(when_ms)}}  # fmt: skip
                payload["delete"]["status"]["user_id_str"] = str(
                    payload["delete"]["status"]["user_id"]
                )
                yield orjson.dumps(payload), Made("delete", None, (), None, None)
            elif roll < DELETE_SHARE + LIMIT_SHARE:
                payload = {"limit": {"track": 40 + i // 9, "timestamp_ms": str(when_ms)}}
                yield orjson.dumps(payload), Made("limit", None, (), None, None)
            else:
                yield self._v1_status(when_ms)

    def _size_pools(self, count: int) -> None:
        # Most authors of a short sample appear once, a few many times.
        for lang in LANGS:
            self.pool_sizes[lang.code] = max(30, int(count * lang.share / 100 * 0.9))

    def _v1_status(self, when_ms: int) -> tuple[bytes, Made]:
        rng = self.rng
        content = self.content()
        tweet_id = _snowflake(when_ms, rng)
        lang_code = content.lang.code if content.lang else "und"
        if rng.random() < RETWEET_SHARE:
            # The retweeter is an ordinary author; the original, some hours older, is by a
            # more popular one.
            author = self._author(lang_code if content.lang else "en")
            inner_ms = when_ms - rng.randint(60_000, 36 * 3_600_000)
            inner, text, tags = self._v1_body(content, _snowflake(inner_ms, rng), inner_ms)
            retweeted = self._author(lang_code if content.lang else "en", ZIPF_RETWEETED)
            inner["user"] = self._v1(retweeted)
            body = self._v1_retweet(inner, retweeted, tweet_id, when_ms, content)
            body["user"] = self._v1(author)
            made = Made("post", lang_code, _lower_tags(tags), None, text)
            return orjson.dumps(body), made
        body, text, tags = self._v1_body(content, tweet_id, when_ms)
        body["user"] = self._v1(content.author)
        geo = None
        roll = rng.random() * (1 - RETWEET_SHARE)  # shares are of all statuses
        if roll < POINT_SHARE + PLACE_ONLY_SHARE:
            geo = self._v1_locate(body, content, point=roll < POINT_SHARE)
        if rng.random() < QUOTE_SHARE:
            quoted = self.content()
            quoted_ms = when_ms - rng.randint(60_000, 7 * 86_400_000)
            quoted_id = _snowflake(quoted_ms, rng)
            inner, _, _ = self._v1_body(quoted, quoted_id, quoted_ms)
            inner["user"] = self._v1(quoted.author)
            permalink = f"https://twitter.com/{quoted.author.handle}/status/{quoted_id}"
            short = "https://t.co/" + _token(rng, 10)
            body["is_quote_status"] = True
            body["quoted_status_id"] = quoted_id
            body["quoted_status_id_str"] = str(quoted_id)
            body["quoted_status"] = inner
            body["quoted_status_permalink"] = {
                "url": short, "expanded": permalink, "display": permalink[8:40] + "…",
            }  # fmt: skip
        return orjson.dumps(body), Made("post", lang_code, _lower_tags(tags), geo, text)

    def _v1_render(self, content: Content) -> tuple[str, dict[str, list[Any]], int]:
        """(text, entities, display start): indices are code points, as v1.1 counts them."""
        rng = self.rng
        parts: list[str] = []
        pos = 0
        hashtags: list[Any] = []
        mentions: list[Any] = []
        urls: list[Any] = []
        media: list[Any] = []
        display_start = 0
        for kind, value in content.pieces:
            if kind == "text":
                parts.append(value)
                pos += len(value)
                continue
            if kind == "tag":
                s = "#" + value
                hashtags.append({"text": value, "indices": [pos, pos + len(s)]})
            elif kind in ("mention", "reply"):
                s = "@" + value
                mentions.append(
                    {
                        "screen_name": value,
                        "name": value,
                        "id": _handle_id(value),
                        "id_str": str(_handle_id(value)),
                        "indices": [pos, pos + len(s)],
                    }
                )
                if kind == "reply":
                    s += " "
                    display_start = pos + len(s)
            elif kind == "link":
                s = (" " if parts else "") + "https://t.co/" + _token(rng, 10)
                first = pos + (1 if parts else 0)
                urls.append({"url": s.strip(), "expanded_url": "https://" + value,
                             "display_url": (value[:26] + "…") if len(value) > 27 else value,
                             "indices": [first, pos + len(s)]})  # fmt: skip
            else:  # media
                s = (" " if parts else "") + "https://t.co/" + value
                first = pos + (1 if parts else 0)
                media_id = rng.randint(10**18, 2 * 10**18)
                media.append({
                    "id": media_id, "id_str": str(media_id), "indices": [first, pos + len(s)],
                    "media_url": f"http://pbs.twimg.com/media/{_token(rng, 15)}.jpg",
                    "media_url_https": f"https://pbs.twimg.com/media/{_token(rng, 15)}.jpg",
                    "url": s.strip(), "display_url": "pic.twitter.com/" + value,
                    "expanded_url": "https://twitter.com/i/status/1/photo/1", "type": "photo",
                    "sizes": {"thumb": {"w": 150, "h": 150, "resize": "crop"},
                              "large": {"w": 1536, "h": 2048, "resize": "fit"}},
                })  # fmt: skip
            parts.append(s)
            pos += len(s)
        entities: dict[str, list[Any]] = {
            "hashtags": hashtags, "urls": urls, "user_mentions": mentions, "symbols": [],
        }  # fmt: skip
        if media:
            entities["media"] = media
        return "".join(parts), entities, display_start

    def _v1_body(
        self, content: Content, tweet_id: int, when_ms: int
    ) -> tuple[dict[str, Any], str, list[str]]:
        """A status without its user, the full text, and its hashtags."""
        rng = self.rng
        text, entities, display_start = self._v1_render(content)
        tags = [h["text"] for h in entities["hashtags"]]
        reply = content.reply_to
        body: dict[str, Any] = {
            "created_at": _twitter_time(when_ms),
            "id": tweet_id,
            "id_str": str(tweet_id),
            "text": text,
            "display_text_range": [display_start, len(text)],
            "source": _SOURCE_TEXTS[self._bisect(_SOURCE_CUM, rng.random() * _SOURCE_CUM[-1])],
            "truncated": False,
            "in_reply_to_status_id": None,
            "in_reply_to_status_id_str": None,
            "in_reply_to_user_id": reply.id if reply else None,
            "in_reply_to_user_id_str": str(reply.id) if reply else None,
            "in_reply_to_screen_name": reply.handle if reply else None,
            "geo": None,
            "coordinates": None,
            "place": None,
            "contributors": None,
            "is_quote_status": False,
            "quote_count": 0,
            "reply_count": 0,
            "retweet_count": 0,
            "favorite_count": 0,
            "entities": entities,
            "favorited": False,
            "retweeted": False,
            "filter_level": "low",
            "lang": content.twitter_label,
            "timestamp_ms": str(when_ms),
        }
        if reply:
            parent = _snowflake(when_ms - rng.randint(5_000, 86_400_000), rng)
            body["in_reply_to_status_id"] = parent
            body["in_reply_to_status_id_str"] = str(parent)
        if entities["urls"] or "media" in entities:
            body["possibly_sensitive"] = False
        if "media" in entities:
            body["extended_entities"] = {"media": entities["media"]}
        if _weighted(text) > SHORT_LIMIT:
            self._v1_truncate(body, text, entities, display_start, tweet_id)
        return body, text, tags

    def _v1_truncate(
        self, body: dict[str, Any], text: str, entities: dict[str, list[Any]],
        display_start: int, tweet_id: int,
    ) -> None:  # fmt: skip
        """Long texts travel whole in `extended_tweet`; `text` keeps the first ~116 weighted
        characters, an ellipsis and a link to the status, as v1.1 sent them."""
        link = "https://t.co/" + _token(self.rng, 10)
        cut = _weighted_prefix(text, SHORT_LIMIT - len(link) - 2)
        short = text[:cut] + "… " + link
        kept = {
            key: [e for e in items if e["indices"][1] <= cut] for key, items in entities.items()
        }
        kept["urls"] = [
            *kept.get("urls", []),
            {
                "url": link,
                "expanded_url": f"https://twitter.com/i/web/status/{tweet_id}",
                "display_url": "twitter.com/i/web/status/1…",
                "indices": [cut + 2, len(short)],
            },
        ]
        body["text"] = short
        body["truncated"] = True
        body["display_text_range"] = [min(display_start, cut + 1), cut + 1]
        body["entities"] = kept
        extended: dict[str, Any] = {
            "full_text": text,
            "display_text_range": [display_start, len(text)],
            "entities": entities,
        }
        if "media" in entities:
            extended["extended_entities"] = {"media": entities["media"]}
            body.pop("extended_entities", None)
        body["extended_tweet"] = extended

    def _v1_retweet(
        self, inner: dict[str, Any], original: Author, tweet_id: int, when_ms: int,
        content: Content,
    ) -> dict[str, Any]:  # fmt: skip
        """The retweeter's status: "RT @user: " and the original's text, cut at 140."""
        full = inner.get("extended_tweet", {}).get("full_text") or inner["text"]
        prefix = f"RT @{original.handle}: "
        text = prefix + full
        cut = len(text)
        if _weighted(text) > SHORT_LIMIT:
            cut = _weighted_prefix(text, SHORT_LIMIT - 1)
            text = text[:cut] + "…"
        source = inner.get("extended_tweet", {}).get("entities") or inner["entities"]
        shift = len(prefix)
        hashtags = [
            {"text": h["text"], "indices": [h["indices"][0] + shift, h["indices"][1] + shift]}
            for h in source["hashtags"]
            if h["indices"][1] + shift <= cut
        ]
        mentions = [
            {
                "screen_name": original.handle,
                "name": original.name,
                "id": original.id,
                "id_str": str(original.id),
                "indices": [3, 4 + len(original.handle)],
            }
        ]
        body: dict[str, Any] = {
            "created_at": _twitter_time(when_ms),
            "id": tweet_id,
            "id_str": str(tweet_id),
            "text": text,
            "source": _SOURCE_TEXTS[self._bisect(_SOURCE_CUM, self.rng.random() * _SOURCE_CUM[-1])],
            "truncated": False,
            "in_reply_to_status_id": None,
            "in_reply_to_status_id_str": None,
            "in_reply_to_user_id": None,
            "in_reply_to_user_id_str": None,
            "in_reply_to_screen_name": None,
            "geo": None,
            "coordinates": None,
            "place": None,
            "contributors": None,
            "retweeted_status": inner,
            "is_quote_status": False,
            "quote_count": 0,
            "reply_count": 0,
            "retweet_count": 0,
            "favorite_count": 0,
            "entities": {
                "hashtags": hashtags,
                "urls": [],
                "user_mentions": mentions,
                "symbols": [],
            },
            "favorited": False,
            "retweeted": False,
            "filter_level": "low",
            "lang": content.twitter_label,
            "timestamp_ms": str(when_ms),
        }
        inner["retweet_count"] = int(self.rng.paretovariate(1.1) * 3)
        return body

    def _v1_locate(
        self, body: dict[str, Any], content: Content, point: bool
    ) -> tuple[float, float] | None:
        """A place on the post, and a point when `point`: the point the parser must report
        (a place alone is reported as its box, not as a point)."""
        rng = self.rng
        lang = content.lang.code if content.lang else "en"
        city = rng.choice(CITIES_BY_LANG[lang] if rng.random() < 0.9 else CITIES)
        body["place"] = _place(city)
        if point:
            lat = round(city.lat + rng.gauss(0.0, 0.05), 6)
            lon = round(city.lon + rng.gauss(0.0, 0.06), 6)
            body["coordinates"] = {"type": "Point", "coordinates": [lon, lat]}
            body["geo"] = {"type": "Point", "coordinates": [lat, lon]}
            return lat, lon
        return None

    @staticmethod
    def _v1_user(rng: random.Random, author: Author) -> dict[str, Any]:
        user_id, handle, name = author.id, author.handle, author.name
        location, bio, link = author.location, author.bio, author.bio_link
        followers = int(rng.paretovariate(0.9) * 20)
        image_id = rng.randint(10**17, 10**18)
        image = f"http://pbs.twimg.com/profile_images/{image_id}/{_token(rng, 8)}_normal.jpg"
        url = "https://t.co/" + _token(rng, 10) if link else None
        description = bio or None
        desc_urls: list[Any] = []
        if link and bio and rng.random() < 0.5:
            short = "https://t.co/" + _token(rng, 10)
            desc_urls = [
                {
                    "url": short,
                    "expanded_url": "https://" + link,
                    "display_url": link[:26],
                    "indices": [len(bio) + 1, len(bio) + 24],
                }
            ]
            description = f"{bio} {short}"
        created = datetime(2007, 3, 1, tzinfo=UTC) + timedelta(
            seconds=rng.randint(0, 18 * 365 * 86_400)
        )
        default = rng.random() < 0.4
        user: dict[str, Any] = {
            "id": user_id,
            "id_str": str(user_id),
            "name": name,
            "screen_name": handle,
            "location": location or None,
            "url": url,
            "description": description,
            "translator_type": "none",
            "protected": False,
            "verified": rng.random() < 0.004,
            "followers_count": followers,
            "friends_count": int(rng.paretovariate(1.2) * 60),
            "listed_count": followers // 150,
            "favourites_count": int(rng.paretovariate(0.8) * 200),
            "statuses_count": int(rng.paretovariate(0.8) * 500),
            "created_at": created.strftime("%a %b %d %H:%M:%S +0000 %Y"),
            "utc_offset": None,
            "time_zone": None,
            "geo_enabled": rng.random() < 0.3,
            "lang": None,
            "contributors_enabled": False,
            "is_translator": False,
            "profile_background_color": "F5F8FA" if default else "000000",
            "profile_background_image_url": "" if default else
            "http://abs.twimg.com/images/themes/theme1/bg.png",
            "profile_background_image_url_https": "" if default else
            "https://abs.twimg.com/images/themes/theme1/bg.png",
            "profile_background_tile": False,
            "profile_link_color": "1DA1F2" if default else f"{rng.getrandbits(24):06X}",
            "profile_sidebar_border_color": "C0DEED",
            "profile_sidebar_fill_color": "DDEEF6",
            "profile_text_color": "333333",
            "profile_use_background_image": True,
            "profile_image_url": image,
            "profile_image_url_https": "https" + image[4:],
            "default_profile": default,
            "default_profile_image": rng.random() < 0.05,
            "following": None,
            "follow_request_sent": None,
            "notifications": None,
        }  # fmt: skip
        if rng.random() < 0.6:
            banner = rng.randint(1_300_000_000, 1_770_000_000)
            user["profile_banner_url"] = f"https://pbs.twimg.com/profile_banners/{user_id}/{banner}"
        if desc_urls:
            user["entities"] = {"description": {"urls": desc_urls}}
        return user

    # -- Bluesky Jetstream ----------------------------------------------------------------------

    def jetstream(self, count: int, collections: str = "posts") -> Iterator[tuple[bytes, Made]]:
        """`count` Jetstream events with what each means; `collections` is "posts" (the
        product's wantedCollections: posts and profiles) or "all"."""
        self._size_pools(count)
        mix = JETSTREAM_MIX[collections]
        kinds = tuple(k for k, _ in mix)
        cum = _cum([w for _, w in mix])
        start_us = int(self.start.timestamp() * 1_000_000)
        rate = STREAM_RATE if collections == "posts" else STREAM_RATE * 6
        for i in range(count):
            time_us = start_us + int(i * 1_000_000 / rate) + self.rng.randint(0, 999)
            kind = kinds[self._bisect(cum, self.rng.random() * cum[-1])]
            yield self._bsky_event(kind, time_us)

    def _bsky_event(self, kind: str, time_us: int) -> tuple[bytes, Made]:
        rng = self.rng
        if kind == "post":
            return self._bsky_post(time_us)
        author = self._author(self._lang().code)
        head = {"did": author.did, "time_us": time_us}
        self._seq += 1
        seq = 8_000_000_000 + self._seq * 7
        when = _iso_us(time_us - rng.randint(200, 900_000))
        if kind == "identity":
            handle = f"{author.handle.lower()}.bsky.social"
            event = {
                **head,
                "kind": "identity",
                "identity": {"did": author.did, "handle": handle, "seq": seq, "time": when},
            }
            return orjson.dumps(event), Made("identity", None, (), None, None)
        if kind == "account":
            active = rng.random() < 0.8
            account: dict[str, Any] = {
                "active": active,
                "did": author.did,
                "seq": seq,
                "time": when,
            }
            if not active:
                account["status"] = rng.choice(("deactivated", "takendown", "deleted"))
            event = {**head, "kind": "account", "account": account}
            return orjson.dumps(event), Made("account", None, (), None, None)
        rev = _tid(time_us, rng)
        if kind == "profile":
            record: dict[str, Any] = {"$type": "app.bsky.actor.profile"}
            record["avatar"] = _blob(rng, "image/jpeg")
            if rng.random() < 0.6:
                record["banner"] = _blob(rng, "image/jpeg")
            record["createdAt"] = when
            bio = author.bio + (f" {author.bio_link}" if author.bio_link else "")
            if author.location_kind == "place" and rng.random() < 0.3:
                bio = f"{bio}\n📍 {author.location}".strip()
            record["description"] = bio
            record["displayName"] = author.name
            commit = {"rev": rev, "operation": "update" if rng.random() < 0.85 else "create",
                      "collection": "app.bsky.actor.profile", "rkey": "self",
                      "record": record, "cid": _cid(rng)}  # fmt: skip
            event = {**head, "kind": "commit", "commit": commit}
            return orjson.dumps(event), Made("profile", author.lang, (), None, bio)
        if kind in ("post_delete", "like_delete"):
            collection = "app.bsky.feed.post" if kind == "post_delete" else "app.bsky.feed.like"
            old = time_us - rng.randint(10_000_000, 30 * 86_400_000_000)
            commit = {"rev": rev, "operation": "delete", "collection": collection,
                      "rkey": _tid(old, rng)}  # fmt: skip
            event = {**head, "kind": "commit", "commit": commit}
            return orjson.dumps(event), Made(kind, None, (), None, None)
        # like, repost, follow, block
        collection = {
            "like": "app.bsky.feed.like", "repost": "app.bsky.feed.repost",
            "follow": "app.bsky.graph.follow", "block": "app.bsky.graph.block",
        }[kind]  # fmt: skip
        record = {"$type": collection, "createdAt": when}
        if kind in ("like", "repost"):
            record["subject"] = self._bsky_subject(rng)
        else:
            record["subject"] = self._author(self._lang().code).did
        commit = {"rev": rev, "operation": "create", "collection": collection,
                  "rkey": _tid(time_us, rng), "record": record, "cid": _cid(rng)}  # fmt: skip
        event = {**head, "kind": "commit", "commit": commit}
        return orjson.dumps(event), Made(kind, None, (), None, None)

    def _bsky_subject(self, rng: random.Random) -> dict[str, str]:
        if self.recent_posts and rng.random() < 0.8:
            uri, cid = rng.choice(self.recent_posts)
            return {"cid": cid, "uri": uri}
        did = self._author(self._lang().code, ZIPF_RETWEETED).did
        old = _tid(int(self.start.timestamp() * 1e6) - rng.randint(1, 10**11), rng)
        return {"cid": _cid(rng), "uri": f"at://{did}/app.bsky.feed.post/{old}"}

    def _bsky_post(self, time_us: int) -> tuple[bytes, Made]:
        rng = self.rng
        content = self.content()
        author = content.author
        text, facets, tags, links, media = self._bsky_render(content)
        created = time_us - rng.randint(100_000, 2_000_000)
        record: dict[str, Any] = {"$type": "app.bsky.feed.post", "createdAt": _iso_ms(created)}
        embed = self._bsky_embed(rng, links, media)
        if embed is not None:
            record["embed"] = embed
        if facets:
            record["facets"] = facets
        lang = content.lang.code if content.lang else author.lang
        roll = rng.random()
        if roll < 0.9:
            record["langs"] = [lang]
        elif roll < 0.94:
            record["langs"] = [lang, "en" if lang != "en" else "ja"]
        if content.reply_to is not None:
            root = self._bsky_subject(rng)
            parent = self._bsky_subject(rng) if rng.random() < 0.5 else root
            record["reply"] = {"parent": parent, "root": root}
        record["text"] = text
        rkey = _tid(created, rng)
        cid = _cid(rng)
        uri = f"at://{author.did}/app.bsky.feed.post/{rkey}"
        self.recent_posts.append((uri, cid))
        if len(self.recent_posts) > 500:
            del self.recent_posts[:250]
        commit = {
            "rev": _tid(time_us, rng),
            "operation": "create",
            "collection": "app.bsky.feed.post",
            "rkey": rkey,
            "record": record,
            "cid": cid,
        }
        event = {"did": author.did, "time_us": time_us, "kind": "commit", "commit": commit}
        made_lang = content.lang.code if content.lang else "und"
        return orjson.dumps(event), Made("post", made_lang, _lower_tags(tags), None, text)

    def _bsky_render(
        self, content: Content
    ) -> tuple[str, list[Any], list[str], list[str], list[str]]:
        """(text, facets, tags, links, media): facet ranges are UTF-8 byte offsets. Replies
        carry no leading @handles on Bluesky (the reply ref says whom), and photos are embeds,
        not links in the text."""
        parts: list[str] = []
        pos = 0  # bytes
        facets: list[Any] = []
        tags: list[str] = []
        links: list[str] = []
        media: list[str] = []
        for kind, value in content.pieces:
            if kind == "reply":
                continue
            if kind == "media":
                media.append(value)
                continue
            if kind == "text":
                s = value if parts else value.lstrip()
                parts.append(s)
                pos += len(s.encode())
                continue
            feature: dict[str, str]
            lead = ""
            if kind == "tag":
                s = "#" + value
                feature = {"$type": "app.bsky.richtext.facet#tag", "tag": value}
                tags.append(value)
            elif kind == "mention":
                s = f"@{value.lower()}.bsky.social"
                did = _mention_did(value)
                feature = {"$type": "app.bsky.richtext.facet#mention", "did": did}
            else:  # link: shown shortened, as the apps do
                lead = " " if parts else ""
                s = value if len(value) <= 30 else value[:27] + "..."
                feature = {"$type": "app.bsky.richtext.facet#link", "uri": "https://" + value}
                links.append(value)
            pos += len(lead.encode())
            size = len(s.encode())
            facets.append({"features": [feature],
                           "index": {"byteEnd": pos + size, "byteStart": pos}})  # fmt: skip
            parts.append(lead + s)
            pos += size
        text = "".join(parts)
        stripped = text.rstrip()
        return stripped, facets, tags, links, media

    def _bsky_embed(
        self, rng: random.Random, links: list[str], media: list[str]
    ) -> dict[str, Any] | None:
        if media:
            images = [{"alt": "", "aspectRatio": {"height": 2048, "width": 1536},
                       "image": _blob(rng, "image/jpeg")}
                      for _ in range(rng.choices((1, 2, 4), (80, 15, 5))[0])]  # fmt: skip
            return {"$type": "app.bsky.embed.images", "images": images}
        if links and rng.random() < 0.7:
            return {"$type": "app.bsky.embed.external", "external": {
                "description": "", "title": links[0].split("/")[0],
                "uri": "https://" + links[0], "thumb": _blob(rng, "image/jpeg")}}  # fmt: skip
        if rng.random() < QUOTE_SHARE:
            return {"$type": "app.bsky.embed.record", "record": self._bsky_subject(rng)}
        return None


# --- small helpers ---------------------------------------------------------------------------


_NO_SYMBOLS = bytes.maketrans(b"+/", b"Xq")  # base64 letters and digits only, as t.co writes


def _token(rng: random.Random, n: int) -> str:
    """n random letters and digits (base64 of random bits in C; it is hot)."""
    raw = rng.getrandbits(6 * n + 6).to_bytes((6 * n + 13) // 8, "big")
    return base64.b64encode(raw).translate(_NO_SYMBOLS)[:n].decode("ascii")


@functools.lru_cache(maxsize=65536)
def _mention_did(handle: str) -> str:
    return "did:plc:" + _b32(random.Random(_handle_id(handle)), 24)


def _handle_id(handle: str) -> int:
    value = 7
    for byte in handle.encode():
        value = (value * 131 + byte) % (10**18)
    return value


def _snowflake(when_ms: int, rng: random.Random) -> int:
    return ((when_ms - TWITTER_EPOCH_MS) << 22) | (rng.getrandbits(10) << 12) | rng.getrandbits(12)


def _tid(time_us: int, rng: random.Random) -> str:
    """An atproto TID: 53 bits of microseconds and 10 of clock id, sortable base32."""
    value = (time_us << 10) | rng.getrandbits(10)
    out = []
    for _ in range(13):
        out.append(_TID_CHARS[value & 31])
        value >>= 5
    return "".join(reversed(out))


def _b32(rng: random.Random, n: int) -> str:
    """n random characters of lower-case base32 (as CIDs and DIDs are written)."""
    value = rng.getrandbits(5 * n)
    return "".join([_B32[(value >> shift) & 31] for shift in range(0, 5 * n, 5)])


def _cid(rng: random.Random) -> str:
    return "bafyrei" + _b32(rng, 52)


def _blob(rng: random.Random, mime: str) -> dict[str, Any]:
    return {"$type": "blob", "ref": {"$link": "bafkrei" + _b32(rng, 52)},
            "mimeType": mime, "size": rng.randint(20_000, 990_000)}  # fmt: skip


# Characters Twitter counts double: everything outside these ranges (CJK, Hangul, emoji).
_HEAVY = re.compile("[^\u0000-\u10ff\u2000-\u200d\u2010-\u201f\u2032-\u2037]")


def _weighted(text: str) -> int:
    """Twitter's weighted length: most scripts 1, CJK, Hangul and emoji 2."""
    if text.isascii():
        return len(text)
    return len(text) + len(_HEAVY.findall(text))


def _weighted_prefix(text: str, limit: int) -> int:
    """How many characters of `text` fit in `limit` weighted characters."""
    if text.isascii():
        return min(len(text), limit)
    heavy = [m.start() for m in _HEAVY.finditer(text)]
    lo, hi = 0, len(text)  # the weight of text[:i] is i plus the heavy characters before i
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if mid + bisect.bisect_left(heavy, mid) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _lower_tags(tags: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(t.lower() for t in tags))


def _place(city: City) -> dict[str, Any]:
    half = 0.25 if city.cc in ("US", "BR", "RU", "CN", "IN") else 0.15
    west, east = round(city.lon - half, 6), round(city.lon + half, 6)
    south, north = round(city.lat - half * 0.8, 6), round(city.lat + half * 0.8, 6)
    place_id = f"{_handle_id(city.name) % 16**16:016x}"
    return {
        "id": place_id,
        "url": f"https://api.twitter.com/1.1/geo/id/{place_id}.json",
        "place_type": "city",
        "name": city.name,
        "full_name": city.forms[0],
        "country_code": city.cc,
        "country": city.country,
        "bounding_box": {"type": "Polygon", "coordinates": [
            [[west, south], [west, north], [east, north], [east, south]]]},
        "attributes": {},
    }  # fmt: skip


@functools.lru_cache(maxsize=4096)
def _twitter_time_s(second: int) -> str:
    return datetime.fromtimestamp(second, UTC).strftime("%a %b %d %H:%M:%S +0000 %Y")


def _twitter_time(when_ms: int) -> str:
    return _twitter_time_s(when_ms // 1000)


def _iso_ms(time_us: int) -> str:
    moment = datetime.fromtimestamp(time_us // 1_000_000, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{time_us // 1000 % 1000:03d}Z"


def _iso_us(time_us: int) -> str:
    moment = datetime.fromtimestamp(time_us // 1_000_000, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{time_us % 1_000_000:06d}Z"


# --- entry points --------------------------------------------------------------------------


def generate(
    count: int, seed: int = 1, fmt: str = "v1", collections: str = "posts",
    udhr: Path | None = None,
) -> Iterator[tuple[bytes, Made]]:  # fmt: skip
    """`count` lines (without newline) and what each means. Same seed, same lines."""
    stream = RealisticStream(seed, udhr)
    if fmt == "v1":
        return stream.v1(count)
    if fmt == "jetstream":
        return stream.jetstream(count, collections)
    raise ValueError(f"unknown format {fmt!r} (v1 or jetstream)")


@dataclass
class Written:
    """What `write_ndjson` put in a file: the bench's ground truth."""

    lines: int = 0
    bytes: int = 0
    posts: int = 0
    hashtags: int = 0  # per post, each tag once: the entries the product must store
    points: int = 0


def write_ndjson(
    path: Path, count: int, seed: int = 1, fmt: str = "v1", collections: str = "posts"
) -> Written:
    made = Written()
    with path.open("wb", buffering=1 << 20) as f:
        for line, truth in generate(count, seed, fmt, collections):
            f.write(line + b"\n")
            made.lines += 1
            made.bytes += len(line) + 1
            if truth.kind == "post":
                made.posts += 1
                made.hashtags += len(truth.hashtags)
                made.points += truth.geo is not None
    return made


# --- describing a file ------------------------------------------------------------------------


@dataclass
class Description:
    """What a stream file holds, read from the lines themselves (v1.1 or Jetstream)."""

    lines: int = 0
    bytes: int = 0
    posts: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    langs: Counter[str] = field(default_factory=Counter)
    lengths: list[int] = field(default_factory=list)
    with_tags: int = 0
    tags: int = 0
    retweets: int = 0
    quotes: int = 0
    replies: int = 0
    with_links: int = 0
    points: int = 0
    places: int = 0
    authors: Counter[str] = field(default_factory=Counter)
    author_locations: dict[str, str] = field(default_factory=dict)
    formats: Counter[str] = field(default_factory=Counter)


def describe(path: Path) -> Description:
    d = Description()
    with path.open("rb") as f:
        for raw in f:
            line = raw.rstrip(b"\r\n")
            if not line:
                continue
            d.lines += 1
            d.bytes += len(raw)
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                d.kinds["bad json"] += 1
                continue
            if not isinstance(obj, dict):
                d.kinds["not an object"] += 1
            elif "did" in obj and "kind" in obj:
                d.formats["jetstream"] += 1
                _describe_jetstream(d, obj)
            else:
                d.formats["v1.1"] += 1
                _describe_v1(d, obj)
    return d


def _describe_v1(d: Description, obj: dict[str, Any]) -> None:
    for notice in ("delete", "limit", "warning", "scrub_geo", "status_withheld"):
        if notice in obj:
            d.kinds[notice] += 1
            return
    if "text" not in obj and "extended_tweet" not in obj:
        d.kinds["other"] += 1
        return
    d.kinds["status"] += 1
    d.posts += 1
    source = obj.get("retweeted_status") or obj
    d.retweets += "retweeted_status" in obj
    d.quotes += bool(obj.get("is_quote_status"))
    d.replies += obj.get("in_reply_to_status_id") is not None
    extended = source.get("extended_tweet") or {}
    text = extended.get("full_text") or source.get("text") or ""
    entities = extended.get("entities") or source.get("entities") or {}
    d.lengths.append(len(text))
    d.langs[str(obj.get("lang"))] += 1
    tags = entities.get("hashtags") or []
    d.with_tags += bool(tags)
    d.tags += len(tags)
    d.with_links += bool(entities.get("urls") or entities.get("media"))
    d.points += obj.get("coordinates") is not None
    d.places += obj.get("place") is not None
    user = obj.get("user") or {}
    user_id = str(user.get("id_str"))
    d.authors[user_id] += 1
    d.author_locations[user_id] = (user.get("location") or "").strip()


def _describe_jetstream(d: Description, obj: dict[str, Any]) -> None:
    kind = str(obj.get("kind"))
    commit = obj.get("commit") or {}
    if kind != "commit":
        d.kinds[kind] += 1
        return
    collection = str(commit.get("collection", "")).rsplit(".", 1)[-1]
    operation = str(commit.get("operation"))
    if collection != "post" or operation != "create":
        d.kinds[f"{collection} {operation}"] += 1
        if collection == "profile":
            did = str(obj.get("did"))
            d.author_locations[did] = (commit.get("record") or {}).get("description") or ""
        return
    d.kinds["post create"] += 1
    d.posts += 1
    record = commit.get("record") or {}
    text = record.get("text") or ""
    d.lengths.append(len(text))
    langs = record.get("langs") or ["(none)"]
    d.langs[str(langs[0])] += 1
    features = [f for facet in record.get("facets") or () for f in facet.get("features") or ()]
    tags = [f for f in features if str(f.get("$type", "")).endswith("#tag")]
    d.with_tags += bool(tags)
    d.tags += len(tags)
    embed = record.get("embed") or {}
    d.with_links += any(str(f.get("$type", "")).endswith("#link") for f in features) or str(
        embed.get("$type", "")
    ) in ("app.bsky.embed.images", "app.bsky.embed.external", "app.bsky.embed.video")
    d.quotes += str(embed.get("$type", "")).startswith("app.bsky.embed.record")
    d.replies += "reply" in record
    d.authors[str(obj.get("did"))] += 1


def describe_table(d: Description, top_langs: int = 20) -> list[str]:
    """The description as Markdown: a table of shares and a line of the language mix."""
    posts = max(d.posts, 1)
    lengths = sorted(d.lengths) or [0]

    def pct(n: int, of: int = posts) -> str:
        return f"{100 * n / max(of, 1):.1f}%"

    rows = [
        ("lines", f"{d.lines:,} ({', '.join(f'{k} {n:,}' for k, n in d.formats.items())})"),
        ("bytes per line", f"{d.bytes / max(d.lines, 1):,.0f}"),
        ("posts (statuses, post creates)", f"{d.posts:,} ({pct(d.posts, d.lines)} of lines)"),
    ]
    for kind, n in d.kinds.most_common():
        if kind not in ("status", "post create"):
            rows.append((f"{kind} (of lines)", f"{n:,} ({pct(n, d.lines)})"))
    rows += [
        ("languages (posts' label)", f"{len(d.langs)}"),
        ("text length, code points: mean / p50 / p95 / max",
         f"{statistics.fmean(lengths):.0f} / {lengths[len(lengths) // 2]} / "
         f"{lengths[min(len(lengths) - 1, int(len(lengths) * 0.95))]} / {lengths[-1]}"),
        ("posts with hashtags", f"{pct(d.with_tags)} ({d.tags / posts:.2f} tags per post)"),
        ("posts with a link or media", pct(d.with_links)),
        ("retweets", pct(d.retweets)),
        ("quotes", pct(d.quotes)),
        ("replies", pct(d.replies)),
        ("exact points (`coordinates`)", pct(d.points)),
        ("places (`place` bounding box)", pct(d.places)),
    ]  # fmt: skip
    if d.formats.get("v1.1"):
        users = d.author_locations
        filled = [loc for loc in users.values() if loc]
        other = sum(loc in _NON_PLACE_SET for loc in filled)
        busiest = pct(d.authors.most_common(1)[0][1]) if d.authors else "n/a"
        rows += [
            ("distinct authors", f"{len(d.authors):,} ({d.posts / max(len(d.authors), 1):.2f} "
             f"posts each; the busiest {busiest})"),
            ("authors with a profile location", pct(len(filled), len(users))),
            ("  of which name no place (this generator's list)", pct(other, len(filled))),
        ]  # fmt: skip
    else:
        rows.append(("distinct authors", f"{len(d.authors):,}"))
    out = ["| input | value |", "|---|---:|"]
    out += [f"| {name} | {value} |" for name, value in rows]
    mix = ", ".join(f"{lang} {100 * n / posts:.1f}" for lang, n in d.langs.most_common(top_langs))
    rest = posts - sum(n for _, n in d.langs.most_common(top_langs))
    out.append("")
    out.append(
        f"Language mix (% of posts): {mix}" + (f", others {100 * rest / posts:.1f}" if rest else "")
    )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=10_000, help="lines to write")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--format", choices=("v1", "jetstream"), default="v1")
    parser.add_argument(
        "--collections", choices=("posts", "all"), default="posts",
        help="jetstream: posts and profiles (the product's wantedCollections) or everything",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, help="file to write (default: standard output)")
    parser.add_argument("--stats", action="store_true", help="describe the written file")
    parser.add_argument("--describe", type=Path, metavar="FILE", help="only describe FILE")
    args = parser.parse_args(argv)
    if args.describe:
        print("\n".join(describe_table(describe(args.describe))))
        return 0
    if args.out is None:
        out = sys.stdout.buffer
        for line, _ in generate(args.count, args.seed, args.format, args.collections):
            out.write(line + b"\n")
        return 0
    written = write_ndjson(args.out, args.count, args.seed, args.format, args.collections)
    print(
        f"wrote {written.lines:,} lines, {written.bytes / 2**20:,.1f} MiB to {args.out}: "
        f"{written.posts:,} posts, {written.hashtags:,} hashtags, {written.points:,} points",
        file=sys.stderr,
    )
    if args.stats:
        print("\n".join(describe_table(describe(args.out))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
