"""Zonal statistics on rasters generated here, over the real layers, with figures computed by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from gisapp.analysis.accounting.areas import ellipsoidal_m2
from gisapp.analysis.zonalstats import zonal_stats
from gisapp.cli import main
from gisapp.core.crs import PROJECTED
from gisapp.core.errors import InputError
from gisapp.store.layerstore import read_layer
from tests.helpers import ZHONGSHANGANG

pytest.importorskip("exactextract")

P = 100.0  # pixel size, metres


def _origin() -> tuple[float, float]:
    """A pixel-aligned origin (x0, y_top) 5 km west and north of 中山港街道's seat, EPSG:4547."""
    p = gpd.GeoSeries([shapely.Point(*ZHONGSHANGANG)], crs="EPSG:4326").to_crs(PROJECTED).iloc[0]
    return float(np.floor(p.x / P) * P - 5000), float(np.floor(p.y / P) * P + 5000)


def write(path, arr, crs, transform, nodata=None, dtype=None):
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=arr.shape[1],
        height=arr.shape[0],
        count=1,
        dtype=dtype or arr.dtype,
        crs=crs,
        transform=transform,
        nodata=nodata,
    ) as ds:
        ds.write(arr, 1)
    return path


@pytest.fixture()
def split_raster(tmp_path):
    """100 × 100 pixels of 100 m: class 1 in columns 0-49, class 2 in 50-99; the top 10 rows are nodata (255)."""
    x0, ytop = _origin()
    arr = np.where(np.arange(100)[None, :] < 50, 1, 2).repeat(100, axis=0).astype("uint8")
    arr[:10, :] = 255
    return write(tmp_path / "split.tif", arr, PROJECTED, from_origin(x0, ytop, P, P), nodata=255), (x0, ytop)


def zones_for(geoms, names, crs=PROJECTED):
    return gpd.GeoDataFrame({"name": names}, geometry=geoms, crs=crs)


def test_categorical_partial_pixels_and_nodata_by_hand(split_raster):
    path, (x0, ytop) = split_raster
    xs = x0 + 50 * P  # the class boundary
    # Z1: 2 km × 2 km from xs − 950 to xs + 1050; its edges run through pixel middles → partial pixels
    z1 = shapely.box(xs - 950, ytop - 4950, xs + 1050, ytop - 2950)
    # Z2: 1 km × 1 km, its top half above the raster, its bottom half on the nodata rows 0-4
    z2 = shapely.box(x0 + 1000, ytop - 500, x0 + 2000, ytop + 500)
    r = zonal_stats(path, zones_for([z1, z2], ["Z1", "Z2"]).to_crs("EPSG:4326")).to_json_dict()
    assert r["raster"]["crs"] == "EPSG:4547" and r["raster"]["nodata"] == 255
    a = {c["value"]: c for c in r["zones"][0]["classes"]}
    # Z1: class 1 = 950 m × 2000 m, class 2 = 1050 m × 2000 m
    assert a["1"]["planar_m2"] == pytest.approx(950 * 2000, rel=1e-6)
    assert a["2"]["planar_m2"] == pytest.approx(1050 * 2000, rel=1e-6)
    assert a["1"]["planar_ha"] == pytest.approx(190, abs=1e-3) and a["2"]["share_pct"] == pytest.approx(52.5, abs=1e-3)
    assert abs(a["1"]["ellipsoidal_m2"] / a["1"]["planar_m2"] - 1) < 1e-3
    assert r["zones"][0]["nodata_or_outside_planar_m2"] == pytest.approx(0, abs=1)
    # Z2: 1 km² of which 500 m × 1000 m outside the raster and 500 m × 1000 m on nodata rows: nothing valid
    z2r = r["zones"][1]
    assert z2r["classes"] == [] and z2r["nodata_or_outside_planar_m2"] == pytest.approx(1e6, rel=1e-6)


def test_nodata_override(split_raster):
    path, (x0, ytop) = split_raster
    z = shapely.box(x0, ytop - 1000, x0 + 1000, ytop)  # rows 0-9, columns 0-9: all 255
    r = zonal_stats(path, zones_for([z], ["Z"]), nodata=1).to_json_dict()  # now 255 is data, class 1 is nodata
    z0 = r["zones"][0]
    assert [c["value"] for c in z0["classes"]] == ["255"] and z0["classes"][0]["planar_m2"] == pytest.approx(
        1e6, rel=1e-9
    )


def test_constant_raster_over_the_real_red_line_equals_block_areas(tmp_path):
    """A raster of class 7 covering the whole bundled red line: each block's class area is the block's area."""
    line = read_layer("zs-industrial-redline")
    b = line.to_crs(PROJECTED).total_bounds
    x0, ytop = np.floor(b[0] / 50) * 50 - 100, np.ceil(b[3] / 50) * 50 + 100
    w, h = int((b[2] - x0) / 50) + 3, int((ytop - b[1]) / 50) + 3
    path = write(tmp_path / "c.tif", np.full((h, w), 7, "uint8"), PROJECTED, from_origin(x0, ytop, 50, 50))
    r = zonal_stats(path, line, label_field="block_id").to_json_dict()
    geoms = line.to_crs(PROJECTED).geometry.to_numpy()
    ell = ellipsoidal_m2(geoms)
    assert len(r["zones"]) == 8
    for z, g, e in zip(r["zones"], geoms, ell):
        (c,) = z["classes"]
        assert c["value"] == "7"
        assert c["planar_m2"] == pytest.approx(g.area, rel=1e-6)
        assert c["ellipsoidal_m2"] == pytest.approx(e, rel=2e-5)
        assert c["share_pct"] == pytest.approx(100, abs=1e-3)


