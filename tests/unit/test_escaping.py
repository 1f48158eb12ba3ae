"""Hostile user text in every page tweetheat writes: the maps (per-language pages and the live
index) and the bio clusters report.

Hashtags, bios, cluster terms and user ids are written by strangers. Put into the pages through
the functions the daemon calls (write_maps with summaries shaped like
analysis.snapshot.collect_summaries makes them; write_cluster_report and live_clusters.refit),
they must come out as text: no element, attribute or script of their own. Each page is parsed
with html.parser and compared with the same page drawn from harmless placeholders: the tags and
attribute names must be the same, the reader must see the hostile text verbatim, and the JSON
inside <script> must escape "<", ">", "&", U+2028 and U+2029.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import live_clusters
from analysis.cluster_report import write_cluster_report
from analysis.clustering import (
    NO_CLUSTER,
    BioClusterModel,
    ClusterResult,
    ClusterSettings,
    ClusterSummary,
    HDBSCANOutcome,
    KMeansOutcome,
    ProjectedUser,
)
from analysis.heatmaps import LanguageSummary, write_maps
from analysis.live_page_script import LIVE_PAGE_SCRIPT
from analysis.pages import json_for_script
from scripts.bench_clusters import synthetic_users
from streamer.config import ClustersSettings

WHEN = datetime(2024, 5, 17, 9, 30, 5, tzinfo=UTC)
PARIS, TOKYO = (48.8566, 2.3522), (35.6762, 139.6503)

HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><img src=x onerror=alert(1)>",
    "</script><script>alert(1)</script>",
    "<!--<script>alert(1)//",
    "</style><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    "<svg onload=alert(1)>",
    "<![CDATA[<script>alert(1)</script>]]>",
    "{{7*7}}",
    "{% for x in range(3) %}x{% endfor %}",
    "${x}",
    "`${alert(1)}`",
    "javascript:alert(1)",
    "line\u2028separator\u2029paragraph",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;",
    "a\x00<b>",
]
# Language codes name files and rows: these must not be listed at all.
HOSTILE_LANGS = ['"><img src=x onerror=alert(1)>', "en<script>", "../x", "javascript:alert(1)"]
SCRIPT_UNSAFE = ("<", ">", "&", "\u2028", "\u2029")
URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "xlink:href", "data"})


# --- reading a page back ------------------------------------------------------------------


@dataclass
class Script:
    attrs: dict[str, str | None]
    content: str = ""

    @property
    def is_data(self) -> bool:
        return self.attrs.get("type") == "application/json"


@dataclass
class ScannedPage:
    """What html.parser sees: the elements and attribute names, in order, the scripts, the
    text a reader sees (entities decoded) and the attributes with their values."""

    elements: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    attributes: list[tuple[str, str, str | None]] = field(default_factory=list)
    scripts: list[Script] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)

    @property
    def shown_text(self) -> str:
        return "".join(self.text)


class PageScanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = ScannedPage()
        self._script: Script | None = None
        self._in_style = False  # a stylesheet's text is not shown to the reader

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.page.elements.append((tag, tuple(name for name, _ in attrs)))
        self.page.attributes.extend((tag, name, value) for name, value in attrs)
        if tag == "script":
            self._script = Script(dict(attrs))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False
        if tag == "script" and self._script is not None:
            self.page.scripts.append(self._script)
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script.content += data
        elif not self._in_style:
            self.page.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.page.comments.append(data)


def as_browser_reads(text: str) -> str:
    """A browser turns CR LF and lone CRs into LF before it parses a page (HTML's input stream
    preprocessing), so a reader never sees a CR."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def scan(path: Path) -> ScannedPage:
    scanner = PageScanner()
    with path.open(encoding="utf-8", newline="") as page:
        scanner.feed(as_browser_reads(page.read()))
    scanner.close()
    return scanner.page


def assert_inert(page: ScannedPage, where: str) -> None:
    """No element or attribute a hostile string could have made, and scripts that only run
    the page's own code or carry data that cannot end their element."""
    for tag, name, value in page.attributes:
        assert tag not in ("img", "iframe", "object", "embed", "base", "form"), (where, tag)
        assert not name.startswith("on"), (where, tag, name, value)
        if name in URL_ATTRIBUTES and value is not None:
            assert not value.strip().lower().startswith(("javascript:", "data:")), (where, value)
    assert not page.comments, (where, page.comments)
    for script in page.scripts:
        if script.is_data:
            for unsafe in SCRIPT_UNSAFE:
                assert unsafe not in script.content, (where, repr(unsafe))
            json.loads(script.content)
        else:
            assert "alert(" not in script.content, where
            assert "</script" not in script.content.lower(), where


