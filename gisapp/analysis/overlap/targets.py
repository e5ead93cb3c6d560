"""Targets of the overlap (压占分析): polygon layers of the store as :class:`ControlLayer` objects.

A target is named by a spec, ``LAYER`` or ``LAYER[FIELD=VALUE]`` (e.g. the red line of one tier,
``zs-industrial-redline[tier=一级]``), or a list holds a named set of control lines (``controls``,
``三区三线``: :func:`expand_targets`); :func:`load_control` reads a spec from a
:class:`gisapp.store.layerstore.LayerStore` (cached by the store until the layer's files change),
:func:`control_from_frame` builds one from any polygon frame. Geometries are held in EPSG:4547
(CGCS2000 / 3-degree GK CM 114E), made valid, with an STRtree and per-thread prepared copies
for the engine (:mod:`gisapp.analysis.overlap.engine`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer

from gisapp.core.crs import PROJECTED
from gisapp.core.crsinfer import PROJECTED_CRS
from gisapp.core.errors import InputError
from gisapp.core.frames import polygon_rows
from gisapp.plans.redline import LAYER_ID as REDLINE_ID
from gisapp.plans.towns import LAYER_ID as TOWNS_ID
from gisapp.store.layerstore import LayerMeta, LayerStore, check_layer_id

#: Features with more vertices than this are cut into tiles of ``TILE_M`` metres
#: (see ``ControlLayer.pieces``).
TILE_VERTICES = 2_000
TILE_M = 2_000.0
_SPEC_RE = re.compile(r"^(?P<layer>[a-z0-9][a-z0-9-]{0,63})(\[(?P<field>[^=\]]+)=(?P<value>[^\]]*)\])?$")
_ID_FIELDS = ("block_id", "id", "name")


@dataclass
class ControlLayer:
    """A target of the overlap: polygon features in EPSG:4547 with ids and names.

    Attributes:
        spec: the target as requested (``zs-industrial-redline`` or ``LAYER[FIELD=VALUE]``).
        layer_id: the store layer it comes from.
        geometries: Polygons/MultiPolygons in EPSG:4547 (valid; made valid on load).
        ids: one id per feature (``block_id``, else ``id``, else ``name``, else a number).
        names: one display name per feature (``name`` or the id).
        meta: the layer's metadata (title, basis, source, vintage …), or None for ad-hoc frames.
        filter: ``(field, value)`` when the spec selects a subset.
        modified: the layer file's modification time (ISO 8601, UTC), ``""`` for ad-hoc frames.
    """

    spec: str
    layer_id: str
    geometries: np.ndarray
    ids: np.ndarray
    names: np.ndarray
    meta: LayerMeta | None = None
    filter: tuple[str, str] | None = None
    modified: str = ""
    _tree: shapely.STRtree | None = field(default=None, repr=False)
    _pieces: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    _pool: list[np.ndarray] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def pieces(self) -> tuple[np.ndarray, np.ndarray]:
        """``(piece_geometries, piece_to_feature)``: complex features cut into tiles.

        A feature with more than :data:`TILE_VERTICES` vertices (e.g. an official 镇街 boundary)
        is cut into :data:`TILE_M` × :data:`TILE_M` tiles (:func:`shapely.clip_by_rect`), so that
        the intersection of a parcel on its edge is computed against a small piece. (Tiling
        simple features does not pay: more parcels then straddle tile lines.) Pieces of one
        feature do not overlap, so areas summed over pieces equal the area with the feature.
        Built once.
        """
        if self._pieces is None:
            geoms, owner = [], []
            for k, g in enumerate(self.geometries):
                if shapely.get_num_coordinates(g) <= TILE_VERTICES:
                    geoms.append(g)
                    owner.append(k)
                    continue
                x0, y0, x1, y1 = g.bounds
                xs = np.arange(x0, x1 + TILE_M, TILE_M)
                ys = np.arange(y0, y1 + TILE_M, TILE_M)
                gx, gy = np.meshgrid(xs[:-1], ys[:-1])
                cut = [shapely.clip_by_rect(g, a, b, a + TILE_M, b + TILE_M) for a, b in zip(gx.ravel(), gy.ravel())]
                for piece in cut:
                    if not piece.is_empty and piece.area > 0:
                        geoms.append(piece)
                        owner.append(k)
            arr = np.empty(len(geoms), dtype=object)
            arr[:] = geoms
            self._pieces = (arr, np.asarray(owner, dtype=np.int64))
        return self._pieces

    @property
    def tree(self) -> shapely.STRtree:
        """STRtree over the :attr:`pieces` (built once; read-only, shared by threads)."""
        if self._tree is None:
            self._tree = shapely.STRtree(self.pieces[0])
        return self._tree

    @contextmanager
    def prepared(self) -> Iterator[np.ndarray]:
        """Borrow a prepared copy of the :attr:`pieces` for the calling thread (context manager).

        GEOS builds a prepared geometry's indexes lazily, which is not thread-safe, so each
        concurrent user gets its own copy; copies are pooled and reused (a web server runs
        every request on a new thread).
        """
        with self._lock:
            geoms = self._pool.pop() if self._pool else None
        if geoms is None:
            geoms = shapely.from_wkb(shapely.to_wkb(self.pieces[0]))
            shapely.prepare(geoms)
        try:
            yield geoms
        finally:
            with self._lock:
                self._pool.append(geoms)

    @property
    def geometry_basis(self) -> str:
        """``official`` | ``schematic`` | ``illustrative`` (from the metadata; ``unknown`` without)."""
        return self.meta.geometry_basis if self.meta else "unknown"

    def info(self) -> dict[str, Any]:
        """The target's description for results and reports (title, basis, filter, vintage)."""
        m = self.meta
        return {
            "target": self.spec,
            "layer": self.layer_id,
            "title": m.title if m else self.layer_id,
            "title_en": m.title_en if m else self.layer_id,
            "geometry_basis": self.geometry_basis,
            "illustrative": self.geometry_basis != "official",
            "filter": {"field": self.filter[0], "value": self.filter[1]} if self.filter else None,
            "feature_count": int(len(self.geometries)),
            "vintage": {
                "source": m.source if m else "",
                "licence": m.licence if m else "",
                "datum": m.datum if m else "",
                "description": m.description if m else "",
                "notes": list(m.notes) if m else [],
                "layer_file_modified": self.modified,
            },
        }


