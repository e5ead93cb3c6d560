"""Large layers in the GeoPackage backend: import, bbox/paging, vector tiles, OGC items, overlap, atomicity.

The same synthetic 三调-style 图斑 (2 400 polygons on a 1e-4° grid, so the file layer's 7-decimal GeoJSON
holds exactly the same coordinates) are stored twice: as a GeoJSON file layer (``dltb-file``) and as a
large layer imported with ``gisapp store import`` (``dltb``); every answer must be the same.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import mapbox_vector_tile
import numpy as np
import pytest
import shapely

from gisapp.analysis.overlap.usecase import run_overlap
from gisapp.cli import main
from gisapp.core.crs import WGS84
from gisapp.core.errors import InputError
from gisapp.store.backends.gpkg import GpkgBackend
from gisapp.store.backends.mvt import tile_bbox_4326, tile_of
from gisapp.store.layerstore import LayerMeta, LayerStore
from gisapp.web import create_app

N_SIDE = 60  # 60 × 40 = 2 400 图斑
N = N_SIDE * 40
LON0, LAT0, STEP = 113.30, 22.50, 0.0010
CODES = np.array(["0101", "0201", "0301", "0601", "0702", "1001", "1101", "1203"])
BBOXES = [(113.31, 22.51, 113.3235, 22.5217), (113.2, 22.4, 113.305, 22.5052), (0.0, 0.0, 1.0, 1.0)]


def synthetic_dltb(n_side: int = N_SIDE, rows: int = 40) -> gpd.GeoDataFrame:
    """图斑 on a grid: squares, every 5th a triangle, every 7th with a hole; DLBM codes, TBMJ m², BSM ids."""
    i = np.arange(n_side * rows)
    x0 = np.round(LON0 + (i % n_side) * STEP, 4)
    y0 = np.round(LAT0 + (i // n_side) * STEP, 4)
    geoms = shapely.box(x0, y0, x0 + 0.0009, y0 + 0.0009)
    tri = i % 5 == 0
    geoms[tri] = shapely.polygons(
        np.stack([np.c_[x0, y0], np.c_[x0 + 0.0009, y0], np.c_[x0, y0 + 0.0009], np.c_[x0, y0]], axis=1)[tri]
    )
    holed = i % 7 == 0
    geoms[holed] = shapely.difference(
        geoms[holed], shapely.box(x0 + 0.0003, y0 + 0.0003, x0 + 0.0006, y0 + 0.0006)[holed]
    )
    return gpd.GeoDataFrame(
        {
            "BSM": [f"4420000{k:07d}" for k in i],
            "DLBM": CODES[i % len(CODES)],
            "TBMJ": np.round(1000.0 + (i % 97) * 3.5, 2),
            "ZLDWMC": np.where(i % 2 == 0, "石岐街道", "东区街道"),
        },
        geometry=geoms,
        crs=WGS84,
    )


def _meta(layer_id: str) -> LayerMeta:
    return LayerMeta(
        layer_id, "地类图斑", "DLTB", "landuse", "Polygon", "synthetic", "CC0", "EPSG:4326", "illustrative", "test"
    )


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with ``dltb-file`` (GeoJSON) and ``dltb`` (imported into GeoPackage by the CLI)."""
    root = tmp_path_factory.mktemp("gpkg")
    store_dir = root / "layers"
    gdf = synthetic_dltb()
    LayerStore(store_dir).write(gdf, _meta("dltb-file"))
    src = root / "dltb-src.gpkg"
    gdf.to_crs("EPSG:4547").to_file(src, layer="DLTB", driver="GPKG")  # a projected source: reprojected on import
    code = main(
        [
            "store",
            "import",
            str(src),
            "--id",
            "dltb",
            "--layer",
            "DLTB",
            "--title",
            "地类图斑",
            "--store",
            str(store_dir),
        ]
    )
    assert code == 0
    return store_dir


@pytest.fixture()
def store(store_dir: Path) -> LayerStore:
    return LayerStore(store_dir)


def test_import_writes_meta_and_geopackage(store: LayerStore, store_dir: Path) -> None:
    meta = store.meta("dltb")
    assert (meta.backend, meta.feature_count, meta.kind, meta.title) == ("gpkg", N, "landuse", "地类图斑")
    assert (store_dir / "large" / "dltb.gpkg").is_file()
    assert not (store_dir / "dltb.geojson").exists()
    assert store.is_large("dltb") and not store.is_large("dltb-file")
    assert store.exists("dltb") and [m.id for m in store.list()] == ["dltb-file", "dltb"]
    assert store.columns("dltb") == store.columns("dltb-file")
    assert list(store.columns("dltb")) == ["BSM", "DLBM", "TBMJ", "ZLDWMC"]
    assert store.bounds("dltb") == pytest.approx(store.bounds("dltb-file"), abs=1e-7)
    assert meta.extra["tile_min_zoom"] == 14


