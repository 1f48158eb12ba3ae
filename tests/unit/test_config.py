from __future__ import annotations

from pathlib import Path

import pytest

from streamer.config import RATE_MAX, ConfigError, Settings, load_settings, override, parse_rate

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(text)
    return path


def test_shipped_config_toml_equals_the_built_in_defaults() -> None:
    # config.toml documents every key with its default: it must say exactly what the code does.
    assert load_settings(REPO / "config.toml", env={}) == Settings()


def test_values_are_read_and_typed(tmp_path: Path) -> None:
    s = load_settings(
        write(
            tmp_path,
            '[source]\nkind = "replay"\nreplay_files = ["a.ndjson"]\nrate = "max"\n'
            "[source.demo]\nseed = 9\n[pipeline]\nworkers = 3\n[daemon]\nstatus_interval = 2\n",
        ),
        env={},
    )
    assert s.source.kind == "replay" and s.source.rate == RATE_MAX
    assert s.source.demo_seed == 9 and s.pipeline.workers == 3
    assert s.status_interval == 2.0


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[pipeline]\nworkers = 0\n", "pipeline.workers"),
        ('[pipeline]\nworkers = "two"\n', "pipeline.workers"),
        ("[pipeline]\nwrokers = 2\n", "pipeline.wrokers"),
        ('[source]\nkind = "firehose"\n', "source.kind"),
        ('[source]\nrate = "fast"\n', "source.rate"),
        ("[source]\nrate = -5\n", "source.rate"),
        ('[source]\nkind = "replay"\n', "source.replay_files"),
        ('[redis]\nurl = "http://x"\n', "redis.url"),
        ('[lang]\ndetector = "magic"\n', "lang.detector"),
        ('[lang]\nlanguages = ["english"]\n', "lang.languages"),
        ('[daemon]\nlog_format = "xml"\n', "daemon.log_format"),
        ("[maps]\npoints = 0\n", "maps.points"),
        ("[nope]\nx = 1\n", "nope"),
        ("[source.demo]\nseeds = 1\n", "source.demo.seeds"),
        ("not toml at all =", "config"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, text), env={})
    assert str(err.value).startswith(key)


def test_environment_and_command_line_override(tmp_path: Path) -> None:
    path = write(tmp_path, '[redis]\nurl = "redis://file:6379"\n')
    s = load_settings(path, env={"TWEETHEAT_REDIS_URL": "redis://:secret@env:6379/1"})
    assert s.redis.url == "redis://:secret@env:6379/1"
    s = override(s, url="unix:///tmp/r.sock", rate=10.0, kind=None)
    assert s.redis.url == "unix:///tmp/r.sock" and s.source.rate == 10.0
    with pytest.raises(ConfigError, match=r"^source\.replay_files"):
        override(s, kind="replay")


def test_parse_rate() -> None:
    assert parse_rate("max") == RATE_MAX
    assert parse_rate("12.5") == 12.5
    assert parse_rate(7) == 7.0
    for bad in ("soon", True, -1, None):
        with pytest.raises(ConfigError):
            parse_rate(bad)


def test_secrets_come_from_the_environment_and_never_show_in_repr(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[source]\nkind = "twitter-v2"\n')
    with pytest.raises(ConfigError, match=r"^sources.twitter_v2.bearer_token: .*TWITTER_BEARER"):
        load_settings(cfg, env={})
    settings = load_settings(cfg, env={"TWITTER_BEARER_TOKEN": "s3cr3t-token"})
    assert settings.live.v2_bearer_token == "s3cr3t-token"
    assert "s3cr3t-token" not in repr(settings)


def test_a_readable_config_holding_a_secret_is_refused(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[sources.twitter_v1]\nconsumer_secret = "hunter2"\n')
    cfg.chmod(0o644)
    with pytest.raises(ConfigError) as err:
        load_settings(cfg, env={})
    assert str(err.value).startswith("sources.twitter_v1.consumer_secret:")
    assert "chmod 600" in str(err.value) and "hunter2" not in str(err.value)
    cfg.chmod(0o600)
    assert load_settings(cfg, env={}).live.v1_consumer_secret == "hunter2"


def test_stream_url_points_the_chosen_live_source_elsewhere() -> None:
    env = {"TWITTER_BEARER_TOKEN": "t"}
    base = load_settings(None, env=env)
    v2 = override(base, kind="twitter-v2", stream_url="http://127.0.0.1:9/2/tweets/sample/stream")
    assert v2.live.v2_url == "http://127.0.0.1:9/2/tweets/sample/stream"
    jet = override(base, kind="jetstream", stream_url="ws://127.0.0.1:9/subscribe")
    assert jet.live.jetstream_urls == ("ws://127.0.0.1:9/subscribe",)
    with pytest.raises(ConfigError, match=r"^--stream-url"):
        override(base, stream_url="http://127.0.0.1:9/")  # demo has no endpoint


# --- trends ---


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("bucket_seconds = 90", "trends.bucket_seconds"),
        ("bucket_seconds = 0", "trends.bucket_seconds"),
        ("lateness_seconds = -1", "trends.lateness_seconds"),
        ("clock_skew_seconds = 7200", "trends.clock_skew_seconds"),
        ("top_k = 0", "trends.top_k"),
        ("retention_hours = 0.5", "trends.retention_hours"),
        ("retention_hours = 2.0", "trends.retention_hours"),  # shorter than window + history
        ("tag_points = -1", "trends.tag_points"),
        ("point_tags = 0", "trends.point_tags"),
        ("window = 0", "trends.window"),
        ("history = 3", "trends.history"),
        ("half_life = 0", "trends.half_life"),
        ("min_support = 0", "trends.min_support"),
        ("min_ratio = 0.5", "trends.min_ratio"),
        ("min_score = 0", "trends.min_score"),
        ("min_history = 500", "trends.min_history"),
        ("short_window = 9", "trends.short_window"),
        ("top = 0", "trends.top"),
        ('enabled = "yes"', "trends.enabled"),
        ("colour = 1", "trends.colour"),
    ],
)
def test_bad_trend_settings_name_the_key_in_one_line(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, f"[trends]\n{text}\n"), env={})
    assert str(err.value).startswith(key) and "\n" not in str(err.value)


def test_trend_settings_are_read(tmp_path: Path) -> None:
    s = load_settings(
        write(tmp_path, "[trends]\nmin_score = 3.5\nretention_hours = 6\ntop_k = 64\n"), env={}
    )
    assert (s.trends.min_score, s.trends.retention_seconds, s.trends.top_k) == (3.5, 21600, 64)
