"""Use cases shared by the CLI and the web layer.

Each function reads what it needs from the layer store, calls the core, and returns plain
data; neither the CLI nor Flask duplicates any of it.
"""

from __future__ import annotations

from typing import Any

from gisapp.analysis.metrics import area_table
from gisapp.analysis.overlap.usecase import overlap_table
from gisapp.core.frames import polygon_rows
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
    gdf = polygon_rows(gdf)
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


#: Read parcels in any format and overlap them with targets and the towns: :func:`gisapp.analysis.overlap.usecase.overlap_table`.
overlap_check = overlap_table
