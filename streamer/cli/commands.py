"""`tweetheat` command line: the daemon (`run`) and the read commands that work beside it.

Heavy modules are imported inside the commands, so `tweetheat --help` and the read commands
start quickly and pool workers do not import what they never use.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson
from redis.exceptions import RedisClusterException, RedisError

from streamer.cli.completion import SHELLS, completion_script
from streamer.config import (
    DEMO_FORMATS,
    SOURCES,
    ConfigError,
    Settings,
    load_settings,
    override,
    parse_rate,
)
from streamer.core.terminal import printable

# One example per command, shown under "example:" in its --help (tests check every command has one).
EXAMPLES = {
    "run": "tweetheat run --replay-file 'dumps/*.ndjson.gz' --rate max --exit-at-eof",
    "status": "tweetheat status --json",
    "top": "tweetheat top --lang en -n 5",
    "points": "tweetheat points --lang ja -n 10 --json",
    "maps": "tweetheat maps --out out/",
    "parse": "tweetheat parse < sample.ndjson",
    "demo-data": "tweetheat demo-data --count 10000 --seed 7 --out demo.ndjson",
    "clusters": "tweetheat clusters --json",
    "user": "tweetheat user 2244994945",
    "open": "tweetheat open ja",
    "completion": 'eval "$(tweetheat completion bash)"',
    "install-service": "tweetheat install-service --write /etc/systemd/system/tweetheat.service",
    "trends": "tweetheat trends --lang en -n 5 --at 2026-11-01T12:05:00Z --json",  # trends
    "timeline": "tweetheat timeline --tag worldcup --lang en --json",  # trends
}

# `tweetheat --help` ends with these.
EPILOG = """\
examples:
  tweetheat run                       # the demo stream; maps under out/maps/ after ~30 s
  tweetheat open                      # the live map page in your browser
  tweetheat top --lang ja -n 5

shell completion (add it to ~/.bashrc):
  eval "$(tweetheat completion bash)"
