"""Export of layers and results: RFC 7946 GeoJSON and CSV, and the sources of multi-format exports.

:func:`layer_source` (a stored layer) and :func:`overlap_frame` (an overlap result, the one
function both overlap output paths use: ``/api/export/overlap`` and ``gisapp export --overlap``
through :func:`overlap_source`, ``/api/overlap`` and ``gisapp overlap`` through
:func:`gisapp.report.overlap_report.render`) hand features plus metadata to :func:`gisapp.io.formats.export_frame`,
which writes them with the writers of :data:`gisapp.io.writers.WRITERS`.

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

from gisapp.core.crs import PROJECTED
from gisapp.core.errors import InputError
from gisapp.core.limits import Limits
from gisapp.store.layerstore import LayerMeta, LayerStore, write_geojson


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


def layer_source(
    layer_id: str, store: LayerStore, metrics: bool = False
) -> tuple[gpd.GeoDataFrame, LayerMeta | dict[str, Any]]:
    """A stored layer (EPSG:4326) and its metadata, optionally with area metrics per feature.

    Args:
        layer_id: a layer id in the store.
        store: the layer store to read from.
        metrics: join :func:`gisapp.analysis.metrics.area_table` (planar EPSG:4547 and geodesic GRS80 areas in
            m², km², 公顷 ha, 亩 mu) to every polygon feature; non-polygon features are dropped.

    Returns:
        ``(features, metadata)``; with ``metrics`` the metadata is a dict naming the analysis.

    Raises:
        LayerNotFound; InputError ``invalid_layer_id``, ``not_polygons`` (metrics of a layer without polygons).
    """
    from gisapp.analysis.metrics import area_table

    gdf = store.read(layer_id)
    meta = store.meta(layer_id)
    if not metrics:
        return gdf, meta
    gdf = gdf[gdf.geom_type.isin(["Polygon", "MultiPolygon"])].reset_index(drop=True)
    if gdf.empty:
        raise InputError(f"layer {layer_id} has no polygons to measure", code="not_polygons")
    table = area_table(gdf).drop(columns=["id", "name"])
    joined = gdf.drop(columns=[c for c in table.columns if c in gdf.columns]).join(table)
    md = meta.to_dict()
    md["id"] = f"{layer_id}-metrics"
    md["analysis"] = (
        "area metrics per feature: planar in EPSG:4547 (area_m2, area_km2, area_ha 公顷, area_mu 亩 = 10000/15 m²) "
        "and geodesic on GRS80 (geodesic_area_m2), gisapp.analysis.metrics.area_table"
    )
    return gpd.GeoDataFrame(joined, geometry=gdf.geometry.name, crs=gdf.crs), md


def overlap_frame(result: Any, info: dict[str, Any], store: LayerStore) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """An overlap result (压占分析) as what the writers take: the per-parcel table and its metadata.

    Args:
        result: the table of :func:`gisapp.analysis.service.overlap_check` (a GeoDataFrame, any CRS), or the
            :class:`gisapp.analysis.overlap.OverlapAnalysis` of :func:`gisapp.analysis.overlap.run_overlap` (its
            :meth:`~gisapp.analysis.overlap.OverlapAnalysis.frame`, EPSG:4326, is used).
        info: the result's ``info`` dict (``control_layer``, ``summary``, ``input_crs``, ``repairs``,
            ``illustrative``).
        store: the layer store holding the control layer (its metadata heads the record).

    Returns:
        ``(table, metadata)``: the table in its own CRS (EPSG:4547 when it has none); the control
        layer's metadata with ``id`` ``overlap``, ``title``/``title_en``, ``analysis``, ``summary``,
        ``input_crs``, ``repairs`` and ``illustrative``.

    Raises:
        LayerNotFound: the control layer is gone from the store.
    """
    frame = result if isinstance(result, gpd.GeoDataFrame) else result.frame()
    md = store.meta(info["control_layer"]).to_dict()
    md.update(
        {
            "id": "overlap",
            "title": f"压占分析：宗地 × {md['title']}",
            "title_en": f"Overlap analysis: parcels × {md['title_en']}",
            "analysis": "overlap of parcels with the control layer, areas planar in EPSG:4547 (gisapp.analysis.overlap)",
            "summary": info["summary"],
            "input_crs": info["input_crs"],
            "repairs": info["repairs"],
            "illustrative": info["illustrative"],
        }
    )
    return gpd.GeoDataFrame(frame, crs=frame.crs or PROJECTED), md


def overlap_source(
    parcels: bytes | str, store: LayerStore, limits: Limits | None = None
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """The overlap analysis (压占分析) of parcels against the red line, ready to export (:func:`overlap_frame`).

    Args:
        parcels: parcels in any format :func:`gisapp.analysis.service.overlap_check` reads.
        store: the layer store holding the targets.
        limits: bounds of the upload (:class:`gisapp.core.limits.Limits`; default the library defaults).

    Returns:
        ``(per-parcel result in EPSG:4326, metadata dict)``: see :func:`overlap_frame`.

    Raises:
        InputError: bad file, CRS or geometry.
    """
    from gisapp.analysis.overlap import overlap_table

    result, info = overlap_table(parcels, limits=limits, store=store)
    return overlap_frame(result, info, store)
