"""Adjustments of a control line (占补平衡) and the comparison of two versions of it.

A proposal takes blocks out (by block id, or by cutting polygons out of every block) and adds
polygons; :func:`adjustment_report` returns the new totals, per-unit and per-tier deltas, and the
rule verdicts before and after. Nothing is written: the stored layer stays as it is.

:func:`compare_versions` compares two versions of a line: the area added (in the new version and
not the old), removed (in the old and not the new) and the net change, by unit and by tier.

All geometry in EPSG:4547; areas planar (EPSG:4547) and ellipsoidal (GRS80), see
:mod:`gisapp.analysis.accounting.areas`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from gisapp.analysis.accounting.areas import ellipsoidal_m2, twin_fields
from gisapp.analysis.accounting.results import (
    AdjustmentReport,
    AreaDelta,
    BeforeSummary,
    BlockSets,
    Comparison,
    LineAccounting,
    RuleChange,
    TierDeltaRow,
    TwinAreas,
    UnitDeltaRow,
)
from gisapp.analysis.accounting.rules import RuleSet
from gisapp.analysis.accounting.tables import MIN_ROW_M2, UNTIERED, line_accounting, partition
from gisapp.analysis.parcels import parse_geojson_parcels
from gisapp.core.crs import PROJECTED
from gisapp.core.errors import InputError
from gisapp.core.jsontext import parse_json


@dataclass
class Proposal:
    """An adjustment proposal.

    Attributes:
        remove_ids: block ids to take out whole.
        remove: polygons (EPSG:4326) to cut out of every block, or None.
        add: polygons (EPSG:4326) to add as new blocks, with an optional ``tier`` column, or None.
        repairs: messages about repaired input rings.
    """

    remove_ids: list[str] = field(default_factory=list)
    remove: gpd.GeoDataFrame | None = None
    add: gpd.GeoDataFrame | None = None
    repairs: list[str] = field(default_factory=list)


def parse_proposal(data: bytes | str | Mapping[str, Any]) -> Proposal:
    """Read a proposal: JSON ``{"remove_ids": [ids], "remove": GeoJSON, "add": GeoJSON}``.

    Args:
        data: the JSON text or an already-parsed mapping. ``remove`` and ``add`` are GeoJSON
            FeatureCollections, Features or (Multi)Polygons; each may carry a legacy ``crs`` member
            (default WGS 84, RFC 7946). Features of ``add`` may have a ``tier`` property.

    Returns:
        the :class:`Proposal`.

    Raises:
        InputError: ``invalid_proposal`` (not JSON, wrong types), ``empty_proposal`` (nothing to do),
            and the GeoJSON errors of :func:`gisapp.analysis.parcels.parse_geojson_parcels`.
    """
    if isinstance(data, Mapping):
        doc: Any = data
    else:
        doc = parse_json(data, "the proposal", code="invalid_proposal")
    if not isinstance(doc, Mapping):
        raise InputError("the proposal must be a JSON object", code="invalid_proposal")
    unknown = set(doc) - {"remove_ids", "remove", "add"}
    if unknown:
        raise InputError(f"unknown proposal keys: {', '.join(sorted(unknown))}", code="invalid_proposal")
    ids = doc.get("remove_ids") or []
    if not isinstance(ids, list) or not all(isinstance(i, str | int) for i in ids):
        raise InputError("'remove_ids' must be a list of block ids", code="invalid_proposal")
    p = Proposal(remove_ids=[str(i) for i in ids])
    for key in ("remove", "add"):
        if doc.get(key):
            parsed = parse_geojson_parcels(json.dumps(doc[key]))
            setattr(p, key, parsed.parcels)
            p.repairs += [f"{key}: {m}" for m in parsed.repairs]
    if not p.remove_ids and p.remove is None and p.add is None:
        raise InputError("the proposal takes nothing out and adds nothing", code="empty_proposal")
    return p


def apply_proposal(line: gpd.GeoDataFrame, proposal: Proposal) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Apply a proposal to a prepared line (a copy; the input is not changed).

    Args:
        line: from :func:`gisapp.analysis.accounting.tables.prepare_line` (EPSG:4547, ``block_id``, ``tier``).
        proposal: what to take out and add.

    Returns:
        ``(new_line, changes)``: the adjusted line (EPSG:4547; added blocks get ids ``ADD-01``… and
        the ``tier`` property of their feature, else 未分级) and one message per change.

    Raises:
        InputError: ``unknown_block`` (422) for ids not in the line; ``empty_line`` (422) when nothing is left.
    """
    ids = set(line["block_id"])
    missing = [i for i in proposal.remove_ids if i not in ids]
    if missing:
        raise InputError(f"no such block id: {', '.join(missing)}", code="unknown_block", status=422)
    changes = [f"removed block {i}" for i in proposal.remove_ids]
    out = line[~line["block_id"].isin(proposal.remove_ids)].copy()
    if proposal.remove is not None:
        cut = shapely.union_all(proposal.remove.to_crs(PROJECTED).geometry.to_numpy())
        before = shapely.area(out.geometry.to_numpy())
        out["geometry"] = shapely.difference(out.geometry.to_numpy(), cut)
        after = shapely.area(out.geometry.to_numpy())
        for bid, b, a in zip(out["block_id"], before, after):
            if b - a > 0.005:
                changes.append(f"cut {b - a:.2f} m² (planar) out of block {bid}")
        out = out[~out.geometry.is_empty & (shapely.area(out.geometry.to_numpy()) > 0)]
    if proposal.add is not None:
        add = proposal.add.to_crs(PROJECTED)
        tiers = (
            [str(t).strip() or UNTIERED if t is not None else UNTIERED for t in add["tier"]]
            if "tier" in add
            else [UNTIERED] * len(add)
        )
        new = gpd.GeoDataFrame(
            {"block_id": [f"ADD-{k:02d}" for k in range(1, len(add) + 1)], "tier": tiers},
            geometry=add.geometry.to_numpy(),
            crs=PROJECTED,
        )
        for bid, g in zip(new["block_id"], new.geometry):
            changes.append(f"added block {bid}: {g.area:.2f} m² (planar)")
        out = gpd.GeoDataFrame(
            {"block_id": [*out["block_id"], *new["block_id"]], "tier": [*out["tier"], *new["tier"]]},
            geometry=[*out.geometry, *new.geometry],
            crs=PROJECTED,
        )
    if out.empty:
        raise InputError("the proposal leaves no block in the line", code="empty_line", status=422)
    return gpd.GeoDataFrame(out.reset_index(drop=True), geometry="geometry", crs=PROJECTED), changes


