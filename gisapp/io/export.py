"""Export of layers and results: RFC 7946 GeoJSON and CSV text, and spreadsheet-safe cells.

What to export (a stored layer, an overlap result) is decided in :mod:`gisapp.analysis.sources`;
the multi-format writers are :data:`gisapp.io.writers.WRITERS`.

GeoJSON is written by GDAL's GeoJSON driver through pyogrio with ``RFC7946=YES``: WGS 84
lon/lat, polygons in right-hand-rule order (exterior counter-clockwise), no ``crs`` member,
7 decimals. CSV is UTF-8 (optionally with a BOM so that Excel shows Chinese), geometry as WKT.
"""

from __future__ import annotations

import io
import re
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from gisapp.store.layerstore import write_geojson


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


#: First characters that make a spreadsheet read a cell as a formula (OWASP "CSV Injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def neutralise_formula(value: Any) -> Any:
    """Return a text cell that a spreadsheet would run as a formula with a leading ``'``; else unchanged.

    A string starting with ``= + - @``, a tab or a carriage return (OWASP CSV Injection) gets the
    prefix, unless it is a plain number such as ``-12.5``; numbers, None and other types pass through.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` with :func:`neutralise_formula` applied to every text (object/string) column."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype):
            out[col] = out[col].map(neutralise_formula)
    return out


def to_csv(df: pd.DataFrame | gpd.GeoDataFrame, bom: bool = False, wkt: bool = True) -> str:
    """Return a table as CSV text (UTF-8; prefix a BOM when ``bom``).

    Args:
        df: a DataFrame or GeoDataFrame; a geometry column becomes WKT in EPSG:4326 (or is
            dropped when ``wkt`` is False).
        bom: start with U+FEFF so that Excel detects UTF-8.
        wkt: keep the geometry as a ``wkt`` column.

    Text cells that a spreadsheet would run as formulas are prefixed with ``'`` (:func:`neutralise_formula`).
    """
    if isinstance(df, gpd.GeoDataFrame):
        geom = df.geometry.to_crs("EPSG:4326") if df.crs else df.geometry
        df = pd.DataFrame(df.drop(columns=df.geometry.name))
        if wkt:
            df["wkt"] = geom.to_wkt(rounding_precision=7)
    buf = io.StringIO()
    neutralise_formulas(df).to_csv(buf, index=False, lineterminator="\n")
    return ("\ufeff" if bom else "") + buf.getvalue()
