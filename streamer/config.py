"""Settings: one typed object, read from config.toml, then the environment, then the command line.

A bad value stops start-up with one line naming the key and what is wrong (`ConfigError`).
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from streamer.core.redis_urls import is_cluster_url, parse_cluster_url
from streamer.core.terminal import printable

SOURCES = ("demo", "replay", "twitter-v2", "twitter-v1", "jetstream")
LIVE_SOURCES = ("twitter-v2", "twitter-v1", "jetstream")
LOG_FORMATS = ("console", "json")
DEMO_FORMATS = ("v1", "jetstream")  # what the demo source and `demo-data` write
RATE_MAX = 0.0  # a rate of 0 means "as fast as the pipeline takes it"


class ConfigError(ValueError):
    """A setting is missing or wrong; the message names the key. It is always one printable
    line (`tweetheat: config error: <key>: <why>`), whatever a key or value holds."""

    def __init__(self, message: str) -> None:
        super().__init__(printable(message))


# The language detectors streamer.ingest.langid registers (a test keeps the two in step).
DETECTOR_NAMES = ("default", "stopwords")

# Ranges the settings are checked against (README, "Settings"): what Redis, numpy/scikit-learn
# and the kernel accept, so a value that passes validation never fails later.
LIST_CAP_MAX = 10_000_000  # LTRIM takes a 64-bit index; the memory does not
SEED_MAX = 2**32 - 1  # numpy's RandomState (KMeans' random_state) takes 0..2**32-1
DAY = 86_400
WEEK = 7 * DAY
PATH_MAX = 4096
NAME_MAX = 255

# The longest line read or parsed, by default (`[source] max_line_bytes`).
DEFAULT_MAX_LINE_BYTES = 1_000_000


@dataclass(frozen=True)
class SourceSettings:
    kind: str = "demo"
    rate: float = 50.0  # posts per second; RATE_MAX for no pacing
    replay_files: tuple[str, ...] = ()
    exit_at_eof: bool = False
    from_start: bool = False  # replay: ignore the saved position and read the inputs again
    demo_seed: int = 1
    demo_geo_share: float = 0.01  # posts with an exact point (about 1%, as on the v1.1 sample)
    demo_count: int = 0  # 0: endless
    demo_format: str = "v1"  # "v1": Twitter v1.1 statuses; "jetstream": Bluesky Jetstream events
    record_dir: str = ""  # tee raw payloads to rotating .ndjson.gz files here
    record_max_mb: float = 100.0
    record_max_seconds: float = 3600.0
    partition: str = ""  # "i/N": read the i-th of N shares of the input (replay: by file)
    max_line_bytes: int = (
        DEFAULT_MAX_LINE_BYTES  # longer lines are skipped as too_long, never buffered whole
    )

    @property
    def partition_parts(self) -> tuple[int, int] | None:
        """(i, N) from "i/N", or None; validate() has checked the form."""
        if not self.partition:
            return None
        part, parts = self.partition.split("/")
        return int(part), int(parts)


# Environment variables that carry secrets, and the setting each one fills.
SECRET_ENV = {
    "TWITTER_BEARER_TOKEN": "v2_bearer_token",
    "TWITTER_CONSUMER_KEY": "v1_consumer_key",
    "TWITTER_CONSUMER_SECRET": "v1_consumer_secret",
    "TWITTER_ACCESS_TOKEN": "v1_access_token",
    "TWITTER_ACCESS_TOKEN_SECRET": "v1_access_token_secret",
}
JETSTREAM_INSTANCES = (
    "wss://jetstream1.us-east.bsky.network/subscribe",
    "wss://jetstream2.us-east.bsky.network/subscribe",
    "wss://jetstream1.us-west.bsky.network/subscribe",
    "wss://jetstream2.us-west.bsky.network/subscribe",
)


@dataclass(frozen=True)
class LiveSettings:
    """The live sources' endpoints and credentials. Secrets never show in a repr."""

    v2_url: str = "https://api.twitter.com/2/tweets/sample/stream"
    v2_bearer_token: str = field(default="", repr=False)
    v2_stall_timeout: float = 30.0
    v1_url: str = "https://stream.twitter.com/1.1/statuses/sample.json"
    v1_consumer_key: str = field(default="", repr=False)
    v1_consumer_secret: str = field(default="", repr=False)
    v1_access_token: str = field(default="", repr=False)
    v1_access_token_secret: str = field(default="", repr=False)
    v1_stall_timeout: float = 90.0
    jetstream_urls: tuple[str, ...] = JETSTREAM_INSTANCES
    jetstream_stall_timeout: float = 30.0
    jetstream_rewind_seconds: float = 5.0  # resume this far behind the saved cursor
    # --- Bluesky: subscribe filters and profile enrichment (streamer.runtime.enrichment) ---
    jetstream_wanted_dids: tuple[str, ...] = ()  # only these authors (Jetstream wantedDids)
    jetstream_wanted_collections: tuple[str, ...] = ()  # added to posts and profiles
    jetstream_enrich: bool = True  # look up posting authors' bios on the AppView
    jetstream_appview_url: str = "https://public.api.bsky.app"
    jetstream_lookups_per_second: float = 5.0  # getProfiles requests per second, at most
    jetstream_lookup_timeout: float = 10.0  # seconds per request
    jetstream_lookup_queue: int = 10_000  # DIDs waiting for a lookup; more are dropped
    jetstream_profile_ttl_hours: float = 24.0  # a looked-up DID is not asked again for this long
    jetstream_eof_drain_seconds: float = 60.0  # a finished replay waits this long for lookups

    def secrets_set(self) -> list[str]:
        return [name for name in SECRET_ENV.values() if getattr(self, name)]