def test_frame_of_a_large_layer_is_refused(store: LayerStore) -> None:
    with pytest.raises(InputError) as err:
        store.frame("dltb")
    assert (err.value.code, err.value.status) == ("large_layer", 422)
    assert "2400 features in gpkg" in err.value.message
    with pytest.raises(InputError):
        store.geojson_text("dltb")


@pytest.mark.parametrize("bbox", [None, *BBOXES])
def test_count_and_query_equal_the_file_layer(store: LayerStore, bbox: tuple[float, ...] | None) -> None:
    n = store.count("dltb-file", bbox)
    assert store.count("dltb", bbox) == n
    if bbox is not None:  # the exact answer, from shapely over the source data
        assert n == int(synthetic_dltb().intersects(shapely.box(*bbox)).sum())
    big, small = store.query("dltb", bbox), store.query("dltb-file", bbox)
    assert len(big) == n and big.index.name == "fid" and big.crs.equals(WGS84)
    assert big.index.tolist() == small.index.tolist()
    assert big.drop(columns="geometry").astype(str).equals(small.drop(columns="geometry").astype(str))
    assert shapely.equals_exact(big.geometry.to_numpy(), small.geometry.to_numpy(), tolerance=1e-9).all()


def test_pages_by_fid(store: LayerStore) -> None:
    bbox = BBOXES[0]
    everything = store.query("dltb", bbox).index.tolist()
    assert len(everything) == 168
    page = store.query("dltb", bbox, limit=10, offset=20, columns=["DLBM"])
    assert page.index.tolist() == everything[20:30]
    assert page.columns.tolist() == ["DLBM", "geometry"]
    assert store.query("dltb-file", bbox, limit=10, offset=20, columns=["DLBM"]).index.tolist() == everything[20:30]
    assert store.query("dltb", limit=3, offset=N - 2).index.tolist() == [N - 1, N]
    assert store.query("dltb", limit=5, offset=N + 5).empty
    world = (-180.0, -90.0, 180.0, 90.0)  # holds the whole layer: counted and paged without the index
    assert store.count("dltb", world) == store.count("dltb-file", world) == N
    assert store.query("dltb", world, limit=4, offset=7).index.tolist() == [8, 9, 10, 11]
    with pytest.raises(InputError) as err:
        store.query("dltb", columns=["nope"])
    assert err.value.code == "missing_field"


def test_tile_decodes_to_the_features_of_the_tile(store: LayerStore) -> None:
    z = 16
    x, y = tile_of(113.33, 22.52, z)
    data = store.tile("dltb", z, x, y)
    layer = mapbox_vector_tile.decode(data)["dltb"]
    assert layer["features"] == mapbox_vector_tile.decode(store.tile("dltb-file", z, x, y))["dltb-file"]["features"]
    assert layer["extent"] == 4096
    got = {f["id"] for f in layer["features"]}
    src = synthetic_dltb()
    src.index = np.arange(1, N + 1)
    inner = set(src.index[src.intersects(shapely.box(*tile_bbox_4326(z, x, y, buffer=0)))])
    outer = set(src.index[src.intersects(shapely.box(*tile_bbox_4326(z, x, y)))])
    assert inner <= got <= outer and len(inner) == 36
    one = next(f for f in layer["features"] if f["id"] == min(inner))
    assert one["properties"] == {
        "BSM": src.loc[min(inner), "BSM"],
        "DLBM": src.loc[min(inner), "DLBM"],
        "TBMJ": src.loc[min(inner), "TBMJ"],
        "ZLDWMC": src.loc[min(inner), "ZLDWMC"],
    }
    assert store.tile("dltb", 13, *tile_of(113.33, 22.52, 13)) == b""  # below tile_min_zoom (14)
    assert store.tile("dltb", 16, 0, 0) == b""


