"""parse_payload: every supported format, every kind of skip, and no exception for any input."""

from __future__ import annotations

import copy
import random
from typing import Any

import orjson
import pytest

from streamer.core.records import (
    BAD_JSON,
    BAD_UTF8,
    DELETE,
    KEEPALIVE,
    LIMIT,
    NOT_POST,
    NOTICE,
    STREAM_ERROR,
    TOO_LONG,
    WARNING,
    WRONG_TYPE,
    Post,
    Profile,
    Skip,
)
from streamer.ingest.parser import MAX_LINE_BYTES, parse_payload, post_to_json_dict

# An asymmetric point: a lat/lon swap would put Paris in the Gulf of Guinea.
PARIS_LAT, PARIS_LON = 48.85, 2.35


def parse(payload: Any) -> Post | Skip:
    return parse_payload(orjson.dumps(payload))


def parse_post(payload: Any) -> Post:
    item = parse(payload)
    assert isinstance(item, Post), item
    return item


def parse_skip(payload: Any) -> Skip:
    item = parse(payload)
    assert isinstance(item, Skip), item
    return item


def v1_tweet(**fields: Any) -> dict[str, Any]:
    tweet: dict[str, Any] = {
        "created_at": "Wed Oct 10 20:19:24 +0000 2018",
        "id": 1050118621198921728,
        "id_str": "1050118621198921728",
        "text": "Bonjour #Paris",
        "truncated": False,
        "entities": {"hashtags": [{"text": "Paris", "indices": [8, 14]}], "urls": []},
        "user": {"id": 42, "id_str": "42", "screen_name": "alice", "description": "I post."},
        "geo": None,
        "coordinates": None,
        "place": None,
        "lang": "fr",
    }
    tweet.update(fields)
    return tweet


def v2_message(data: dict[str, Any], includes: dict[str, Any] | None = None) -> dict[str, Any]:
    base = {
        "id": "1445880548472328192",
        "text": "Hello #World",
        "created_at": "2022-01-01T10:00:00.000Z",
        "author_id": "2244994945",
        "lang": "en",
    }
    message: dict[str, Any] = {"data": {**base, **data}}
    if includes is not None:
        message["includes"] = includes
    return message


def jetstream(record: dict[str, Any] | None = None, **commit: Any) -> dict[str, Any]:
    full_record = {
        "$type": "app.bsky.feed.post",
        "text": "Learning #Python today",
        "createdAt": "2024-09-09T19:46:02.102Z",
        "langs": ["en", "de"],
        "facets": [
            {
                "index": {"byteStart": 9, "byteEnd": 16},
                "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "Python"}],
            }
        ],
        "tags": ["extra"],
    }
    if record is not None:
        full_record = record
    full_commit = {
        "rev": "3l3qo2vutsw2b",
        "operation": "create",
        "collection": "app.bsky.feed.post",
        "rkey": "3l3qo2vuowo2b",
        "record": full_record,
        "cid": "bafyreidc6sydkkbchcyg62v77wbhzvb2mvytlmsychqgwf2xojjtirmzj4",
    }
    full_commit.update(commit)
    return {
        "did": "did:plc:eygmaihciaxprqvxpfvl6flk",
        "time_us": 1725911162329308,
        "kind": "commit",
        "commit": full_commit,
    }


def jetstream_without_record(**commit: Any) -> dict[str, Any]:
    event = jetstream(**commit)
    del event["commit"]["record"]
    return event


# --- framing: size, blank lines, encoding, JSON -------------------------------------------


@pytest.mark.parametrize("line", [b"", b"\r\n", b"\n", b"   ", b"\t \r\n", "", " \r\n"])
def test_blank_lines_are_keepalives(line: bytes | str) -> None:
    assert parse_payload(line) == Skip(KEEPALIVE)


def test_a_line_over_the_limit_is_too_long_without_being_parsed() -> None:
    padding = b" " * (MAX_LINE_BYTES + 1 - len(b'{"text":"x"}'))
    line = b'{"text":"x"}' + padding
    assert len(line) == MAX_LINE_BYTES + 1
    item = parse_payload(line)
    assert isinstance(item, Skip)
    assert item.reason == TOO_LONG
    assert len(item.detail) <= 200


def test_a_line_exactly_at_the_limit_is_parsed() -> None:
    head = b'{"text":"x"}'
    line = head + b" " * (MAX_LINE_BYTES - len(head))
    assert len(line) == MAX_LINE_BYTES
    assert isinstance(parse_payload(line), Post)


def test_the_limit_counts_utf8_bytes_of_a_str_line() -> None:
    # 400,000 three-byte characters: under the limit in characters, over it in bytes.
    line = '{"text":"' + "語" * 400_000 + '"}'
    assert len(line) < MAX_LINE_BYTES
    assert parse_payload(line) == Skip(TOO_LONG, f"{len(line.encode())} bytes")