@dataclass(frozen=True)
class RedisSettings:
    url: str = ""  # empty: start an embedded redis-server under data_dir
    key_prefix: str = "tweetheat:"
    list_cap: int = 100_000  # each hashtag_/geo_ list keeps at most this many entries


@dataclass(frozen=True)
class PipelineSettings:
    workers: int = 2
    batch_size: int = 500
    batch_timeout: float = 0.2
    max_inflight_batches: int = 4
    queue_size: int = 20_000
    instance: str = ""  # this ingest daemon's checkpoint name; "" = the source's name
    role: str = "all"  # "ingest": read and store only; "analyze": maps and refits only
    journal_max_mb: float = 512.0  # batches not yet in Redis kept on disk; then the source waits
    journal_keep_seconds: float = 10.0  # batches Redis took are kept this long, in case it crashes


@dataclass(frozen=True)
class LangSettings:
    detector: str = "default"
    languages: tuple[str, ...] = ()  # empty: the detector's default list
    trust_platform: bool = False  # use the platform's own language label when it is plausible


@dataclass(frozen=True)
class MapsSettings:
    interval: float = 30.0
    points: int = 400
    top_hashtags: int = 10
    top_window: int = 5000
    refresh: int = 30
    assets: str = "local"  # "local": Leaflet and outlines copied next to the pages; "cdn"


@dataclass(frozen=True)
class ClustersSettings:
    enabled: bool = True
    interval: float = 600.0  # seconds between refits
    max_users: int = 100_000  # the recent-user window: newest users kept ...
    max_age_hours: float = 24.0  # ... and none older than this
    k_min: int = 2
    k_max: int = 12
    min_cluster_size: int = 100
    min_users: int = 50  # fewer users than this: the refit is skipped with a log line
    seed: int = 0
    min_users_per_language: int = 200  # a language with fewer usable bios joins "other"
    k_limit: int = 24  # when the best k is k_max, the k range widens up to this
    history: int = 10  # sizes kept per cluster id (the last refits)
    match_similarity: float = 0.3  # centroid cosine that keeps a cluster's id across refits


# --- trends (docs/trends.md) ---
@dataclass(frozen=True)
class TrendSettings:
    """`[trends]`: event-time hashtag counts on the ingest path and the "Trending now" test."""

    enabled: bool = True
    bucket_seconds: int = 60  # a multiple of 60
    lateness_seconds: int = 300  # posts older than the newest bucket minus this are late
    clock_skew_seconds: int = 120  # live sources: posts dated later than now + this: undated
    top_k: int = 256  # tags kept per (language, bucket)
    retention_hours: float = 24.0  # event time kept (and the keys' wall-clock TTL)
    tag_points: int = 500  # newest points kept per tag (`points --tag`, the page's tag layer)
    point_tags: int = 512  # tags per language with a point list; the least recent go first
    window: int = 5  # buckets in the recent window
    history: int = 180  # buckets of baseline before it
    half_life: float = 60.0  # buckets
    min_support: int = 8  # posts in the window
    min_ratio: float = 1.6  # count / expected
    min_score: float = 3.5  # z
    min_history: int = 30  # buckets of history before a language reports
    short_window: int = 3  # newest buckets also tested alone (0: off)
    top: int = 10  # trends per language on the live page and in the summaries

    @property
    def retention_seconds(self) -> int:
        return int(self.retention_hours * 3600)


# --- end trends ---


