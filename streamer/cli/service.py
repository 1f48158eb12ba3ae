"""A systemd unit for `tweetheat run`, rendered from one template that ships in the package.

scripts/tweetheat.service holds the same text for readers and packagers, and a test keeps the
two byte-identical: edit UNIT_TEMPLATE, then regenerate the file with
`python -m streamer.cli.service > scripts/tweetheat.service`.

The command (`tweetheat install-service [--write F] [--user U] [--config F]`) is a thin layer:

    from streamer.cli.service import default_exec_path, install_service, unit_warnings

    for warning in unit_warnings(default_exec_path()):
        print(f"tweetheat: warning: {warning}", file=sys.stderr)
    text = install_service(args.write, user=args.user, config=args.config)
    if args.write is None:
        sys.stdout.write(text)
    else:
        print(f"wrote {args.write}; now: systemctl daemon-reload", file=sys.stderr)

Bad values raise ConfigError naming the option (--user, --config, --write), as settings do.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import sys
import tempfile
from pathlib import Path

from streamer.config import ConfigError

DEFAULT_USER = "tweetheat"
DEFAULT_CONFIG = "/etc/tweetheat/config.toml"
DEFAULT_UNIT_PATH = Path("/etc/systemd/system/tweetheat.service")

# Placeholders the installer fills in; nothing else in the template looks like @WORD@.
EXEC_TOKEN, USER_TOKEN, CONFIG_TOKEN = "@EXEC@", "@USER@", "@CONFIG@"
_TOKENS = re.compile(r"@(EXEC|USER|CONFIG)@")

UNIT_TEMPLATE = r"""# tweetheat: the ingest daemon (`tweetheat run`) as a systemd service.
#
# `tweetheat install-service --write /etc/systemd/system/tweetheat.service` fills in the
# command, the user and the config path. Then, as root:
#   useradd --system --user-group --home-dir /var/lib/tweetheat --shell /usr/sbin/nologin @USER@
#   install -d -m 0750 -g @USER@ /etc/tweetheat
#   test -e @CONFIG@ || install -m 0640 -g @USER@ /dev/null @CONFIG@   # empty: defaults
#   test -e /etc/tweetheat/env || install -m 0600 /dev/null /etc/tweetheat/env   # secrets
#   systemctl daemon-reload && systemctl enable --now tweetheat
# Local changes go in a drop-in (`systemctl edit tweetheat`): install-service overwrites this.

[Unit]
Description=tweetheat: posts sorted by language into Redis, drawn as live heatmaps
# The live sources need the network. With a Redis server on this host, add
# After=redis-server.service in a drop-in.
Wants=network-online.target
After=network-online.target

[Service]
# Started means READY=1 from the daemon: Redis answered and recovery is done. Only the main
# process may notify: pool workers and redis-server inherit NOTIFY_SOCKET and must not count.
Type=notify
NotifyAccess=main
# The directories are given here, not in the config: they must be the ones made writable
# below. JSON lines keep their fields apart in the journal.
ExecStart=@EXEC@ run --config @CONFIG@ --log-format json \
    --data-dir /var/lib/tweetheat --out /var/lib/tweetheat/out
SyslogIdentifier=tweetheat
Environment=PYTHONUNBUFFERED=1

# The daemon pings every WatchdogSec/2 while its event loop turns and its worker pool lives;
# after 60 s of silence systemd kills it (SIGABRT) and Restart= starts it again.
WatchdogSec=60
Restart=on-failure
RestartSec=5

# Stopping: SIGTERM to the main process only. It drains its queues, commits the last batches,
# then stops its own workers and embedded redis-server; the default KillMode=control-group
# would signal them all at once and take Redis away before the last commit. Whatever still
# runs after TimeoutStopSec gets SIGKILL.
KillMode=mixed
KillSignal=SIGTERM
TimeoutStopSec=60

