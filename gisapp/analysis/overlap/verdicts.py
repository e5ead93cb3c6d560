"""Verdicts of the control lines on parcels (压覆/选址 check): each line's ``overlap`` rules, per parcel.

A target that is a control line (:data:`gisapp.plans.controllines.CONTROL_LINES`) has a rule set
(``rules/<id>.yaml``) whose ``overlap`` rules say what the line makes of a parcel: e.g. 永久基本农田
— a parcel sharing 1 m² or more with it is ``reject`` (不予通过); 城镇开发边界 — a parcel with less
than 1 m² outside it ``comply`` (符合), otherwise ``explain`` (需说明). A parcel's verdict for a line
is the most severe outcome among the rules that fire (:data:`OUTCOMES`); ``none`` (不涉及) when
none fires. Every verdict carries the citations of the rules that gave it.

Areas are planar m² in EPSG:4547 (those of :class:`gisapp.analysis.overlap.result.OverlapAnalysis`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gisapp.analysis.accounting.rules import Rule, load_ruleset
from gisapp.analysis.overlap.result import OverlapAnalysis, TargetResult
from gisapp.core.errors import InputError
from gisapp.core.units import M2_PER_MU
from gisapp.plans.controllines import ControlLineKind, kind_of_layer

#: Outcomes, least severe first: key → (Chinese, English, severity).
OUTCOMES: dict[str, tuple[str, str, int]] = {
    "none": ("不涉及", "not affected", 0),
    "comply": ("符合", "complies", 1),
    "explain": ("需说明", "needs explanation", 2),
    "review": ("需论证", "needs justification", 3),
    "reject": ("不予通过", "not permitted", 4),
}
_BY_SEVERITY = {sev: key for key, (_, _, sev) in OUTCOMES.items()}
#: The comparisons of a rule, element-wise (same meaning as :data:`gisapp.analysis.accounting.rules.COMPARISONS`).
_OPS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    ">=": np.greater_equal,
    ">": np.greater,
    "<=": np.less_equal,
    "<": np.less,
}
#: Most parcels listed one by one in ``control_lines["parcels"]`` (the report prints as many rows).
MAX_PARCELS = 500


@dataclass(frozen=True)
class LineRules:
    """A control line's parcel rules: its kind (registry entry), rule-set id and ``overlap`` rules."""

    kind: ControlLineKind
    ruleset: str
    rules: tuple[Rule, ...]


def line_rules(t: TargetResult) -> LineRules | None:
    """The parcel rules of a target, or None when it is not a control line (or its rule set has none).

    Raises:
        InputError: ``invalid_rule_set`` when the line's rule set is malformed.
    """
    c = t.control
    kind = kind_of_layer(c.layer_id, c.meta)
    if kind is None:
        return None
    try:
        rs = load_ruleset(kind.ruleset)
    except InputError as exc:
        if exc.code == "unknown_rule_set":
            return None
        raise
    rules = tuple(r for r in rs.rules if r.kind == "overlap")
    return LineRules(kind, rs.id, rules) if rules else None


def measures(parcel_area_m2: np.ndarray, overlap_m2: np.ndarray) -> dict[str, np.ndarray]:
    """What ``overlap`` rules measure, per parcel: ``overlap_m2``, ``overlap_pct``, ``outside_m2``, ``outside_pct``."""
    area = np.asarray(parcel_area_m2, dtype=float)
    ov = np.asarray(overlap_m2, dtype=float)
    outside = np.maximum(area - ov, 0.0)
    safe = np.where(area > 0, area, 1.0)
    return {
        "overlap_m2": ov,
        "overlap_pct": np.where(area > 0, ov / safe * 100, 0.0),
        "outside_m2": outside,
        "outside_pct": np.where(area > 0, outside / safe * 100, 0.0),
    }


