"""Synthetic Twitter v1.1 `statuses/sample` payloads, deterministic for a seed.

Each line looks like the real thing (full user object, entities, `place`, `extended_tweet` for
long texts, retweets, deletes and limit notices interleaved) so that the parser, the detector
and the Redis writer are exercised as the live stream would. Alongside each line comes the
`Truth` the generator put in, which the end-to-end tests compare with what lands in Redis.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import orjson

from streamer.sources.demo_corpus import BIO_TOPICS, CORPUS, City
from streamer.sources.demo_locations import (
    ABROAD_SHARE,
    CITY_FORMS,
    COUNTRY_FORMS,
    LOCATION_SHARE,
    NON_PLACE_SHARE,
    NON_PLACES,
)

DELETE_SHARE = 0.03
LIMIT_SHARE = 0.005
RETWEET_SHARE = 0.2
# Where posts come from, as on the real stream: about 1% carry their own point (and a place),
# 2-3% only a place; the rest say nothing but their author's profile location (demo_locations).
DEFAULT_GEO_SHARE = 0.01  # posts with an exact point (`--geo-share` raises it)
PLACE_SHARE = 0.025  # of posts without a point: a place bounding box only
USERS_PER_LANGUAGE = 150
STREAM_RATE = 50.0  # posts per second of the 1% sample, for created_at spacing
SHORT_LIMIT = 140  # longer texts travel in extended_tweet, as on the real stream
DEFAULT_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)

_LANGS = tuple(CORPUS)
_LANG_WEIGHTS = tuple(CORPUS[lang].share for lang in _LANGS)
_EMOJI = ("😂", "❤️", "🔥", "🙏", "😭", "✨", "👏", "🎉")
_SENTENCE_JOIN = {"ja": "。", "th": " "}


class Truth(NamedTuple):
    """What one generated line means: kind is "tweet", "delete" or "limit"."""

    kind: str
    id: str | None
    lang: str | None
    hashtags: tuple[str, ...]  # lower-cased, as they must land in Redis
    geo: tuple[float, float] | None  # the exact (lat, lon), as the parser must report it
    # The post's place box (west, south, east, north) and its author's profile location, as the
    # parser must report them; location_is_place says whether that string names a place.
    place_bbox: tuple[float, float, float, float] | None = None
    location: str = ""
    location_is_place: bool = False
    bio: str = ""  # the author's description (the geolocator's last rung reads it)


class _User(NamedTuple):
    id: int
    screen_name: str
    name: str
    bio: str
    location: str  # "" when the author left it empty
    location_is_place: bool
    created_at: str
    followers: int


def generate(
    count: int,
    seed: int = 1,
    geo_share: float = DEFAULT_GEO_SHARE,
    start: datetime | None = None,
) -> Iterator[tuple[bytes, Truth]]:
    """Yield `count` (payload line without newline, truth) pairs. Same seed, same lines."""
    return _Generator(seed, geo_share, start or DEFAULT_EPOCH + timedelta(days=seed)).run(count)


class _Generator:
    def __init__(self, seed: int, geo_share: float, start: datetime) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.geo_share = geo_share
        self.start = start
        self.users = {lang: self._make_users(lang) for lang in _LANGS}
        self.tag_weights = {
            lang: [1.0 / (rank + 1) ** 1.1 for rank in range(len(CORPUS[lang].hashtags))]
            for lang in _LANGS
        }

    def run(self, count: int) -> Iterator[tuple[bytes, Truth]]:
        for i in range(count):
            # Ids grow with time like snowflakes and never collide between seeds.
            tweet_id = (self.seed << 32) + i + 1
            when = self.start + timedelta(seconds=i / STREAM_RATE)
            roll = self.rng.random()
            if roll < DELETE_SHARE:
                yield self._delete(tweet_id, when)
            elif roll < DELETE_SHARE + LIMIT_SHARE:
                yield self._limit(i, when)
            else:
                yield self._tweet(tweet_id, when)

    # -- notices -------------------------------------------------------------------------

    def _delete(self, tweet_id: int, when: datetime) -> tuple[bytes, Truth]:
        gone = tweet_id - self.rng.randint(1, 10_000)
        payload = {
            "delete": {
                "status": {"id": gone, "id_str": str(gone), "user_id": self.rng.getrandbits(40),
                           "user_id_str": "0"},
                "timestamp_ms": _millis(when),
            }
        }  # fmt: skip
        return orjson.dumps(payload), Truth("delete", str(gone), None, (), None)

    def _limit(self, i: int, when: datetime) -> tuple[bytes, Truth]:
        payload = {"limit": {"track": 10 + i // 7, "timestamp_ms": _millis(when)}}
        return orjson.dumps(payload), Truth("limit", None, None, (), None)

    # -- tweets --------------------------------------------------------------------------

    def _tweet(self, tweet_id: int, when: datetime) -> tuple[bytes, Truth]:
        rng = self.rng
        lang = rng.choices(_LANGS, _LANG_WEIGHTS)[0]
        author = rng.choice(self.users[lang])
        text, tags = self._text(lang)
        body = _status_body(text, tags, lang, tweet_id, when)
        if rng.random() < RETWEET_SHARE:
            original = rng.choice(self.users[lang])
            inner_id = tweet_id - rng.randint(1_000, 5_000_000)
            inner = _status_body(text, tags, lang, inner_id, when - timedelta(hours=3))
            inner["user"] = _user_object(original, lang)
            body = _status_body(f"RT @{original.screen_name}: {text}", tags, lang, tweet_id, when)
            body["retweeted_status"] = inner
        body["user"] = _user_object(author, lang)
        geo = self._locate(body, lang) if rng.random() < self.geo_share else None
        if geo is None and rng.random() < PLACE_SHARE:
            self._place_only(body, lang)
        truth = Truth(
            "tweet",
            str(tweet_id),
            lang,
            tuple(t.lower() for t in tags),
            geo,
            _bbox_of(body["place"]),
            author.location,
            author.location_is_place,
            author.bio,
        )
        return orjson.dumps(body), truth

    def _text(self, lang: str) -> tuple[str, list[str]]:
        rng = self.rng
        corpus = CORPUS[lang]
        n_sentences = rng.choices((1, 2, 3), (55, 35, 10))[0]
        sentences = rng.sample(corpus.sentences, n_sentences)
        text = _SENTENCE_JOIN.get(lang, ". ").join(sentences)
        if rng.random() < 0.15:
            text = f"@{rng.choice(self.users[lang]).screen_name} {text}"
        if rng.random() < 0.2:
            text += " " + rng.choice(_EMOJI)
        n_tags = rng.choices((0, 1, 2, 3), (40, 35, 18, 7))[0]
        tags: list[str] = []
        while len(tags) < n_tags:
            tag = rng.choices(corpus.hashtags, self.tag_weights[lang])[0]
            if tag not in tags:
                tags.append(tag)
        for tag in tags:
            text += f" #{tag}"
        if rng.random() < 0.2:
            text += " https://t.co/" + _token(rng, 10)
        return text, tags

    def _locate(self, body: dict[str, Any], lang: str) -> tuple[float, float]:
        """Put a point (and its city's place) on the post; return the (lat, lon) the parser
        must see."""
        rng = self.rng
        city = rng.choice(CORPUS[lang].cities)
        lat = round(city.lat + rng.gauss(0.0, 0.06), 6)
        lon = round(city.lon + rng.gauss(0.0, 0.08), 6)
        body["coordinates"] = {"type": "Point", "coordinates": [lon, lat]}
        body["geo"] = {"type": "Point", "coordinates": [lat, lon]}
        body["place"] = _place(city, round(city.lat, 4), round(city.lon, 4), 0.25)
        return lat, lon

    def _place_only(self, body: dict[str, Any], lang: str) -> None:
        """A place (a neighbourhood or a city's box) and no point, as most tagged posts."""
        rng = self.rng
        city = rng.choice(CORPUS[lang].cities)
        lat = city.lat + rng.gauss(0.0, 0.06)
        lon = city.lon + rng.gauss(0.0, 0.08)
        body["place"] = _place(city, round(lat, 4), round(lon, 4), rng.uniform(0.01, 0.2))

    def _profile_location(self, lang: str) -> tuple[str, bool]:
        """What an author writes in `location`, and whether it names a place."""
        rng = self.rng
        if rng.random() >= LOCATION_SHARE:
            return "", False
        if rng.random() < NON_PLACE_SHARE:
            return rng.choice(NON_PLACES), False
        countries = COUNTRY_FORMS.get(lang)
        if countries and rng.random() < 0.12:
            return rng.choice(countries), True
        home = rng.choice(_LANGS) if rng.random() < ABROAD_SHARE else lang
        city = rng.choice(CORPUS[home].cities)
        return rng.choice(CITY_FORMS.get(city.name, (city.name,))), True

    def _make_users(self, lang: str) -> list[_User]:
        rng = self.rng
        corpus = CORPUS[lang]
        users = []
        for n in range(USERS_PER_LANGUAGE):
            location, is_place = self._profile_location(lang)
            topic = rng.choice(tuple(BIO_TOPICS))
            phrases = rng.sample(BIO_TOPICS[topic], 2)
            bio = f"{phrases[0].capitalize()} | {phrases[1]} | {rng.choice(corpus.bio_lines)}"
            if rng.random() < 0.3:
                bio += " https://t.co/" + _token(rng, 10)
            handle = f"{lang}_{topic}_{_token(rng, 6).lower()}{n}"
            users.append(
                _User(
                    id=rng.getrandbits(48),
                    screen_name=handle,
                    name=handle.replace("_", " ").title(),
                    bio=bio,
                    location=location,
                    location_is_place=is_place,
                    created_at=_twitter_time(
                        datetime(2009, 1, 1, tzinfo=UTC) + timedelta(days=rng.randint(0, 5000))
                    ),
                    followers=int(rng.paretovariate(1.2) * 40),
                )
            )
        return users


def _status_body(
    text: str, tags: list[str], lang: str, tweet_id: int, when: datetime
) -> dict[str, Any]:
    """A v1.1 status without user or location; long texts go to `extended_tweet`."""
    entities = _entities(text)
    body: dict[str, Any] = {
        "created_at": _twitter_time(when),
        "id": tweet_id,
        "id_str": str(tweet_id),
        "text": text,
        "source": '<a href="http://twitter.com/download/android" rel="nofollow">'
        "Twitter for Android</a>",
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
        "is_quote_status": False,
        "quote_count": 0,
        "reply_count": 0,
        "retweet_count": 0,
        "favorite_count": 0,
        "entities": entities,
        "favorited": False,
        "retweeted": False,
        "filter_level": "low",
        "possibly_sensitive": False,
        "display_text_range": [0, len(text)],
        "edit_history": {"initial_tweet_id": str(tweet_id), "edit_tweet_ids": [str(tweet_id)]},
        "edit_controls": {
            "edits_remaining": 5,
            "is_edit_eligible": False,
            "editable_until_ms": int(_millis(when)) + 3_600_000,
        },
        "editable_until_ms": int(_millis(when)) + 3_600_000,
        "lang": lang,
        "timestamp_ms": _millis(when),
    }
    if len(text) > SHORT_LIMIT:
        link = "https://t.co/" + _token(random.Random(tweet_id), 10)
        cut = SHORT_LIMIT - len(link) - 2
        short = text[:cut] + "… " + link
        body["text"] = short
        body["truncated"] = True
        body["display_text_range"] = [0, cut + 1]
        body["entities"] = {
            **_entities(short[: cut + 1]),
            "urls": [{"url": link, "expanded_url": f"https://twitter.com/i/web/status/{tweet_id}",
                      "display_url": "twitter.com/i/web/status/…",
                      "indices": [cut + 2, cut + 2 + len(link)]}],
        }  # fmt: skip
        body["extended_tweet"] = {
            "full_text": text,
            "display_text_range": [0, len(text)],
            "entities": entities,
        }
    return body


def _entities(text: str) -> dict[str, Any]:
    """Hashtag, mention and URL entities with code-point indices, from our own text."""
    hashtags, mentions, urls = [], [], []
    for start, word in _words(text):
        end = start + len(word)
        if word.startswith("#") and len(word) > 1:
            hashtags.append({"text": word[1:], "indices": [start, end]})
        elif word.startswith("@") and len(word) > 1:
            name = word[1:].rstrip(":")
            mentions.append({"screen_name": name, "name": name, "id": 0, "id_str": "0",
                             "indices": [start, start + 1 + len(name)]})  # fmt: skip
        elif word.startswith("https://"):
            urls.append({"url": word, "expanded_url": "https://example.com/" + word[-6:],
                         "display_url": "example.com/…", "indices": [start, end]})  # fmt: skip
    return {"hashtags": hashtags, "urls": urls, "user_mentions": mentions, "symbols": []}


def _words(text: str) -> Iterator[tuple[int, str]]:
    pos = 0
    for word in text.split(" "):
        if word:
            yield pos, word
        pos += len(word) + 1


def _user_object(user: _User, lang: str) -> dict[str, Any]:
    image = f"http://pbs.twimg.com/profile_images/{user.id}/avatar_normal.jpg"
    link = f"https://t.co/{user.screen_name[-10:]}"
    return {
        "id": user.id,
        "id_str": str(user.id),
        "name": user.name,
        "screen_name": user.screen_name,
        "location": user.location or None,
        "url": link,
        "description": user.bio,
        "translator_type": "none",
        "protected": False,
        "verified": False,
        "followers_count": user.followers,
        "friends_count": user.followers // 3 + 17,
        "listed_count": user.followers // 100,
        "favourites_count": user.followers * 7 + 3,
        "statuses_count": user.followers * 11 + 42,
        "created_at": user.created_at,
        "utc_offset": None,
        "time_zone": None,
        "geo_enabled": True,
        "lang": None,
        "contributors_enabled": False,
        "is_translator": False,
        "profile_background_color": "C0DEED",
        "profile_background_image_url": "http://abs.twimg.com/images/themes/theme1/bg.png",
        "profile_background_image_url_https": "https://abs.twimg.com/images/themes/theme1/bg.png",
        "profile_background_tile": False,
        "profile_link_color": "1DA1F2",
        "profile_sidebar_border_color": "C0DEED",
        "profile_sidebar_fill_color": "DDEEF6",
        "profile_text_color": "333333",
        "profile_use_background_image": True,
        "profile_image_url": image,
        "profile_image_url_https": image.replace("http://", "https://"),
        "profile_banner_url": f"https://pbs.twimg.com/profile_banners/{user.id}/1500000000",
        "default_profile": True,
        "default_profile_image": False,
        "following": None,
        "follow_request_sent": None,
        "notifications": None,
        "withheld_in_countries": [],
        "has_extended_profile": True,
        "is_translation_enabled": False,
        "profile_image_extensions_alt_text": None,
        "profile_banner_extensions_alt_text": None,
        "pinned_tweet_ids": [],
        "pinned_tweet_ids_str": [],
        "entities": {
            "url": {"urls": [{"url": link, "expanded_url": f"https://example.com/{user.screen_name}",
                              "display_url": f"example.com/{user.screen_name}",
                              "indices": [0, len(link)]}]},
            "description": {"urls": []},
        },
        "derived_lang_hint": lang,
    }  # fmt: skip


def _place(city: City, lat: float, lon: float, half_span: float) -> dict[str, Any]:
    west, east = round(lon - half_span, 4), round(lon + half_span, 4)
    south, north = round(lat - half_span * 0.8, 4), round(lat + half_span * 0.8, 4)
    ring = [[west, south], [west, north], [east, north], [east, south]]
    return {
        "id": _place_id(city.name),
        "url": f"https://api.twitter.com/1.1/geo/id/{_place_id(city.name)}.json",
        "place_type": "city",
        "name": city.name,
        "full_name": city.name,
        "country_code": "",
        "country": "",
        "bounding_box": {"type": "Polygon", "coordinates": [ring]},
        "attributes": {},
    }


def _bbox_of(place: Any) -> tuple[float, float, float, float] | None:
    """The (west, south, east, north) box of a generated place, as the parser reads it."""
    if not place:
        return None
    ring = place["bounding_box"]["coordinates"][0]
    lons = [float(p[0]) for p in ring]
    lats = [float(p[1]) for p in ring]
    return min(lons), min(lats), max(lons), max(lats)


def _place_id(name: str) -> str:
    # Stable across runs and processes (str hash() is salted per process).
    value = 0
    for byte in name.encode():
        value = (value * 131 + byte) % 16**16
    return f"{value:016x}"


def _token(rng: random.Random, n: int) -> str:
    return "".join(rng.choices(string.ascii_letters + string.digits, k=n))


def _twitter_time(when: datetime) -> str:
    return when.strftime("%a %b %d %H:%M:%S +0000 %Y")


def _millis(when: datetime) -> str:
    return str(int(when.timestamp() * 1000))