@dataclass(frozen=True)
class HttpSettings:
    enabled: bool = True
    host: str = "127.0.0.1"  # loopback: /metrics and /maps/ are not for the whole network
    port: int = 8765  # 0: any free port (logged as http_listening)
    max_lag_seconds: float = 30.0  # /healthz answers 503 when commits fall further behind


# --- geolocation ([geo]) ---
# The evidence the ladder may use, best first (streamer.core.records.GEO_SOURCES); guessing a
# place from the post's text is not offered.
GEO_SOURCE_NAMES = ("exact", "place", "profile", "bio")


@dataclass(frozen=True)
class GeoSettings:
    enabled: bool = True  # false: only the post's own point is kept, as before geolocation
    sources: tuple[str, ...] = GEO_SOURCE_NAMES
    cache_dir: str = ""  # the gazetteer's cache file; empty: <data_dir>/geo
    cache_size: int = 1 << 16  # profile answers remembered per worker

    def cache_path(self, data_dir: str) -> Path:
        return Path(self.cache_dir) if self.cache_dir else Path(data_dir) / "geo"


# --- end geolocation ---


@dataclass(frozen=True)
class Settings:
    source: SourceSettings = field(default_factory=SourceSettings)
    live: LiveSettings = field(default_factory=LiveSettings)
    redis: RedisSettings = field(default_factory=RedisSettings)
    pipeline: PipelineSettings = field(default_factory=PipelineSettings)
    lang: LangSettings = field(default_factory=LangSettings)
    maps: MapsSettings = field(default_factory=MapsSettings)
    clusters: ClustersSettings = field(default_factory=ClustersSettings)
    http: HttpSettings = field(default_factory=HttpSettings)
    geo: GeoSettings = field(default_factory=GeoSettings)
    trends: TrendSettings = field(default_factory=TrendSettings)
    data_dir: str = "data"
    out_dir: str = "out"
    log_format: str = "console"
    log_level: str = "info"
    status_interval: float = 10.0

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    @property
    def out_path(self) -> Path:
        return Path(self.out_dir)


# TOML table -> (Settings attribute, its dataclass). Top-level keys live in [daemon].
_SECTIONS: dict[str, str] = {
    "source": "source",
    "sources": "live",
    "redis": "redis",
    "pipeline": "pipeline",
    "lang": "lang",
    "maps": "maps",
    "clusters": "clusters",
    "http": "http",
    "geo": "geo",
    "trends": "trends",
}
_DAEMON_KEYS = ("data_dir", "out_dir", "log_format", "log_level", "status_interval")
# Nested tables flatten into prefixed fields: [source.demo] seed -> source.demo_seed.
_TOML_RENAMES = {
    ("source", "demo"): "demo_",
    ("sources", "twitter_v2"): "v2_",
    ("sources", "twitter_v1"): "v1_",
    ("sources", "jetstream"): "jetstream_",
}
# The TOML names of secret fields, for messages about world-readable files.
_SECRET_TOML = {
    "v2_bearer_token": "sources.twitter_v2.bearer_token",
    "v1_consumer_key": "sources.twitter_v1.consumer_key",
    "v1_consumer_secret": "sources.twitter_v1.consumer_secret",
    "v1_access_token": "sources.twitter_v1.access_token",
    "v1_access_token_secret": "sources.twitter_v1.access_token_secret",
}


def parse_rate(value: object, key: str = "source.rate") -> float:
    """`"max"` (or 0) means unpaced; otherwise a positive number of posts per second."""
    if isinstance(value, str):
        if value.strip().lower() == "max":
            return RATE_MAX
        try:
            value = float(value)
        except ValueError:
            raise ConfigError(f"{key}: expected a number or 'max', got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{key}: expected a number or 'max', got {value!r}")
    if not math.isfinite(value):
        raise ConfigError(f"{key}: expected a finite number or 'max', got {value!r}")
    if value < 0:
        raise ConfigError(f"{key}: must be positive or 'max', got {value!r}")
    return float(value)