@pytest.mark.parametrize(
    "line",
    [
        b'{"text": "caf\xe9"}',  # Latin-1, not UTF-8
        b"\xff\xfe{}",
        b'{"text": "\xed\xa0\x80"}',  # an encoded surrogate
        b'{"text": "cut \xe6\x97"}',  # a truncated multi-byte sequence
    ],
)
def test_invalid_utf8_is_bad_utf8(line: bytes) -> None:
    item = parse_payload(line)
    assert isinstance(item, Skip)
    assert item.reason == BAD_UTF8
    assert item.detail
    assert len(item.detail) <= 200


def test_a_str_with_a_lone_surrogate_is_bad_utf8() -> None:
    item = parse_payload('{"text": "\ud800"}')
    assert isinstance(item, Skip)
    assert item.reason == BAD_UTF8


@pytest.mark.parametrize(
    "line",
    [b"{", b'{"text": "x"', b"{'text': 'x'}", b"not json", b'{"a": NaN}', b"\xef\xbb\xbf{"],
)
def test_malformed_json_is_bad_json(line: bytes) -> None:
    item = parse_payload(line)
    assert isinstance(item, Skip)
    assert item.reason == BAD_JSON
    assert item.detail


def test_bad_json_detail_is_short_even_for_a_huge_line() -> None:
    line = b'{"text": "' + b"x" * 500_000 + b'" oops}'
    item = parse_payload(line)
    assert isinstance(item, Skip)
    assert item.reason == BAD_JSON
    assert 0 < len(item.detail) <= 200


@pytest.mark.parametrize(
    "line", [b"[]", b'[{"text": "x"}]', b"42", b"3.5", b'"text"', b"null", b"true"]
)
def test_json_that_is_not_an_object_is_wrong_type(line: bytes) -> None:
    item = parse_payload(line)
    assert isinstance(item, Skip)
    assert item.reason == WRONG_TYPE
    assert "not an object" in item.detail


def test_str_and_bytes_lines_parse_the_same() -> None:
    line = orjson.dumps(v1_tweet())
    assert parse_payload(line) == parse_payload(line.decode())


# --- Twitter v1.1 control messages --------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ({"delete": {"status": {"id": 1, "id_str": "1", "user_id": 3}}}, DELETE),
        ({"limit": {"track": 1234, "timestamp_ms": "1539202764000"}}, LIMIT),
        ({"warning": {"code": "FALLING_BEHIND", "message": "...", "percent_full": 60}}, WARNING),
        ({"scrub_geo": {"user_id": 1, "up_to_status_id": 2}}, NOTICE),
        ({"status_withheld": {"id": 1, "user_id": 2, "withheld_in_countries": ["DE"]}}, NOTICE),
        ({"user_withheld": {"id": 1, "withheld_in_countries": ["DE"]}}, NOTICE),
        ({"disconnect": {"code": 4, "stream_name": "x", "reason": "stall"}}, NOTICE),
        ({"event": "favorite", "source": {}, "target": {}}, NOTICE),
        ({"friends": [1, 2, 3]}, NOTICE),
    ],
)
def test_v1_control_messages_are_skipped_with_their_reason(
    message: dict[str, Any], reason: str
) -> None:
    assert parse_skip(message).reason == reason


# --- Twitter v1.1 statuses ----------------------------------------------------------------


def test_v1_tweet_fields() -> None:
    post = parse_post(v1_tweet())
    assert post == Post(
        id="1050118621198921728",
        created_at="2018-10-10T20:19:24Z",
        text="Bonjour #Paris",
        hashtags=("paris",),
        geo=None,
        user_id="42",
        screen_name="alice",
        bio="I post.",
        platform_lang="fr",
    )


def test_v1_id_falls_back_to_the_numeric_id() -> None:
    tweet = v1_tweet(id=12345)
    del tweet["id_str"]
    assert parse_post(tweet).id == "12345"


def test_v1_extended_tweet_gives_the_full_text_and_its_entities() -> None:
    tweet = v1_tweet(
        text="A long post that was cut short… https://t.co/abc",
        truncated=True,
        entities={"hashtags": [], "urls": []},
        extended_tweet={
            "full_text": "A long post that was cut short by the API #Long #Tail",
            "entities": {"hashtags": [{"text": "Long"}, {"text": "Tail"}]},
        },
    )
    post = parse_post(tweet)
    assert post.text == "A long post that was cut short by the API #Long #Tail"
    assert post.hashtags == ("long", "tail")


def test_v1_full_text_field_is_read_when_there_is_no_text() -> None:
    tweet = v1_tweet(full_text="Full #text")
    del tweet["text"]
    del tweet["entities"]
    post = parse_post(tweet)
    assert post.text == "Full #text"
    assert post.hashtags == ("text",)