def judge(rules: tuple[Rule, ...], parcel_area_m2: np.ndarray, overlap_m2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Apply a line's rules to every parcel.

    Returns:
        ``(severity, fired)``: per parcel the severity of its verdict (:data:`OUTCOMES`; 0 = none),
        and a boolean matrix rules × parcels of the rules that fired.
    """
    area = np.asarray(parcel_area_m2, dtype=float)
    ov = np.asarray(overlap_m2, dtype=float)
    needed = {r.measure for r in rules}
    m = measures(area, ov) if needed - {"overlap_m2"} else {"overlap_m2": ov}  # the common case: no copies
    fired = np.zeros((len(rules), len(ov)), dtype=bool)
    severity = np.zeros(len(ov), dtype=np.int8)
    for i, r in enumerate(rules):
        fired[i] = _OPS[r.comparison](m[r.measure], r.threshold)
        np.maximum(severity, np.int8(OUTCOMES[r.outcome][2]), out=severity, where=fired[i])
    return severity, fired


def _rule_dict(r: Rule, count: int) -> dict[str, Any]:
    zh, en, _ = OUTCOMES[r.outcome]
    return {
        "id": r.id,
        "title": r.title,
        "title_en": r.title_en,
        "measure": r.measure,
        "comparison": r.comparison,
        "threshold": r.threshold,
        "unit": r.unit,
        "outcome": r.outcome,
        "verdict_zh": zh,
        "verdict_en": en,
        "parcels": count,
        "citation": r.citation.to_dict(),
        "citation_label": r.citation.label(),
        "note": r.note,
    }


def control_line_verdicts(analysis: OverlapAnalysis, max_parcels: int = MAX_PARCELS) -> dict[str, Any]:
    """Every control-line target's verdicts on the parcels, with the citations behind them.

    Args:
        analysis: the overlap of parcels with the targets (non-control-line targets are skipped).
        max_parcels: most parcels listed one by one.

    Returns:
        ``{"lines": [{target, kind, title, title_en, layer, ruleset, illustrative, worst, worst_zh,
        counts: {outcome: parcels}, rules: [{id, title, outcome, verdict_zh, parcels, citation …}]}],
        "parcels": [{parcel_id, parcel_area_m2, worst, worst_zh, lines: [{target, kind, title,
        overlap_m2, overlap_mu, overlap_pct, outcome, verdict_zh, rules: [ids]}]}], "parcels_total",
        "parcels_truncated"}``; a parcel lists the lines whose verdict is not ``none``.

    Raises:
        InputError: ``invalid_rule_set`` when a line's rule set is malformed.
    """
    n = len(analysis.ids)
    lines: list[dict[str, Any]] = []
    judged: list[tuple[TargetResult, LineRules, np.ndarray, np.ndarray]] = []
    for t in analysis.targets:
        lr = line_rules(t)
        if lr is None:
            continue
        severity, fired = judge(lr.rules, analysis.parcel_area_m2, t.overlap_m2)
        judged.append((t, lr, severity, fired))
        worst = _BY_SEVERITY[int(severity.max())] if n else "none"
        tally = np.bincount(severity, minlength=len(OUTCOMES))
        counts = {k: int(tally[sev]) for k, (_, _, sev) in OUTCOMES.items()}
        info = t.control.info()
        lines.append(
            {
                "target": t.control.spec,
                "kind": lr.kind.key,
                "title": lr.kind.title,
                "title_en": lr.kind.title_en,
                "layer": t.control.layer_id,
                "ruleset": lr.ruleset,
                "illustrative": info["illustrative"],
                "worst": worst,
                "worst_zh": OUTCOMES[worst][0],
                "counts": counts,
                "rules": [_rule_dict(r, int(fired[i].sum())) for i, r in enumerate(lr.rules)],
            }
        )
    parcels = []
    if judged:
        for p in range(min(n, max_parcels)):
            entries = []
            for t, lr, severity, fired in judged:
                sev = int(severity[p])
                if sev == 0:
                    continue
                key = _BY_SEVERITY[sev]
                ov = float(t.overlap_m2[p])
                area = float(analysis.parcel_area_m2[p])
                entries.append(
                    {
                        "target": t.control.spec,
                        "kind": lr.kind.key,
                        "title": lr.kind.title,
                        "overlap_m2": round(ov, 2),
                        "overlap_mu": round(ov / M2_PER_MU, 4),
                        "overlap_pct": round(ov / area * 100, 3) if area > 0 else 0.0,
                        "outcome": key,
                        "verdict_zh": OUTCOMES[key][0],
                        "rules": [r.id for i, r in enumerate(lr.rules) if fired[i, p]],
                    }
                )
            top = _BY_SEVERITY[max((OUTCOMES[str(e["outcome"])][2] for e in entries), default=0)]
            parcels.append(
                {
                    "parcel_id": str(analysis.ids[p]),
                    "parcel_area_m2": round(float(analysis.parcel_area_m2[p]), 2),
                    "worst": top,
                    "worst_zh": OUTCOMES[top][0],
                    "lines": entries,
                }
            )
    return {
        "lines": lines,
        "parcels": parcels,
        "parcels_total": n if judged else 0,
        "parcels_truncated": bool(judged) and n > max_parcels,
    }
