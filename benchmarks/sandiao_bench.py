"""Issue 15 acceptance: a 1 M-图斑 三调 DLTB in the large-layer backends (GeoPackage and PostGIS).

Run on demand (a few minutes per backend at 1 M)::

    python benchmarks/sandiao_bench.py [--count 1000000] [--backends gpkg postgis] [--database-url URL]

It generates (or reuses) the synthetic FileGDB of :mod:`benchmarks.sandiao_gdb`, then for each backend:

* **import**: DLTB read from the FileGDB in chunks of 100 000 (pyogrio, OpenFileGDB), reprojected from
  EPSG:4526 to EPSG:4326, written with ``FeatureBackend.write`` (GeoPackage: R-tree; PostGIS: COPY + GiST);
* **tiles**: ~200 random tiles at zooms 12–16 over the layer (40 per zoom), ``FeatureBackend.tile``
  (MVT) — p50 / p95 / max in ms, and p95 per zoom with the mean features per tile;
* **OGC page**: 100 random bboxes of a map view (~1.2 km × 1 km) with ``limit=100``: ``count(bbox)``
  (numberMatched) + ``query(bbox, limit=100)`` + GeoJSON text — what an OGC items page does;
* **accounting**: the whole layer read through the backend (``query()``), then the land-use accounting of the
  default rule set (中山 industrial red line and towns of the bundled store) on it;
* **overlap**: 10 000 random parcels (20–120 m rectangles) checked against the DLTB as a target: the 图斑
  under the parcels' extent read through the backend (``query(bbox)``), then the overlap engine. Two
  layouts: *clustered* (the parcels of one 10 km × 10 km area, as a town's batch) and *spread* (over
  the whole layer, so the whole layer is read).

The acceptance targets (issue 15): tile p95 < 100 ms, OGC bbox page p95 < 200 ms, overlap of 10 k parcels
< 5 s. PostGIS runs in a throwaway cluster on a unix socket (tests/pg.py) unless ``--database-url`` is given.

TODO(lead, after merging the gpkg helper's branch): measure tiles and OGC pages through the app
(``create_app(...).test_client()`` on the MVT route and ``/ogc/collections/<id>/items?bbox=…&limit=100``)
and import with ``gisapp store import`` instead of calling the backends directly; the backend calls
here are what those routes do underneath.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.sandiao_gdb import default_path, generate, write_gdb  # noqa: E402
from gisapp.store.backends.base import FeatureBackend  # noqa: E402

LAYER = "sandiao-dltb"
CHUNK = 100_000
TILE_ZOOMS = (12, 13, 14, 15, 16)
TILES_PER_ZOOM = 40
OGC_PAGES = 100
VIEW_DEG = (0.012, 0.009)  # a map view at zoom ~16: about 1.2 km × 1 km near 22.5°N
PARCELS = 10_000


def dltb_chunks(gdb: Path) -> Iterator[gpd.GeoDataFrame]:
    """The DLTB of ``gdb`` in chunks of :data:`CHUNK`, reprojected to EPSG:4326."""
    total = int(pyogrio.read_info(gdb, layer="DLTB")["features"])
    for start in range(0, total, CHUNK):
        part = pyogrio.read_dataframe(gdb, layer="DLTB", skip_features=start, max_features=CHUNK, use_arrow=True)
        yield part.to_crs(4326)


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (linear) of ``values``."""
    return float(np.percentile(np.asarray(values), q))


def random_tiles(bounds: tuple[float, float, float, float], rng: np.random.Generator) -> list[tuple[int, int, int]]:
    """:data:`TILES_PER_ZOOM` random XYZ tiles per zoom of :data:`TILE_ZOOMS` whose centre lies in ``bounds``."""
    out = []
    for z in TILE_ZOOMS:
        n = 2**z
        for _ in range(TILES_PER_ZOOM):
            lon = rng.uniform(bounds[0], bounds[2])
            lat = rng.uniform(bounds[1], bounds[3])
            x = int((lon + 180) / 360 * n)
            y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
            out.append((z, x, y))
    return out


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """``(seconds, result)`` of one call."""
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def bench_tiles(backend: FeatureBackend, tiles: list[tuple[int, int, int]]) -> dict[str, Any]:
    """Tile times (ms) overall and per zoom, and mean features per tile."""
    import mapbox_vector_tile

    per_zoom: dict[int, list[float]] = {z: [] for z in TILE_ZOOMS}
    features: dict[int, list[int]] = {z: [] for z in TILE_ZOOMS}
    backend.tile(LAYER, *tiles[0])  # warm-up (connection, caches)
    for z, x, y in tiles:
        s, data = timed(lambda: backend.tile(LAYER, z, x, y))
        per_zoom[z].append(s * 1000)
        decoded = mapbox_vector_tile.decode(data) if data else {}
        features[z].append(len(decoded.get(LAYER, {}).get("features", [])))
    every = [v for vs in per_zoom.values() for v in vs]
    return {
        "p50": percentile(every, 50),
        "p95": percentile(every, 95),
        "max": max(every),
        "zoom": {z: (percentile(per_zoom[z], 95), float(np.mean(features[z]))) for z in TILE_ZOOMS},
    }