def test_v1_retweet_takes_text_and_tags_from_the_original_but_keeps_the_retweeter() -> None:
    original = v1_tweet(
        id_str="111",
        created_at="Mon Jan 01 00:00:00 +0000 2018",
        text="Original text… https://t.co/x",
        truncated=True,
        entities={"hashtags": []},
        extended_tweet={
            "full_text": "Original text, in full #Origin",
            "entities": {"hashtags": [{"text": "Origin"}]},
        },
        user={"id_str": "7", "screen_name": "bob", "description": "original author"},
        coordinates={"type": "Point", "coordinates": [100.0, 10.0]},
    )
    retweet = v1_tweet(
        id_str="222",
        text="RT @bob: Original text… #Cut",
        entities={"hashtags": [{"text": "Cut"}]},
        retweeted_status=original,
        coordinates={"type": "Point", "coordinates": [PARIS_LON, PARIS_LAT]},
    )
    post = parse_post(retweet)
    assert post.text == "Original text, in full #Origin"
    assert post.hashtags == ("origin",)
    assert post.id == "222"
    assert post.created_at == "2018-10-10T20:19:24Z"
    assert post.user_id == "42"
    assert post.screen_name == "alice"
    assert post.geo == (PARIS_LAT, PARIS_LON)


def test_v1_retweet_with_a_broken_original_falls_back_to_the_retweet_text() -> None:
    retweet = v1_tweet(text="RT @bob: hi #Fallback", entities={}, retweeted_status={"text": 5})
    post = parse_post(retweet)
    assert post.text == "RT @bob: hi #Fallback"
    assert post.hashtags == ("fallback",)


def test_v1_entity_tags_are_lower_cased_and_deduplicated_in_order() -> None:
    entities = {"hashtags": [{"text": "B"}, {"text": "a"}, {"text": "b"}, {"text": "A"}]}
    assert parse_post(v1_tweet(text="#B #a #b #A", entities=entities)).hashtags == ("b", "a")


def test_v1_entities_are_authoritative_even_when_empty() -> None:
    post = parse_post(v1_tweet(text="not really a #tag", entities={"hashtags": []}))
    assert post.hashtags == ()


def test_v1_entities_win_over_the_text() -> None:
    tweet = v1_tweet(text="#intext", entities={"hashtags": [{"text": "FromEntity"}]})
    assert parse_post(tweet).hashtags == ("fromentity",)


@pytest.mark.parametrize("entities", [None, {}, {"urls": []}, {"hashtags": None}])
def test_v1_without_a_hashtag_list_extracts_from_the_text(entities: Any) -> None:
    post = parse_post(v1_tweet(text="Extract #These #two", entities=entities))
    assert post.hashtags == ("these", "two")


def test_v1_bad_hashtag_items_are_passed_over() -> None:
    entities = {"hashtags": [{"text": 5}, "x", None, {"nope": "y"}, {"text": "Good"}, {"text": ""}]}
    assert parse_post(v1_tweet(entities=entities)).hashtags == ("good",)


@pytest.mark.parametrize("hashtags", ["Paris", {"text": "Paris"}, 3])
def test_v1_hashtags_that_are_not_a_list_are_wrong_type(hashtags: Any) -> None:
    skip = parse_skip(v1_tweet(entities={"hashtags": hashtags}))
    assert skip.reason == WRONG_TYPE
    assert "hashtags" in skip.detail


@pytest.mark.parametrize("text", [None, 42, ["a"], {"t": "x"}, True])
def test_v1_text_of_the_wrong_type_is_wrong_type(text: Any) -> None:
    skip = parse_skip(v1_tweet(text=text))
    assert skip.reason == WRONG_TYPE
    assert "text" in skip.detail


def test_v1_coordinates_are_lon_then_lat() -> None:
    tweet = v1_tweet(coordinates={"type": "Point", "coordinates": [PARIS_LON, PARIS_LAT]})
    assert parse_post(tweet).geo == (PARIS_LAT, PARIS_LON)


def test_v1_deprecated_geo_is_lat_then_lon() -> None:
    tweet = v1_tweet(geo={"type": "Point", "coordinates": [PARIS_LAT, PARIS_LON]})
    assert parse_post(tweet).geo == (PARIS_LAT, PARIS_LON)


def test_v1_coordinates_win_over_geo_and_place() -> None:
    tweet = v1_tweet(
        coordinates={"type": "Point", "coordinates": [PARIS_LON, PARIS_LAT]},
        geo={"type": "Point", "coordinates": [1.0, 1.0]},
        place=paris_place(),
    )
    assert parse_post(tweet).geo == (PARIS_LAT, PARIS_LON)


def paris_place() -> dict[str, Any]:
    # West 2.2, east 2.5, south 48.8, north 48.9: center (48.85, 2.35).
    ring = [[2.2, 48.8], [2.2, 48.9], [2.5, 48.9], [2.5, 48.8]]
    return {
        "id": "09f6a7707f18e0b1",
        "full_name": "Paris, France",
        "bounding_box": {"type": "Polygon", "coordinates": [ring]},
    }


