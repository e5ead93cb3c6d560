"""Issue 15 acceptance: a 1 M-图斑 三调 DLTB as a large layer, on GeoPackage and on PostGIS.

Run on demand (several minutes per backend at 1 M)::

    python benchmarks/sandiao_bench.py [--count 1000000] [--backends gpkg postgis] [--database-url URL]

It generates (or reuses) the synthetic FileGDB of ``benchmarks/sandiao_gdb.py`` (``var/bench/``), copies the
bundled layers into a temporary store (the red line and the towns the accounting and the overlap use),
then for each backend measures what the app does, through the app's own API:

* **import**: ``gisapp.io.largeimport.import_large`` (what ``gisapp store import`` runs) of layer DLTB
  from the ``.gdb`` into the store's backend (streamed in batches, EPSG:4526 → EPSG:4326);
* **tiles**: 200 random tiles, 40 at each zoom 12–16 (centres uniform over the layer), ``GET
  /tiles/<id>/<z>/<x>/<y>.mvt`` through the Flask test client — p50/p95/max, and per zoom the p95 and
  the mean features per tile. Below the layer's ``tile_min_zoom`` the store serves an empty tile by
  design (too many features to draw); what the backend would take there is printed beside it;
* **OGC page**: 100 random bboxes of a map view (about 1.2 km × 1 km) ``GET /ogc/collections/<id>/items
  ?bbox=…&limit=100`` through the test client (numberMatched + 100 features as GeoJSON);
* **accounting**: ``accounting.service.report(landuse_layer=<id>)`` with the default rule set (the 中山
  industrial red line and towns), which reads the 图斑 within the towns' extent through the backend;
* **overlap**: ``overlap.usecase.run_overlap`` of 10 000 random parcels (20–120 m rectangles, GeoParquet in
  EPSG:4547) with the DLTB as the target (and the towns): *clustered* (one 10 km × 10 km area, a town's
  batch) and *spread* (over the whole layer).

Issue 15's targets are printed in brackets: tile p95 < 100 ms, OGC bbox page < 200 ms, overlap of 10 k
parcels < 5 s. PostGIS runs in a throwaway cluster on a unix socket (``tests/pg.py``) unless
``--database-url`` is given. Everything runs in this process on 127.0.0.1 resources only.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.sandiao_gdb import default_path, generate, write_gdb  # noqa: E402
from gisapp.store.layerstore import LayerMeta  # noqa: E402

LAYER = "sandiao-dltb"
TILE_ZOOMS = (12, 13, 14, 15, 16)
TILES_PER_ZOOM = 40
OGC_PAGES = 100
VIEW_DEG = (0.012, 0.009)  # a map view at zoom ~16: about 1.2 km × 1 km near 22.5°N
PARCELS = 10_000


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (linear interpolation) of ``values``; NaN when empty."""
    return float(np.percentile(np.asarray(values), q)) if values else math.nan


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """``(seconds, result)`` of one call."""
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def random_tiles(bounds: tuple[float, float, float, float], rng: np.random.Generator) -> list[tuple[int, int, int]]:
    """:data:`TILES_PER_ZOOM` XYZ tiles per zoom of :data:`TILE_ZOOMS`, centres uniform in ``bounds`` (EPSG:4326)."""
    out = []
    for z in TILE_ZOOMS:
        n = 2**z
        for _ in range(TILES_PER_ZOOM):
            lon, lat = rng.uniform(bounds[0], bounds[2]), rng.uniform(bounds[1], bounds[3])
            y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
            out.append((z, int((lon + 180) / 360 * n), int(y)))
    return out


