"""Parcels submitted by users, made ready for analysis: ids, CRS, geometry QA — every change listed.

Pipeline (:func:`load_parcels`): a reader of :mod:`gisapp.io.readers` → :func:`prepare_parcels`:

1. ids: ``id_field`` if given, else the format's own id (GeoJSON ``id``, DXF label), else the
   first of :data:`ID_FIELDS` present, else 1, 2, 3 …;
2. features without geometry, and points/lines, are dropped and listed (all of them being
   non-polygons is an error, ``not_polygons``); Z values are dropped (noted);
3. the CRS is decided and the parcels projected to EPSG:4547 (:func:`gisapp.core.crsinfer.resolve_crs`:
   declared / given / inferred, GCJ-02/BD-09 converted, outside the Pearl River Delta rejected);
4. invalid geometries (e.g. a self-intersecting bow-tie) are repaired with
   :func:`shapely.make_valid` and each repair is listed with GEOS's reason;
5. slivers — polygon parts, or whole parcels, smaller than ``sliver_m2`` (default 1 m², planar
   EPSG:4547) — are dropped and each drop is listed with its area.

Nothing is changed silently: ``repairs`` and ``dropped`` go into every result and report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gisapp.core.chunks import chunked
from gisapp.core.crs import PROJECTED, WGS84
from gisapp.core.crsinfer import PROJECTED_CRS, CrsDecision, resolve_crs, transform_geoms
from gisapp.core.errors import InputError
from gisapp.core.limits import Limits, snippet
from gisapp.io.readers import RawInput, SourceInfo, read_input

#: Most parcels one GeoJSON request may carry (HTTP 413 above it); the CLI has no limit.
MAX_FEATURES = 100_000
#: Default sliver threshold in m² (planar EPSG:4547): smaller parts or parcels are dropped, listed.
DEFAULT_SLIVER_M2 = 1.0
#: Attribute names taken as the parcel id, in this order (case-sensitive).
ID_FIELDS = ("parcel_id", "id", "ID", "宗地号", "宗地代码", "地块编号", "地块号", "ZDDM", "DKBH", "BH", "label", "name")

_POLYGON, _MULTIPOLYGON, _COLLECTION = 3, 6, 7


@dataclass
class ParcelInput:
    """Parcels ready for analysis.

    Attributes:
        ids: parcel ids (str), one per parcel.
        geometries: valid Polygons/MultiPolygons in EPSG:4547 (metres).
        properties: the input's attributes, one row per parcel (no ``parcel_id``, no geometry).
        crs: short label of the input CRS (``EPSG:4547``, ``EPSG:4326 (RFC 7946 default)``,
            ``EPSG:4526 (inferred, X/Y swapped)`` …).
        repairs: one message per repaired parcel.
        dropped: one message per dropped feature or part (no geometry, not a polygon, sliver).
        decision: how the CRS was decided (:class:`gisapp.core.crsinfer.CrsDecision`).
        source: what was submitted (:class:`gisapp.io.readers.SourceInfo`), if known.
        sliver_m2: the sliver threshold applied (m²).
        notes: other facts worth reporting (Z dropped, duplicate ids, reader notes).
    """

    ids: np.ndarray
    geometries: np.ndarray
    properties: pd.DataFrame
    crs: str
    repairs: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    decision: CrsDecision | None = None
    source: SourceInfo | None = None
    sliver_m2: float = DEFAULT_SLIVER_M2
    notes: list[str] = field(default_factory=list)

    def _frame(self, geoms: np.ndarray, crs: str) -> gpd.GeoDataFrame:
        frame = pd.DataFrame({"parcel_id": self.ids.astype(str)})
        if len(self.properties.columns):
            frame = frame.join(self.properties.reset_index(drop=True))
        return gpd.GeoDataFrame(frame, geometry=geoms, crs=crs)

    @cached_property
    def projected(self) -> gpd.GeoDataFrame:
        """The parcels as a GeoDataFrame in EPSG:4547 with ``parcel_id`` and the attributes (cached)."""
        return self._frame(self.geometries, PROJECTED)

    @cached_property
    def parcels(self) -> gpd.GeoDataFrame:
        """The parcels in EPSG:4326 lon/lat (transformed from EPSG:4547 once, then cached)."""
        geoms = transform_geoms(self.geometries, PROJECTED_CRS, WGS84)
        return self._frame(geoms, WGS84)

    def qa_dict(self) -> dict[str, Any]:
        """The QA record: ``{"sliver_m2", "repairs", "dropped", "notes"}``."""
        return {"sliver_m2": self.sliver_m2, "repairs": self.repairs, "dropped": self.dropped, "notes": self.notes}


def _ids(raw: RawInput, id_field: str | None) -> np.ndarray:
    n = len(raw.geometries)
    props = raw.properties
    if id_field:
        if id_field not in props.columns:
            raise InputError(f"no attribute '{id_field}' to take parcel ids from", code="missing_field")
        return props[id_field].astype(str).to_numpy()
    col = next((c for c in ID_FIELDS if c in props.columns), None)
    base = props[col].astype(str).to_numpy() if col else np.arange(1, n + 1).astype(str)
    if raw.ids is not None:
        own = np.array([i if i is not None else "" for i in raw.ids], dtype=object)
        base = np.where(own != "", own, base.astype(object))
    return np.asarray(base, dtype=object)


def _polygonal(geoms: np.ndarray, ids: np.ndarray, dropped: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Keep polygon features (GeometryCollections reduced to their polygons); list the rest."""
    keep = np.ones(len(geoms), dtype=bool)
    types = shapely.get_type_id(geoms)
    missing = (types < 0) | shapely.is_empty(geoms)
    for i in np.flatnonzero(missing):
        dropped.append(f"parcel {ids[i]}: no geometry; dropped")
        keep[i] = False
    for i in np.flatnonzero(types == _COLLECTION):
        polys = [g for g in shapely.get_parts(geoms[i]) if shapely.get_type_id(g) in (_POLYGON, _MULTIPOLYGON)]
        if polys:
            geoms[i] = shapely.union_all(polys)
            types[i] = shapely.get_type_id(geoms[i])
    bad = ~np.isin(types, (_POLYGON, _MULTIPOLYGON)) & ~missing
    if bad.any() and not (keep & ~bad).any():
        first = int(np.flatnonzero(bad)[0])
        kind = geoms[first].geom_type
        raise InputError(f"parcel {snippet(str(ids[first]))}: {kind} is not a polygon", code="not_polygons", status=422)
    for i in np.flatnonzero(bad):
        dropped.append(f"parcel {ids[i]}: {geoms[i].geom_type} is not a polygon; dropped")
        keep[i] = False
    return keep, geoms


