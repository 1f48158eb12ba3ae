"""A profile bio's own language, for the bio clustering: the post detector's label of the bio,
or the language of the user's post where the bio has none it can tell.

One function for both places that label bios: the ingest workers (whose detector is built
already, so the clustering process needs none; streamer.ingest.worker.label_bios) and the
clustering process itself when no worker can be asked (analysis.bios.bio_languages).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from streamer.core.records import UNDETERMINED


def label_bios(
    detect: Callable[[str], str], bios: Sequence[str], fallback: Sequence[str | None]
) -> list[str | None]:
    """Each bio's language by `detect`, or `fallback` (the language of the user's post) where
    the bio has none the detector can tell (empty, a handle, emoji). A user given no language
    (None) keeps none: the caller asked for no language routing."""
    out: list[str | None] = []
    for bio, given in zip(bios, fallback, strict=True):
        lang = detect(bio) if given is not None and bio.strip() else UNDETERMINED
        out.append(given if lang == UNDETERMINED else lang)
    return out
