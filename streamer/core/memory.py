"""Give freed memory back to the system: the daemon's processes are sized by their RSS.

glibc's malloc raises its mmap threshold each time a large block is freed (up to 32 MB), so the
next large blocks (numpy arrays of a refit, buffers of a batch) come from the heap instead, and
when they are freed the heap keeps their pages: RSS stays at the high-water mark of the last
big job and adds to the next. A fixed threshold keeps large blocks in pages of their own,
returned when freed; `trim()` returns free pages inside the heap after a big job. Elsewhere
than glibc both do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import lru_cache
from typing import Any

M_MMAP_THRESHOLD = -3  # mallopt parameter (malloc.h)
MMAP_THRESHOLD = 128 * 1024  # glibc's default start, kept fixed


@lru_cache(maxsize=1)
def _glibc() -> Any | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        libc.gnu_get_libc_version  # noqa: B018 - only glibc has it (and mallopt, malloc_trim)
    except (OSError, AttributeError, TypeError):
        return None
    return libc


def fix_mmap_threshold(threshold: int = MMAP_THRESHOLD) -> bool:
    """Blocks of `threshold` bytes or more get pages of their own, for the life of this process
    and of processes forked from it. False where that is not glibc's malloc."""
    libc = _glibc()
    return libc is not None and bool(libc.mallopt(M_MMAP_THRESHOLD, threshold))


def trim() -> bool:
    """Return the heap's free pages to the system (malloc_trim); True if any were."""
    libc = _glibc()
    return libc is not None and bool(libc.malloc_trim(0))