def _repair(geoms: np.ndarray, ids: np.ndarray, repairs: list[str], dropped: list[str]) -> np.ndarray:
    """make_valid every invalid geometry; returns a keep mask (False: nothing polygonal left)."""
    keep = np.ones(len(geoms), dtype=bool)
    for i in np.flatnonzero(~chunked(shapely.is_valid, geoms)):
        reason = shapely.is_valid_reason(geoms[i])
        fixed = shapely.make_valid(geoms[i])
        polys = [g for g in shapely.get_parts(fixed) if shapely.get_type_id(g) in (_POLYGON, _MULTIPOLYGON)]
        if not polys:
            dropped.append(
                f"parcel {ids[i]}: invalid geometry ({reason}) has no polygonal part after make_valid; dropped"
            )
            keep[i] = False
            continue
        geoms[i] = shapely.union_all(polys) if len(polys) > 1 else polys[0]
        repairs.append(f"parcel {ids[i]}: {reason}; repaired with make_valid into a {geoms[i].geom_type}")
    return keep


def _drop_slivers(geoms: np.ndarray, ids: np.ndarray, sliver_m2: float, dropped: list[str]) -> np.ndarray:
    """Drop polygon parts and whole parcels under ``sliver_m2``; returns a keep mask."""
    keep = np.ones(len(geoms), dtype=bool)
    if sliver_m2 <= 0:
        return keep
    areas = shapely.area(geoms)
    for i in np.flatnonzero(areas < sliver_m2):
        dropped.append(f"parcel {ids[i]}: {areas[i]:.3f} m² is a sliver (< {sliver_m2:g} m²); dropped")
        keep[i] = False
    multi = np.flatnonzero(keep & (shapely.get_type_id(geoms) == _MULTIPOLYGON))
    if len(multi) == 0:
        return keep
    parts, owner = shapely.get_parts(geoms[multi], return_index=True)  # all parts at once, in parcel order
    part_areas = shapely.area(parts)
    small = part_areas < sliver_m2
    for j in np.unique(owner[small]):  # only the parcels that have a sliver part (few)
        i = multi[j]
        mine = slice(np.searchsorted(owner, j, "left"), np.searchsorted(owner, j, "right"))  # owner is sorted
        for a in part_areas[mine][small[mine]]:
            dropped.append(f"parcel {ids[i]}: a part of {a:.3f} m² is a sliver (< {sliver_m2:g} m²); part dropped")
        rest = parts[mine][~small[mine]]
        geoms[i] = rest[0] if len(rest) == 1 else shapely.multipolygons(rest)
    return keep