def structure(page: ScannedPage) -> list[tuple[str, tuple[str, ...]]]:
    return page.elements


def data_element(page: ScannedPage) -> dict[str, object]:
    (data,) = [script for script in page.scripts if script.is_data]
    decoded: dict[str, object] = json.loads(data.content)
    return decoded


# --- the maps -----------------------------------------------------------------------------


def summaries_with(tags: list[str]) -> list[LanguageSummary]:
    """Summaries as collect_summaries builds them from the store, carrying `tags` as the top
    hashtags of two languages, one with points (it gets a map page) and one without."""
    tops = tuple((tag, len(tags) - n) for n, tag in enumerate(tags))
    return [
        LanguageSummary(
            lang="en",
            tweets=120,
            geo=2,
            hashtags=sum(count for _, count in tops),
            top_hashtags=tops,
            points=(PARIS, TOKYO),
        ),
        LanguageSummary(
            lang="ja",
            tweets=40,
            geo=0,
            hashtags=len(tops),
            top_hashtags=tops[::-1],
            points=(),
            point_times=(),
        ),
        *(
            LanguageSummary(lang, 999, 1, 1, tops, (PARIS,))  # busiest, so first if listed
            for lang in HOSTILE_LANGS
        ),
    ]


def written_maps(out: Path, tags: list[str], assets: str = "cdn") -> dict[str, ScannedPage]:
    written = write_maps(out, summaries_with(tags), generated_at=WHEN, assets=assets)
    assert sorted(p.name for p in written) == ["en.html", "index.html"]
    return {path.name: scan(path) for path in written}


def placeholders(strings: list[str]) -> list[str]:
    return [f"placeholder{n}" for n in range(len(strings))]


@pytest.mark.parametrize("assets", ["cdn", "local"])
def test_hostile_hashtags_stay_text_on_every_map_page(tmp_path: Path, assets: str) -> None:
    hostile = written_maps(tmp_path / "hostile", HOSTILE, assets)
    plain = written_maps(tmp_path / "plain", placeholders(HOSTILE), assets)
    for name, page in hostile.items():
        assert_inert(page, name)
        assert structure(page) == structure(plain[name]), name
    index = hostile["index.html"]
    # The reader sees each tag as written, in the table of both languages...
    for tag in HOSTILE:
        assert index.shown_text.count(f"#{tag} ") == 2, tag
    # ...and the script gets them unchanged, to set with textContent.
    languages = cast(list[dict[str, object]], data_element(index)["languages"])
    assert [lang["lang"] for lang in languages] == ["en", "ja"]
    assert [tag for tag, _ in cast(list[list[object]], languages[0]["top"])] == HOSTILE
    # Nothing was evaluated as a template on the way.
    assert "49" not in index.shown_text


def test_hostile_language_codes_get_no_page_row_or_data(tmp_path: Path) -> None:
    pages = written_maps(tmp_path, ["ok"])
    raw = (tmp_path / "maps" / "index.html").read_text(encoding="utf-8")
    for lang in HOSTILE_LANGS:
        assert lang not in pages["index.html"].shown_text
        assert json.dumps(lang)[1:-1] not in raw
    assert sorted(p.name for p in (tmp_path / "maps").glob("*.html")) == ["en.html", "index.html"]


