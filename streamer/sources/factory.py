"""The source a configuration names, built with its settings."""

from __future__ import annotations

from streamer.config import Settings
from streamer.sources.base import Source


def make_source(settings: Settings) -> Source:
    src = settings.source
    if src.kind == "demo":
        from streamer.sources.demo import DemoSource

        return DemoSource(
            rate=src.rate,
            seed=src.demo_seed,
            geo_share=src.demo_geo_share,
            count=src.demo_count,
            format=src.demo_format,
        )
    if src.kind == "replay":
        from streamer.sources.replay import ReplaySource

        return ReplaySource(
            src.replay_files,
            rate=src.rate,
            partition=src.partition_parts,
            max_line_bytes=src.max_line_bytes,
        )
    return make_live_source(settings)


def make_live_source(settings: Settings) -> Source:
    live = settings.live
    kind = settings.source.kind
    if kind == "twitter-v2":
        from streamer.sources.twitter_v2 import TwitterV2Source

        return TwitterV2Source(
            live.v2_bearer_token,
            url=live.v2_url,
            stall_timeout=live.v2_stall_timeout,
            max_line_bytes=settings.source.max_line_bytes,
        )
    if kind == "twitter-v1":
        from streamer.sources.oauth1 import OAuth1Credentials
        from streamer.sources.twitter_v1 import TwitterV1Source

        credentials = OAuth1Credentials(
            live.v1_consumer_key,
            live.v1_consumer_secret,
            live.v1_access_token,
            live.v1_access_token_secret,
        )
        return TwitterV1Source(
            credentials,
            url=live.v1_url,
            stall_timeout=live.v1_stall_timeout,
            max_line_bytes=settings.source.max_line_bytes,
        )
    if kind == "jetstream":
        from streamer.sources.jetstream import COLLECTIONS, JetstreamSource

        # The daemon sets start_cursor from Redis before reading (see daemon.resume_source).
        return JetstreamSource(
            live.jetstream_urls,
            collections=(*COLLECTIONS, *live.jetstream_wanted_collections),
            wanted_dids=live.jetstream_wanted_dids,
            stall_timeout=live.jetstream_stall_timeout,
            max_line_bytes=settings.source.max_line_bytes,
        )
    raise ValueError(f"unknown source {kind!r}")
