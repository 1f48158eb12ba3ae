"""The event loop's process names the map job without loading what only the analysis process
needs."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

from analysis import heatmaps, map_jobs


def test_the_daemons_jobs_do_not_import_folium() -> None:
    code = (
        "import sys\n"
        "from streamer.runtime.daemon import _preload_maps, analysis_jobs\n"
        "jobs = analysis_jobs(); _preload_maps()\n"
        "import pickle; pickle.dumps(jobs.write_maps)\n"
        "heavy = ('folium', 'jinja2', 'requests', 'sklearn')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_map_job_writes_what_heatmaps_writes(tmp_path: Path) -> None:
    job = pickle.loads(pickle.dumps(map_jobs.write_maps))
    through_job = job(tmp_path / "a", [], refresh_seconds=5)
    direct = heatmaps.write_maps(tmp_path / "b", [], refresh_seconds=5)
    assert through_job and [p.relative_to(tmp_path / "a") for p in through_job] == [
        p.relative_to(tmp_path / "b") for p in direct
    ]
