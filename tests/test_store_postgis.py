"""A large layer in PostGIS answers as the same file layer: import, counts, pages, tiles, OGC items, overlap.

The PostGIS twin of ``tests/test_store_gpkg.py`` (same synthetic 三调 图斑, same file layer), through the
app's own paths with ``GISAPP_DATABASE_URL`` set: ``gisapp store import`` into PostGIS, the store's
``count``/``query``/``tile``, the ``/tiles`` route, OGC API items and the overlap use case. The database
is the throwaway cluster of ``tests/pg.py`` (fixture ``pg_url``). Needs the large-layer store API
(``gisapp.io.largeimport``); skipped in a tree without it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import mapbox_vector_tile
import numpy as np
import pytest
import shapely

pytest.importorskip("gisapp.io.largeimport", reason="the large-layer store API (gpkg helper) is not in this tree")

from gisapp.analysis.overlap.usecase import run_overlap  # noqa: E402
from gisapp.cli import main  # noqa: E402
from gisapp.store.backends import open_backend  # noqa: E402
from gisapp.store.layerstore import LayerStore  # noqa: E402
from gisapp.web import create_app  # noqa: E402
from tests.test_store_gpkg import BBOXES, LAT0, LON0, N, _meta, synthetic_dltb  # noqa: E402


@pytest.fixture(scope="module")
def pg_store(tmp_path_factory: pytest.TempPathFactory, pg_url: str) -> Iterator[tuple[Path, str]]:
    """``(store folder, database URL)``: ``dltb-file`` as GeoJSON, ``dltb`` imported into PostGIS by the CLI."""
    root = tmp_path_factory.mktemp("postgis")
    store_dir = root / "layers"
    gdf = synthetic_dltb()
    LayerStore(store_dir).write(gdf, _meta("dltb-file"))
    src = root / "dltb-src.gpkg"
    gdf.to_crs("EPSG:4547").to_file(src, layer="DLTB", driver="GPKG")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GISAPP_DATABASE_URL", pg_url)  # the CLI reads its settings from the environment
        code = main(["store", "import", str(src), "--id", "dltb", "--layer", "DLTB", "--store", str(store_dir)])
    assert code == 0
    yield store_dir, pg_url


@pytest.fixture()
def store(pg_store: tuple[Path, str]) -> Iterator[LayerStore]:
    store_dir, url = pg_store
    s = LayerStore(store_dir, open_backend(store_dir, url))
    yield s
    s.backend.close()  # type: ignore[attr-defined]  # PostgisBackend: its connection pool


def test_import_into_postgis(store: LayerStore, pg_store: tuple[Path, str]) -> None:
    meta = store.meta("dltb")
    assert (meta.backend, meta.feature_count) == ("postgis", N)
    assert store.backend.name == "postgis" and store.backend.layers() == ["dltb"]
    assert not (pg_store[0] / "large").exists() and not (pg_store[0] / "dltb.geojson").exists()
    assert store.columns("dltb") == store.columns("dltb-file")
    assert store.bounds("dltb") == pytest.approx(store.bounds("dltb-file"), abs=1e-7)


@pytest.mark.parametrize("bbox", [None, *BBOXES])
def test_count_and_query_equal_the_file_layer(store: LayerStore, bbox: tuple[float, ...] | None) -> None:
    n = store.count("dltb-file", bbox)
    assert store.count("dltb", bbox) == n
    big, small = store.query("dltb", bbox), store.query("dltb-file", bbox)
    assert len(big) == n and big.index.tolist() == small.index.tolist()
    assert big.drop(columns="geometry").astype(str).equals(small.drop(columns="geometry").astype(str))
    assert shapely.equals_exact(big.geometry.to_numpy(), small.geometry.to_numpy(), tolerance=0).all()
    page = store.query("dltb", bbox, limit=10, offset=20, columns=["DLBM"])
    assert page.index.tolist() == small.index.tolist()[20:30] and page.columns.tolist() == ["DLBM", "geometry"]


def test_tiles_hold_the_file_layers_features(store: LayerStore, pg_store: tuple[Path, str]) -> None:
    from gisapp.store.backends.mvt import tile_of

    z = 16
    x, y = tile_of(113.33, 22.52, z)
    ours = mapbox_vector_tile.decode(store.tile("dltb", z, x, y))["dltb"]["features"]
    files = mapbox_vector_tile.decode(store.tile("dltb-file", z, x, y))["dltb-file"]["features"]
    assert len(ours) == 42  # as the GeoPackage test finds
    assert {f["id"]: f["properties"] for f in ours} == {f["id"]: f["properties"] for f in files}
    for f in ours:  # the same square in tile units, up to the rounding of the two encoders
        assert shapely.geometry.shape(f["geometry"]).bounds == pytest.approx(
            shapely.geometry.shape(next(g for g in files if g["id"] == f["id"])["geometry"]).bounds, abs=1.01
        )
    client = create_app({"GISAPP_LAYERS_DIR": str(pg_store[0]), "GISAPP_DATABASE_URL": pg_store[1]}).test_client()
    r = client.get(f"/tiles/dltb/{z}/{x}/{y}.mvt")
    assert r.status_code == 200 and r.mimetype == "application/vnd.mapbox-vector-tile"
    assert sorted(f["id"] for f in mapbox_vector_tile.decode(r.data)["dltb"]["features"]) == sorted(
        f["id"] for f in ours
    )


def test_ogc_items_equal_the_file_layer(pg_store: tuple[Path, str]) -> None:
    client = create_app({"GISAPP_LAYERS_DIR": str(pg_store[0]), "GISAPP_DATABASE_URL": pg_store[1]}).test_client()
    bbox = ",".join(map(str, BBOXES[0]))
    pages = {}
    for layer in ("dltb", "dltb-file"):
        r = client.get(
            f"/ogc/collections/{layer}/items", query_string={"f": "json", "bbox": bbox, "limit": 5, "offset": 7}
        )
        assert r.status_code == 200, r.data[:300]
        pages[layer] = r.get_json()
    big, small = pages["dltb"], pages["dltb-file"]
    assert (big["numberMatched"], big["numberReturned"]) == (168, 5)
    assert [f["id"] for f in big["features"]] == [f["id"] for f in small["features"]]
    assert [f["properties"] for f in big["features"]] == [f["properties"] for f in small["features"]]
    assert [f["geometry"] for f in big["features"]] == [f["geometry"] for f in small["features"]]


def test_overlap_against_a_postgis_target_equals_the_file_target(store: LayerStore) -> None:
    rng = np.random.default_rng(7)
    cx = LON0 + rng.random(40) * 0.055
    cy = LAT0 + rng.random(40) * 0.035
    parcels = shapely.box(cx, cy, cx + 0.0021, cy + 0.0017)
    doc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"pid": f"p{k}"}, "geometry": json.loads(shapely.to_geojson(g))}
            for k, g in enumerate(parcels)
        ],
    }
    data = json.dumps(doc).encode()
    frames = {}
    for target in ("dltb", "dltb-file"):
        analysis, _ = run_overlap(data, "parcels.geojson", [target], id_field="pid", store=store)
        frames[target] = analysis.frame().drop(columns=["target", "geometry"])
    assert len(frames["dltb"]) == 40 and frames["dltb"]["overlaps"].all()
    assert frames["dltb"].equals(frames["dltb-file"])
