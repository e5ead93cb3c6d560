"""GeoParquet read and written through pyarrow, with geometry as WKB in chunks on a thread pool.

What geopandas' ``read_parquet``/``to_parquet`` do for a WKB geometry column, without building a
GeoDataFrame: the geometry column goes between Arrow and shapely in chunks of
:data:`gisapp.core.chunks.CHUNK` (shapely releases the GIL, so chunks run on all cores, and no
Python ``bytes`` object per row is kept for the whole column), and the file is written once with
geopandas' metadata (``geo`` 1.1.0, the ``geoarrow.wkb`` field extension, ``pandas``,
``PANDAS_ATTRS``) plus our own key-value entry. A file written here reads back with
:func:`geopandas.read_parquet` exactly as one written by ``GeoDataFrame.to_parquet``
(``tests/test_overlap_geoparquet.py``). Specification: GeoParquet 1.1.0 (https://geoparquet.org/releases/v1.1.0/).

Used by the GeoParquet reader (:mod:`gisapp.io.readers.parquet`), the GeoParquet writer
(:class:`gisapp.io.writers.GeoParquetWriter`) and the overlap output of ``gisapp overlap``.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely
from pyproj import CRS

from gisapp.core.chunks import CHUNK

#: GeoParquet's default CRS when the ``crs`` member is absent (WGS 84 longitude/latitude).
DEFAULT_CRS = "OGC:CRS84"
#: GeoParquet geometry type names by GEOS type id (LinearRing id 2 written as LineString, as geopandas does).
_TYPE_NAMES = (
    "Point",
    "LineString",
    "LineString",
    "Polygon",
    "MultiPoint",
    "MultiLineString",
    "MultiPolygon",
    "GeometryCollection",
)


def _map_chunks(fn: Any, n: int, workers: int | None) -> list[Any]:
    """``[fn(start, stop) for each chunk of CHUNK items]``, on a thread pool when there are several chunks."""
    bounds = [(s, min(s + CHUNK, n)) for s in range(0, n, CHUNK)] or [(0, 0)]
    if len(bounds) == 1 or workers == 1:
        return [fn(a, b) for a, b in bounds]
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        return list(pool.map(lambda ab: fn(*ab), bounds))


@dataclass
class GeoColumn:
    """A WKB geometry column ready to write, and what the ``geo`` metadata says of it.

    Attributes:
        wkb: the geometries as ISO WKB (2D/3D as the geometries are), one Arrow chunk per thread chunk.
        types: GeoParquet ``geometry_types`` (sorted names, ``" Z"`` for 3D).
        bbox: ``[minx, miny, maxx, maxy]`` in the column's CRS, or None when every geometry is empty/missing.
    """

    wkb: pa.ChunkedArray
    types: list[str]
    bbox: list[float] | None


def wkb_column(geoms: np.ndarray, workers: int | None = None, transform: Any = None) -> GeoColumn:
    """Encode shapely geometries as an Arrow WKB column (chunked on threads), with their types and bbox.

    Args:
        geoms: object array of shapely geometries (None allowed: null rows), any CRS.
        workers: threads (default: CPU count).
        transform: optional ``array -> array`` applied to each chunk before encoding (e.g. the export
            steps of :func:`export_geometries`), so that the transformed copy never exists whole.

    Returns:
        the :class:`GeoColumn`; ISO WKB as geopandas writes it (``flavor="iso"``).
    """

    def one(a: int, b: int) -> tuple[pa.Array, set[int], np.ndarray]:
        part = geoms[a:b] if transform is None else transform(geoms[a:b])
        type_ids = shapely.get_type_id(part)
        type_ids[shapely.has_z(part)] += 8
        type_ids = np.unique(type_ids)
        bounds = shapely.total_bounds(part) if len(part) else np.full(4, np.nan)
        wkb = pa.array(shapely.to_wkb(part, flavor="iso"), type=pa.binary())
        return wkb, set(type_ids.tolist()), bounds

    parts = _map_chunks(one, len(geoms), workers)
    ids = sorted(set().union(*(p[1] for p in parts)) - {-1})
    types = sorted(_TYPE_NAMES[i % 8] + (" Z" if i >= 8 else "") for i in ids)
    with np.errstate(all="ignore"):
        b = np.array([p[2] for p in parts])
        bbox = [
            float(np.nanmin(b[:, 0])),
            float(np.nanmin(b[:, 1])),
            float(np.nanmax(b[:, 2])),
            float(np.nanmax(b[:, 3])),
        ]
    wkb = pa.chunked_array([p[0] for p in parts], type=pa.binary())
    return GeoColumn(wkb, types, bbox if np.isfinite(bbox).all() else None)


def _crs_json(crs: CRS | None) -> dict[str, Any] | None:
    """The CRS as PROJJSON, as geopandas writes it (ids removed from members of datum ensembles)."""
    if crs is None:
        return None
    from geopandas.io.arrow import (  # type: ignore[attr-defined]  # private in the stubs; the same rule as geopandas
        _remove_id_from_member_of_ensembles,
    )

    out: dict[str, Any] = crs.to_json_dict()
    _remove_id_from_member_of_ensembles(out)
    return out


def write_geoparquet(
    attributes: pd.DataFrame | Iterable[pd.DataFrame],
    geometry: GeoColumn,
    crs: CRS | None,
    target: str | Path | BinaryIO,
    *,
    metadata: dict[bytes, bytes] | None = None,
    attrs: dict[str, Any] | None = None,
    name: str = "geometry",
) -> None:
    """Write attributes and a WKB geometry column as one GeoParquet file (as ``GeoDataFrame.to_parquet(index=False)``).

    Args:
        attributes: the other columns, one row per geometry; a column named ``name`` (any content)
            sets the geometry's position, else it comes last. Or several such frames (e.g. one per
            target of a long table of parcels × targets): each gets the same geometry and is written
            after the previous one as if concatenated, one at a time (only one is in memory as Arrow).
        geometry: the :func:`wkb_column`.
        crs: the geometry's CRS (None: no CRS, as GeoParquet's ``"crs": null``).
        target: a path or a binary file object.
        metadata: more key-value entries for the file (e.g. ``{b"gisapp": …}``).
        attrs: ``DataFrame.attrs`` to keep (geopandas' ``PANDAS_ATTRS`` entry) when not empty.
        name: the geometry column's name.
    """
    frames = iter([attributes] if isinstance(attributes, pd.DataFrame) else attributes)
    del attributes
    crs_json = _crs_json(crs)
    field = pa.field(
        name,
        pa.binary(),
        nullable=True,
        metadata={
            "ARROW:extension:name": "geoarrow.wkb",
            # geopandas keeps the ensemble members' ids here (only the ``geo`` entry drops them)
            "ARROW:extension:metadata": json.dumps({"crs": crs.to_json_dict()}) if crs is not None else "{}",
        },
    )
    writer: pq.ParquetWriter | None = None
    try:
        for frame in frames:
            table = _arrow_table(frame, name, field, geometry.wkb)
            del frame  # the caller's temporary frame goes now, before the file is encoded
            if writer is None:
                schema_meta = dict(table.schema.metadata or {})
                schema_meta[b"geo"] = json.dumps(_geo_metadata(geometry, crs_json, name)).encode("utf-8")
                if attrs:
                    schema_meta[b"PANDAS_ATTRS"] = json.dumps(attrs).encode("utf-8")
                schema_meta.update(metadata or {})
                schema = table.schema.with_metadata(schema_meta)
                writer = pq.ParquetWriter(target, schema)
            table = table.replace_schema_metadata(schema.metadata)
            writer.write_table(table if table.schema.equals(schema) else table.cast(schema))
            del table
    finally:
        if writer is not None:
            writer.close()
        pa.default_memory_pool().release_unused()


def _arrow_table(frame: pd.DataFrame, name: str, field: pa.Field, wkb: pa.ChunkedArray) -> pa.Table:
    """One frame as an Arrow table with the WKB column in place (geopandas' way: a null column, then replaced)."""
    frame = pd.DataFrame(frame.copy(deep=False))
    frame[name] = None
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return table.set_column(table.schema.get_field_index(name), field, wkb)


def _geo_metadata(geometry: GeoColumn, crs_json: dict[str, Any] | None, name: str) -> dict[str, Any]:
    """The ``geo`` key-value entry (GeoParquet 1.1.0), as geopandas writes it."""
    from geopandas import __version__ as geopandas_version
    from geopandas.io.arrow import METADATA_VERSION

    column: dict[str, Any] = {"encoding": "WKB", "crs": crs_json, "geometry_types": geometry.types}
    if geometry.bbox is not None:
        column["bbox"] = geometry.bbox
    return {
        "primary_column": name,
        "columns": {name: column},
        "version": METADATA_VERSION,
        "creator": {"library": "geopandas", "version": geopandas_version},
    }


def encode_geoparquet(attributes: pd.DataFrame, geometry: GeoColumn, crs: CRS | None, **options: Any) -> bytes:
    """:func:`write_geoparquet` into memory; the file's bytes."""
    buf = io.BytesIO()
    write_geoparquet(attributes, geometry, crs, buf, **options)
    return buf.getvalue()


@dataclass
class GeoTable:
    """A GeoParquet file read: geometries (shapely), the other columns, the declared CRS.

    Attributes:
        geometries: object array of shapely geometries (None for null rows).
        attributes: the other columns (pandas, as ``read_parquet`` gives them), RangeIndex.
        crs: the column's CRS (GeoParquet's default OGC:CRS84 when the metadata has no ``crs``; None for null).
    """

    geometries: np.ndarray
    attributes: pd.DataFrame
    crs: CRS | None


def read_geoparquet_table(source: str | Path | BinaryIO, workers: int | None = None) -> GeoTable | None:
    """Read a GeoParquet file whose primary geometry column is WKB, decoding it in chunks on threads.

    Args:
        source: a path or a binary file object.
        workers: threads (default: CPU count).

    Returns:
        the :class:`GeoTable`, or None when the file is one this function does not handle (no ``geo``
        metadata, a GeoArrow-encoded geometry, several geometry columns): read it with geopandas then.

    Raises:
        OSError, ValueError, pyarrow.ArrowException: not a readable Parquet file (the caller's
            ``READ_ERRORS``); shapely.errors.GEOSException: invalid WKB.
    """
    table = pq.read_table(source)
    raw = (table.schema.metadata or {}).get(b"geo")
    if raw is None:
        return None
    geo = json.loads(raw)
    columns = geo.get("columns") or {}
    name = geo.get("primary_column")
    if len(columns) != 1 or name not in columns or name not in table.column_names:
        return None
    meta = columns[name]
    if str(meta.get("encoding", "WKB")).upper() != "WKB" or "bbox" in table.column_names:
        return None
    crs_meta = meta.get("crs", DEFAULT_CRS)
    if isinstance(crs_meta, dict):
        from geopandas.io.arrow import (  # type: ignore[attr-defined]  # private in the stubs; as geopandas reads it
            _remove_id_from_member_of_ensembles,
        )

        _remove_id_from_member_of_ensembles(crs_meta)
    crs = CRS.from_user_input(crs_meta) if crs_meta is not None else None
    col = table.column(name)
    attributes = table.drop_columns([name]).to_pandas()
    del table

    geoms = _decode_wkb(col, workers)
    del col
    pa.default_memory_pool().release_unused()
    attributes.index = pd.RangeIndex(len(attributes))
    return GeoTable(geoms, attributes, crs)


def _decode_wkb(col: pa.ChunkedArray, workers: int | None) -> np.ndarray:
    """shapely geometries from a WKB column, decoded in chunks on threads (object array; None for nulls)."""
    if len(col) == 0:
        return np.empty(0, dtype=object)

    def decode(a: int, b: int) -> np.ndarray:
        return np.asarray(shapely.from_wkb(col.slice(a, b - a).to_numpy(zero_copy_only=False)), dtype=object)

    return np.concatenate(_map_chunks(decode, len(col), workers))


def rounding_is_noop(geoms: np.ndarray, precision: int) -> bool:
    """True when rounding ``geoms``' coordinates to ``precision`` decimals cannot change them.

    That is when every coordinate is so large that ``10**-precision`` is under half the float64
    spacing there (e.g. 15 decimals of metres of EPSG:4547, or of degrees beyond ±8): the decimal
    rounded value's nearest double is the coordinate itself (``numpy.round`` would only move the
    last bit, computing ``x * 10**p`` beyond 2**53). Decided from the bounds: an axis whose range
    contains 0 answers False.
    """
    if len(geoms) == 0:
        return True
    with np.errstate(all="ignore"):
        x0, y0, x1, y1 = shapely.total_bounds(geoms)
    if not np.isfinite([x0, y0, x1, y1]).all():
        return False
    smallest = min(x0 if x0 > 0 else -x1 if x1 < 0 else 0.0, y0 if y0 > 0 else -y1 if y1 < 0 else 0.0)
    return bool(smallest > 0 and 10.0**-precision < np.spacing(smallest) / 2)


def export_geometries(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The export steps of :func:`gisapp.io.formats.transform_frame` after rounding, on an array.

    For geometries already in the output CRS whose rounding is a no-op (:func:`rounding_is_noop`):
    consecutive repeated points removed and polygons oriented (exterior counter-clockwise, holes
    clockwise: :func:`shapely.orient_polygons`), with the same result as applying both to every
    geometry. Both are decided from the coordinates first: only the geometries with a repeated point
    are rebuilt, and only polygons that are not plainly counter-clockwise rings without holes (signed
    area clearly > 0) go through GEOS' orientation.

    Args:
        geoms: shapely geometries (no None).

    Returns:
        ``(geometries, broke)``: what to write, and a mask of those valid before and invalid after
        (the caller then leaves the file to the export's snap rounding).
    """
    out = geoms.copy()
    broke = np.zeros(len(geoms), dtype=bool)
    coords = shapely.get_coordinates(geoms)
    counts = shapely.get_num_coordinates(geoms)
    owner = np.repeat(np.arange(len(geoms)), counts)
    same = np.flatnonzero((coords[1:] == coords[:-1]).all(axis=1))
    same = same[owner[same] == owner[same + 1]]
    repeated = np.unique(owner[same])
    if len(repeated):
        before = geoms[repeated]
        fixed = shapely.remove_repeated_points(before)
        changed = shapely.get_num_coordinates(fixed) != counts[repeated]
        out[repeated] = fixed
        broke[repeated[changed]] = ~shapely.is_valid(fixed[changed]) & shapely.is_valid(before[changed])
    ccw = _plainly_ccw(coords, counts, owner, geoms)
    ccw[repeated] = False
    turn = np.flatnonzero(~ccw)
    out[turn] = shapely.orient_polygons(out[turn])
    return out, broke


def _plainly_ccw(coords: np.ndarray, counts: np.ndarray, owner: np.ndarray, geoms: np.ndarray) -> np.ndarray:
    """Per geometry: a Polygon without holes whose ring's signed area is clearly positive (counter-clockwise).

    Shoelace sum per geometry on coordinates taken relative to its first point; "clearly" = above
    1e-9 of the sum of the terms' magnitudes, so only rings GEOS could judge otherwise are left to it.
    """
    n = len(counts)
    simple = (shapely.get_type_id(geoms) == 3) & (counts >= 4)
    simple[simple] = shapely.get_num_interior_rings(geoms[simple]) == 0
    if not len(coords) or not simple.any():
        return simple
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rel = coords - coords[np.repeat(starts, counts)]
    terms = np.zeros(len(coords))
    terms[:-1] = rel[:-1, 0] * rel[1:, 1] - rel[1:, 0] * rel[:-1, 1]
    last = np.cumsum(counts) - 1
    terms[last[counts > 0]] = 0.0  # no term across two geometries
    area2 = np.zeros(n)
    mag = np.zeros(n)
    nz = counts > 0
    area2[nz] = np.add.reduceat(terms, starts[nz])
    mag[nz] = np.add.reduceat(np.abs(terms), starts[nz])
    return simple & (area2 > 1e-9 * mag)
