"""Export of layers and results: RFC 7946 GeoJSON and CSV.

GeoJSON is written by GDAL's GeoJSON driver through pyogrio with ``RFC7946=YES``: WGS 84
lon/lat, polygons in right-hand-rule order (exterior counter-clockwise), no ``crs`` member,
7 decimals. CSV is UTF-8 (optionally with a BOM so that Excel shows Chinese), geometry as WKT.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd

from gisapp.layerstore import geojson_path, write_geojson


def to_geojson(gdf: gpd.GeoDataFrame) -> str:
    """Return ``gdf`` as an RFC 7946 GeoJSON FeatureCollection string (see module docstring).

    Args:
        gdf: features in any CRS (transformed to EPSG:4326).

    Raises:
        InputError: ``missing_crs`` when ``gdf`` has no CRS.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "out.geojson"
        write_geojson(gdf, path)
        return path.read_text("utf-8")


def layer_geojson(layer_id: str) -> str:
    """Return a stored layer's GeoJSON text (already RFC 7946; see :mod:`gisapp.layerstore`).

    Raises:
        LayerNotFound: unknown layer id.
    """
    from gisapp.errors import LayerNotFound

    path = geojson_path(layer_id)
    if not path.exists():
        raise LayerNotFound(layer_id)
    return path.read_text("utf-8")


def to_csv(df: pd.DataFrame | gpd.GeoDataFrame, bom: bool = False, wkt: bool = True) -> str:
    """Return a table as CSV text (UTF-8; prefix a BOM when ``bom``).

    Args:
        df: a DataFrame or GeoDataFrame; a geometry column becomes WKT in EPSG:4326 (or is
            dropped when ``wkt`` is False).
        bom: start with U+FEFF so that Excel detects UTF-8.
        wkt: keep the geometry as a ``wkt`` column.
    """
    if isinstance(df, gpd.GeoDataFrame):
        geom = df.geometry.to_crs("EPSG:4326") if df.crs else df.geometry
        df = pd.DataFrame(df.drop(columns=df.geometry.name))
        if wkt:
            df["wkt"] = geom.to_wkt(rounding_precision=7)
    buf = io.StringIO()
    df.to_csv(buf, index=False, lineterminator="\n")
    return ("\ufeff" if bom else "") + buf.getvalue()
