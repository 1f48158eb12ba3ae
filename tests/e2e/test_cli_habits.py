"""Command-line habits: `tweetheat open`, the replay progress display, shell completion, and an
example in every command's --help."""

from __future__ import annotations

import argparse
import gzip
import io
import itertools
import re
import subprocess
import webbrowser
from pathlib import Path

import pytest
import shtab

from streamer.cli import commands as cli
from streamer.cli.commands import EXAMPLES, build_parser, main
from streamer.cli.completion import LANGS, completion_script, mark_value_completions
from streamer.config import SOURCES
from streamer.runtime.progress import CLEAR_TO_EOL, Progress, replay_total_bytes


@pytest.fixture(autouse=True)
def _no_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Run in an empty directory: no ./config.toml or $TWEETHEAT_CONFIG changes the settings."""
    monkeypatch.delenv("TWEETHEAT_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)


def subcommands() -> dict[str, argparse.ArgumentParser]:
    return subcommands_of(build_parser())


def subcommands_of(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


# --- every command's --help has an example ------------------------------------------------------


def test_every_command_has_an_example_in_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    names = subcommands()
    assert {"open", "completion"} <= set(names)
    assert set(EXAMPLES) == set(names)  # none missing, none left over from a removed command
    for name in names:
        with pytest.raises(SystemExit) as exited:
            main([name, "--help"])
        assert exited.value.code == 0
        out = capsys.readouterr().out
        assert "example:" in out, name
        example = out.split("example:", 1)[1]
        assert f"tweetheat {name}" in example, name
        assert EXAMPLES[name] in example  # on one line, as typed: not re-wrapped


def test_top_level_help_shows_the_completion_one_liner(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert 'eval "$(tweetheat completion bash)"' in out
    for name in subcommands():
        assert name in out


# --- tweetheat open -----------------------------------------------------------------------------


def make_maps(out: Path, langs: tuple[str, ...] = ("en", "ja"), index: bool = True) -> Path:
    maps = out / "maps"
    maps.mkdir(parents=True)
    if index:
        (maps / "index.html").write_text("<!DOCTYPE html>")
    for lang in langs:
        (maps / f"{lang}.html").write_text("<!DOCTYPE html>")
    return maps


def run_open(
    capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:  # (exit status, stdout, stderr)
    code = main(["open", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_open_print_gives_the_index_url(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    maps = make_maps(tmp_path / "out")
    code, out, err = run_open(capsys, "--out", str(tmp_path / "out"), "--print")
    assert (code, err) == (0, "")
    assert out == (maps / "index.html").resolve().as_uri() + "\n"
    assert out.startswith("file:///")


def test_open_print_with_a_language_preselects_it_on_the_live_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    maps = make_maps(tmp_path / "out")
    index = (maps / "index.html").resolve().as_uri()
    assert run_open(capsys, "ja", "--out", str(tmp_path / "out"), "--print") == (
        0,
        f"{index}#lang=ja\n",
        "",
    )
    # Typed in capitals: the pages are named in lower case.
    assert run_open(capsys, "JA", "--out", str(tmp_path / "out"), "--print")[1] == (
        f"{index}#lang=ja\n"
    )


def test_open_uses_the_output_directory_of_the_config_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    maps = make_maps(tmp_path / "elsewhere")
    (tmp_path / "config.toml").write_text('[daemon]\nout_dir = "elsewhere"\n')
    code, out, _ = run_open(capsys, "--print")
    assert code == 0
    assert out == (maps / "index.html").resolve().as_uri() + "\n"


def test_open_a_language_without_the_index_opens_its_own_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    maps = make_maps(tmp_path / "out", index=False)
    code, out, _ = run_open(capsys, "en", "--out", str(tmp_path / "out"), "--print")
    assert code == 0
    assert out == (maps / "en.html").resolve().as_uri() + "\n"


def test_open_the_real_live_page_for_a_language(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Against pages written by analysis.heatmaps: the names, and the fragment the live page
    reads to choose its language."""
    from analysis import heatmaps
    from analysis.summaries import LanguageSummary

    assert (cli.MAPS_DIR, cli.INDEX_NAME) == (heatmaps.MAPS_DIR, heatmaps.INDEX_NAME)
    summaries = [
        LanguageSummary("ja", 3, 2, 1, (("tokyo", 1),), ((35.68, 139.69), (34.69, 135.5))),
        LanguageSummary("en", 5, 0, 0, (), ()),
    ]
    heatmaps.write_maps(tmp_path / "out", summaries, assets="cdn")
    code, out, _ = run_open(capsys, "ja", "--out", str(tmp_path / "out"), "--print")
    assert code == 0 and out.rstrip().endswith("/out/maps/index.html#lang=ja")
    page = (tmp_path / "out" / "maps" / "index.html").read_text()
    assert "new URLSearchParams(location.hash.slice(1))" in page
    assert 'params.get("lang")' in page
    # "en" has no points, so no page of its own.
    code, _, err = run_open(capsys, "en", "--out", str(tmp_path / "out"), "--print")
    assert code == 1 and "languages with a map: ja" in err


