"""Settings: one typed object, read from config.toml, then the environment, then the command line.

A bad value stops start-up with one line naming the key and what is wrong (`ConfigError`).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

SOURCES = ("demo", "replay")
LOG_FORMATS = ("console", "json")
RATE_MAX = 0.0  # a rate of 0 means "as fast as the pipeline takes it"


class ConfigError(ValueError):
    """A setting is missing or wrong; the message names the key."""


@dataclass(frozen=True)
class SourceSettings:
    kind: str = "demo"
    rate: float = 50.0  # posts per second; RATE_MAX for no pacing
    replay_files: tuple[str, ...] = ()
    exit_at_eof: bool = False
    demo_seed: int = 1
    demo_geo_share: float = 0.3
    demo_count: int = 0  # 0: endless


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


@dataclass(frozen=True)
class LangSettings:
    detector: str = "stopwords"
    languages: tuple[str, ...] = ()  # empty: the detector's default list


@dataclass(frozen=True)
class MapsSettings:
    interval: float = 30.0
    points: int = 400
    top_hashtags: int = 10
    top_window: int = 5000
    refresh: int = 30


@dataclass(frozen=True)
class Settings:
    source: SourceSettings = field(default_factory=SourceSettings)
    redis: RedisSettings = field(default_factory=RedisSettings)
    pipeline: PipelineSettings = field(default_factory=PipelineSettings)
    lang: LangSettings = field(default_factory=LangSettings)
    maps: MapsSettings = field(default_factory=MapsSettings)
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
    "redis": "redis",
    "pipeline": "pipeline",
    "lang": "lang",
    "maps": "maps",
}
_DAEMON_KEYS = ("data_dir", "out_dir", "log_format", "log_level", "status_interval")
_TOML_RENAMES = {("source", "demo"): "demo_"}  # [source.demo] seed -> source.demo_seed


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
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config: file not found: {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config: {path} is not valid TOML: {exc}") from None
        settings = apply_toml(settings, data)
    env = dict(os.environ) if env is None else env
    if env.get("TWEETHEAT_REDIS_URL"):
        settings = replace(settings, redis=replace(settings.redis, url=env["TWEETHEAT_REDIS_URL"]))
    return settings


def apply_toml(settings: Settings, data: dict[str, Any]) -> Settings:
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
    return validate(replace(settings, **changes))


def override(settings: Settings, **changes: Any) -> Settings:
    """Apply command-line overrides (None means 'not given') and validate again."""
    src, red, top = {}, {}, {}
    for key, value in changes.items():
        if value is None:
            continue
        if key in ("kind", "rate", "replay_files", "exit_at_eof", "demo_count", "demo_seed"):
            src[key] = value
        elif key in ("url",):
            red[key] = value
        else:
            top[key] = value
    return validate(
        replace(
            settings,
            source=replace(settings.source, **src),
            redis=replace(settings.redis, **red),
            **top,
        )
    )


def validate(s: Settings) -> Settings:
    """Cross-field and range checks; raise ConfigError naming the first bad key."""
    checks: list[tuple[bool, str]] = [
        (s.source.kind in SOURCES, f"source.kind: expected one of {', '.join(SOURCES)}"),
        (s.source.rate >= 0, "source.rate: must be positive or 'max'"),
        (0.0 <= s.source.demo_geo_share <= 1.0, "source.demo.geo_share: must be within 0..1"),
        (s.source.demo_count >= 0, "source.demo.count: must be >= 0"),
        (
            s.redis.url == "" or s.redis.url.startswith(("redis://", "rediss://", "unix://")),
            "redis.url: expected redis://, rediss:// or unix:// (or empty for embedded)",
        ),
        (s.redis.list_cap >= 1, "redis.list_cap: must be >= 1"),
        (1 <= s.pipeline.workers <= 64, "pipeline.workers: must be within 1..64"),
        (1 <= s.pipeline.batch_size <= 100_000, "pipeline.batch_size: must be within 1..100000"),
        (0 < s.pipeline.batch_timeout <= 60, "pipeline.batch_timeout: must be within (0, 60]"),
        (1 <= s.pipeline.max_inflight_batches <= 256, "pipeline.max_inflight_batches: 1..256"),
        (1 <= s.pipeline.queue_size <= 10_000_000, "pipeline.queue_size: must be >= 1"),
        (s.maps.interval > 0, "maps.interval: must be > 0"),
        (1 <= s.maps.points <= 100_000, "maps.points: must be within 1..100000"),
        (1 <= s.maps.top_hashtags <= 1000, "maps.top_hashtags: must be within 1..1000"),
        (1 <= s.maps.top_window <= 1_000_000, "maps.top_window: must be within 1..1000000"),
        (s.maps.refresh >= 1, "maps.refresh: must be >= 1"),
        (s.log_format in LOG_FORMATS, f"daemon.log_format: expected one of {LOG_FORMATS}"),
        (
            s.log_level in ("debug", "info", "warning", "error"),
            "daemon.log_level: expected debug, info, warning or error",
        ),
        (s.status_interval > 0, "daemon.status_interval: must be > 0"),
        (bool(s.data_dir), "daemon.data_dir: must not be empty"),
        (bool(s.out_dir), "daemon.out_dir: must not be empty"),
    ]
    for ok, message in checks:
        if not ok:
            raise ConfigError(message)
    if s.source.kind == "replay" and not s.source.replay_files:
        raise ConfigError("source.replay_files: replay needs at least one file, glob or '-'")
    from streamer.langid import DETECTORS

    if s.lang.detector not in DETECTORS:
        raise ConfigError(f"lang.detector: expected one of {', '.join(sorted(DETECTORS))}")
    for code in s.lang.languages:
        if not (code.isascii() and code.isalpha() and code.islower() and len(code) == 2):
            raise ConfigError(f"lang.languages: {code!r} is not an ISO 639-1 code")
    return s