def _coerce(key: str, value: Any, default: Any) -> Any:
    """Check a TOML value against the type of its default."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected a whole number, got {value!r}")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        if not math.isfinite(value):  # TOML has inf and nan; no setting means either
            raise ConfigError(f"{key}: expected a finite number, got {value!r}")
        return float(value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        return value
    if isinstance(default, tuple):
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{key}: expected a list of strings, got {value!r}")
        return tuple(value)
    raise ConfigError(f"{key}: unsupported setting")  # pragma: no cover - programming error


def _apply_table(obj: Any, table: dict[str, Any], section: str) -> Any:
    known = {f.name: f for f in fields(obj)}
    changes: dict[str, Any] = {}
    for raw_key, value in table.items():
        if isinstance(value, dict):
            prefix = _TOML_RENAMES.get((section, raw_key))
            if prefix is None:
                raise ConfigError(f"{section}.{raw_key}: unknown table")
            for sub_key, sub_value in value.items():
                name = prefix + sub_key
                full = f"{section}.{raw_key}.{sub_key}"
                if name not in known:
                    raise ConfigError(f"{full}: unknown key")
                changes[name] = _coerce(full, sub_value, getattr(obj, name))
            continue
        full = f"{section}.{raw_key}"
        if raw_key not in known:
            raise ConfigError(f"{full}: unknown key")
        if section == "source" and raw_key == "rate":
            changes[raw_key] = parse_rate(value, full)
        else:
            changes[raw_key] = _coerce(full, value, getattr(obj, raw_key))
    return replace(obj, **changes)


def load_settings(path: Path | str | None = None, env: dict[str, str] | None = None) -> Settings:
    """Read a TOML file (if any) and the environment into validated Settings."""
    settings = Settings()
    if path is not None:
        path = Path(path)
        settings = apply_toml(settings, read_toml(path), check=False)
        refuse_readable_secrets(path, settings.live)
        refuse_readable_redis_password(path, settings.redis.url)
    env = dict(os.environ) if env is None else env
    if env.get("TWEETHEAT_REDIS_URL"):
        settings = replace(settings, redis=replace(settings.redis, url=env["TWEETHEAT_REDIS_URL"]))
    if env.get("TWEETHEAT_HTTP_PORT"):
        port = env["TWEETHEAT_HTTP_PORT"].strip()
        # isdigit() alone takes "²" and "٣", which int() then refuses or reads as a digit.
        if not (port.isascii() and port.isdigit()) or len(port) > 5:
            raise ConfigError(f"TWEETHEAT_HTTP_PORT: expected a port number, got {port!r}")
        settings = replace(settings, http=replace(settings.http, port=int(port)))
    if env.get("TWEETHEAT_GEO_CACHE_DIR"):  # one gazetteer shared by many data dirs (tests)
        settings = replace(
            settings, geo=replace(settings.geo, cache_dir=env["TWEETHEAT_GEO_CACHE_DIR"])
        )
    from_env: dict[str, Any] = {
        field_name: env[var] for var, field_name in SECRET_ENV.items() if env.get(var)
    }
    if from_env:
        settings = replace(settings, live=replace(settings.live, **from_env))
    return validate(settings)


def read_toml(path: Path) -> dict[str, Any]:
    """The file's TOML table; every way of failing (missing, a directory, unreadable, not
    UTF-8, not TOML) is a ConfigError, never a traceback."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"config: file not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"config: {path} is a directory, not a file") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        raise ConfigError(f"config: cannot read {path}: {_os_reason(exc)}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config: {path} is not UTF-8 (byte {exc.start})") from None
    try:
        return tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config: {path} is not valid TOML: {exc}") from None


def _os_reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc)


def refuse_readable_redis_password(path: Path, url: str) -> None:
    """A password in redis.url is a secret like the tokens: not in a file others can read."""
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None  # not a URL validate() accepts anyway
    if password and path.stat().st_mode & 0o077:
        raise ConfigError(
            f"redis.url: {path} holds a Redis password but other users can read it; "
            f"run 'chmod 600 {path}' or move the URL to TWEETHEAT_REDIS_URL"
        )


def refuse_readable_secrets(path: Path, live: LiveSettings) -> None:
    """A file holding tokens must be private to its owner, as ssh insists for its keys."""
    held = live.secrets_set()
    if held and path.stat().st_mode & 0o077:
        raise ConfigError(
            f"{_SECRET_TOML[held[0]]}: {path} holds secrets but other users can read it; "
            f"run 'chmod 600 {path}' or move the secret to {_env_name(held[0])}"
        )


def _env_name(field_name: str) -> str:
    return next(var for var, name in SECRET_ENV.items() if name == field_name)


def apply_toml(settings: Settings, data: dict[str, Any], check: bool = True) -> Settings:
    changes: dict[str, Any] = {}
    for section, table in data.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{section}: expected a table")
        if section == "daemon":
            for key, value in table.items():
                if key not in _DAEMON_KEYS:
                    raise ConfigError(f"daemon.{key}: unknown key")
                changes[key] = _coerce(f"daemon.{key}", value, getattr(settings, key))
        elif section in _SECTIONS:
            attr = _SECTIONS[section]
            changes[attr] = _apply_table(getattr(settings, attr), table, section)
        else:
            raise ConfigError(f"{section}: unknown table")
    settings = replace(settings, **changes)
    return validate(settings) if check else settings