# A static system user rather than DynamicUser=yes: operators run the read commands as it
# (`sudo -u @USER@ tweetheat status --config @CONFIG@ --data-dir /var/lib/tweetheat`; the
# embedded Redis socket is mode 0700), the data keeps one owner in /var/lib/tweetheat across
# restarts and reinstalls (DynamicUser= keeps it under /var/lib/private, closed to all but
# root), and config.toml can be readable by the service's group alone.
User=@USER@
Group=@USER@

# Created at start and owned by the user: the data directory (embedded Redis, journal,
# checkpoints, maps under out/) and /var/log/tweetheat for log files; the daemon itself logs
# to the journal. With /tmp and /dev/shm (the pools' semaphores), the only writable places.
StateDirectory=tweetheat
LogsDirectory=tweetheat
WorkingDirectory=/var/lib/tweetheat

# Secrets as environment variables, one NAME=value a line (TWITTER_BEARER_TOKEN=...,
# TWEETHEAT_REDIS_URL=...), in a root-owned file of mode 0600 that systemd reads before it
# drops to the user. "-": the file may be missing (the demo source needs no secret).
EnvironmentFile=-/etc/tweetheat/env

# Hardening: no privileges to gain or keep; a read-only system; no homes (so install tweetheat
# outside /home and /root, e.g. in /opt); private /tmp and /dev; hands off the kernel, the
# clock, the hostname and the cgroup tree.
NoNewPrivileges=yes
CapabilityBoundingSet=
AmbientCapabilities=
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
# Unix sockets (embedded Redis, pool workers, sd_notify) and TCP over IPv4 and IPv6.
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
# Nothing here writes machine code at run time (CPython 3.11, numpy, scikit-learn, hdbscan,
# redis-server): a demo run under the kernel's equivalent, PR_SET_MDWE, behaved as without.
# Remove this line if a JIT joins (numba, PyPy, `python -X perf`).
MemoryDenyWriteExecute=yes
# Native system calls from systemd's list for ordinary services (a demo run under strace used
# no other); anything else fails with EPERM rather than killing the daemon.
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallErrorNumber=EPERM
# Files it creates are private to the user. To serve out/ from a web server, set UMask=0027
# in a drop-in and add the server's user to the group.
UMask=0077

[Install]
WantedBy=multi-user.target
"""

# What systemd takes as a bare word; anything else is double-quoted.
_PLAIN_WORD = re.compile(r"[A-Za-z0-9_@+=:,./-]+")
# useradd's rule on Debian, and systemd's for User=: no dots, colons or leading digits.
_USER_NAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
# Paths that ProtectHome=yes hides from the service.
_HOMES = ("/home/", "/root/", "/run/user/")


def systemd_quote(word: str) -> str:
    """One command-line word as ExecStart= reads it: `%` and `$` are specifier and variable
    markers there, so they are doubled; spaces, quotes and backslashes need double quotes."""
    word = word.replace("%", "%%").replace("$", "$$")
    if _PLAIN_WORD.fullmatch(word):
        return word
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _command_words(exec_path: str) -> list[str]:
    if any(c in exec_path for c in "\r\n\0"):
        raise ConfigError("exec path: must be one line")
    try:
        words = shlex.split(exec_path)
    except ValueError as exc:
        raise ConfigError(f"exec path: {exc}: {exec_path!r}") from None
    if not words or not os.path.isabs(words[0]):
        raise ConfigError(f"exec path: must start with an absolute path, got {exec_path!r}")
    return words


def render_unit(
    exec_path: str,
    user: str = DEFAULT_USER,
    config: str = DEFAULT_CONFIG,
    template: str | None = None,
) -> str:
    """The unit text with its placeholders filled in.

    exec_path: the command that starts tweetheat, as a shell reads it (quote a path with
    spaces), e.g. "/opt/tweetheat/bin/tweetheat" or "/usr/bin/python3 -m streamer.cli";
    `default_exec_path()` gives the one for this installation.
    user: the account (and group) it runs as. config: the settings file, an absolute path.

    >>> unit = render_unit("/opt/tweetheat/bin/tweetheat", user="heat")
    >>> "ExecStart=/opt/tweetheat/bin/tweetheat run --config /etc/tweetheat/config.toml" in unit
    True
    >>> "User=heat" in unit.splitlines()
    True
    """
    command = " ".join(systemd_quote(word) for word in _command_words(exec_path))
    if not _USER_NAME.fullmatch(user):
        raise ConfigError(f"--user: not a system user name: {user!r}")
    if any(c in config for c in "\r\n\0") or not os.path.isabs(config):
        raise ConfigError(f"--config: must be an absolute path, got {config!r}")
    values = {"EXEC": command, "USER": user, "CONFIG": systemd_quote(config)}
    text = UNIT_TEMPLATE if template is None else template
    # One pass: a value that happens to contain "@USER@" is not replaced again.
    return _TOKENS.sub(lambda match: values[match.group(1)], text)


def default_exec_path() -> str:
    """The `tweetheat` script beside this Python, or `<python> -m streamer.cli` without one.

    The path is made absolute but symlinks are kept: a virtualenv's python is a link to the
    base interpreter, and following it would start Python without the venv's packages.
    """
    python = os.path.abspath(sys.executable)
    script = os.path.join(os.path.dirname(python), "tweetheat")
    if os.path.isfile(script) and os.access(script, os.X_OK):
        return shlex.quote(script)
    return shlex.join([python, "-m", "streamer.cli"])


def _interpreter(path: str) -> str | None:
    """The program named on a script's `#!` line, if `path` is such a script."""
    try:
        with open(path, "rb") as handle:
            first = handle.readline(512)
    except OSError:
        return None
    words = first[2:].split() if first.startswith(b"#!") else []
    return os.fsdecode(words[0]) if words else None


