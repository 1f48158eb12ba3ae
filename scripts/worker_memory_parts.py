"""What each part of an ingest worker costs in RSS, built in turn in one fresh process.

A worker's memory is counted by RSS (every page it touches, shared or not), so this builds
what `streamer.ingest.worker.init_worker` builds, one part at a time, and prints the RSS
(VmRSS of /proc/self/status) after each, with the change: the imports, the word model, the
character model, the detector around them, the gazetteer with its resolver, then the memories
that fill while posts go by (the input's lines through `process_parts`, in batches of
`--batch`). The last column is the peak so far (VmHWM): a part that builds with a big
temporary shows it there.

    .venv/bin/python scripts/realistic_stream.py --count 60000 --out real.ndjson
    .venv/bin/python scripts/worker_memory_parts.py real.ndjson [--batch 500]
"""

from __future__ import annotations

import argparse
import gc
import sys
from itertools import islice
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

MIB = 1024 * 1024


def status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


class Meter:
    def __init__(self) -> None:
        self.last = status_kib("VmRSS")
        print(f"{'step':<44}{'RSS MiB':>9}{'delta':>9}{'peak':>9}")
        self.row("fresh interpreter")

    def row(self, step: str) -> None:
        gc.collect()
        rss = status_kib("VmRSS")
        delta = (rss - self.last) / 1024
        print(f"{step:<44}{rss / 1024:>9.1f}{delta:>+9.1f}{status_kib('VmHWM') / 1024:>9.1f}")
        self.last = rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input", help="NDJSON lines, e.g. scripts/realistic_stream.py --out")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--trim", action="store_true", help="malloc_trim after building")
    parser.add_argument("--geo-cache-dir", default=str(REPO / "data" / "geo"))
    args = parser.parse_args()

    from streamer.core.memory import trim

    meter = Meter()
    from streamer.config import GeoSettings
    from streamer.ingest import worker

    meter.row("import streamer.ingest.worker")
    from streamer.ingest.langid import default as default_module

    meter.row("import the default detector's modules")
    from streamer.ingest.langid.char_model import CharModel
    from streamer.ingest.langid.chooser import LanguageChooser
    from streamer.ingest.langid.stopwords import DEFAULT_LANGUAGES
    from streamer.ingest.langid.word_model import WordModel

    modelled = [c for c in DEFAULT_LANGUAGES if c not in default_module.SCRIPT_DECIDED]
    words = WordModel(modelled)
    meter.row(f"WordModel ({len(modelled)} languages)")
    chars = CharModel(modelled)
    meter.row("CharModel")
    detector = default_module.DefaultDetector(
        list(DEFAULT_LANGUAGES), default_module.Models(words, chars)
    )
    # The chooser init_worker builds, around these models rather than new ones.
    chooser = LanguageChooser.__new__(LanguageChooser)
    chooser.detect = detector.detect
    chooser._languages = frozenset(DEFAULT_LANGUAGES)
    chooser._trust_platform = False
    meter.row("DefaultDetector and chooser")
    worker._chooser = chooser
    worker._default_detector = True
    worker.init_geolocation(GeoSettings(), args.geo_cache_dir)
    meter.row("geolocator (gazetteer and resolver)")
    if args.trim:
        trim()
        meter.row("malloc_trim")
    # Read batch by batch, so that the input itself takes no memory to speak of.
    done = 0
    with open(args.input, "rb") as stream:
        while batch := list(islice(stream, args.batch)):
            worker.process_parts([b"".join(batch)])
            done += len(batch)
            if done in (args.batch, 10 * args.batch) or done % 20_000 < args.batch:
                meter.row(f"after {done} lines")
    print_memories(detector, worker)


def print_memories(detector: Any, worker: Any) -> None:
    """How full the memories that grow with the stream are, against their caps."""
    from streamer.ingest.langid import tweet_text, word_model

    words = detector._models.words
    print("\nmemories (entries / cap):")
    for (candidates, abjad), memory in words._token_costs.items():
        name = f"{'+'.join(candidates[:3])}{'...' if len(candidates) > 3 else ''}"
        print(
            f"  tokens {name}{' abjad' if abjad else ''}: {len(memory):,} / "
            f"{word_model.TOKEN_CACHE_SIZE:,}"
        )
    print(f"  kept forms: {len(tweet_text._kept_forms):,} / {tweet_text.KEPT_FORMS_SIZE:,}")
    print(f"  combined answers: {len(detector._combined_answers):,}")
    print(f"  profile answers (worker): {len(worker._by_profile):,} / {worker._by_profile_max:,}")
    geo = worker._geolocator
    for name in ("locate_profile", "_cached_bio", "_common"):
        info = getattr(geo, name).cache_info()
        print(f"  geolocator {name}: {info.currsize:,} / {info.maxsize:,}")


if __name__ == "__main__":
    main()
