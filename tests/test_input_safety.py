"""Issue 11, input side: no file read or network access through GDAL, bounded work, 4xx not 5xx.

Every case of ``tests/badinput/cases_inputs.py`` is sent through the Flask test client (HTTP
cases) or ``gisapp.cli.main`` (CLI cases) while a TCP listener on 127.0.0.1 waits for any
connection the payloads try to make, and a canary file's content must appear nowhere.
"""

from __future__ import annotations

import io
import json
import re
import socket
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from gisapp.cli import main
from gisapp.core.errors import InputError
from gisapp.core.limits import Limits
from tests.badinput import CliCase, HttpCase
from tests.badinput.cases_inputs import RING, _gpkg, _kml, _rings_text, _shapefile, _zip, build_cases
from tests.helpers import BUNDLED

CANARY_TEXT = "gisapp-canary-7f3a9c"
_INTERNAL = re.compile(r"Traceback|/tmp/|gisapp-(ogr|shp)-|site-packages|\.venv")


class Listener:
    """A TCP listener on 127.0.0.1 that records every connection attempt."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.hits: list[bytes] = []
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            conn.settimeout(0.5)
            try:
                self.hits.append(conn.recv(4096) or b"<connected>")
            except OSError:
                self.hits.append(b"<connected>")
            conn.close()

    def close(self) -> None:
        self.stop = True
        self.thread.join(2)
        self.sock.close()


@pytest.fixture(scope="module")
def listener():  # type: ignore[no-untyped-def]
    lis = Listener()
    yield lis
    lis.close()


@pytest.fixture(scope="module")
def canary(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("canary") / "canary.csv"
    path.write_text(f"secret\n{CANARY_TEXT}\n")
    return path


@pytest.fixture(scope="module")
def cases(listener, canary):  # type: ignore[no-untyped-def]
    return build_cases(listener.port, str(canary))


def _leak(text: str, canary: Path | None = None) -> str | None:
    """What the answer leaks (canary content, /etc/passwd lines, internal paths), or None.

    The canary's own path may be echoed (it is in the payload); its content may not.
    """
    if CANARY_TEXT in text or "root:x:0:0" in text:
        return "file content leaked"
    if canary is not None:
        text = text.replace(str(canary), "CANARY")[: 10**6]
        text = re.sub(r"/tmp/pytest-of-[^\s\"'<]*", "CANARY", text)
    hit = _INTERNAL.search(text)
    return f"internal detail {hit.group(0)!r}" if hit else None


def test_corpus_size_and_items():
    cases = build_cases()
    assert len(cases) >= 80
    assert len({c.name for c in cases}) == len(cases)
    assert {c.item for c in cases} >= {"1", "2", "5", "6", "own"}


def test_every_http_case_is_4xx_json_and_touches_nothing(client, cases, listener, canary):  # type: ignore[no-untyped-def]
    failures = []
    slow = []
    for case in cases:
        if not isinstance(case, HttpCase):
            continue
        t0 = time.monotonic()
        if case.files is not None:
            data = {k: (io.BytesIO(v), n) for k, (n, v) in case.files.items()}
            data.update(case.form)
            resp = client.post(case.path, data=data, content_type="multipart/form-data")
        else:
            resp = client.open(case.path, method=case.method, data=case.body, headers=case.headers)
        took = time.monotonic() - t0
        text = resp.get_data(as_text=True)
        try:
            body = json.loads(text)
            ok = resp.status_code in case.statuses and {"error", "message"} <= set(body)
        except ValueError:
            ok = False
        if not ok:
            failures.append(f"{case.name}: {resp.status_code} {text[:300]}")
            continue
        leak = _leak(text, canary)
        if leak or len(body["message"]) > 1000:
            failures.append(f"{case.name}: {leak or 'message too long'}: {text[:300]}")
        if took > 10:
            slow.append(f"{case.name}: {took:.1f} s")
    assert not failures, "\n".join(failures)
    assert not slow, slow
    assert listener.hits == [], listener.hits


def test_every_cli_case_exits_2_with_one_line(cases, listener, canary, tmp_path, capsys):  # type: ignore[no-untyped-def]
    failures = []
    for case in cases:
        if not isinstance(case, CliCase):
            continue
        d = tmp_path / case.name
        d.mkdir()
        for name, data in case.files.items():
            (d / name).write_bytes(data)
        code = main([a.replace("{tmp}", str(d)) for a in case.args])
        out = capsys.readouterr()
        lines = out.err.strip().splitlines()
        if code != case.exit_code or len(lines) != 1:
            failures.append(f"{case.name}: exit {code}, stderr {out.err[:300]!r}")
            continue
        leak = _leak((out.err + out.out).replace(str(d), "TMP"), canary)
        if leak:
            failures.append(f"{case.name}: {leak}: {out.err[:300]!r}")
    assert not failures, "\n".join(failures)
    assert listener.hits == []


def test_gdal_policy_keeps_only_needed_drivers():
    import rasterio

    from gisapp.io import gdalpolicy

    with rasterio.Env():  # a later Env (rasterio registers lazily) must not bring drivers back
        pass
    left = gdalpolicy.drivers()
    assert "VRT" not in left["pyogrio"] and "OGR_VRT" not in left["pyogrio"]
    assert set(left["pyogrio"]) <= gdalpolicy.VECTOR_DRIVERS
    assert set(left["rasterio"]) <= gdalpolicy.RASTER_DRIVERS
    assert {"GPKG", "ESRI Shapefile", "GeoJSON", "LIBKML"} <= set(left["pyogrio"])


def test_vsicurl_is_refused_by_gdal_itself(listener):  # type: ignore[no-untyped-def]
    import pyogrio

    with pytest.raises(pyogrio.errors.DataSourceError):
        pyogrio.read_info(f"/vsicurl/http://127.0.0.1:{listener.port}/x.geojson")
    assert listener.hits == []


def test_valid_kml_gives_json_and_geojson(client):  # type: ignore[no-untyped-def]
    """Finding 5: any KML with JSON output crashed on NaT timestamps."""
    kml = _kml()
    for fmt in ("json", "geojson", "csv"):
        resp = client.post(f"/api/overlap?format={fmt}", data={"file": (io.BytesIO(kml), "p.kml")})
        assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    body = client.post("/api/overlap", data={"file": (io.BytesIO(kml), "p.kml")}).get_json()
    assert body["parcels"]["features"][0]["properties"]["timestamp"].startswith("2024-05-01")


def test_valid_kml_cli_json(tmp_path, capsys):  # type: ignore[no-untyped-def]
    (tmp_path / "p.kml").write_bytes(_kml())
    assert main(["overlap", str(tmp_path / "p.kml"), "--format", "json"]) == 0
    json.loads(capsys.readouterr().out)


def test_valid_shapefile_and_gpkg_still_read(client):  # type: ignore[no-untyped-def]
    for name, data in (("p.zip", _zip(_shapefile())), ("p.gpkg", _gpkg()), ("p.zip", _zip(_shapefile(cpg="UTF-8")))):
        resp = client.post("/api/overlap", data={"file": (io.BytesIO(data), name)})
        assert resp.status_code == 200, resp.get_data(as_text=True)[:300]


def test_cpg_encoding_reported_is_the_one_used():
    from gisapp.io.readers import read_input

    raw, source = read_input(_zip(_shapefile(cpg="GBK")), filename="p.zip")
    assert any("GBK" in n for n in source.notes)
    with pytest.raises(InputError) as exc:
        read_input(_zip(_shapefile(cpg="KLINGON-42")), filename="p.zip")
    assert exc.value.code == "unknown_encoding"


def test_zip_bomb_stops_while_extracting(tmp_path):
    """The guard counts bytes as they come out: a bomb stops at the ratio/total cap, not at 2 GiB."""
    from gisapp.io.readers.safety import extract

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("p.dbf", "w", force_zip64=True) as out:
        for _ in range(200):
            out.write(b"\0" * (1 << 20))
    data = buf.getvalue()
    with pytest.raises(InputError) as exc:
        extract(data, tmp_path)
    assert exc.value.status == 413
    written = sum(p.stat().st_size for p in tmp_path.iterdir())
    assert written <= 100 * len(data) + (1 << 20)  # the ratio bound, not the 200 MiB inside
    with pytest.raises(InputError) as exc:
        extract(data, tmp_path, Limits(max_unzipped_bytes=1 << 20, max_zip_ratio=1e9))
    assert exc.value.code == "zip_too_large"


def test_declared_sizes_are_not_trusted(tmp_path):
    """A member whose header claims 10 bytes but expands to 20 MiB is still stopped."""
    from gisapp.io.readers.safety import extract

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("p.dbf", b"\0" * (20 << 20))
    data = bytearray(buf.getvalue())
    cd = data.find(b"PK\x01\x02")
    data[cd + 24 : cd + 28] = (10).to_bytes(4, "little")  # uncompressed size in the central directory
    with pytest.raises(InputError) as exc:
        extract(bytes(data), tmp_path, Limits(max_unzipped_bytes=1 << 20))
    assert exc.value.status in (400, 413)


def test_pasted_rings_are_grouped_in_linear_time():
    from gisapp.io.readers.points import read_points_text

    t0 = time.monotonic()
    raw = read_points_text(_rings_text(10_000))
    assert len(raw.geometries) == 10_000
    assert time.monotonic() - t0 < 10
    # holes and parts still found: a ring inside an earlier one is its hole
    text = b"0,0 10,0 10,10 0,10 0,0\n2,2 4,2 4,4 2,4 2,2\n20,20 30,20 30,30 20,30 20,20\n"
    raw = read_points_text(text)
    assert len(raw.geometries) == 2 and len(raw.geometries[0].interiors) == 1


def test_feature_and_vertex_limits():
    from gisapp.analysis.parcels import load_parcels

    with pytest.raises(InputError) as exc:
        load_parcels(_rings_text(50), limits=Limits(max_features=10), store=BUNDLED)
    assert (exc.value.code, exc.value.status) == ("too_many_features", 413)
    with pytest.raises(InputError) as exc:
        load_parcels(json.dumps({"type": "Polygon", "coordinates": [RING]}), limits=Limits(max_vertices=4))
    assert (exc.value.code, exc.value.status) == ("too_many_vertices", 413)


def test_run_overlap_accepts_limits():
    from gisapp.analysis.service import overlap_check

    with pytest.raises(InputError) as exc:
        overlap_check(_rings_text(50, 113.3, 22.5), limits=Limits(max_features=10), store=BUNDLED)
    assert exc.value.code == "too_many_features"


def test_snippets_are_capped():
    from gisapp.analysis.parcels import load_parcels

    with pytest.raises(InputError) as exc:
        load_parcels(b"1,2\n" + b"x" * 100_000)
    assert len(exc.value.message) < 300


def test_scrub_removes_temp_paths():
    from gisapp.io.readers.safety import scrub

    msg = scrub("'/tmp/gisapp-ogr-abc_12/upload.gpkg' not recognized\nas a supported file format", label="p.gpkg")
    assert "/tmp" not in msg and "p.gpkg" in msg and "\n" not in msg


def test_proj_pool_is_lazy_and_fork_safe():
    import os

    from gisapp.core import crsinfer

    x, y = crsinfer.transform_xy(crsinfer.WGS84_CRS, "EPSG:4547", np.array([113.4]), np.array([22.5]))
    pid = os.fork()
    if pid == 0:  # the child: a pool started in the parent must not hang here
        crsinfer.PROJ_POOL.submit(lambda: 1).result(timeout=5)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert status == 0
    assert 400_000 < x[0] < 700_000


def test_isolated_read_gives_the_same_result_and_bounds_time():
    from gisapp.io.isolation import run_isolated
    from gisapp.io.readers import read_input

    raw, _ = read_input(_zip(_shapefile()), filename="p.zip", limits=Limits(isolate=True))
    assert len(raw.geometries) == 1 and raw.crs is not None
    with pytest.raises(InputError) as exc:
        read_input(_zip(_shapefile(cpg="KLINGON-42")), filename="p.zip", limits=Limits(isolate=True))
    assert exc.value.code == "unknown_encoding"
    with pytest.raises(InputError) as exc:
        run_isolated(time.sleep, (30,), Limits(timeout_s=0.5))
    assert (exc.value.code, exc.value.status) == ("too_slow", 422)
    with pytest.raises(InputError) as exc:
        run_isolated(bytearray, (8 << 30,), Limits(memory_bytes=1 << 30))
    assert exc.value.status == 413
