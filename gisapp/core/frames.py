"""Guards shared by every analysis that takes a layer of polygons."""

from __future__ import annotations

import geopandas as gpd

from gisapp.core.errors import InputError

#: The geometry types an area analysis accepts.
POLYGONAL = ("Polygon", "MultiPolygon")


def polygon_rows(
    gdf: gpd.GeoDataFrame,
    what: str | None = None,
    *,
    empty: str | None = None,
    code: str = "not_polygons",
) -> gpd.GeoDataFrame:
    """The Polygon and MultiPolygon rows of ``gdf`` (any CRS), index reset.

    Args:
        gdf: features of any geometry type.
        what: what the layer is, for messages (``"control line"``). With ``what`` the layer must have
            a CRS and at least one polygon; without it nothing is raised (a filter only).
        empty: the message when no row is a polygon (default ``"the <what> holds no polygons"``).
        code: the error code for "no polygons" (``not_polygons``; the accounting line says ``no_polygons``).

    Raises:
        InputError: ``missing_crs`` (400) when ``what`` is given and ``gdf`` has no CRS; ``code`` (422)
            when ``what`` is given and no row is a polygon.
    """
    if what is not None and gdf.crs is None:
        raise InputError(f"the {what} has no CRS", code="missing_crs")
    polys = gdf[gdf.geom_type.isin(POLYGONAL)].reset_index(drop=True)
    if what is not None and polys.empty:
        raise InputError(empty or f"the {what} holds no polygons", code=code, status=422)
    return polys
