"""wordfreq's word lists, found and read without importing the wordfreq package.

The word model needs only the lists' files. Importing wordfreq also loads what its tokenizers
and language-tag matching use (langcodes' tables, ftfy, wcwidth): some 4 MB in every worker
process, never used there. The files are wordfreq's documented "cBpack" format: gzipped
msgpack holding a header {"format": "cB", "version": 1}, then one list of words per
centibel of frequency (index i: the words of frequency 10 ** (-i / 100)).
"""

from __future__ import annotations

import gzip
import importlib.util
from collections.abc import Mapping
from functools import cache
from pathlib import Path

import msgpack


def data_dir() -> Path:
    """The installed wordfreq package's data folder (the package is found, not imported)."""
    spec = importlib.util.find_spec("wordfreq")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("wordfreq is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


@cache
def available(wordlist: str) -> Mapping[str, Path]:
    """Language code -> file of the lists named `wordlist` ("small", "large")."""
    found: dict[str, Path] = {}
    for path in sorted(data_dir().glob(f"{wordlist}_*.msgpack.gz")):
        found[path.name.split(".")[0].split("_", 1)[1]] = path
    return found


def read(path: Path) -> list[list[str]]:
    """A cBpack file's lists of words, by frequency in centibels (ValueError if the file is
    not one)."""
    with gzip.open(path, "rb") as packed:
        data = msgpack.load(packed, raw=False)
    header = data[0] if isinstance(data, list) and data else None
    if not isinstance(header, dict) or header.get("format") != "cB" or header.get("version") != 1:
        raise ValueError(f"{path}: not a cBpack word list (header {header!r})")
    return data[1:]
