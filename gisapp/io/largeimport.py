"""Import a large vector file (a 三调 DLTB of a million 图斑) into the layer store's backend, streaming.

The file is read once, in Arrow record batches of :data:`CHUNK` features (pyogrio's
:func:`pyogrio.open_arrow`, GDAL's columnar reading), each batch reprojected to EPSG:4326 and handed
to :meth:`gisapp.store.layerstore.LayerStore.write_large`; memory holds one batch, not the file.

Accepted: File Geodatabase (a ``.gdb`` folder or a zipped one, GDAL's OpenFileGDB driver; the zip
goes through the upload checks of :mod:`gisapp.io.readers.safety`), GeoPackage (schema checked by
:func:`gisapp.io.readers.safety.check_gpkg`), Shapefile, FlatGeobuf, GeoJSON; GeoParquet is streamed by
pyarrow in row batches.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pyogrio
import shapely

from gisapp.core.crs import to_wgs84
from gisapp.core.errors import READ_ERRORS, InputError
from gisapp.core.limits import DEFAULT_LIMITS, Limits
from gisapp.io.readers.safety import check_driver, check_gpkg, extract_gdb, scrub
from gisapp.store.layerstore import LayerMeta, LayerStore

#: Features per batch read and written (about 50 MB of 三调 polygons).
CHUNK = 50_000
#: GDAL drivers a large import accepts (GeoParquet is read by pyarrow, see :func:`_parquet_batches`).
DRIVERS = ("OpenFileGDB", "GPKG", "ESRI Shapefile", "FlatGeobuf", "GeoJSON")
#: Unzipped size a local zipped FileGDB may reach (a 三调 county database is a few GiB).
MAX_UNZIPPED = 16 * 1024**3
_INTEGERS = {pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.uint8(), pa.uint16(), pa.uint32()}


def _types(t: pa.DataType) -> pd.api.extensions.ExtensionDtype | None:
    """pandas dtypes for Arrow types that must not change between batches (an integer column with a
    null in one batch would otherwise turn float there)."""
    if t in _INTEGERS:
        return pd.Int64Dtype()
    if t == pa.bool_():
        return pd.BooleanDtype()
    return None


def _batches(path: Path, layer: str | None, label: str, tmp: str, chunk: int) -> Iterator[gpd.GeoDataFrame]:
    """The layer's features as EPSG:4326 frames of at most ``chunk`` features, in file order."""
    try:
        with pyogrio.open_arrow(path, layer=layer, batch_size=chunk, use_pyarrow=True) as (meta, reader):
            geom = meta.get("geometry_name") or "wkb_geometry"
            crs = meta.get("crs")
            if crs is None:
                raise InputError(f"{label} has no CRS; declare one with a .prj or re-export it", code="missing_crs")
            for batch in reader:
                table = pa.Table.from_batches([batch])
                attrs = table.drop_columns([geom]).to_pandas(types_mapper=_types)
                geoms = shapely.force_2d(shapely.from_wkb(table.column(geom).to_numpy(zero_copy_only=False)))
                yield to_wgs84(gpd.GeoDataFrame(attrs, geometry=gpd.GeoSeries(geoms), crs=crs))
    except READ_ERRORS as exc:
        raise InputError(f"cannot read {label}: {scrub(str(exc), tmp, label)}", code="unreadable_file") from exc


def _parquet_batches(path: Path, label: str, chunk: int) -> Iterator[gpd.GeoDataFrame]:
    """A GeoParquet file's features as EPSG:4326 frames, read by pyarrow in row batches (GDAL's Parquet
    driver is not used: the pyogrio wheel's fails to load its DuckDB library).

    The geometry column and CRS come from the file's ``geo`` metadata (GeoParquet 1.x; a missing
    ``crs`` means OGC:CRS84 by the specification); WKB encoding only.
    """
    import pyarrow.parquet as pq
    from pyproj import CRS

    try:
        pf = pq.ParquetFile(path)
        geo = json.loads((pf.schema_arrow.metadata or {}).get(b"geo", b"{}"))
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise InputError(f"cannot read {label}: {exc}", code="unreadable_file") from exc
    column = geo.get("primary_column")
    spec = (geo.get("columns") or {}).get(column or "", {})
    if not column or spec.get("encoding", "WKB").upper() != "WKB":
        raise InputError(f"{label} is not a GeoParquet file with WKB geometries", code="unsupported_format", status=415)
    crs = CRS.from_json_dict(spec["crs"]) if spec.get("crs") else CRS.from_user_input("OGC:CRS84")
    for batch in pf.iter_batches(batch_size=chunk):
        table = pa.Table.from_batches([batch])
        attrs = table.drop_columns([column]).to_pandas(types_mapper=_types)
        geoms = shapely.force_2d(shapely.from_wkb(table.column(column).to_numpy(zero_copy_only=False)))
        yield to_wgs84(gpd.GeoDataFrame(attrs, geometry=gpd.GeoSeries(geoms), crs=crs))