def _by_unit_areas(geom: BaseGeometry, units: gpd.GeoDataFrame) -> dict[str, tuple[float, float]]:
    names = units["name"].to_list()
    pieces, remaining = partition(geom, names, units.geometry.to_numpy())
    geoms = [g for _, g in pieces] + [remaining]
    ell = ellipsoidal_m2(geoms)
    out = {n: (float(g.area), float(e)) for (n, g), e in zip(pieces, ell)}
    out["（未落入任何单元）"] = (float(remaining.area), float(ell[-1]))
    return out


def _delta_row(key: str, name: str, added: tuple[float, float], removed: tuple[float, float]) -> dict[str, Any]:
    """The fields of a :class:`UnitDeltaRow` / :class:`TierDeltaRow`: ``{key: name}`` and the areas (m² → 公顷)."""
    return {
        key: name,
        "added_planar_ha": round(added[0] / 1e4, 4),
        "added_ellipsoidal_ha": round(added[1] / 1e4, 4),
        "removed_planar_ha": round(removed[0] / 1e4, 4),
        "removed_ellipsoidal_ha": round(removed[1] / 1e4, 4),
        "net_planar_ha": round((added[0] - removed[0]) / 1e4, 4),
        "net_ellipsoidal_ha": round((added[1] - removed[1]) / 1e4, 4),
    }


def _tier_deltas(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame) -> list[TierDeltaRow]:
    rows = []
    for t in dict.fromkeys([*old["tier"], *new["tier"]]):
        t_old = shapely.union_all(old.loc[old["tier"] == t].geometry.to_numpy())
        t_new = shapely.union_all(new.loc[new["tier"] == t].geometry.to_numpy())
        ta, tr = shapely.difference(t_new, t_old), shapely.difference(t_old, t_new)
        e = ellipsoidal_m2([ta, tr])
        if ta.area >= MIN_ROW_M2 or tr.area >= MIN_ROW_M2:
            rows.append(TierDeltaRow(**_delta_row("tier", t, (ta.area, e[0]), (tr.area, e[1]))))
    return rows