def bench_ogc(
    backend: FeatureBackend, bounds: tuple[float, float, float, float], rng: np.random.Generator
) -> dict[str, float]:
    """OGC-style items pages: numberMatched + 100 features as GeoJSON, per random map-view bbox (ms)."""
    times = []
    matched = []
    for _ in range(OGC_PAGES):
        lon = rng.uniform(bounds[0], bounds[2] - VIEW_DEG[0])
        lat = rng.uniform(bounds[1], bounds[3] - VIEW_DEG[1])
        bbox = (lon, lat, lon + VIEW_DEG[0], lat + VIEW_DEG[1])

        def page(bbox: tuple[float, float, float, float] = bbox) -> int:
            n = backend.count(LAYER, bbox)
            gdf = backend.query(LAYER, bbox, limit=100)
            gdf.to_json()
            return n

        s, n = timed(page)
        times.append(s * 1000)
        matched.append(n)
    return {"p50": percentile(times, 50), "p95": percentile(times, 95), "matched": float(np.mean(matched))}


def bench_accounting(backend: FeatureBackend) -> dict[str, float]:
    """Read the whole layer through the backend, then the land-use accounting of the default rule set."""
    from gisapp.analysis.accounting import landuse, service
    from gisapp.analysis.accounting.rules import DEFAULT_RULESET
    from gisapp.store.layerstore import LayerStore

    read_s, frame = timed(lambda: backend.query(LAYER))
    store = LayerStore(REPO / "layers")
    # TODO(lead): service.report(..., landuse_layer=LAYER) once the store reads large layers through the backend
    ruleset, prepared, units, _, _ = service._context(DEFAULT_RULESET, None, store)
    dictionary = landuse.load_dictionary(landuse.DLTB_DICTIONARY)

    def account() -> Any:
        return landuse.landuse_accounting(
            frame, None, dictionary, landuse.predicate_for(ruleset, dictionary, None), prepared, units
        )

    acc_s, result = timed(account)
    official = result.official_area
    diff = float(sum(r.difference_m2 for r in official.by_class)) if official is not None else float("nan")
    return {"read": read_s, "accounting": acc_s, "features": float(result.feature_count), "tbmj_diff_m2": diff}


def random_parcels(bounds: tuple[float, float, float, float], rng: np.random.Generator) -> gpd.GeoDataFrame:
    """:data:`PARCELS` rectangles of 20–120 m sides, uniformly placed in ``bounds`` (EPSG:4326), in EPSG:4547."""
    lon = rng.uniform(bounds[0], bounds[2], PARCELS)
    lat = rng.uniform(bounds[1], bounds[3], PARCELS)
    centres = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326).to_crs(4547)
    w, h = rng.uniform(20, 120, PARCELS), rng.uniform(20, 120, PARCELS)
    x, y = centres.x.to_numpy(), centres.y.to_numpy()
    geoms = shapely.box(x - w / 2, y - h / 2, x + w / 2, y + h / 2)
    return gpd.GeoDataFrame({"parcel_id": [f"P{i:05d}" for i in range(PARCELS)]}, geometry=geoms, crs=4547)


def bench_overlap(backend: FeatureBackend, parcels: gpd.GeoDataFrame) -> dict[str, float]:
    """Overlap of ``parcels`` with the DLTB read through the backend (the parcels' extent)."""
    from gisapp.analysis.overlap.engine import analyse
    from gisapp.analysis.overlap.targets import control_from_frame

    extent = tuple(float(v) for v in parcels.to_crs(4326).total_bounds)
    t0 = time.perf_counter()
    targets = backend.query(LAYER, extent)  # type: ignore[arg-type]
    t1 = time.perf_counter()
    control = control_from_frame(targets, LAYER, id_field="BSM")
    result = analyse(parcels, [control])
    t2 = time.perf_counter()
    hits = int((result.results[0].overlap_m2 > 0).sum())
    return {"read": t1 - t0, "analysis": t2 - t1, "total": t2 - t0, "targets": float(len(targets)), "hits": float(hits)}


