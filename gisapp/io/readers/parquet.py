"""GeoParquet reader (geopandas + pyarrow): CRS from the file's ``geo`` metadata (PROJJSON)."""

from __future__ import annotations

import io

import geopandas as gpd
import numpy as np
import pandas as pd

from gisapp.core.errors import READ_ERRORS, InputError
from gisapp.io.readers import RawInput


def read_geoparquet(data: bytes | str) -> RawInput:
    """Read a GeoParquet file.

    Args:
        data: the file's bytes, or a path (str) to read without copying (used by the CLI
            for million-parcel files).

    Returns:
        a :class:`~gisapp.io.readers.RawInput` (``format = "geoparquet"``); ``crs`` from the
        metadata (GeoParquet's default when absent is OGC:CRS84, i.e. WGS 84 lon/lat).

    Raises:
        InputError: ``unreadable_file`` (not GeoParquet, or no geometry column).
    """
    try:
        source = io.BytesIO(data) if isinstance(data, bytes | bytearray) else data
        gdf = gpd.read_parquet(source)  # type: ignore[arg-type]  # types-geopandas lists paths; pyarrow reads file objects too
    except READ_ERRORS as exc:
        raise InputError(f"cannot read the GeoParquet file: {exc}", code="unreadable_file") from exc
    return RawInput(
        geometries=np.asarray(gdf.geometry.to_numpy(), dtype=object),
        properties=pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).reset_index(drop=True),
        crs=gdf.crs,
        crs_source="GeoParquet metadata" if gdf.crs is not None else "",
        format="geoparquet",
    )
