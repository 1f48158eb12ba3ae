"""`python -m streamer.cli`: the same as the `tweetheat` command."""

import sys

from streamer.cli.commands import main

sys.exit(main())
