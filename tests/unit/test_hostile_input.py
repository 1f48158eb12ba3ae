"""Hostile input and hostile settings, without Redis: what strangers write (escapes, giant
fields, malformed payloads), absurd settings, and clients that misbehave on loopback."""

from __future__ import annotations

import asyncio
import io
import socket
import string
import time
import tomllib
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.exceptions import (
    ConnectionError as RedisConnectionError,
)
from redis.exceptions import (
    NoScriptError,
    ResponseError,
    TryAgainError,
)

from streamer.cli.commands import capped_lines, check_languages
from streamer.config import (
    LIST_CAP_MAX,
    SEED_MAX,
    ConfigError,
    Settings,
    load_settings,
    override,
)
from streamer.core.logs import configure_logging, get_logger
from streamer.core.records import BAD_JSON, TOO_LONG, Post, Profile, Skip
from streamer.core.terminal import printable
from streamer.ingest import limits
from streamer.ingest.hashtags import extract_hashtags
from streamer.ingest.parser import parse_payload
from streamer.runtime.http_api import start_http_server
from streamer.sources.jetstream import JetstreamSource, OversizeSkip
from streamer.storage.errors import retry_can_fix
from tests.fake_streams import jetstream_post

REPO = Path(__file__).resolve().parents[2]

# --- terminal escaping ----------------------------------------------------------------------

ESCAPES = "\u001b]0;PWNED\u0007\u001b[2J"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (ESCAPES, "\\x1b]0;PWNED\\x07\\x1b[2J"),
        ("bio\nkmeans: 999", "bio\\nkmeans: 999"),
        ("a\rb\tc\x00d\x7fe", "a\\rb\\tc\\x00d\\x7fe"),
        ("c1\x9bcsi\x85nel", "c1\\x9bcsi\\x85nel"),
        ("\u202egnp.exe", "\\u202egnp.exe"),
        ("\u2066x\u2069 \u200e\u200f\u061c", "\\u2066x\\u2069 \\u200e\\u200f\\u061c"),
    ],
)
def test_printable_shows_controls_and_bidi_overrides_escaped(raw: str, shown: str) -> None:
    assert printable(raw) == shown


def test_printable_leaves_ordinary_text_of_every_script_alone() -> None:
    text = "東京 #日本 עברית العربية 👩‍👩‍👧 café ZWJ:\u200d ZWNJ:\u200c back\\slash"
    assert printable(text) == text
    assert printable(42) == "42" and printable(None) == "None"


@given(st.text())
def test_printable_output_never_holds_a_control_or_bidi_character(text: str) -> None:
    shown = printable(text)
    for ch in shown:
        assert not (ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F), repr(shown)
        assert ch not in "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def test_the_console_log_shows_stream_text_escaped() -> None:
    out = io.StringIO()
    try:
        configure_logging("console", "info", stream=out)
        get_logger("t").warning("bad_input", detail=ESCAPES + "\nforged 2026 [info] ok")
    finally:
        configure_logging("console", "info")
    line = out.getvalue()
    assert "\x1b" not in line and "\x07" not in line
    assert line.count("\n") == 1  # the forged second line stays on the first
    assert "\\x1b]0;PWNED" in line


def test_the_json_log_stays_exact_json() -> None:
    out = io.StringIO()
    try:
        configure_logging("json", "info", stream=out)
        get_logger("t").warning("bad_input", detail=ESCAPES)
    finally:
        configure_logging("console", "info")
    assert orjson.loads(out.getvalue())["detail"] == ESCAPES


# --- input caps in the parser ---------------------------------------------------------------


def v1(text: str = "hello", **extra: Any) -> bytes:
    status = {"id_str": "1", "text": text, "user": {"id_str": "7", "screen_name": "u"}}
    status.update(extra)
    return orjson.dumps(status)


def parsed(line: bytes) -> Post:
    item = parse_payload(line)
    assert isinstance(item, Post), item
    return item


def test_a_giant_hashtag_is_dropped_and_counted() -> None:
    giant = "x" * 900_000
    post = parsed(v1(entities={"hashtags": [{"text": giant}, {"text": "ok"}]}))
    assert post.hashtags == ("ok",)
    assert post.trimmed == (limits.TAG_TOO_LONG,)
    from_text = parsed(v1(f"#{giant} and #fine"))
    assert from_text.hashtags == ("fine",) and limits.TAG_TOO_LONG in from_text.trimmed


