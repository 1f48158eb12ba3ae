"""/metrics series of Bluesky profile enrichment (`streamer.runtime.enrichment`).

A separate function returning the same MetricFamily objects the rest of /metrics uses, so the
daemon's health provider adds them with one `yield from`.
"""

from __future__ import annotations

from collections.abc import Iterable

from streamer.runtime.enrichment import EnrichmentStats
from streamer.runtime.http_api import MetricFamily, Sample

__all__ = ["enrichment_families"]


def enrichment_families(stats: EnrichmentStats) -> Iterable[MetricFamily]:
    yield MetricFamily(
        "tweetheat_profile_lookups",
        "counter",
        "Bluesky author DIDs by what became of their profile lookup: requested (offered by "
        "the pipeline), fetched (answered by the AppView), cached (looked up within the TTL), "
        "dropped (the lookup queue was full), failed (the request failed).",
        [
            Sample({"outcome": "requested"}, stats.requested),
            Sample({"outcome": "fetched"}, stats.fetched),
            Sample({"outcome": "cached"}, stats.cached),
            Sample({"outcome": "dropped"}, stats.dropped),
            Sample({"outcome": "failed"}, stats.failed),
        ],
    )
    yield MetricFamily(
        "tweetheat_profile_requests",
        "counter",
        "getProfiles requests sent to the AppView, and those answered 429 (rate-limited).",
        [
            Sample({"answer": "any"}, stats.requests),
            Sample({"answer": "rate_limited"}, stats.rate_limited),
        ],
    )
    yield MetricFamily(
        "tweetheat_profiles_missing",
        "counter",
        "Looked-up DIDs the AppView no longer knows (cached as such).",
        [Sample({}, stats.missing)],
    )
    yield MetricFamily(
        "tweetheat_accounts_removed",
        "counter",
        "Bluesky accounts that stopped being active, removed from the user window.",
        [Sample({}, stats.removed)],
    )
    yield MetricFamily(
        "tweetheat_profile_lookup_queue",
        "gauge",
        "DIDs waiting for a profile lookup.",
        [Sample({}, stats.queue_depth)],
    )
    yield MetricFamily(
        "tweetheat_profile_lookup_paused_seconds",
        "gauge",
        "How long lookups still wait for the AppView's rate limit or a back-off.",
        [Sample({}, stats.paused_s)],
    )
    yield MetricFamily(
        "tweetheat_users_with_bio",
        "gauge",
        "Users in the recent-user window (every one has a bio).",
        [Sample({}, stats.users_with_bio)],
    )
