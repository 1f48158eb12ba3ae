"""Shell completion scripts for bash, zsh and fish, written from the argparse parser itself.

`tweetheat completion bash|zsh|fish` prints one. The commands, their options, the options'
choices and which of them take a value all come from `build_parser()`, so a new option or
command is completed as soon as it exists. What an option's value is completed with follows
from the option:

- choices (`--source`, `--log-format`, the shell of `completion`): the choices;
- metavar `F`: file names; metavar `DIR`: directory names;
- metavar `LANG` (`open LANG`, `--lang`): the languages that have a map page under the output
  directory (`--out` on the command line, else `out/`), read from the file names when TAB is
  pressed, without starting Python;
- anything else (`--rate`, `-n`, `--redis-url`): nothing to suggest.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable
from dataclasses import dataclass

SHELLS = ("bash", "zsh", "fish")
FILE_METAVARS = ("F", "FILE")
DIR_METAVARS = ("DIR",)
LANG_METAVARS = ("LANG",)
OUT_OPTION = "--out"  # where the language pages are looked for: <out>/maps/<lang>.html


@dataclass(frozen=True)
class Arg:
    """One option or positional argument of a command, as completion sees it."""

    flags: tuple[str, ...]  # empty for a positional
    help: str
    takes_value: bool
    kind: str  # "choices", "file", "dir", "lang", "any" (a value of its own) or "" (a flag)
    choices: tuple[str, ...] = ()
    repeatable: bool = False
    optional: bool = False  # positionals: nargs="?"
    metavar: str = ""


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    options: tuple[Arg, ...]
    positionals: tuple[Arg, ...]

    def option_words(self) -> list[str]:
        return [flag for option in self.options for flag in option.flags]

    def valued_words(self) -> list[str]:
        return [flag for option in self.options if option.takes_value for flag in option.flags]


def _help(action: argparse.Action) -> str:
    text = action.help or ""
    if text == argparse.SUPPRESS:
        return ""
    return " ".join(text.replace("%%", "%").split())


def _metavar(action: argparse.Action) -> str:
    if isinstance(action.metavar, str):
        return action.metavar
    return action.dest.upper() if action.option_strings else action.dest


def _arg(action: argparse.Action) -> Arg:
    takes_value = action.nargs != 0
    metavar = _metavar(action)
    choices = tuple(str(c) for c in action.choices) if action.choices is not None else ()
    if not takes_value:
        kind = ""
    elif choices:
        kind = "choices"
    elif metavar in FILE_METAVARS:
        kind = "file"
    elif metavar in DIR_METAVARS:
        kind = "dir"
    elif metavar in LANG_METAVARS:
        kind = "lang"
    else:
        kind = "any"
    return Arg(
        flags=tuple(action.option_strings),
        help=_help(action),
        takes_value=takes_value,
        kind=kind,
        choices=choices,
        repeatable=isinstance(action, argparse._AppendAction),
        optional=action.nargs == "?",
        metavar=metavar,
    )


def _subparsers(
    parser: argparse.ArgumentParser,
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    raise ValueError(f"{parser.prog} has no subcommands")


def commands_of(parser: argparse.ArgumentParser) -> list[Command]:
    """The parser's subcommands in their --help order, with their options and positionals."""
    sub = _subparsers(parser)
    helps = {choice.dest: _help(choice) for choice in sub._get_subactions()}
    commands = []
    for name, command in sub.choices.items():
        args = [_arg(action) for action in command._actions]
        commands.append(
            Command(
                name=name,
                help=helps.get(name, ""),
                options=tuple(a for a in args if a.flags),
                positionals=tuple(a for a in args if not a.flags),
            )
        )
    return commands


def completion_script(parser: argparse.ArgumentParser, shell: str) -> str:
    """The completion script for `shell` ("bash", "zsh" or "fish") of the parser's program."""
    commands = commands_of(parser)
    if shell == "bash":
        top_options = [flag for action in parser._actions for flag in action.option_strings]
        return bash_script(parser.prog, commands, top_options)
    if shell == "zsh":
        return zsh_script(parser.prog, commands)
    if shell == "fish":
        return fish_script(parser.prog, commands)
    raise ValueError(f"unknown shell {shell!r}; expected one of {', '.join(SHELLS)}")