def override(settings: Settings, **changes: Any) -> Settings:
    """Apply command-line overrides (None means 'not given') and validate again."""
    src, red, http, pipe, top = {}, {}, {}, {}, {}
    live_url: str | None = None
    for key, value in changes.items():
        if value is None:
            continue
        if key in ("kind", "rate", "replay_files", "exit_at_eof", "demo_count", "demo_seed",
                   "record_dir", "from_start", "partition", "demo_format"):  # fmt: skip
            src[key] = value
        elif key in ("role", "instance"):
            pipe[key] = value
        elif key == "stream_url":
            live_url = value
        elif key in ("url",):
            red[key] = value
        elif key in ("http_port", "http_enabled"):
            http[key.removeprefix("http_")] = value
        else:
            top[key] = value
    settings = replace(
        settings,
        source=replace(settings.source, **src),
        redis=replace(settings.redis, **red),
        http=replace(settings.http, **http),
        pipeline=replace(settings.pipeline, **pipe),
        **top,
    )
    if live_url is not None:
        settings = replace(
            settings, live=with_stream_url(settings.live, settings.source.kind, live_url)
        )
    return validate(settings)


def with_stream_url(live: LiveSettings, kind: str, url: str) -> LiveSettings:
    """--stream-url points the chosen live source at another endpoint (tests, self-hosting)."""
    if kind == "twitter-v2":
        return replace(live, v2_url=url)
    if kind == "twitter-v1":
        return replace(live, v1_url=url)
    if kind == "jetstream":
        return replace(live, jetstream_urls=(url,))
    raise ConfigError(f"--stream-url: only for {', '.join(LIVE_SOURCES)}, not {kind!r}")


ROLES = ("all", "ingest", "analyze")


def _partition_ok(text: str) -> bool:
    found = re.fullmatch(r"([0-9]{1,4})/([0-9]{1,4})", text)
    return found is not None and 1 <= int(found.group(1)) <= int(found.group(2))


def _cluster_url_problem(url: str) -> str | None:
    """None for a usable redis+cluster:// URL; otherwise what is wrong with `url` as one."""
    if not is_cluster_url(url):
        return (
            "expected redis://, rediss://, unix:// (or empty for embedded), or "
            "redis+cluster://host:port[,host:port...] / rediss+cluster://... for a Redis Cluster"
        )
    try:
        parse_cluster_url(url)
    except ValueError as exc:
        return f"{url.split('://', 1)[0]}://: {exc}"
    return None


