"""Headless QGIS 3.22 (Debian ``python3-qgis``) reads the OGC service with an API token — HTTP Basic, user
name and the token as password, as docs/operations.md tells QGIS users — and gets no layer without one.

Debian's ``/usr/bin/python3`` runs :data:`QGIS_CLIENT` with ``QT_QPA_PLATFORM=offscreen`` in a child process
(the pattern of ``tests/test_qgis.py``); skipped when QGIS is not installed.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator

import pytest

from gisapp.accounts.accountsdb import AccountsDB
from gisapp.web import create_app
from tests.helpers import live_server_for
from tests.qgisrun import DEBIAN_PYTHON, needs_qgis

pytestmark = needs_qgis

QGIS_CLIENT = r"""
import json, os, sys
from qgis.core import QgsApplication, QgsVectorLayer

app = QgsApplication([], False)
app.initQgis()
out = {}
for name, uri in json.load(open(sys.argv[1])).items():
    layer = QgsVectorLayer(uri, name, "OAPIF")
    out[name] = {"valid": layer.isValid(), "count": len(list(layer.getFeatures())) if layer.isValid() else None}
    del layer
json.dump(out, open(sys.argv[2], "w"))
sys.stdout.flush()
os._exit(0)  # QGIS 3.22's exitQgis() can crash a script at teardown
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[str, str]]:
    path = tmp_path_factory.mktemp("acc") / "acc.sqlite"
    db = AccountsDB(f"sqlite:///{path}")
    db.add_user("qgis", "qgis-password", "浏览")
    token = db.create_token("qgis", "qgis")
    app = create_app({"TESTING": True, "GISAPP_ACCOUNTS_DB": str(path)})
    with live_server_for(app) as url:
        yield url, token


def test_qgis_reads_with_a_token_and_not_without(served, tmp_path):
    url, token = served
    base = f"url='{url}/ogc' typename='zs-towns'"
    jobs = {  # without a token first: QGIS's network cache would otherwise answer from the authorised responses
        "none": base,
        "wrong": f"{base} username='qgis' password='gis_wrong'",
        "token": f"{base} username='qgis' password='{token}'",
    }
    (tmp_path / "jobs.json").write_text(json.dumps(jobs), "utf-8")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(tmp_path), "HOME": str(tmp_path)}
    env.pop("PYTHONPATH", None)
    args = [DEBIAN_PYTHON, "-c", QGIS_CLIENT, str(tmp_path / "jobs.json"), str(tmp_path / "out.json")]
    run = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    out = json.loads((tmp_path / "out.json").read_text("utf-8"))
    assert out["token"] == {"valid": True, "count": 23}
    assert out["none"] == {"valid": False, "count": None}
    assert out["wrong"] == {"valid": False, "count": None}