def _function_name(prog: str) -> str:
    return "_" + re.sub(r"\W", "_", prog)


def _sq(text: str) -> str:
    """Single-quoted for bash and zsh."""
    return "'" + text.replace("'", "'\\''") + "'"


def _words(items: Iterable[str]) -> str:
    return " ".join(items)


# --- bash ---------------------------------------------------------------------------------------

_BASH_HELPERS = r"""
# Languages with a map page under $1/maps (the --out directory, else out/).
__FN___langs() {
    local dir="${1:-out}" f lang
    dir="${dir/#\~/$HOME}"
    for f in "$dir"/maps/*.html; do
        [[ -e $f ]] || continue
        lang="${f##*/}"
        lang="${lang%.html}"
        [[ $lang == index ]] || printf '%s\n' "$lang"
    done
}

# COMPREPLY from a list of words ($1) that start with the word being completed ($2).
__FN___reply() {
    local IFS=$' \t\n'
    COMPREPLY=($(compgen -W "$1" -- "$2"))
}

# COMPREPLY from file (-f) or directory (-d) names ($1) that start with $2.
__FN___paths() {
    local IFS=$'\n'
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen "$1" -- "$2"))
}
"""

_BASH_MAIN = r"""
__FN__() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="" cmd="" at=0 i word
    COMPREPLY=()
    if ((COMP_CWORD > 0)); then
        prev="${COMP_WORDS[COMP_CWORD - 1]}"
    fi
    # bash splits "--opt=value" at the "=" into "--opt" "=" "value".
    if [[ $cur == "=" ]]; then
        cur=""
    elif [[ $prev == "=" ]] && ((COMP_CWORD > 1)); then
        prev="${COMP_WORDS[COMP_CWORD - 2]}"
    fi
    case "$prev" in
        "<" | ">" | ">>")
            __FN___paths -f "$cur"
            return 0
            ;;
    esac
    # The command: the first word that is not an option.
    for ((i = 1; i < COMP_CWORD; i++)); do
        if [[ ${COMP_WORDS[i]} != -* ]]; then
            cmd="${COMP_WORDS[i]}"
            at=$i
            break
        fi
    done
    if [[ -z $cmd ]]; then
        __FN___reply "__COMMANDS__ __TOP_OPTIONS__" "$cur"
        return 0
    fi
    local options="" valued=""
    case "$cmd" in
__OPTION_CASES__
        *) return 0 ;;
    esac
    # The positionals before this word (skipping the options' values) and the --out given.
    local count=0 out=""
    for ((i = at + 1; i < COMP_CWORD; i++)); do
        word="${COMP_WORDS[i]}"
        if [[ $word == -* && " $valued " == *" $word "* ]]; then
            i=$((i + 1))
            if [[ ${COMP_WORDS[i]} == "=" ]]; then
                i=$((i + 1))
            fi
            if [[ $word == __OUT_OPTION__ ]]; then
                out="${COMP_WORDS[i]}"
            fi
        elif [[ $word != -* ]]; then
            count=$((count + 1))
        fi
    done
    # The value of an option.
    if [[ $prev == -* && " $valued " == *" $prev "* ]]; then
        case "$cmd $prev" in
__VALUE_CASES__
        esac
        return 0
    fi
    if [[ $cur == -* ]]; then
        __FN___reply "$options" "$cur"
        return 0
    fi
    case "$cmd $count" in
__POSITIONAL_CASES__
    esac
    return 0
}

complete -F __FN__ __PROG__
"""


def _bash_value(arg: Arg) -> str:
    """The bash statement that completes a value of `arg` ("" for nothing to suggest)."""
    if arg.kind == "choices":
        return f'__FN___reply "{_words(arg.choices)}" "$cur"'
    if arg.kind == "file":
        return '__FN___paths -f "$cur"'
    if arg.kind == "dir":
        return '__FN___paths -d "$cur"'
    if arg.kind == "lang":
        return '__FN___reply "$(__FN___langs "$out")" "$cur"'
    return ""