"""

# Where the map pages are, under the output directory: as analysis.heatmaps writes them
# (MAPS_DIR, INDEX_NAME; not imported from there, which would load Folium for `open`).
MAPS_DIR = "maps"
INDEX_NAME = "index.html"


def _default_config() -> str | None:
    path = os.environ.get("TWEETHEAT_CONFIG")
    if path:
        return path
    return "config.toml" if Path("config.toml").is_file() else None


# Path options say what they take with their metavar, F for a file and DIR for a directory;
# the shell completion (streamer/completion.py) completes file or directory names from that.


def _add_config(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config", default=None, metavar="F", help="TOML settings (default: ./config.toml)"
    )


def _add_common(p: argparse.ArgumentParser) -> None:
    _add_config(p)
    p.add_argument(
        "--redis-url",
        default=None,
        help="redis://, rediss://, unix:// or redis+cluster://host:port,... URL",
    )
    p.add_argument(
        "--data-dir", default=None, metavar="DIR", help="where the embedded Redis keeps its files"
    )


COUNT_MAX = 10_000_000  # no list holds more (redis.list_cap's top)


def count_arg(text: str) -> int:
    """A count for a read command: Redis refuses indexes past 64 bits with an error that
    would read as "cannot reach Redis"; argparse says what is wrong instead."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 1 <= value <= COUNT_MAX:
        raise argparse.ArgumentTypeError(f"must be within 1..{COUNT_MAX}, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tweetheat",
        description="Tail a sample stream, sort posts by language, keep hashtags and points\n"
        "in Redis, and draw live heatmaps.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,  # the examples keep their lines
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=f"example:\n  {EXAMPLES[name]}",
            # Keep the example on one line, as typed: argparse would re-wrap it.
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        return p

    run = command("run", "run the daemon: read the stream, store it, draw the maps")
    _add_common(run)
    run.add_argument("--source", choices=list(SOURCES), default=None)
    run.add_argument(
        "--stream-url",
        default=None,
        metavar="URL",
        help="endpoint of the live source (enterprise, self-hosted, or a local test server)",
    )
    run.add_argument(
        "--record",
        default=None,
        metavar="DIR",
        help="tee the raw stream to rotating .ndjson.gz files in DIR (replayable)",
    )
    run.add_argument(
        "--replay-file",
        action="append",
        default=None,
        metavar="F",
        help="NDJSON file, .gz file, glob or '-' for stdin (repeatable)",
    )
    run.add_argument("--rate", default=None, help="posts per second, or 'max'")
    run.add_argument("--exit-at-eof", action="store_true", default=None)
    run.add_argument(
        "--from-start",
        action="store_true",
        default=None,
        help="replay: read the inputs from the start even where a saved position says they "
        "are stored already (counts add up)",
    )
    run.add_argument("--count", type=int, default=None, help="demo: stop after N lines")
    run.add_argument(
        "--demo-format",
        choices=list(DEMO_FORMATS),
        default=None,
        help="demo: v1 (Twitter v1.1 statuses, the default) or jetstream (Bluesky events, with "
        "a local stand-in AppView for the authors' bios)",
    )
    run.add_argument(
        "--out", default=None, metavar="DIR", help="output directory for maps (default: out/)"
    )
    run.add_argument("--log-format", choices=["console", "json"], default=None)
    run.add_argument(
        "--role",
        choices=["all", "ingest", "analyze"],
        default=None,
        help="ingest: read and store only; analyze: draw maps and refit clusters from what "
        "ingest daemons stored; all (default): both",
    )
    run.add_argument(
        "--partition",
        default=None,
        metavar="I/N",
        help="read the I-th of N shares of the input (replay: every N-th file), e.g. 1/2",
    )
    run.add_argument(
        "--instance",
        default=None,
        metavar="NAME",
        help="this ingest daemon's checkpoint name (default: the source, with its partition)",
    )
    run.add_argument(
        "--http-port",
        type=int,
        default=None,
        metavar="PORT",
        help="serve /healthz, /metrics and /maps/ on this loopback port (0: any free port)",
    )
    run.add_argument(
        "--no-http",
        dest="http_enabled",
        action="store_false",
        default=None,
        help="no HTTP endpoint",
    )

    status = command("status", "per-language counts, Redis memory and pipeline counters")
    _add_common(status)
    status.add_argument("--json", action="store_true")

    top = command("top", "most common hashtags per language over the last N tags")
    _add_common(top)
    top.add_argument("--lang", default=None, help="one language (default: all)")
    top.add_argument("-n", type=count_arg, default=3)
    top.add_argument("--window", type=count_arg, default=5000)
    top.add_argument("--json", action="store_true")

    points = command("points", "a language's most recent geotagged points, oldest first")
    _add_common(points)
    points.add_argument("--lang", default=None, help="the language (needed without --tag)")
    points.add_argument("-n", type=count_arg, default=400)
    points.add_argument("--json", action="store_true")
    points.add_argument(
        "--source",
        choices=("exact", "place", "profile", "bio"),
        default=None,
        help="only points from this evidence (default: all)",
    )
    # trends: the newest points of posts carrying a tag
    points.add_argument("--tag", default=None, help="only posts carrying this hashtag")

    # --- trends ---
    trends = command("trends", "hashtags far above their own usual rate, per language")
    _add_common(trends)
    trends.add_argument("--lang", default=None, help="one language (default: all)")
    trends.add_argument("-n", type=count_arg, default=10)
    trends.add_argument(
        "--at", type=event_time_arg, default=None, metavar="TIME",
        help="event time, ISO 8601 UTC such as 2026-11-01T12:05:00Z (default: the newest "
        "final minute)",
    )  # fmt: skip
    trends.add_argument("--json", action="store_true")

    timeline = command("timeline", "a hashtag's count per event-time bucket, per language")
    _add_common(timeline)
    timeline.add_argument("--tag", required=True)
    timeline.add_argument("--lang", default=None, help="one language (default: all)")
    timeline.add_argument("--json", action="store_true")
    # --- end trends ---

    maps = command("maps", "write the heatmap pages now from what Redis holds")
    _add_common(maps)
    maps.add_argument("--out", default=None, metavar="DIR", help="output directory (default: out/)")

    clusters = command("clusters", "refit the bio clusters now and print the report")
    _add_common(clusters)
    clusters.add_argument(
        "--out", default=None, metavar="DIR", help="output directory (default: out/)"
    )
    clusters.add_argument("--json", action="store_true")

    user = command("user", "a user's bio and cluster")
    _add_common(user)
    user.add_argument("user_id", metavar="ID")
    user.add_argument("--json", action="store_true")

    parse = command("parse", "normalize payloads: one JSON line in, one JSON line out")
    _add_config(parse)

    demo = command(
        "demo-data", "write a synthetic sample-stream file for replay (v1.1 or Jetstream)"
    )
    demo.add_argument("--count", type=int, required=True)
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--geo-share", type=float, default=0.01, help="posts with an exact point")
    demo.add_argument("--out", required=True, metavar="F", help="file to write ('-' for stdout)")
    demo.add_argument(
        "--format",
        choices=list(DEMO_FORMATS),
        default="v1",
        help="v1: Twitter v1.1 statuses (default); jetstream: Bluesky Jetstream events",
    )

    open_page = command("open", "open the live map page in the web browser")
    open_page.add_argument(
        "lang",
        nargs="?",
        metavar="LANG",
        help="show this language first (a code such as en, ja or pt-br)",
    )
    _add_config(open_page)
    open_page.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="output directory the maps are in (default: out/)",
    )
    open_page.add_argument(
        "--print",
        dest="print_url",
        action="store_true",
        help="print the page's file:// URL instead of opening it",
    )

    service = command("install-service", "print (or write) a systemd unit for `tweetheat run`")
    service.add_argument(
        "--write", default=None, metavar="F", help="write the unit to F instead of printing it"
    )
    service.add_argument(
        "--user", default=None, metavar="U", help="the system user to run as (default: tweetheat)"
    )
    service.add_argument(
        "--config",
        default=None,
        metavar="F",
        help="the config file the service reads (default: /etc/tweetheat/config.toml)",
    )

    completion = command("completion", "print a shell completion script")
    completion.add_argument("shell", choices=SHELLS, help="the shell: bash, zsh or fish")
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    settings = load_settings(args.config or _default_config())
    changes: dict[str, Any] = {
        "url": getattr(args, "redis_url", None),
        "data_dir": getattr(args, "data_dir", None),
        "out_dir": getattr(args, "out", None),
    }
    if args.command == "run":
        changes.update(
            kind=args.source,
            replay_files=tuple(args.replay_file) if args.replay_file else None,
            exit_at_eof=args.exit_at_eof,
            from_start=args.from_start,
            demo_count=args.count,
            demo_format=args.demo_format,
            log_format=args.log_format,
            rate=parse_rate(args.rate, "--rate") if args.rate is not None else None,
            record_dir=args.record,
            stream_url=args.stream_url,
            http_port=args.http_port,
            role=args.role,
            partition=args.partition,
            instance=args.instance,
            http_enabled=args.http_enabled,
        )
        if args.replay_file and args.source is None:
            changes["kind"] = "replay"
    settings = override(settings, **changes)
    if args.command in ("run", "parse"):  # the commands that build a detector
        check_languages(settings)
    return settings


