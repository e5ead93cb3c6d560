"""Control-line rule sets as cited data (``rules/*.yaml``), and their evaluation.

A rule set declares one city's control line: the layer holding it, its tiers, the units it is
accounted by (镇街, 区), the structure layer for the per-zone table, the colour-status margin, the
land-use predicate for "industrial land", and its rules. Every rule carries the document, clause
and quoted sentence it comes from (:class:`Citation`). Changing a threshold or adding a city is
editing or adding a file; no code changes.

A file is checked against its schema (:mod:`gisapp.analysis.accounting.ruleschema`, exported to
``docs/schemas/rules.schema.json``). Rule kinds (``kind``), each one entry of :data:`RULE_KINDS`
(the kind's model and its evaluator):

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
    a share computed from a land-use layer (see :mod:`gisapp.analysis.accounting.landuse`); ``measure`` is
    ``industrial_coverage_per_unit`` (industrial land inside the line / all industrial land, per
    unit), ``industrial_share_per_block`` (industrial land in a block / the block's area, per
    block) or ``industrial_share_of_line`` (industrial land inside the line / the line's area).
    Without a land-use layer → ``not_evaluated``.
``overlap``
    a parcel rule of the overlap check (压覆/选址): when a parcel's ``measure`` (``overlap_m2``,
    ``overlap_pct``, ``outside_m2``, ``outside_pct``) compares to ``threshold``, the line gives it
    ``outcome`` (``reject`` 不予通过, ``review`` 需论证, ``explain`` 需说明, ``comply`` 符合). Judged per
    parcel by :mod:`gisapp.analysis.overlap.verdicts`; the accounting reports it ``not_evaluated``.

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

from gisapp.analysis.accounting import ruleschema
from gisapp.analysis.accounting.ruleschema import CITATION_STATUSES, LANDUSE_MEASURES, RuleSetError
from gisapp.core import paths
from gisapp.core.errors import InputError
from gisapp.core.settings import Settings
from gisapp.core.units import M2_PER_UNIT, from_m2, to_m2

__all__ = ["CITATION_STATUSES", "LANDUSE_MEASURES", "RULE_KINDS", "RuleSetError"]

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
RULE_ID_RE = re.compile(ruleschema.RULE_ID_PATTERN)
DEFAULT_RULESET = "zhongshan-industrial-redline"


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
        measure: for ``landuse_share``: one of :data:`LANDUSE_MEASURES`; for ``overlap``: one of
            :data:`gisapp.analysis.accounting.ruleschema.OVERLAP_MEASURES`.
        outcome: for ``overlap``: one of :data:`gisapp.analysis.accounting.ruleschema.OVERLAP_OUTCOMES`.
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
    outcome: str = ""
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


def _squash(text: str) -> str:
    return " ".join(text.split())


def _citation(src: ruleschema.Source) -> Citation:
    return Citation(
        document=src.document,
        quote=_squash(src.quote),
        file=src.file,
        line=src.line,
        section=src.section,
        issuer=src.issuer,
        date=src.date,
        url=src.url,
        status=src.status,
        note=_squash(src.note),
    )


def _rule(spec: Any) -> Rule:
    return Rule(
        id=spec.id,
        kind=spec.kind,
        title=spec.title,
        title_en=spec.title_en,
        comparison=spec.comparison,
        threshold=float(spec.threshold),
        unit=spec.unit,
        citation=_citation(spec.source),
        tier=getattr(spec, "tier", ""),
        metric=getattr(spec, "metric", ""),
        numerator=getattr(spec, "numerator", ""),
        denominator=getattr(spec, "denominator", ""),
        measure=getattr(spec, "measure", ""),
        outcome=getattr(spec, "outcome", ""),
        period=spec.period,
        note=_squash(spec.note),
    )


def load_ruleset_file(path: Path) -> RuleSet:
    """Read and check one rule-set file against the schema (:mod:`gisapp.analysis.accounting.ruleschema`).

    Raises:
        RuleSetError: YAML errors, missing or unknown keys, unknown kinds/units/comparisons/measures,
            a threshold that is not a number, a rule without a source, duplicate ids.
    """
    try:
        # libyaml's safe loader when PyYAML was built with it (same result, ~10× faster: read per overlap request)
        data = yaml.load(path.read_text("utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError) as exc:
        raise RuleSetError(path, f"cannot read: {exc}") from exc
    f = ruleschema.parse_ruleset(path, data)
    ind = f.landuse.industrial
    industrial: dict[str, Any] = {
        "by_dictionary": {k: {"codes": list(v.codes), "names": list(v.names)} for k, v in ind.by_dictionary.items()},
        "note": _squash(ind.note),
        "citation": _citation(ind.source).to_dict() if ind.source else None,
    }
    line, units = f.control_line, f.units
    return RuleSet(
        id=f.id,
        city=f.city,
        city_en=f.city_en,
        title=f.title,
        title_en=f.title_en,
        line_layer=line.layer,
        id_field=line.id_field,
        tier_field=line.tier_field,
        tiers=list(line.tiers),
        tier_note=_squash(line.tier_note),
        units_layer=units.layer,
        unit_name_field=units.name_field,
        unit_filter=dict(units.filter),
        unit_label=units.label,
        unit_label_en=units.label_en,
        structure=f.structure,
        verdict_area=f.verdict_area,
        margin_pct=float(f.status.margin_pct),
        landuse_dictionary=f.landuse.dictionary,
        industrial=industrial,
        rules=[_rule(r) for r in f.rules],
        notes=[_squash(n) for n in f.notes],
        path=str(path),
    )


def check_quote(citation: Citation, plans: Path | None = None) -> bool | None:
    """Check that a plan citation's quote is on its line of the plan file.

    Args:
        citation: a citation with ``file`` and ``line``.
        plans: directory of the plan texts (default :func:`gisapp.core.paths.plans_dir`).

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
    value: Any  # as the YAML/JSON gave it; checked below
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


