"""Display data of the map: every drawn layer of the store, served by bounding box and zoom.

The page embeds no feature: the browser asks ``/api/map/layers/<id>/features?bbox=…&zoom=…``
(:mod:`gisapp.web.routes_mapdata`) and gets the features whose envelope meets the box, simplified
for that zoom (Douglas-Peucker, half a screen pixel; parts smaller than a pixel dropped) and
rounded to the precision the zoom can show. The full-precision geometry stays in the store and is
what every export, area and overlap uses.

A :class:`StoreView` holds the layers of one store directory; :func:`store_view` returns the
cached one and rebuilds it when a layer file changes (:meth:`gisapp.store.layerstore.LayerStore.store_state`). Feature ids shown to the
browser are the layer's own ``id`` property when every one is safe (:data:`SAFE_ID_RE`) and unique,
else ``feature-<n>`` (row number).
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely import STRtree
from shapely.geometry.base import BaseGeometry

from gisapp.core import bbox as core_bbox
from gisapp.core.errors import InputError, LayerNotFound
from gisapp.plans.structures import STAND_IN_M
from gisapp.report import map_styles as st
from gisapp.report import symbology as sym
from gisapp.store.layerstore import LayerMeta, LayerStore, check_layer_id
from gisapp.web.map_text import tooltip_html

log = logging.getLogger(__name__)

#: Feature ids used as they are (else ``feature-<n>``): they end up in CSS classes and URLs.
SAFE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")

#: Zoom levels served (a request's zoom is clamped to this range).
MIN_ZOOM, MAX_ZOOM = 3, 18
#: From this zoom on, geometries are served unsimplified (tolerance under 5 cm).
FULL_DETAIL_ZOOM = 17


def tolerance_deg(zoom: int) -> float:
    """Simplification tolerance (degrees) for a zoom level: half a 256-px tile pixel at the equator.

    Args:
        zoom: Web Mercator zoom level.

    Returns:
        ``0.5 * 360 / (256 * 2**zoom)``; 0 from :data:`FULL_DETAIL_ZOOM` on.
    """
    if zoom >= FULL_DETAIL_ZOOM:
        return 0.0
    return 0.5 * 360.0 / (256 * 2**zoom)


def decimals_for(zoom: int) -> int:
    """Decimals kept in served coordinates at a zoom: enough for a tenth of a pixel, 4 to 7."""
    px = 360.0 / (256 * 2**zoom)
    return int(min(7, max(4, math.ceil(-math.log10(px / 10)))))


def _to_python(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _drop_small_parts(geom: BaseGeometry, min_size: float) -> BaseGeometry:
    """Drop polygon parts whose envelope is smaller than ``min_size`` in both directions (keep the largest)."""
    if min_size <= 0 or not isinstance(geom, shapely.MultiPolygon):
        return geom
    parts = list(geom.geoms)
    kept = []
    for p in parts:
        minx, miny, maxx, maxy = p.bounds
        if maxx - minx >= min_size or maxy - miny >= min_size:
            kept.append(p)
    if not kept:
        kept = [max(parts, key=lambda p: p.area)]
    return shapely.MultiPolygon(kept) if len(kept) > 1 else kept[0]


@dataclass
class DisplayLayer:
    """One stored layer prepared for display.

    Attributes:
        meta: the layer's metadata.
        ids: display id per row (see module docstring).
        props: the stored properties per row (Python values, NaN as ``None``).
        geoms: full-precision geometries (EPSG:4326) per row.
        tree: spatial index over ``geoms``.
        order: row numbers in drawing order (largest first, so small features stay clickable).
        static_props: per row, what the browser gets besides the geometry: ``id``, ``geometry_basis``,
            ``role``, ``style`` (Leaflet options) and, for clickable kinds, ``tooltip`` (escaped HTML).
    """

    meta: LayerMeta
    ids: list[str]
    props: list[dict[str, Any]]
    geoms: np.ndarray
    tree: STRtree
    order: list[int]
    static_props: list[dict[str, Any]]
    index: dict[str, int] = field(default_factory=dict)
    projected: np.ndarray | None = None  # geometries in EPSG:4547, filled by gisapp.web.map_details
    _by_zoom: dict[int, list[Any]] = field(default_factory=dict)  # feature JSON, or geometries if outline-only
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def bounds(self) -> list[float] | None:
        """``[minx, miny, maxx, maxy]`` of the layer (lon/lat), or None when it is empty."""
        if not len(self.geoms):
            return None
        b = shapely.total_bounds(self.geoms)
        return [round(float(v), 6) for v in b]

    def feature_bounds(self, row: int) -> list[float]:
        """``[minx, miny, maxx, maxy]`` of one row's geometry."""
        return [round(float(v), 6) for v in self.geoms[row].bounds]

    @property
    def outline_only(self) -> bool:
        """Whether the layer is drawn as outlines only (base boundaries): served as clipped boundary lines.

        Base layers whose metadata says ``extra.display`` = ``fill`` (water) or ``label`` (names of
        waters) are served whole, as polygons or points.
        """
        return self.meta.kind == "base" and st.base_display(self.meta) == "outline"

    def _display_geoms(self, zoom: int) -> list[BaseGeometry]:
        """Geometries simplified and rounded for ``zoom`` (outline-only layers as boundary lines)."""
        tol = tolerance_deg(zoom)
        scale = 10 ** decimals_for(zoom)
        out: list[BaseGeometry] = []
        for geom in self.geoms:
            g = geom
            if g.geom_type.endswith("Polygon"):
                g = _drop_small_parts(g, 2 * tol) if tol else g
                if self.outline_only:
                    g = g.boundary
            if tol and not g.geom_type.endswith("Point"):
                g = shapely.simplify(g, tol, preserve_topology=True)
            out.append(shapely.transform(g, lambda c: np.round(c * scale) / scale))
        return out

    def _cached(self, zoom: int) -> list[Any]:
        with self._lock:
            cached = self._by_zoom.get(zoom)
            if cached is None:
                geoms = self._display_geoms(zoom)
                if self.outline_only:  # clipped per request: keep the geometries
                    cached = geoms
                else:
                    cached = [self._dump(i, g) for i, g in enumerate(geoms)]
                self._by_zoom[zoom] = cached
            return cached

    def _dump(self, row: int, geom: BaseGeometry) -> str:
        feature = {
            "type": "Feature",
            "id": self.ids[row],
            "properties": self.static_props[row],
            "geometry": shapely.geometry.mapping(geom),
        }
        return json.dumps(feature, ensure_ascii=False, separators=(",", ":"))

    def features_json(self, bbox: tuple[float, float, float, float] | None, zoom: int) -> tuple[str, int]:
        """Return the features meeting ``bbox`` at ``zoom`` as a GeoJSON FeatureCollection text.

        Args:
            bbox: ``(minx, miny, maxx, maxy)`` in lon/lat, or None for every feature.
            zoom: Web Mercator zoom (clamped to :data:`MIN_ZOOM` … :data:`MAX_ZOOM`).

        Returns:
            ``(text, count)``: the FeatureCollection (features in drawing order) and its length.
            Features of outline-only layers (base boundaries) are their boundary lines clipped to
            ``bbox`` (lines, so the clip adds no edge); other features come whole.
        """
        zoom = int(min(MAX_ZOOM, max(MIN_ZOOM, zoom)))
        cached = self._cached(zoom)
        if bbox is None:
            rows = self.order
        else:
            hits = set(self.tree.query(shapely.box(*bbox)).tolist())
            rows = [i for i in self.order if i in hits]
        if self.outline_only:
            parts = []
            for i in rows:
                g = cached[i] if bbox is None else shapely.clip_by_rect(cached[i], *bbox)
                if not g.is_empty:
                    parts.append(self._dump(i, g))
        else:
            parts = [cached[i] for i in rows]
        return '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}", len(parts)

    def row(self, feature_id: str) -> int:
        """Return the row of a display id.

        Raises:
            InputError: code ``feature_not_found`` (HTTP 404) for an unknown id.
        """
        try:
            return self.index[feature_id]
        except KeyError:
            raise InputError(
                f"layer {self.meta.id!r} has no feature {feature_id!r}", code="feature_not_found", status=404
            ) from None