def check_sliver_m2(value: Any) -> float:
    """Validate a sliver threshold: a finite number of m², 0 or more.

    Raises:
        InputError: ``invalid_parameter`` (400) for NaN, ±inf, a negative number or a non-number.
    """
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"sliver_m2 must be a number of m², not {snippet(str(value))}", code="invalid_parameter"
        ) from exc
    if not np.isfinite(number) or number < 0:
        raise InputError(f"sliver_m2 must be a finite number ≥ 0 (m²), not {value!r}", code="invalid_parameter")
    return number


def prepare_parcels(
    raw: RawInput,
    crs: str | None = None,
    datum: str = "wgs84",
    infer: bool = True,
    sliver_m2: float = DEFAULT_SLIVER_M2,
    id_field: str | None = None,
    max_features: int | None = None,
    source: SourceInfo | None = None,
) -> ParcelInput:
    """Turn raw geometries into analysable parcels (see the module docstring for the steps).

    Args:
        raw: what a reader of :mod:`gisapp.io.readers` returned.
        crs: a CRS given by the user (overrides nothing the file declares; conflicts are errors).
        datum: ``wgs84`` | ``gcj02`` | ``bd09`` for lon/lat input from Chinese web maps.
        infer: allow inferring an undeclared CRS from the coordinates (stated in the result).
        sliver_m2: parts/parcels smaller than this (m², EPSG:4547) are dropped and listed;
            0 disables.
        id_field: attribute holding the parcel id.
        max_features: reject inputs with more features (HTTP 413), None = no limit.
        source: the submission's :class:`~gisapp.io.readers.SourceInfo`.

    Returns:
        a :class:`ParcelInput` (EPSG:4547 arrays; GeoDataFrames via ``projected`` and ``parcels``).

    Raises:
        InputError: ``too_many_features`` (413), ``missing_field``, ``not_polygons`` (422),
            ``empty_input`` (nothing left after QA, 422), ``invalid_parameter`` (``sliver_m2`` not a
            finite number ≥ 0), and those of :func:`gisapp.core.crsinfer.resolve_crs`.
    """
    sliver_m2 = check_sliver_m2(sliver_m2)
    n = len(raw.geometries)
    if n == 0:
        raise InputError("no parcels in the input", code="empty_input")
    if max_features is not None and n > max_features:
        raise InputError(f"too many parcels ({n} > {max_features})", code="too_many_features", status=413)
    repairs: list[str] = []
    dropped: list[str] = []
    notes: list[str] = []
    ids = _ids(raw, id_field)
    geoms = np.asarray(raw.geometries, dtype=object).copy()
    geoms[pd.isna(geoms)] = None
    keep, geoms = _polygonal(geoms, ids, dropped)
    if not keep.any():
        raise InputError("no parcel has a polygon geometry: " + "; ".join(dropped[:3]), code="empty_input", status=422)
    if shapely.has_z(geoms[keep]).any():
        geoms[keep] = shapely.force_2d(geoms[keep])
        notes.append("Z coordinates dropped (overlap is measured in 2D)")
    projected, decision = resolve_crs(
        geoms[keep], raw.crs, raw.crs_source, raw.crs_is_default, user_crs=crs, datum=datum, infer=infer
    )
    geoms[keep] = projected
    idx = np.flatnonzero(keep)
    sub = geoms[idx]
    ok = _repair(sub, ids[idx], repairs, dropped)
    ok &= _drop_slivers(sub, ids[idx], sliver_m2, dropped)
    geoms[idx] = sub
    keep[idx] = ok
    if not keep.any():
        raise InputError(
            "no parcel is left after geometry checks: " + "; ".join(dropped[:3]), code="empty_input", status=422
        )
    kept_ids = ids[keep].astype(str)
    # hashed as Python strings (a numpy str array would first become an Arrow-backed index: 4× slower)
    dup = (
        pd.Index(kept_ids.astype(object), dtype=object).duplicated()
        if len(kept_ids) > 1
        else np.zeros(len(kept_ids), dtype=bool)
    )
    if dup.any():
        notes.append(f"duplicate parcel ids: {', '.join(dict.fromkeys(kept_ids[dup][:10]))}")
    props = raw.properties
    if "parcel_id" in props.columns:
        props = props.drop(columns=["parcel_id"])
    if not keep.all():
        props = props.reset_index(drop=True).loc[keep].reset_index(drop=True)
    return ParcelInput(
        ids=kept_ids,
        geometries=geoms[keep],
        properties=props,
        crs=decision.label,
        repairs=repairs,
        dropped=dropped,
        decision=decision,
        source=source,
        sliver_m2=sliver_m2,
        notes=notes + (source.notes if source else []),
    )