def validate(s: Settings) -> Settings:
    """Cross-field and range checks; raise ConfigError naming the first bad key."""
    checks: list[tuple[bool, str]] = [
        (s.source.kind in SOURCES, f"source.kind: expected one of {', '.join(SOURCES)}"),
        (s.source.rate >= 0, "source.rate: must be positive or 'max'"),
        (0.0 <= s.source.demo_geo_share <= 1.0, "source.demo.geo_share: must be within 0..1"),
        (s.source.demo_count >= 0, "source.demo.count: must be >= 0"),
        (s.source.demo_format in DEMO_FORMATS, "source.demo.format: expected v1 or jetstream"),
        (
            1024 <= s.source.max_line_bytes <= 64 * 1024 * 1024,
            "source.max_line_bytes: must be within 1024..67108864",
        ),
        (
            s.redis.url == ""
            or s.redis.url.startswith(("redis://", "rediss://", "unix://"))
            or _cluster_url_problem(s.redis.url) is None,
            f"redis.url: {_cluster_url_problem(s.redis.url)}",
        ),
        (
            not s.redis.url.startswith(("redis+cluster://", "rediss+cluster://"))
            or not set("{}") & set(s.redis.key_prefix),
            "redis.key_prefix: no '{' or '}' on a Redis Cluster (braces make the hash tag)",
        ),
        (
            len(s.redis.key_prefix) <= 100 and printable(s.redis.key_prefix) == s.redis.key_prefix,
            "redis.key_prefix: at most 100 characters, no control characters",
        ),
        (
            1 <= s.redis.list_cap <= LIST_CAP_MAX,
            f"redis.list_cap: must be within 1..{LIST_CAP_MAX}",
        ),
        (1 <= s.pipeline.workers <= 64, "pipeline.workers: must be within 1..64"),
        (1 <= s.pipeline.batch_size <= 100_000, "pipeline.batch_size: must be within 1..100000"),
        (0 < s.pipeline.batch_timeout <= 60, "pipeline.batch_timeout: must be within (0, 60]"),
        (1 <= s.pipeline.max_inflight_batches <= 256, "pipeline.max_inflight_batches: 1..256"),
        (1 <= s.pipeline.queue_size <= 10_000_000, "pipeline.queue_size: must be >= 1"),
        (s.pipeline.journal_max_mb > 0, "pipeline.journal_max_mb: must be > 0"),
        (s.pipeline.journal_keep_seconds >= 0, "pipeline.journal_keep_seconds: must be >= 0"),
        (
            re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9_.-]{0,63})?", s.pipeline.instance) is not None,
            "pipeline.instance: letters, digits, '_', '.', '-' (at most 64)",
        ),
        (
            s.pipeline.role in ROLES,
            f"pipeline.role: expected one of {', '.join(ROLES)}",
        ),
        (
            s.source.partition == "" or _partition_ok(s.source.partition),
            "source.partition: expected i/N with 1 <= i <= N, e.g. 1/2 and 2/2",
        ),
        (
            s.source.partition == "" or s.source.kind == "replay",
            "source.partition: only a replay can be split (by file)",
        ),
        (
            s.pipeline.role != "analyze" or bool(s.redis.url),
            "pipeline.role: 'analyze' reads what ingest daemons stored: set redis.url",
        ),
        (0 < s.maps.interval <= WEEK, f"maps.interval: must be within (0, {WEEK}] seconds"),
        (1 <= s.maps.points <= 100_000, "maps.points: must be within 1..100000"),
        (1 <= s.maps.top_hashtags <= 1000, "maps.top_hashtags: must be within 1..1000"),
        (1 <= s.maps.top_window <= 1_000_000, "maps.top_window: must be within 1..1000000"),
        (0 <= s.maps.refresh <= DAY, f"maps.refresh: must be within 0..{DAY} (0: off)"),
        (s.maps.assets in ("local", "cdn"), "maps.assets: expected 'local' or 'cdn'"),
        (10 <= s.clusters.interval <= WEEK, f"clusters.interval: must be within 10..{WEEK} s"),
        (1 <= s.clusters.max_users <= 10_000_000, "clusters.max_users: 1..10000000"),
        (
            0 < s.clusters.max_age_hours <= 24 * 3650,
            "clusters.max_age_hours: must be within (0, 87600]",
        ),
        (
            2 <= s.clusters.k_min <= s.clusters.k_max <= 100,
            "clusters.k_min/k_max: 2 <= k_min <= k_max <= 100",
        ),
        (
            2 <= s.clusters.min_cluster_size <= s.clusters.max_users,
            "clusters.min_cluster_size: must be within 2..clusters.max_users",
        ),
        (
            s.clusters.k_max <= s.clusters.min_users <= s.clusters.max_users,
            "clusters.min_users: must be within clusters.k_max..clusters.max_users "
            "(KMeans needs at least k_max users)",
        ),
        (
            0 <= s.clusters.seed <= SEED_MAX,
            f"clusters.seed: must be within 0..{SEED_MAX}",
        ),
        (
            0 <= s.source.demo_seed <= SEED_MAX,
            f"source.demo.seed: must be within 0..{SEED_MAX}",
        ),
        (
            s.clusters.min_users_per_language >= max(s.clusters.min_users, s.clusters.k_max + 1),
            "clusters.min_users_per_language: must be >= min_users and > k_max",
        ),
        (
            s.clusters.k_max <= s.clusters.k_limit <= 1000,
            "clusters.k_limit: k_max <= k_limit <= 1000",
        ),
        (1 <= s.clusters.history <= 1000, "clusters.history: must be within 1..1000"),
        (
            0.0 <= s.clusters.match_similarity <= 1.0,
            "clusters.match_similarity: must be within 0..1",
        ),
        (s.log_format in LOG_FORMATS, f"daemon.log_format: expected one of {LOG_FORMATS}"),
        (
            s.log_level in ("debug", "info", "warning", "error"),
            "daemon.log_level: expected debug, info, warning or error",
        ),
        (
            0 < s.status_interval <= DAY,
            f"daemon.status_interval: must be within (0, {DAY}] seconds",
        ),
        (0 <= s.http.port <= 65535, "http.port: must be within 0..65535"),
        (bool(s.http.host.strip()), "http.host: must not be empty"),
        (s.http.max_lag_seconds > 0, "http.max_lag_seconds: must be > 0"),
        *_trend_checks(s.trends),
        (bool(s.data_dir), "daemon.data_dir: must not be empty"),
        (
            all(src in GEO_SOURCE_NAMES for src in s.geo.sources),
            f"geo.sources: expected some of {', '.join(GEO_SOURCE_NAMES)}",
        ),
        (1 <= s.geo.cache_size <= 10_000_000, "geo.cache_size: must be within 1..10000000"),
        (bool(s.out_dir), "daemon.out_dir: must not be empty"),
    ]
    for ok, message in checks:
        if not ok:
            raise ConfigError(message)
    _validate_paths(s)
    _validate_live(s)
    if s.source.kind == "replay" and not s.source.replay_files:
        raise ConfigError("source.replay_files: replay needs at least one file, glob or '-'")
    if s.lang.detector not in DETECTOR_NAMES:
        raise ConfigError(f"lang.detector: expected one of {', '.join(sorted(DETECTOR_NAMES))}")
    for code in s.lang.languages:
        if not (code.isascii() and code.isalpha() and code.islower() and len(code) == 2):
            raise ConfigError(f"lang.languages: {code!r} is not an ISO 639-1 code")
    return s