def test_v1_place_is_kept_as_its_bounding_box_not_as_a_point() -> None:
    # The place is evidence of another kind than a geotag: the geolocation ladder decides.
    post = parse_post(v1_tweet(place=paris_place()))
    assert post.geo is None
    assert post.place_bbox == (2.2, 48.8, 2.5, 48.9)


def test_v1_place_box_is_the_rings_extent_not_the_mean_of_corners() -> None:
    # Five corners with a repeated one: the mean of corners would lean west and south.
    ring = [[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [10.0, 0.0], [10.0, 20.0]]
    place = {"bounding_box": {"type": "Polygon", "coordinates": [ring]}}
    assert parse_post(v1_tweet(place=place)).place_bbox == (0.0, 0.0, 10.0, 20.0)


def test_v1_profile_location_is_kept() -> None:
    user = {"id_str": "42", "screen_name": "alice", "location": "Lyon, France"}
    assert parse_post(v1_tweet(user=user)).location == "Lyon, France"
    assert parse_post(v1_tweet(user={"id_str": "42", "location": 7})).location is None


def test_v1_geo_is_rounded_to_six_decimals() -> None:
    point = {"type": "Point", "coordinates": [2.123456789, 48.987654321]}
    assert parse_post(v1_tweet(coordinates=point)).geo == (48.987654, 2.123457)


@pytest.mark.parametrize(
    "coordinates",
    [
        {"type": "Point", "coordinates": [PARIS_LON, 95.0]},  # latitude out of range
        {"type": "Point", "coordinates": [181.0, PARIS_LAT]},  # longitude out of range
        {"type": "Point", "coordinates": ["2.35", "48.85"]},
        {"type": "Point", "coordinates": [True, False]},
        {"type": "Point", "coordinates": [None, None]},
        {"type": "Point", "coordinates": [2.35]},
        {"type": "Point", "coordinates": []},
        {"type": "Point", "coordinates": "2.35,48.85"},
        {"type": "Point"},
        [2.35, 48.85],
        "Paris",
        17,
    ],
)
def test_v1_bad_coordinates_are_dropped_but_the_post_is_kept(coordinates: Any) -> None:
    post = parse_post(v1_tweet(coordinates=coordinates))
    assert post.geo is None
    assert post.text == "Bonjour #Paris"


def test_v1_bad_coordinates_leave_the_place() -> None:
    tweet = v1_tweet(coordinates={"coordinates": [500, 500]}, place=paris_place())
    post = parse_post(tweet)
    assert post.geo is None
    assert post.place_bbox == (2.2, 48.8, 2.5, 48.9)


@pytest.mark.parametrize(
    "place",
    [
        "Paris",
        {"bounding_box": None},
        {"bounding_box": {"coordinates": []}},
        {"bounding_box": {"coordinates": [[]]}},
        {"bounding_box": {"coordinates": [[[2.2, 48.8], ["x", 48.9]]]}},
        {"bounding_box": {"coordinates": [[[2.2, 148.8], [2.5, 48.9]]]}},
        {"bounding_box": {"coordinates": [[2.2, 48.8]]}},
    ],
)
def test_v1_bad_place_is_dropped_but_the_post_is_kept(place: Any) -> None:
    post = parse_post(v1_tweet(place=place))
    assert post.geo is None
    assert post.place_bbox is None
    assert post.id == "1050118621198921728"


@pytest.mark.parametrize("user", [None, "alice", 42, [], {"id_str": 42, "screen_name": ["x"]}])
def test_v1_bad_user_is_dropped_but_the_post_is_kept(user: Any) -> None:
    post = parse_post(v1_tweet(user=user))
    assert (post.user_id, post.screen_name, post.bio) == (None, None, None)
    assert post.hashtags == ("paris",)


def test_v1_user_numeric_id_is_used_without_id_str() -> None:
    assert parse_post(v1_tweet(user={"id": 42, "screen_name": "alice"})).user_id == "42"


@pytest.mark.parametrize("lang", [None, 5, ["fr"]])
def test_v1_lang_that_is_not_a_string_is_none(lang: Any) -> None:
    assert parse_post(v1_tweet(lang=lang)).platform_lang is None


@pytest.mark.parametrize(
    ("created_at", "expected"),
    [
        ("Wed Oct 10 20:19:24 +0000 2018", "2018-10-10T20:19:24Z"),
        ("Thu Feb 29 23:59:59 +0000 2024", "2024-02-29T23:59:59Z"),
        ("Wed Oct 10 22:19:24 +0200 2018", "2018-10-10T20:19:24Z"),
        ("Wed Oct 10 23:30:00 -0100 2018", "2018-10-11T00:30:00Z"),
        ("2018-10-10T20:19:24.123Z", "2018-10-10T20:19:24Z"),
        ("Wed Foo 10 20:19:24 +0000 2018", None),
        ("Wed Feb 30 20:19:24 +0000 2018", None),
        ("Wed Oct 10 25:19:24 +0000 2018", None),
        ("Wed Oct 10 20:19 +0000 2018", None),
        ("Wed Oct 10 20:19:24 UTC 2018", None),
        ("yesterday", None),
        ("", None),
        (1539202764, None),
        (None, None),
    ],
)
def test_v1_created_at_is_normalized_to_utc_iso(created_at: Any, expected: str | None) -> None:
    assert parse_post(v1_tweet(created_at=created_at)).created_at == expected


# --- Twitter v2 ---------------------------------------------------------------------------


def test_v2_tweet_with_user_from_includes() -> None:
    includes = {
        "users": [
            {"id": "1", "username": "someone_else", "description": "no"},
            {"id": "2244994945", "username": "TwitterDev", "description": "The voice of devs"},
        ]
    }
    post = parse_post(v2_message({"entities": {"hashtags": [{"tag": "World"}]}}, includes))
    assert post == Post(
        id="1445880548472328192",
        created_at="2022-01-01T10:00:00Z",
        text="Hello #World",
        hashtags=("world",),
        geo=None,
        user_id="2244994945",
        screen_name="TwitterDev",
        bio="The voice of devs",
        platform_lang="en",
    )


def test_v2_user_missing_from_includes_keeps_the_author_id_only() -> None:
    post = parse_post(v2_message({}, {"users": [{"id": "1", "username": "other"}]}))
    assert post.user_id == "2244994945"
    assert post.screen_name is None
    assert post.bio is None


def test_v2_without_entities_extracts_from_text() -> None:
    assert parse_post(v2_message({"text": "Hi #There #there"})).hashtags == ("there",)


def test_v2_empty_entity_list_is_authoritative() -> None:
    post = parse_post(v2_message({"text": "Hi #There", "entities": {"hashtags": []}}))
    assert post.hashtags == ()


def test_v2_note_tweet_gives_the_long_text_and_its_entities() -> None:
    data = {
        "text": "The first 280 characters… #Short",
        "entities": {"hashtags": [{"tag": "Short"}]},
        "note_tweet": {
            "text": "The whole long post, well past 280 characters #Long",
            "entities": {"hashtags": [{"tag": "Long"}]},
        },
    }
    post = parse_post(v2_message(data))
    assert post.text == "The whole long post, well past 280 characters #Long"
    assert post.hashtags == ("long",)


def test_v2_retweet_takes_text_and_tags_from_the_included_original() -> None:
    data = {
        "id": "900",
        "text": "RT @bob: Original… #Cut",
        "entities": {"hashtags": [{"tag": "Cut"}]},
        "referenced_tweets": [{"type": "retweeted", "id": "800"}],
        "geo": {"coordinates": {"type": "Point", "coordinates": [PARIS_LON, PARIS_LAT]}},
    }
    includes = {
        "tweets": [
            {"id": "700", "text": "unrelated #No"},
            {
                "id": "800",
                "text": "Original… #Cut",
                "author_id": "7",
                "note_tweet": {
                    "text": "Original, the whole of it #Whole",
                    "entities": {"hashtags": [{"tag": "Whole"}]},
                },
            },
        ],
        "users": [{"id": "2244994945", "username": "retweeter"}, {"id": "7", "username": "bob"}],
    }
    post = parse_post(v2_message(data, includes))
    assert post.text == "Original, the whole of it #Whole"
    assert post.hashtags == ("whole",)
    assert post.id == "900"
    assert post.screen_name == "retweeter"
    assert post.geo == (PARIS_LAT, PARIS_LON)


def test_v2_retweet_without_the_original_in_includes_keeps_its_own_text() -> None:
    data = {"text": "RT @bob: #Kept", "referenced_tweets": [{"type": "retweeted", "id": "800"}]}
    post = parse_post(v2_message(data, {"tweets": [{"id": "1", "text": "other"}]}))
    assert post.text == "RT @bob: #Kept"
    assert post.hashtags == ("kept",)


def test_v2_quote_is_not_treated_as_a_retweet() -> None:
    data = {"text": "My take #Mine", "referenced_tweets": [{"type": "quoted", "id": "800"}]}
    post = parse_post(v2_message(data, {"tweets": [{"id": "800", "text": "Theirs #Theirs"}]}))
    assert post.text == "My take #Mine"


def test_v2_point_coordinates_are_lon_then_lat() -> None:
    geo = {"coordinates": {"type": "Point", "coordinates": [PARIS_LON, PARIS_LAT]}}
    assert parse_post(v2_message({"geo": geo})).geo == (PARIS_LAT, PARIS_LON)


def test_v2_place_bbox_gives_its_center() -> None:
    includes = {
        "places": [
            {"id": "other", "geo": {"bbox": [100.0, 10.0, 101.0, 11.0]}},
            {"id": "paris", "geo": {"type": "Feature", "bbox": [2.2, 48.8, 2.5, 48.9]}},
        ]
    }
    post = parse_post(v2_message({"geo": {"place_id": "paris"}}, includes))
    assert post.geo is None
    assert post.place_bbox == (2.2, 48.8, 2.5, 48.9)


def test_v2_author_location_comes_from_the_users_expansion() -> None:
    includes = {"users": [{"id": "2244994945", "username": "x", "location": "Osaka"}]}
    post = parse_post(v2_message({"author_id": "2244994945"}, includes))
    assert post.location == "Osaka"


@pytest.mark.parametrize(
    "places",
    [
        [{"id": "paris", "geo": {"bbox": [2.2, 48.8, 2.5]}}],
        [{"id": "paris", "geo": {"bbox": ["2.2", 48.8, 2.5, 48.9]}}],
        [{"id": "paris", "geo": {"bbox": [2.2, 148.8, 2.5, 48.9]}}],
        [{"id": "paris", "geo": None}],
        [{"id": "elsewhere", "geo": {"bbox": [2.2, 48.8, 2.5, 48.9]}}],
        "paris",
    ],
)
def test_v2_bad_or_missing_place_drops_geo_only(places: Any) -> None:
    post = parse_post(v2_message({"geo": {"place_id": "paris"}}, {"places": places}))
    assert post.geo is None
    assert post.place_bbox is None
    assert post.text == "Hello #World"


@pytest.mark.parametrize(
    ("created_at", "expected"),
    [
        ("2022-01-01T10:00:00.000Z", "2022-01-01T10:00:00Z"),
        ("2022-01-01T10:00:00Z", "2022-01-01T10:00:00Z"),
        ("2022-01-01T12:00:00.999+02:00", "2022-01-01T10:00:00Z"),
        ("2022-13-01T10:00:00.000Z", None),
        ("soon", None),
    ],
)
def test_v2_created_at_is_normalized(created_at: str, expected: str | None) -> None:
    assert parse_post(v2_message({"created_at": created_at})).created_at == expected


def test_v2_error_message_is_a_stream_error_with_its_title() -> None:
    message = {
        "errors": [
            {
                "title": "operational-disconnect",
                "disconnect_type": "UpstreamOperationalDisconnect",
                "detail": "This stream has been disconnected upstream for operational reasons.",
                "type": "https://api.twitter.com/2/problems/operational-disconnect",
            }
        ]
    }
    assert parse_skip(message) == Skip(STREAM_ERROR, "operational-disconnect")


@pytest.mark.parametrize("errors", [[], "boom", [{"detail": "no title"}], None])
def test_v2_error_without_a_title_is_still_a_stream_error(errors: Any) -> None:
    assert parse_skip({"errors": errors}).reason == STREAM_ERROR


def test_v2_data_with_errors_is_still_a_post() -> None:
    message = v2_message({})
    message["errors"] = [{"title": "Not Found Error"}]
    assert parse_post(message).id == "1445880548472328192"


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"text": 7}, "text"),
        ({"text": None}, "text"),
        ({"entities": {"hashtags": "x"}}, "hashtags"),
    ],
)
def test_v2_wrong_types_are_refused(data: dict[str, Any], fragment: str) -> None:
    skip = parse_skip(v2_message(data))
    assert skip.reason == WRONG_TYPE
    assert fragment in skip.detail