@contextlib.contextmanager
def open_backend(kind: str, database_url: str | None, workdir: Path) -> Iterator[FeatureBackend]:
    """The backend ``kind`` (``gpkg`` in ``workdir``, ``postgis`` on ``database_url`` or a throwaway cluster)."""
    if kind == "gpkg":
        from gisapp.store.backends.gpkg import GpkgBackend  # type: ignore[import-not-found,unused-ignore]

        yield GpkgBackend(workdir / "large")
        return
    from gisapp.store.backends.postgis import PostgisBackend

    if database_url:
        backend = PostgisBackend(database_url, schema=f"bench_{uuid.uuid4().hex[:8]}")
        try:
            yield backend
        finally:
            backend.drop(LAYER)
            backend.close()
        return
    from tests.pg import throwaway_cluster

    with throwaway_cluster() as url:
        backend = PostgisBackend(url)
        try:
            yield backend
        finally:
            backend.close()


def run_backend(kind: str, gdb: Path, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Every measurement on one backend."""
    rng = np.random.default_rng(15)
    with open_backend(kind, args.database_url, workdir) as backend:
        import_s, count = timed(lambda: backend.write(LAYER, dltb_chunks(gdb)))
        print(f"[{kind}] imported {count:,} 图斑 in {import_s:.1f} s", file=sys.stderr)
        bounds = backend.bounds(LAYER)
        tiles = bench_tiles(backend, random_tiles(bounds, rng))
        print(f"[{kind}] tiles p95 {tiles['p95']:.1f} ms", file=sys.stderr)
        ogc = bench_ogc(backend, bounds, rng)
        print(f"[{kind}] OGC pages p95 {ogc['p95']:.1f} ms", file=sys.stderr)
        lon0, lat0 = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
        window = (lon0 - 0.0487, lat0 - 0.045, lon0 + 0.0487, lat0 + 0.045)  # 10 km × 10 km
        clustered = bench_overlap(backend, random_parcels(window, rng))
        print(f"[{kind}] overlap (clustered) {clustered['total']:.1f} s", file=sys.stderr)
        spread = bench_overlap(backend, random_parcels(bounds, rng))
        print(f"[{kind}] overlap (spread) {spread['total']:.1f} s", file=sys.stderr)
        accounting = bench_accounting(backend) if not args.skip_accounting else None
        return {
            "import": import_s,
            "count": count,
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

    row("features", lambda r: f"{r['count']:,}")
    row("import (s)", lambda r: f"{r['import']:.1f}")
    row(
        "tile p50 / p95 / max (ms)  [< 100]",
        lambda r: f"{r['tiles']['p50']:.1f} / {r['tiles']['p95']:.1f} / {r['tiles']['max']:.0f}",
    )
    for z in TILE_ZOOMS:
        row(
            f"  z{z} p95 (ms), mean features",
            lambda r, z=z: f"{r['tiles']['zoom'][z][0]:.1f}, {r['tiles']['zoom'][z][1]:.0f}",
        )
    row("OGC bbox page p50 / p95 (ms)  [< 200]", lambda r: f"{r['ogc']['p50']:.1f} / {r['ogc']['p95']:.1f}")
    row("  mean numberMatched", lambda r: f"{r['ogc']['matched']:.0f}")
    for name in ("clustered", "spread"):
        row(f"overlap 10k {name} (s)  [< 5]", lambda r, n=name: f"{r[n]['total']:.2f}")
        row(
            "  read / analysis (s), 图斑 read",
            lambda r, n=name: f"{r[n]['read']:.2f} / {r[n]['analysis']:.2f}, {r[n]['targets']:,.0f}",
        )
    row("accounting: read all (s)", lambda r: "—" if r["accounting"] is None else f"{r['accounting']['read']:.1f}")
    row(
        "accounting: land use (s)", lambda r: "—" if r["accounting"] is None else f"{r['accounting']['accounting']:.1f}"
    )
    row(
        "  TBMJ − ellipsoidal (m², all classes)",
        lambda r: "—" if r["accounting"] is None else f"{r['accounting']['tbmj_diff_m2']:,.0f}",
    )
    width = max(len(label) for label, _ in rows) + 2
    cols = [max(len(k), *(len(v[i]) for _, v in rows)) + 2 for i, k in enumerate(kinds)]
    lines = ["".ljust(width) + "".join(k.rjust(c) for k, c in zip(kinds, cols))]
    lines += [label.ljust(width) + "".join(v.rjust(c) for v, c in zip(vals, cols)) for label, vals in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=1_000_000)
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
    results: dict[str, dict[str, Any]] = {}
    workdir = gdb.parent / f"store-{uuid.uuid4().hex[:8]}"
    for kind in args.backends:
        try:
            results[kind] = run_backend(kind, gdb, args, workdir)
        except ImportError as exc:
            print(f"[{kind}] not available in this tree: {exc}", file=sys.stderr)
    import shutil

    shutil.rmtree(workdir, ignore_errors=True)
    print(f"\n三调 DLTB benchmark: {gdb.name}, {args.count:,} 图斑 (issue 15 targets in brackets)\n")
    print(report(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