def compare_versions(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame, units: gpd.GeoDataFrame) -> Comparison:
    """Compare two versions of a control line: added, removed, net, by unit and by tier.

    Args:
        old, new: prepared lines (EPSG:4547, ``block_id``, ``tier``), see :func:`prepare_line`.
        units: prepared units (EPSG:4547, ``name``).

    Returns:
        the :class:`~gisapp.analysis.accounting.results.Comparison`; rows whose change is under 1 m²
        (boundary slivers) are left out.
    """
    u_old = shapely.union_all(old.geometry.to_numpy())
    u_new = shapely.union_all(new.geometry.to_numpy())
    added = shapely.difference(u_new, u_old)
    removed = shapely.difference(u_old, u_new)
    a_units = _by_unit_areas(added, units)
    r_units = _by_unit_areas(removed, units)
    by_unit = [
        UnitDeltaRow(**_delta_row("unit", n, a_units[n], r_units[n]))
        for n in a_units
        if max(a_units[n][0], r_units[n][0]) >= MIN_ROW_M2
    ]
    e_all = ellipsoidal_m2([u_old, u_new, added, removed])
    ids_old, ids_new = set(old["block_id"]), set(new["block_id"])
    return Comparison(
        old_total=TwinAreas(**twin_fields(u_old.area, float(e_all[0]))),
        new_total=TwinAreas(**twin_fields(u_new.area, float(e_all[1]))),
        added=TwinAreas(**twin_fields(added.area, float(e_all[2]))),
        removed=TwinAreas(**twin_fields(removed.area, float(e_all[3]))),
        net_planar_ha=round((u_new.area - u_old.area) / 1e4, 4),
        net_ellipsoidal_ha=round((e_all[1] - e_all[0]) / 1e4, 4),
        by_unit=by_unit,
        by_tier=_tier_deltas(old, new),
        blocks=BlockSets(
            only_old=sorted(ids_old - ids_new), only_new=sorted(ids_new - ids_old), common=len(ids_old & ids_new)
        ),
    )


def _rule_changes(before: LineAccounting, after: LineAccounting) -> list[RuleChange]:
    rb = {r["id"]: r for r in before.rules}
    return [
        RuleChange(
            id=r["id"],
            title=r["title"],
            before=rb[r["id"]]["verdict"],
            after=r["verdict"],
            value_before=rb[r["id"]].get("value"),
            value_after=r.get("value"),
            changed=rb[r["id"]]["verdict"] != r["verdict"],
        )
        for r in after.rules
    ]


def adjustment_report(
    line: gpd.GeoDataFrame,
    proposal: Proposal,
    units: gpd.GeoDataFrame,
    ruleset: RuleSet,
    **accounting_kwargs: Any,
) -> AdjustmentReport:
    """What a proposal would do: new totals, per-unit and per-tier deltas, rule verdicts before and after.

    Args:
        line: the current line, prepared (EPSG:4547).
        proposal: the adjustment.
        units: prepared units.
        ruleset: the rule set.
        **accounting_kwargs: passed to :func:`gisapp.analysis.accounting.tables.line_accounting` for both
            versions (``geometry_basis``, ``layer_id``, ``margin_pct``, ``progress`` …).

    Returns:
        the :class:`~gisapp.analysis.accounting.results.AdjustmentReport` (``layer``, ``illustrative`` and
        ``warning`` left None: the service sets them).

    Raises:
        InputError: from :func:`apply_proposal`.
    """
    new_line, messages = apply_proposal(line, proposal)
    before = line_accounting(line, units, ruleset, **accounting_kwargs)
    after = line_accounting(new_line, units, ruleset, **accounting_kwargs)
    tb, ta = before.total, after.total
    delta = AreaDelta(
        **{f: round(getattr(ta, f) - getattr(tb, f), 6 if f.endswith("km2") else 4) for f in AreaDelta.model_fields}
    )
    return AdjustmentReport(
        before=BeforeSummary(total=tb, status=before.status, verdicts=before.verdicts, headroom=before.headroom),
        after=after,
        delta=delta,
        changes=compare_versions(line, new_line, units),
        rule_changes=_rule_changes(before, after),
        messages=messages,
        repairs=proposal.repairs,
    )