def test_a_hashtag_at_the_cap_is_kept() -> None:
    tag = "a" * limits.HASHTAG_MAX_CHARS
    assert parsed(v1(entities={"hashtags": [{"text": tag}]})).hashtags == (tag,)


def test_ten_thousand_hashtag_entities_keep_the_first_thirty() -> None:
    tags = [{"text": f"t{n}"} for n in range(10_000)]
    post = parsed(v1(entities={"hashtags": tags}))
    assert post.hashtags == tuple(f"t{n}" for n in range(limits.TAGS_PER_POST))
    assert post.trimmed == (limits.TOO_MANY_TAGS,)


@pytest.mark.parametrize(
    ("tag", "reason"),
    [
        ("   ", limits.TAG_BLANK),
        ("\u3000\t", limits.TAG_BLANK),
        ("#", limits.TAG_BLANK),
        ("two\nlines", limits.TAG_BAD_CHARS),
        ("a b", limits.TAG_BAD_CHARS),
        (ESCAPES, limits.TAG_BAD_CHARS),
        ("rtl\u202eevil", limits.TAG_BAD_CHARS),
        ("nul\x00", limits.TAG_BAD_CHARS),
    ],
)
def test_blank_and_control_character_tags_are_refused(tag: str, reason: str) -> None:
    post = parsed(v1(entities={"hashtags": [{"text": tag}, {"text": "good"}]}))
    assert post.hashtags == ("good",)
    assert post.trimmed == (reason,)


def test_bluesky_tag_facets_obey_the_same_caps() -> None:
    event = jetstream_post(1)
    record = event["commit"]["record"]
    record["facets"] = [
        {"features": [{"$type": "app.bsky.richtext.facet#tag", "tag": t}]}
        for t in [" padded ", "y" * 500, "\n", *(f"b{n}" for n in range(40))]
    ]
    post = parsed(orjson.dumps(event))
    assert post.hashtags[0] == "padded" and len(post.hashtags) == limits.TAGS_PER_POST
    # Bluesky's own tag rules (at most 64 graphemes, not blank) already refuse the long and the
    # blank facet tags: they are not tags at all there. The per-post cap is still counted.
    assert all(0 < len(tag) <= 64 and not tag.isspace() for tag in post.hashtags)
    assert set(post.trimmed) == {limits.TOO_MANY_TAGS}


def test_long_bio_screen_name_and_text_are_cut_and_counted() -> None:
    line = v1(
        "word " * 10_000,
        user={"id_str": "7", "screen_name": "n" * 5000, "description": "b" * 50_000},
    )
    post = parsed(line)
    assert post.bio is not None and len(post.bio) == limits.BIO_MAX_CHARS
    assert post.screen_name is not None and len(post.screen_name) == limits.SCREEN_NAME_MAX_CHARS
    assert len(post.text) == limits.TEXT_MAX_CHARS
    assert post.trimmed == tuple(
        sorted([limits.BIO_TOO_LONG, limits.SCREEN_NAME_TOO_LONG, limits.TEXT_TOO_LONG])
    )


def test_a_user_id_too_long_to_be_one_drops_the_user_not_the_post() -> None:
    post = parsed(v1(user={"id_str": "9" * 5000, "description": "bio"}))
    assert post.user_id is None and post.bio is None
    assert post.trimmed == (limits.USER_ID_TOO_LONG,)
    profile = jetstream_profile("did:plc:" + "z" * 5000, "bio")
    skip = parse_payload(profile)
    assert isinstance(skip, Skip) and skip.reason == "field_too_long"


def jetstream_profile(did: str, bio: str, name: str = "n") -> bytes:
    return orjson.dumps(
        {
            "did": did,
            "time_us": 1,
            "kind": "commit",
            "commit": {
                "operation": "update",
                "collection": "app.bsky.actor.profile",
                "record": {"description": bio, "displayName": name},
            },
        }
    )


def test_a_profile_bio_is_cut_at_the_cap() -> None:
    item = parse_payload(jetstream_profile("did:plc:a", "b" * 9999, "d" * 999))
    assert isinstance(item, Profile)
    assert len(item.bio) == limits.BIO_MAX_CHARS
    assert item.screen_name is not None and len(item.screen_name) == limits.SCREEN_NAME_MAX_CHARS
    assert item.trimmed == (limits.BIO_TOO_LONG, limits.SCREEN_NAME_TOO_LONG)


