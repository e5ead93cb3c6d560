"""GeoParquet reader (pyarrow; WKB decoded in chunks on threads): CRS from the file's ``geo`` metadata (PROJJSON)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from gisapp.core.errors import READ_ERRORS, InputError
from gisapp.io.readers import RawInput


def read_geoparquet(data: bytes | str) -> RawInput:
    """Read a GeoParquet file.

    A WKB geometry column is decoded by :func:`gisapp.io.geoparquet.read_geoparquet_table` (chunks on
    threads, no GeoDataFrame); other encodings (GeoArrow, several geometry columns, a bbox covering
    column) by :func:`geopandas.read_parquet`. Both give the same geometries, attributes and CRS.

    Args:
        data: the file's bytes, or a path (str) to read without copying (used by the CLI
            for million-parcel files).

    Returns:
        a :class:`~gisapp.io.readers.RawInput` (``format = "geoparquet"``); ``crs`` from the
        metadata (GeoParquet's default when absent is OGC:CRS84, i.e. WGS 84 lon/lat).

    Raises:
        InputError: ``unreadable_file`` (not GeoParquet, no geometry column, invalid WKB).
    """
    import geopandas as gpd
    from shapely.errors import GEOSException

    from gisapp.io.geoparquet import read_geoparquet_table

    errors: tuple[type[Exception], ...] = (*READ_ERRORS, GEOSException)  # GEOS: invalid WKB
    source = io.BytesIO(data) if isinstance(data, bytes | bytearray) else data
    try:
        table = read_geoparquet_table(source)
        if table is not None:
            geoms, props, crs = table.geometries, table.attributes, table.crs
        else:
            if isinstance(source, io.BytesIO):
                source.seek(0)
            gdf = gpd.read_parquet(source)  # type: ignore[arg-type]  # types-geopandas lists paths; pyarrow reads file objects too
            geoms = np.asarray(gdf.geometry.to_numpy(), dtype=object)
            props = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).reset_index(drop=True)
            crs = gdf.crs
    except errors as exc:
        raise InputError(f"cannot read the GeoParquet file: {exc}", code="unreadable_file") from exc
    return RawInput(
        geometries=geoms,
        properties=props,
        crs=crs,
        crs_source="GeoParquet metadata" if crs is not None else "",
        format="geoparquet",
    )