@pytest.mark.parametrize("data", [[{"text": "x"}], "x", None])
def test_v2_data_that_is_not_an_object_is_wrong_type(data: Any) -> None:
    assert parse_skip({"data": data}).reason == WRONG_TYPE


# --- Bluesky Jetstream --------------------------------------------------------------------


def test_jetstream_post_fields() -> None:
    post = parse_post(jetstream())
    assert post == Post(
        id="at://did:plc:eygmaihciaxprqvxpfvl6flk/app.bsky.feed.post/3l3qo2vuowo2b",
        created_at="2024-09-09T19:46:02Z",
        text="Learning #Python today",
        hashtags=("python", "extra"),
        geo=None,
        user_id="did:plc:eygmaihciaxprqvxpfvl6flk",
        screen_name=None,
        bio=None,
        platform_lang="en",
    )


def test_jetstream_facet_and_record_tags_are_merged_lower_cased_and_deduplicated() -> None:
    record = {
        "text": "#one and #Two",
        "facets": [
            {"features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://x.org"}]},
            {"features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "One"}]},
            {"features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "Two"}]},
        ],
        "tags": ["two", "Three", 4, ""],
    }
    assert parse_post(jetstream(record)).hashtags == ("one", "two", "three")


def test_jetstream_facets_without_tags_are_authoritative() -> None:
    record = {
        "text": "a link and a #word",
        "facets": [{"features": [{"$type": "app.bsky.richtext.facet#link", "uri": "x"}]}],
    }
    assert parse_post(jetstream(record)).hashtags == ()