def test_an_ordinary_post_is_not_marked_trimmed() -> None:
    post = parsed(v1("hola #Mundo", entities={"hashtags": [{"text": "Mundo"}]}))
    assert post.trimmed == () and post.hashtags == ("mundo",)


def test_the_worker_counts_trimmed_posts_by_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    from streamer.ingest import worker

    # Counting is what is tested here, not detection: every post is "en".
    monkeypatch.setattr(worker, "_chooser", lambda _text, _label: ("en", "detector"))
    lines = [
        v1(entities={"hashtags": [{"text": "z" * 200}]}),
        v1(entities={"hashtags": [{"text": "z" * 300}, {"text": " "}]}),
        v1("plain"),
    ]
    result = worker.process_parts([lines])
    assert result.trimmed == {limits.TAG_TOO_LONG: 2, limits.TAG_BLANK: 1}
    assert len(result.records) == 3


# --- malformed lines ------------------------------------------------------------------------


def test_a_utf8_bom_at_the_start_of_a_line_is_accepted() -> None:
    assert parsed(b"\xef\xbb\xbf" + v1("with bom")).text == "with bom"
    broken = parse_payload(b"\xef\xbb\xbf{")
    assert isinstance(broken, Skip) and broken.reason == BAD_JSON


class _DribblingStream:
    """A stdin that yields one huge line in chunks, never holding it."""

    def __init__(self, line_bytes: int, chunk: int = 1 << 16) -> None:
        self.left = line_bytes
        self.chunk = chunk
        self.tail = [v1("after") + b"\n"]

    def read1(self, n: int) -> bytes:
        if self.left > 0:
            take = min(n, self.left, self.chunk)
            self.left -= take
            return b"x" * take if self.left else b"x" * (take - 1) + b"\n"
        return self.tail.pop() if self.tail else b""


def test_parse_reads_a_giant_line_without_holding_it() -> None:
    tracemalloc.start()
    try:
        lines = list(capped_lines(_DribblingStream(64 * 1024 * 1024), 1_000_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(lines) == 2
    skip = parse_payload(lines[0], 1_000_000)
    assert isinstance(skip, Skip) and skip.reason == TOO_LONG
    assert parsed(lines[1]).text == "after"  # the line after it is intact
    assert peak < 8 * 1024 * 1024, peak  # a 64 MB line, never more than a few MB held


# --- hashtags inside web addresses ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tags"),
    [
        ("see example.org/#anchor now", ()),
        ("sub.example.co.uk/docs/#Part2 and #real", ("real",)),
        ("localhost.test:8080/#frag", ()),
        ("bücher.de/#kapitel", ()),
        ("this and/#or that", ("or",)),
        ("1.5/#notaurl", ("notaurl",)),
        ("mail me@example.com/#x", ("x",)),
        ("#first example.net/#second #third", ("first", "third")),
    ],
)
def test_a_hash_in_a_web_address_without_scheme_is_no_hashtag(
    text: str, tags: tuple[str, ...]
) -> None:
    assert extract_hashtags(text) == tags


# --- which Redis errors a retry fixes -------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "retry"),
    [
        (RedisConnectionError("refused"), True),
        (OSError("reset"), True),
        (ResponseError("BUSY Redis is busy running a script"), True),
        (ResponseError("LOADING Redis is loading the dataset in memory"), True),
        (ResponseError("MASTERDOWN Link with MASTER is down"), True),
        (TryAgainError("multiple keys"), True),
        (NoScriptError("No matching script"), True),
        (ResponseError("ERR value is not an integer or out of range"), False),
        (ResponseError("WRONGTYPE Operation against a key holding the wrong kind"), False),
        (ResponseError("ERR user_script:12: Script attempted to access nonexistent global"), False),
        (ResponseError(""), False),
        (ValueError("ours"), False),
    ],
)
def test_only_errors_a_retry_can_fix_are_retried(exc: BaseException, retry: bool) -> None:
    assert retry_can_fix(exc) is retry


# --- absurd settings ------------------------------------------------------------------------


