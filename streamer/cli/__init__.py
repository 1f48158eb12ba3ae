"""The `tweetheat` command: argument parsing and subcommands, shell completion, the systemd unit."""

from streamer.cli.commands import main

__all__ = ["main"]