def test_tile_route(store_dir: Path) -> None:
    client = create_app({"GISAPP_LAYERS_DIR": str(store_dir)}).test_client()
    x, y = tile_of(113.33, 22.52, 16)
    r = client.get(f"/tiles/dltb/16/{x}/{y}.mvt")
    assert r.status_code == 200 and r.mimetype == "application/vnd.mapbox-vector-tile"
    assert len(mapbox_vector_tile.decode(r.data)["dltb"]["features"]) == 42
    for path, status, code in (
        ("/tiles/dltb/25/0/0.mvt", 400, "invalid_tile"),
        ("/tiles/dltb/3/8/0.mvt", 400, "invalid_tile"),
        ("/tiles/dltb/a/0/0.mvt", 400, "invalid_tile"),
        ("/tiles/nope/3/0/0.mvt", 404, "layer_not_found"),
        ("/tiles/Bad!/3/0/0.mvt", 400, "invalid_layer_id"),
    ):
        r = client.get(path)
        assert (r.status_code, r.get_json()["error"]) == (status, code), path


def test_ogc_items_paged_from_the_store(store_dir: Path) -> None:
    client = create_app({"GISAPP_LAYERS_DIR": str(store_dir)}).test_client()
    bbox = ",".join(map(str, BBOXES[0]))
    pages = {}
    for layer in ("dltb", "dltb-file"):
        r = client.get(
            f"/ogc/collections/{layer}/items", query_string={"f": "json", "bbox": bbox, "limit": 5, "offset": 7}
        )
        assert r.status_code == 200, r.data[:300]
        pages[layer] = r.get_json()
    big = pages["dltb"]
    assert (big["numberMatched"], big["numberReturned"]) == (168, 5)
    assert [f["id"] for f in big["features"]] == [f["id"] for f in pages["dltb-file"]["features"]]
    assert [f["properties"] for f in big["features"]] == [f["properties"] for f in pages["dltb-file"]["features"]]
    assert big["features"][0]["geometry"] == pages["dltb-file"]["features"][0]["geometry"]
    one = client.get(f"/ogc/collections/dltb/items/{big['features'][0]['id']}", query_string={"f": "json"})
    assert one.status_code == 200 and one.get_json()["properties"] == big["features"][0]["properties"]
    assert client.get("/ogc/collections/dltb/items/999999", query_string={"f": "json"}).status_code == 404
    r = client.get("/ogc/collections/dltb/items", query_string={"f": "json", "DLBM": "0101"})
    assert r.status_code == 400
    coll = client.get("/ogc/collections/dltb", query_string={"f": "json"}).get_json()
    assert coll["extent"]["spatial"]["bbox"][0] == pytest.approx([113.3, 22.5, 113.3599, 22.5399], abs=1e-6)


def test_overlap_against_a_large_target_equals_the_file_target(store: LayerStore) -> None:
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
        analysis, info = run_overlap(data, "parcels.geojson", [target], id_field="pid", store=store)
        frames[target] = analysis.frame().drop(columns=["target", "geometry"])
        assert info["targets"][0]["layer"] == target
    big, small = frames["dltb"], frames["dltb-file"]
    assert len(big) == 40 and big["overlaps"].all()
    assert big.equals(small)
    assert big["features"].iloc[0].count(",") >= 3


def test_large_target_needs_parcels_and_checks_its_filter(store: LayerStore) -> None:
    from gisapp.analysis.overlap.targets import check_target, load_control

    with pytest.raises(InputError) as err:
        load_control("dltb", store)
    assert err.value.code == "large_target"
    with pytest.raises(InputError) as err:
        check_target("dltb[XX=1]", store)
    assert err.value.code == "missing_field"
    far = np.array([shapely.box(0, 0, 10, 10)], dtype=object)  # EPSG:4547 metres: nowhere near
    assert len(load_control("dltb[DLBM=0601]", store, near=far).geometries) == 0


def test_failed_import_keeps_the_old_layer(store_dir: Path, tmp_path: Path) -> None:
    store = LayerStore(store_dir)
    before = (store.meta("dltb").to_dict(), (store_dir / "large" / "dltb.gpkg").read_bytes())
    good = synthetic_dltb(10, 1)

    def chunks():
        yield good
        raise InputError("the source broke half-way", code="unreadable_file")

    with pytest.raises(InputError):
        store.write_large(chunks(), _meta("dltb"))
    bad_schema = (good, good.assign(extra=1))
    with pytest.raises(ValueError, match="columns"):
        store.write_large(iter(bad_schema), _meta("dltb"))
    with pytest.raises(ValueError, match="EPSG:4326"):
        store.write_large(iter([good.to_crs("EPSG:4547")]), _meta("dltb"))
    assert (store.meta("dltb").to_dict(), (store_dir / "large" / "dltb.gpkg").read_bytes()) == before
    assert sorted(p.name for p in (store_dir / "large").iterdir()) == ["dltb.gpkg"]  # no temporary left
    missing = tmp_path / "nope.gpkg"
    assert main(["store", "import", str(missing), "--id", "dltb", "--store", str(store_dir)]) == 2
    assert store.count("dltb") == N