def unit_warnings(exec_path: str) -> list[str]:
    """Why the unit would fail to start this command, as far as can be seen from here.

    ProtectHome=yes hides /home, /root and /run/user from the service, and the kernel
    follows a script's `#!` line and every symlink: a virtualenv in /opt whose python
    links to ~/.pyenv fails too.
    """
    executable = _command_words(exec_path)[0]
    if not (os.path.isfile(executable) and os.access(executable, os.X_OK)):
        return [f"{executable} is not an executable file"]
    needed = [executable]
    interpreter = _interpreter(executable)
    if interpreter is not None:
        needed.append(interpreter)
    hidden = sorted(
        {
            real
            for path in needed
            for real in (os.path.abspath(path), os.path.realpath(path))
            if real.startswith(_HOMES)
        }
    )
    return [
        f"{path} is under a home directory, which ProtectHome=yes hides from the service: "
        "install tweetheat elsewhere (e.g. /opt/tweetheat) or relax ProtectHome= in a drop-in"
        for path in hidden
    ]


def write_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    """Replace `path` in one step: systemd (or a reader) sees the old file or the new one."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fchmod(handle.fileno(), mode)  # mkstemp makes 0600; the umask must not decide
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    # The rename itself reaches the disk with the directory.
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def install_service(
    path: Path | str | None = None,
    exec_path: str | None = None,
    user: str = DEFAULT_USER,
    config: str = DEFAULT_CONFIG,
) -> str:
    """Render the unit; write it to `path` (mode 0644, atomically) when one is given.

    Returns the unit text either way, so a caller without `path` prints it. `exec_path`
    defaults to `default_exec_path()`. Raises ConfigError for bad values, OSError when the
    file cannot be written (PermissionError without root).

    >>> text = install_service(None, "/opt/tweetheat/bin/tweetheat")
    >>> "Type=notify" in text and "User=tweetheat" in text
    True
    """
    text = render_unit(exec_path or default_exec_path(), user=user, config=config)
    if path is not None:
        path = Path(path)
        if path.is_dir():
            example = path / DEFAULT_UNIT_PATH.name
            raise ConfigError(f"--write: {path} is a directory; name the file, e.g. {example}")
        write_atomic(path, text)
    return text


if __name__ == "__main__":  # regenerates scripts/tweetheat.service (see the top of this file)
    sys.stdout.write(UNIT_TEMPLATE)
