"""The HTTP endpoint, served for real on a loopback port and spoken to over TCP."""

from __future__ import annotations

import asyncio
import math
import os
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client import Metric
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily
from structlog.testing import capture_logs

from streamer.runtime.http_api import (
    METRICS_CONTENT_TYPE,
    Health,
    HttpServer,
    LatencyHistogram,
    histogram_family,
    render_prometheus,
    start_http_server,
)

SECRET = "TOPSECRET-7f3a9c"
HEALTHY = Health(True, True, True, 0.25, {"source": "demo", "backlog_batches": 0})


@dataclass
class FakeProvider:
    current: Health = HEALTHY
    families: list[Metric] = field(default_factory=list)
    fail: bool = False

    def health(self) -> Health:
        if self.fail:
            raise ConnectionError(f"redis://:{SECRET}@localhost:6379 refused")
        return self.current

    def metric_families(self) -> Iterable[Metric]:
        return self.families


Scenario = Callable[[HttpServer, aiohttp.ClientSession, str], Awaitable[None]]


def serve(
    scenario: Scenario, provider: FakeProvider, maps_dir: Path, max_lag_s: float = 30.0
) -> None:
    async def go() -> None:
        server = await start_http_server(provider, "127.0.0.1", 0, maps_dir, max_lag_s=max_lag_s)
        try:
            base = f"http://127.0.0.1:{server.port}"
            async with aiohttp.ClientSession() as session:
                await scenario(server, session, base)
        finally:
            await server.close()

    asyncio.run(go())