def test_geographic_raster_gives_the_same_areas(tmp_path):
    """The same idea with a raster in EPSG:4326 (0.0005° pixels): the pixel footprints are measured in EPSG:4547."""
    towns = read_layer("zs-towns")
    town = towns[towns["name"] == "中山港街道"]
    minx, miny, maxx, maxy = town.total_bounds
    res = 0.0005
    x0, ytop = np.floor(minx / res) * res - res, np.ceil(maxy / res) * res + res
    w, h = int((maxx - x0) / res) + 3, int((ytop - miny) / res) + 3
    path = write(tmp_path / "g.tif", np.full((h, w), 3, "uint8"), "EPSG:4326", from_origin(x0, ytop, res, res))
    r = zonal_stats(path, town).to_json_dict()
    (c,) = r["zones"][0]["classes"]
    g = town.to_crs(PROJECTED).geometry.iloc[0]
    assert c["planar_m2"] == pytest.approx(g.area, rel=1e-4)
    assert c["ellipsoidal_m2"] == pytest.approx(float(ellipsoidal_m2([g])[0]), rel=1e-4)
    assert r["raster"]["crs"] == "EPSG:4326"


def test_continuous_count_mean_min_max_by_hand(tmp_path):
    x0, ytop = _origin()
    arr = np.tile(np.arange(100, dtype="float32"), (100, 1))  # value = column index
    arr[:, 12] = -9999
    path = write(tmp_path / "v.tif", arr, PROJECTED, from_origin(x0, ytop, P, P), nodata=-9999)
    # columns 10-19, rows 5-14, exactly on pixel edges
    z = shapely.box(x0 + 10 * P, ytop - 15 * P, x0 + 20 * P, ytop - 5 * P)
    # half-pixel zone: columns 30.5-31.5 → half of column 30 and half of 31 (rows 0-1)
    zh = shapely.box(x0 + 30.5 * P, ytop - 2 * P, x0 + 31.5 * P, ytop)
    r = zonal_stats(path, zones_for([z, zh], ["Z", "H"]), mode="continuous").to_json_dict()
    a, hrow = r["zones"]
    assert a["pixel_count"] == 90 and a["weighted_count"] == pytest.approx(90)
    assert a["mean"] == pytest.approx((sum(range(10, 20)) - 12) / 9, rel=1e-6)
    assert a["min"] == 10 and a["max"] == 19
    assert a["nodata_or_outside_planar_m2"] == pytest.approx(10 * P * P, rel=1e-6)
    assert hrow["pixel_count"] == 4 and hrow["weighted_count"] == pytest.approx(2.0)
    assert hrow["mean"] == pytest.approx(30.5) and hrow["min"] == 30 and hrow["max"] == 31


def test_errors(tmp_path, split_raster):
    path, _ = split_raster
    z = zones_for([shapely.box(0, 0, 1, 1)], ["Z"])
    with pytest.raises(InputError) as exc:
        zonal_stats(tmp_path / "none.tif", z)
    assert exc.value.code == "missing_file"
    bad = tmp_path / "nocrs.tif"
    with rasterio.open(bad, "w", driver="GTiff", width=2, height=2, count=1, dtype="uint8") as ds:
        ds.write(np.zeros((2, 2), "uint8"), 1)
    with pytest.raises(InputError) as exc:
        zonal_stats(bad, z)
    assert exc.value.code == "missing_crs"
    with pytest.raises(InputError) as exc:
        zonal_stats(path, z, band=2)
    assert exc.value.code == "invalid_band"
    with pytest.raises(InputError) as exc:
        zonal_stats(path, z, mode="fancy")
    assert exc.value.code == "invalid_mode"
    (tmp_path / "junk.tif").write_bytes(b"not a raster")
    with pytest.raises(InputError) as exc:
        zonal_stats(tmp_path / "junk.tif", z)
    assert exc.value.code == "unreadable_raster"


def test_cli_and_api(split_raster, capsys, client):
    path, _ = split_raster
    assert main(["accounting", "zonal", str(path), "--zones", "zs-towns", "--format", "csv", "--bom"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("\ufeffzone,value,label,planar_m2") and "中山港街道,2," in text
    with open(path, "rb") as fh:
        r = client.post("/api/accounting/zonal?zones=zs-towns&mode=continuous", data={"file": (fh, "split.tif")})
    assert r.status_code == 200 and r.json["raster"]["path"] == "split.tif"
    rows = {z["zone"]: z for z in r.json["zones"]}
    assert rows["中山港街道"]["pixel_count"] > 0 and rows["石岐街道"]["pixel_count"] == 0
    r = client.post("/api/accounting/zonal?zones=zs-towns", data={})
    assert r.status_code == 400 and r.json["error"] == "missing_file"