def bench_tiles(client: Any, store: Any, tiles: list[tuple[int, int, int]]) -> dict[str, Any]:
    """Tile times through the app (ms), per zoom with mean features, and the backend's own time below
    ``tile_min_zoom`` (where the app answers an empty tile)."""
    import mapbox_vector_tile

    min_zoom = store.tile_min_zoom(LAYER)
    per_zoom: dict[int, list[float]] = {z: [] for z in TILE_ZOOMS}
    features: dict[int, list[int]] = {z: [] for z in TILE_ZOOMS}
    raw: dict[int, list[float]] = {z: [] for z in TILE_ZOOMS}
    client.get(f"/tiles/{LAYER}/{tiles[-1][0]}/{tiles[-1][1]}/{tiles[-1][2]}.mvt")  # warm-up
    for z, x, y in tiles:
        t0 = time.perf_counter()
        resp = client.get(f"/tiles/{LAYER}/{z}/{x}/{y}.mvt")
        per_zoom[z].append((time.perf_counter() - t0) * 1000)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        data = resp.get_data()
        features[z].append(len(mapbox_vector_tile.decode(data).get(LAYER, {}).get("features", [])) if data else 0)
        if z < min_zoom and len(raw[z]) < 10:  # what drawing it would cost (10 per zoom suffice)
            t0 = time.perf_counter()
            store.backend.tile(LAYER, z, x, y)
            raw[z].append((time.perf_counter() - t0) * 1000)
    every = [v for vs in per_zoom.values() for v in vs]
    return {
        "min_zoom": min_zoom,
        "p50": percentile(every, 50),
        "p95": percentile(every, 95),
        "max": max(every),
        "zoom": {
            z: (percentile(per_zoom[z], 95), float(np.mean(features[z])), percentile(raw[z], 95)) for z in TILE_ZOOMS
        },
    }


def bench_ogc(client: Any, bounds: tuple[float, float, float, float], rng: np.random.Generator) -> dict[str, float]:
    """OGC API items pages (limit 100) for random map-view bboxes through the app (ms)."""
    times, matched = [], []
    client.get(f"/ogc/collections/{LAYER}/items?limit=1&f=json")  # warm-up (pygeoapi config)
    for _ in range(OGC_PAGES):
        lon = rng.uniform(bounds[0], bounds[2] - VIEW_DEG[0])
        lat = rng.uniform(bounds[1], bounds[3] - VIEW_DEG[1])
        bbox = f"{lon:.6f},{lat:.6f},{lon + VIEW_DEG[0]:.6f},{lat + VIEW_DEG[1]:.6f}"
        t0 = time.perf_counter()
        resp = client.get(f"/ogc/collections/{LAYER}/items?bbox={bbox}&limit=100&f=json")
        times.append((time.perf_counter() - t0) * 1000)
        assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
        body = resp.get_json()
        matched.append(body.get("numberMatched", len(body["features"])))
    return {"p50": percentile(times, 50), "p95": percentile(times, 95), "matched": float(np.mean(matched))}


def bench_accounting(store: Any) -> dict[str, float]:
    """The land-use accounting of the default rule set on the stored DLTB (s), and its TBMJ check."""
    from gisapp.analysis.accounting import service

    seconds, out = timed(lambda: service.report(store=store, landuse_layer=LAYER))
    lu = out["landuse"]
    official = lu.get("official_area") or {}
    rows = official.get("by_class", [])
    diff = float(sum(r["difference_m2"] for r in rows))
    return {"seconds": seconds, "features": float(lu["feature_count"]), "tbmj_diff_m2": diff}


def random_parcels(bounds: tuple[float, float, float, float], rng: np.random.Generator) -> bytes:
    """:data:`PARCELS` rectangles of 20–120 m sides placed uniformly in ``bounds`` (EPSG:4326), as GeoParquet
    bytes in EPSG:4547 with ``parcel_id``."""
    lon, lat = rng.uniform(bounds[0], bounds[2], PARCELS), rng.uniform(bounds[1], bounds[3], PARCELS)
    centres = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326).to_crs(4547)
    w, h = rng.uniform(20, 120, PARCELS), rng.uniform(20, 120, PARCELS)
    x, y = centres.x.to_numpy(), centres.y.to_numpy()
    gdf = gpd.GeoDataFrame(
        {"parcel_id": [f"P{i:05d}" for i in range(PARCELS)]},
        geometry=shapely.box(x - w / 2, y - h / 2, x + w / 2, y + h / 2),
        crs=4547,
    )
    buf = io.BytesIO()
    gdf.to_parquet(buf)
    return buf.getvalue()