@dataclass(frozen=True)
class RuleInputs:
    """What rules are judged on (see :func:`evaluate_rules` for the meaning of each)."""

    ruleset: RuleSet
    line_areas: Mapping[str, tuple[float, float]]
    progress: Mapping[str, Any]
    landuse_shares: Mapping[str, list[dict[str, Any]]] | None


def _compared(rule: Rule, value: float, digits: int, **extra: Any) -> dict[str, Any]:
    """The result of comparing ``value`` with the rule's threshold (pass/fail), ``value`` rounded to ``digits``."""
    verdict = "pass" if COMPARISONS[rule.comparison](value, rule.threshold) else "fail"
    return _result(rule, verdict, value=round(value, digits), **extra)


def _floor(rule: Rule, inputs: RuleInputs) -> dict[str, Any]:
    if rule.tier not in inputs.line_areas:
        return _result(rule, "not_evaluated", value=None, reason=f"no blocks of tier '{rule.tier}'")
    planar, ellipsoidal = inputs.line_areas[rule.tier]
    vp, ve = from_m2(planar, rule.unit), from_m2(ellipsoidal, rule.unit)
    value = ve if inputs.ruleset.verdict_area == "ellipsoidal" else vp
    return _compared(
        rule,
        value,
        6,
        value_planar=round(vp, 6),
        value_ellipsoidal=round(ve, 6),
        headroom=round(value - rule.threshold, 6),
        method=inputs.ruleset.verdict_area,
    )


def _progress(rule: Rule, inputs: RuleInputs) -> dict[str, Any]:
    value = _reported(inputs.progress, rule.metric, rule.unit)
    if value is None:
        return _result(rule, "not_reported", value=None, metric=rule.metric)
    return _compared(
        rule,
        value,
        6,
        metric=rule.metric,
        progress_pct=round(value / rule.threshold * 100, 3) if rule.threshold else None,
        remaining=round(max(rule.threshold - value, 0.0), 6),
    )


def _reported_share(rule: Rule, inputs: RuleInputs) -> dict[str, Any]:
    num = _reported(inputs.progress, rule.numerator, "pct")
    den = _reported(inputs.progress, rule.denominator, "pct")
    if num is None or den is None or den == 0:
        return _result(rule, "not_reported", value=None, numerator_key=rule.numerator, denominator_key=rule.denominator)
    value = num / den * 100
    return _compared(
        rule,
        value,
        4,
        numerator=num,
        denominator=den,
        numerator_key=rule.numerator,
        denominator_key=rule.denominator,
    )


def _landuse_share(rule: Rule, inputs: RuleInputs) -> dict[str, Any]:
    rows = (inputs.landuse_shares or {}).get(rule.measure)
    if rows is None:
        return _result(rule, "not_evaluated", value=None, reason="no land-use layer given")
    compare = COMPARISONS[rule.comparison]
    # rows with nothing to measure (no industrial land in a unit) are not judged
    judged = [r for r in rows if r["denominator_m2"] > 0]
    checked = [{**r, "pass": bool(compare(r["share_pct"], rule.threshold))} for r in judged]
    if not checked:
        return _result(rule, "not_evaluated", value=None, reason="nothing to measure", rows=[])
    failing = [r["scope"] for r in checked if not r["pass"]]
    worst = (
        min(r["share_pct"] for r in checked) if rule.comparison in (">=", ">") else max(r["share_pct"] for r in checked)
    )
    return _result(
        rule, "fail" if failing else "pass", value=round(worst, 4), measure=rule.measure, rows=checked, failing=failing
    )


def _overlap(rule: Rule, inputs: RuleInputs) -> dict[str, Any]:
    return _result(
        rule,
        "not_evaluated",
        value=None,
        measure=rule.measure,
        outcome=rule.outcome,
        reason="parcel rule: judged per parcel by the overlap check (gisapp overlap, /api/overlap)",
    )


@dataclass(frozen=True)
class RuleKind:
    """One rule kind: the model its entries in a file must match, and how it is judged.

    Attributes:
        params: the pydantic model (:data:`gisapp.analysis.accounting.ruleschema.RULE_MODELS`).
        evaluate: ``(rule, inputs) -> result dict`` (see :func:`evaluate_rules`).
    """

    params: type[Any]
    evaluate: Callable[[Rule, RuleInputs], dict[str, Any]]


#: Every rule kind, by ``kind`` (the file schema chooses the model by the same key).
RULE_KINDS: dict[str, RuleKind] = {
    "floor": RuleKind(ruleschema.FloorRule, _floor),
    "progress": RuleKind(ruleschema.ProgressRule, _progress),
    "reported_share": RuleKind(ruleschema.ReportedShareRule, _reported_share),
    "landuse_share": RuleKind(ruleschema.LanduseShareRule, _landuse_share),
    "overlap": RuleKind(ruleschema.OverlapRule, _overlap),
}
KINDS: tuple[str, ...] = tuple(RULE_KINDS)
if set(RULE_KINDS) != set(ruleschema.RULE_MODELS):  # pragma: no cover - a kind added on one side only
    raise RuntimeError("RULE_KINDS and ruleschema.RULE_MODELS must name the same kinds")


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
        landuse_shares: rows per land-use measure (from :func:`gisapp.analysis.accounting.landuse.share_rows`):
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
    inputs = RuleInputs(ruleset, line_areas, progress or {}, landuse_shares)
    return [RULE_KINDS[rule.kind].evaluate(rule, inputs) for rule in ruleset.rules]