def test_jetstream_without_facets_or_tags_extracts_from_text() -> None:
    assert parse_post(jetstream({"text": "Plain #Text post"})).hashtags == ("text",)


def test_jetstream_record_tags_alone_are_used() -> None:
    assert parse_post(jetstream({"text": "x #notme", "tags": ["Only"]})).hashtags == ("only",)


@pytest.mark.parametrize("langs", [None, [], "en", [5]])
def test_jetstream_missing_or_odd_langs_give_no_platform_lang(langs: Any) -> None:
    assert parse_post(jetstream({"text": "x", "langs": langs})).platform_lang is None


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ({"did": "did:plc:x", "time_us": 1, "kind": "identity", "identity": {"handle": "x"}},
         "identity"),
        ({"did": "did:plc:x", "time_us": 1, "kind": "account", "account": {"active": True}},
         "account"),
        (jetstream_without_record(operation="delete"), "delete"),
        (jetstream(operation="update"), "post_update"),
        (jetstream(collection="app.bsky.feed.like", record={"subject": {}}), "other_collection"),
        (jetstream(collection="app.bsky.graph.follow"), "other_collection"),
        ({"did": "did:plc:x", "time_us": 1, "kind": "sync"}, "unknown_kind"),
    ],
)  # fmt: skip
def test_jetstream_events_other_than_new_posts_are_skipped_by_name(
    event: dict[str, Any], reason: str
) -> None:
    assert parse_skip(event).reason == reason


