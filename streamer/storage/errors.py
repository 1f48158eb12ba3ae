"""Which Redis errors a retry can fix, and which it cannot.

The committers retry while Redis is away or busy: batches wait in the journal and nothing is
lost. But an error about the command itself (a script error, WRONGTYPE on a key someone else
wrote, a value "not an integer or out of range") comes back the same on every retry: retrying
it would look like an outage that never ends, so it must stop the daemon instead.
"""

from __future__ import annotations

from redis.exceptions import (
    AskError,
    ClusterDownError,
    NoScriptError,
    OutOfMemoryError,
    ReadOnlyError,
    RedisError,
    ResponseError,
    TryAgainError,
)

__all__ = ["retry_can_fix"]

# Error codes (the first word of Redis's answer) that describe Redis's state, not the command:
# loading or busy, a cluster moving slots or failing over, a replica that cannot take writes
# yet, a full memory or a failing disk (an operator can fix these while batches wait), and a
# script cache emptied by a restart.
TRANSIENT_CODES = frozenset(
    {
        "BUSY",
        "LOADING",
        "TRYAGAIN",
        "CLUSTERDOWN",
        "MOVED",
        "ASK",
        "MASTERDOWN",
        "READONLY",
        "NOREPLICAS",
        "MISCONF",
        "OOM",
        "NOSCRIPT",
    }
)
# redis-py turns some of those codes into classes and strips the code from the message
# (MovedError is an AskError).
_TRANSIENT_CLASSES = (
    AskError,
    ClusterDownError,
    NoScriptError,
    OutOfMemoryError,
    ReadOnlyError,
    TryAgainError,
)


def retry_can_fix(exc: BaseException) -> bool:
    """True for connection trouble and Redis-state errors; False for a refused command."""
    if isinstance(exc, ResponseError):
        if isinstance(exc, _TRANSIENT_CLASSES):
            return True
        words = str(exc).split(maxsplit=1)
        return bool(words) and words[0] in TRANSIENT_CODES
    return isinstance(exc, RedisError | OSError)