def _trend_checks(t: TrendSettings) -> list[tuple[bool, str]]:
    """`[trends]`: every value range-checked (docs/trends.md)."""
    return [
        (
            60 <= t.bucket_seconds <= 3600 and t.bucket_seconds % 60 == 0,
            "trends.bucket_seconds: a multiple of 60 within 60..3600",
        ),
        (
            0 <= t.lateness_seconds <= DAY,
            f"trends.lateness_seconds: must be within 0..{DAY}",
        ),
        (
            0 <= t.clock_skew_seconds <= 3600,
            "trends.clock_skew_seconds: must be within 0..3600",
        ),
        (1 <= t.top_k <= 10_000, "trends.top_k: must be within 1..10000"),
        (
            1.0 <= t.retention_hours <= 24 * 31,
            "trends.retention_hours: must be within 1..744",
        ),
        (
            t.retention_seconds >= (t.window + t.history) * t.bucket_seconds,
            "trends.retention_hours: must cover trends.window + trends.history buckets",
        ),
        (0 <= t.tag_points <= 10_000, "trends.tag_points: must be within 0..10000 (0: off)"),
        (1 <= t.point_tags <= 100_000, "trends.point_tags: must be within 1..100000"),
        (1 <= t.window <= 60, "trends.window: must be within 1..60"),
        (t.window <= t.history <= 10_000, "trends.history: must be within trends.window..10000"),
        (0 < t.half_life <= 10_000, "trends.half_life: must be within (0, 10000] buckets"),
        (1 <= t.min_support <= 1_000_000, "trends.min_support: must be within 1..1000000"),
        (1.0 <= t.min_ratio <= 1000.0, "trends.min_ratio: must be within 1..1000"),
        (0.0 < t.min_score <= 100.0, "trends.min_score: must be within (0, 100]"),
        (
            1 <= t.min_history <= t.history,
            "trends.min_history: must be within 1..trends.history",
        ),
        (
            0 <= t.short_window <= t.window,
            "trends.short_window: must be within 0..trends.window (0: off)",
        ),
        (1 <= t.top <= 1000, "trends.top: must be within 1..1000"),
    ]


def path_problem(value: str, want_dir: bool = True) -> str | None:
    """What makes `value` unusable as a path, checked before anything tries to use it: the
    kernel refuses NUL bytes, names over NAME_MAX and paths over PATH_MAX with tracebacks."""
    if "\x00" in value:
        return "contains a NUL byte"
    encoded = os.fsencode(value)
    if len(encoded) > PATH_MAX:
        return f"longer than {PATH_MAX} bytes"
    if any(len(part) > NAME_MAX for part in encoded.split(b"/")):
        return f"has a name longer than {NAME_MAX} bytes"
    if want_dir and os.path.exists(value) and not os.path.isdir(value):
        return "names a file, not a directory"
    return None


def _validate_paths(s: Settings) -> None:
    for key, value in (
        ("daemon.data_dir", s.data_dir),
        ("daemon.out_dir", s.out_dir),
        ("source.record_dir", s.source.record_dir),
        ("geo.cache_dir", s.geo.cache_dir),
    ):
        problem = path_problem(value) if value else None
        if problem is not None:
            raise ConfigError(f"{key}: {problem}")
    for pattern in s.source.replay_files:
        problem = path_problem(pattern, want_dir=False)
        if problem is not None:
            raise ConfigError(f"source.replay_files: {pattern[:80]!r} {problem}")


