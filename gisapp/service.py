"""Use cases shared by the CLI and the web layer.

Each function reads what it needs from the layer store, calls the core, and returns plain
data; neither the CLI nor Flask duplicates any of it.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd

from gisapp.layerstore import read_layer, read_meta
from gisapp.metrics import area_table, redline_report
from gisapp.overlap import overlap_parcels
from gisapp.parcels import parse_geojson_parcels
from gisapp.redline import LAYER_ID as REDLINE_ID
from gisapp.towns import LAYER_ID as TOWNS_ID

DEFAULT_STRUCTURE = "zs-services-structure"


def layer_metrics(layer_id: str) -> dict[str, Any]:
    """Area metrics of every polygon of a stored layer.

    Returns:
        ``{"layer", "geometry_basis", "illustrative", "crs_for_areas", "features": [rows of
        gisapp.metrics.area_table]}``.

    Raises:
        LayerNotFound, InputError (``not_polygons``).
    """
    gdf = read_layer(layer_id)
    meta = read_meta(layer_id)
    gdf = gdf[gdf.geom_type.isin(["Polygon", "MultiPolygon"])]
    table = area_table(gdf)
    return {
        "layer": layer_id,
        "geometry_basis": meta.geometry_basis,
        "illustrative": meta.geometry_basis == "illustrative",
        "crs_for_areas": "EPSG:4547 (planar) and GRS80 geodesic",
        "features": table.to_dict(orient="records"),
    }


def redline_accounting(structure_id: str | None = DEFAULT_STRUCTURE) -> dict[str, Any]:
    """The red line against its 250 km² floor, per town and per zone of ``structure_id``.

    Raises:
        LayerNotFound: when the red line, the towns or the structure are not in the store.
    """
    structure = read_layer(structure_id) if structure_id else None
    report = redline_report(read_layer(REDLINE_ID), read_meta(REDLINE_ID), read_layer(TOWNS_ID), structure)
    report["structure"] = structure_id or ""
    return report


def overlap_check(data: bytes | str) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Parse GeoJSON parcels and overlap them with the red line and the towns.

    Returns:
        ``(result, info)``: ``result`` per parcel (see :func:`gisapp.overlap.overlap_parcels`,
        EPSG:4326); ``info`` = ``{"summary", "input_crs", "repairs", "control_layer",
        "geometry_basis", "illustrative"}``.

    Raises:
        InputError: bad GeoJSON, CRS, or geometry (see :func:`gisapp.parcels.parse_geojson_parcels`).
    """
    parsed = parse_geojson_parcels(data)
    meta = read_meta(REDLINE_ID)
    result, summary = overlap_parcels(parsed.parcels, read_layer(REDLINE_ID), read_layer(TOWNS_ID))
    info = {
        "summary": summary,
        "input_crs": parsed.crs,
        "repairs": parsed.repairs,
        "control_layer": REDLINE_ID,
        "geometry_basis": meta.geometry_basis,
        "illustrative": meta.geometry_basis != "official",
    }
    return result, info
