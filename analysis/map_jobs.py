"""The map export as the daemon names it: a module light enough for the event loop's process.

The daemon passes `write_maps` to its analysis process by reference (module and name). Naming
`analysis.heatmaps.write_maps` would import folium, jinja2 and requests into the event loop's
process (some 25 MB it never uses); this wrapper imports them only where it runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_maps(*args: Any, **kwargs: Any) -> list[Path]:
    """analysis.heatmaps.write_maps, imported in the process that calls it."""
    from analysis.heatmaps import write_maps as write

    return write(*args, **kwargs)
