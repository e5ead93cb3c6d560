"""What an export holds: a stored layer or an overlap result, as features plus metadata.

:func:`layer_source` (a stored layer, optionally with area metrics) and :func:`overlap_frame` (an
overlap result, the one function both overlap output paths use: ``/api/export/overlap`` and
``gisapp export --overlap`` through :func:`overlap_source`, ``/api/overlap`` and ``gisapp overlap``
through :func:`gisapp.report.overlap_report.render`) hand features plus metadata to
:func:`gisapp.io.formats.export_frame`, which writes them with :data:`gisapp.io.writers.WRITERS`.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd

from gisapp.core.crs import PROJECTED
from gisapp.core.errors import InputError
from gisapp.core.frames import polygon_rows
from gisapp.core.limits import Limits
from gisapp.store.layerstore import LayerMeta, LayerStore


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
    gdf = polygon_rows(gdf)
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
    from gisapp.analysis.overlap.usecase import overlap_metadata

    frame = result if isinstance(result, gpd.GeoDataFrame) else result.frame()
    return gpd.GeoDataFrame(frame, crs=frame.crs or PROJECTED), overlap_metadata(info, store)


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