@pytest.mark.parametrize("lang", [None, "ja"])
def test_open_without_maps_says_how_to_make_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lang: str | None
) -> None:
    args = ["--out", str(tmp_path / "out"), "--print"] + ([lang] if lang else [])
    code, out, err = run_open(capsys, *args)
    assert (code, out) == (1, "")
    assert f"no maps yet under {tmp_path / 'out' / 'maps'}" in err
    assert "run `tweetheat run` or `tweetheat maps`" in err


def test_open_an_unknown_language_lists_those_with_maps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_maps(tmp_path / "out", langs=("pt-br", "en", "ja", "und"))
    code, out, err = run_open(capsys, "fr", "--out", str(tmp_path / "out"), "--print")
    assert (code, out) == (1, "")
    assert "no map for 'fr'" in err
    assert "languages with a map: en, ja, pt-br, und" in err


@pytest.mark.parametrize("lang", ["../x", "en/../../x", "x", "english", "e n", "../maps/en", "."])
def test_open_rejects_what_is_not_a_language_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lang: str
) -> None:
    make_maps(tmp_path / "out")
    (tmp_path / "out" / "x.html").write_text("not a map")  # what "../x" would have named
    code, out, err = run_open(capsys, lang, "--out", str(tmp_path / "out"), "--print")
    assert (code, out) == (2, "")
    assert "is not a language code" in err


def test_open_calls_the_browser_with_the_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    maps = make_maps(tmp_path / "out")
    opened: list[str] = []

    def fake_open(url: str, new: int = 0, autoraise: bool = True) -> bool:
        opened.append(url)
        return True

    monkeypatch.setattr(webbrowser, "open", fake_open)
    assert run_open(capsys, "en", "--out", str(tmp_path / "out")) == (0, "", "")
    assert opened == [(maps / "index.html").resolve().as_uri() + "#lang=en"]


def test_open_without_a_browser_prints_the_url_and_a_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    maps = make_maps(tmp_path / "out")
    monkeypatch.setattr(webbrowser, "open", lambda url, new=0, autoraise=True: False)
    code, out, err = run_open(capsys, "--out", str(tmp_path / "out"))
    assert code == 0
    assert out == (maps / "index.html").resolve().as_uri() + "\n"
    assert "no web browser found" in err


# --- Progress -----------------------------------------------------------------------------------


