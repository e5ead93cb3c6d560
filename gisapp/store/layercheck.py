"""Checks an imported polygon layer must pass before it may enter the layer store.

Used by ``gisapp towns replace`` and ``gisapp redline import`` *before* anything is written,
and by ``gisapp validate`` on the stored layers, so that what an import accepts, validate
accepts, and the reverse. Every check raises :class:`gisapp.core.errors.InputError` with one line
naming the first offending features (at most :data:`MAX_NAMED`, so a huge file cannot make a
huge message). Areas are planar, in EPSG:4547 (m²).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from gisapp.core.crs import PROJECTED
from gisapp.core.errors import READ_ERRORS, InputError

#: How many offending features an error message names.
MAX_NAMED = 5
#: A feature may lie outside the city outline by this share of its area (or :data:`OUTSIDE_MIN_M2`).
OUTSIDE_SHARE_MAX = 0.05
#: … or by this many m², whichever is larger.
OUTSIDE_MIN_M2 = 1e4
#: The 镇街 of a city must together cover at least this share of its outline (which includes water).
COVERAGE_MIN = 0.90


def named(items: Sequence[object]) -> str:
    """Join at most :data:`MAX_NAMED` items with ``, `` and say how many more there are."""
    texts = [str(i)[:60] for i in items]
    head = ", ".join(texts[:MAX_NAMED])
    return head + (f" … and {len(texts) - MAX_NAMED} more" if len(texts) > MAX_NAMED else "")


#: The first bytes of a Parquet file (Apache Parquet format specification).
PARQUET_MAGIC = b"PAR1"


def read_file(path: Path) -> gpd.GeoDataFrame:
    """Read a vector file with pyogrio (GeoParquet with geopandas/pyarrow); the error message is one line
    naming only the file.

    GeoParquet is recognised by its magic bytes and read by :func:`geopandas.read_parquet`, not by GDAL:
    the Parquet driver of pyogrio's GDAL is a plugin that needs libduckdb, which is not installed
    ("libduckdb.so: cannot open shared object file"), and pyarrow is a requirement anyway.

    Raises:
        InputError: code ``unreadable_file`` (no internal path, no traceback).
    """
    import pyogrio

    try:
        if path.is_file():
            with path.open("rb") as fh:
                if fh.read(4) == PARQUET_MAGIC:
                    return gpd.read_parquet(path)
        return pyogrio.read_dataframe(path)
    except READ_ERRORS as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        for p in (str(path.resolve()), str(path), str(path.parent)):
            reason = reason.replace(p, "")
        if "not recognized as being in a supported file format" in reason:
            reason = "not a vector format GDAL can read (GeoJSON, GeoPackage, Shapefile …)"
        raise InputError(f"cannot read {path.name}: {reason[:160]}", code="unreadable_file") from exc


def city_outline(directory: Path | None = None, city: str = "中山市") -> BaseGeometry:
    """The outline of ``city`` from the store's ``base-city`` layer, in EPSG:4547.

    Raises:
        LayerNotFound: when the store has no ``base-city`` layer.
        InputError: code ``unknown_city`` when ``city`` is not in it.
    """
    from gisapp.store.layerstore import read_layer

    cities = read_layer("base-city", directory)
    rows = cities[cities["name"] == city]
    if rows.empty:
        raise InputError(f"the store's base-city layer has no {city}", code="unknown_city")
    return shapely.union_all(rows.to_crs(PROJECTED).geometry.to_numpy())


def check_polygons(gdf: gpd.GeoDataFrame, labels: Sequence[object], source: str) -> None:
    """Require at least one feature, and only valid, non-empty Polygon/MultiPolygon geometries.

    Args:
        gdf: the features (any CRS).
        labels: one label per feature for messages (a name or id; ``#n`` when there is none).
        source: the file name shown in messages.

    Raises:
        InputError: codes ``empty_layer``, ``missing_geometry``, ``not_polygons``, ``invalid_geometry``.
    """
    if len(gdf) == 0:
        raise InputError(f"{source} holds no features", code="empty_layer")
    geoms = gdf.geometry.to_numpy()
    missing = [lab for lab, g in zip(labels, geoms) if g is None or shapely.is_empty(g)]
    if missing:
        raise InputError(f"{source}: features without geometry: {named(missing)}", code="missing_geometry")
    wrong = [
        f"{lab} ({g.geom_type})" for lab, g in zip(labels, geoms) if g.geom_type not in ("Polygon", "MultiPolygon")
    ]
    if wrong:
        raise InputError(f"{source}: only polygons are accepted, found {named(wrong)}", code="not_polygons")
    invalid = [f"{lab}: {shapely.is_valid_reason(g)}" for lab, g in zip(labels, geoms) if not shapely.is_valid(g)]
    if invalid:
        raise InputError(f"{source}: invalid polygons (repair them first): {named(invalid)}", code="invalid_geometry")


def check_unique(values: Sequence[object], what: str, source: str) -> None:
    """Require every value to be present and unique.

    Raises:
        InputError: codes ``missing_id`` (an empty value), ``duplicate_ids`` (naming them).
    """
    blank = [i for i, v in enumerate(values, start=1) if v is None or str(v).strip() in ("", "nan", "None")]
    if blank:
        raise InputError(f"{source}: features without a {what}: {named([f'#{i}' for i in blank])}", code="missing_id")
    dup = sorted(str(v) for v, n in Counter(map(str, values)).items() if n > 1)
    if dup:
        raise InputError(f"{source}: duplicate {what}: {named(dup)}", code="duplicate_ids")


def outside(gdf: gpd.GeoDataFrame, outline: BaseGeometry) -> list[tuple[int, float, float]]:
    """For each feature lying outside ``outline`` beyond tolerance: ``(index, share, km²)``.

    Args:
        gdf: polygons in any CRS; outline: the city in EPSG:4547.
    """
    out = []
    for i, g in enumerate(gdf.to_crs(PROJECTED).geometry.to_numpy()):
        area = g.area
        off = shapely.difference(g, outline).area if area else 0.0
        if off > max(OUTSIDE_MIN_M2, OUTSIDE_SHARE_MAX * area):
            out.append((i, off / area, off / 1e6))
    return out


def check_inside(
    gdf: gpd.GeoDataFrame, labels: Sequence[object], outline: BaseGeometry, city: str, source: str
) -> None:
    """Require every feature to lie inside the city outline (see :func:`outside` for the tolerance).

    Raises:
        InputError: code ``outside_city`` naming the features and how much of each lies outside.
    """
    off = outside(gdf, outline)
    if off:
        items = [f"{labels[i]} ({share:.0%}, {km2:.3f} km²)" for i, share, km2 in off]
        raise InputError(f"{source}: features outside {city}: {named(items)}", code="outside_city")


def check_coverage(gdf: gpd.GeoDataFrame, outline: BaseGeometry, city: str, source: str) -> None:
    """Require the features together to cover at least :data:`COVERAGE_MIN` of the city outline.

    Raises:
        InputError: code ``incomplete_coverage``.
    """
    union = shapely.union_all(gdf.to_crs(PROJECTED).geometry.to_numpy())
    share = shapely.intersection(union, outline).area / outline.area
    if share < COVERAGE_MIN:
        raise InputError(
            f"{source}: the units cover only {share:.1%} of {city} (at least {COVERAGE_MIN:.0%} needed)",
            code="incomplete_coverage",
        )
