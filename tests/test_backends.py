"""The large-layer backends (GeoPackage and PostGIS) give the same answers, and those of the file layer.

One contract test set, parametrized over both :class:`~gisapp.store.backends.base.FeatureBackend`
implementations: count, bbox queries and counts, paging by fid, columns, atomic replace, vector tiles
(decoded with ``mapbox-vector-tile``) and equality with the same data written and read back as a
GeoJSON file layer. Every expected value is computed here with shapely from the data, not asked
from a backend. PostGIS runs in a throwaway cluster (``pg_url`` in tests/conftest.py, tests/pg.py).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import mapbox_vector_tile
import numpy as np
import pandas as pd
import pytest
import shapely

from gisapp.store.backends.base import FeatureBackend
from gisapp.store.layerstore import read_layer, write_layer
from tests.helpers import make_meta

LAYER = "dltb-test"
NX, NY = 60, 50  # 3000 图斑
STEP = 0.001  # degrees between cell origins (≈ 100 m)
SIDE = 0.0008  # degrees: squares with a gap, so a bbox edge between two rows touches neither
X0, Y0 = 113.30, 22.50
DLBM = [("0101", "水田"), ("0201", "果园"), ("0702", "农村宅基地"), ("1101", "河流水面"), ("1001", "铁路用地")]


def _cells() -> gpd.GeoDataFrame:
    """3000 squares of 0.0008° in a 60 × 50 grid from (113.30, 22.50), EPSG:4326, coordinates on 7
    decimals (so a GeoJSON round trip is exact); every 97th a two-part MultiPolygon, every 89th with a hole."""
    geoms: list[shapely.Geometry] = []
    for k in range(NX * NY):
        i, j = k % NX, k // NX
        x, y = round(X0 + i * STEP, 7), round(Y0 + j * STEP, 7)
        square = shapely.box(x, y, round(x + SIDE, 7), round(y + SIDE, 7))
        if k % 97 == 0:
            half = round(x + SIDE / 2, 7)
            square = shapely.MultiPolygon(
                [
                    shapely.box(x, y, round(half - 0.0001, 7), round(y + SIDE, 7)),
                    shapely.box(half, y, round(x + SIDE, 7), round(y + SIDE, 7)),
                ]
            )
        elif k % 89 == 0:
            a, b = round(x + 0.0002, 7), round(x + 0.0006, 7)
            c, d = round(y + 0.0002, 7), round(y + 0.0006, 7)
            hole = [(a, c), (a, d), (b, d), (b, c)]  # clockwise, as RFC 7946 writes holes
            square = shapely.Polygon(square.exterior.coords, [hole])
        geoms.append(square)
    n = NX * NY
    return gpd.GeoDataFrame(
        {
            "BSM": [f"44200000{k:06d}" for k in range(n)],
            "DLBM": [DLBM[k % 5][0] for k in range(n)],
            "DLMC": [DLBM[k % 5][1] for k in range(n)],
            "TBMJ": [round(6000.0 + k * 0.25, 2) for k in range(n)],
            "ZLDWDM": np.arange(n, dtype="int64") + 442000100000,
            "GDBZ": [k % 3 == 0 for k in range(n)],
            "BZ": [None if k % 7 == 0 else ("" if k % 7 == 1 else f"备注{k}") for k in range(n)],
        },
        geometry=geoms,
        crs="EPSG:4326",
    )


DATA = _cells()
EXPECTED_COLUMNS = {
    "BSM": "str",
    "DLBM": "str",
    "DLMC": "str",
    "TBMJ": "float64",
    "ZLDWDM": "int64",
    "GDBZ": "bool",
    "BZ": "str",
}


def _fids_intersecting(bbox: tuple[float, float, float, float]) -> list[int]:
    hits = shapely.intersects(DATA.geometry.values, shapely.box(*bbox))
    return [int(i) + 1 for i in np.flatnonzero(hits)]


def _plain(values: pd.Series) -> list[Any]:
    """Values as Python objects, a missing one (None, NaN, NA) as None."""
    return [None if pd.isna(v) else v for v in values.tolist()]


def _chunks(frame: gpd.GeoDataFrame, size: int) -> Iterator[gpd.GeoDataFrame]:
    for start in range(0, len(frame), size):
        yield frame.iloc[start : start + size]


def _open(kind: str, tmp: Path, pg_url: str | None) -> FeatureBackend:
    if kind == "gpkg":
        gpkg = pytest.importorskip("gisapp.store.backends.gpkg", reason="GeoPackage backend not merged in this tree")
        backend: FeatureBackend = gpkg.GpkgBackend(tmp / "large")
        return backend
    from gisapp.store.backends.postgis import PostgisBackend

    assert pg_url is not None
    return PostgisBackend(pg_url, schema=f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture(scope="module", params=["gpkg", "postgis"])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FeatureBackend]:
    """Each backend, holding the 3000 cells as ``dltb-test`` (written in three chunks)."""
    url = request.getfixturevalue("pg_url") if request.param == "postgis" else None
    b = _open(request.param, tmp_path_factory.mktemp(request.param), url)
    assert isinstance(b, FeatureBackend)
    assert b.write(LAYER, _chunks(DATA, 1000)) == NX * NY
    yield b
    close = getattr(b, "close", None)
    if close is not None:
        close()


def test_count_columns_bounds(backend: FeatureBackend) -> None:
    assert LAYER in backend.layers()
    assert backend.count(LAYER) == 3000
    assert backend.columns(LAYER) == EXPECTED_COLUMNS
    assert backend.bounds(LAYER) == pytest.approx((113.30, 22.50, 113.3598, 22.5498), abs=1e-9)


def test_bbox_count_and_query(backend: FeatureBackend) -> None:
    bbox = (113.3105, 22.5105, 113.3255, 22.5185)  # columns 10–25, rows 10–18 (edges inside cells)
    expected = _fids_intersecting(bbox)
    assert len(expected) == 16 * 9
    assert backend.count(LAYER, bbox) == 144
    got = backend.query(LAYER, bbox)
    assert list(got.index) == expected
    assert got.index.name == "fid" and got.crs is not None and got.crs.to_epsg() == 4326
    want = DATA.iloc[[f - 1 for f in expected]]
    assert list(got.columns) == [*EXPECTED_COLUMNS, "geometry"]
    for col in ("BSM", "DLBM", "DLMC", "TBMJ", "ZLDWDM", "GDBZ"):
        assert got[col].tolist() == want[col].tolist(), col
    assert _plain(got["BZ"]) == _plain(want["BZ"])
    assert shapely.equals_exact(got.geometry.values, want.geometry.values, tolerance=0).all()
    # a bbox in a gap between rows touches nothing; a point bbox inside one cell finds exactly it
    assert backend.count(LAYER, (113.30, 22.50085, 113.36, 22.50095)) == 0
    assert list(backend.query(LAYER, (113.3004, 22.5004, 113.3004, 22.5004)).index) == [1]


def test_paging_columns_fids(backend: FeatureBackend) -> None:
    page = backend.query(LAYER, limit=100, offset=250)
    assert list(page.index) == list(range(251, 351))
    assert page["BSM"].iloc[0] == "44200000000250"
    bbox = (113.3105, 22.5105, 113.3255, 22.5185)
    assert list(backend.query(LAYER, bbox, limit=10, offset=5).index) == _fids_intersecting(bbox)[5:15]
    only = backend.query(LAYER, bbox, limit=3, columns=["DLBM"])
    assert list(only.columns) == ["DLBM", "geometry"] and only["DLBM"].tolist() == ["0101", "0201", "0702"]
    assert list(backend.query(LAYER, fids=[2999, 1, 3]).index) == [1, 3, 2999]
    assert list(backend.query(LAYER, bbox, fids=[1, 612, 613]).index) == [612, 613]
    empty = backend.query(LAYER, offset=5000, limit=10)
    assert len(empty) == 0 and list(empty.columns) == [*EXPECTED_COLUMNS, "geometry"]
    with pytest.raises(ValueError):
        backend.query(LAYER, columns=["NOPE"])
    with pytest.raises(ValueError):
        backend.query(LAYER, offset=-1)


def test_same_as_file_layer(backend: FeatureBackend, tmp_path: Path) -> None:
    write_layer(DATA, make_meta("dltb-file", "地类图斑"), tmp_path)
    from_file = read_layer("dltb-file", tmp_path)
    got = backend.query(LAYER)
    assert len(got) == len(from_file) == 3000
    assert list(got.index) == list(range(1, 3001))
    assert shapely.equals_exact(got.geometry.values, from_file.geometry.values, tolerance=0).all()
    for col in ("BSM", "DLBM", "DLMC", "TBMJ", "ZLDWDM", "GDBZ", "BZ"):
        assert _plain(got[col]) == _plain(from_file[col]), col


def _tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int((lon + 180) / 360 * n), int(y)


def _tile_lonlat_bbox(z: int, x: int, y: int, buffer: float) -> tuple[float, float, float, float]:
    n = 2**z

    def lat(row: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return ((x - buffer) / n * 360 - 180, lat(y + 1 + buffer), (x + 1 + buffer) / n * 360 - 180, lat(y - buffer))


def test_tile_decodes_to_the_features(backend: FeatureBackend) -> None:
    z = 16
    x, y = _tile_xy(113.315, 22.52, z)
    # features a tile holds: those meeting the tile widened by the 64-unit buffer (of 4096)
    expected = _fids_intersecting(_tile_lonlat_bbox(z, x, y, 64 / 4096))
    assert 20 < len(expected) < 200
    data = backend.tile(LAYER, z, x, y)
    layers: dict[str, Any] = mapbox_vector_tile.decode(data)
    assert list(layers) == [LAYER]
    assert layers[LAYER]["extent"] == 4096
    features = layers[LAYER]["features"]
    assert sorted(f["id"] for f in features) == expected
    by_id = {f["id"]: f for f in features}
    first = by_id[expected[0]]
    row = DATA.iloc[expected[0] - 1]
    want = {k: row[k] for k in EXPECTED_COLUMNS if not pd.isna(row[k])}
    assert first["properties"] == want
    # geometry: a cell wholly inside the tile decodes to its own square in tile units (±1 unit of rounding)
    n = 2**z
    inside = [
        f for f in expected if shapely.contains(shapely.box(*_tile_lonlat_bbox(z, x, y, 0)), DATA.geometry.iloc[f - 1])
    ]
    assert inside
    cell = DATA.geometry.iloc[inside[0] - 1]
    x0, y0, x1, y1 = cell.bounds

    def unit_x(lon: float) -> float:
        return ((lon + 180) / 360 * n - x) * 4096

    def unit_y(lat: float) -> float:  # y up, as mapbox-vector-tile decodes by default
        row_f = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
        return (1 - (row_f - y)) * 4096

    got = shapely.geometry.shape(by_id[inside[0]]["geometry"])
    assert got.bounds == pytest.approx((unit_x(x0), unit_y(y0), unit_x(x1), unit_y(y1)), abs=1.01)
    assert got.geom_type == cell.geom_type
    # only some attributes; a tile far away is empty
    some = mapbox_vector_tile.decode(backend.tile(LAYER, z, x, y, columns=["DLBM"]))
    assert {k for f in some[LAYER]["features"] for k in f["properties"]} == {"DLBM"}
    assert backend.tile(LAYER, 12, 0, 0) == b""
    with pytest.raises(ValueError):
        backend.tile(LAYER, 3, 8, 0)


def test_fids_in_boxes(backend: FeatureBackend) -> None:
    """The optional capability LayerStore.query_boxes uses (both backends have it): every feature meeting a
    box, each once, sorted; a box in a gap finds nothing."""
    find = getattr(backend, "fids_in_boxes", None)
    if find is None:
        pytest.skip(f"{backend.name} has no fids_in_boxes")
    boxes = [
        (113.3005, 22.5005, 113.3006, 22.5006),
        (113.3105, 22.5105, 113.3125, 22.5115),
        (113.3004, 22.5004, 113.3007, 22.5007),
    ]
    expected = sorted({f for b in boxes for f in _fids_intersecting(b)})
    assert expected == [1, 611, 612, 613, 671, 672, 673]
    got = find(LAYER, boxes)
    assert got.dtype == np.int64 and got.tolist() == expected
    assert find(LAYER, [(113.30, 22.50085, 113.36, 22.50095)]).tolist() == []
    assert find(LAYER, []).tolist() == []


def test_absent_layer_is_key_error(backend: FeatureBackend) -> None:
    for call in (
        lambda: backend.count("no-such-layer"),
        lambda: backend.query("no-such-layer"),
        lambda: backend.columns("no-such-layer"),
        lambda: backend.bounds("no-such-layer"),
        lambda: backend.tile("no-such-layer", 0, 0, 0),
    ):
        with pytest.raises(KeyError):
            call()
    backend.drop("no-such-layer")  # no error


def test_atomic_replace(backend: FeatureBackend) -> None:
    old = DATA.iloc[:100]
    assert backend.write("swap", [old]) == 100

    def failing() -> Iterator[gpd.GeoDataFrame]:
        yield DATA.iloc[:10]
        assert backend.count("swap") == 100  # mid-write, readers still see the old layer
        raise RuntimeError("source broke")

    with pytest.raises(RuntimeError, match="source broke"):
        backend.write("swap", failing())
    assert backend.count("swap") == 100
    with pytest.raises(ValueError):
        backend.write("swap", [DATA.iloc[:10], DATA.iloc[10:20].drop(columns=["BZ"])])
    with pytest.raises(ValueError):
        backend.write("swap", [DATA.iloc[:10].to_crs(4547)])
    assert backend.count("swap") == 100 and backend.columns("swap") == EXPECTED_COLUMNS

    def replacing() -> Iterator[gpd.GeoDataFrame]:
        yield gpd.GeoDataFrame({"NAME": ["甲", "乙"]}, geometry=list(DATA.geometry.iloc[:2]), crs="EPSG:4326")
        assert backend.count("swap") == 100

    assert backend.write("swap", replacing()) == 2
    assert backend.count("swap") == 2 and backend.columns("swap") == {"NAME": "str"}
    assert backend.query("swap")["NAME"].tolist() == ["甲", "乙"]
    backend.drop("swap")
    assert "swap" not in backend.layers()
    with pytest.raises(KeyError):
        backend.count("swap")
