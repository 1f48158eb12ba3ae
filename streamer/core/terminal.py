"""Text from the stream, made safe to show on a terminal.

Hashtags, bios and screen names are written by strangers. Printed raw, an escape sequence in
one can retitle the terminal, clear it, or forge lines of output (a bio holding "\\nkmeans: 999");
a bidi override can make text read backwards. `printable` shows every such character as a
visible escape instead, so what a person sees is what the data holds.
"""

from __future__ import annotations

import re

__all__ = ["printable"]

# C0 controls (newline and tab included: a value must stay on its line), DEL, C1 controls, and
# the invisible direction marks, embeddings, overrides and isolates of the bidi algorithm.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(found: re.Match[str]) -> str:
    char = found.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: object) -> str:
    """`text` as a string with control characters and bidi controls shown as `\\x1b`, `\\u202e`.

    A backslash is left as it is: this is for eyes, not for parsing back (`--json` is for that).
    """
    value = text if isinstance(text, str) else str(text)
    return _UNSAFE.sub(_escape, value)