#: Roles drawn as bands: their polygon labels follow the band's long axis when it is elongated.
BAND_ROLES = frozenset({"axis", "corridor", "belt"})
#: A band polygon's label is turned along it when its oriented box is at least this elongated.
BAND_ELONGATION = 2.0


def _scaled(geom: BaseGeometry, lat0: float) -> BaseGeometry:
    """Lon/lat geometry with longitudes scaled by cos(lat0): locally isotropic, like the (conformal) map."""
    k = math.cos(math.radians(lat0))
    return shapely.transform(geom, lambda c: c * np.array([k, 1.0]))


def _unscale(x: float, y: float, lat0: float) -> list[float]:
    return [round(x / math.cos(math.radians(lat0)), 6), round(y, 6)]


def _screen_angle(dx: float, dy: float) -> float:
    """Screen rotation (degrees, clockwise, −90…90) of a direction (east, north) so text stays upright."""
    a = -math.degrees(math.atan2(dy, dx))
    if a > 90:
        a -= 180
    elif a <= -90:
        a += 180
    return round(a, 1)


def label_anchor(geom: BaseGeometry, role: str = "") -> dict[str, Any] | None:
    """Where and how a feature's name is written on the map.

    Args:
        geom: the feature's geometry, lon/lat (EPSG:4326).
        role: its role (bands — :data:`BAND_ROLES` — are labelled along their long axis).

    Returns:
        ``{"at": [lon, lat], "angle": degrees clockwise on screen, "extent": [w, s, e, n],
        "weight": size}`` or None for an empty geometry. Polygons: the pole of inaccessibility of
        their largest part (:func:`shapely.ops.polylabel`, computed in a locally isotropic frame, to
        1/50 of the part's smaller side), turned along the part's oriented box when it is a band at
        least :data:`BAND_ELONGATION` times longer than wide (then ``"along"``: other ``[lon, lat]``
        places on its axis, at ±15 % and ±30 % of its length, to try when the middle is taken). Lines: the middle of their longest part,
        turned to its direction there. Points: the point. ``weight`` (degrees², or 0 for points)
        orders labels of equal priority: the larger first.
    """
    if geom is None or geom.is_empty:
        return None
    b = geom.bounds
    extent = [round(v, 6) for v in b]
    lat0 = (b[1] + b[3]) / 2
    kind = geom.geom_type
    if isinstance(geom, shapely.Point):
        return {"at": [round(geom.x, 6), round(geom.y, 6)], "angle": 0.0, "extent": extent, "weight": 0.0}
    if kind == "MultiPoint":
        c = geom.centroid
        return {"at": [round(c.x, 6), round(c.y, 6)], "angle": 0.0, "extent": extent, "weight": 0.0}
    g = _scaled(geom, lat0)
    if kind.endswith("LineString"):
        lines = list(g.geoms) if isinstance(g, shapely.MultiLineString) else [g]
        line = max(lines, key=lambda p: p.length)
        mid = line.interpolate(0.5, normalized=True)
        p0 = line.interpolate(0.4, normalized=True)
        p1 = line.interpolate(0.6, normalized=True)
        angle = _screen_angle(p1.x - p0.x, p1.y - p0.y)
        return {"at": _unscale(mid.x, mid.y, lat0), "angle": angle, "extent": extent, "weight": float(g.length) ** 2}
    if not isinstance(g, (shapely.Polygon, shapely.MultiPolygon)):
        c = geom.representative_point()
        return {"at": [round(c.x, 6), round(c.y, 6)], "angle": 0.0, "extent": extent, "weight": 0.0}
    parts = list(g.geoms) if isinstance(g, shapely.MultiPolygon) else [g]
    part = max(parts, key=lambda p: p.area)
    minx, miny, maxx, maxy = part.bounds
    tol = max(min(maxx - minx, maxy - miny) / 50.0, 1e-7)
    try:
        pole = shapely.ops.polylabel(part, tolerance=tol)
    except Exception:  # noqa: BLE001 - a degenerate ring: any inside point will do
        pole = part.representative_point()
    angle = 0.0
    along: list[list[float]] = []
    if role in BAND_ROLES:
        box = shapely.oriented_envelope(part)
        if isinstance(box, shapely.Polygon):
            xy = np.asarray(box.exterior.coords)
            e0, e1 = xy[1] - xy[0], xy[2] - xy[1]
            l0, l1 = float(np.hypot(*e0)), float(np.hypot(*e1))
            long_edge, ratio = (e0, l0 / max(l1, 1e-12)) if l0 >= l1 else (e1, l1 / max(l0, 1e-12))
            if ratio >= BAND_ELONGATION:
                angle = _screen_angle(float(long_edge[0]), float(long_edge[1]))
                # other places along the band's axis (middle outwards), where the band is
                centre = xy[:4].mean(axis=0)
                for t in (-0.15, 0.15, -0.3, 0.3):
                    q = shapely.Point(*(centre + t * long_edge))
                    if part.contains(q):
                        along.append(_unscale(q.x, q.y, lat0))
    out = {"at": _unscale(pole.x, pole.y, lat0), "angle": angle, "extent": extent, "weight": float(g.area)}
    if along:
        out["along"] = along
    return out


