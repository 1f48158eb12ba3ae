"""Profile-enrichment counters in /metrics and the status line."""

from __future__ import annotations

from streamer.runtime.enrichment import EnrichmentStats
from streamer.runtime.health import enrichment_families
from streamer.runtime.http_api import render_prometheus


def test_the_counters_render_as_prometheus_series() -> None:
    stats = EnrichmentStats(requested=10, fetched=6, cached=2, dropped=1, failed=1, requests=3,
                            rate_limited=1, missing=2, queue_depth=4, users_with_bio=5)  # fmt: skip
    text = render_prometheus(list(enrichment_families(stats)))
    for line in (
        'tweetheat_profile_lookups_total{outcome="requested"} 10.0',
        'tweetheat_profile_lookups_total{outcome="fetched"} 6.0',
        'tweetheat_profile_lookups_total{outcome="cached"} 2.0',
        'tweetheat_profile_lookups_total{outcome="dropped"} 1.0',
        'tweetheat_profile_lookups_total{outcome="failed"} 1.0',
        'tweetheat_profile_requests_total{answer="rate_limited"} 1.0',
        "tweetheat_profiles_missing_total 2.0",
        "tweetheat_profile_lookup_queue 4.0",
        "tweetheat_users_with_bio 5.0",
    ):
        assert line in text.splitlines(), line


def test_the_status_line_names_every_counter() -> None:
    fields = EnrichmentStats(dropped=3).status_fields()
    assert fields["enrich_dropped"] == 3
    assert {"enrich_requested", "enrich_fetched", "enrich_cached", "enrich_failed",
            "enrich_rate_limited", "enrich_users_with_bio"} <= set(fields)  # fmt: skip
