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

三调 地类图斑 layers (DLTB): the field names follow TD/T 1057-2020《国土调查数据库标准》 (the
database standard of the third national land survey, 第三次全国国土调查): 地类编码 ``DLBM``,
地类名称 ``DLMC``, 图斑面积 ``TBMJ`` (m², ellipsoidal), 扣除地类面积 ``KCMJ``, 标识码 ``BSM``,
权属/坐落单位名称 ``QSDWMC``/``ZLDWMC``. A layer with ``DLBM`` and ``TBMJ`` is recognised
(:func:`dltb_fields`): its class field defaults to ``DLBM``, its dictionary to GB/T 21010-2017
(the 三调 工作分类 is built on it: 1001 is 铁路用地 there, not 工业用地), and the result adds
``official_area`` (:func:`official_area`): TBMJ beside the computed ellipsoidal area, with their
difference, in total, per class and for the 图斑 that differ most.
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
from shapely.geometry.base import BaseGeometry

from gisapp.analysis.accounting.areas import ellipsoidal_m2
from gisapp.analysis.accounting.results import (
    ClassRow,
    IndustrialTotals,
    LandUseAccounting,
    OfficialArea,
    OfficialAreaRow,
    OfficialFeatureRow,
    ShareRow,
    Shares,
    UnitClassRow,
    ZoneClassRow,
)
from gisapp.analysis.accounting.rules import RuleSet
from gisapp.core import paths
from gisapp.core.crs import PROJECTED
from gisapp.core.errors import InputError
from gisapp.core.frames import polygon_rows

NOT_IN_DICTIONARY = "未收录"
#: The database standard whose DLTB field names are recognised (see the module docstring).
DLTB_STANDARD = "TD/T 1057-2020《国土调查数据库标准》 (第三次全国国土调查 地类图斑 DLTB)"
#: The dictionary a DLTB's DLBM codes belong to (三调 工作分类, built on GB/T 21010-2017).
DLTB_DICTIONARY = "gbt21010-2017"


@dataclass(frozen=True)
class DltbFields:
    """The actual column names of a 三调 地类图斑 layer's fields (None where absent).

    Attributes:
        class_field: 地类编码 DLBM; area_field: 图斑面积 TBMJ (m²); deduction_field: 扣除地类面积 KCMJ;
        id_field: 标识码 BSM.
    """

    class_field: str
    area_field: str
    deduction_field: str | None
    id_field: str | None


def dltb_fields(columns: Any) -> DltbFields | None:
    """Recognise a 三调 地类图斑 (DLTB) layer by its fields ``DLBM`` and ``TBMJ`` (any letter case).

    Args:
        columns: the layer's column names.

    Returns:
        the fields' actual names, or None when the layer is not a DLTB (either field missing).
    """
    by_upper = {str(c).upper(): str(c) for c in columns}
    if "DLBM" not in by_upper or "TBMJ" not in by_upper:
        return None
    return DltbFields(by_upper["DLBM"], by_upper["TBMJ"], by_upper.get("KCMJ"), by_upper.get("BSM"))


def resolve_class_field(columns: Any, class_field: str | None, dictionary_id: str | None) -> tuple[str, str | None]:
    """The class field and dictionary to use: the caller's, else a DLTB's ``DLBM`` and GB/T 21010-2017.

    Args:
        columns: the land-use layer's column names.
        class_field: the field the caller named (``--class-field``), or None.
        dictionary_id: the dictionary the caller named, or None (then the rule set's, or for a DLTB
            given without ``class_field`` :data:`DLTB_DICTIONARY`).

    Returns:
        ``(class_field, dictionary_id or None)``.

    Raises:
        InputError: ``missing_field`` when no class field is named and the layer is not a DLTB.
    """
    if class_field:
        return class_field, dictionary_id
    dltb = dltb_fields(columns)
    if dltb is None:
        raise InputError(
            "a land-use layer needs --class-field (the column holding the class; "
            "a 三调 DLTB layer with DLBM and TBMJ needs none)",
            code="missing_field",
        )
    return dltb.class_field, dictionary_id or DLTB_DICTIONARY


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


@dataclass(frozen=True)
class _Pieces:
    """Land-use polygons (EPSG:4547) cut by a line, with their classes and areas (m²)."""

    codes: list[str]
    names: list[str]
    statuses: list[str]
    is_ind: np.ndarray
    inside: np.ndarray
    outside: np.ndarray
    in_p: np.ndarray
    in_e: np.ndarray
    out_p: np.ndarray
    out_e: np.ndarray