def _label_priority(kind: str, role: str, meta: LayerMeta) -> int:
    if kind == "structure":
        return sym.role_symbol(role).label_priority
    if kind == "control_line":
        return sym.LABEL_PRIORITY_CONTROL
    if kind == "towns":
        return sym.LABEL_PRIORITY_TOWN
    return sym.LABEL_PRIORITY_BASE + (1 if meta.id == "base-province" else 0)


def _label(props: dict[str, Any], geom: BaseGeometry, kind: str, role: str, meta: LayerMeta) -> dict[str, Any] | None:
    """The ``label`` display property of a feature (None when it has no name)."""
    if kind == "control_line" and not st.control_style(role).fill_polygon:  # a boundary (城镇开发边界): no labels
        return None
    zh = str(props.get("name") or "").strip()
    if kind == "control_line" and props.get("carrier"):  # "火炬开发区（示意区块）" -> 火炬开发区: the hatch says 示意
        zh = str(props["carrier"]).strip()
    if not zh:
        return None
    en = str(props.get("name_en") or "").strip() or zh
    anchor = label_anchor(geom, role if kind == "structure" else "")
    if anchor is None:
        return None
    size = sym.role_symbol(role).label_size if kind == "structure" else 12
    return {"zh": zh, "en": en, "priority": _label_priority(kind, role, meta), "size": size, **anchor}


