"""The interface every large-layer backend implements (GeoPackage, PostGIS).

All geometries go in and come out in EPSG:4326 (OGC CRS84 axis order: lon, lat), the CRS of the
layer store; a bbox is ``(min_lon, min_lat, max_lon, max_lat)`` in the same CRS. Areas are never
computed here (see :mod:`gisapp.core.units` and the analysis package for m², km², 亩).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

import geopandas as gpd
import numpy as np

BBox = tuple[float, float, float, float]


@runtime_checkable
class FeatureBackend(Protocol):
    """A spatially indexed store of large layers, one table per layer id.

    Implementations: ``gpkg`` (:mod:`gisapp.store.backends.gpkg`, the embedded default) and
    ``postgis`` (:mod:`gisapp.store.backends.postgis`, when ``GISAPP_DATABASE_URL`` is set).
    Every method that takes a ``layer_id`` raises :class:`KeyError` when the layer is absent.
    Results are identical between backends for the same data (tested), features ordered by
    their ``fid`` (1-based, the order of import).
    """

    name: str

    def layers(self) -> list[str]:
        """Layer ids held by this backend, sorted."""
        ...

    def write(self, layer_id: str, chunks: Iterable[gpd.GeoDataFrame]) -> int:
        """Replace ``layer_id`` atomically with the concatenation of ``chunks`` (EPSG:4326 frames
        of one schema); readers see the old layer or the new one, never a mix. Returns the feature
        count. Raises ``ValueError`` on a chunk not in EPSG:4326 or with a different schema."""
        ...

    def drop(self, layer_id: str) -> None:
        """Remove ``layer_id`` (no error when absent)."""
        ...

    def columns(self, layer_id: str) -> dict[str, str]:
        """Attribute columns and their pandas dtypes (``fid`` and the geometry excluded)."""
        ...

    def bounds(self, layer_id: str) -> BBox:
        """Extent of the layer in EPSG:4326 degrees."""
        ...

    def count(self, layer_id: str, bbox: BBox | None = None) -> int:
        """Number of features, or of features whose geometry intersects ``bbox``."""
        ...

    def query(
        self,
        layer_id: str,
        bbox: BBox | None = None,
        *,
        limit: int | None = None,
        offset: int = 0,
        columns: list[str] | None = None,
        fids: list[int] | None = None,
    ) -> gpd.GeoDataFrame:
        """Features intersecting ``bbox`` (all when None), ordered by fid, paged by
        ``limit``/``offset``; ``columns`` limits the attributes (None = all); ``fids`` selects by id.
        Uses the spatial index: cost grows with the result, not the layer. The frame's index is
        the fid; CRS EPSG:4326."""
        ...

    def fids_in_boxes(self, layer_id: str, boxes: Iterable[BBox]) -> np.ndarray:
        """Sorted fids of the features whose index envelope meets any of ``boxes`` (EPSG:4326): a superset
        of those intersecting them, found through the spatial index without reading a geometry (e.g. the
        targets near 10 000 parcels)."""
        ...

    def tile(self, layer_id: str, z: int, x: int, y: int, *, columns: list[str] | None = None) -> bytes:
        """Mapbox Vector Tile (MVT 2.1, extent 4096, layer name = ``layer_id``) of the features in
        XYZ tile ``z/x/y`` (Web Mercator, EPSG:3857 tiling); empty bytes when none."""
        ...
