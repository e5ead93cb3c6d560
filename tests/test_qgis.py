"""Headless QGIS (Debian 12's QGIS 3.22, ``python3-qgis``) as a real client of the OGC service and of every export.

One QGIS process does everything (start-up takes seconds): Debian's ``/usr/bin/python3`` runs
:data:`QGIS_CLIENT` with ``QT_QPA_PLATFORM=offscreen``; it loads every OGC collection with QGIS's OAPIF
provider from a live server on 127.0.0.1, and every export file with the OGR provider, and reports for
each: valid, feature count, how many features QGIS can draw (geometry of the layer's type), invalid
geometries (GEOS), and the CRS. ``scripts/test.sh`` installs python3-qgis when it is missing.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import zipfile
from pathlib import Path

from gisapp.io import formats
from tests.helpers import BUNDLED
from tests.qgisrun import DEBIAN_PYTHON, needs_qgis

pytestmark = needs_qgis

QGIS_CLIENT = r"""
import json, os, sys
from qgis.core import QgsApplication, QgsVectorLayer, QgsWkbTypes

jobs = json.load(open(sys.argv[1]))
app = QgsApplication([], False)
app.initQgis()
out = {}
for job in jobs:
    layer = QgsVectorLayer(job["uri"], job["name"], job["provider"])
    row = {"valid": layer.isValid()}
    if layer.isValid():
        kind = QgsWkbTypes.geometryType(layer.wkbType())
        feats = list(layer.getFeatures())
        row.update(
            count=len(feats),
            drawn=sum(1 for f in feats if f.hasGeometry() and f.geometry().type() == kind),
            invalid=sum(1 for f in feats if f.hasGeometry() and not f.geometry().isGeosValid()),
            crs=layer.crs().authid(),
            names=sorted({str(f[job["name_field"]]) for f in feats}) if job.get("name_field") else [],
        )
    out[job["name"]] = row
    del layer
    with open(sys.argv[2], "w") as fh:  # after each layer: a crash names the layer it happened on
        json.dump(out, fh, ensure_ascii=False)
sys.stdout.flush()
os._exit(0)  # QGIS 3.22's exitQgis() can crash a script at teardown; nothing is left to do
"""


def run_qgis(jobs: list[dict], tmp_path: Path) -> dict[str, dict]:
    """Run :data:`QGIS_CLIENT` on ``jobs`` (``name``, ``uri``, ``provider``, ``name_field``) in one QGIS process."""
    (tmp_path / "jobs.json").write_text(json.dumps(jobs), "utf-8")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(tmp_path), "HOME": str(tmp_path)}
    env.pop("PYTHONPATH", None)  # Debian's python, not the venv's packages
    args = [DEBIAN_PYTHON, "-c", QGIS_CLIENT, str(tmp_path / "jobs.json"), str(tmp_path / "out.json")]
    run = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    done = json.loads((tmp_path / "out.json").read_text("utf-8")) if (tmp_path / "out.json").exists() else {}
    assert run.returncode == 0, (run.returncode, list(done)[-1:], run.stderr[-2000:])
    result: dict[str, dict] = done
    return result


def _export_jobs(tmp_path: Path) -> tuple[list[dict], dict[str, int]]:
    """Write zs-towns in every format (EPSG:4547; KML in BD-09 lon/lat) and the QGIS jobs that open them."""
    src, meta = BUNDLED.frame("zs-towns"), BUNDLED.meta("zs-towns")
    files = tmp_path / "files"
    files.mkdir()
    jobs, expected = [], {}
    for fmt, crs, encoding in (
        ("geojson", "EPSG:4547", "utf-8"),
        ("gpkg", "EPSG:4547", "utf-8"),
        ("shp", "EPSG:4547", "utf-8"),
        ("shp", "EPSG:4526", "gbk"),
        ("kml", "bd09", "utf-8"),
        ("csv", "EPSG:4547", "utf-8"),
        ("fgb", "EPSG:4547", "utf-8"),
        ("parquet", "EPSG:4547", "utf-8"),
        ("gdb", "EPSG:4547", "utf-8"),
    ):
        result = formats.export_frame(src, meta, fmt, crs, encoding=encoding)
        path = files / result.filename
        path.write_bytes(result.data)
        for name, suffix in result.sidecar_names().items():  # the CSV's .csvt and .prj
            (files / name).write_bytes(result.sidecars[suffix])
        uri = str(path)
        if fmt == "shp":
            uri = f"/vsizip/{path}"
        elif fmt == "gdb":
            with zipfile.ZipFile(path) as zf:
                zf.extractall(files)
            uri = str(files / path.name.removesuffix(".zip"))
        field = "Name" if fmt == "kml" else "name"
        jobs.append({"name": result.filename, "uri": uri, "provider": "ogr", "name_field": field})
        expected[result.filename] = 4326 if fmt == "kml" else int(crs.split(":")[1])
    return jobs, expected


def test_qgis_loads_the_ogc_service_and_every_export(live_server: str, client, tmp_path: Path) -> None:
    collections = client.get("/ogc/collections?f=json").json["collections"]
    counts = {
        c["id"]: client.get(f"/ogc/collections/{c['id']}/items?limit=1").json["numberMatched"] for c in collections
    }
    jobs = [
        {
            "name": f"ogc:{cid}",
            "uri": f"url='{live_server}/ogc' typename='{cid}' pagingEnabled='true' restrictToRequestBBOX='0'",
            "provider": "OAPIF",
        }
        for cid in counts
    ]
    file_jobs, file_crs = _export_jobs(tmp_path)
    got = run_qgis(jobs + file_jobs, tmp_path)

    served = {}
    for cid, count in counts.items():
        row = got[f"ogc:{cid}"]
        assert row["valid"] and row["count"] == count and row["drawn"] == count, (cid, row)  # every feature drawn
        assert row["invalid"] == 0 and row["crs"] in ("OGC:CRS84", "EPSG:4326"), (cid, row)  # 3.22 says 4326
        layer = re.sub(r"-(polygons|lines|points)$", "", cid)
        served[layer] = served.get(layer, 0) + count
    assert served == {m.id: len(BUNDLED.frame(m.id)) for m in BUNDLED.list()}  # mixed layers complete

    for name, epsg in file_crs.items():
        row = got[name]
        if name.endswith(".parquet"):
            # Debian 12's GDAL 3.6 (under QGIS 3.22) has no Parquet driver: QGIS cannot open GeoParquet there
            assert not row["valid"] or row["count"] == 23, row
            continue
        assert row["valid"] and row["count"] == 23 and row["drawn"] == 23, (name, row)
        assert row["invalid"] == 0, (name, row)
        assert row["crs"] == f"EPSG:{epsg}", (name, row)
        assert "石岐街道" in row["names"] and "南头镇" in row["names"], name  # GBK and UTF-8 decoded
