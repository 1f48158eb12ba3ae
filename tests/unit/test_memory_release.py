"""A fixed mmap threshold gives freed large blocks back: after a big job's buffers are freed
the process's RSS drops, where glibc's default (a threshold that rises) keeps them."""

from __future__ import annotations

import subprocess
import sys

# Free one 8 MB block (glibc then raises its threshold past 1 MB), make 100 blocks of 1 MB,
# keep only the last one made, and print how much RSS grew.
JOB = """
import sys
from streamer.core import memory
if sys.argv[1] == "fixed":
    assert memory.fix_mmap_threshold()
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
before = rss()
big = bytearray(8 << 20); del big
blocks = [bytearray(1 << 20) for _ in range(100)]
last = blocks[-1]; del blocks
print(rss() - before)
"""


def grown_mib(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", JOB, mode], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return int(out.stdout)


def test_freed_blocks_leave_the_rss_with_a_fixed_threshold() -> None:
    assert grown_mib("default") >= 90  # the heap kept the 99 freed blocks
    assert grown_mib("fixed") <= 10
