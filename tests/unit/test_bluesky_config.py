"""[sources.jetstream] filters and enrichment settings, and how they reach the source."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from streamer.config import ConfigError, Settings, apply_toml, override
from streamer.runtime.enrichment import enrichment_wanted
from streamer.sources.factory import make_source
from streamer.sources.jetstream import JetstreamSource

DID_A = "did:plc:eygmaihciaxprqvxpfvl6flk"
DID_B = "did:web:example.com"


def jetstream_settings(**table: object) -> Settings:
    return apply_toml(Settings(), {"source": {"kind": "jetstream"},
                                   "sources": {"jetstream": table}})  # fmt: skip


def test_defaults() -> None:
    live = Settings().live
    assert live.jetstream_enrich is True
    assert live.jetstream_appview_url == "https://public.api.bsky.app"
    assert (live.jetstream_lookups_per_second, live.jetstream_profile_ttl_hours) == (5.0, 24.0)
    assert (live.jetstream_wanted_dids, live.jetstream_wanted_collections) == ((), ())


def test_filters_go_into_the_subscribe_url() -> None:
    settings = jetstream_settings(
        wanted_dids=[DID_A, DID_B], wanted_collections=["app.bsky.feed.like", "app.bsky.graph.*"]
    )
    source = make_source(settings)
    assert isinstance(source, JetstreamSource)
    query = parse_qsl(urlsplit(source.subscribe_url(source.urls[0])).query)
    assert [v for k, v in query if k == "wantedDids"] == [DID_A, DID_B]
    assert [v for k, v in query if k == "wantedCollections"] == [
        "app.bsky.feed.post", "app.bsky.actor.profile", "app.bsky.feed.like", "app.bsky.graph.*",
    ]  # fmt: skip


def test_no_filters_no_wanted_dids() -> None:
    source = make_source(jetstream_settings())
    assert isinstance(source, JetstreamSource)
    assert "wantedDids" not in source.subscribe_url(source.urls[0])


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("appview_url", "ftp://x", "appview_url"),
        ("lookups_per_second", 0, "lookups_per_second"),
        ("lookup_timeout", -1, "lookup_timeout"),
        ("lookup_queue", 0, "lookup_queue"),
        ("profile_ttl_hours", 0, "profile_ttl_hours"),
        ("eof_drain_seconds", -1, "eof_drain_seconds"),
        ("wanted_dids", ["alice.bsky.social"], "wanted_dids"),
        ("wanted_collections", ["not a nsid"], "wanted_collections"),
        ("enrich", "yes", "enrich"),
    ],
)
def test_bad_values_are_refused_by_name(key: str, value: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        jetstream_settings(**{key: value})


def test_enrichment_runs_where_posts_name_authors_by_did_only() -> None:
    assert enrichment_wanted(jetstream_settings())
    assert not enrichment_wanted(jetstream_settings(enrich=False))
    assert not enrichment_wanted(Settings())  # the v1.1 demo
    assert enrichment_wanted(override(Settings(), demo_format="jetstream"))
    assert enrichment_wanted(override(Settings(), kind="replay", replay_files=("f",)))
    no_clusters = apply_toml(Settings(), {"clusters": {"enabled": False}})
    assert not enrichment_wanted(override(no_clusters, demo_format="jetstream"))


def test_demo_format_is_checked() -> None:
    with pytest.raises(ConfigError, match=r"demo\.format"):
        apply_toml(Settings(), {"source": {"demo": {"format": "v3"}}})
