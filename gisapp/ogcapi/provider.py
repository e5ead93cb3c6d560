"""A pygeoapi feature provider over the gisapp layer store.

Storage CRS: OGC CRS84 (WGS 84 lon/lat), as the layers are stored (:mod:`gisapp.store.layerstore`).
Output CRSs other than CRS84 are produced by pygeoapi's :func:`pygeoapi.util.crs_transform`
(pyproj, axis order of the CRS's authority, as OGC API – Features Part 2 requires).
"""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pygeoapi.provider.base import (
    BaseProvider,
    ProviderInvalidQueryError,
    ProviderItemNotFoundError,
    ProviderQueryError,
)
from pygeoapi.util import crs_transform

from gisapp.core.errors import InputError
from gisapp.ogcapi.config import family_mask
from gisapp.store.layerstore import LayerStore


def _json_type(dtype: Any) -> dict[str, str]:
    if pd.api.types.is_bool_dtype(dtype):
        return {"type": "boolean"}
    if pd.api.types.is_integer_dtype(dtype):
        return {"type": "integer"}
    if pd.api.types.is_float_dtype(dtype):
        return {"type": "number"}
    return {"type": "string"}


class LayerStoreProvider(BaseProvider):
    """pygeoapi ``feature`` provider; ``data`` is a layer id of the store, ``id_field`` its id column.

    ``geometry_family`` (``polygon``, ``line``, ``point``; optional): serve only the features of that
    family (a mixed layer is one collection per family, see :func:`gisapp.ogcapi.config.collection_parts`).

    Supports ``bbox`` (in CRS84 after pygeoapi's ``bbox-crs`` transform), ``limit``/``offset``,
    ``resulttype=hits``, property equality filters (``?name=石岐街道``), ``sortby``,
    ``properties`` and ``skipGeometry``.

    Pages without property filters, ``sortby`` or a geometry family are read from the store by bbox, limit and offset
    (:meth:`~gisapp.store.layerstore.LayerStore.query`, :meth:`~gisapp.store.layerstore.LayerStore.count`):
    a large layer (a million 图斑) is never read whole, and offers no property filters or sorting (400).
    Items of a layer without an ``id`` column, and every item of a large layer, are identified by
    their fid (1-based feature number).
    """

    _fields: dict[str, dict[str, str]]  # set to {} by BaseProvider.__init__, filled by get_fields

    def __init__(self, provider_def: dict[str, Any]) -> None:
        """Args: provider_def: pygeoapi provider block (``name``, ``type``, ``data``, ``id_field``, and
        ``store``: the :class:`~gisapp.store.layerstore.LayerStore` of the app, see :func:`gisapp.ogcapi.config.build_config`)."""
        super().__init__(provider_def)
        self.store: LayerStore = provider_def["store"]
        self.geometry_family: str | None = provider_def.get("geometry_family")
        self.large = self._large()
        self.get_fields()

    def _large(self) -> bool:
        try:
            return self.store.is_large(self.data)
        except InputError as exc:
            raise ProviderQueryError(exc.message) from exc

    def _frame(self) -> gpd.GeoDataFrame:
        """The whole (small, file) layer indexed by fid, or only its features of ``geometry_family``:
        the store's shared cached frame (read-only here), not a copy per request."""
        family = self.geometry_family
        try:
            gdf = self.store.indexed(self.data)
            if family is None:
                return gdf
            return self.store.derived("ogc-family", self.data, lambda: gdf[family_mask(gdf, family)], family)
        except InputError as exc:
            raise ProviderQueryError(exc.message) from exc

    def get_fields(self) -> dict[str, dict[str, str]]:
        """Field names and JSON Schema types of the layer (geometry excluded)."""
        if not self._fields:
            try:
                cols = self.store.columns(self.data)
            except InputError as exc:
                raise ProviderQueryError(exc.message) from exc
            self._fields = {c: _json_type(pd.api.types.pandas_dtype(d)) for c, d in cols.items()}
        return self._fields

    def _feature(self, gdf: gpd.GeoDataFrame, i: int, skip_geometry: bool, select: list[str]) -> dict[str, Any]:
        row = gdf.iloc[i]
        cols = [c for c in gdf.columns if c != gdf.geometry.name and (not select or c in select)]
        props = {c: _py(row[c]) for c in cols}
        geom = gdf.geometry.iloc[i]
        fid = str(row[self.id_field]) if self.id_field in gdf.columns and not self.large else str(gdf.index[i])
        return {
            "type": "Feature",
            "id": fid,
            "geometry": None if skip_geometry or geom is None else json.loads(shapely.to_geojson(geom)),
            "properties": props,
        }

    @crs_transform
    def query(
        self,
        offset: int = 0,
        limit: int = 10,
        resulttype: str = "results",
        bbox: list[float] | None = None,
        datetime_: str | None = None,
        properties: list[tuple[str, str]] | None = None,
        sortby: list[dict[str, str]] | None = None,
        select_properties: list[str] | None = None,
        skip_geometry: bool = False,
        q: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Return a FeatureCollection dict (CRS84) of the matching features, ``limit`` from ``offset``.

        Raises:
            ProviderInvalidQueryError: property filters or ``sortby`` on a large layer (HTTP 400).
        """
        box = None
        if bbox:
            b = [bbox[0], bbox[1], bbox[3], bbox[4]] if len(bbox) == 6 else list(bbox)
            box = (float(b[0]), float(b[1]), float(b[2]), float(b[3]))
        if not properties and not sortby and self.geometry_family is None:
            return self._paged(box, offset, limit, resulttype, select_properties or [], skip_geometry)
        if self.large:
            raise ProviderInvalidQueryError(
                "a large layer is queried by bbox and page only (no property filters, no sortby)"
            )
        gdf = self._frame()
        mask = np.ones(len(gdf), dtype=bool)
        for name, value in properties or []:
            col = gdf[name]
            if pd.api.types.is_numeric_dtype(col):
                mask &= (col == pd.to_numeric(value, errors="coerce")).to_numpy()
            else:
                mask &= (col.astype(str) == value).to_numpy()
        if box:
            mask &= gdf.geometry.intersects(shapely.box(*box)).to_numpy()
        sel = gdf[mask]
        for s in reversed(sortby or []):
            sel = sel.sort_values(s["property"], ascending=s["order"] != "-", kind="stable")
        matched = len(sel)
        features = []
        if resulttype != "hits":
            page = range(offset, min(offset + limit, matched))
            features = [self._feature(sel, i, skip_geometry, select_properties or []) for i in page]
        return {
            "type": "FeatureCollection",
            "features": features,
            "numberMatched": matched,
            "numberReturned": len(features),
        }

    def _paged(
        self,
        box: tuple[float, float, float, float] | None,
        offset: int,
        limit: int,
        resulttype: str,
        select: list[str],
        skip_geometry: bool,
    ) -> dict[str, Any]:
        """A page read from the store by bbox, limit and offset (file and large layers alike)."""
        try:
            matched = self.store.count(self.data, box)
            features = []
            if resulttype != "hits" and limit > 0 and offset < matched:
                page = self.store.query(self.data, box, limit=limit, offset=offset)
                features = [self._feature(page, i, skip_geometry, select) for i in range(len(page))]
        except InputError as exc:
            raise ProviderQueryError(exc.message) from exc
        return {
            "type": "FeatureCollection",
            "features": features,
            "numberMatched": matched,
            "numberReturned": len(features),
        }

    @crs_transform
    def get(self, identifier: str, **kwargs: Any) -> dict[str, Any]:
        """Return one feature (CRS84) by its id (a large layer's: its fid).

        Raises:
            ProviderItemNotFoundError: no feature has that id (HTTP 404).
        """
        if self.large:
            fid = int(identifier) if identifier.isdigit() and len(identifier) < 12 else -1
            try:
                one = self.store.backend.query(self.data, fids=[fid])
            except (KeyError, ValueError) as exc:
                raise ProviderItemNotFoundError(f"item {identifier} not found") from exc
            if one.empty:
                raise ProviderItemNotFoundError(f"item {identifier} not found")
            return self._feature(one, 0, False, [])
        gdf = self._frame()
        ids = gdf[self.id_field].astype(str) if self.id_field in gdf.columns else pd.Series(gdf.index.astype(str))
        hits = np.flatnonzero(ids.to_numpy() == str(identifier))
        if len(hits) == 0:
            raise ProviderItemNotFoundError(f"item {identifier} not found")
        return self._feature(gdf, int(hits[0]), False, [])

    def __repr__(self) -> str:
        return f"<LayerStoreProvider> {self.data}"


def _py(value: Any) -> Any:
    """A JSON-serialisable Python value (NaN → None, numpy scalars → Python)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    if value is pd.NA:
        return None
    return value
