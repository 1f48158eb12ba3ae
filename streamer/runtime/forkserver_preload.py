"""Imported only by the multiprocessing fork server, before it forks any pool worker.

`timeout`, Ctrl-C and systemd's control-group kill signal every process of the daemon. Pool
workers are children of the fork server and report their exit through it, so if the server
died on SIGTERM every pool would look broken in the middle of the drain. It ignores the stop
signals instead and exits by itself when the daemon closes its end of the alive pipe.

Every process forked from here inherits a fixed mmap threshold (streamer.core.memory): a
worker that builds its detector, or an analysis process that refits, gives the pages of what
it freed back instead of keeping them in its RSS (some 17 MB per worker).
"""

import signal

from streamer.core.memory import fix_mmap_threshold

signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
fix_mmap_threshold()