def test_live_page_script_sets_user_text_only_as_text() -> None:
    # The page's own script: innerHTML only ever gets a literal, never data.
    assignments = re.findall(r"innerHTML\s*=\s*(.+?);?\s*$", LIVE_PAGE_SCRIPT, re.MULTILINE)
    assert assignments, "the play button's labels are set with innerHTML"
    assert all(re.fullmatch(r'"[^"]*"', value.strip()) for value in assignments), assignments
    for sink in ("outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in LIVE_PAGE_SCRIPT, sink


@pytest.mark.parametrize("value", [*HOSTILE, "\u2028", "\u2029", "<>&", "\u2028</script>\u2029"])
def test_json_for_script_escapes_what_could_end_or_break_a_script(value: str) -> None:
    text = json_for_script({"v": value, value: [value]})
    for unsafe in SCRIPT_UNSAFE:
        assert unsafe not in text
    assert json.loads(text) == {"v": value, value: [value]}


# --- the clusters report ------------------------------------------------------------------


def cluster_result(strings: list[str]) -> ClusterResult:
    """A fitted-looking result whose bios, terms and user ids are `strings`."""

    def summary(cluster: int, size: int) -> ClusterSummary:
        return ClusterSummary(cluster, size, tuple(strings), tuple(strings))

    projection = tuple(
        ProjectedUser(user_id=text, x=float(n), y=float(n % 3), kmeans=n % 2, hdbscan=n % 3 - 1,
                      bio=text)
        for n, text in enumerate(strings)
    )  # fmt: skip
    return ClusterResult(
        users=len(strings),
        empty_bios=1,
        kmeans=KMeansOutcome(
            k=2,
            silhouette=0.5,
            silhouettes={2: 0.5, 3: 0.25},
            inertia={2: 10.0, 3: 8.0},
            clusters=(summary(0, 5), summary(1, 3)),
        ),
        hdbscan=HDBSCANOutcome(clusters=(summary(0, 4),), noise=2),
        assignments={text: (0, NO_CLUSTER) for text in strings},
        projection=projection,
        model=cast(BioClusterModel, None),  # the report never reads the model
        settings=ClusterSettings(),
        fitted_at=WHEN,
        seconds=1.5,
        timings={},
    )


def written_report(out: Path, strings: list[str]) -> tuple[ScannedPage, object]:
    json_path, html_path = write_cluster_report(out, cluster_result(strings), refresh_seconds=30)
    return scan(html_path), json.loads(json_path.read_text(encoding="utf-8"))


def test_hostile_bios_and_terms_stay_text_in_the_clusters_report(tmp_path: Path) -> None:
    page, report = written_report(tmp_path / "hostile", HOSTILE)
    plain, _ = written_report(tmp_path / "plain", placeholders(HOSTILE))
    assert_inert(page, "clusters")
    assert structure(page) == structure(plain)
    assert not page.scripts
    shown = page.shown_text
    for text in HOSTILE:
        # Sample bios of three clusters and one tooltip each (the bio, after a header line).
        assert shown.count(text) >= 4, text
    assert "49" not in shown
    assert report == json.loads(json.dumps(cluster_result(HOSTILE).to_json_dict()))


def test_clusters_fitted_by_the_daemon_on_hostile_bios(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daemon's path: live_clusters.refit fits real bios, some of them hostile, and writes
    the report; the terms it finds include markup ("<script>") and must stay text too."""
    monkeypatch.setattr(live_clusters, "_model", None)  # refit keeps its model here
    users = [(u.user_id, u.bio) for u in synthetic_users(200, seed=3)]
    users += [(f"evil{n}\"'<>", f"{HOSTILE[n % len(HOSTILE)]} musician guitar") for n in range(24)]
    settings_ = ClustersSettings(k_min=2, k_max=4, min_cluster_size=10, min_users=20, seed=1)
    outcome = live_clusters.refit(users, settings_, tmp_path, refresh=30)
    assert outcome.skipped is None
    terms = {term for c in outcome.report["kmeans"]["clusters"] for term in c["top_terms"]}
    # Markup's words become terms ("script"); its brackets never do (terms are words).
    assert "script" in terms and not any("<" in term for term in terms), terms
    page = scan(tmp_path / "clusters" / "index.html")
    assert_inert(page, "clusters")
    assert not page.scripts
    allowed = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "time", "div",
               "input", "label", "svg", "circle", "table", "thead", "tbody", "tr", "th", "td",
               "span", "ul", "li"}  # fmt: skip
    assert {tag for tag, _ in structure(page)} <= allowed
    shown = page.shown_text
    for term in ("<script>", "</script>"):
        if term in terms:
            assert term in shown
    assert HOSTILE[0] in shown and HOSTILE[1] in shown


# --- any text at all ----------------------------------------------------------------------

user_text = st.text(max_size=40) | st.sampled_from(HOSTILE)


@settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(user_text, min_size=1, max_size=6, unique=True))
def test_any_user_text_stays_text(tmp_path: Path, strings: list[str]) -> None:
    out = tmp_path / f"run{len(list(tmp_path.iterdir()))}"
    maps = written_maps(out / "hostile", strings)
    plain_maps = written_maps(out / "plain", placeholders(strings))
    for name, page in maps.items():
        assert_inert(page, name)
        assert structure(page) == structure(plain_maps[name]), name
    index = maps["index.html"]
    languages = cast(list[dict[str, object]], data_element(index)["languages"])
    assert [tag for tag, _ in cast(list[list[object]], languages[0]["top"])] == strings
    for text in strings:
        assert as_browser_reads(f"#{text} ") in index.shown_text

    page, _report = written_report(out / "hostile", strings)
    plain, _ = written_report(out / "plain", placeholders(strings))
    assert_inert(page, "clusters")
    assert structure(page) == structure(plain)
    for text in strings:
        assert as_browser_reads(text) in page.shown_text