class FakeClock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_progress_on_a_tty_redraws_one_line_with_bar_percent_rate_and_eta() -> None:
    clock, stream = FakeClock(), io.StringIO()
    progress = Progress(100_000, stream, is_tty=True, now=clock)
    # 2,000 bytes and 200 posts a second, updated 8 times a second, for 5 s.
    for step in range(1, 41):
        clock.t += 0.125
        progress.update(step * 250, step * 25, step * 20, step * 5)
    out = stream.getvalue()
    assert "\n" not in out
    frames = out.split("\r")[1:]
    assert 15 <= len(frames) <= 26  # at most ~5 a second, not one per update
    assert all(frame.endswith(CLEAR_TO_EOL) for frame in frames)
    progress.close()  # draws the last update, which came too soon after the previous drawing
    out = stream.getvalue()
    assert out.endswith(CLEAR_TO_EOL + "\n")
    last = out.split("\r")[-1]
    assert re.search(r"\[#{2}\.{18}\]", last)  # 10% of 20 cells
    assert "10.0%" in last
    assert "200 posts/s" in last
    assert "ETA 45s" in last  # 90,000 bytes to go at 2,000 bytes/s
    assert "read=1,000 stored=800 skipped=200" in last


def test_progress_clear_makes_room_for_a_log_line_and_redraws_on_the_next_update() -> None:
    clock, stream = FakeClock(), io.StringIO()
    progress = Progress(100, stream, is_tty=True, now=clock)
    progress.update(10, 1, 1, 0)
    progress.clear()
    assert stream.getvalue().endswith("\r" + CLEAR_TO_EOL)
    stream.write("a log line\n")
    clock.t += 0.01  # well within the redraw interval: drawn all the same
    progress.update(20, 2, 2, 0)
    assert stream.getvalue().split("a log line\n")[1].startswith("\r[####")
    Progress(100, stream, is_tty=False, now=clock).clear()  # off a terminal: nothing
    assert stream.getvalue().endswith(CLEAR_TO_EOL)


def test_progress_rate_is_over_a_moving_window_not_since_the_start() -> None:
    clock, stream = FakeClock(), io.StringIO()
    progress = Progress(None, stream, is_tty=True, now=clock)
    posts = 0
    for _ in range(300):  # 30 s at 1,000 posts/s
        clock.t += 0.1
        posts += 100
        progress.update(posts * 100, posts, posts, 0)
    for _ in range(150):  # then 15 s at 10 posts/s
        clock.t += 0.1
        posts += 1
        progress.update(posts * 100, posts, posts, 0)
    assert "10 posts/s" in stream.getvalue().split("\r")[-1]  # not ~667, the average since start


def test_progress_off_a_tty_prints_plain_lines_at_most_every_10_seconds() -> None:
    clock, stream = FakeClock(), io.StringIO()
    progress = Progress(1_000_000, stream, is_tty=False, now=clock)
    printed_at: list[float] = []
    for step in range(1, 71):  # 35 s, an update every 0.5 s
        clock.t += 0.5
        before = stream.getvalue()
        progress.update(step * 10_000, step * 50, step * 48, step * 2)
        if stream.getvalue() != before:
            printed_at.append(clock.t)
    lines = stream.getvalue().splitlines()
    assert len(lines) == len(printed_at) == 3
    assert all(b - a >= 10 for a, b in itertools.pairwise(printed_at))
    assert printed_at[0] - 1000.0 >= 10  # no line of zeros right at the start
    assert "\r" not in stream.getvalue() and "\x1b" not in stream.getvalue()
    for line in lines:
        assert re.fullmatch(
            r"progress \d+% read=\d+ stored=\d+ skipped=\d+ rate=\d+/s eta=\d+s", line
        ), line
    assert lines[-1] == "progress 60% read=3000 stored=2880 skipped=120 rate=100/s eta=20s"
    progress.close()  # the last state was not printed yet: close prints it
    assert stream.getvalue().splitlines()[-1].startswith("progress 70% read=3500")


