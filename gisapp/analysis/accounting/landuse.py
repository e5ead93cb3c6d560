"""Land-use classes: classification dictionaries as data, area per class inside and outside a
control line, per unit and per zone, and the "industrial share" the ratio rules need.

Dictionaries live in ``data/landuse/<id>.yaml`` (GB/T 21010-2017 土地利用现状分类; the 2023
国土空间调查、规划、用途管制用地用海分类指南), each class with a verification ``status``
(``verified`` / ``secondary`` / ``unverified``) and its source. A land-use layer's class field may
hold codes (``"0601"``, ``100101``) or class names (``工业用地``); codes the dictionary does not
list are kept and reported as 未收录 (not in the dictionary).

"Industrial land" is a predicate per city and per dictionary (``landuse.industrial.by_dictionary``
in the rule set): code prefixes (``1001`` matches ``100101``…) and/or class names. The same code
means different things in different dictionaries (1001 is 铁路用地 in GB/T 21010-2017 and 工业用地 in
the 2023 guide), so the dictionary is always named.

Areas: planar (EPSG:4547) and ellipsoidal (GRS80), m² and 公顷; shares use the rule set's
``verdict_area`` method.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
import yaml

from gisapp.analysis.accounting.areas import ellipsoidal_m2
from gisapp.analysis.accounting.rules import RuleSet
from gisapp.core import paths
from gisapp.core.crs import PROJECTED
from gisapp.core.errors import InputError
from gisapp.core.frames import polygon_rows

NOT_IN_DICTIONARY = "未收录"


@dataclass(frozen=True)
class LandClass:
    """One class of a dictionary: ``code``, ``name``, ``level`` (1, 2, 3), ``parent`` code, ``status``, ``source`` id."""

    code: str
    name: str
    level: int
    parent: str
    status: str
    source: str = ""


@dataclass
class Dictionary:
    """A land-use classification dictionary read from ``data/landuse/<id>.yaml``.

    Attributes:
        id, title, title_en, standard, issuer, date: identity of the classification.
        sources: where the codes were checked (``[{id, what, url, status}]``).
        classes: code → :class:`LandClass`.
        industrial_default: code prefixes counted as industrial when a rule set names none.
    """

    id: str
    title: str
    title_en: str
    standard: str
    issuer: str
    date: str
    sources: list[dict[str, Any]]
    classes: dict[str, LandClass]
    industrial_default: list[str] = field(default_factory=list)

    def by_name(self) -> dict[str, LandClass]:
        """Class name → class (the most detailed level wins when a name repeats)."""
        out: dict[str, LandClass] = {}
        for c in sorted(self.classes.values(), key=lambda c: c.level):
            out[c.name] = c
        return out

    def summary(self) -> dict[str, Any]:
        """Identity, sources and class counts by status, JSON-ready."""
        counts: dict[str, int] = defaultdict(int)
        for c in self.classes.values():
            counts[c.status] += 1
        return {
            "id": self.id,
            "title": self.title,
            "title_en": self.title_en,
            "standard": self.standard,
            "issuer": self.issuer,
            "date": self.date,
            "sources": self.sources,
            "class_count": len(self.classes),
            "status_counts": dict(counts),
            "industrial_default": self.industrial_default,
        }


def dictionaries_dir() -> Path:
    """Directory of dictionary files: ``<repo>/data/landuse``."""
    return paths.data_dir() / "landuse"


def load_dictionary(dictionary_id: str) -> Dictionary:
    """Read ``data/landuse/<id>.yaml``.

    Raises:
        InputError: ``unknown_dictionary`` (404) for an unknown id; ``invalid_dictionary`` (422) when malformed.
    """
    known = {p.stem: p for p in dictionaries_dir().glob("*.yaml")}
    if dictionary_id not in known:
        raise InputError(
            f"unknown land-use dictionary '{dictionary_id}' (known: {', '.join(sorted(known))})",
            code="unknown_dictionary",
            status=404,
        )
    path = known[dictionary_id]
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
        classes = {}
        for c in data["classes"]:
            code = str(c["code"])
            classes[code] = LandClass(
                code,
                str(c["name"]),
                int(c["level"]),
                str(c.get("parent", "")),
                str(c["status"]),
                str(c.get("source", "")),
            )
        return Dictionary(
            id=str(data["id"]),
            title=str(data["title"]),
            title_en=str(data.get("title_en", "")),
            standard=str(data.get("standard", "")),
            issuer=str(data.get("issuer", "")),
            date=str(data.get("date", "")),
            sources=list(data.get("sources") or []),
            classes=classes,
            industrial_default=[str(x) for x in data.get("industrial_default") or []],
        )
    except (yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{path.name}: malformed dictionary ({exc})", code="invalid_dictionary", status=422) from exc


def list_dictionaries() -> list[Dictionary]:
    """Every dictionary in ``data/landuse/``, sorted by id."""
    return [load_dictionary(p.stem) for p in sorted(dictionaries_dir().glob("*.yaml"))]


def normalise_code(value: Any) -> str:
    """A class value as text: integers and floats lose nothing (``601`` → ``"0601"``, ``100101.0`` → ``"100101"``).

    Codes have an even number of digits (2, 4, 6); a numeric value with an odd count lost its
    leading zero (e.g. read from a spreadsheet) and gets it back. Names are returned stripped.
    """
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if text.isdigit() and len(text) % 2 == 1:
        text = "0" + text
    return text


def lookup(dictionary: Dictionary, value: Any) -> tuple[str, str, str]:
    """``(code, name, status)`` of a layer's class value (a code or a class name).

    Unknown values give ``(value, "未收录", "not_in_dictionary")``.
    """
    text = normalise_code(value)
    if text in dictionary.classes:
        c = dictionary.classes[text]
        return c.code, c.name, c.status
    named = dictionary.by_name().get(text)
    if named is not None:
        return named.code, named.name, named.status
    return text, NOT_IN_DICTIONARY, "not_in_dictionary"


@dataclass(frozen=True)
class IndustrialPredicate:
    """Which classes count as industrial land: code prefixes and/or class names.

    Attributes:
        dictionary: the dictionary the codes belong to.
        codes: code prefixes (``"1001"`` matches ``"1001"`` and ``"100101"``).
        names: class names, matched exactly.
        origin: ``rule set <id>`` or ``dictionary default`` or ``user``.
    """

    dictionary: str
    codes: tuple[str, ...]
    names: tuple[str, ...]
    origin: str

    def matches(self, code: str, name: str) -> bool:
        """True when the class ``code``/``name`` is industrial land."""
        return any(code.startswith(c) for c in self.codes) or name in self.names

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "dictionary": self.dictionary,
            "codes": list(self.codes),
            "names": list(self.names),
            "origin": self.origin,
        }


def predicate_for(ruleset: RuleSet, dictionary: Dictionary, codes: list[str] | None = None) -> IndustrialPredicate:
    """The industrial-land predicate of ``ruleset`` for ``dictionary``.

    Args:
        ruleset: gives ``landuse.industrial.by_dictionary[dictionary.id]``.
        dictionary: the dictionary of the land-use layer.
        codes: user-given code prefixes; override the rule set.

    Returns:
        the predicate; when the rule set names nothing for this dictionary, the dictionary's
        ``industrial_default`` (origin ``dictionary default``).
    """
    if codes:
        return IndustrialPredicate(dictionary.id, tuple(normalise_code(c) for c in codes), (), "user")
    entry = ruleset.industrial.get("by_dictionary", {}).get(dictionary.id)
    if entry and (entry["codes"] or entry["names"]):
        return IndustrialPredicate(
            dictionary.id, tuple(entry["codes"]), tuple(entry["names"]), f"rule set {ruleset.id}"
        )
    return IndustrialPredicate(dictionary.id, tuple(dictionary.industrial_default), (), "dictionary default")


def _ha(m2: float) -> float:
    return round(m2 / 1e4, 4)


def landuse_accounting(
    landuse: gpd.GeoDataFrame,
    class_field: str,
    dictionary: Dictionary,
    predicate: IndustrialPredicate,
    line: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    *,
    structure: gpd.GeoDataFrame | None = None,
    method: str = "ellipsoidal",
) -> dict[str, Any]:
    """Area per land-use class inside and outside a control line; per unit, per zone; industrial shares.

    Args:
        landuse: land-use polygons (any CRS) with ``class_field`` (codes or names).
        class_field: the column holding the class.
        dictionary: the classification of that column.
        predicate: which classes are industrial land.
        line: the control line from :func:`gisapp.analysis.accounting.tables.prepare_line` (EPSG:4547).
        units: the units from :func:`gisapp.analysis.accounting.tables.prepare_units` (EPSG:4547).
        structure: optional structure layer (``name``) for the per-zone table.
        method: ``ellipsoidal`` or ``planar``: the area the shares are computed on.

    Returns:
        ``{dictionary{…}, predicate{…}, class_field, feature_count, overlap_m2, by_class[{code, name,
        status, industrial, inside_planar_ha, inside_ellipsoidal_ha, outside_planar_ha,
        outside_ellipsoidal_ha}], by_unit[{unit, code, name, industrial, inside_*_ha, outside_*_ha}],
        by_zone[…], industrial{inside_*_ha, total_*_ha, share_of_line_pct, coverage_pct},
        shares{measure: [rows]}, method}``. ``shares`` feeds :func:`gisapp.analysis.accounting.rules.evaluate_rules`.

    Raises:
        InputError: ``missing_field`` when ``class_field`` is absent; ``missing_crs``; ``not_polygons``.
    """
    if class_field not in landuse:
        fields = ", ".join(c for c in landuse.columns if c != landuse.geometry.name)
        raise InputError(f"the land-use layer has no field '{class_field}' (fields: {fields})", code="missing_field")
    polys = polygon_rows(landuse, "land-use layer")
    geoms = shapely.make_valid(polys.to_crs(PROJECTED).geometry.to_numpy())
    looked = [lookup(dictionary, v) for v in polys[class_field]]
    codes = [c for c, _, _ in looked]
    names = [n for _, n, _ in looked]
    is_ind = np.array([predicate.matches(c, n) for c, n, _ in looked])
    control = shapely.union_all(line.geometry.to_numpy())
    inside = shapely.intersection(geoms, control)
    outside = shapely.difference(geoms, control)
    overlap = float(shapely.area(geoms).sum() - shapely.union_all(geoms).area)

    def areas(gs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.nan_to_num(shapely.area(gs)), ellipsoidal_m2(gs)

    in_p, in_e = areas(inside)
    out_p, out_e = areas(outside)
    pick = 1 if method == "ellipsoidal" else 0

    classes: dict[str, dict[str, Any]] = {}
    for i, (code, name, status) in enumerate(looked):
        row = classes.setdefault(
            code,
            {"code": code, "name": name, "status": status, "industrial": bool(is_ind[i]), "_a": np.zeros(4)},
        )
        row["_a"] += (in_p[i], in_e[i], out_p[i], out_e[i])

    def finish(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for r in rows:
            a = r.pop("_a")
            r.update(
                inside_planar_ha=_ha(a[0]),
                inside_ellipsoidal_ha=_ha(a[1]),
                outside_planar_ha=_ha(a[2]),
                outside_ellipsoidal_ha=_ha(a[3]),
            )
        return rows

    by_class = finish(sorted(classes.values(), key=lambda r: r["code"]))

    def per_area(area_geoms: np.ndarray, area_names: list[str], key: str) -> list[dict[str, Any]]:
        tree = shapely.STRtree(area_geoms)
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for part_geoms, offset in ((inside, 0), (outside, 2)):
            li, ai = tree.query(part_geoms, predicate="intersects")
            pieces = shapely.intersection(part_geoms[li], area_geoms[ai])
            pp, pe = areas(pieces)
            for k, (i, a) in enumerate(zip(li, ai)):
                if pp[k] <= 0:
                    continue
                r = rows.setdefault(
                    (area_names[a], codes[i]),
                    {
                        key: area_names[a],
                        "code": codes[i],
                        "name": names[i],
                        "industrial": bool(is_ind[i]),
                        "_a": np.zeros(4),
                    },
                )
                r["_a"][offset] += pp[k]
                r["_a"][offset + 1] += pe[k]
        order = {n: j for j, n in enumerate(area_names)}
        return finish(sorted(rows.values(), key=lambda r: (order[r[key]], r["code"])))

    unit_geoms = units.geometry.to_numpy()
    unit_names = units["name"].to_list()
    by_unit = per_area(unit_geoms, unit_names, "unit")
    by_zone: list[dict[str, Any]] = []
    if structure is not None:
        zones = polygon_rows(structure).to_crs(PROJECTED)
        if len(zones):
            by_zone = per_area(zones.geometry.to_numpy(), [str(n) for n in zones["name"]], "zone")

    # shares for the ratio rules, on the chosen method
    ind_in = float((in_e if pick else in_p)[is_ind].sum())
    ind_out = float((out_e if pick else out_p)[is_ind].sum())
    line_area = float(ellipsoidal_m2([control])[0]) if pick else float(control.area)
    col_in = "inside_ellipsoidal_ha" if pick else "inside_planar_ha"
    col_out = "outside_ellipsoidal_ha" if pick else "outside_planar_ha"
    cover_rows = []
    for name in unit_names:
        rows = [r for r in by_unit if r["unit"] == name and r["industrial"]]
        num = sum(r[col_in] for r in rows) * 1e4
        den = num + sum(r[col_out] for r in rows) * 1e4
        cover_rows.append(_share_row(name, num, den))
    block_rows = []
    block_geoms = line.geometry.to_numpy()
    ind_geoms = inside[is_ind]
    ind_union = shapely.union_all(ind_geoms) if len(ind_geoms) else shapely.Polygon()
    block_inter = shapely.intersection(block_geoms, ind_union)
    if pick:
        num_b, den_b = ellipsoidal_m2(block_inter), ellipsoidal_m2(block_geoms)
    else:
        num_b, den_b = shapely.area(block_inter), shapely.area(block_geoms)
    for bid, n, d in zip(line["block_id"], num_b, den_b):
        block_rows.append(_share_row(str(bid), float(n), float(d)))
    shares = {
        "industrial_coverage_per_unit": cover_rows,
        "industrial_share_per_block": block_rows,
        "industrial_share_of_line": [_share_row("line", ind_in, line_area)],
    }
    return {
        "dictionary": dictionary.summary(),
        "predicate": predicate.to_dict(),
        "class_field": class_field,
        "feature_count": int(len(polys)),
        "overlap_m2": round(max(overlap, 0.0), 2),
        "method": method,
        "by_class": by_class,
        "by_unit": by_unit,
        "by_zone": by_zone,
        "industrial": {
            "inside_m2": round(ind_in, 2),
            "outside_m2": round(ind_out, 2),
            "inside_ha": _ha(ind_in),
            "total_ha": _ha(ind_in + ind_out),
            "share_of_line_pct": round(ind_in / line_area * 100, 4) if line_area else 0.0,
            "coverage_pct": round(ind_in / (ind_in + ind_out) * 100, 4) if ind_in + ind_out else 0.0,
        },
        "shares": shares,
    }


def _share_row(scope: str, numerator_m2: float, denominator_m2: float) -> dict[str, Any]:
    return {
        "scope": scope,
        "numerator_m2": round(numerator_m2, 2),
        "denominator_m2": round(denominator_m2, 2),
        "share_pct": round(numerator_m2 / denominator_m2 * 100, 4) if denominator_m2 > 0 else 0.0,
    }
