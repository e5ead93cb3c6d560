"""Plan citations for overlap results: the sentences of the plans that give a target its weight.

A red-line target carries the floor of 《中山市工业产业结构调整规划》 (``zhongshan-industrial-
restructuring.txt`` line 156, :data:`gisapp.plans.redline.REDLINE_TARGET`); a structure target carries the
plan and structure named in its layer's metadata.
"""

from __future__ import annotations

from typing import Any

from gisapp.analysis.overlap.targets import ControlLayer
from gisapp.plans.controllines import kind_of_layer
from gisapp.plans.redline import LAYER_ID as REDLINE_ID
from gisapp.plans.redline import REDLINE_TARGET


def plan_rules(targets: list[ControlLayer]) -> list[dict[str, Any]]:
    """The plan sentences that apply to the targets (for results and reports).

    Returns:
        for a red-line target, the floor of ``zhongshan-industrial-restructuring.txt`` line 156
        (:data:`gisapp.plans.redline.REDLINE_TARGET`); for another control line (永久基本农田, 生态保护红线,
        城镇开发边界), the citation of each of its ``overlap`` rules (document, section, quote, status);
        for structure targets, the plan and structure named in their metadata. Each item:
        ``{target, plan, section, line, sentence, note}``.
    """
    out = []
    for t in targets:
        if t.layer_id == REDLINE_ID:
            r = REDLINE_TARGET
            out.append(
                {
                    "target": t.spec,
                    "plan": r.plan,
                    "section": r.section,
                    "line": r.line,
                    "sentence": r.sentence,
                    "note": f"red line floor: 不少于 {r.value_km2:g} km²",
                }
            )
        elif (kind := kind_of_layer(t.layer_id, t.meta)) is not None:
            out += _line_citations(t, kind.ruleset)
        elif t.meta is not None and t.meta.plan:
            out.append(
                {
                    "target": t.spec,
                    "plan": t.meta.plan,
                    "section": "",
                    "line": None,
                    "sentence": t.meta.structure,
                    "note": "spatial structure encoded from the plan (each feature carries its sentence and line)",
                }
            )
    return out


def _line_citations(t: ControlLayer, ruleset: str) -> list[dict[str, Any]]:
    """The citations of the ``overlap`` rules of a control line's rule set (none when it has no rule set)."""
    from gisapp.analysis.accounting.rules import load_ruleset
    from gisapp.core.errors import InputError

    try:
        rs = load_ruleset(ruleset)
    except InputError:
        return []
    out = []
    for r in rs.rules:
        if r.kind != "overlap":
            continue
        c = r.citation
        out.append(
            {
                "target": t.spec,
                "plan": c.document,
                "section": c.section,
                "line": c.line or None,
                "sentence": c.quote,
                "note": f"{r.title}（引文核实 citation status: {c.status}）",
            }
        )
    return out