def parse_target_spec(spec: str) -> tuple[str, str | None, str | None]:
    """Split ``LAYER`` or ``LAYER[FIELD=VALUE]`` (e.g. ``zs-industrial-redline[tier=一级]``).

    Returns:
        ``(layer_id, field, value)``; field and value are None without a filter.

    Raises:
        InputError: ``invalid_target`` for any other text.
    """
    m = _SPEC_RE.match(spec.strip())
    if not m:
        raise InputError(
            f"invalid target '{spec}': use a layer id, optionally with [FIELD=VALUE], e.g. zs-industrial-redline[tier=一级]",
            code="invalid_target",
        )
    return m["layer"], m["field"], m["value"]


def control_from_frame(
    gdf: gpd.GeoDataFrame,
    spec: str = "ad-hoc",
    id_field: str | None = None,
    meta: LayerMeta | None = None,
    filter: tuple[str, str] | None = None,
    modified: str = "",
) -> ControlLayer:
    """Build a :class:`ControlLayer` from polygon features.

    Args:
        gdf: features in any CRS (transformed to EPSG:4547); non-polygons are ignored.
        spec: the target's name in results.
        id_field: column of feature ids (default: ``block_id``, ``id``, ``name``, else 1, 2 …).
        meta: layer metadata, if any. filter, modified: see :class:`ControlLayer`.

    Raises:
        InputError: ``missing_crs`` when ``gdf`` has no CRS; ``not_polygons`` (422) when no
            feature is a polygon.
    """
    polys = polygon_rows(gdf, "target layer", empty=f"target '{spec}' has no polygon features")
    geoms = (
        polys.to_crs(PROJECTED).geometry.to_numpy()
        if polys.crs is None or not polys.crs.equals(PROJECTED_CRS)
        else polys.geometry.to_numpy()
    )
    geoms = shapely.make_valid(np.asarray(geoms, dtype=object))
    col = id_field if id_field and id_field in polys else next((c for c in _ID_FIELDS if c in polys), None)
    ids = polys[col].astype(str).to_numpy() if col else np.arange(1, len(polys) + 1).astype(str)
    names = polys["name"].astype(str).to_numpy() if "name" in polys else ids
    return ControlLayer(spec, spec.split("[")[0], geoms, ids, names, meta, filter, modified)


