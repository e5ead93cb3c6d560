"""Headless QGIS for the interoperability tests: Debian's python3-qgis (QGIS 3.22 on Debian 12), run in a
subprocess of Debian's own Python (``/usr/bin/python3``), since QGIS's bindings are not in our venv.

``scripts/test.sh`` installs python3-qgis and qgis-providers when missing; without them the QGIS tests skip.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

DEBIAN_PYTHON = "/usr/bin/python3"


def has_qgis() -> bool:
    """True when Debian's Python imports ``qgis.core``."""
    if not Path(DEBIAN_PYTHON).exists():
        return False
    probe = subprocess.run([DEBIAN_PYTHON, "-c", "import qgis.core"], capture_output=True, timeout=60)
    return probe.returncode == 0


#: Mark for a test module that drives QGIS.
needs_qgis = pytest.mark.skipif(not has_qgis(), reason="QGIS not installed (Debian python3-qgis: scripts/test.sh)")