def write(tmp_path: Path, text: str | bytes, mode: int = 0o600) -> Path:
    path = tmp_path / "c.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    path.chmod(mode)
    return path


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[redis]\nlist_cap = 99999999999999999\n", "redis.list_cap"),
        (f"[redis]\nlist_cap = {2**63 - 1}\n", "redis.list_cap"),
        ("[clusters]\nseed = -1\n", "clusters.seed"),
        ("[clusters]\nseed = 99999999999999\n", "clusters.seed"),
        ("[clusters]\nmin_users = 5\nk_max = 12\n", "clusters.min_users"),
        ("[clusters]\nmin_cluster_size = 99999999999\n", "clusters.min_cluster_size"),
        ("[source.demo]\nseed = -3\n", "source.demo.seed"),
        ("[maps]\ninterval = inf\n", "maps.interval"),
        ("[maps]\ninterval = nan\n", "maps.interval"),
        ("[source]\nrate = inf\n", "source.rate"),
        ('[source]\nrate = "nan"\n', "source.rate"),
        ("[daemon]\nstatus_interval = 1e300\n", "daemon.status_interval"),
        ("[clusters]\nmax_age_hours = 1e300\n", "clusters.max_age_hours"),
        ('[daemon]\ndata_dir = "a\\u0000b"\n', "daemon.data_dir"),
        (f'[daemon]\ndata_dir = "{"d" * 300_000}"\n', "daemon.data_dir"),
        (f'[daemon]\nout_dir = "{"o" * 300}"\n', "daemon.out_dir"),
        ('[source]\nkind = "replay"\nreplay_files = ["a\\u0000"]\n', "source.replay_files"),
        ('[source]\npartition = "\u0661/\u0662"\nkind = "replay"\n', "source.partition"),
        (b"[daemon]\ndata_dir = '\xff\xfe'\n", "config"),
        ('[sources.jetstream]\nurls = ["ws://[::1"]\n', "sources.jetstream.urls"),
        ('[sources.jetstream]\nurls = ["wss://h:99999/subscribe"]\n', "sources.jetstream.urls"),
        ('[sources.twitter_v2]\nurl = "https://exa mple/x"\n', "sources.twitter_v2.url"),
        ('[sources.twitter_v1]\nurl = "https://"\n', "sources.twitter_v1.url"),
        ('[redis]\nurl = "redis://h:port/0"\n', "redis.url"),
        ('[redis]\nkey_prefix = "a\\nb"\n', "redis.key_prefix"),
    ],
)
def test_absurd_settings_are_refused_at_load(tmp_path: Path, text: str | bytes, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, text), env={})
    assert str(err.value).startswith(key + ":"), err.value
    assert "\n" not in str(err.value)


def test_the_ranges_are_the_ones_the_libraries_take() -> None:
    import numpy as np

    np.random.RandomState(SEED_MAX)  # the top of the seed range works ...
    with pytest.raises(ValueError):
        np.random.RandomState(SEED_MAX + 1)  # ... and one more does not
    assert LIST_CAP_MAX < 2**63


def test_maps_refresh_zero_turns_refreshing_off(tmp_path: Path) -> None:
    assert load_settings(write(tmp_path, "[maps]\nrefresh = 0\n"), env={}).maps.refresh == 0


def test_a_config_naming_a_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^config: .* is a directory"):
        load_settings(tmp_path, env={})


def test_a_data_dir_naming_a_file_is_refused_from_flags(tmp_path: Path) -> None:
    existing = tmp_path / "file"
    existing.write_text("x")
    with pytest.raises(ConfigError, match=r"^daemon\.data_dir: names a file"):
        override(Settings(), data_dir=str(existing))


@pytest.mark.parametrize("port", ["²", "\u0663", "65536", "99999999999999", "-1", "8o"])
def test_odd_http_ports_from_the_environment_are_config_errors(port: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(None, env={"TWEETHEAT_HTTP_PORT": port})
    assert str(err.value).split(":")[0] in ("TWEETHEAT_HTTP_PORT", "http.port")


def test_a_redis_password_in_a_world_readable_file_is_refused(tmp_path: Path) -> None:
    text = '[redis]\nurl = "redis://:hunter2@127.0.0.1:6379/0"\n'
    with pytest.raises(ConfigError, match=r"^redis\.url: .*other users can read it") as err:
        load_settings(write(tmp_path, text, 0o644), env={})
    assert "hunter2" not in str(err.value)
    private = load_settings(write(tmp_path, text, 0o600), env={})
    assert private.redis.url.endswith("/0")
    no_password = '[redis]\nurl = "redis://127.0.0.1:6379/0"\n'
    assert load_settings(write(tmp_path, no_password, 0o644), env={}).redis.url


@pytest.mark.parametrize("detector", ["default", "stopwords"])
def test_languages_the_detector_does_not_know_are_config_errors(detector: str) -> None:
    bad = override(Settings(), data_dir="data")
    from dataclasses import replace

    bad = replace(bad, lang=replace(bad.lang, detector=detector, languages=("en", "zz", "qq")))
    with pytest.raises(ConfigError, match=r"^lang\.languages: .*zz, qq"):
        check_languages(bad)
    good = replace(bad, lang=replace(bad.lang, languages=("en", "ja")))
    check_languages(good)


# Random TOML from the real schema: every known key, with values of every TOML type.
SCHEMA = tomllib.loads((REPO / "config.toml").read_text())
toml_values = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.lists(st.text(max_size=10), max_size=3),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.datetimes(),
)