def load_control(spec: str, store: LayerStore, near: np.ndarray | None = None) -> ControlLayer:
    """Load a target from the layer store (cached by the store until the layer's files change).

    Args:
        spec: ``LAYER`` or ``LAYER[FIELD=VALUE]`` (see :func:`parse_target_spec`).
        store: the layer store.
        near: the parcels' geometries (EPSG:4547). Required for a large layer (a million 图斑,
            :meth:`gisapp.store.layerstore.LayerStore.is_large`): only its features whose envelope meets a
            parcel's are read (:func:`large_target`), never the whole layer; ignored for file layers.

    Returns:
        the :class:`ControlLayer` (EPSG:4547); shared through the store's cache, not to be modified.

    Raises:
        InputError: ``invalid_target``; ``layer_not_found`` (404); ``missing_field`` when the
            filter's field is not in the layer; ``empty_target`` (422) when the filter selects
            nothing; ``not_polygons`` (422); ``large_target`` (422) for a large layer without ``near``.
    """
    layer_id, fld, value = parse_target_spec(spec)
    check_layer_id(layer_id)
    if store.is_large(layer_id):
        return large_target(spec, store, near)

    def make() -> ControlLayer:
        gdf = store.frame(layer_id)  # raises LayerNotFound (404)
        meta = store.meta(layer_id)
        if fld is not None:
            if fld not in gdf.columns:
                raise InputError(f"layer '{layer_id}' has no field '{fld}'", code="missing_field")
            gdf = gdf[gdf[fld].astype(str) == value]
            if gdf.empty:
                raise InputError(f"no feature of '{layer_id}' has {fld} = {value}", code="empty_target", status=422)
        mtime = store.path(layer_id).stat().st_mtime
        modified = datetime.fromtimestamp(mtime, UTC).isoformat(timespec="seconds")
        return control_from_frame(gdf, spec, meta=meta, filter=(fld, value or "") if fld else None, modified=modified)

    return store.derived("control", layer_id, make, spec)


def check_target(spec: str, store: LayerStore) -> None:
    """Check a target before any parcel is read: the spec, the layer and the filter's field.

    A file layer is loaded (:func:`load_control`, cached); a large one only has its fields checked.

    Raises:
        InputError: as :func:`load_control` (``large_target`` excepted).
    """
    layer_id, fld, _ = parse_target_spec(spec)
    check_layer_id(layer_id)
    if not store.is_large(layer_id):
        load_control(spec, store)
    elif fld is not None and fld not in store.columns(layer_id):
        raise InputError(f"layer '{layer_id}' has no field '{fld}'", code="missing_field")