def _areas(gs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Planar (EPSG:4547) and ellipsoidal (GRS80) areas of ``gs``, m²."""
    return np.nan_to_num(shapely.area(gs)), ellipsoidal_m2(gs)


def _cut(geoms: np.ndarray, looked: list[tuple[str, str, str]], is_ind: np.ndarray, control: BaseGeometry) -> _Pieces:
    inside = shapely.intersection(geoms, control)
    outside = shapely.difference(geoms, control)
    in_p, in_e = _areas(inside)
    out_p, out_e = _areas(outside)
    return _Pieces(
        [c for c, _, _ in looked],
        [n for _, n, _ in looked],
        [st for _, _, st in looked],
        is_ind,
        inside,
        outside,
        in_p,
        in_e,
        out_p,
        out_e,
    )


def _ha_fields(a: np.ndarray) -> dict[str, float]:
    """Inside/outside planar/ellipsoidal m² (in that order) as the four 公顷 fields of a class row."""
    return {
        "inside_planar_ha": _ha(a[0]),
        "inside_ellipsoidal_ha": _ha(a[1]),
        "outside_planar_ha": _ha(a[2]),
        "outside_ellipsoidal_ha": _ha(a[3]),
    }


def class_rows(pc: _Pieces) -> list[ClassRow]:
    """Area per class inside and outside the line, sorted by code."""
    acc: dict[str, tuple[int, np.ndarray]] = {}
    for i, code in enumerate(pc.codes):
        first, a = acc.setdefault(code, (i, np.zeros(4)))
        a += (pc.in_p[i], pc.in_e[i], pc.out_p[i], pc.out_e[i])
    return [
        ClassRow(
            code=code,
            name=pc.names[i],
            status=pc.statuses[i],
            industrial=bool(pc.is_ind[i]),
            **_ha_fields(a),
        )
        for code, (i, a) in sorted(acc.items())
    ]


def _per_area(pc: _Pieces, area_geoms: np.ndarray, area_names: list[str]) -> list[tuple[str, int, np.ndarray]]:
    """``[(area name, first polygon of the class, [in_p, in_e, out_p, out_e] m²)]`` per area × class,
    in area order then by code."""
    tree = shapely.STRtree(area_geoms)
    acc: dict[tuple[str, str], tuple[int, np.ndarray]] = {}
    for part_geoms, offset in ((pc.inside, 0), (pc.outside, 2)):
        li, ai = tree.query(part_geoms, predicate="intersects")
        pp, pe = _areas(shapely.intersection(part_geoms[li], area_geoms[ai]))
        for k, (i, a) in enumerate(zip(li, ai)):
            if pp[k] <= 0:
                continue
            _, sums = acc.setdefault((area_names[a], pc.codes[i]), (int(i), np.zeros(4)))
            sums[offset] += pp[k]
            sums[offset + 1] += pe[k]
    order = {n: j for j, n in enumerate(area_names)}
    keys = sorted(acc, key=lambda k: (order[k[0]], k[1]))
    return [(name, acc[(name, code)][0], acc[(name, code)][1]) for name, code in keys]


def unit_class_rows(pc: _Pieces, units: gpd.GeoDataFrame) -> list[UnitClassRow]:
    """Area per class in each unit (units in table order), inside and outside the line."""
    return [
        UnitClassRow(unit=name, code=pc.codes[i], name=pc.names[i], industrial=bool(pc.is_ind[i]), **_ha_fields(a))
        for name, i, a in _per_area(pc, units.geometry.to_numpy(), units["name"].to_list())
    ]


def zone_class_rows(pc: _Pieces, structure: gpd.GeoDataFrame | None) -> list[ZoneClassRow]:
    """Area per class in each polygon zone of ``structure`` (any CRS, ``name``); [] without one."""
    if structure is None:
        return []
    zones = polygon_rows(structure).to_crs(PROJECTED)
    if not len(zones):
        return []
    return [
        ZoneClassRow(zone=name, code=pc.codes[i], name=pc.names[i], industrial=bool(pc.is_ind[i]), **_ha_fields(a))
        for name, i, a in _per_area(pc, zones.geometry.to_numpy(), [str(n) for n in zones["name"]])
    ]


def share_rows(
    pc: _Pieces, by_unit: list[UnitClassRow], line: gpd.GeoDataFrame, units: gpd.GeoDataFrame, ellipsoidal: bool
) -> tuple[Shares, IndustrialTotals]:
    """The shares the ratio rules need, and the industrial totals, on one area method.

    Args:
        pc: the cut land-use polygons.
        by_unit: :func:`unit_class_rows` (coverage per unit is summed from its rounded 公顷).
        line: the prepared line (EPSG:4547, ``block_id``).
        units: the prepared units.
        ellipsoidal: True for GRS80 areas, False for planar (EPSG:4547).
    """
    control = shapely.union_all(line.geometry.to_numpy())
    ind_in = float((pc.in_e if ellipsoidal else pc.in_p)[pc.is_ind].sum())
    ind_out = float((pc.out_e if ellipsoidal else pc.out_p)[pc.is_ind].sum())
    line_area = float(ellipsoidal_m2([control])[0]) if ellipsoidal else float(control.area)
    col_in = "inside_ellipsoidal_ha" if ellipsoidal else "inside_planar_ha"
    col_out = "outside_ellipsoidal_ha" if ellipsoidal else "outside_planar_ha"
    cover_rows = []
    for name in units["name"].to_list():
        rows = [r for r in by_unit if r.unit == name and r.industrial]
        num = sum(getattr(r, col_in) for r in rows) * 1e4
        den = num + sum(getattr(r, col_out) for r in rows) * 1e4
        cover_rows.append(_share_row(name, num, den))
    block_geoms = line.geometry.to_numpy()
    ind_geoms = pc.inside[pc.is_ind]
    ind_union = shapely.union_all(ind_geoms) if len(ind_geoms) else shapely.Polygon()
    block_inter = shapely.intersection(block_geoms, ind_union)
    if ellipsoidal:
        num_b, den_b = ellipsoidal_m2(block_inter), ellipsoidal_m2(block_geoms)
    else:
        num_b, den_b = shapely.area(block_inter), shapely.area(block_geoms)
    shares = Shares(
        industrial_coverage_per_unit=cover_rows,
        industrial_share_per_block=[
            _share_row(str(bid), float(n), float(d)) for bid, n, d in zip(line["block_id"], num_b, den_b)
        ],
        industrial_share_of_line=[_share_row("line", ind_in, line_area)],
    )
    totals = IndustrialTotals(
        inside_m2=round(ind_in, 2),
        outside_m2=round(ind_out, 2),
        inside_ha=_ha(ind_in),
        total_ha=_ha(ind_in + ind_out),
        share_of_line_pct=round(ind_in / line_area * 100, 4) if line_area else 0.0,
        coverage_pct=round(ind_in / (ind_in + ind_out) * 100, 4) if ind_in + ind_out else 0.0,
    )
    return shares, totals


def landuse_accounting(
    landuse: gpd.GeoDataFrame,
    class_field: str | None,
    dictionary: Dictionary,
    predicate: IndustrialPredicate,
    line: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    *,
    structure: gpd.GeoDataFrame | None = None,
    method: str = "ellipsoidal",
    industrial_note: str = "",
    industrial_citation: dict[str, Any] | None = None,
) -> LandUseAccounting:
    """Area per land-use class inside and outside a control line; per unit, per zone; industrial shares.

    Args:
        landuse: land-use polygons (any CRS) with ``class_field`` (codes or names).
        class_field: the column holding the class; None for a 三调 DLTB layer (then ``DLBM``).
        dictionary: the classification of that column.
        predicate: which classes are industrial land.
        line: the control line from :func:`gisapp.analysis.accounting.tables.prepare_line` (EPSG:4547).
        units: the units from :func:`gisapp.analysis.accounting.tables.prepare_units` (EPSG:4547).
        structure: optional structure layer (``name``) for the per-zone table.
        method: ``ellipsoidal`` or ``planar``: the area the shares are computed on.
        industrial_note, industrial_citation: the rule set's note on what counts as industrial, and its source.

    Returns:
        the :class:`~gisapp.analysis.accounting.results.LandUseAccounting`; its ``shares`` feed
        :func:`gisapp.analysis.accounting.rules.evaluate_rules` (:meth:`Shares.for_rules`). For a
        三调 DLTB layer (:func:`dltb_fields`) also ``official_area`` (:func:`official_area`).

    Raises:
        InputError: ``missing_field`` when ``class_field`` is absent (or None for a layer that is
            not a DLTB); ``missing_crs``; ``not_polygons``.
    """
    class_field, _ = resolve_class_field(landuse.columns, class_field, dictionary.id)
    if class_field not in landuse:
        fields = ", ".join(c for c in landuse.columns if c != landuse.geometry.name)
        raise InputError(f"the land-use layer has no field '{class_field}' (fields: {fields})", code="missing_field")
    polys = polygon_rows(landuse, "land-use layer")
    geoms = shapely.make_valid(polys.to_crs(PROJECTED).geometry.to_numpy())
    looked = [lookup(dictionary, v) for v in polys[class_field]]
    is_ind = np.array([predicate.matches(c, n) for c, n, _ in looked])
    pc = _cut(geoms, looked, is_ind, shapely.union_all(line.geometry.to_numpy()))
    overlap = float(shapely.area(geoms).sum() - shapely.union_all(geoms).area)
    by_unit = unit_class_rows(pc, units)
    shares, industrial = share_rows(pc, by_unit, line, units, ellipsoidal=method == "ellipsoidal")
    return LandUseAccounting(
        dictionary=dictionary.summary(),
        predicate=predicate.to_dict(),
        class_field=class_field,
        feature_count=int(len(polys)),
        overlap_m2=round(max(overlap, 0.0), 2),
        method=method,
        by_class=class_rows(pc),
        by_unit=by_unit,
        by_zone=zone_class_rows(pc, structure),
        industrial=industrial,
        shares=shares,
        industrial_note=industrial_note,
        industrial_citation=industrial_citation,
        official_area=official_area(polys, geoms, looked),
    )


def _num(value: Any) -> float:
    """A numeric attribute as float (text such as ``"1234.5"`` accepted); NaN when not a number."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return out


def official_area(
    polys: gpd.GeoDataFrame, geoms_4547: np.ndarray, looked: list[tuple[str, str, str]]
) -> OfficialArea | None:
    """TBMJ (official 图斑面积) beside the computed GRS80 area of each 图斑, in total and per class.

    Args:
        polys: the land-use rows (their attributes; a 三调 DLTB when :func:`dltb_fields` finds
            DLBM and TBMJ).
        geoms_4547: the same rows' polygons in EPSG:4547 (made valid).
        looked: per row ``(code, name, status)`` from :func:`lookup`.

    Returns:
        the :class:`~gisapp.analysis.accounting.results.OfficialArea` (m², 2 decimals; percentages
        of the computed area, 4 decimals), or None when the layer is not a DLTB. 图斑 whose TBMJ
        is missing or not a number are counted in ``missing_count`` and left out of the sums.
    """
    fields = dltb_fields(polys.columns)
    if fields is None:
        return None
    official = np.array([_num(v) for v in polys[fields.area_field]], dtype=float)
    computed = ellipsoidal_m2(geoms_4547)
    ok = np.isfinite(official)
    ids = [str(v) for v in polys[fields.id_field]] if fields.id_field else [f"#{i + 1}" for i in range(len(polys))]
    codes = [c for c, _, _ in looked]
    names = {c: n for c, n, _ in looked}

    def pct(diff: float, base: float) -> float:
        return round(diff / base * 100, 4) if base > 0 else 0.0

    rows = []
    for code in sorted(set(codes)):
        sel = np.array([c == code for c in codes]) & ok
        off, comp = float(official[sel].sum()), float(computed[sel].sum())
        rows.append(
            OfficialAreaRow(
                code=code,
                name=names[code],
                feature_count=int(sel.sum()),
                official_m2=round(off, 2),
                ellipsoidal_m2=round(comp, 2),
                difference_m2=round(off - comp, 2),
                difference_pct=pct(off - comp, comp),
            )
        )
    diff = official - computed
    rel = np.where(computed > 0, np.abs(diff) / np.where(computed > 0, computed, 1), 0.0)
    order = [int(i) for i in np.argsort(-np.where(ok, rel, -1.0), kind="stable") if ok[i]][:10]
    largest = [
        OfficialFeatureRow(
            bsm=ids[i],
            code=codes[i],
            official_m2=round(float(official[i]), 2),
            ellipsoidal_m2=round(float(computed[i]), 2),
            difference_m2=round(float(diff[i]), 2),
            difference_pct=pct(float(diff[i]), float(computed[i])),
        )
        for i in order
    ]
    total_off, total_comp = float(official[ok].sum()), float(computed[ok].sum())
    deduction = None
    if fields.deduction_field is not None:
        kc = np.array([_num(v) for v in polys[fields.deduction_field]], dtype=float)
        deduction = round(float(np.nansum(kc)), 2)
    return OfficialArea(
        area_field=fields.area_field,
        deduction_field=fields.deduction_field,
        standard=DLTB_STANDARD,
        feature_count=int(len(polys)),
        missing_count=int((~ok).sum()),
        official_m2=round(total_off, 2),
        ellipsoidal_m2=round(total_comp, 2),
        difference_m2=round(total_off - total_comp, 2),
        difference_pct=pct(total_off - total_comp, total_comp),
        deduction_m2=deduction,
        by_class=rows,
        largest_differences=largest,
    )


def _share_row(scope: str, numerator_m2: float, denominator_m2: float) -> ShareRow:
    return ShareRow(
        scope=scope,
        numerator_m2=round(numerator_m2, 2),
        denominator_m2=round(denominator_m2, 2),
        share_pct=round(numerator_m2 / denominator_m2 * 100, 4) if denominator_m2 > 0 else 0.0,
    )