def _is_stand_in(geom: BaseGeometry, props: dict[str, Any]) -> bool:
    """Whether a feature is a stand-in: a Point with ``uncertainty_m`` ≥ :data:`gisapp.plans.structures.STAND_IN_M`."""
    raw = props.get("uncertainty_m")
    if raw is None:
        return False
    try:
        unc = float(raw)
    except (TypeError, ValueError):
        return False
    return geom.geom_type == "Point" and math.isfinite(unc) and unc >= STAND_IN_M


def _display_layer(meta: LayerMeta, store: LayerStore, zone_offset: int = 0) -> DisplayLayer:
    gdf = store.frame(meta.id)
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty].reset_index(drop=True)
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    records = [
        {str(k): _to_python(v) for k, v in r.items()} for r in gdf.drop(columns=gdf.geometry.name).to_dict("records")
    ]
    raw_ids = [str(r.get("id")) for r in records]
    usable = all(SAFE_ID_RE.match(i) for i in raw_ids) and len(set(raw_ids)) == len(raw_ids)
    ids = raw_ids if usable else [f"feature-{i}" for i in range(len(records))]
    spec = st.kind_spec(meta.kind)
    areas = shapely.area(geoms) if len(geoms) else np.zeros(0)  # degrees², only to order the drawing
    order = sorted(range(len(records)), key=lambda i: -areas[i])
    static = []
    zone_rank = zone_offset  # zones of a plan's earlier layers took the first colours
    for i, props in enumerate(records):
        basis = st.basis_of(props, meta)
        role = st.control_key(meta) if meta.kind == "control_line" else st.role_of(props)
        out: dict[str, Any] = {"id": ids[i], "geometry_basis": basis}
        if meta.kind == "structure":
            out["role"] = role
        elif meta.kind == "base" and st.base_display(meta) != "outline":
            role = st.base_display(meta)  # "fill" (water) or "label": how feature_style draws it
        unc = props.get("uncertainty_m") if geoms[i].geom_type == "Point" else None
        try:
            unc = float(unc) if unc is not None else None
        except (TypeError, ValueError):
            unc = None
        stand_in = _is_stand_in(geoms[i], props)
        zone_index = None
        if meta.kind == "structure" and role == "zone" and not stand_in:
            zone_index, zone_rank = zone_rank, zone_rank + 1
        name = str(props.get("name") or "")
        style = st.feature_style(meta.kind, basis, role, ids[i], geoms[i].geom_type, unc, zone_index, name)
        style["className"] += f" gisapp-layer-{st.css_ident(meta.id)}"
        out["style"] = style
        if stand_in:
            out["standin"] = True
        elif meta.kind in ("structure", "control_line", "towns", "base"):
            label = _label(props, geoms[i], meta.kind, role, meta)
            if label:
                out["label"] = label
        if spec.interactive:
            note = props.get("role_zh") or props.get("block_id") or ""
            if basis != "official":
                note = " · ".join(x for x in (note, "示意" if basis == "schematic" else "示意，非官方") if x)
            if unc is not None and unc >= STAND_IN_M:
                note += f" · 位置仅到所在镇街/区/市，±{unc / 1000:,.0f} km"
            out["tooltip"] = str(tooltip_html(props.get("name") or props.get("block_id"), props.get("name_en"), note))
        static.append(out)
    return DisplayLayer(
        meta=meta,
        ids=ids,
        props=records,
        geoms=geoms,
        tree=STRtree(geoms),
        order=order,
        static_props=static,
        index={fid: i for i, fid in enumerate(ids)},
    )


