"""Small pieces every generated page needs: self-refresh, safe inline JSON, atomic writes."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import orjson

# Inside <script>, "</script" or "<!--" in a string would end or derail the script element, and
# U+2028/U+2029 end a line in JavaScript before ES2019 (an unterminated string literal if the
# JSON is ever used as code). JSON may spell any character as \uXXXX, so these become harmless
# without changing the data.
_SCRIPT_UNSAFE = {
    b"<": rb"\u003c",
    b">": rb"\u003e",
    b"&": rb"\u0026",
    "\u2028".encode(): rb"\u2028",
    "\u2029".encode(): rb"\u2029",
}


def meta_refresh(seconds: int) -> str:
    return f'<meta http-equiv="refresh" content="{int(seconds)}">'


def json_for_script(value: Any) -> str:
    """`value` as JSON that can sit inside a <script> element whatever its strings hold."""
    text = orjson.dumps(value)
    for unsafe, escaped in _SCRIPT_UNSAFE.items():
        text = text.replace(unsafe, escaped)
    return text.decode("utf-8")


def write_atomically(path: Path, text: str | bytes) -> Path:
    """Write to a temp file next to `path`, then rename over it: readers see old or new, whole."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            # mkstemp makes the file 0600; the pages are meant to be served, so make them readable.
            os.fchmod(f.fileno(), 0o644)
            f.write(data)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path
