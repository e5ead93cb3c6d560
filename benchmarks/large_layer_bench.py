"""Benchmark of a large layer (a million 三调 地类图斑) in the GeoPackage backend, on data it generates itself.

Data (seeded, reproducible): ``--n`` 图斑 (default 1 000 000) tessellating the extent of the bundled 中山
镇街 layer (``zs-towns``): a grid whose shared corners and edge mid-points are jittered (8-vertex
polygons, no gaps, no overlaps; ≈ 1 800 m² each at 1M), with 三调 fields (TD/T 1057-2020 DLTB: BSM, TBBH,
DLBM, DLMC, QSDWMC, ZLDWMC, TBMJ, KCMJ) and DLBM codes of GB/T 21010-2017 drawn with weights like a
Pearl River Delta county's (paddy, orchards, ponds, rural homesteads, industrial land …). Written as a
File Geodatabase (``survey.gdb``, feature class ``DLTB`` in EPSG:4526, CGCS2000 3° zone 38), the format
officials exchange, unless ``--source gpkg``.

Measured in one run (the store: a copy of the bundled ``layers/`` plus the imported ``dltb``):

1. ``gisapp store import survey.gdb --id dltb --layer DLTB`` (streamed, reprojected to EPSG:4326);
2. vector tiles ``/tiles/dltb/z/x/y.mvt`` through the Flask app: ``--tiles`` random tiles holding 图斑
   at the layer's first three tile zoom levels (p50, p95; target p95 < 100 ms);
3. OGC API items ``/ogc/collections/dltb/items?bbox=…&limit=100``: random 2 km × 2 km boxes
   (p50, p95; target < 200 ms per page);
4. ``run_overlap`` of 10 000 parcels (50–150 m rectangles spread over the whole extent, GeoJSON) against
   the large layer (target < 5 s);
5. land-use accounting (``accounting report --landuse-layer dltb``) of the default rule set;

and, as the baseline in the same run, reading the whole layer into memory (``pyogrio.read_dataframe`` of
the GeoPackage): what every request would cost without the spatial index.

Run: ``python benchmarks/large_layer_bench.py [--n 1000000] [--workdir DIR] [--tiles 200] [--skip-accounting]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from gisapp.analysis.overlap.usecase import run_overlap  # noqa: E402
from gisapp.cli import main as cli  # noqa: E402
from gisapp.store.backends.mvt import tile_of  # noqa: E402
from gisapp.store.layerstore import LayerStore  # noqa: E402
from gisapp.web import create_app  # noqa: E402

#: DLBM codes (GB/T 21010-2017) and weights, roughly a Pearl River Delta county's 三调 mix.
CODES = {
    "0101": ("水田", 12),
    "0102": ("水浇地", 4),
    "0103": ("旱地", 3),
    "0201": ("果园", 8),
    "0204": ("其他园地", 2),
    "0301": ("乔木林地", 9),
    "0305": ("灌木林地", 2),
    "0404": ("其他草地", 2),
    "0601": ("工业用地", 10),
    "0602": ("采矿用地", 1),
    "0604": ("仓储用地", 1),
    "0701": ("城镇住宅用地", 8),
    "0702": ("农村宅基地", 9),
    "0505": ("商务金融用地", 2),
    "0803": ("教育用地", 1),
    "0810": ("公园与绿地", 1),
    "1003": ("公路用地", 2),
    "1004": ("城镇村道路用地", 3),
    "1006": ("农村道路", 3),
    "1101": ("河流水面", 3),
    "1104": ("坑塘水面", 9),
    "1107": ("沟渠", 2),
    "1202": ("设施农用地", 2),
    "1201": ("空闲地", 1),
}
TOWN_NAMES = [
    "石岐街道",
    "东区街道",
    "西区街道",
    "南区街道",
    "火炬开发区",
    "小榄镇",
    "古镇镇",
    "横栏镇",
    "三角镇",
    "民众街道",
]


def synthetic_dltb(n: int, bounds: tuple[float, float, float, float], seed: int = 1) -> gpd.GeoDataFrame:
    """``n`` (about: a full grid) 图斑 tessellating ``bounds`` (EPSG:4326), with 三调 fields; see the module docstring."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = bounds
    aspect = (x1 - x0) / (y1 - y0)
    cols = int(round(np.sqrt(n * aspect)))
    rows = int(np.ceil(n / cols))
    dx, dy = (x1 - x0) / cols, (y1 - y0) / rows
    gx, gy = np.meshgrid(x0 + np.arange(cols + 1) * dx, y0 + np.arange(rows + 1) * dy)
    cx = gx + rng.uniform(-0.3, 0.3, gx.shape) * dx  # shared jittered corners
    cy = gy + rng.uniform(-0.3, 0.3, gy.shape) * dy
    hx = (cx[:, :-1] + cx[:, 1:]) / 2 + rng.uniform(-0.1, 0.1, (rows + 1, cols)) * dx  # horizontal edge mid-points
    hy = (cy[:, :-1] + cy[:, 1:]) / 2 + rng.uniform(-0.1, 0.1, (rows + 1, cols)) * dy
    vx = (cx[:-1, :] + cx[1:, :]) / 2 + rng.uniform(-0.1, 0.1, (rows, cols + 1)) * dx  # vertical edge mid-points
    vy = (cy[:-1, :] + cy[1:, :]) / 2 + rng.uniform(-0.1, 0.1, (rows, cols + 1)) * dy
    r, c = np.divmod(np.arange(rows * cols), cols)
    ring = [
        (cx[r, c], cy[r, c]), (hx[r, c], hy[r, c]), (cx[r, c + 1], cy[r, c + 1]), (vx[r, c + 1], vy[r, c + 1]),
        (cx[r + 1, c + 1], cy[r + 1, c + 1]), (hx[r + 1, c], hy[r + 1, c]), (cx[r + 1, c], cy[r + 1, c]),
        (vx[r, c], vy[r, c]), (cx[r, c], cy[r, c]),
    ]  # fmt: skip
    coords = np.stack([np.stack(p, axis=-1) for p in ring], axis=1)
    geoms = shapely.polygons(coords)[:n]
    codes = np.array(list(CODES))
    weights = np.array([w for _, w in CODES.values()], dtype=float)
    dlbm = rng.choice(codes, size=len(geoms), p=weights / weights.sum())
    names = np.array([CODES[k][0] for k in dlbm])
    gdf = gpd.GeoDataFrame(
        {
            "BSM": np.char.add("442000", np.char.zfill(np.arange(1, len(geoms) + 1).astype(str), 12)),
            "TBBH": np.arange(1, len(geoms) + 1).astype(str),
            "DLBM": dlbm,
            "DLMC": names,
            "QSDWMC": np.array(TOWN_NAMES)[r[:n] * len(TOWN_NAMES) // rows] + "农民集体",
            "ZLDWMC": np.array(TOWN_NAMES)[c[:n] * len(TOWN_NAMES) // cols],
        },
        geometry=geoms,
        crs="EPSG:4326",
    )
    gdf = gdf.to_crs("EPSG:4526")
    area = shapely.area(gdf.geometry.to_numpy())
    gdf["TBMJ"] = np.round(area * (1 + rng.normal(0, 0.002, len(area))), 2)  # official ellipsoidal ≈ planar ± 0.2 %
    gdf["KCMJ"] = np.where(np.isin(dlbm, ["0101", "0102", "0103"]), np.round(gdf["TBMJ"] * 0.05, 2), 0.0)
    return gdf


def parcels_geojson(n: int, bounds: tuple[float, float, float, float], seed: int = 2) -> bytes:
    """``n`` rectangular parcels, 50–150 m a side, at random points of ``bounds`` (EPSG:4326), as GeoJSON."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(bounds[0], bounds[2] - 0.002, n)
    y = rng.uniform(bounds[1], bounds[3] - 0.002, n)
    w = rng.uniform(50, 150, n) / 102_000
    h = rng.uniform(50, 150, n) / 111_000
    feats = [
        {
            "type": "Feature",
            "properties": {"pid": f"P{k:05d}"},
            "geometry": {"type": "Polygon", "coordinates": [[[a, b], [a + c, b], [a + c, b + d], [a, b + d], [a, b]]]},
        }
        for k, (a, b, c, d) in enumerate(zip(x.round(7), y.round(7), w.round(7), h.round(7)))
    ]
    return json.dumps({"type": "FeatureCollection", "features": feats}).encode()


def pct(values: list[float], q: float) -> float:
    """The ``q``-th percentile of ``values`` in ms."""
    return float(np.percentile(np.asarray(values) * 1000, q))


def main() -> int:
    """Generate, import, measure, print the table (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--workdir")
    ap.add_argument("--tiles", type=int, default=200)
    ap.add_argument("--pages", type=int, default=100)
    ap.add_argument("--parcels", type=int, default=10_000)
    ap.add_argument("--source", choices=("gdb", "gpkg"), default="gdb")
    ap.add_argument("--skip-accounting", action="store_true")
    ap.add_argument("--reuse", action="store_true", help="keep the store of an earlier run in --workdir (no import)")
    args = ap.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="large-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    store_dir = work / "layers"
    rows: list[tuple[str, str, str]] = []
    reuse = args.reuse and (store_dir / "large" / "dltb.gpkg").exists()
    if not reuse:
        if store_dir.exists():
            shutil.rmtree(store_dir)
        shutil.copytree(REPO / "layers", store_dir, ignore=shutil.ignore_patterns(".store"))
    bounds = tuple(float(v) for v in LayerStore(store_dir).bounds("zs-towns"))
    if not reuse:
        t = time.perf_counter()
        gdf = synthetic_dltb(args.n, bounds)  # type: ignore[arg-type]
        src = work / ("survey.gdb" if args.source == "gdb" else "survey.gpkg")
        if src.exists():
            shutil.rmtree(src) if src.is_dir() else src.unlink()
        driver = "OpenFileGDB" if args.source == "gdb" else "GPKG"
        pyogrio.write_dataframe(gdf, src, layer="DLTB", driver=driver)
        del gdf
        rows.append(("generate + write source", f"{time.perf_counter() - t:.1f} s", f"{args.n} 图斑, {driver}"))
        t = time.perf_counter()
        argv = [
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
        assert cli(argv) == 0
        rows.append(("store import (GeoPackage)", f"{time.perf_counter() - t:.1f} s", "streamed, 50 000 a batch"))

    store = LayerStore(store_dir)
    t = time.perf_counter()
    whole = pyogrio.read_dataframe(store_dir / "large" / "dltb.gpkg")  # the baseline: what a whole read costs
    rows.append(("baseline: read the whole layer", f"{time.perf_counter() - t:.2f} s", f"{len(whole)} features"))
    del whole

    app = create_app({"GISAPP_LAYERS_DIR": str(store_dir)})
    client = app.test_client()
    rng = np.random.default_rng(3)
    z0 = store.tile_min_zoom("dltb")
    times, cpu, sizes = [], [], []
    for k in range(args.tiles):
        z = z0 + k % 3
        lon, lat = rng.uniform(bounds[0], bounds[2]), rng.uniform(bounds[1], bounds[3])
        x, y = tile_of(lon, lat, z)
        t, c = time.perf_counter(), time.process_time()
        r = client.get(f"/tiles/dltb/{z}/{x}/{y}.mvt")
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        assert r.status_code == 200
        sizes.append(len(r.data))
    rows.append(
        (
            f"tile z{z0}–{z0 + 2} p50 / p95",
            f"{pct(times, 50):.0f} / {pct(times, 95):.0f} ms",
            f"target p95 < 100 ms; CPU p50/p95 {pct(cpu, 50):.0f}/{pct(cpu, 95):.0f} ms; "
            f"median {np.median(sizes) / 1024:.0f} KiB",
        )
    )

    client.get("/ogc/collections/dltb/items?f=json&limit=1")  # builds the OGC API once
    times, cpu, matched = [], [], []
    for _ in range(args.pages):
        lon, lat = rng.uniform(bounds[0], bounds[2] - 0.02), rng.uniform(bounds[1], bounds[3] - 0.018)
        bbox = f"{lon:.5f},{lat:.5f},{lon + 0.0195:.5f},{lat + 0.018:.5f}"
        t, c = time.perf_counter(), time.process_time()
        r = client.get("/ogc/collections/dltb/items", query_string={"f": "json", "bbox": bbox, "limit": 100})
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        assert r.status_code == 200, r.data[:200]
        matched.append(r.get_json()["numberMatched"])
    rows.append(
        (
            "OGC items bbox page p50 / p95",
            f"{pct(times, 50):.0f} / {pct(times, 95):.0f} ms",
            f"target < 200 ms; CPU p50/p95 {pct(cpu, 50):.0f}/{pct(cpu, 95):.0f} ms; 2 km boxes, limit 100, "
            f"~{int(np.median(matched))} matched",
        )
    )

    data = parcels_geojson(args.parcels, bounds)  # type: ignore[arg-type]
    t, c = time.perf_counter(), time.process_time()
    analysis, info = run_overlap(data, "parcels.geojson", ["dltb"], id_field="pid", store=store)
    took, took_cpu = time.perf_counter() - t, time.process_time() - c
    touched = int(analysis.frame()["overlaps"].sum())
    rows.append(
        (
            f"overlap {args.parcels} parcels × dltb",
            f"{took:.2f} s",
            f"target < 5 s; CPU {took_cpu:.2f} s; {touched} parcels touch 图斑",
        )
    )

    if not args.skip_accounting:
        from gisapp.analysis.accounting import service

        t, c = time.perf_counter(), time.process_time()
        rep = service.report(store=store, landuse_layer="dltb")
        took, took_cpu = time.perf_counter() - t, time.process_time() - c
        lu = rep["landuse"]
        rows.append(
            (
                "land-use accounting (dltb)",
                f"{took:.1f} s",
                f"CPU {took_cpu:.1f} s; {lu['feature_count']} 图斑, {len(lu['by_class'])} classes",
            )
        )

    width = max(len(r[0]) for r in rows)
    print(f"\nlarge layer benchmark: {args.n} synthetic 三调 DLTB 图斑, GeoPackage backend ({work})")
    for name, value, note in rows:
        print(f"  {name:<{width}}  {value:>18}  {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