def test_progress_for_stdin_shows_counts_and_rate_but_no_percent() -> None:
    for is_tty in (True, False):
        clock, stream = FakeClock(), io.StringIO()
        progress = Progress(None, stream, is_tty=is_tty, now=clock)
        for step in range(1, 301):
            clock.t += 0.1
            progress.update(step * 1000, step * 10, step * 10, 0)
        progress.close()
        out = stream.getvalue().replace(CLEAR_TO_EOL, "")
        assert out
        assert "%" not in out and "eta" not in out.lower() and "[" not in out
        assert "read=3,000" in out if is_tty else "read=3000" in out
        assert "100 posts/s" in out if is_tty else "rate=100/s" in out


def test_progress_is_a_tty_only_when_its_stream_is() -> None:
    assert Progress(10, io.StringIO()).is_tty is False
    closed = io.StringIO()
    closed.close()
    assert Progress(10, closed).is_tty is False  # isatty() on a closed stream raises


def test_progress_never_raises_on_a_closed_or_broken_stream() -> None:
    clock = FakeClock()
    closed = io.StringIO()
    progress = Progress(100, closed, is_tty=True, now=clock)
    closed.close()
    progress.update(10, 1, 1, 0)
    progress.close()

    class BrokenPipe(io.StringIO):
        writes = 0

        def write(self, text: str) -> int:
            self.writes += 1
            raise BrokenPipeError

    broken = BrokenPipe()
    progress = Progress(100, broken, is_tty=False, now=clock)
    for _ in range(5):
        clock.t += 11
        progress.update(10, 1, 1, 0)
    progress.close()
    assert broken.writes == 1  # it went quiet after the first failure
    assert progress.enabled is False


def test_replay_total_bytes_sums_files_counting_gz_compressed(tmp_path: Path) -> None:
    plain = tmp_path / "a.ndjson"
    plain.write_bytes(b'{"id": 1}\n' * 100)
    packed = tmp_path / "b.ndjson.gz"
    packed.write_bytes(gzip.compress(b'{"id": 2}\n' * 10_000))
    compressed = packed.stat().st_size
    assert compressed < 10_000 * 10
    assert replay_total_bytes([str(plain), str(packed)]) == 1000 + compressed
    assert replay_total_bytes([str(tmp_path / "*.ndjson*")]) == 1000 + compressed
    assert replay_total_bytes([str(plain), "-"]) is None
    assert replay_total_bytes([str(tmp_path / "missing.ndjson")]) is None
    assert replay_total_bytes([]) == 0


# --- shell completion ---------------------------------------------------------------------------


def script(shell: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["completion", shell]) == 0
    return capsys.readouterr().out


def test_bash_completion_passes_a_syntax_check_and_names_everything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = script("bash", capsys)
    assert text == completion_script(build_parser(), "bash")
    path = tmp_path / "tweetheat.bash"
    path.write_text(text)
    subprocess.run(["bash", "-n", str(path)], check=True, timeout=30)
    for name in subcommands():
        assert name in text
    for source in SOURCES:
        assert source in text
    assert "complete -F _tweetheat tweetheat" in text


def bash_complete(script_text: str, words: list[str], cwd: Path) -> list[str]:
    """What the bash completion offers for `words` (the last one is being completed)."""
    path = cwd / "tweetheat.bash"
    path.write_text(script_text)
    quoted = " ".join("'" + w.replace("'", "'\\''") + "'" for w in words)
    program = (
        f"source {path}\n"
        f"COMP_WORDS=({quoted})\n"
        f"COMP_CWORD={len(words) - 1}\n"
        "COMPREPLY=()\n"
        '_tweetheat tweetheat "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"\n'
        "printf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", program],
        cwd=cwd, capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    return [line for line in done.stdout.splitlines() if line]