def bench_overlap(store: Any, parcels: bytes) -> dict[str, float]:
    """``run_overlap`` of the parcels with the DLTB as target (s), parcels touching a 图斑, 图斑 read."""
    from gisapp.analysis.overlap.usecase import run_overlap

    seconds, (analysis, info) = timed(lambda: run_overlap(parcels, "parcels.parquet", [LAYER], store=store))
    target = analysis.targets[0] if hasattr(analysis, "targets") else None
    hits = float((target.overlap_m2 > 0).sum()) if target is not None else math.nan
    read = float(len(target.control.geometries)) if target is not None else math.nan
    return {"seconds": seconds, "hits": hits, "read": read}


@contextlib.contextmanager
def database(kind: str, url: str) -> Iterator[str]:
    """The ``GISAPP_DATABASE_URL`` for ``kind``: "" for GeoPackage; ``url`` or a throwaway cluster for PostGIS."""
    if kind == "gpkg":
        yield ""
    elif url:
        yield url
    else:
        from tests.pg import throwaway_cluster

        with throwaway_cluster() as fresh:
            yield fresh


def _import_large() -> Callable[..., Any]:
    """``gisapp.io.largeimport.import_large``, what ``gisapp store import`` runs."""
    from gisapp.io.largeimport import import_large

    return import_large


def run_backend(kind: str, gdb: Path, database_url: str, skip_accounting: bool) -> dict[str, Any]:
    """Every measurement on one backend, in a fresh copy of the bundled store."""
    from gisapp.web import create_app
    from gisapp.web.context import STORE_KEY

    rng = np.random.default_rng(15)
    with tempfile.TemporaryDirectory(prefix=f"sandiao-{kind}-") as tmp, database(kind, database_url) as url:
        store_dir = Path(tmp) / "layers"
        shutil.copytree(REPO / "layers", store_dir, ignore=shutil.ignore_patterns(".store"))
        app = create_app({"GISAPP_LAYERS_DIR": str(store_dir), "GISAPP_DATABASE_URL": url, "TESTING": True})
        store = app.extensions[STORE_KEY]
        assert store.backend.name == kind, store.backend
        meta = LayerMeta(
            id=LAYER,
            title="地类图斑（合成三调样例）",
            title_en="DLTB (synthetic 三调 sample)",
            kind="upload",
            geometry_type="Polygon",
            source=f"benchmarks/sandiao_gdb.py ({gdb.name})",
            licence="synthetic",
            datum="CGCS2000 / 3-degree GK zone 38 (EPSG:4526) → WGS 84",
            geometry_basis="illustrative",
            description="synthetic 三调 DLTB for the large-layer benchmark",
        )
        import_s, stored = timed(lambda: _import_large()(store, gdb, meta, layer="DLTB"))
        print(f"[{kind}] imported {stored.feature_count:,} 图斑 in {import_s:.1f} s", file=sys.stderr)
        bounds = store.bounds(LAYER)
        client = app.test_client()
        tiles = bench_tiles(client, store, random_tiles(bounds, rng))
        print(f"[{kind}] tiles p95 {tiles['p95']:.1f} ms", file=sys.stderr)
        ogc = bench_ogc(client, bounds, rng)
        print(f"[{kind}] OGC pages p95 {ogc['p95']:.1f} ms", file=sys.stderr)
        lon0, lat0 = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
        window = (lon0 - 0.0487, lat0 - 0.045, lon0 + 0.0487, lat0 + 0.045)  # about 10 km × 10 km
        clustered = bench_overlap(store, random_parcels(window, rng))
        print(f"[{kind}] overlap clustered {clustered['seconds']:.1f} s", file=sys.stderr)
        spread = bench_overlap(store, random_parcels(bounds, rng))
        print(f"[{kind}] overlap spread {spread['seconds']:.1f} s", file=sys.stderr)
        accounting = None if skip_accounting else bench_accounting(store)
        if accounting:
            print(f"[{kind}] accounting {accounting['seconds']:.1f} s", file=sys.stderr)
        close = getattr(store.backend, "close", None)
        if close is not None:
            close()
        return {
            "import": import_s,
            "count": stored.feature_count,
            "tiles": tiles,
            "ogc": ogc,
            "clustered": clustered,
            "spread": spread,
            "accounting": accounting,
        }