def _boxes_4326(geoms: np.ndarray) -> list[tuple[float, float, float, float]]:
    """Envelopes of EPSG:4547 geometries as lon/lat boxes (EPSG:4326, the corners transformed)."""
    b = shapely.bounds(geoms)
    b = b[~np.isnan(b).any(axis=1)]
    to_ll = Transformer.from_crs(PROJECTED_CRS, "EPSG:4326", always_xy=True)
    xs = np.concatenate([b[:, 0], b[:, 2], b[:, 0], b[:, 2]])
    ys = np.concatenate([b[:, 1], b[:, 1], b[:, 3], b[:, 3]])
    lon, lat = (np.asarray(v).reshape(4, -1) for v in to_ll.transform(xs, ys))
    return list(zip(lon.min(0).tolist(), lat.min(0).tolist(), lon.max(0).tolist(), lat.max(0).tolist()))


def large_target(spec: str, store: LayerStore, near: np.ndarray | None) -> ControlLayer:
    """A large layer as a target: only its features whose envelope meets a parcel's envelope
    (:meth:`gisapp.store.layerstore.LayerStore.query_boxes`), in EPSG:4547; not cached (it depends
    on the parcels). No feature near the parcels gives a target with no features (no overlap).

    Raises:
        InputError: ``large_target`` (422) when ``near`` is None; ``missing_field``; ``layer_not_found``.
    """
    layer_id, fld, value = parse_target_spec(spec)
    if near is None:
        raise InputError(
            f"'{layer_id}' is a large layer: it is a target only for given parcels", code="large_target", status=422
        )
    have = store.columns(layer_id)
    if fld is not None and fld not in have:
        raise InputError(f"layer '{layer_id}' has no field '{fld}'", code="missing_field")
    wanted = [c for c in (*_ID_FIELDS, fld) if c is not None and c in have]
    gdf = store.query_boxes(layer_id, _boxes_4326(np.asarray(near, dtype=object)), columns=list(dict.fromkeys(wanted)))
    if fld is not None:
        gdf = gdf[gdf[fld].astype(str) == value]
    meta = store.meta(layer_id)
    mtime = store.meta_path(layer_id).stat().st_mtime
    modified = datetime.fromtimestamp(mtime, UTC).isoformat(timespec="seconds")
    filt = (fld, value or "") if fld else None
    gdf = gdf[gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    if gdf.empty:
        none = np.empty(0, dtype=object)
        return ControlLayer(spec, layer_id, none, none.copy(), none.copy(), meta, filt, modified)
    # without an id field, features are numbered by fid, as a file layer's are by row (1, 2 …)
    id_field = None if any(c in gdf for c in _ID_FIELDS) else "fid"
    return control_from_frame(gdf.reset_index(), spec, id_field=id_field, meta=meta, filter=filt, modified=modified)


def default_targets() -> list[str]:
    """The default target list: the industrial land protection red line only."""
    return [REDLINE_ID]


def target_sets() -> dict[str, list[str]]:
    """Named sets a target list may hold, ``name → layer ids``: ``controls`` (every control line of
    :data:`gisapp.plans.controllines.CONTROL_LINES`: the industrial red line, 永久基本农田, 生态保护红线,
    城镇开发边界) and ``三区三线`` (the three national lines)."""
    from gisapp.plans.controllines import CONTROL_LINES, LINE_SETS

    return {name: [CONTROL_LINES[k].layer_id for k in keys] for name, keys in LINE_SETS.items()}


def expand_targets(specs: list[str]) -> list[str]:
    """Replace each named set (:func:`target_sets`, e.g. ``controls``) by its layers; keep order, drop repeats.

    Args:
        specs: target specs (``LAYER``, ``LAYER[FIELD=VALUE]``) or set names.

    Returns:
        the target specs, each once.
    """
    sets = target_sets()
    out: list[str] = []
    for spec in specs:
        for s in sets.get(spec.strip(), [spec]):
            if s not in out:
                out.append(s)
    return out


def towns_control(store: LayerStore) -> ControlLayer | None:
    """The 镇街 layer of ``store`` as a :class:`ControlLayer`, or None when the store has none."""
    try:
        return load_control(TOWNS_ID, store)
    except InputError:
        return None
