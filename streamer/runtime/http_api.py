"""The daemon's HTTP endpoint: `/healthz`, `/metrics` (Prometheus text 0.0.4) and `/maps/`.

The server only reads: health and metrics come from a `HealthProvider` the daemon implements
(so this module knows nothing of Redis or sources, and shows nothing the provider does not
give), and `/maps/` serves the files `analysis/heatmaps.py` writes, so the live page works
without a separate web server. It binds where it is told; the caller defaults to 127.0.0.1.

Only GET and HEAD. No access log: a browser refreshing the live page and a scraper every 15 s
would bury the daemon's own lines.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any, Protocol

import orjson
from aiohttp import web
from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    Metric,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.metrics_core import HistogramMetricFamily
from prometheus_client.registry import Collector

from streamer.core.latency import LatencyHistogram
from streamer.core.logs import RateLimitedLog, get_logger

__all__ = [
    "CONTENT_TYPES",
    "DEFAULT_MAX_LAG_S",
    "METRICS_CONTENT_TYPE",
    "Health",
    "HealthProvider",
    "HttpServer",
    "LatencyHistogram",
    "ProviderCollector",
    "histogram_family",
    "metrics_registry",
    "render_prometheus",
    "start_http_server",
]

log = get_logger("streamer.http_api")

DEFAULT_MAX_LAG_S = 30.0
METRICS_CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
NOT_WRITTEN_YET = "maps not written yet\n"
NOT_FOUND = "not found\n"
# Only what heatmaps.py and assets.py write. Anything else under maps/ is not ours to serve.
CONTENT_TYPES: Mapping[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
# Pages and data change every refresh; scripts and images may be cached by heuristics.
_NO_CACHE_SUFFIXES = frozenset({".html", ".json"})
# One path segment under maps/: language pages ("pt-br.html"), "assets", "leaflet-heat.js".
# No leading dot: that excludes ".", ".." and write_atomically's half-written ".x.tmp" files.
_SEGMENT = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")
_MAX_PATH = 512
_SHUTDOWN_TIMEOUT_S = 2.0  # a stopping daemon does not wait on a slow browser

# Checked before a family goes out: the 0.0.4 text format has no room for other names, and
# prometheus-client would rename them silently (a series that moves hides a bug).
_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


# --- what the daemon provides ---------------------------------------------------------------


@dataclass(frozen=True)
class Health:
    source_connected: bool
    redis_reachable: bool
    pool_alive: bool
    lag_seconds: float
    details: Mapping[str, Any] = field(default_factory=dict)

    def is_ok(self, max_lag_s: float = DEFAULT_MAX_LAG_S) -> bool:
        # Written so that a NaN lag (nothing measured, or a broken clock) is not healthy.
        return (
            self.source_connected
            and self.redis_reachable
            and self.pool_alive
            and self.lag_seconds < max_lag_s
        )

    @property
    def ok(self) -> bool:
        return self.is_ok()


class HealthProvider(Protocol):
    """Implemented by the daemon. Both are called on the event loop, per request: keep them
    cheap and non-blocking (report cached state; never ping Redis from here)."""

    def health(self) -> Health: ...

    def metric_families(self) -> Iterable[Metric]: ...


# --- /metrics through prometheus-client --------------------------------------------------------


class ProviderCollector(Collector):
    """The families a provider gives (prometheus-client's Counter-, Gauge- and
    HistogramMetricFamily), checked on every scrape. A bad name or label, or a family twice,
    is a programming error and raises ValueError: a scrape that silently drops or renames
    series hides the bug."""

    def __init__(self, families: Callable[[], Iterable[Metric]]) -> None:
        self._families = families

    def collect(self) -> Iterator[Metric]:
        seen: set[str] = set()
        for family in self._families():
            if _METRIC_NAME.fullmatch(family.name) is None:
                raise ValueError(f"invalid metric name {family.name!r}")
            if family.name in seen:
                raise ValueError(f"metric family {family.name!r} appears twice")
            seen.add(family.name)
            for label in {label for sample in family.samples for label in sample.labels}:
                if _LABEL_NAME.fullmatch(label) is None or label.startswith("__"):
                    raise ValueError(f"{family.name}: invalid label name {label!r}")
            yield family


def metrics_registry(provider: HealthProvider) -> CollectorRegistry:
    """The provider's families and the process's own (CPU, memory, open files, GC, Python
    version), on a registry of this server's own: never prometheus-client's global one, which
    tests and several daemons in one process would share."""
    registry = CollectorRegistry()
    registry.register(ProviderCollector(provider.metric_families))
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


def render_prometheus(families: Iterable[Metric]) -> str:
    """The families alone in the text exposition format, version 0.0.4."""
    return generate_latest(ProviderCollector(lambda: families)).decode("utf-8")


def _bound(value: float) -> str:
    """A bucket bound as the "le" label has always read: "10" and "0.005", not "10.0"."""
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return str(int(value)) if value.is_integer() else repr(value)


def histogram_family(name: str, help: str, histogram: LatencyHistogram) -> HistogramMetricFamily:
    """Cumulative buckets ending at +Inf, the sum and the count.

    Export a histogram that only grows (the pipeline's whole-run `latency`, not the one the
    status line resets): Prometheus takes a drop for a restart."""
    buckets = [(_bound(bound), float(count)) for bound, count in histogram.cumulative()]
    if not buckets or buckets[-1][0] != "+Inf":
        buckets.append(("+Inf", float(histogram.total)))
    return HistogramMetricFamily(name, help, buckets=buckets, sum_value=histogram.sum)


# --- the server -----------------------------------------------------------------------------


class HttpServer:
    """A running endpoint. `port` is the bound port, so port 0 picks a free one."""

    def __init__(self, runner: web.AppRunner, host: str, port: int) -> None:
        self._runner = runner
        self.host = host
        self.port = port

    async def close(self) -> None:
        await self._runner.cleanup()  # idempotent


class _Handlers:
    def __init__(self, provider: HealthProvider, maps_dir: Path, max_lag_s: float) -> None:
        self.provider = provider
        self.registry = metrics_registry(provider)
        self.maps_dir = maps_dir
        self.max_lag_s = max_lag_s
        self.failures = RateLimitedLog(log, interval=60.0)

    async def healthz(self, request: web.Request) -> web.Response:
        try:
            health = self.provider.health()
            ok = health.is_ok(self.max_lag_s)
            body: dict[str, Any] = {
                "ok": ok,
                "source_connected": health.source_connected,
                "redis_reachable": health.redis_reachable,
                "pool_alive": health.pool_alive,
                "lag_seconds": health.lag_seconds,
            }
            # The measured fields win over a detail of the same name.
            body.update((k, v) for k, v in health.details.items() if k not in body)
            payload = orjson.dumps(body, default=str)
        except Exception as exc:
            # Only the exception's type goes out: its message might hold a URL with a password.
            self.failures.warning("healthz", "health_check_failed", exc_info=True)
            ok, payload = False, orjson.dumps({"ok": False, "error": type(exc).__name__})
        return web.Response(
            body=payload,
            status=200 if ok else 503,
            headers={"Content-Type": "application/json", "Cache-Control": "no-store"},
        )

    async def metrics(self, request: web.Request) -> web.Response:
        try:
            body = generate_latest(self.registry)
        except Exception:
            self.failures.warning("metrics", "metrics_failed", exc_info=True)
            raise web.HTTPInternalServerError(text="metrics failed\n") from None
        return web.Response(
            body=body,
            headers={"Content-Type": METRICS_CONTENT_TYPE, "Cache-Control": "no-store"},
        )

    async def maps(self, request: web.Request) -> web.StreamResponse:
        rel = request.match_info.get("path", "") or "index.html"
        path = self._resolve(rel)
        if path is None:
            missing = rel == "index.html" and not (self.maps_dir / "index.html").exists()
            raise web.HTTPNotFound(text=NOT_WRITTEN_YET if missing else NOT_FOUND)
        headers = {"Content-Type": CONTENT_TYPES[path.suffix]}
        if path.suffix in _NO_CACHE_SUFFIXES:
            headers["Cache-Control"] = "no-cache"
        return web.FileResponse(path, headers=headers)

    def _resolve(self, rel: str) -> Path | None:
        """The regular file `rel` names inside maps_dir, or None. The name is checked before
        the file system is touched, and where it leads after: a symlink may point elsewhere
        inside maps_dir, never out of it. The file is served by its resolved path."""
        segments = rel.split("/")
        if len(rel) > _MAX_PATH or not all(_SEGMENT.fullmatch(s) for s in segments):
            return None
        if Path(segments[-1]).suffix not in CONTENT_TYPES:
            return None
        try:
            root = self.maps_dir.resolve(strict=True)
            path = root.joinpath(*segments).resolve(strict=True)
        except (OSError, RuntimeError):  # missing, a symlink loop, unreadable
            return None
        if not path.is_relative_to(root) or not path.is_file():
            return None
        if path.suffix not in CONTENT_TYPES:  # a symlink "x.html" to "notes.txt"
            return None
        return path


async def _redirect_to_maps(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/maps/")


async def _common_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Server"] = "tweetheat"  # not aiohttp's name and version


def make_app(provider: HealthProvider, maps_dir: Path, max_lag_s: float) -> web.Application:
    handlers = _Handlers(provider, maps_dir, max_lag_s)
    app = web.Application()
    app.on_response_prepare.append(_common_headers)
    # add_get also answers HEAD; other methods on these paths get 405, other paths 404.
    app.router.add_get("/", _redirect_to_maps)
    app.router.add_get("/healthz", handlers.healthz)
    app.router.add_get("/metrics", handlers.metrics)
    app.router.add_get("/maps", _redirect_to_maps)
    app.router.add_get("/maps/{path:.*}", handlers.maps)
    return app


# --- hostile clients (begin) --------------------------------------------------------------
# A request's head must arrive within this many seconds of the connection opening (or of the
# previous response): a client that dribbles a header byte a second is cut off instead of
# holding a connection for ever. aiohttp has no header timeout of its own; its keep-alive
# timer (armed when a connection opens and after each response, and firing only while no
# complete request head has arrived) is that deadline, and tests/unit/test_hostile_input.py
# checks that it still is.
HEADER_TIMEOUT_S = 10.0
_SAFE_HEADERS = {"Server": "tweetheat", "X-Content-Type-Options": "nosniff"}


class _HardenedHandler(web.RequestHandler):
    """aiohttp answers requests it cannot parse (and handler crashes) itself: by default with
    its version in `Server:`, the offending bytes echoed in the body, no `nosniff`, and a
    traceback in the log. Here: the status line's words only, the same headers as every other
    answer, and no log line (a port scan is not news)."""

    def handle_error(
        self,
        request: Any,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if request.writer.output_size > 0:
            raise ConnectionError("response already started")  # as aiohttp does
        if status >= 500 and exc is not None:  # our bug, not the client's: say so, briefly
            log.error("http_internal_error", error=f"{type(exc).__name__}: {exc}"[:200])
        reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
        response = web.Response(status=status, text=f"{status} {reason}\n", headers=_SAFE_HEADERS)
        response.force_close()
        return response


class _HardenedServer(web.Server):
    def __call__(self) -> web.RequestHandler:
        return _HardenedHandler(self, loop=self._loop, **self._kwargs)


class _HardenedRunner(web.AppRunner):
    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        # The app builds a plain Server; this one differs only in the handler it makes.
        server.__class__ = _HardenedServer
        return server


# --- hostile clients (end) ----------------------------------------------------------------


async def start_http_server(
    provider: HealthProvider,
    host: str,
    port: int,
    maps_dir: Path,
    max_lag_s: float = DEFAULT_MAX_LAG_S,
    header_timeout: float = HEADER_TIMEOUT_S,
) -> HttpServer:
    """Serve until `close()`. `maps_dir` may not exist yet: /maps/ says so until it does."""
    app = make_app(provider, maps_dir, max_lag_s)
    runner = _HardenedRunner(
        app,
        access_log=None,
        shutdown_timeout=_SHUTDOWN_TIMEOUT_S,
        keepalive_timeout=header_timeout,
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        # With port 0 the OS picks the port; a name with several addresses gets one each.
        bound = int(runner.addresses[0][1])
    except BaseException:
        await runner.cleanup()
        raise
    log.info("http_listening", host=host, port=bound)
    return HttpServer(runner, host, bound)
