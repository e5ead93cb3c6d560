"""Control-line rule sets as cited data (``rules/*.yaml``), and their evaluation.

A rule set declares one city's control line: the layer holding it, its tiers, the units it is
accounted by (镇街, 区), the structure layer for the per-zone table, the colour-status margin, the
land-use predicate for "industrial land", and its rules. Every rule carries the document, clause
and quoted sentence it comes from (:class:`Citation`). Changing a threshold or adding a city is
editing or adding a file; no code changes.

Rule kinds (``kind``):

``floor``
    the line's area (``tier`` optional: one tier only) must compare to ``threshold`` ``unit``
    (``km2``, ``ha``, ``mu``, ``m2``): measured from the layer.
``progress``
    a quantity the user reports (``metric``), e.g. 亩 of low-efficiency parks cleared, against a
    target; unreported → ``not_reported``.
``reported_share``
    ``numerator / denominator`` reported by the user, in %, e.g. the share of the yearly new
    farmland-conversion quota used for industry.
``landuse_share``
    a share computed from a land-use layer (see :mod:`gisapp.accounting.landuse`); ``measure`` is
    ``industrial_coverage_per_unit`` (industrial land inside the line / all industrial land, per
    unit), ``industrial_share_per_block`` (industrial land in a block / the block's area, per
    block) or ``industrial_share_of_line`` (industrial land inside the line / the line's area).
    Without a land-use layer → ``not_evaluated``.

Verdicts: ``pass``, ``fail``, ``not_reported``, ``not_evaluated``.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gisapp import paths
from gisapp.errors import InputError
from gisapp.settings import Settings
from gisapp.units import M2_PER_UNIT, from_m2, to_m2

KINDS = ("floor", "progress", "reported_share", "landuse_share")
LANDUSE_MEASURES = ("industrial_coverage_per_unit", "industrial_share_per_block", "industrial_share_of_line")
COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}
COMPARISON_ZH = {">=": "不少于", ">": "大于", "<=": "不超过", "<": "小于"}
VERDICT_ZH = {"pass": "达标", "fail": "未达标", "not_reported": "未填报", "not_evaluated": "无法评估"}
#: A progress target not yet reached is "not yet completed", not "failed".
PROGRESS_VERDICT_ZH = {"pass": "已完成", "fail": "未完成"}
CITATION_STATUSES = ("verified", "secondary", "unverified")
RULE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
DEFAULT_RULESET = "zhongshan-industrial-redline"


class RuleSetError(InputError):
    """A rule-set file that cannot be used (names the file and the rule; HTTP 422)."""

    def __init__(self, path: Path | str, message: str) -> None:
        name = path.name if isinstance(path, Path) else path
        super().__init__(f"{name}: {message}", code="invalid_rule_set", status=422)


@dataclass(frozen=True)
class Citation:
    """Where a rule comes from.

    Attributes:
        document: the document's title (Chinese).
        quote: the sentence, verbatim (simplified Chinese).
        file: a plan file in ``../shared/plans/`` when the document is one of them, else ``""``.
        line: the line of ``file`` holding the quote (0 when not a plan file).
        section: section or clause (e.g. ``（五）5、优化拓展土地利用空间``).
        issuer, date, url: publication facts when known.
        status: ``verified`` (checked against the text), ``secondary`` (read in a copy or a report
            of the document, not the original), ``unverified``.
        note: caveats.
    """

    document: str
    quote: str
    file: str = ""
    line: int = 0
    section: str = ""
    issuer: str = ""
    date: str = ""
    url: str = ""
    status: str = "unverified"
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The citation as a JSON-ready dict."""
        return asdict(self)

    def label(self) -> str:
        """One line: ``document (file line N)`` or ``document, issuer, date``."""
        if self.file:
            return f"{self.document}（{self.file} 第 {self.line} 行）"
        return "，".join(x for x in (self.document, self.issuer, self.date) if x)


