"""The README's GDAL commands, run as written against a live server with Debian's GDAL 3.6 (``gdal-bin``).

The README said ``ogr2ogr … -oo CRS=EPSG:4547``, which GDAL 3.6 ignores (with a warning): every command of its
tested block must now run without a warning and give what its comment says.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pyogrio
import pytest
from pyproj import CRS

from gisapp.core import paths

MARKER = "<!-- commands: tests/test_interop_commands.py"
README_URL = "http://127.0.0.1:5000"

pytestmark = pytest.mark.skipif(
    shutil.which("ogr2ogr") is None or shutil.which("curl") is None,
    reason="ogr2ogr/curl not installed (Debian packages gdal-bin, curl: scripts/test.sh installs them)",
)


def readme_commands() -> list[str]:
    """The command lines of the README block after :data:`MARKER` (comments dropped)."""
    text = (paths.REPO_ROOT / "README.md").read_text("utf-8")
    block = text[text.index(MARKER) :].split("```bash\n", 1)[1].split("```", 1)[0]
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def test_the_readme_gdal_commands_work_on_debian_gdal(live_server: str, tmp_path: Path) -> None:
    commands = readme_commands()
    assert len(commands) == 10 and not any("-oo CRS" in c for c in commands)
    outputs = []
    for command in commands:
        argv = shlex.split(command.replace(README_URL, live_server))
        run = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0 and "Warning" not in run.stderr and "ERROR" not in run.stderr, (command, run.stderr)
        outputs.append(run.stdout)
    listing, summary = outputs[0], outputs[1]
    assert "zs-towns" in listing and "gz-services-structure-points" in listing
    assert "Feature Count: 23" in summary
    for name, count, epsg in (
        ("towns_4547.gpkg", 23, 4547),
        ("box_4547.gpkg", 6, 4547),
        ("points.gpkg", 93, 4326),
        ("zs-towns_epsg4547.gpkg", 23, 4547),
    ):
        info = pyogrio.read_info(tmp_path / name)
        assert info["features"] == count and CRS(info["crs"]).to_epsg() == epsg, name
    assert "Feature Count: 23" in outputs[7] and re.search(r'ID\["EPSG",4526\]\]\s*$', outputs[7], re.M)
    assert "Feature Count: 23" in outputs[9] and 'ID["EPSG",4547]]' in outputs[9]
    assert "official_area_km2: Real" in outputs[9]  # the .csvt's types, not String
