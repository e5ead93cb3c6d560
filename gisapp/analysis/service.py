"""Use cases shared by the CLI and the web layer.

Each function reads what it needs from the layer store, calls the core, and returns plain
data; neither the CLI nor Flask duplicates any of it.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd

from gisapp.analysis.metrics import area_table
from gisapp.analysis.overlap.usecase import overlap_table
from gisapp.store.layerstore import LayerStore

DEFAULT_STRUCTURE = "zs-services-structure"


def layer_metrics(store: LayerStore, layer_id: str) -> dict[str, Any]:
    """Area metrics of every polygon of a stored layer of ``store``.

    Returns:
        ``{"layer", "geometry_basis", "illustrative", "crs_for_areas", "features": [rows of
        gisapp.analysis.metrics.area_table]}``.

    Raises:
        LayerNotFound, InputError (``not_polygons``).
    """
    gdf = store.frame(layer_id)
    meta = store.meta(layer_id)
    gdf = gdf[gdf.geom_type.isin(["Polygon", "MultiPolygon"])]
    table = area_table(gdf)
    return {
        "layer": layer_id,
        "geometry_basis": meta.geometry_basis,
        "illustrative": meta.geometry_basis == "illustrative",
        "crs_for_areas": "EPSG:4547 (planar) and GRS80 geodesic",
        "features": table.to_dict(orient="records"),
    }


def redline_accounting(store: LayerStore, structure_id: str | None = DEFAULT_STRUCTURE) -> dict[str, Any]:
    """The red line against its floor (不少于 250 km²), per town and per zone of ``structure_id``.

    The same report as ``gisapp accounting report`` on the default rule set
    (``rules/zhongshan-industrial-redline.yaml``): both area methods, verdicts on the ellipsoidal area.

    Raises:
        LayerNotFound: when the red line, the towns or the structure are not in the store.
    """
    from gisapp.analysis.accounting import service as accounting

    return accounting.report(structure_id=structure_id or "", store=store)


def overlap_check(
    data: bytes | str,
    filename: str | None = None,
    targets: list[str] | None = None,
    *,
    store: LayerStore,
    output_crs: str | None = "EPSG:4326",
    **options: Any,
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Read parcels in any supported format and overlap them with one or more targets and the towns.

    Args:
        data: the file's bytes or text (GeoJSON, zipped Shapefile, GeoPackage, KML, GeoParquet,
            DXF, boundary-point list, pasted coordinates: see :mod:`gisapp.io.readers`).
        filename: the original file name (a format hint; reported).
        targets: target specs (``LAYER`` or ``LAYER[FIELD=VALUE]``); default: the red line.
        store: the layer store the targets and the towns come from.
        **options: passed to :func:`gisapp.analysis.overlap.run_overlap`: ``fmt``, ``layer`` (force a format;
            choose a layer of a multi-layer file), ``crs``, ``datum``, ``infer``, ``sliver_m2``,
            ``id_field``, ``max_features`` (see :func:`gisapp.analysis.parcels.prepare_parcels`; ``sliver_m2``
            None = 1 m²), ``workers`` (threads; default CPU count), ``pair_function`` (another overlap
            engine, e.g. Dask's: :func:`gisapp.analysis.overlap.dask_overlap_check`).
        output_crs: CRS of the result's geometry (default EPSG:4326; None = EPSG:4547; ``"input"`` = the
            CRS the parcels came in, declared or inferred — GCJ-02/BD-09 input comes back in WGS 84).

    Returns:
        ``(result, info)``: ``result`` one row per parcel and target (see
        :meth:`gisapp.analysis.overlap.OverlapAnalysis.frame`); ``info`` = ``{"summary"`` (first target),
        ``"summaries"`` (per target), ``"targets"`` (title, basis, vintage), ``"rules"`` (plan
        sentences), ``"input_crs"``, ``"crs"`` (the CRS decision), ``"repairs"``, ``"dropped"``,
        ``"qa"``, ``"input"`` (file name, format, bytes, SHA-256), ``"towns_layer"``,
        ``"control_layer"``, ``"geometry_basis"``, ``"illustrative"``, ``"units"``, ``"generated"}``.

    Raises:
        InputError: bad file, CRS, geometry or target (codes in :mod:`gisapp.analysis.parcels`,
            :mod:`gisapp.core.crsinfer`, :mod:`gisapp.analysis.overlap`).
    """
    return overlap_table(data, filename, targets, store=store, output_crs=output_crs, **options)