def bash_script(prog: str, commands: list[Command], top_options: Iterable[str] = ()) -> str:
    option_cases, value_cases, positional_cases = [], [], []
    for command in commands:
        option_cases.append(
            f"        {command.name})\n"
            f'            options="{_words(command.option_words())}"\n'
            f'            valued="{_words(command.valued_words())}"\n'
            "            ;;"
        )
        for option in command.options:
            statement = _bash_value(option)
            if not statement:
                continue
            patterns = " | ".join(f'"{command.name} {flag}"' for flag in option.flags)
            value_cases.append(f"            {patterns}) {statement} ;;")
        for index, positional in enumerate(command.positionals):
            statement = _bash_value(positional)
            if statement:
                positional_cases.append(f'        "{command.name} {index}") {statement} ;;')
    script = (
        f"# bash completion for {prog}, written by `{prog} completion bash` from its argument\n"
        f'# parser. Load it with:  eval "$({prog} completion bash)"  (e.g. in ~/.bashrc)\n'
        + _BASH_HELPERS
        + _BASH_MAIN
    )
    replacements = {
        "__OPTION_CASES__": "\n".join(option_cases),
        "__VALUE_CASES__": "\n".join(value_cases) or "            *) ;;",
        "__POSITIONAL_CASES__": "\n".join(positional_cases) or "        *) ;;",
        "__COMMANDS__": _words(c.name for c in commands),
        "__TOP_OPTIONS__": _words(top_options),
        "__OUT_OPTION__": OUT_OPTION,
        "__PROG__": prog,
        "__FN__": _function_name(prog),
    }
    for key, value in replacements.items():
        script = script.replace(key, value)
    return script


# --- zsh ----------------------------------------------------------------------------------------


def _zsh_bracket(text: str) -> str:
    """Text for an _arguments [description]: brackets and backslashes escaped."""
    return re.sub(r"([\\\[\]])", r"\\\1", text)


def _zsh_action(arg: Arg) -> str:
    if arg.kind == "choices":
        return "(" + " ".join(re.sub(r"([\\ ()'\"])", r"\\\1", c) for c in arg.choices) + ")"
    if arg.kind == "file":
        return "_files"
    if arg.kind == "dir":
        return "_files -/"
    if arg.kind == "lang":
        return "__FN___langs"
    return " "


def _zsh_message(arg: Arg) -> str:
    """What zsh shows above the candidates for a value: "file", "directory", "language"..."""
    named = {"file": "file", "dir": "directory", "lang": "language"}.get(arg.kind)
    return named or re.sub(r"[^a-z0-9 _-]", "", arg.metavar.lower().replace("_", " ")) or "value"


def _zsh_option(arg: Arg) -> str:
    description = f"[{_zsh_bracket(arg.help)}]" if arg.help else ""
    value = f":{_zsh_message(arg)}:{_zsh_action(arg)}" if arg.takes_value else ""
    if len(arg.flags) > 1:
        exclusive = "(- *)" if arg.flags[-1] == "--help" else "(" + " ".join(arg.flags) + ")"
        prefix = "*" if arg.repeatable else ""
        long_value = "=" if arg.takes_value and all(f.startswith("--") for f in arg.flags) else ""
        spec = _sq(f"{exclusive}{prefix}") + "{" + ",".join(arg.flags) + "}"
        return spec + _sq(f"{long_value}{description}{value}")
    flag = arg.flags[0]
    prefix = "*" if arg.repeatable else ""
    # "--opt=": the value may follow as "--opt=V" or as the next word; "-n+": as "-n5" or "-n 5".
    joined = ("=" if flag.startswith("--") else "+") if arg.takes_value else ""
    return _sq(f"{prefix}{flag}{joined}{description}{value}")


def _zsh_positional(index: int, arg: Arg) -> str:
    colons = "::" if arg.optional else ":"
    return _sq(f"{index + 1}{colons}{_zsh_message(arg)}:{_zsh_action(arg)}")


_ZSH_MAIN = r"""
# Languages with a map page under <--out>/maps (out/ when no --out was given).
__FN___langs() {
    local out=${(Q)opt_args[--out]:-out}
    local -a langs
    langs=(${~out}/maps/*.html(N:t:r))
    langs=(${langs:#index})
    _wanted languages expl language compadd -a langs
}

__FN__() {
    local curcontext=$curcontext state state_descr line ret=1
    typeset -A opt_args
    _arguments -C \
        '(- *)'{-h,--help}'[show the help and exit]' \
        '1:command:->command' \
        '*::argument:->argument' && ret=0
    case $state in
        command)
            local -a commands
            commands=(
__COMMANDS__
            )
            _describe -t commands '__PROG__ command' commands && ret=0
            ;;
        argument)
            curcontext=${curcontext%:*:*}:__PROG__-$words[1]:
            case $words[1] in
__COMMAND_CASES__
            esac
            ;;
    esac
    return ret
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    __FN__ "$@"
else
    compdef __FN__ __PROG__
fi
"""