def test_bash_completion_completes_commands_options_and_choices(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = script("bash", capsys)
    assert bash_complete(text, ["tweetheat", "ru"], tmp_path) == ["run"]
    assert set(bash_complete(text, ["tweetheat", ""], tmp_path)) >= set(subcommands())
    assert bash_complete(text, ["tweetheat", "run", "--sou"], tmp_path) == ["--source"]
    assert bash_complete(text, ["tweetheat", "run", "--source", "j"], tmp_path) == ["jetstream"]
    assert bash_complete(text, ["tweetheat", "run", "--source", ""], tmp_path) == list(SOURCES)
    # "--source=j" reaches the function as "--source" "=" "j".
    assert bash_complete(text, ["tweetheat", "run", "--source", "=", "j"], tmp_path) == [
        "jetstream"
    ]
    assert bash_complete(text, ["tweetheat", "run", "--log-format", ""], tmp_path) == [
        "console",
        "json",
    ]
    assert bash_complete(text, ["tweetheat", "completion", ""], tmp_path) == ["bash", "zsh", "fish"]


def test_bash_completion_completes_paths_and_languages_with_maps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = script("bash", capsys)
    (tmp_path / "settings.toml").write_text("")
    (tmp_path / "sample.ndjson").write_text("")
    (tmp_path / "saved").mkdir()
    make_maps(tmp_path / "out", langs=("en", "ja"))
    make_maps(tmp_path / "other", langs=("fr",))
    assert bash_complete(text, ["tweetheat", "run", "--config", "set"], tmp_path) == [
        "settings.toml"
    ]
    assert bash_complete(text, ["tweetheat", "run", "--replay-file", "sam"], tmp_path) == [
        "sample.ndjson"
    ]
    assert bash_complete(text, ["tweetheat", "maps", "--out", "s"], tmp_path) == ["saved"]
    assert bash_complete(text, ["tweetheat", "open", ""], tmp_path) == ["en", "ja"]
    assert bash_complete(text, ["tweetheat", "open", "--out", "other", ""], tmp_path) == ["fr"]
    assert bash_complete(text, ["tweetheat", "top", "--lang", "j"], tmp_path) == ["ja"]
    assert bash_complete(text, ["tweetheat", "open", "en", ""], tmp_path) == []  # one LANG only
    assert "--print" in bash_complete(text, ["tweetheat", "open", "--"], tmp_path)


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_completion_name_every_command(
    shell: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = script(shell, capsys)
    for name in subcommands():
        assert re.search(rf"(?m)(^|[\s']){re.escape(name)}[:\s)]", text), (shell, name)
    for source in SOURCES:
        assert source in text
    assert "--replay-file" in text or "-l replay-file" in text
    if shell == "zsh":
        assert text.startswith("#compdef tweetheat\n")
        assert "compdef _tweetheat tweetheat" in text
    else:
        assert "complete -c tweetheat " in text


def test_zsh_completion_takes_values_after_an_equals_sign_and_registers_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = script("zsh", capsys)
    assert '"--out=[' in text and '"*--replay-file=[' in text  # "--out=DIR" or "--out DIR"
    assert '"--json[' in text and '"--json=[' not in text  # a flag takes no value
    assert text.count("\n  compdef ") == 1  # ours, not shtab's eval-only one as well


def test_completion_completes_values_by_metavar() -> None:
    parser = build_parser()
    mark_value_completions(parser)
    commands = subcommands_of(parser)

    def complete_of(command: str, dest: str) -> object:
        action = next(a for a in commands[command]._actions if a.dest == dest)
        return getattr(action, "complete", None)

    assert complete_of("run", "config") == shtab.FILE
    assert complete_of("run", "replay_file") == shtab.FILE
    assert complete_of("run", "out") == shtab.DIRECTORY
    assert complete_of("demo-data", "out") == shtab.FILE  # metavar F there
    assert complete_of("open", "lang") == LANGS
    assert complete_of("top", "lang") == LANGS  # no metavar: LANG from its name
    assert complete_of("run", "source") is None  # choices: shtab completes those itself
    assert complete_of("run", "rate") is None
    with pytest.raises(ValueError, match="shell"):
        completion_script(build_parser(), "tcsh")


def test_completion_needs_no_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "config.toml").write_text("this is not TOML")
    assert "_tweetheat" in script("bash", capsys)
