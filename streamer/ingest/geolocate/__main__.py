"""Build the gazetteer cache ahead of time: python -m streamer.ingest.geolocate [CACHE_DIR]."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from streamer.ingest.geolocate import cache_file, default_cache_dir, load_gazetteer


def main() -> None:
    cache_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else default_cache_dir()
    started = time.perf_counter()
    gazetteer = load_gazetteer(cache_dir)
    print(
        f"{cache_file(cache_dir)}: {len(gazetteer.label):,} cities, {len(gazetteer.names):,}"
        f" names ({time.perf_counter() - started:.1f} s)"
    )


if __name__ == "__main__":
    main()