def _choose_layer(path: Path, layer: str | None, label: str, tmp: str) -> str:
    try:
        layers = [(str(n), str(t)) for n, t in pyogrio.list_layers(path)]
    except READ_ERRORS as exc:
        raise InputError(f"cannot read {label}: {scrub(str(exc), tmp, label)}", code="unreadable_file") from exc
    spatial = [n for n, t in layers if t not in ("None", "")]
    if layer is not None:
        if layer not in [n for n, _ in layers]:
            names = ", ".join(n for n, _ in layers)
            raise InputError(f"{label} has no layer {layer[:80]!r} (layers: {names[:300]})", code="layer_not_found")
        return layer
    if len(spatial) != 1:
        names = ", ".join(spatial) or "none with geometry"
        raise InputError(f"{label} holds several layers ({names[:300]}): name one with --layer", code="ambiguous_layer")
    return spatial[0]


def import_large(
    store: LayerStore,
    source: Path,
    meta: LayerMeta,
    *,
    layer: str | None = None,
    chunk: int = CHUNK,
    limits: Limits | None = None,
) -> LayerMeta:
    """Stream a vector file into the store's large-layer backend as layer ``meta.id``.

    Args:
        store: the layer store (its :attr:`~gisapp.store.layerstore.LayerStore.backend` receives the features).
        source: a ``.gdb`` folder, a zipped FileGDB (``.gdb.zip``/``.zip``), a ``.gpkg``, ``.shp``,
            ``.parquet``, ``.fgb`` or ``.geojson`` file, in any CRS it declares.
        meta: the layer's metadata (id, titles, kind, source, licence …); backend, count, bounds and
            the tile zoom are filled in.
        layer: the layer (feature class) to read, e.g. ``DLTB``; needed when the file holds several.
        chunk: features per batch.
        limits: bounds for unzipping a FileGDB zip (default: the upload limits with room for
            :data:`MAX_UNZIPPED` bytes).

    Returns:
        the metadata as stored.

    Raises:
        InputError: ``missing_file``; ``unreadable_file``; ``unsupported_format`` (415); ``invalid_zip``;
            ``invalid_gpkg``; ``ambiguous_layer``; ``layer_not_found``; ``missing_crs``. On any error the
            old layer stays as it was.
    """
    label = source.name
    if not source.exists():
        raise InputError(f"no such file: {label}", code="missing_file")
    lim = limits or replace(DEFAULT_LIMITS, max_unzipped_bytes=MAX_UNZIPPED, max_zip_ratio=1e9)
    with tempfile.TemporaryDirectory(prefix="gisapp-large-") as tmp:
        path = source
        if source.is_file() and _is_zip(source):
            path = extract_gdb(source, Path(tmp) / "upload.gdb", lim)  # read from the file as it goes
        elif source.suffix.lower() == ".gpkg":
            check_gpkg(source, label)
        if source.suffix.lower() in (".parquet", ".geoparquet"):
            batches = _parquet_batches(source, label, chunk)
        else:
            chosen = _choose_layer(path, layer, label, tmp)
            check_driver(path, chosen, DRIVERS, label, tmp)
            batches = _batches(path, chosen, label, tmp, chunk)
        try:
            return store.write_large(batches, meta)
        except InputError:
            raise
        except ValueError as exc:  # the backend's schema and CRS checks
            raise InputError(f"cannot import {label}: {exc}", code="invalid_layer", status=422) from exc


def _is_zip(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(4) == b"PK\x03\x04"
