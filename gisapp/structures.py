"""Spatial structures (空间格局) compiled from declarative zone definition files.

A definition file in ``zones/`` (YAML) describes one plan's structure: the plan file, the
section, and a list of elements (cores, axes/corridors/belts, zones, nodes), each with the
plan's own sentence and a geometry rule. :func:`compile_structure` turns it into a layer.
Adding a structure is adding a file; no code changes.

Geometry rules (``geometry.method``):

``union_of_towns``
    the union of the named 镇街 cells (``towns: [小榄镇, …]``; short names such as ``小榄``
    are accepted). Basis: the town layer's basis (``schematic`` for the constructed cells).
``disc_in_towns``
    an *illustrative* disc of ``stated_area_km2`` centred on the mean of the named towns'
    seats (``centre: seat_mean``) or on ``centre: [lon, lat]``, clipped to those towns.
``point``
    a node at ``lon``/``lat`` (WGS 84), drawn as a point with its ``uncertainty_m``.

Every feature carries: ``id, name, name_en, role, role_zh, plan, plan_title, structure,
section, plan_line, sentence, member_towns, geometry_basis, geometry_method, basis_note,
uncertainty_m, area_km2, stated_area_km2``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
import yaml

from gisapp import paths
from gisapp.crs import PROJECTED, WGS84, planar_area_m2
from gisapp.errors import InputError
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
    "disc_in_towns": "illustrative disc of the stated area within the named towns",
    "point": "point at a named place",
}


class DefinitionError(InputError):
    """A zone definition file that cannot be compiled (names the file and the element)."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(f"{path.name}: {message}", code="invalid_zone_definition", status=422)


def definition_files(directory: Path | None = None) -> list[Path]:
    """Return the zone definition files (``*.yaml``) in ``directory`` (default ``zones/``), sorted."""
    return sorted((directory or paths.zones_dir()).glob("*.yaml"))


def load_definition(path: Path) -> dict[str, Any]:
    """Read and check one definition file.

    Raises:
        DefinitionError: YAML errors, missing keys, unknown roles or methods.
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
    seen: set[str] = set()
    for el in data["elements"]:
        eid = el.get("id", "?")
        for key in ("id", "name", "role", "section", "sentence", "geometry"):
            if key not in el:
                raise DefinitionError(path, f"element '{eid}' lacks '{key}'")
        if el["role"] not in ROLES_ZH:
            raise DefinitionError(path, f"element '{eid}' has unknown role '{el['role']}'")
        if el["geometry"].get("method") not in METHOD_LABELS:
            raise DefinitionError(path, f"element '{eid}' has unknown geometry method")
        if eid in seen:
            raise DefinitionError(path, f"element id '{eid}' is used twice")
        seen.add(eid)
    return data


def _resolve_towns(path: Path, el: dict[str, Any], lookup: dict[str, str]) -> list[str]:
    names = el["geometry"].get("towns") or []
    unknown = [n for n in names if n not in lookup]
    if unknown:
        raise DefinitionError(path, f"element '{el['id']}' names unknown towns: {', '.join(unknown)}")
    return [lookup[n] for n in names]


def _element_geometry(
    path: Path, el: dict[str, Any], towns: gpd.GeoDataFrame, members: list[str]
) -> tuple[shapely.Geometry, str]:
    geo = el["geometry"]
    method = geo["method"]
    town_geoms = towns.set_index("name").loc[members, "geometry"].to_crs(PROJECTED) if members else None
    basis = "schematic"
    if members:
        bases = set(towns.set_index("name").loc[members, "geometry_basis"])
        basis = "official" if bases == {"official"} else "schematic"
    if method == "union_of_towns":
        if not members:
            raise DefinitionError(path, f"element '{el['id']}' needs 'towns'")
        return shapely.union_all(town_geoms.to_numpy()), basis
    if method == "disc_in_towns":
        if not members or "stated_area_km2" not in geo:
            raise DefinitionError(path, f"element '{el['id']}' needs 'towns' and 'stated_area_km2'")
        sub = towns.set_index("name").loc[members]
        if geo.get("centre", "seat_mean") == "seat_mean":
            centre = shapely.Point(sub["seat_lon"].mean(), sub["seat_lat"].mean())
        else:
            centre = shapely.Point(*geo["centre"])
        c = gpd.GeoSeries([centre], crs=WGS84).to_crs(PROJECTED).iloc[0]
        radius = float(np.sqrt(float(geo["stated_area_km2"]) * 1e6 / np.pi))
        disc = c.buffer(radius, quad_segs=32)
        return shapely.intersection(disc, shapely.union_all(town_geoms.to_numpy())), "illustrative"
    # point
    try:
        pt = shapely.Point(float(geo["lon"]), float(geo["lat"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise DefinitionError(path, f"element '{el['id']}' needs numeric 'lon' and 'lat'") from exc
    return gpd.GeoSeries([pt], crs=WGS84).to_crs(PROJECTED).iloc[0], geo.get("basis", "schematic")


def compile_structure(path: Path, towns: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, LayerMeta]:
    """Compile one zone definition file into a structure layer.

    Args:
        path: the YAML definition (see module docstring).
        towns: the 镇街 layer (EPSG:4326) the town lists refer to.

    Returns:
        ``(gdf, meta)``: one feature per element, EPSG:4326, (Multi)Polygon or Point;
        ``area_km2`` is planar in EPSG:4547 (0 for points).

    Raises:
        DefinitionError: when the file is malformed or names unknown towns (HTTP 422).
    """
    data = load_definition(path)
    lookup = town_lookup(towns)
    records: list[dict[str, Any]] = []
    geoms: list[shapely.Geometry] = []
    for el in data["elements"]:
        members = _resolve_towns(path, el, lookup)
        geom, basis = _element_geometry(path, el, towns, members)
        geo = el["geometry"]
        geoms.append(geom)
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
                "section": el["section"],
                "plan_line": int(el.get("plan_line", 0)),
                "sentence": el["sentence"],
                "member_towns": "、".join(members),
                "geometry_basis": basis,
                "geometry_method": METHOD_LABELS[geo["method"]],
                "basis_note": " ".join(str(geo.get("basis_note", "")).split()),
                "uncertainty_m": int(geo.get("uncertainty_m", 0)),
                "stated_area_km2": float(geo["stated_area_km2"]) if "stated_area_km2" in geo else None,
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
        source=f"compiled from zones/{path.name}; geometry from the town layer",
        licence="plan text: public government document; compilation ours",
        datum="WGS 84 (EPSG:4326); areas planar in EPSG:4547",
        geometry_basis="official"
        if bases == ["official"]
        else ("illustrative" if "illustrative" in bases and len(bases) == 1 else "schematic"),
        description=f"{data['structure']} — {data['section']} ({data['plan']}).",
        plan=data["plan"],
        structure=data["structure"],
        notes=[f"feature bases: {', '.join(bases)}"],
    )
    return gdf, meta