def load_parcels(
    data: bytes | str,
    filename: str | None = None,
    fmt: str | None = None,
    layer: str | None = None,
    limits: Limits | None = None,
    **options: Any,
) -> ParcelInput:
    """Read any supported parcel file (or pasted text) and prepare it.

    Args:
        data: file bytes or text; filename, fmt, layer: see :func:`gisapp.io.readers.read_input`.
        limits: the request's bounds (:class:`gisapp.core.limits.Limits`; default
            :data:`gisapp.core.limits.DEFAULT_LIMITS`), passed to :func:`gisapp.io.readers.read_input`.
        **options: passed to :func:`prepare_parcels` (``crs``, ``datum``, ``infer``,
            ``sliver_m2``, ``id_field``, ``max_features``).

    Returns:
        a :class:`ParcelInput` whose ``source`` carries the SHA-256 of ``data``.

    Raises:
        InputError: see :func:`gisapp.io.readers.read_input` and :func:`prepare_parcels`.
    """
    raw, source = read_input(data, filename=filename, fmt=fmt, layer=layer, limits=limits)
    return prepare_parcels(raw, source=source, **options)


def parse_geojson_parcels(data: bytes | str) -> ParcelInput:
    """Parse GeoJSON parcels (FeatureCollection / Feature / (Multi)Polygon), at most :data:`MAX_FEATURES`.

    Kept for callers of the first release: equivalent to :func:`load_parcels` with
    ``fmt="geojson"``. ``.parcels`` is EPSG:4326, ``.projected`` EPSG:4547.

    Raises:
        InputError: ``invalid_geojson``, ``unknown_crs``, ``not_polygons``, ``empty_input``,
            ``too_many_features``, ``outside_work_area`` and the others of :func:`prepare_parcels`.
    """
    return load_parcels(data, fmt="geojson", max_features=MAX_FEATURES)
