"""Shell completion scripts for bash, zsh and fish, written by shtab from the argparse parser.

`tweetheat completion bash|zsh|fish` prints one. shtab reads the commands, options and choices
from `build_parser()`, so a new option or command is completed as soon as it exists. What an
option's value is completed with follows from its metavar, tagged here before shtab runs:

- choices (`--source`, `--log-format`, the shell of `completion`): the choices (shtab's own);
- metavar `F` or `FILE`: file names; metavar `DIR`: directory names;
- metavar `LANG` (`open LANG`, `--lang`): the languages that have a map page under the output
  directory (`--out` on the command line, else `out/`), read from the file names when TAB is
  pressed, without starting Python (the small per-shell functions below);
- anything else (`--rate`, `-n`, `--redis-url`): nothing to suggest.

What shtab leaves out is added around its script: bash gets an entry function that joins
`--opt=value` back together (bash splits it at the "=" before shtab's parser walk sees it), and
zsh a registration that works when the script is eval'ed, sourced or autoloaded from $fpath.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator

import shtab

SHELLS = ("bash", "zsh", "fish")
FILE_METAVARS = ("F", "FILE")
DIR_METAVARS = ("DIR",)
LANG_METAVARS = ("LANG",)

# The function that lists languages with a map page, in each shell. It reads --out itself,
# from the words typed so far: shtab passes it only the word being completed.
_LANGS = "_tweetheat_langs"
LANGS = {"bash": _LANGS, "zsh": _LANGS, "fish": f"({_LANGS})"}

_BASH_LANGS = r"""
# Languages with a map page under <--out>/maps (out/ when no --out was given).
_tweetheat_langs() {
    local dir=out i f lang langs=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        [[ ${COMP_WORDS[i]} == --out ]] && dir="${COMP_WORDS[i + 1]}"
    done
    dir="${dir/#\~/$HOME}"
    for f in "$dir"/maps/*.html; do
        [[ -e $f ]] || continue
        lang="${f##*/}"
        lang="${lang%.html}"
        [[ $lang == index ]] || langs+="$lang "
    done
    compgen -W "$langs" -- "$1"
}
"""

_BASH_ENTRY = r"""
# bash splits "--opt=value" at the "=" into "--opt" "=" "value"; shtab's walk above expects
# "--opt" "value". Drop the "=" words (an "=" being completed becomes an empty value) first.
_tweetheat() {
    local -a words=()
    local cword=0 i
    for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
        ((i == COMP_CWORD)) && cword=${#words[@]}
        if ((i > 0)) && [[ ${COMP_WORDS[i]} == "=" && ${COMP_WORDS[i - 1]} == --* ]]; then
            ((i == COMP_CWORD)) && words+=("")
            continue
        fi
        words+=("${COMP_WORDS[i]}")
    done
    local -a COMP_WORDS=("${words[@]}")
    local COMP_CWORD=$cword
    _shtab_tweetheat "$@"
}

complete -F _tweetheat tweetheat
"""

_ZSH_LANGS = r"""
# Languages with a map page under <--out>/maps (out/ when no --out was given).
_tweetheat_langs() {
    local out=${(Q)opt_args[--out]:-out}
    local -a langs expl
    langs=(${~out}/maps/*.html(N:t:r))
    langs=(${langs:#index})
    _wanted languages expl language compadd -a langs
}
"""

# shtab registers the function only under `eval`; a sourced file would call it outside
# completion. `loadautofunc` is the one case (autoloaded from $fpath) that must call it.
_ZSH_SHTAB_ENTRY = """\
if [[ $zsh_eval_context[-1] == eval ]]; then
  # eval/source/. command, register function for later
  compdef _shtab_tweetheat -N tweetheat
else
  # autoload from fpath, call function directly
  _shtab_tweetheat "$@"
fi
"""
_ZSH_ENTRY = """\
_tweetheat() {
  _shtab_tweetheat "$@"
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _tweetheat "$@"
else
  compdef _tweetheat tweetheat
fi
"""

# A long option that takes a value, in shtab's _arguments specs: `"--out[help]:DIR:..."`.
# "--out=" instead lets zsh take the value as the next word or after an "=" ("--out=x").
_ZSH_VALUED_LONG = re.compile(r'(?m)^(\s+"\*?--[\w-]+)(\[(?:\\.|[^\]\\])*\]:)')

_FISH_LANGS = r"""
# Languages with a map page under <--out>/maps (out/ when no --out was given).
function _tweetheat_langs
    set -l out out
    set -l previous
    for word in (commandline -opc)
        test "$previous" = --out; and set out $word
        string match -q -- "--out=*" $word; and set out (string replace -- --out= "" $word)
        set previous $word
    end
    for page in $out/maps/*.html
        set -l lang (basename $page .html)
        test $lang = index; or echo $lang
    end
end
"""

_PREAMBLES = {"bash": _BASH_LANGS, "zsh": _ZSH_LANGS, "fish": _FISH_LANGS}


def _actions(parser: argparse.ArgumentParser) -> Iterator[argparse.Action]:
    """Every argument of the parser and of its subcommands, however deep."""
    for action in parser._actions:
        yield action
        if isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                yield from _actions(command)


def _metavar(action: argparse.Action) -> str:
    if isinstance(action.metavar, str):
        return action.metavar
    return action.dest.upper() if action.option_strings else action.dest


def mark_value_completions(parser: argparse.ArgumentParser) -> None:
    """Tell shtab what completes each value, from its metavar (shtab's `.complete`)."""
    for action in _actions(parser):
        if action.nargs == 0 or action.choices is not None:
            continue
        metavar = _metavar(action)
        if metavar in FILE_METAVARS:
            action.complete = shtab.FILE  # type: ignore[attr-defined]
        elif metavar in DIR_METAVARS:
            action.complete = shtab.DIRECTORY  # type: ignore[attr-defined]
        elif metavar in LANG_METAVARS:
            action.complete = LANGS  # type: ignore[attr-defined]


def completion_script(parser: argparse.ArgumentParser, shell: str) -> str:
    """The completion script for `shell` ("bash", "zsh" or "fish") of the parser's program.
    Tags the parser's arguments for shtab (see `mark_value_completions`)."""
    if shell not in SHELLS:
        raise ValueError(f"unknown shell {shell!r}; expected one of {', '.join(SHELLS)}")
    if parser.prog != "tweetheat":  # the functions above are named after it
        raise ValueError(f"completion is written for tweetheat, not {parser.prog!r}")
    mark_value_completions(parser)
    script: str = shtab.complete(parser, shell, preamble=_PREAMBLES[shell])
    if shell == "bash":
        shtab_entry = "complete -o bashdefault -F _shtab_tweetheat tweetheat"
        return _replace(script, shtab_entry, "") + _BASH_ENTRY
    if shell == "zsh":
        return _ZSH_VALUED_LONG.sub(r"\1=\2", _replace(script, _ZSH_SHTAB_ENTRY, _ZSH_ENTRY))
    return script


def _replace(script: str, old: str, new: str) -> str:
    """`old` replaced in shtab's script; a shtab release that words it otherwise must fail
    here, not leave two registrations behind."""
    if script.count(old) != 1:
        raise RuntimeError(f"shtab {shtab.__version__}: its script no longer ends as expected")
    return script.replace(old, new)