@pytest.mark.parametrize(
    "event",
    [
        {"did": "did:plc:x", "time_us": 1, "kind": "commit"},
        {"did": "did:plc:x", "time_us": 1, "kind": "commit", "commit": "create"},
        jetstream_without_record(),
        jetstream({"text": 12}),
        jetstream({"text": "x", "facets": "nope"}),
    ],
)
def test_jetstream_malformed_commits_are_wrong_type(event: dict[str, Any]) -> None:
    assert parse_skip(event).reason == WRONG_TYPE


# --- bare objects and unknown shapes ------------------------------------------------------


def test_bare_text_object_is_a_minimal_post() -> None:
    post = parse_post({"text": "Just #Text"})
    assert post == Post(None, None, "Just #Text", ("text",), None, None, None, None, None)


@pytest.mark.parametrize(("payload", "expected"), [({"id": 7}, "7"), ({"id": "abc"}, "abc")])
def test_bare_text_object_keeps_its_id(payload: dict[str, Any], expected: str) -> None:
    assert parse_post({"text": "x", **payload}).id == expected


@pytest.mark.parametrize(
    "payload",
    [{}, {"id": 1}, {"message": "hello"}, {"kind": "commit"}, {"user": {"id": 1}}],
)
def test_objects_without_a_known_shape_are_not_posts(payload: dict[str, Any]) -> None:
    assert parse_skip(payload).reason == NOT_POST


def test_bare_text_of_the_wrong_type_is_wrong_type() -> None:
    assert parse_skip({"text": 12}).reason == WRONG_TYPE


# --- post_to_json_dict --------------------------------------------------------------------


def test_post_to_json_dict_has_fixed_keys_in_order() -> None:
    post = parse_post(v1_tweet(coordinates={"coordinates": [PARIS_LON, PARIS_LAT]}))
    as_dict = post_to_json_dict(post, "de")  # the detected language, not the platform's "fr"
    assert list(as_dict) == [
        "id",
        "created_at",
        "text",
        "hashtags",
        "geo",
        "user_id",
        "screen_name",
        "bio",
        "lang",
        "lang_source",
        "place_bbox",
        "location",
    ]
    assert as_dict["lang_source"] is None  # only the caller knows who decided
    assert as_dict["hashtags"] == ["paris"]
    assert as_dict["geo"] == [PARIS_LAT, PARIS_LON]
    assert as_dict["lang"] == "de"
    assert orjson.loads(orjson.dumps(as_dict)) == as_dict


def test_post_to_json_dict_without_geo() -> None:
    as_dict = post_to_json_dict(parse_post({"text": "x"}), "und")
    assert as_dict["geo"] is None
    assert as_dict["hashtags"] == []


# --- never raises -------------------------------------------------------------------------

VALID_PAYLOADS = [
    v1_tweet(place=paris_place(), extended_tweet={"full_text": "x #y", "entities": {}}),
    v1_tweet(retweeted_status=v1_tweet(coordinates={"coordinates": [1, 2]})),
    v2_message(
        {"geo": {"place_id": "p"}, "referenced_tweets": [{"type": "retweeted", "id": "8"}]},
        {
            "users": [{"id": "2244994945", "username": "u"}],
            "places": [{"id": "p", "geo": {"bbox": [1, 2, 3, 4]}}],
            "tweets": [{"id": "8", "text": "t", "note_tweet": {"text": "n"}}],
        },
    ),
    jetstream(),
    {"errors": [{"title": "x"}]},
    {"delete": {"status": {"id": 1}}},
    {"text": "bare #x", "id": 3},
]
ODD_VALUES: list[Any] = [None, True, 0, -1.5, 1e308, "", "x", [], [1, 2], {}, {"a": None}]