class StoreView:
    """The drawn layers of one layer store, loaded lazily and kept in memory.

    Args:
        store: the layer store.
    """

    def __init__(self, store: LayerStore) -> None:
        self.store = store
        self.directory = store.directory
        self.metas: list[LayerMeta] = sorted(
            (m for m in store.list() if st.is_drawn(m) and not m.backend),  # large layers: vector tiles
            key=lambda m: (st.kind_spec(m.kind).order, m.id),
        )
        self._by_id = {m.id: m for m in self.metas}
        self._layers: dict[str, DisplayLayer] = {}
        self._lock = threading.Lock()

    def layer(self, layer_id: str) -> DisplayLayer:
        """Return one drawn layer, loading it on first use.

        Raises:
            InputError: ``invalid_layer_id`` for a malformed id.
            LayerNotFound: when the store has no such drawn layer, or its GeoJSON is missing (HTTP 404).
        """
        check_layer_id(layer_id)
        meta = self._by_id.get(layer_id)
        if meta is None:
            raise LayerNotFound(layer_id)
        with self._lock:
            layer = self._layers.get(layer_id)
        if layer is None:
            layer = _display_layer(meta, self.store, self._zone_offset(meta))
            with self._lock:
                layer = self._layers.setdefault(layer_id, layer)
        return layer

    def _zone_offset(self, meta: LayerMeta) -> int:
        """How many zones the plan's structure layers before ``meta`` hold (the ``…-structure`` layer first,
        then by id): each zone of a plan gets its own colour across its layers (``…-structure``, ``…-detail``)."""
        if meta.kind != "structure" or not meta.plan:
            return 0

        def rank(m: LayerMeta) -> tuple[bool, str]:  # the plan's main ``…-structure`` layer first
            return (not m.id.endswith("-structure"), m.id)

        earlier = [m for m in self.metas if m.kind == "structure" and m.plan == meta.plan and rank(m) < rank(meta)]
        return sum(sum(1 for p in self.layer(m.id).props if p.get("role") == "zone") for m in earlier)

    def layers(self) -> Iterable[DisplayLayer]:
        """Yield every drawn layer whose GeoJSON can be read (a missing file is logged and skipped)."""
        for meta in self.metas:
            try:
                yield self.layer(meta.id)
            except LayerNotFound:
                log.warning("layer %s has metadata but no GeoJSON; not drawn", meta.id)


def large_layer_entries(store: LayerStore) -> list[dict[str, Any]]:
    """The large layers of the store (a million 图斑 in GeoPackage/PostGIS), which the map draws from
    vector tiles (``/tiles/<id>/{z}/{x}/{y}.mvt``, :mod:`gisapp.web.routes_tiles`) instead of GeoJSON.

    Args:
        store: the layer store.

    Returns:
        ``[{"id", "zh", "en", "tiles", "min_zoom", "bounds" [W, S, E, N] EPSG:4326, "count", "basis"}]``
        sorted by id; ``min_zoom`` is the layer's ``tile_min_zoom`` (below it the tiles are empty).
    """
    return [
        {
            "id": m.id,
            "zh": m.title,
            "en": m.title_en,
            "tiles": f"/tiles/{m.id}/{{z}}/{{x}}/{{y}}.mvt",
            "min_zoom": int(m.extra.get("tile_min_zoom", 0)),
            "bounds": list(m.extra.get("bounds", [])),
            "count": m.feature_count,
            "basis": m.geometry_basis,
        }
        for m in store.list()
        if m.backend and st.is_drawn(m)
    ]


def store_view(store: LayerStore) -> StoreView:
    """Return the :class:`StoreView` of a store, cached by the store until its files change.

    Args:
        store: the layer store.
    """
    return store.derived_store("map-view", lambda: StoreView(store))


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """Parse a ``bbox`` query value ``minlon,minlat,maxlon,maxlat`` (None/empty: no box).

    Raises:
        InputError: ``invalid_bbox`` (HTTP 400) unless four finite numbers with min ≤ max inside
            lon −180…180 and lat −90…90 (:func:`gisapp.core.bbox.parse_bbox`).
    """
    box = core_bbox.parse_bbox(text, lonlat=True)
    return None if box is None else (box[0], box[1], box[2], box[3])