def zsh_script(prog: str, commands: list[Command]) -> str:
    described = [
        "                " + _sq(f"{c.name}:{c.help}".replace("\\", "\\\\")) for c in commands
    ]
    cases = []
    for command in commands:
        specs = [_zsh_option(option) for option in command.options]
        specs += [_zsh_positional(i, p) for i, p in enumerate(command.positionals)]
        lines = " \\\n                        ".join(["_arguments", *specs])
        cases.append(
            f"                {command.name})\n"
            f"                    {lines} && ret=0\n"
            "                    ;;"
        )
    script = (
        f"#compdef {prog}\n"
        f"# zsh completion for {prog}, written by `{prog} completion zsh` from its argument\n"
        f'# parser. Load it with:  eval "$({prog} completion zsh)"  (after compinit, e.g. in\n'
        f"# ~/.zshrc), or save it as _{prog} in a directory on $fpath.\n" + _ZSH_MAIN
    )
    replacements = {
        "__COMMANDS__": "\n".join(described),
        "__COMMAND_CASES__": "\n".join(cases),
        "__PROG__": prog,
        "__FN__": _function_name(prog),
    }
    for key, value in replacements.items():
        script = script.replace(key, value)
    return script


# --- fish ---------------------------------------------------------------------------------------


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _fish_value(arg: Arg, fn: str) -> str:
    if arg.kind == "choices":
        return "-x -a " + _fish_quote(" ".join(arg.choices))
    if arg.kind == "file":
        return "-r -F"
    if arg.kind == "dir":
        return "-x -a '(__fish_complete_directories (commandline -ct))'"
    if arg.kind == "lang":
        return f"-x -a '({fn}_langs)'"
    return "-x"


def fish_script(prog: str, commands: list[Command]) -> str:
    fn = _function_name(prog)
    names = " ".join(c.name for c in commands)
    lines = [
        f"# fish completion for {prog}, written by `{prog} completion fish` from its argument",
        f"# parser. Load it with:  {prog} completion fish | source",
        f"# or save it as ~/.config/fish/completions/{prog}.fish",
        "",
        "# Languages with a map page under <--out>/maps (out/ when no --out was given).",
        f"function {fn}_langs",
        "    set -l out out",
        "    set -l words (commandline -opc)",
        f"    set -l at (contains -i -- {OUT_OPTION} $words)",
        "    and test (count $words) -gt $at",
        "    and set out $words[(math $at + 1)]",
        "    for page in $out/maps/*.html",
        "        set -l lang (basename $page .html)",
        "        test $lang = index; or echo $lang",
        "    end",
        "end",
        "",
        f"complete -c {prog} -f",
        f"complete -c {prog} -n 'not __fish_seen_subcommand_from {names}' -s h -l help "
        "-d 'show the help and exit'",
    ]
    for command in commands:
        lines.append(
            f"complete -c {prog} -n 'not __fish_seen_subcommand_from {names}' "
            f"-a {command.name} -d {_fish_quote(command.help)}"
        )
    for command in commands:
        condition = f"-n '__fish_seen_subcommand_from {command.name}'"
        for option in command.options:
            flags = []
            for flag in option.flags:
                if flag.startswith("--"):
                    flags.append(f"-l {flag[2:]}")
                elif len(flag) == 2:
                    flags.append(f"-s {flag[1]}")
                else:
                    flags.append(f"-o {flag[1:]}")
            parts = [f"complete -c {prog}", condition, *flags]
            if option.takes_value:
                parts.append(_fish_value(option, fn))
            if option.help:
                parts.append(f"-d {_fish_quote(option.help)}")
            lines.append(" ".join(parts))
        for positional in command.positionals:
            if positional.kind in ("choices", "lang"):
                parts = [f"complete -c {prog}", condition, _fish_value(positional, fn)]
                if positional.help:
                    parts.append(f"-d {_fish_quote(positional.help)}")
                lines.append(" ".join(parts))
    return "\n".join(lines) + "\n"