def assert_well_formed(item: Post | Skip) -> None:
    if isinstance(item, Skip):
        assert isinstance(item.reason, str)
        assert len(item.detail) <= 200
        assert not item.detail.startswith("parser bug"), item.detail
        return
    assert isinstance(item, Post)
    assert isinstance(item.text, str)
    assert all(isinstance(tag, str) and tag for tag in item.hashtags)
    assert len(set(item.hashtags)) == len(item.hashtags)
    for field in (item.id, item.created_at, item.user_id, item.screen_name, item.platform_lang):
        assert field is None or isinstance(field, str)
    if item.geo is not None:
        lat, lon = item.geo
        assert -90 <= lat <= 90
        assert -180 <= lon <= 180


def containers(node: Any) -> list[Any]:
    """Every dict and list inside a decoded JSON value, the value itself included."""
    found = [node] if isinstance(node, dict | list) else []
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
    for child in children:
        found.extend(containers(child))
    return found


def mutate_structure(payload: Any, rng: random.Random) -> Any:
    """Replace one value somewhere in the payload with a value of some other type."""
    mutated = copy.deepcopy(payload)
    target = rng.choice([c for c in containers(mutated) if c])
    key = rng.choice(list(target)) if isinstance(target, dict) else rng.randrange(len(target))
    target[key] = rng.choice(ODD_VALUES)
    return mutated


def mutate_bytes(line: bytes, rng: random.Random) -> bytes:
    data = bytearray(line)
    for _ in range(rng.randint(1, 4)):
        position = rng.randrange(len(data) + 1)
        action = rng.choice(("flip", "insert", "delete", "truncate"))
        if action == "flip" and position < len(data):
            data[position] = rng.randrange(256)
        elif action == "insert":
            data[position:position] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 3)))
        elif action == "delete":
            del data[position : position + rng.randint(1, 5)]
        else:
            del data[position:]
    return bytes(data)


def test_random_bytes_never_raise() -> None:
    rng = random.Random(20240909)
    kinds: set[str] = set()
    for _ in range(2000):
        line = bytes(rng.randrange(256) for _ in range(rng.randint(0, 60)))
        item = parse_payload(line)
        assert_well_formed(item)
        kinds.add(item.reason if isinstance(item, Skip) else "post")
    # Random bytes must reach more than one refusal path, or the test proves little.
    assert {BAD_UTF8, BAD_JSON} <= kinds


def test_mutated_payload_bytes_never_raise() -> None:
    rng = random.Random(7)
    lines = [orjson.dumps(payload) for payload in VALID_PAYLOADS]
    for _ in range(2000):
        assert_well_formed(parse_payload(mutate_bytes(rng.choice(lines), rng)))


def test_mutated_payload_structures_never_raise() -> None:
    rng = random.Random(11)
    outcomes: set[str] = set()
    for _ in range(3000):
        payload = mutate_structure(rng.choice(VALID_PAYLOADS), rng)
        item = parse(payload)
        assert_well_formed(item)
        outcomes.add(item.reason if isinstance(item, Skip) else "post")
    assert {"post", WRONG_TYPE} <= outcomes


@pytest.mark.parametrize("raw", [None, 12, ["x"], {"text": "x"}])
def test_input_of_an_unexpected_python_type_is_wrong_type(raw: Any) -> None:
    item = parse_payload(raw)
    assert isinstance(item, Skip)
    assert item.reason == WRONG_TYPE


@pytest.mark.parametrize("raw", [bytearray(b'{"text": "x"}'), memoryview(b'{"text": "x"}')])
def test_other_bytes_like_input_is_read_like_bytes(raw: Any) -> None:
    assert parse_payload(raw) == parse_payload(b'{"text": "x"}')


def test_deeply_nested_json_is_refused_not_crashed() -> None:
    item = parse_payload(b"[" * 5000 + b"]" * 5000)
    assert isinstance(item, Skip)
    assert item.reason in (BAD_JSON, WRONG_TYPE)


def test_jetstream_profile_updates_carry_the_bio_and_are_not_posts() -> None:
    event = {
        "did": "did:plc:abc",
        "time_us": 1,
        "kind": "commit",
        "commit": {
            "operation": "update",
            "collection": "app.bsky.actor.profile",
            "rkey": "self",
            "record": {"$type": "app.bsky.actor.profile", "displayName": "Ann",
                       "description": "Baker <b>&</b> runner"},
        },
    }  # fmt: skip
    assert parse_payload(orjson.dumps(event)) == Profile(
        "did:plc:abc", "Ann", "Baker <b>&</b> runner"
    )
    event["commit"]["record"] = {"$type": "app.bsky.actor.profile"}  # type: ignore[index]
    item = parse_payload(orjson.dumps(event))
    assert isinstance(item, Skip) and item.reason == "profile_no_bio"