def check_languages(settings: Settings) -> None:
    """config.py cannot know each detector's languages (ingest sits beside it, not below)."""
    from streamer.ingest.langid import unsupported_languages

    lang = settings.lang
    unknown = unsupported_languages(lang.detector, lang.languages)
    if unknown:
        raise ConfigError(
            f"lang.languages: the {lang.detector} detector does not know {', '.join(unknown)}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "demo-data":
            return cmd_demo_data(args)
        if args.command == "completion":  # no settings: a broken config must not break TAB
            return cmd_completion(args)
        if args.command == "install-service":  # --config names the service's file, not ours
            return cmd_install_service(args)
        settings = settings_from(args)
        if args.command == "open":  # logs nothing: leaves logging as it is
            return cmd_open(settings, args)
        if args.command != "run":
            from streamer.core.logs import configure_logging

            # Only warnings, and on stderr: stdout carries the command's data (--json).
            configure_logging("console", "warning", stream=sys.stderr)
        if args.command == "parse":
            return cmd_parse(settings)
        if args.command == "run":
            return cmd_run(settings)
        return asyncio.run(READ_COMMANDS[args.command](settings, args))
    except ConfigError as exc:
        print(f"tweetheat: config error: {printable(exc)}", file=sys.stderr)
        return 2
    except (FileNotFoundError, RuntimeError) as exc:
        print(f"tweetheat: {printable(exc)}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `tweetheat parse | head`
        return 0
    except (RedisError, RedisClusterException) as exc:
        # redis-py names the host and port, never the password.
        print(f"tweetheat: cannot reach Redis: {printable(exc)}", file=sys.stderr)
        return 1


# --- run --------------------------------------------------------------------------------


def cmd_run(settings: Settings) -> int:
    from streamer.core.logs import configure_logging
    from streamer.runtime.daemon import run_daemon
    from streamer.storage.connections import daemon_lock

    configure_logging(settings.log_format, settings.log_level)
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop is a dependency, but optional in spirit
        pass
    with daemon_lock(settings.data_path):
        return asyncio.run(run_daemon(settings))


# --- read commands ----------------------------------------------------------------------


def _print_json(obj: Any) -> None:
    sys.stdout.write(orjson.dumps(obj).decode() + "\n")


async def cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    from streamer.storage.connections import open_store

    async with open_store(settings, daemon=False) as store:
        counts = await store.language_counts()
        report = {
            "languages": {
                lang: {
                    "tweets": c.tweets,
                    "geo": c.geo,
                    "hashtags": c.hashtags,
                    # geolocation: located posts and their share of the language's, by source
                    "geo_sources": dict(c.geo_sources),
                    "located_share": located_share(c.geo_sources, c.tweets),
                }
                for lang, c in sorted(counts.items(), key=lambda kv: (-kv[1].tweets, kv[0]))
            },
            "redis": await store.memory(),
            "pipeline": await store.pipeline_counters(),
            "daemon": await store.heartbeat(),
            "daemons": await store.heartbeats(),
        }
        if "stream" in report["daemon"]:
            report["stream"] = orjson.loads(report["daemon"].pop("stream"))
        for beat in report["daemons"].values():
            beat.pop("stream", None)  # the latest one's is in "stream"; the rest are in /metrics
    if args.json:
        _print_json(report)
        return 0
    daemon = report["daemon"]
    if daemon:
        age = time.time() - float(daemon.get("updated_at", 0))
        print(
            printable(
                f"daemon: {daemon.get('state', '?')} (pid {daemon.get('pid')}, source "
                f"{daemon.get('source')}, {daemon.get('in_per_s')} posts/s in, "
                f"heartbeat {age:.0f}s ago)"
            )
        )
    else:
        print("daemon: never ran on this Redis")
    if len(report["daemons"]) > 1:
        for instance, beat in report["daemons"].items():
            age = time.time() - float(beat.get("updated_at", 0))
            print(
                printable(
                    f"  {instance}: {beat.get('state', '?')} (pid {beat.get('pid')}, "
                    f"{beat.get('in_per_s')} posts/s in, heartbeat {age:.0f}s ago)"
                )
            )
    print(printable(f"redis: {report['redis']['used_memory_human']} used"))
    if "stream" in report:
        print(printable("stream: " + ", ".join(f"{k}={v}" for k, v in report["stream"].items())))
    print(f"{'lang':<6}{'tweets':>10}{'geo':>10}{'hashtags':>10}")
    for lang, row in report["languages"].items():
        print(printable(f"{lang:<6}{row['tweets']:>10}{row['geo']:>10}{row['hashtags']:>10}"))
    print_located(report["languages"])
    pipe = report["pipeline"]
    if pipe:
        print(printable("pipeline: " + ", ".join(f"{k}={v}" for k, v in sorted(pipe.items()))))
    enrich = {k.removeprefix("enrich_"): v for k, v in daemon.items() if k.startswith("enrich_")}
    if enrich:  # Bluesky profile enrichment (streamer.runtime.enrichment)
        print(printable("profiles: " + ", ".join(f"{k}={v}" for k, v in enrich.items())))
    return 0


# --- geolocation in status ---


def located_share(by_source: Mapping[str, int], tweets: int) -> dict[str, float]:
    """Each source's located posts over the language's posts (4 decimals)."""
    if tweets <= 0:
        return {}
    return {source: round(n / tweets, 4) for source, n in by_source.items()}


def print_located(languages: Mapping[str, Mapping[str, Any]]) -> None:
    """Per language, the share of posts located by each source (exact, then inferred)."""
    sources = ("exact", "place", "profile", "bio")
    print("located: " + "  ".join(f"{s:>7}" for s in sources) + "  (share of posts)")
    for lang, row in languages.items():
        share = row.get("located_share", {})
        cells = "  ".join(f"{100 * share.get(s, 0.0):>6.1f}%" for s in sources)
        print(printable(f"  {lang:<6}{cells}"))


# --- end geolocation in status ---


async def cmd_top(settings: Settings, args: argparse.Namespace) -> int:
    from streamer.storage.connections import open_store

    async with open_store(settings, daemon=False) as store:
        langs = [args.lang] if args.lang else None
        tops = await store.top_hashtags(langs, n=args.n, window=args.window)
    if args.json:
        _print_json({lang: [[t, c] for t, c in rows] for lang, rows in tops.items()})
        return 0
    for lang, rows in tops.items():
        print(printable(f"{lang}: " + ", ".join(f"#{tag} ({count})" for tag, count in rows)))
    return 0


async def cmd_points(settings: Settings, args: argparse.Namespace) -> int:
    from streamer.storage.connections import open_store

    if args.tag is not None:  # trends: the points of one tag
        return await cmd_tag_points(settings, args)
    if args.lang is None:
        print("tweetheat points: --lang is required (or --tag)", file=sys.stderr)
        return 2
    async with open_store(settings, daemon=False) as store:
        if args.source is None:
            pts = await store.points(args.lang, args.n)
        else:  # the newest n of that source, looked for in the whole (capped) list
            found = await store.geo_points(
                args.lang, args.n, [args.source], scan=settings.redis.list_cap
            )
            pts = [(p.lat, p.lon) for p in found]
    if args.json:
        _print_json([[lat, lon] for lat, lon in pts])
        return 0
    for lat, lon in pts:
        print(printable(f"{lat},{lon}"))
    return 0


async def cmd_maps(settings: Settings, args: argparse.Namespace) -> int:
    from analysis.heatmaps import write_maps
    from analysis.snapshot import collect_summaries
    from streamer.storage.connections import open_store

    async with open_store(settings, daemon=False) as store:
        summaries = await collect_summaries(store, settings.maps, settings.trends)  # + trends
    paths = write_maps(
        settings.out_path,
        summaries,
        refresh_seconds=settings.maps.refresh,
        assets=settings.maps.assets,
    )
    print(f"wrote {len(paths)} files under {settings.out_path / 'maps'}")
    return 0


async def cmd_clusters(settings: Settings, args: argparse.Namespace) -> int:
    from analysis.live_clusters import refit_window
    from streamer.storage.connections import open_store

    async with open_store(settings, daemon=False) as store:
        outcome = await refit_window(store, settings.clusters, settings.out_path, asyncio.to_thread)
    if outcome.skipped is not None:
        print(f"tweetheat: no refit: {outcome.skipped} ({outcome.users} users)", file=sys.stderr)
        return 1
    report = outcome.report
    if args.json:
        _print_json(report)
        return 0
    kmeans, hdb = report["kmeans"], report["hdbscan"]
    print(f"{report['users']} users; KMeans k={kmeans['k']} silhouette={kmeans['silhouette']}")
    for cluster in kmeans["clusters"]:
        terms = printable(", ".join(cluster["top_terms"][:6]))
        print(f"  {cluster['id']:>3} {cluster['size']:>7}  {terms}")
    print(f"HDBSCAN: {len(hdb['clusters'])} clusters, {hdb['noise']} noise")
    print(f"report: {settings.out_path / 'clusters' / 'index.html'}")
    return 0


async def cmd_user(settings: Settings, args: argparse.Namespace) -> int:
    from streamer.storage.connections import open_store

    async with open_store(settings, daemon=False) as store:
        record = await store.user(args.user_id)
    if record is None:
        print(
            f"tweetheat: user {printable(args.user_id)} is not in the recent-user window",
            file=sys.stderr,
        )
        return 1
    data = {
        "user_id": record.user_id,
        "screen_name": record.screen_name,
        "bio": record.bio,
        "lang": record.lang,
        "last_seen": record.last_seen,
        "kmeans": record.cluster[0] if record.cluster else None,
        "hdbscan": record.cluster[1] if record.cluster else None,
    }
    if args.json:
        _print_json(data)
        return 0
    for key, value in data.items():
        print(f"{key}: {printable(value)}")
    return 0


# --- trends -----------------------------------------------------------------------------


def event_time_arg(text: str) -> int:
    """--at: ISO 8601 UTC ("2026-11-01T12:05:00Z", seconds optional) -> Unix seconds."""
    from datetime import UTC, datetime

    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected ISO 8601 UTC such as 2026-11-01T12:05:00Z, got {printable(text)!r}"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    elif when.utcoffset() != UTC.utcoffset(None):
        raise argparse.ArgumentTypeError(f"expected a UTC time (Z), got {printable(text)!r}")
    return int(when.timestamp())


async def cmd_trends(settings: Settings, args: argparse.Namespace) -> int:
    from analysis.trend_report import as_json, trends_report
    from streamer.core.trend_counts import bucket_iso
    from streamer.storage.connections import open_store

    async with open_store(settings, daemon=False) as store:
        langs = [args.lang] if args.lang else None
        at, report = await trends_report(store, settings.trends, langs=langs, n=args.n, at=args.at)
    if args.json:
        _print_json(as_json(report))
        return 0
    print(f"trending at {bucket_iso(at)}" if at is not None else "no trend data yet")
    for lang, rows in report.items():
        if not rows:
            print(printable(f"{lang}: nothing trends"))
            continue
        print(printable(f"{lang}:"))
        for t in rows:
            print(
                printable(
                    f"  #{t['tag']}  score {t['score']:.1f}  {t['count']} posts "
                    f"(usual {t['baseline']:.1f})  since {t['since']}"
                )
            )
    return 0


async def cmd_timeline(settings: Settings, args: argparse.Namespace) -> int:
    from analysis.trend_report import tag_timeline
    from streamer.storage.connections import open_store

    async with open_store(settings, daemon=False) as store:
        langs = [args.lang] if args.lang else None
        lines = await tag_timeline(store, args.tag.lower().lstrip("#"), langs)
    if args.json:
        _print_json({lang: [[t, c] for t, c in rows] for lang, rows in lines.items()})
        return 0
    for lang, rows in lines.items():
        print(printable(f"{lang}:"))
        for t, c in rows:
            print(printable(f"  {t}  {c}"))
    return 0


async def cmd_tag_points(settings: Settings, args: argparse.Namespace) -> int:
    from streamer.storage.connections import open_store

    tag = args.tag.lower().lstrip("#")
    async with open_store(settings, daemon=False) as store:
        langs = [args.lang] if args.lang else await store.trend_languages()
        found = {lang: await store.tag_points(lang, tag, args.n) for lang in langs}
    pts = [(lat, lon) for rows in found.values() for lat, lon, _ in rows]
    if args.json:
        _print_json([[lat, lon] for lat, lon in pts])
        return 0
    for lat, lon in pts:
        print(printable(f"{lat},{lon}"))
    return 0


# --- end trends ---


READ_COMMANDS = {
    "trends": cmd_trends,  # trends
    "timeline": cmd_timeline,  # trends
    "clusters": cmd_clusters,
    "user": cmd_user,
    "status": cmd_status,
    "top": cmd_top,
    "points": cmd_points,
    "maps": cmd_maps,
}


# --- offline commands -------------------------------------------------------------------


def cmd_parse(settings: Settings) -> int:
    from streamer.core.records import ACCOUNT_GONE, PROFILE, AccountGone, Profile, Skip
    from streamer.ingest.langid.chooser import LanguageChooser
    from streamer.ingest.parser import parse_payload, post_to_json_dict

    lang = settings.lang
    language_of = LanguageChooser(lang.detector, lang.languages, lang.trust_platform)
    out = sys.stdout.buffer
    max_line = settings.source.max_line_bytes
    for line in capped_lines(sys.stdin.buffer, max_line):
        item = parse_payload(line.rstrip(b"\r"), max_line)
        if isinstance(item, Skip):
            out.write(orjson.dumps({"skipped": item.reason}) + b"\n")
        elif isinstance(item, Profile):
            out.write(orjson.dumps({"skipped": PROFILE}) + b"\n")
        elif isinstance(item, AccountGone):
            out.write(orjson.dumps({"skipped": ACCOUNT_GONE}) + b"\n")
        else:
            chosen, decided_by = language_of(item.text, item.platform_lang)
            out.write(orjson.dumps(post_to_json_dict(item, chosen, decided_by)) + b"\n")
    out.flush()
    return 0


def capped_lines(stream: Any, max_line: int, chunk: int = 1 << 16) -> Iterator[bytes]:
    """The stream's lines, read in chunks through the readers' LineSplitter: a line over
    `max_line` bytes comes out cut (and parses as too_long) without ever being held whole, so
    `tweetheat parse` takes a 300 MB line in constant memory, as the daemon does."""
    from streamer.sources.lines import LineSplitter

    splitter = LineSplitter(max_line)
    read = stream.read1 if hasattr(stream, "read1") else stream.read
    while data := read(chunk):
        yield from splitter.feed(data)
    yield from splitter.close()


def cmd_demo_data(args: argparse.Namespace) -> int:
    from streamer.sources.generator import generate
    from streamer.sources.jetstream_generator import generate_jetstream

    if args.count < 0:
        raise ConfigError("--count: must be >= 0")
    if not 0.0 <= args.geo_share <= 1.0:
        raise ConfigError("--geo-share: must be within 0..1")
    handle = sys.stdout.buffer if args.out == "-" else open(args.out, "wb")  # noqa: SIM115
    try:
        if args.format == "jetstream":
            lines = (line for line, _ in generate_jetstream(args.count, args.seed))
        else:
            lines = (line for line, _ in generate(args.count, args.seed, args.geo_share))
        for line in lines:
            handle.write(line + b"\n")
    finally:
        if handle is not sys.stdout.buffer:
            handle.close()
    if args.out != "-":
        print(f"wrote {args.count} lines to {args.out}", file=sys.stderr)
    return 0


# --- habits: open the maps, shell completion ------------------------------------------------


def language_pages(maps_dir: Path) -> list[str]:
    """The languages that have their own map page (`<lang>.html`) in `maps_dir`, sorted."""
    from analysis.summaries import is_safe_lang_code

    return sorted(
        page.stem
        for page in maps_dir.glob("*.html")
        if page.name != INDEX_NAME and is_safe_lang_code(page.stem)
    )


def map_page_url(out_dir: Path, lang: str | None = None) -> str:
    """The file:// URL of the live page, with `#lang=<lang>` to show that language first.

    The live page keeps its state in the URL fragment (analysis/live_page_script.py), so the
    fragment selects the language; without an index page, the language's own page is used.
    Raises FileNotFoundError (for exit status 1) when the pages are not there, ValueError for
    a `lang` that is not a language code.
    """
    from analysis.summaries import is_safe_lang_code

    maps_dir = out_dir / MAPS_DIR
    index = maps_dir / INDEX_NAME
    missing = f"no maps yet under {maps_dir}; run `tweetheat run` or `tweetheat maps`"
    if lang is None:
        if not index.is_file():
            raise FileNotFoundError(missing)
        return index.resolve().as_uri()
    # Checked before it goes near a path: "../x" or "en/../../y" must not name a file.
    if not is_safe_lang_code(lang):
        raise ValueError(f"{lang!r} is not a language code (like en, ja, pt-br or und)")
    page = maps_dir / f"{lang}.html"
    if not page.is_file():
        available = language_pages(maps_dir)
        if not available:
            raise FileNotFoundError(missing)
        raise FileNotFoundError(
            f"no map for {lang!r} under {maps_dir}; languages with a map: {', '.join(available)}"
        )
    if index.is_file():
        return index.resolve().as_uri() + "#" + urlencode({"lang": lang})
    return page.resolve().as_uri()


def cmd_open(settings: Settings, args: argparse.Namespace) -> int:
    import webbrowser

    lang = args.lang.strip().lower() if args.lang is not None else None
    try:
        url = map_page_url(settings.out_path, lang)
    except ValueError as exc:
        print(f"tweetheat: open: {exc}", file=sys.stderr)
        return 2
    if args.print_url:
        print(url)
        return 0
    try:
        opened = webbrowser.open(url)
    except webbrowser.Error:
        opened = False
    if not opened:
        print(url)
        print(
            "tweetheat: no web browser found; open the URL above in one "
            "(or set BROWSER, e.g. BROWSER=firefox)",
            file=sys.stderr,
        )
    return 0


def cmd_install_service(args: argparse.Namespace) -> int:
    from streamer.cli.service import DEFAULT_USER, default_exec_path, install_service, unit_warnings

    for warning in unit_warnings(default_exec_path()):
        print(f"tweetheat: warning: {warning}", file=sys.stderr)
    kwargs: dict[str, Any] = {"user": args.user or DEFAULT_USER}
    if args.config is not None:
        kwargs["config"] = args.config
    try:
        text = install_service(Path(args.write) if args.write else None, **kwargs)
    except OSError as exc:  # most often: --write under /etc without root
        print(
            f"tweetheat: install-service: cannot write {args.write}: {exc.strerror}",
            file=sys.stderr,
        )
        return 1
    if args.write is None:
        sys.stdout.write(text)
    else:
        print(f"wrote {args.write}; now: systemctl daemon-reload", file=sys.stderr)
    return 0


def cmd_completion(args: argparse.Namespace) -> int:
    sys.stdout.write(completion_script(build_parser(), args.shell))
    return 0


if __name__ == "__main__":
    sys.exit(main())
