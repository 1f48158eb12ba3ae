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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any, Literal, Protocol

import orjson
from aiohttp import web

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
    "MetricFamily",
    "Sample",
    "format_value",
    "histogram_family",
    "histogram_samples",
    "render_prometheus",
    "start_http_server",
]

log = get_logger("streamer.http_api")

DEFAULT_MAX_LAG_S = 30.0
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
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

_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_SUFFIXES: Mapping[str, frozenset[str]] = {
    "counter": frozenset({""}),
    "gauge": frozenset({""}),
    "histogram": frozenset({"_bucket", "_sum", "_count"}),
}
# Integral floats print as integers up to here; beyond, a float has no exact integer anyway.
_INT_LIMIT = 1e15


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


@dataclass(frozen=True)
class Sample:
    labels: Mapping[str, str]
    value: float
    suffix: str = ""  # a histogram's "_bucket", "_sum" or "_count"


@dataclass(frozen=True)
class MetricFamily:
    name: str  # a counter's "_total" is added when missing
    kind: Literal["counter", "gauge", "histogram"]
    help: str
    samples: Sequence[Sample]


class HealthProvider(Protocol):
    """Implemented by the daemon. Both are called on the event loop, per request: keep them
    cheap and non-blocking (report cached state; never ping Redis from here)."""

    def health(self) -> Health: ...

    def metric_families(self) -> Iterable[MetricFamily]: ...


# --- Prometheus text format 0.0.4 -----------------------------------------------------------


def format_value(value: float) -> str:
    """A sample value as Prometheus parses it: "3" not "3.0", "+Inf", "-Inf", "NaN"."""
    if isinstance(value, int):  # bool too: True is 1; big ints stay exact
        return str(int(value))
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value.is_integer() and abs(value) < _INT_LIMIT:
        return str(int(value))  # also turns -0.0 into "0"
    return repr(value)  # shortest form that reads back to the same float


def _escape_label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _family_name(family: MetricFamily) -> str:
    if _METRIC_NAME.fullmatch(family.name) is None:
        raise ValueError(f"invalid metric name {family.name!r}")
    if family.kind not in _SUFFIXES:
        raise ValueError(f"{family.name}: unknown metric kind {family.kind!r}")
    if family.kind == "counter" and not family.name.endswith("_total"):
        return family.name + "_total"
    return family.name


def _sample_line(name: str, kind: str, sample: Sample) -> str:
    if sample.suffix not in _SUFFIXES[kind]:
        raise ValueError(f"{name}: suffix {sample.suffix!r} does not belong to a {kind}")
    if sample.suffix == "_bucket" and "le" not in sample.labels:
        raise ValueError(f"{name}: a histogram bucket needs an 'le' label")
    parts = []
    for label, value in sample.labels.items():
        if _LABEL_NAME.fullmatch(label) is None or label.startswith("__"):
            raise ValueError(f"{name}: invalid label name {label!r}")
        parts.append(f'{label}="{_escape_label_value(str(value))}"')
    labels = "{" + ",".join(parts) + "}" if parts else ""
    return f"{name}{sample.suffix}{labels} {format_value(sample.value)}"


def render_prometheus(families: Iterable[MetricFamily]) -> str:
    """The text exposition format, version 0.0.4. A bad name or label is a programming
    error and raises ValueError: a scrape that silently drops series hides the bug."""
    lines: list[str] = []
    seen: set[str] = set()
    for family in families:
        name = _family_name(family)
        if name in seen:
            raise ValueError(f"metric family {name!r} appears twice")
        seen.add(name)
        lines.append(f"# HELP {name} {_escape_help(family.help)}")
        lines.append(f"# TYPE {name} {family.kind}")
        lines.extend(_sample_line(name, family.kind, s) for s in family.samples)
    return "".join(line + "\n" for line in lines)


def histogram_samples(
    histogram: LatencyHistogram, labels: Mapping[str, str] | None = None
) -> list[Sample]:
    """Cumulative `_bucket` samples ending at +Inf, then `_sum` and `_count`.

    Export a histogram that only grows (the pipeline's whole-run `latency`, not the one the
    status line resets): Prometheus takes a drop for a restart."""
    base = dict(labels or {})
    samples = [
        Sample({**base, "le": format_value(bound)}, count, "_bucket")
        for bound, count in histogram.cumulative()
    ]
    if not histogram.buckets or histogram.buckets[-1] != math.inf:
        samples.append(Sample({**base, "le": "+Inf"}, histogram.total, "_bucket"))
    samples.append(Sample(base, histogram.sum, "_sum"))
    samples.append(Sample(base, histogram.total, "_count"))
    return samples


def histogram_family(name: str, help: str, histogram: LatencyHistogram) -> MetricFamily:
    return MetricFamily(name, "histogram", help, histogram_samples(histogram))


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
            text = render_prometheus(self.provider.metric_families())
        except Exception:
            self.failures.warning("metrics", "metrics_failed", exc_info=True)
            raise web.HTTPInternalServerError(text="metrics failed\n") from None
        return web.Response(
            body=text.encode("utf-8"),
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