@dataclass(frozen=True)
class Rule:
    """One rule of a rule set (see the module docstring for the kinds).

    Attributes:
        id, kind, title (Chinese), title_en: identity.
        comparison: ``>=``, ``>``, ``<=``, ``<``.
        threshold: the figure, in ``unit`` (``km2``, ``ha``, ``mu``, ``m2``; ``pct`` for shares).
        citation: where the figure comes from.
        tier: for ``floor``: only this tier (``""`` = the whole line).
        metric: for ``progress``: the key of the reported figure.
        numerator, denominator: for ``reported_share``: keys of the reported figures.
        measure: for ``landuse_share``: one of :data:`LANDUSE_MEASURES`.
        period: the period the target covers (e.g. ``未来五年``, ``每年``).
        note: caveats.
    """

    id: str
    kind: str
    title: str
    title_en: str
    comparison: str
    threshold: float
    unit: str
    citation: Citation
    tier: str = ""
    metric: str = ""
    numerator: str = ""
    denominator: str = ""
    measure: str = ""
    period: str = ""
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The rule as a JSON-ready dict (citation included)."""
        d = asdict(self)
        d["citation"] = self.citation.to_dict()
        return d


@dataclass
class RuleSet:
    """A city's control line and its rules, read from ``rules/<id>.yaml``.

    Attributes:
        id, city, city_en, title, title_en: identity.
        line_layer: layer id of the control line; ``id_field``/``tier_field`` its block-id and tier columns.
        tiers: the tiers the city uses (``[]`` when none); ``tier_note`` explains.
        units_layer, unit_name_field, unit_filter, unit_label, unit_label_en: the accounting units
            (e.g. ``zs-towns``/``name``/``{}``/``镇街``/``town``); ``unit_filter`` keeps rows whose
            columns equal the given values (e.g. ``{"city": "广州市"}``).
        structure: structure layer id for the per-zone table (``""`` for none).
        verdict_area: ``ellipsoidal`` (default) or ``planar``: the area rules are judged on.
        margin_pct: colour status: a total within this % above the floor is "near the floor".
        landuse_dictionary: id of the default land-use dictionary (``data/landuse/<id>.yaml``).
        industrial: the "industrial land" predicate: ``by_dictionary`` = ``{dictionary id: {"codes":
            [code prefixes], "names": [class names]}}``, ``note``, ``citation`` (or None).
        rules: the rules, in file order.
        notes: caveats shown with every report.
        path: the file it was read from.
    """

    id: str
    city: str
    city_en: str
    title: str
    title_en: str
    line_layer: str
    id_field: str
    tier_field: str
    tiers: list[str]
    tier_note: str
    units_layer: str
    unit_name_field: str
    unit_filter: dict[str, Any]
    unit_label: str
    unit_label_en: str
    structure: str
    verdict_area: str
    margin_pct: float
    landuse_dictionary: str
    industrial: dict[str, Any]
    rules: list[Rule]
    notes: list[str] = field(default_factory=list)
    path: str = ""

    def floor_rule(self) -> Rule | None:
        """The first ``floor`` rule on the whole line (no ``tier``), or None."""
        return next((r for r in self.rules if r.kind == "floor" and not r.tier), None)

    def to_dict(self) -> dict[str, Any]:
        """The rule set as a JSON-ready dict."""
        d = asdict(self)
        d["rules"] = [r.to_dict() for r in self.rules]
        return d


def rules_dir() -> Path:
    """Directory of rule-set files: the setting ``GISAPP_RULES_DIR`` (default ``<repo>/rules``)."""
    return Settings.load().rules_dir


def list_rulesets(directory: Path | None = None) -> list[RuleSet]:
    """Every rule set in ``directory`` (default :func:`rules_dir`), sorted by id.

    Raises:
        RuleSetError: when a file is malformed.
    """
    return [load_ruleset_file(p) for p in sorted((directory or rules_dir()).glob("*.yaml"))]


def load_ruleset(ruleset_id: str, directory: Path | None = None) -> RuleSet:
    """Read the rule set ``<id>.yaml``.

    Raises:
        InputError: ``unknown_rule_set`` (404) when there is no such file; RuleSetError when malformed.
    """
    if not RULE_ID_RE.match(ruleset_id or ""):
        raise InputError(f"invalid rule-set id {ruleset_id!r}", code="invalid_rule_set_id")
    path = (directory or rules_dir()) / f"{ruleset_id}.yaml"
    if not path.is_file():
        known = ", ".join(p.stem for p in sorted((directory or rules_dir()).glob("*.yaml")))
        raise InputError(f"unknown rule set '{ruleset_id}' (known: {known})", code="unknown_rule_set", status=404)
    return load_ruleset_file(path)


def _req(path: Path, d: Mapping[str, Any], key: str, where: str) -> Any:
    if not isinstance(d, Mapping) or key not in d or d[key] in (None, ""):
        raise RuleSetError(path, f"{where} lacks '{key}'")
    return d[key]


def _number(path: Path, value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RuleSetError(path, f"{where} must be a number, not {value!r}")
    return float(value)


def _citation(path: Path, d: Any, where: str) -> Citation:
    if not isinstance(d, Mapping):
        raise RuleSetError(path, f"{where} needs a 'source' mapping (document, quote, …)")
    status = d.get("status", "unverified")
    if status not in CITATION_STATUSES:
        raise RuleSetError(path, f"{where}: source status must be one of {', '.join(CITATION_STATUSES)}")
    if d.get("file") and not d.get("line"):
        raise RuleSetError(path, f"{where}: a source in a plan file needs its 'line'")
    return Citation(
        document=str(_req(path, d, "document", f"{where} source")),
        quote=" ".join(str(_req(path, d, "quote", f"{where} source")).split()),
        file=str(d.get("file", "")),
        line=int(d.get("line", 0)),
        section=str(d.get("section", "")),
        issuer=str(d.get("issuer", "")),
        date=str(d.get("date", "")),
        url=str(d.get("url", "")),
        status=status,
        note=" ".join(str(d.get("note", "")).split()),
    )


def _rule(path: Path, d: Any, seen: set[str]) -> Rule:
    if not isinstance(d, Mapping):
        raise RuleSetError(path, "every rule must be a mapping")
    rid = str(_req(path, d, "id", "a rule"))
    where = f"rule '{rid}'"
    if not RULE_ID_RE.match(rid) or rid in seen:
        raise RuleSetError(path, f"{where}: ids must be unique lower-case words joined by '-'")
    seen.add(rid)
    kind = _req(path, d, "kind", where)
    if kind not in KINDS:
        raise RuleSetError(path, f"{where}: unknown kind '{kind}' (use {', '.join(KINDS)})")
    comparison = d.get("comparison", ">=")
    if comparison not in COMPARISONS:
        raise RuleSetError(path, f"{where}: comparison must be one of {', '.join(COMPARISONS)}")
    unit = str(_req(path, d, "unit", where))
    if kind in ("floor", "progress") and unit not in M2_PER_UNIT:
        raise RuleSetError(path, f"{where}: unit must be one of {', '.join(M2_PER_UNIT)}")
    if kind in ("reported_share", "landuse_share") and unit != "pct":
        raise RuleSetError(path, f"{where}: a share's unit is 'pct'")
    if kind == "progress":
        _req(path, d, "metric", where)
    if kind == "reported_share":
        _req(path, d, "numerator", where)
        _req(path, d, "denominator", where)
    if kind == "landuse_share" and d.get("measure") not in LANDUSE_MEASURES:
        raise RuleSetError(path, f"{where}: measure must be one of {', '.join(LANDUSE_MEASURES)}")
    return Rule(
        id=rid,
        kind=kind,
        title=str(_req(path, d, "title", where)),
        title_en=str(d.get("title_en", "")),
        comparison=comparison,
        threshold=_number(path, _req(path, d, "threshold", where), f"{where} threshold"),
        unit=unit,
        citation=_citation(path, d.get("source"), where),
        tier=str(d.get("tier", "")),
        metric=str(d.get("metric", "")),
        numerator=str(d.get("numerator", "")),
        denominator=str(d.get("denominator", "")),
        measure=str(d.get("measure", "")),
        period=str(d.get("period", "")),
        note=" ".join(str(d.get("note", "")).split()),
    )


def load_ruleset_file(path: Path) -> RuleSet:
    """Read and check one rule-set file (see the module docstring and ``rules/*.yaml``).

    Raises:
        RuleSetError: YAML errors, missing keys, unknown kinds/units/comparisons, duplicate ids.
    """
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RuleSetError(path, f"cannot read: {exc}") from exc
    if not isinstance(data, Mapping):
        raise RuleSetError(path, "the file must hold a mapping")
    line = _req(path, data, "control_line", "the file")
    units = _req(path, data, "units", "the file")
    status = data.get("status") or {}
    verdict_area = data.get("verdict_area", "ellipsoidal")
    if verdict_area not in ("ellipsoidal", "planar"):
        raise RuleSetError(path, "verdict_area must be 'ellipsoidal' or 'planar'")
    landuse = data.get("landuse") or {}
    raw = landuse.get("industrial") or {}
    by_dict = raw.get("by_dictionary") or {}
    if not isinstance(by_dict, Mapping):
        raise RuleSetError(path, "landuse.industrial.by_dictionary must map dictionary ids to {codes, names}")
    industrial: dict[str, Any] = {
        "by_dictionary": {
            str(k): {
                "codes": [str(c) for c in (v or {}).get("codes", [])],
                "names": [str(n) for n in (v or {}).get("names", [])],
            }
            for k, v in by_dict.items()
        },
        "note": " ".join(str(raw.get("note", "")).split()),
        "citation": _citation(path, raw["source"], "landuse.industrial").to_dict() if raw.get("source") else None,
    }
    seen: set[str] = set()
    rules = [_rule(path, r, seen) for r in (_req(path, data, "rules", "the file") or [])]
    return RuleSet(
        id=str(_req(path, data, "id", "the file")),
        city=str(_req(path, data, "city", "the file")),
        city_en=str(data.get("city_en", "")),
        title=str(_req(path, data, "title", "the file")),
        title_en=str(data.get("title_en", "")),
        line_layer=str(_req(path, line, "layer", "control_line")),
        id_field=str(line.get("id_field", "block_id")),
        tier_field=str(line.get("tier_field", "tier")),
        tiers=[str(t) for t in line.get("tiers") or []],
        tier_note=" ".join(str(line.get("tier_note", "")).split()),
        units_layer=str(_req(path, units, "layer", "units")),
        unit_name_field=str(units.get("name_field", "name")),
        unit_filter=dict(units.get("filter") or {}),
        unit_label=str(units.get("label", "单元")),
        unit_label_en=str(units.get("label_en", "unit")),
        structure=str(data.get("structure", "")),
        verdict_area=verdict_area,
        margin_pct=_number(path, status.get("margin_pct", 5), "status.margin_pct"),
        landuse_dictionary=str(landuse.get("dictionary", "")),
        industrial=industrial,
        rules=rules,
        notes=[" ".join(str(n).split()) for n in data.get("notes") or []],
        path=str(path),
    )


def check_quote(citation: Citation, plans: Path | None = None) -> bool | None:
    """Check that a plan citation's quote is on its line of the plan file.

    Args:
        citation: a citation with ``file`` and ``line``.
        plans: directory of the plan texts (default :func:`gisapp.paths.plans_dir`).

    Returns:
        True/False, or None when the citation is not a plan file or the file is not available.
    """
    if not citation.file:
        return None
    path = (plans or paths.plans_dir()) / citation.file
    if not path.is_file():
        return None
    lines = path.read_text("utf-8").splitlines()
    if not 1 <= citation.line <= len(lines):
        return False
    squash = re.compile(r"\s+")
    return squash.sub("", citation.quote) in squash.sub("", lines[citation.line - 1])


# --------------------------------------------------------------------------- evaluation


def _reported(progress: Mapping[str, Any], key: str, unit: str) -> float | None:
    """A reported figure in ``unit``: a number (already in ``unit``) or ``{"value", "unit"}``."""
    if key not in progress or progress[key] in (None, ""):
        return None
    v = progress[key]
    if isinstance(v, Mapping):
        value, vunit = v.get("value"), v.get("unit", unit)
    else:
        value, vunit = v, unit
    try:
        value = float(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"reported figure '{key}' must be a number, not {v!r}", code="invalid_progress") from exc
    if value < 0:
        raise InputError(f"reported figure '{key}' must not be negative", code="invalid_progress")
    if vunit == unit or unit == "pct":
        return value
    if vunit not in M2_PER_UNIT or unit not in M2_PER_UNIT:
        raise InputError(f"reported figure '{key}': unknown unit '{vunit}'", code="invalid_progress")
    return from_m2(to_m2(value, vunit), unit)


def _result(rule: Rule, verdict: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": rule.id,
        "kind": rule.kind,
        "title": rule.title,
        "title_en": rule.title_en,
        "comparison": rule.comparison,
        "comparison_zh": COMPARISON_ZH[rule.comparison],
        "threshold": rule.threshold,
        "unit": rule.unit,
        "tier": rule.tier,
        "period": rule.period,
        "verdict": verdict,
        "verdict_zh": PROGRESS_VERDICT_ZH.get(verdict, VERDICT_ZH[verdict])
        if rule.kind == "progress"
        else VERDICT_ZH[verdict],
        "citation": rule.citation.to_dict(),
        "citation_label": rule.citation.label(),
        "quote_checked": check_quote(rule.citation),
        "note": rule.note,
        **extra,
    }


def evaluate_rules(
    ruleset: RuleSet,
    line_areas: Mapping[str, tuple[float, float]],
    progress: Mapping[str, Any] | None = None,
    landuse_shares: Mapping[str, list[dict[str, Any]]] | None = None,
) -> list[dict[str, Any]]:
    """Evaluate every rule of ``ruleset``.

    Args:
        ruleset: the rule set.
        line_areas: ``{"": (planar_m2, ellipsoidal_m2)}`` for the whole line, plus one entry per tier
            (key = tier name), areas in m² (planar EPSG:4547, ellipsoidal GRS80).
        progress: user-reported figures for ``progress`` and ``reported_share`` rules: ``{key: number}``
            (in the rule's unit) or ``{key: {"value": n, "unit": "mu"|"ha"|"km2"|"m2"}}``.
        landuse_shares: rows per land-use measure (from :func:`gisapp.accounting.landuse.share_rows`):
            ``{measure: [{"scope", "numerator_m2", "denominator_m2", "share_pct"}, …]}``.

    Returns:
        one dict per rule: ``id, kind, title, comparison, threshold, unit, verdict (pass|fail|
        not_reported|not_evaluated), verdict_zh, value`` (in ``unit``; None when not evaluated),
        ``citation{…}, citation_label, quote_checked`` and per kind the numbers behind the verdict
        (``value_planar, value_ellipsoidal, headroom, method`` for floors; ``progress_pct`` for
        progress; ``numerator, denominator`` for shares; ``rows, failing`` for land-use shares).

    Raises:
        InputError: ``invalid_progress`` for a reported figure that is not a non-negative number.
    """
    progress = progress or {}
    out: list[dict[str, Any]] = []
    for rule in ruleset.rules:
        compare = COMPARISONS[rule.comparison]
        if rule.kind == "floor":
            if rule.tier not in line_areas:
                out.append(_result(rule, "not_evaluated", value=None, reason=f"no blocks of tier '{rule.tier}'"))
                continue
            planar, ellipsoidal = line_areas[rule.tier]
            vp, ve = from_m2(planar, rule.unit), from_m2(ellipsoidal, rule.unit)
            value = ve if ruleset.verdict_area == "ellipsoidal" else vp
            out.append(
                _result(
                    rule,
                    "pass" if compare(value, rule.threshold) else "fail",
                    value=round(value, 6),
                    value_planar=round(vp, 6),
                    value_ellipsoidal=round(ve, 6),
                    headroom=round(value - rule.threshold, 6),
                    method=ruleset.verdict_area,
                )
            )
        elif rule.kind == "progress":
            value = _reported(progress, rule.metric, rule.unit)
            if value is None:
                out.append(_result(rule, "not_reported", value=None, metric=rule.metric))
                continue
            out.append(
                _result(
                    rule,
                    "pass" if compare(value, rule.threshold) else "fail",
                    value=round(value, 6),
                    metric=rule.metric,
                    progress_pct=round(value / rule.threshold * 100, 3) if rule.threshold else None,
                    remaining=round(max(rule.threshold - value, 0.0), 6),
                )
            )
        elif rule.kind == "reported_share":
            num = _reported(progress, rule.numerator, "pct")
            den = _reported(progress, rule.denominator, "pct")
            if num is None or den is None or den == 0:
                out.append(
                    _result(
                        rule, "not_reported", value=None, numerator_key=rule.numerator, denominator_key=rule.denominator
                    )
                )
                continue
            value = num / den * 100
            out.append(
                _result(
                    rule,
                    "pass" if compare(value, rule.threshold) else "fail",
                    value=round(value, 4),
                    numerator=num,
                    denominator=den,
                    numerator_key=rule.numerator,
                    denominator_key=rule.denominator,
                )
            )
        else:  # landuse_share
            rows = (landuse_shares or {}).get(rule.measure)
            if rows is None:
                out.append(_result(rule, "not_evaluated", value=None, reason="no land-use layer given"))
                continue
            # rows with nothing to measure (no industrial land in a unit) are not judged
            judged = [r for r in rows if r["denominator_m2"] > 0]
            checked = [{**r, "pass": bool(compare(r["share_pct"], rule.threshold))} for r in judged]
            if not checked:
                out.append(_result(rule, "not_evaluated", value=None, reason="nothing to measure", rows=[]))
                continue
            failing = [r["scope"] for r in checked if not r["pass"]]
            worst = (
                min(r["share_pct"] for r in checked)
                if rule.comparison in (">=", ">")
                else max(r["share_pct"] for r in checked)
            )
            out.append(
                _result(
                    rule,
                    "fail" if failing else "pass",
                    value=round(worst, 4),
                    measure=rule.measure,
                    rows=checked,
                    failing=failing,
                )
            )
    return out