def _paths(table: dict[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for key, value in table.items():
        if isinstance(value, dict):
            yield from _paths(value, (*prefix, key))
        else:
            yield (*prefix, key)


KEY_PATHS = sorted(_paths(SCHEMA))


@st.composite
def random_configs(draw: st.DrawFn) -> dict[str, Any]:
    config: dict[str, Any] = {}
    chosen = draw(st.lists(st.sampled_from(KEY_PATHS), max_size=6, unique=True))
    junk_keys = draw(st.lists(st.text(string.ascii_lowercase + "._", max_size=8), max_size=2))
    for path in chosen + [(k,) for k in junk_keys if k]:
        table = config
        for part in path[:-1]:
            nested = table.setdefault(part, {})
            if not isinstance(nested, dict):
                break
            table = nested
        else:
            table[path[-1]] = draw(toml_values)
    return config


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value:
            return "nan"
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return orjson.dumps(value).decode()
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(f"{orjson.dumps(k).decode()} = {_toml(v)}" for k, v in value.items())
            + "}"
        )
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def dump_toml(config: dict[str, Any]) -> str:
    lines: list[str] = []
    for key, value in config.items():
        if not isinstance(value, dict):
            lines.insert(0, f"{orjson.dumps(key).decode()} = {_toml(value)}")
    for section, table in config.items():
        if isinstance(table, dict):
            lines += _table(orjson.dumps(section).decode(), table)
    return "\n".join(lines) + "\n"


def _table(name: str, table: dict[str, Any]) -> list[str]:
    lines = [f"[{name}]"]
    nested = []
    for key, value in table.items():
        quoted = orjson.dumps(key).decode()
        if isinstance(value, dict) and all(isinstance(v, dict) for v in value.values()) and value:
            nested.append((f"{name}.{quoted}", value))
        else:
            lines.append(f"{quoted} = {_toml(value)}")
    for sub, value in nested:
        lines += _table(sub, value)
    return lines


def _load_clean_or_config_error(path: Path) -> None:
    try:
        loaded = load_settings(path, env={})
    except ConfigError as exc:
        message = str(exc)
        assert printable(message) == message, message  # one line, nothing raw
        assert ": " in message, message  # "<key>: <why>"
        return
    assert isinstance(loaded, Settings)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(config=random_configs())
def test_random_toml_from_the_schema_loads_or_is_one_config_error(
    tmp_path: Path, config: dict[str, Any]
) -> None:
    path = tmp_path / "random.toml"
    path.write_text(dump_toml(config))
    path.chmod(0o600)
    _load_clean_or_config_error(path)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(garbage=st.binary(max_size=200))
def test_random_bytes_as_a_config_file_are_one_config_error(tmp_path: Path, garbage: bytes) -> None:
    path = tmp_path / "garbage.toml"
    path.write_bytes(garbage)
    path.chmod(0o600)
    _load_clean_or_config_error(path)


# --- Jetstream: a frame over the client's size limit ----------------------------------------


class _CursorJetstream:
    """A Jetstream-like server that honours `cursor`: it replays every event whose time_us is
    at or after it, in order, then holds the connection. One event is far too big."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.events = sorted(events, key=lambda e: e["time_us"])
        self.cursors: list[int | None] = []
        self.done = asyncio.Event()

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        cursor = request.query.get("cursor")
        self.cursors.append(int(cursor) if cursor is not None else None)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        for event in self.events:
            if cursor is None or event["time_us"] >= int(cursor):
                await ws.send_str(orjson.dumps(event).decode())
        await self.done.wait()
        return ws


def test_jetstream_skips_an_oversized_frame_instead_of_looping_on_it() -> None:
    base = 1_700_000_000_000_000
    events = [{**jetstream_post(n), "time_us": base + n * 10} for n in range(1, 6)]
    events[2]["commit"]["record"]["text"] = "huge " * 2000  # 10 kB: over 4 x 1024
    fake = _CursorJetstream(events)

    async def go() -> tuple[list[bytes], JetstreamSource]:
        app = web.Application()
        app.router.add_get("/subscribe", fake.handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]

        async def no_sleep(_delay: float) -> None:
            await asyncio.sleep(0)

        source = JetstreamSource(
            [f"ws://127.0.0.1:{port}/subscribe"],
            start_cursor=base,
            rewind_us=5_000_000,
            sleep=no_sleep,
            max_line_bytes=1024,
        )
        got: list[bytes] = []
        chunks = source.chunks()
        try:
            async with asyncio.timeout(10):
                async for chunk in chunks:
                    got += chunk
                    if any(b'"time_us":%d' % (base + 50) in line for line in got):
                        break
        finally:
            await chunks.aclose()
            fake.done.set()
            await runner.cleanup()
        return got, source

    got, source = asyncio.run(go())
    times = [orjson.loads(line)["time_us"] for line in got]
    assert base + 30 not in times  # the oversized one, skipped
    assert set(times) == {base + 10, base + 20, base + 40, base + 50}
    assert source.stats.oversized_skips >= 1
    assert len(fake.cursors) <= 8, fake.cursors  # a few reconnects, never a loop


def test_the_oversize_skip_doubles_until_something_arrives() -> None:
    skip = OversizeSkip()
    assert skip.past(100, delivered=True) == 101
    assert skip.past(101, delivered=False) == 102
    assert skip.past(102, delivered=False) == 104
    assert skip.past(104, delivered=False) == 108
    assert skip.past(150, delivered=True) == 151  # progress: a new base
    skip.reset()
    assert not skip.active


# --- HTTP clients that misbehave ------------------------------------------------------------


class _NoHealth:
    def health(self) -> Any:
        raise RuntimeError("not needed")

    def metric_families(self) -> list[Any]:
        return []


def _raw_exchange(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
            if b"\r\n\r\n" in data and len(data) > data.index(b"\r\n\r\n") + 4:
                break
        return data


def _headers(response: bytes) -> dict[str, str]:
    head = response.split(b"\r\n\r\n", 1)[0].decode()
    return {
        k.strip().lower(): v.strip()
        for k, v in (line.split(":", 1) for line in head.splitlines()[1:])
    }


def test_error_answers_carry_no_version_banner_and_are_nosniff(tmp_path: Path) -> None:
    async def go() -> list[bytes]:
        server = await start_http_server(_NoHealth(), "127.0.0.1", 0, tmp_path)
        try:
            requests = [
                b"GARBAGE / HTTP/1.1\r\n\r\n",  # not HTTP: the parser's 400
                b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"<script>" * 2000 + b"\r\n\r\n",
                b"GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                b"POST /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            ]
            return [await asyncio.to_thread(_raw_exchange, server.port, r) for r in requests]
        finally:
            await server.close()

    for response in asyncio.run(go()):
        headers = _headers(response)
        assert headers["server"] == "tweetheat", response[:200]
        assert headers["x-content-type-options"] == "nosniff"
        assert b"aiohttp" not in response and b"Python/" not in response
        assert b"<script>" not in response  # the offending bytes are not echoed


def test_a_client_dribbling_its_headers_is_cut_off(tmp_path: Path) -> None:
    async def go() -> tuple[float, bool]:
        server = await start_http_server(_NoHealth(), "127.0.0.1", 0, tmp_path, header_timeout=1.0)
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            started = time.monotonic()
            closed = False
            for byte in b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 100:
                try:
                    writer.write(bytes([byte]))
                    await writer.drain()
                    if await asyncio.wait_for(reader.read(1), 0.2) == b"":
                        closed = True
                        break
                except TimeoutError:
                    continue
                except ConnectionError:
                    closed = True
                    break
            writer.close()
            return time.monotonic() - started, closed
        finally:
            await server.close()

    took, closed = asyncio.run(go())
    assert closed, "the server kept a dribbling client"
    assert took < 3.0, took


def test_a_page_served_has_nosniff_too(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<p>hi</p>")

    async def go() -> bytes:
        server = await start_http_server(_NoHealth(), "127.0.0.1", 0, tmp_path)
        try:
            request = b"GET /maps/index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            return await asyncio.to_thread(_raw_exchange, server.port, request)
        finally:
            await server.close()

    headers = _headers(asyncio.run(go()))
    assert headers["x-content-type-options"] == "nosniff" and headers["server"] == "tweetheat"
