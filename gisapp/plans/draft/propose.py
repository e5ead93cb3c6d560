"""Propose a geometry method for each drafted element, with its uncertainty, or mark it unplaced.

In order of preference (the first that applies):

1. the plan lists the element's units (``区域范围：包括…``, or the places of its ``——东部…``
   paragraph): ``union_of_towns`` / ``union_of_districts`` of them;
2. a belt named by its nodes (``古镇-横栏-小榄…产业带``): ``line_through_places`` through them;
3. the name is a gazetteer place: ``point_at_place`` (its stated area, if any, as
   ``stated_area_around_places``);
4. the name holds a gazetteer place (``南沙庆盛片区`` → ``南沙``; the longest one): ``point_at_place`` at
   it, the uncertainty raised by :data:`NAME_PLACE_UNCERTAINTY_M`;
5. the name holds a unit, or the 专栏 line is headed by a district (``罗湖区:``): ``point_in_units``;
6. the element lies in the paragraph of a zone whose units are known: ``point_in_units`` of them;
7. the plan is a district's (``佛山市南海区…规划``): ``point_in_units`` of that district (a zone whose listed
   镇街 the town layer lacks says which in its note);
8. otherwise ``unplaced``, with the reason (naming listed units the draft could not find).

Every proposal says in ``basis_note`` which rule made it, so the reviewer knows what to check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from gisapp.plans.draft.extract import Found
from gisapp.plans.draft.lexicon import Lexicon, short_unit_name

#: Uncertainty (m) of union-of-units proposals (the schematic town cells and the plan's wording).
UNION_UNCERTAINTY_M = 3000.0
#: Added to a place's uncertainty when an element is placed at a place its name only holds (m).
NAME_PLACE_UNCERTAINTY_M = 2000.0
#: Width (m) of a drafted belt through named nodes.
BELT_WIDTH_M = 2000.0


@dataclass
class Proposal:
    """A geometry proposal: the ``geometry`` mapping of the zone file and how sure the draft is.

    Attributes:
        geometry: the mapping (``method`` and its parameters, ``uncertainty_m``, ``basis_note``).
        confidence: ``high`` (the plan lists the units), ``medium`` (a place the name holds) or ``low``.
    """

    geometry: dict[str, Any]
    confidence: str


def _units(lex: Lexicon, names: list[str]) -> tuple[list[str], list[str]]:
    towns, districts = [], []
    for n in names:
        unit = lex.unit_of(n)
        if unit and unit[0] == "town":
            towns.append(unit[1])
        elif unit:
            districts.append(unit[1])
    return towns, districts


def _place_in_name(name: str, lex: Lexicon) -> str | None:
    hits = [p for p, place in lex.places.items() if len(p) >= 2 and p in name and place.city == lex.city]
    return max(hits, key=len) if hits else None


def _unit_in_name(name: str, lex: Lexicon) -> tuple[str, str] | None:
    for unit in (*lex.towns, *lex.districts):
        if unit in name or (len(short_unit_name(unit)) >= 2 and short_unit_name(unit) in name):
            return lex.unit_of(unit)
    return None


def propose(found: Found, lex: Lexicon, zone_units: list[str], plan_district: str | None = None) -> Proposal:
    """The geometry proposal of one element.

    Args:
        found: the element.
        lex: the names the draft knows (gazetteer, towns, districts of the plan's city).
        zone_units: the units of the zone whose paragraph holds the element ([] if none).
        plan_district: the district a district's plan is about (its elements lie in it), or None.

    Returns:
        the :class:`Proposal`; its geometry validates against :data:`gisapp.plans.geomethods.GEOMETRY_METHODS`.
    """
    name = found.name
    geometry: dict[str, Any]
    if found.rule == "count":
        reason = "drafted: the plan counts this part of its structure but does not name it; place it by hand or keep it unplaced"
        return Proposal({"method": "unplaced", "reason": reason}, "low")
    if found.members:
        towns, districts = _units(lex, found.members)
        words = "、".join(found.member_words)
        if towns and not districts:
            note = f"drafted: the plan lists its units ({words}); the union of their 镇街 cells"
            geometry = {"method": "union_of_towns", "towns": towns}
            return Proposal({**geometry, "uncertainty_m": UNION_UNCERTAINTY_M, "basis_note": note}, "high")
        if districts and not towns:
            note = f"drafted: the plan lists its districts ({words}); the union of their official boundaries"
            return Proposal({"method": "union_of_districts", "districts": districts, "basis_note": note}, "high")
    nodes = re.findall(r"[\u4e00-\u9fff]{2}(?=-)|(?<=-)[\u4e00-\u9fff]{2}", name)
    if found.role == "belt" and len(nodes) >= 2 and all(n in lex.places for n in nodes):
        note = f"drafted: a belt through the places its name lists ({'、'.join(nodes)}), {BELT_WIDTH_M:g} m wide"
        return Proposal(
            {"method": "line_through_places", "places": nodes, "width_m": BELT_WIDTH_M, "basis_note": note}, "medium"
        )
    if name in lex.places and found.rule == "heading" and found.role in ("zone", "core"):
        within = [w for w in lex.places[name].within.split("、") if lex.unit_of(w)]
        towns, districts = _units(lex, within)
        if towns and not districts:
            note = f"drafted: a zone the gazetteer locates to {'、'.join(towns)} ({name}); the union of their cells"
            geometry = {"method": "union_of_towns", "towns": towns, "uncertainty_m": UNION_UNCERTAINTY_M}
            return Proposal({**geometry, "basis_note": note}, "medium")
    place = name if name in lex.places else _place_in_name(name, lex)
    if place is not None:
        p = lex.places[place]
        unc = p.uncertainty_m + (0.0 if place == name else NAME_PLACE_UNCERTAINTY_M)
        if found.stated_area_km2:
            note = f"drafted: the stated area ({found.stated_area_km2:g} km²) around {place}; check the clip units"
            geometry = {"method": "stated_area_around_places", "places": [place]}
            geometry |= {"stated_area_km2": found.stated_area_km2, "uncertainty_m": unc, "basis_note": note}
            within = [w for w in p.within.split("、") if lex.unit_of(w)]
            towns, districts = _units(lex, within)
            geometry |= {"towns": towns} if towns else ({"districts": districts} if districts else {})
            return Proposal(geometry, "medium")
        how = "is" if place == name else "holds"
        note = f"drafted: the name {how} the gazetteer place {place} ({p.source}); a point there"
        return Proposal(
            {"method": "point_at_place", "place": place, "uncertainty_m": unc, "basis_note": note}, "medium"
        )
    unit = _unit_in_name(name, lex)
    units = [unit[1]] if unit else list(found.unit_context) or list(zone_units)
    if units:
        towns, districts = _units(lex, units)
        why = (
            "its name holds"
            if unit
            else ("its 专栏 line is headed by" if found.unit_context else "it lies in the zone of")
        )
        note = f"drafted: {why} {'、'.join(units)}; a stand-in point whose uncertainty covers the units"
        geometry = {"method": "point_in_units", "basis_note": note}
        geometry |= {"towns": towns} if towns else {"districts": districts}
        return Proposal(geometry, "low")
    if found.unknown_members:
        listed = "、".join(found.unknown_members)
        if plan_district:
            note = (
                f"drafted: the plan lists {listed}, units the town layer lacks; a stand-in point for {plan_district} "
                "(the plan's district) whose uncertainty covers it"
            )
            return Proposal({"method": "point_in_units", "districts": [plan_district], "basis_note": note}, "low")
        reason = f"drafted: the plan lists {listed}, units the town layer lacks; place it by hand"
        return Proposal({"method": "unplaced", "reason": reason}, "low")
    if plan_district:
        note = f"drafted: only known to lie in {plan_district} (the plan's district); a stand-in point covering it"
        return Proposal({"method": "point_in_units", "districts": [plan_district], "basis_note": note}, "low")
    reason = (
        "drafted: the plan names no place, unit or figure the draft knows for it; place it by hand or keep it unplaced"
    )
    return Proposal({"method": "unplaced", "reason": reason}, "low")