async def raw_get(port: int, target: str, method: str = "GET") -> tuple[int, str]:
    """Send the request line exactly as written: a client library would normalise "..".."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        request = f"{method} {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        writer.write(request.encode("latin-1"))
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
    head, _, body = data.decode("latin-1").partition("\r\n\r\n")
    status = int(head.split(" ", 2)[1])
    return status, head + "\n" + body


# --- /healthz -------------------------------------------------------------------------------


def test_healthz_ok_gives_200_and_the_provider_fields(tmp_path: Path) -> None:
    async def scenario(server: HttpServer, s: aiohttp.ClientSession, base: str) -> None:
        async with s.get(f"{base}/healthz") as r:
            assert r.status == 200
            assert r.content_type == "application/json"
            assert r.headers["X-Content-Type-Options"] == "nosniff"
            assert await r.json() == {
                "ok": True,
                "source_connected": True,
                "redis_reachable": True,
                "pool_alive": True,
                "lag_seconds": 0.25,
                "source": "demo",
                "backlog_batches": 0,
            }
        async with s.head(f"{base}/healthz") as r:
            assert r.status == 200
            assert await r.read() == b""

    serve(scenario, FakeProvider(), tmp_path / "maps")


@pytest.mark.parametrize(
    ("health", "max_lag_s"),
    [
        (Health(False, True, True, 0.1, {}), 30.0),
        (Health(True, False, True, 0.1, {}), 30.0),
        (Health(True, True, False, 0.1, {}), 30.0),
        (Health(True, True, True, 30.0, {}), 30.0),  # the threshold itself is too late
        (Health(True, True, True, 6.0, {}), 5.0),
        (Health(True, True, True, math.nan, {}), 30.0),
    ],
)
def test_healthz_not_ok_gives_503(tmp_path: Path, health: Health, max_lag_s: float) -> None:
    async def scenario(server: HttpServer, s: aiohttp.ClientSession, base: str) -> None:
        async with s.get(f"{base}/healthz") as r:
            assert r.status == 503
            body = await r.json()
            assert body["ok"] is False
            assert body["source_connected"] is health.source_connected
            assert body["redis_reachable"] is health.redis_reachable
            assert body["pool_alive"] is health.pool_alive

    serve(scenario, FakeProvider(current=health), tmp_path / "maps", max_lag_s=max_lag_s)


def test_health_ok_property_uses_the_default_threshold() -> None:
    assert HEALTHY.ok
    assert not Health(True, True, True, 31.0, {}).ok
    assert Health(True, True, True, 31.0, {}).is_ok(max_lag_s=60.0)


def test_healthz_details_cannot_overrule_the_measured_fields(tmp_path: Path) -> None:
    provider = FakeProvider(current=Health(True, False, True, 0.1, {"ok": True, "x": 1}))

    async def scenario(server: HttpServer, s: aiohttp.ClientSession, base: str) -> None:
        async with s.get(f"{base}/healthz") as r:
            assert r.status == 503
            body = await r.json()
            assert body["ok"] is False
            assert body["x"] == 1

    serve(scenario, provider, tmp_path / "maps")


def test_healthz_failing_provider_gives_503_without_the_error_text(tmp_path: Path) -> None:
    async def scenario(server: HttpServer, s: aiohttp.ClientSession, base: str) -> None:
        async with s.get(f"{base}/healthz") as r:
            assert r.status == 503
            text = await r.text()
            assert SECRET not in text
            assert await r.json(content_type=None) == {"ok": False, "error": "ConnectionError"}

    serve(scenario, FakeProvider(fail=True), tmp_path / "maps")


# --- /metrics -------------------------------------------------------------------------------

_SAMPLE_LINE = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')


def parse_exposition(text: str) -> tuple[dict[str, str], dict[str, str], list[Any]]:
    """HELP and TYPE by name, and samples as (name, {label: raw escaped value}, value text)."""
    helps: dict[str, str] = {}
    types: dict[str, str] = {}
    samples: list[tuple[str, dict[str, str], str]] = []
    assert text.endswith("\n")
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, rest = line[7:].partition(" ")
            helps[name] = rest
        elif line.startswith("# TYPE "):
            name, _, kind = line[7:].partition(" ")
            types[name] = kind
        else:
            m = _SAMPLE_LINE.fullmatch(line)
            assert m is not None, line
            labels: dict[str, str] = {}
            if m.group(2):
                inner = m.group(2)[1:-1]
                pairs = _LABEL.findall(inner)
                assert "".join(f'{k}="{v}",' for k, v in pairs).rstrip(",") == inner
                labels = dict(pairs)
            samples.append((m.group(1), labels, m.group(3)))
    return helps, types, samples


def labelled(family: CounterMetricFamily | GaugeMetricFamily, *samples: Any) -> Metric:
    for labels, value in samples:
        family.add_metric(labels, value)
    return family


def some_families() -> list[Metric]:
    latency = LatencyHistogram()
    latency.observe(0.003, count=5)
    latency.observe(0.04)
    latency.observe(0.3, count=2)
    latency.observe(99.0)  # past the last finite bucket
    return [
        CounterMetricFamily("tweetheat_lines_read", "Lines read from the source.", value=1234),
        labelled(
            CounterMetricFamily(
                "tweetheat_lines_skipped_total",
                'Lines skipped, by reason.\nA back\\slash and "quotes".',
                labels=["reason"],
            ),
            (["delete"], 7),
            (['a\\b"c\nd'], 1),
        ),
        GaugeMetricFamily(
            "tweetheat_lag_seconds", "Read-to-commit lag of the last batch.", value=0.125
        ),
        labelled(
            GaugeMetricFamily(
                "tweetheat_odd_values", "Values Prometheus spells its own way.", labels=["v"]
            ),
            (["int"], 3.0),
            (["big"], 2.0**40),
            (["inf"], math.inf),
            (["-inf"], -math.inf),
            (["nan"], math.nan),
        ),
        histogram_family(
            "tweetheat_commit_latency_seconds", "Read-to-commit latency per post.", latency
        ),
    ]


def test_metrics_exposition_over_http(tmp_path: Path) -> None:
    async def scenario(server: HttpServer, s: aiohttp.ClientSession, base: str) -> None:
        async with s.get(f"{base}/metrics") as r:
            assert r.status == 200
            assert r.headers["Content-Type"] == METRICS_CONTENT_TYPE
            text = await r.text()
        helps, types, samples = parse_exposition(text)

        # Every family has HELP and TYPE, and every sample belongs to a typed family.
        assert set(helps) == set(types)
        for name, _, _ in samples:
            assert re.sub(r"_(bucket|sum|count)$", "", name) in types or name in types
        counters = [n for n, kind in types.items() if kind == "counter"]
        ours = [n for n in counters if n.startswith("tweetheat_")]
        assert sorted(ours) == ["tweetheat_lines_read_total", "tweetheat_lines_skipped_total"]
        assert all(n.endswith("_total") for n, _, _ in samples if n in counters)
        values = {(n, tuple(sorted(lab.items()))): float(v) for n, lab, v in samples}
        assert values["tweetheat_lines_read_total", ()] == 1234
        # The process's own, from prometheus-client's collectors on the server's registry.
        assert types["process_cpu_seconds_total"] == "counter"
        assert values["process_resident_memory_bytes", ()] > 1_000_000
        assert values["process_open_fds", ()] >= 3
        assert types["python_gc_collections_total"] == "counter"
        (info,) = [lab for n, lab, _ in samples if n == "python_info"]
        assert info["implementation"] == "CPython" and info["major"] == "3"
        assert helps["tweetheat_lines_skipped_total"] == (
            'Lines skipped, by reason.\\nA back\\\\slash and "quotes".'
        )
        # The raw label text on the wire, exactly.
        assert '{reason="a\\\\b\\"c\\nd"} 1.0\n' in text
        assert ("tweetheat_lines_skipped_total", {"reason": 'a\\\\b\\"c\\nd'}, "1.0") in samples

        odd = {lab["v"]: v for n, lab, v in samples if n == "tweetheat_odd_values"}
        assert odd == {"int": "3.0", "big": "1.099511627776e+12", "inf": "+Inf"} | {
            "-inf": "-Inf",
            "nan": "NaN",
        }
        assert float(odd["big"]) == 2.0**40

        hist = "tweetheat_commit_latency_seconds"
        assert types[hist] == "histogram"
        buckets = [(lab["le"], float(v)) for n, lab, v in samples if n == f"{hist}_bucket"]
        assert buckets[-1][0] == "+Inf"
        bounds = [float(le) for le, _ in buckets]
        assert bounds == sorted(bounds)
        counts = [c for _, c in buckets]
        assert counts == sorted(counts)  # cumulative
        assert dict(buckets)["0.005"] == 5
        assert dict(buckets)["0.05"] == 6
        assert dict(buckets)["10"] == 8
        (count,) = [float(v) for n, _, v in samples if n == f"{hist}_count"]
        (total,) = [float(v) for n, _, v in samples if n == f"{hist}_sum"]
        assert count == counts[-1] == 9
        assert total == pytest.approx(5 * 0.003 + 0.04 + 2 * 0.3 + 99.0)

    serve(scenario, FakeProvider(families=some_families()), tmp_path / "maps")


def test_render_prometheus_exact_text() -> None:
    text = render_prometheus(
        [
            labelled(
                CounterMetricFamily("up_total", "A counter\\ with\nhelp.", labels=["a"]),
                (["x"], 2),
            ),
            labelled(
                GaugeMetricFamily("g", "gauge", labels=["l", "k"]), ([], 0.5), (["", "v"], -0.0)
            ),
        ]
    )
    assert text == (
        "# HELP up_total A counter\\\\ with\\nhelp.\n"
        "# TYPE up_total counter\n"
        'up_total{a="x"} 2.0\n'
        "# HELP g gauge\n"
        "# TYPE g gauge\n"
        "g 0.5\n"
        'g{k="v",l=""} -0.0\n'
    )
    assert render_prometheus([]) == ""


@pytest.mark.parametrize("name", ["", "1abc", "a-b", "a b", "a.b", "é", "x\n"])
def test_render_prometheus_rejects_bad_metric_names(name: str) -> None:
    # prometheus-client refuses some at once; the others (valid in its UTF-8 names) when
    # rendered, instead of sending them renamed.
    with pytest.raises(ValueError, match="metric name"):
        render_prometheus([GaugeMetricFamily(name, "h", value=1)])


@pytest.mark.parametrize("label", ["__x", "a-b", "", "1a"])
def test_render_prometheus_rejects_bad_label_names(label: str) -> None:
    family = labelled(GaugeMetricFamily("m", "h", labels=[label]), (["1"], 1))
    with pytest.raises(ValueError, match="label name"):
        render_prometheus([family])


def test_render_prometheus_rejects_a_family_twice() -> None:
    # "hits" becomes "hits_total": the same series twice in one scrape.
    twice = [
        CounterMetricFamily("hits", "h", value=1),
        CounterMetricFamily("hits_total", "h", value=1),
    ]
    with pytest.raises(ValueError, match="twice"):
        render_prometheus(twice)


def test_latency_histogram_quantile_and_constant_memory() -> None:
    h = LatencyHistogram(buckets=(0.01, 0.1, 1.0, math.inf))
    assert h.quantile(0.5) is None
    h.observe(0.005, count=90)
    h.observe(0.05, count=9)
    h.observe(30.0)
    assert h.quantile(0.5) == 0.01
    assert h.quantile(0.9) == 0.01
    assert h.quantile(0.95) == 0.1
    assert h.quantile(0.99) == 0.1
    assert h.quantile(1.0) == math.inf
    h.observe(0.1)  # a bound belongs to its own bucket ("le")
    assert h.cumulative() == [(0.01, 90), (0.1, 100), (1.0, 100), (math.inf, 101)]
    for _ in range(10_000):
        h.observe(0.5)
    assert len(h.counts) == 4 and h.total == 10_101


def test_histogram_family_adds_inf_when_the_buckets_lack_it() -> None:
    h = LatencyHistogram(buckets=(0.1, 1.0))
    h.observe(0.05, count=3)
    family = histogram_family("lat_seconds", "h", h)
    les = [(s.labels["le"], s.value) for s in family.samples if s.name == "lat_seconds_bucket"]
    assert les == [("0.1", 3), ("1", 3), ("+Inf", 3)]  # "1", as the label always read
    assert {s.name: s.value for s in family.samples[-2:]} == {
        "lat_seconds_count": 3,
        "lat_seconds_sum": pytest.approx(0.15),
    }


# --- /maps ----------------------------------------------------------------------------------


def write_maps(root: Path) -> Path:
    maps = root / "maps"
    (maps / "assets" / "images").mkdir(parents=True)
    (maps / "index.html").write_text("<!DOCTYPE html><title>live</title>")
    (maps / "en.html").write_text("<!DOCTYPE html><title>en</title>")
    (maps / "pt-br.html").write_text("<!DOCTYPE html><title>pt-br</title>")
    (maps / "assets" / "leaflet.js").write_text("var L = {};")
    (maps / "assets" / "leaflet.css").write_text(".leaflet {}")
    (maps / "assets" / "data.json").write_text("{}")
    (maps / "assets" / "images" / "layers.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (maps / "assets" / "shape.svg").write_text("<svg/>")
    (maps / ".index.html.x1y2.tmp").write_text("half-written")
    (maps / "notes.txt").write_text("not a page")
    (root / "secret.txt").write_text(SECRET)
    (root / "outside").mkdir()
    (root / "outside" / "secret.html").write_text(SECRET)
    os.symlink(root / "secret.txt", maps / "escape.html")
    os.symlink(root / "outside", maps / "linked")
    os.symlink(maps / "en.html", maps / "latest.html")  # stays inside: allowed
    os.symlink(maps / "notes.txt", maps / "notes.html")  # inside, but not a servable type
    return maps


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        ("/maps/", "text/html", "<title>live</title>"),
        ("/maps/index.html", "text/html", "<title>live</title>"),
        ("/maps/en.html", "text/html", "<title>en</title>"),
        ("/maps/pt-br.html", "text/html", "<title>pt-br</title>"),
        ("/maps/latest.html", "text/html", "<title>en</title>"),
        ("/maps/assets/leaflet.js", "text/javascript", "var L"),
        ("/maps/assets/leaflet.css", "text/css", ".leaflet"),
        ("/maps/assets/data.json", "application/json", "{}"),
        ("/maps/assets/images/layers.png", "image/png", "PNG"),
        ("/maps/assets/shape.svg", "image/svg+xml", "<svg"),
    ],
)
def test_maps_serves_pages_and_assets(
    tmp_path: Path, path: str, content_type: str, body: str
) -> None:
    maps = write_maps(tmp_path)

    async def scenario(server: HttpServer, s: aiohttp.ClientSession, base: str) -> None:
        async with s.get(base + path) as r:
            assert r.status == 200
            assert r.content_type == content_type
            assert r.headers["X-Content-Type-Options"] == "nosniff"
            if content_type in ("text/html", "application/json"):
                assert r.headers["Cache-Control"] == "no-cache"
            else:
                assert "Cache-Control" not in r.headers
            if content_type.startswith("text/"):
                assert r.charset == "utf-8"
            assert body in (await r.read()).decode("latin-1")
        async with s.head(base + path) as r:
            assert r.status == 200
            assert r.content_type == content_type

    serve(scenario, FakeProvider(), maps)


@pytest.mark.parametrize(
    "target",
    [
        "/maps/../secret.txt",
        "/maps/%2e%2e/secret.txt",
        "/maps/%2E%2E/secret.txt",
        "/maps/.%2e/secret.txt",
        "/maps/%2e%2e%2fsecret.txt",
        "/maps/..%2fsecret.txt",
        "/maps/assets/../../secret.txt",
        "/maps/assets/%2e%2e/%2e%2e/secret.txt",
        "/maps/%2e%2e/outside/secret.html",
        "/maps/..%5csecret.txt",
        "/maps/%5c..%5csecret.txt",
        "/maps//etc/passwd",
        "/maps/%2fetc%2fpasswd",
        f"/maps/{'%2f'.join(['..'] * 3)}/secret.txt",
        "/maps/escape.html",  # a symlink out of maps_dir
        "/maps/linked/secret.html",  # a symlinked directory out of maps_dir
        "/maps/notes.html",  # inside, but it leads to a .txt
        "/maps/notes.txt",
        "/maps/.index.html.x1y2.tmp",  # a half-written page
        "/maps/assets",  # directories are never listed
        "/maps/assets/",
        "/maps/en.html%00.js",
        "/maps/en.html/",
        "/../secret.txt",
        "/secret.txt",
        "/etc/passwd",
    ],
)
def test_maps_never_leaves_maps_dir(tmp_path: Path, target: str) -> None:
    maps = write_maps(tmp_path)

    async def scenario(server: HttpServer, s: aiohttp.ClientSession, base: str) -> None:
        status, response = await raw_get(server.port, target)
        assert status in (400, 404), response
        assert SECRET not in response
        assert "root:" not in response
        assert "not a page" not in response
        assert "half-written" not in response
        assert "Index of" not in response and "leaflet.js" not in response

    serve(scenario, FakeProvider(), maps)


def test_maps_before_the_first_write(tmp_path: Path) -> None:
    async def scenario(server: HttpServer, s: aiohttp.ClientSession, base: str) -> None:
        for path in ("/maps/", "/maps/index.html"):
            async with s.get(base + path) as r:
                assert r.status == 404
                assert "not written yet" in await r.text()
        async with s.get(f"{base}/maps/xx.html") as r:
            assert r.status == 404
            assert "not written yet" not in await r.text()

    serve(scenario, FakeProvider(), tmp_path / "maps")  # does not exist yet
    (tmp_path / "empty").mkdir()
    serve(scenario, FakeProvider(), tmp_path / "empty")


def test_redirects_unknown_paths_and_methods(tmp_path: Path) -> None:
    maps = write_maps(tmp_path)

    async def scenario(server: HttpServer, s: aiohttp.ClientSession, base: str) -> None:
        for path in ("/", "/maps"):
            async with s.get(base + path, allow_redirects=False) as r:
                assert r.status == 302
                assert r.headers["Location"] == "/maps/"
        async with s.get(base + "/") as r:  # followed
            assert r.status == 200
            assert "<title>live</title>" in await r.text()
        for path in ("/nope", "/healthz/x", "/metrics.txt", "/mapsx"):
            async with s.get(base + path) as r:
                assert r.status == 404
                assert r.headers["X-Content-Type-Options"] == "nosniff"
        for method, path in [
            ("POST", "/healthz"),
            ("POST", "/metrics"),
            ("POST", "/maps/"),
            ("PUT", "/maps/en.html"),
            ("DELETE", "/maps/en.html"),
            ("POST", "/"),
        ]:
            async with s.request(method, base + path, allow_redirects=False) as r:
                assert r.status == 405, (method, path)
                assert "GET" in r.headers["Allow"]
        status, _ = await raw_get(server.port, "/maps/en.html", method="OPTIONS")
        assert status == 405
        assert (maps / "en.html").exists()

    serve(scenario, FakeProvider(), maps)


def test_listening_is_logged_and_close_frees_the_port(tmp_path: Path) -> None:
    async def go() -> None:
        with capture_logs() as logs:
            server = await start_http_server(FakeProvider(), "127.0.0.1", 0, tmp_path)
        try:
            assert server.port > 0
            listening = [e for e in logs if e["event"] == "http_listening"]
            assert listening == [
                {"event": "http_listening", "host": "127.0.0.1", "port": server.port}
                | {"log_level": "info"}
            ]
        finally:
            await server.close()
            await server.close()  # twice is harmless
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", server.port)

    asyncio.run(go())


def test_metrics_with_a_bad_family_fail_loudly(tmp_path: Path) -> None:
    bad = FakeProvider(families=[GaugeMetricFamily("bad-name", "h", value=1)])

    async def scenario(server: HttpServer, s: aiohttp.ClientSession, base: str) -> None:
        async with s.get(f"{base}/metrics") as r:
            assert r.status == 500
            assert await r.text() == "metrics failed\n"
        async with s.get(f"{base}/healthz") as r:  # the rest of the server is unaffected
            assert r.status == 200

    with capture_logs() as logs:
        serve(scenario, bad, tmp_path / "maps")
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == ["metrics_failed"]