def report(results: dict[str, dict[str, Any]]) -> str:
    """The printed table: one column per backend."""
    kinds = list(results)
    rows: list[tuple[str, list[str]]] = []

    def row(label: str, fmt: Callable[[dict[str, Any]], str]) -> None:
        rows.append((label, [fmt(results[k]) for k in kinds]))

    def acc(key: str, fmt: str) -> Callable[[dict[str, Any]], str]:
        return lambda r: "—" if r["accounting"] is None else format(r["accounting"][key], fmt)

    row("图斑 imported", lambda r: f"{r['count']:,}")
    row("import (s)", lambda r: f"{r['import']:.1f}")
    row(
        "tile p50 / p95 / max (ms)  [p95 < 100]",
        lambda r: f"{r['tiles']['p50']:.1f} / {r['tiles']['p95']:.1f} / {r['tiles']['max']:.0f}",
    )
    row("  tile_min_zoom (empty below)", lambda r: str(r["tiles"]["min_zoom"]))
    for z in TILE_ZOOMS:

        def zoom(r: dict[str, Any], z: int = z) -> str:
            p95, feats, raw = r["tiles"]["zoom"][z]
            extra = "" if math.isnan(raw) else f" (backend {raw:.0f})"
            return f"{p95:.1f}, {feats:.0f}{extra}"

        row(f"  z{z}: p95 ms, features/tile", zoom)
    row("OGC bbox page p50 / p95 (ms)  [< 200]", lambda r: f"{r['ogc']['p50']:.1f} / {r['ogc']['p95']:.1f}")
    row("  mean numberMatched", lambda r: f"{r['ogc']['matched']:.0f}")
    for name in ("clustered", "spread"):
        row(f"overlap 10k {name} (s)  [< 5]", lambda r, n=name: f"{r[n]['seconds']:.2f}")
        row("  parcels on 图斑 / 图斑 read", lambda r, n=name: f"{r[n]['hits']:,.0f} / {r[n]['read']:,.0f}")
    row("land-use accounting (s)", acc("seconds", ".1f"))
    row("  图斑 accounted", acc("features", ",.0f"))
    row("  Σ TBMJ − ellipsoidal (m²)", acc("tbmj_diff_m2", ",.0f"))
    width = max(len(label) for label, _ in rows) + 2
    cols = [max(len(k), *(len(v[i]) for _, v in rows)) + 2 for i, k in enumerate(kinds)]
    lines = ["".ljust(width) + "".join(k.rjust(c) for k, c in zip(kinds, cols))]
    lines += [label.ljust(width) + "".join(v.rjust(c) for v, c in zip(vals, cols)) for label, vals in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=1_000_000, help="图斑 in the generated DLTB (default 1 000 000)")
    ap.add_argument("--backends", nargs="+", default=["gpkg", "postgis"], choices=("gpkg", "postgis"))
    ap.add_argument("--database-url", default="", help="an existing PostGIS database (default: a throwaway cluster)")
    ap.add_argument("--regenerate", action="store_true", help="write the FileGDB again even if present")
    ap.add_argument("--skip-accounting", action="store_true", help="leave out the land-use accounting")
    args = ap.parse_args(argv)
    gdb = default_path(args.count, 4526)
    if args.regenerate or not gdb.exists():
        t0 = time.perf_counter()
        write_gdb(*generate(args.count, 5_000.0, 4526, 2019), gdb, zipped=False)
        print(f"[sandiao] generated {gdb} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    results = {kind: run_backend(kind, gdb, args.database_url, args.skip_accounting) for kind in args.backends}
    print(f"\n三调 DLTB as a large layer: {gdb.name} ({args.count:,} 图斑); issue 15 targets in brackets\n")
    print(report(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
