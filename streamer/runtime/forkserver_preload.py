"""Imported only by the multiprocessing fork server, before it forks any pool worker.

`timeout`, Ctrl-C and systemd's control-group kill signal every process of the daemon. Pool
workers are children of the fork server and report their exit through it, so if the server
died on SIGTERM every pool would look broken in the middle of the drain. It ignores the stop
signals instead and exits by itself when the daemon closes its end of the alive pipe.
"""

import signal

signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