def url_problem(url: str, need_host: bool = True) -> str | None:
    """What makes `url` unusable as a network address (None if nothing): checked here, so
    a URL that passes validation never fails later in the HTTP, websocket or Redis client."""
    if printable(url) != url or " " in url:
        return "contains spaces or control characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not one
    except ValueError as exc:
        return f"not a valid URL ({exc})"
    if need_host and not parts.hostname:  # redis-py takes "redis://" as localhost
        return "has no host"
    return None


def _validate_bluesky(live: LiveSettings) -> None:
    """[sources.jetstream]'s filters and profile-enrichment settings."""
    checks = [
        (
            live.jetstream_appview_url.startswith(("http://", "https://")),
            "sources.jetstream.appview_url: expected an http:// or https:// URL",
        ),
        (
            0 < live.jetstream_lookups_per_second <= 1000,
            "sources.jetstream.lookups_per_second: must be within (0, 1000]",
        ),
        (
            0 < live.jetstream_lookup_timeout <= 300,
            "sources.jetstream.lookup_timeout: must be within (0, 300] seconds",
        ),
        (
            1 <= live.jetstream_lookup_queue <= 10_000_000,
            "sources.jetstream.lookup_queue: must be within 1..10000000",
        ),
        (
            0 < live.jetstream_profile_ttl_hours <= 24 * 365,
            "sources.jetstream.profile_ttl_hours: must be within (0, 8760]",
        ),
        (
            0 <= live.jetstream_eof_drain_seconds <= 3600,
            "sources.jetstream.eof_drain_seconds: must be within 0..3600",
        ),
        (
            all(d.startswith("did:") for d in live.jetstream_wanted_dids),
            "sources.jetstream.wanted_dids: each must be a DID (did:plc:... or did:web:...)",
        ),
        (
            len(live.jetstream_wanted_dids) <= 10_000,
            "sources.jetstream.wanted_dids: Jetstream takes at most 10000",
        ),
        (
            all(
                re.fullmatch(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(\.\*)?", c)
                for c in live.jetstream_wanted_collections
            ),
            "sources.jetstream.wanted_collections: NSIDs such as app.bsky.feed.like or "
            "app.bsky.graph.*",
        ),
        (
            len(live.jetstream_wanted_collections) <= 98,
            "sources.jetstream.wanted_collections: Jetstream takes at most 100 with ours",
        ),
    ]
    for ok, message in checks:
        if not ok:
            raise ConfigError(message)


def _validate_live(s: Settings) -> None:
    live, src = s.live, s.source
    urls = [("sources.twitter_v2.url", live.v2_url), ("sources.twitter_v1.url", live.v1_url)]
    for key, url in urls:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"{key}: expected an http:// or https:// URL")
    if not live.jetstream_urls or not all(
        u.startswith(("ws://", "wss://")) for u in live.jetstream_urls
    ):
        raise ConfigError("sources.jetstream.urls: expected one or more ws:// or wss:// URLs")
    checked = [*urls, *(("sources.jetstream.urls", u) for u in live.jetstream_urls)]
    if s.redis.url.startswith(("redis://", "rediss://")):
        checked.append(("redis.url", s.redis.url))
    for key, url in checked:
        problem = url_problem(url, need_host=key != "redis.url")
        if problem is not None:
            raise ConfigError(f"{key}: {problem}")
    for key, value in (
        ("sources.twitter_v2.stall_timeout", live.v2_stall_timeout),
        ("sources.twitter_v1.stall_timeout", live.v1_stall_timeout),
        ("sources.jetstream.stall_timeout", live.jetstream_stall_timeout),
    ):
        if not 0 < value <= 3600:
            raise ConfigError(f"{key}: must be within (0, 3600] seconds")
    if not 0 <= live.jetstream_rewind_seconds <= 3600:
        raise ConfigError("sources.jetstream.rewind_seconds: must be within 0..3600")
    _validate_bluesky(live)
    if src.record_max_mb <= 0 or src.record_max_seconds <= 0:
        raise ConfigError("source.record_max_mb / record_max_seconds: must be > 0")
    if src.kind == "twitter-v2" and not live.v2_bearer_token:
        raise ConfigError(
            "sources.twitter_v2.bearer_token: twitter-v2 needs a bearer token "
            "(set TWITTER_BEARER_TOKEN)"
        )
    if src.kind == "twitter-v1":
        for name in ("v1_consumer_key", "v1_consumer_secret", "v1_access_token",
                     "v1_access_token_secret"):  # fmt: skip
            if not getattr(live, name):
                raise ConfigError(
                    f"{_SECRET_TOML[name]}: twitter-v1 needs it (set {_env_name(name)})"
                )
