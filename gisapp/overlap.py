"""Overlap analysis (压占分析): parcels against any polygon layer of the store — the engine.

For every parcel and every target (the red line, a structure's zones, the towns, a filtered
subset such as the red line of one tier): the area the parcel shares with the target (m², 公顷,
亩, % of the parcel), the ids and names of the touched features, and the 镇街 the parcel lies in;
and a summary per target. All areas are planar in EPSG:4547 (CGCS2000 / 3-degree GK CM 114E).

Engine (:func:`overlap_pairs`), shapely 2 vectorised:

1. an STRtree over the target's features is queried with all parcels' envelopes at once;
2. candidate pairs whose parcel lies wholly inside the feature (``contains_properly`` on the
   *prepared* feature) take the parcel's own area — no intersection computed;
3. the remaining pairs that intersect get ``area(intersection)``;
4. parcels are cut into chunks run on a thread pool (shapely releases the GIL), each thread
   with its own prepared copy of the features (GEOS builds prepared indexes lazily, which is
   not thread-safe).

A parcel touching several features of one target is measured against their union, so
overlapping features (a core inside a zone) are not counted twice.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gisapp.crs import PROJECTED, WGS84
from gisapp.crsinfer import PROJECTED_CRS, transform_geoms
from gisapp.errors import InputError
from gisapp.layerstore import LayerMeta, LayerStore, check_layer_id
from gisapp.limits import Limits
from gisapp.redline import LAYER_ID as REDLINE_ID
from gisapp.redline import REDLINE_TARGET
from gisapp.towns import LAYER_ID as TOWNS_ID
from gisapp.units import M2_PER_HA, M2_PER_KM2, M2_PER_MU, area_fields

#: Parcels per chunk of the thread pool; below ``2 * CHUNK`` parcels everything runs inline.
CHUNK = 50_000
#: Features with more vertices than this are cut into tiles of ``TILE_M`` metres
#: (see ``ControlLayer.pieces``).
TILE_VERTICES = 2_000
TILE_M = 2_000.0
_SPEC_RE = re.compile(r"^(?P<layer>[a-z0-9][a-z0-9-]{0,63})(\[(?P<field>[^=\]]+)=(?P<value>[^\]]*)\])?$")
_ID_FIELDS = ("block_id", "id", "name")


def chunked(fn: Callable[[np.ndarray], np.ndarray], values: np.ndarray, workers: int | None = None) -> np.ndarray:
    """Apply a vectorised shapely/pyproj function to ``values`` in chunks on a thread pool.

    shapely 2 and pyproj release the GIL inside their vectorised calls, so chunks run on all
    cores. Inputs under ``2 * CHUNK`` run inline.

    Args:
        fn: array → array of the same length (e.g. :func:`shapely.is_valid`).
        values: the input array.
        workers: threads (default: CPU count).

    Returns:
        the concatenated results.
    """
    n = len(values)
    if n < 2 * CHUNK or workers == 1:
        return fn(values)
    workers = workers or os.cpu_count() or 1
    size = -(-n // (workers * 4))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        parts = list(pool.map(lambda s: fn(values[s : s + size]), range(0, n, size)))
    return np.concatenate(parts)


def to_crs_array(geoms: np.ndarray, crs: str, workers: int | None = None) -> np.ndarray:
    """EPSG:4547 geometries transformed to ``crs`` with pyproj (chunked on threads)."""
    return chunked(lambda g: transform_geoms(g, PROJECTED_CRS, crs), geoms, workers)


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
    if gdf.crs is None:
        raise InputError("the target layer has no CRS", code="missing_crs")
    polys = gdf[gdf.geom_type.isin(["Polygon", "MultiPolygon"])]
    if polys.empty:
        raise InputError(f"target '{spec}' has no polygon features", code="not_polygons", status=422)
    geoms = (
        polys.to_crs(PROJECTED).geometry.to_numpy()
        if not polys.crs.equals(PROJECTED_CRS)
        else polys.geometry.to_numpy()
    )
    geoms = shapely.make_valid(np.asarray(geoms, dtype=object))
    col = id_field if id_field and id_field in polys else next((c for c in _ID_FIELDS if c in polys), None)
    ids = polys[col].astype(str).to_numpy() if col else np.arange(1, len(polys) + 1).astype(str)
    names = polys["name"].astype(str).to_numpy() if "name" in polys else ids
    return ControlLayer(spec, spec.split("[")[0], geoms, ids, names, meta, filter, modified)


def load_control(spec: str, store: LayerStore) -> ControlLayer:
    """Load a target from the layer store (cached by the store until the layer's files change).

    Args:
        spec: ``LAYER`` or ``LAYER[FIELD=VALUE]`` (see :func:`parse_target_spec`).
        store: the layer store.

    Returns:
        the :class:`ControlLayer` (EPSG:4547); shared through the store's cache, not to be modified.

    Raises:
        InputError: ``invalid_target``; ``layer_not_found`` (404); ``missing_field`` when the
            filter's field is not in the layer; ``empty_target`` (422) when the filter selects
            nothing; ``not_polygons`` (422).
    """
    layer_id, fld, value = parse_target_spec(spec)
    check_layer_id(layer_id)

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


def _pairs_chunk(parcels: np.ndarray, offset: int, control: ControlLayer) -> tuple[np.ndarray, ...]:
    pieces, owner = control.pieces
    ci, fi = control.tree.query(parcels)
    if len(ci) == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0)
    with control.prepared() as feats:
        inside = shapely.contains_properly(feats[fi], parcels[ci])
        area = np.zeros(len(ci))
        area[inside] = shapely.area(parcels[ci[inside]])
        rest = np.flatnonzero(~inside)
        hit = rest[shapely.intersects(feats[fi[rest]], parcels[ci[rest]])]
    area[hit] = shapely.area(shapely.intersection(parcels[ci[hit]], pieces[fi[hit]]))
    keep = area > 0
    ci, fi, area = ci[keep], owner[fi[keep]], area[keep]
    if len(pieces) != len(control.geometries) and len(ci):
        # several pieces of one feature: sum them into one (parcel, feature) pair
        key = ci.astype(np.int64) * len(control.geometries) + fi
        uniq, inverse = np.unique(key, return_inverse=True)
        area = np.bincount(inverse, weights=area)
        ci, fi = uniq // len(control.geometries), uniq % len(control.geometries)
    return ci + offset, fi, area


def overlap_pairs(
    parcels: np.ndarray, control: ControlLayer, workers: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (parcel, feature) pair that shares area, with that area.

    Args:
        parcels: Polygons/MultiPolygons in EPSG:4547 (valid).
        control: the target (EPSG:4547).
        workers: threads (default: the machine's CPU count); inputs under ``2 * CHUNK``
            parcels run in the calling thread.

    Returns:
        ``(parcel_index, feature_index, area_m2)`` arrays, area > 0, planar m².
    """
    n = len(parcels)
    if n < 2 * CHUNK or workers == 1:
        return _pairs_chunk(parcels, 0, control)
    workers = workers or os.cpu_count() or 1
    starts = range(0, n, CHUNK)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        parts = list(pool.map(lambda s: _pairs_chunk(parcels[s : s + CHUNK], s, control), starts))
    return tuple(np.concatenate([p[k] for p in parts]) for k in range(3))  # type: ignore[return-value]


def _union_fix(parcels: np.ndarray, control: ControlLayer, pi: np.ndarray, fi: np.ndarray, overlap: np.ndarray) -> None:
    """Re-measure parcels touching several features against the union of those features."""
    counts = np.bincount(pi, minlength=len(overlap))
    multi = np.flatnonzero(counts > 1)
    if len(multi) == 0:
        return
    order = np.argsort(pi, kind="stable")
    spi, sfi = pi[order], fi[order]
    starts = np.searchsorted(spi, multi)
    for p, s in zip(multi, starts):
        feats = control.geometries[sfi[s : s + counts[p]]]
        overlap[p] = shapely.area(shapely.intersection(parcels[p], shapely.union_all(feats)))


def _joined(n: int, pi: np.ndarray, labels: np.ndarray, sep: str, key: np.ndarray | None = None) -> np.ndarray:
    """Per parcel, the distinct ``labels`` of its pairs joined by ``sep``; ``""`` for none.

    Labels are ordered by ``key`` (default: the labels themselves).

    Parcels with one pair (nearly all) are filled vectorised; the rest in a loop.
    """
    out = np.full(n, "", dtype=object)
    if len(pi) == 0:
        return out
    counts = np.bincount(pi, minlength=n)
    single = counts[pi] == 1
    out[pi[single]] = labels[single].astype(str)
    multi = ~single
    if multi.any():
        mpi, mlab = pi[multi], labels[multi].astype(str)
        order = np.lexsort((mlab if key is None else key[multi], mpi))
        groups: dict[int, list[str]] = {}
        for p, lab in zip(mpi[order].tolist(), mlab[order].tolist()):
            groups.setdefault(p, []).append(lab)
        for p, labs in groups.items():
            out[p] = sep.join(dict.fromkeys(labs))
    return out


@dataclass
class TargetResult:
    """The overlap of all parcels with one target.

    Attributes:
        control: the target.
        overlap_m2: per parcel, planar m² shared with the target (union of its features).
        feature_ids: per parcel (object array of str), ids of the touched features joined by ``,``.
        feature_names: per parcel (object array of str), their names joined by ``、``.
        by_feature: per touched feature: ``{id, name, parcels, area_m2, area_ha, area_mu, area_km2}``.
    """

    control: ControlLayer
    overlap_m2: np.ndarray
    feature_ids: np.ndarray
    feature_names: np.ndarray
    by_feature: list[dict[str, Any]]


@dataclass
class OverlapAnalysis:
    """Parcels × targets: the per-parcel figures and the summaries (see :func:`analyse`).

    Attributes:
        ids: parcel ids (str).
        geometries: the parcels in EPSG:4547.
        properties: the parcels' attributes (one row per parcel; no ``parcel_id``/geometry).
        parcel_area_m2: planar area of each parcel (m²).
        towns: per parcel (object array of str), the 镇街 it lies in (joined by ``、``, town-layer order).
        targets: one :class:`TargetResult` per target, in the order requested.
    """

    ids: np.ndarray
    geometries: np.ndarray
    properties: pd.DataFrame
    parcel_area_m2: np.ndarray
    towns: np.ndarray
    targets: list[TargetResult]

    def summary(self, t: TargetResult) -> dict[str, Any]:
        """Summary of one target: counts, parcel and overlap areas (m², km², 公顷, 亩), % and features."""
        parea, ov = self.parcel_area_m2, t.overlap_m2
        touched = [f["id"] for f in t.by_feature]
        return {
            "target": t.control.spec,
            "parcel_count": int(len(parea)),
            "overlapping_count": int((ov > 0).sum()),
            **area_fields(float(parea.sum()), prefix="parcel_area"),
            **area_fields(float(ov.sum()), prefix="overlap"),
            "overlap_pct": round(float(ov.sum() / parea.sum() * 100), 3) if parea.sum() else 0.0,
            "features_touched": touched,
            "blocks_touched": touched,
            "by_feature": t.by_feature,
        }

    def summaries(self) -> dict[str, dict[str, Any]]:
        """``{target spec: summary}`` for every target, in order."""
        return {t.control.spec: self.summary(t) for t in self.targets}

    def frame(self, crs: str | None = WGS84) -> gpd.GeoDataFrame:
        """The long table: one row per parcel and target (target-major), with geometry.

        Args:
            crs: CRS of the geometry column (default EPSG:4326; None keeps EPSG:4547).

        Returns:
            GeoDataFrame with the parcel's attributes plus ``target, parcel_area_m2, overlap_m2,
            overlap_ha, overlap_mu, overlap_km2, overlap_pct, features`` (ids joined by ``,``),
            ``blocks`` (the same, name kept from the first release), ``feature_names``,
            ``towns``, ``overlaps`` (bool).
        """
        n = len(self.ids)
        props = self.properties.reset_index(drop=True) if len(self.properties.columns) else None
        geoms = self.geometries
        if crs is not None and crs != PROJECTED:
            geoms = to_crs_array(geoms, crs)
        parea = self.parcel_area_m2
        frames = []
        for t in self.targets:
            ov = t.overlap_m2
            cols: dict[str, Any] = {"parcel_id": pd.Series(self.ids.astype(str), dtype=object)}
            if props is not None:
                cols.update({c: props[c] for c in props.columns if c not in cols})
            cols.update(
                {
                    "target": pd.Series(np.full(n, t.control.spec, dtype=object), dtype=object),
                    "parcel_area_m2": np.round(parea, 2),
                    "overlap_m2": np.round(ov, 2),
                    "overlap_ha": np.round(ov / M2_PER_HA, 4),
                    "overlap_mu": np.round(ov / M2_PER_MU, 4),
                    "overlap_km2": np.round(ov / M2_PER_KM2, 6),
                    "overlap_pct": np.round(np.where(parea > 0, ov / np.where(parea > 0, parea, 1) * 100, 0.0), 3),
                    "features": pd.Series(t.feature_ids, dtype=object),
                    "blocks": pd.Series(t.feature_ids, dtype=object),
                    "feature_names": pd.Series(t.feature_names, dtype=object),
                    "towns": pd.Series(self.towns, dtype=object),
                    "overlaps": ov > 0,
                }
            )
            frames.append(pd.DataFrame(cols))
        table = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        all_geoms = geoms if len(frames) == 1 else np.concatenate([geoms] * len(frames))
        return gpd.GeoDataFrame(table, geometry=all_geoms, crs=crs or PROJECTED)

    def records(self) -> list[dict[str, Any]]:
        """The rows of :meth:`frame` (same keys and rounding) as plain dicts, without geometry.

        Built without pandas, for small inputs (one HTTP request = one parcel): the same
        figures as :meth:`frame`, target-major.
        """
        props = self.properties.to_dict(orient="records") if len(self.properties.columns) else [{}] * len(self.ids)
        parea = self.parcel_area_m2
        out = []
        for t in self.targets:
            ov = t.overlap_m2
            for i in range(len(self.ids)):
                a, o = float(parea[i]), float(ov[i])
                out.append(
                    {
                        "parcel_id": str(self.ids[i]),
                        **props[i],
                        "target": t.control.spec,
                        "parcel_area_m2": round(a, 2),
                        "overlap_m2": round(o, 2),
                        "overlap_ha": round(o / M2_PER_HA, 4),
                        "overlap_mu": round(o / M2_PER_MU, 4),
                        "overlap_km2": round(o / M2_PER_KM2, 6),
                        "overlap_pct": round(o / a * 100, 3) if a > 0 else 0.0,
                        "features": t.feature_ids[i],
                        "blocks": t.feature_ids[i],
                        "feature_names": t.feature_names[i],
                        "towns": self.towns[i],
                        "overlaps": o > 0,
                    }
                )
        return out


PairFunction = Callable[[np.ndarray, ControlLayer], tuple[np.ndarray, np.ndarray, np.ndarray]]


def measure_target(
    parcels: np.ndarray, control: ControlLayer, workers: int | None = None, pair_function: PairFunction | None = None
) -> TargetResult:
    """Overlap of EPSG:4547 parcels with one target (see the module docstring for the engine).

    Args:
        parcels: Polygons/MultiPolygons in EPSG:4547.
        control: the target.
        workers: threads of the in-process engine.
        pair_function: another engine with the signature of :func:`overlap_pairs` (without
            ``workers``), e.g. the Dask one of :func:`dask_overlap_check`.

    Returns:
        the :class:`TargetResult` (areas planar m²).
    """
    n = len(parcels)
    if pair_function is not None:
        pi, fi, area = pair_function(parcels, control)
    else:
        pi, fi, area = overlap_pairs(parcels, control, workers)
    order = np.lexsort((fi, pi))  # one order whatever the engine: identical sums
    pi, fi, area = pi[order], fi[order], area[order]
    overlap = np.bincount(pi, weights=area, minlength=n).astype(float)
    _union_fix(parcels, control, pi, fi, overlap)
    by_area = np.bincount(fi, weights=area, minlength=len(control.ids))
    by_count = np.bincount(fi, minlength=len(control.ids))
    by_feature = [
        {
            "id": str(control.ids[k]),
            "name": str(control.names[k]),
            "parcels": int(by_count[k]),
            **area_fields(float(by_area[k])),
        }
        for k in np.flatnonzero(by_count)
    ]
    return TargetResult(
        control,
        overlap,
        _joined(n, pi, control.ids[fi], ","),
        _joined(n, pi, control.names[fi], "、"),
        by_feature,
    )


def analyse(
    parcels: gpd.GeoDataFrame,
    targets: list[ControlLayer],
    towns: ControlLayer | None = None,
    workers: int | None = None,
    pair_function: PairFunction | None = None,
) -> OverlapAnalysis:
    """Overlap parcels with several targets at once, and find each parcel's 镇街.

    Args:
        parcels: polygons with ``parcel_id`` (any CRS; EPSG:4547 avoids a transformation),
            valid (see :func:`gisapp.parcels.prepare_parcels`).
        targets: the targets (:func:`load_control` / :func:`control_from_frame`).
        towns: the 镇街 layer as a target (its names label parcels), or None.
        workers: threads for large inputs (default: CPU count).
        pair_function: an alternative engine (see :func:`measure_target`).

    Returns:
        the :class:`OverlapAnalysis`.

    Raises:
        InputError: ``no_target`` when ``targets`` is empty; ``missing_crs``.
    """
    if not targets:
        raise InputError("give at least one target layer", code="no_target")
    if parcels.crs is None:
        raise InputError("the parcels have no CRS", code="missing_crs")
    if not parcels.crs.equals(PROJECTED_CRS):
        parcels = parcels.to_crs(PROJECTED)
    ids = (
        parcels["parcel_id"].astype(str).to_numpy()
        if "parcel_id" in parcels
        else np.arange(1, len(parcels) + 1).astype(str)
    )
    props = pd.DataFrame(
        parcels.drop(columns=[parcels.geometry.name] + (["parcel_id"] if "parcel_id" in parcels else []))
    )
    return analyse_arrays(ids, parcels.geometry.to_numpy(), props, targets, towns, workers, pair_function)


def analyse_arrays(
    ids: np.ndarray,
    geometries: np.ndarray,
    properties: pd.DataFrame,
    targets: list[ControlLayer],
    towns: ControlLayer | None = None,
    workers: int | None = None,
    pair_function: PairFunction | None = None,
) -> OverlapAnalysis:
    """:func:`analyse` on arrays: ids, EPSG:4547 geometries (valid polygons) and their attributes.

    Raises:
        InputError: ``no_target`` when ``targets`` is empty.
    """
    if not targets:
        raise InputError("give at least one target layer", code="no_target")
    geoms = np.asarray(geometries, dtype=object)
    parea = shapely.area(geoms)
    results = [measure_target(geoms, t, workers, pair_function) for t in targets]
    if towns is not None:
        tpi, tfi, _ = pair_function(geoms, towns) if pair_function else overlap_pairs(geoms, towns, workers)
        town_names = _joined(len(geoms), tpi, towns.names[tfi], "、", key=tfi)  # town-layer order
    else:
        town_names = np.full(len(geoms), "", dtype=object)
    return OverlapAnalysis(np.asarray(ids), geoms, properties, parea, town_names, results)


def run_overlap(
    data: bytes | str,
    filename: str | None = None,
    targets: list[str] | None = None,
    *,
    fmt: str | None = None,
    layer: str | None = None,
    crs: str | None = None,
    datum: str = "wgs84",
    infer: bool = True,
    sliver_m2: float | None = None,
    id_field: str | None = None,
    max_features: int | None = None,
    workers: int | None = None,
    pair_function: PairFunction | None = None,
    limits: Limits | None = None,
    store: LayerStore,
) -> tuple[OverlapAnalysis, dict[str, Any]]:
    """The overlap use case: read any parcel file, decide its CRS, QA, overlap with targets and towns.

    Arguments as :func:`gisapp.service.overlap_check` (which wraps this and returns the table);
    ``store`` is the layer store the targets and the towns come from;
    ``limits`` (:class:`gisapp.limits.Limits`, default :data:`gisapp.limits.DEFAULT_LIMITS`) bounds
    reading the submission; ``sliver_m2`` must be a finite number ≥ 0 (400 otherwise).

    Returns:
        ``(analysis, info)``: the :class:`OverlapAnalysis` and the ``info`` dict described in
        :func:`gisapp.service.overlap_check`.

    Raises:
        InputError: bad file, CRS, geometry or target.
    """
    from gisapp.parcels import DEFAULT_SLIVER_M2, check_sliver_m2, load_parcels

    sliver_m2 = DEFAULT_SLIVER_M2 if sliver_m2 is None else check_sliver_m2(sliver_m2)
    controls = [load_control(spec, store) for spec in (targets or default_targets())]
    parsed = load_parcels(
        data,
        filename=filename,
        fmt=fmt,
        layer=layer,
        crs=crs,
        datum=datum,
        infer=infer,
        sliver_m2=sliver_m2,
        id_field=id_field,
        max_features=max_features,
        limits=limits,
    )
    towns = towns_control(store)
    analysis = analyse_arrays(
        parsed.ids, parsed.geometries, parsed.properties, controls, towns, workers=workers, pair_function=pair_function
    )
    first = controls[0]
    info = {
        "summary": analysis.summary(analysis.targets[0]),
        "summaries": analysis.summaries(),
        "targets": [c.info() for c in controls],
        "rules": plan_rules(controls),
        "input_crs": parsed.crs,
        "crs": parsed.decision.to_dict() if parsed.decision else None,
        "repairs": parsed.repairs,
        "dropped": parsed.dropped,
        "qa": parsed.qa_dict(),
        "input": parsed.source.to_dict() if parsed.source else None,
        "towns_layer": towns.info() if towns else None,
        "control_layer": first.layer_id,
        "geometry_basis": first.geometry_basis,
        "illustrative": first.geometry_basis != "official",
        "units": "planar EPSG:4547; m²; 公顷 = 10 000 m²; 亩 = 10000/15 m²; km² = 1 000 000 m²",
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "engine": {"kind": "threads" if pair_function is None else "custom"},
    }
    return analysis, info


def default_targets() -> list[str]:
    """The default target list: the industrial land protection red line only."""
    return [REDLINE_ID]


def towns_control(store: LayerStore) -> ControlLayer | None:
    """The 镇街 layer of ``store`` as a :class:`ControlLayer`, or None when the store has none."""
    try:
        return load_control(TOWNS_ID, store)
    except InputError:
        return None


def plan_rules(targets: list[ControlLayer]) -> list[dict[str, Any]]:
    """The plan sentences that apply to the targets (for results and reports).

    Returns:
        for a red-line target, the floor of ``zhongshan-industrial-restructuring.txt`` line 156
        (:data:`gisapp.redline.REDLINE_TARGET`); for structure targets, the plan and structure
        named in their metadata. Each item: ``{target, plan, section, line, sentence, note}``.
    """
    out = []
    for t in targets:
        if t.layer_id == REDLINE_ID:
            r = REDLINE_TARGET
            out.append(
                {
                    "target": t.spec,
                    "plan": r.plan,
                    "section": r.section,
                    "line": r.line,
                    "sentence": r.sentence,
                    "note": f"red line floor: 不少于 {r.value_km2:g} km²",
                }
            )
        elif t.meta is not None and t.meta.plan:
            out.append(
                {
                    "target": t.spec,
                    "plan": t.meta.plan,
                    "section": "",
                    "line": None,
                    "sentence": t.meta.structure,
                    "note": "spatial structure encoded from the plan (each feature carries its sentence and line)",
                }
            )
    return out


def overlap_parcels(
    parcels: gpd.GeoDataFrame,
    control: gpd.GeoDataFrame,
    towns: gpd.GeoDataFrame,
    id_field: str = "block_id",
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Overlap every parcel with one control layer (the first release's interface).

    Args:
        parcels: polygons (any CRS) with a ``parcel_id`` column.
        control: control-line blocks (polygons, any CRS) with ``id_field``.
        towns: the 镇街 layer (``name``, polygons, any CRS).
        id_field: the block id column of ``control``.

    Returns:
        ``(result, summary)``: ``result`` is ``parcels`` in their CRS plus the columns of
        :meth:`OverlapAnalysis.frame`; ``summary`` as :meth:`OverlapAnalysis.summary`.
    """
    target = control_from_frame(control, "control", id_field=id_field)
    analysis = analyse(parcels, [target], control_from_frame(towns, "towns", id_field="name"))
    result = analysis.frame(crs=None)
    result = result.set_geometry(parcels.geometry.to_numpy()).set_crs(parcels.crs, allow_override=True)
    return result, analysis.summary(analysis.targets[0])


# --------------------------------------------------------------------------- Dask

_WORKER_CONTROLS: dict[str, ControlLayer] = {}


def _partition_pairs(part: pd.DataFrame, key: str, wkb: list[bytes]) -> pd.DataFrame:
    """Run on a Dask worker: the pairs of one partition (``pid`` = global parcel index)."""
    control = _WORKER_CONTROLS.get(key)
    if control is None:
        geoms = shapely.from_wkb(np.asarray(wkb, dtype=object))
        control = ControlLayer(key, key, geoms, np.arange(len(geoms)).astype(str), np.arange(len(geoms)).astype(str))
        _WORKER_CONTROLS[key] = control
    geoms = np.asarray(part.geometry.to_numpy(), dtype=object)
    ci, fi, area = _pairs_chunk(geoms, 0, control)
    return pd.DataFrame({"pid": part["pid"].to_numpy()[ci], "fid": fi, "area": area})


def dask_pair_function(client: Any, partitions: int) -> PairFunction:
    """An engine for :func:`measure_target` that runs :func:`overlap_pairs`' chunks on Dask.

    Args:
        client: a ``dask.distributed.Client``.
        partitions: number of partitions of the parcels (spatially contiguous chunks).

    Returns:
        a function ``(parcels, control) -> (parcel_index, feature_index, area_m2)`` giving the
        same pairs as the in-process engine (identical arithmetic per pair).
    """
    import dask_geopandas

    def run(parcels: np.ndarray, control: ControlLayer) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        gdf = gpd.GeoDataFrame({"pid": np.arange(len(parcels))}, geometry=parcels, crs=PROJECTED)
        ddf = dask_geopandas.from_geopandas(gdf, npartitions=max(1, partitions))
        wkb = list(shapely.to_wkb(control.geometries))
        key = f"{control.spec}:{hash(tuple(wkb))}"
        meta = pd.DataFrame(
            {
                "pid": pd.Series([], dtype="int64"),
                "fid": pd.Series([], dtype="int64"),
                "area": pd.Series([], dtype="float64"),
            }
        )
        out = client.compute(ddf.map_partitions(_partition_pairs, key, wkb, meta=meta)).result()
        out = out.sort_values(["pid", "fid"], kind="stable")
        return out["pid"].to_numpy(np.int64), out["fid"].to_numpy(np.int64), out["area"].to_numpy(float)

    return run


def dask_overlap_check(
    data: bytes | str,
    filename: str | None = None,
    scheduler: str | None = None,
    partitions: int | None = None,
    **options: Any,
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """:func:`gisapp.service.overlap_check` with the pairs computed on Dask (dask-geopandas).

    Args:
        data, filename, **options: as :func:`gisapp.service.overlap_check` (``workers`` ignored).
        scheduler: address of a running Dask scheduler (``tcp://host:8786``); default: a
            ``LocalCluster`` of 2 worker processes (1 thread each) started and stopped here.
        partitions: parcel partitions (default: 2 per worker).

    Returns:
        ``(result, info)`` exactly as :func:`gisapp.service.overlap_check`, plus
        ``info["engine"] = {"kind": "dask", "scheduler", "workers", "partitions"}``.

    Raises:
        InputError: as :func:`gisapp.service.overlap_check`; ``dask_unavailable`` when the
            scheduler cannot be reached.
    """
    from dask.distributed import Client, LocalCluster

    from gisapp import service

    cluster = None
    try:
        if scheduler:
            client = Client(scheduler, timeout="10s")
        else:
            cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
            client = Client(cluster)
    except OSError as exc:
        raise InputError(f"cannot reach the Dask scheduler {scheduler}: {exc}", code="dask_unavailable") from exc
    try:
        n_workers = max(1, len(client.scheduler_info().get("workers", {})))
        parts = partitions or 2 * n_workers
        options.pop("workers", None)
        result, info = service.overlap_check(data, filename, pair_function=dask_pair_function(client, parts), **options)
        info["engine"] = {
            "kind": "dask",
            "scheduler": scheduler or "LocalCluster",
            "workers": n_workers,
            "partitions": parts,
        }
        return result, info
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