def test_replace_is_atomic_for_open_readers(tmp_path: Path) -> None:
    backend = GpkgBackend(tmp_path)
    assert backend.write("x", [synthetic_dltb(10, 2)]) == 20
    with backend._sql("x") as con:  # a reader that opened the old file keeps reading it
        assert backend.write("x", [synthetic_dltb(10, 3)]) == 30
        assert backend._total(con) == 20
    assert backend.count("x") == 30 and backend.layers() == ["x"]
    backend.drop("x")
    assert backend.layers() == []
    with pytest.raises(KeyError):
        backend.count("x")


def test_versioned_store_does_not_count_large_layers(tmp_path: Path) -> None:
    from gisapp.store.storetxn import VersionedStore

    store = LayerStore(tmp_path)
    store.write(synthetic_dltb(3, 1), _meta("small"))
    VersionedStore(tmp_path).init()
    store.write_large([synthetic_dltb(10, 2)], _meta("big"))
    assert VersionedStore(tmp_path).verify() == []
    assert [m.id for m in store.list()] == ["big", "small"]
    assert (store.count("big"), store.count("small")) == (20, 3)


def test_import_filegdb_folder_and_zip(tmp_path: Path) -> None:
    import zipfile

    gdb = tmp_path / "survey.gdb"
    dltb = synthetic_dltb(10, 3).to_crs("EPSG:4526")  # a 三调 CRS: CGCS2000 3° zone 38
    dltb.to_file(gdb, layer="DLTB", driver="OpenFileGDB")
    dltb.head(2).to_file(gdb, layer="XZQ", driver="OpenFileGDB")
    store_dir = tmp_path / "layers"
    argv = ["store", "import", str(gdb), "--id", "dltb", "--store", str(store_dir)]
    assert main(argv) == 2  # two feature classes: --layer is needed
    assert main([*argv, "--layer", "DLTB"]) == 0
    zipped = tmp_path / "survey.gdb.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        for f in gdb.iterdir():
            zf.write(f, f"survey.gdb/{f.name}")
    assert main(["store", "import", str(zipped), "--id", "xzq", "--layer", "XZQ", "--store", str(store_dir)]) == 0
    store = LayerStore(store_dir)
    assert (store.count("dltb"), store.count("xzq")) == (30, 2)
    got = store.query("dltb")
    assert got["BSM"].tolist() == synthetic_dltb(10, 3)["BSM"].tolist()
    assert got.total_bounds == pytest.approx(synthetic_dltb(10, 3).total_bounds, abs=1e-7)
    bad = tmp_path / "not.zip"
    bad.write_bytes(b"PK\x03\x04 not a zip")
    assert main(["store", "import", str(bad), "--id", "bad", "--store", str(store_dir)]) == 2
    assert not store.exists("bad")


def test_accounting_reads_a_large_landuse_layer_like_the_file(tmp_path: Path) -> None:
    import shutil

    from gisapp.analysis.accounting import service
    from gisapp.core import paths

    store_dir = tmp_path / "layers"
    shutil.copytree(paths.layers_dir(), store_dir, ignore=shutil.ignore_patterns(".store", "large"))
    store = LayerStore(store_dir)
    dltb = synthetic_dltb(30, 20)  # 600 图斑 around 石岐/东区
    store.write_large([dltb], _meta("dltb"))
    src = tmp_path / "dltb.gpkg"
    dltb.to_file(src, driver="GPKG")
    from_store = service.report(store=store, landuse_layer="dltb")["landuse"]
    from_file = service.report(store=store, landuse_data=src)["landuse"]
    assert from_store["feature_count"] == 600
    assert from_store == from_file


def test_import_geoparquet_and_shapefile_equal(tmp_path: Path) -> None:
    src = synthetic_dltb(10, 2).to_crs("EPSG:4526")
    src.to_parquet(tmp_path / "dltb.parquet")
    src.to_file(tmp_path / "dltb.shp")
    store_dir = tmp_path / "layers"
    for name, layer_id in (("dltb.parquet", "pq"), ("dltb.shp", "shp")):
        assert main(["store", "import", str(tmp_path / name), "--id", layer_id, "--store", str(store_dir)]) == 0
    store = LayerStore(store_dir)
    assert store.count("pq") == 20
    assert store.query("pq").equals(store.query("shp"))
    (tmp_path / "plain.parquet").write_bytes((tmp_path / "dltb.parquet").read_bytes()[:100])
    assert main(["store", "import", str(tmp_path / "plain.parquet"), "--id", "bad", "--store", str(store_dir)]) == 2
