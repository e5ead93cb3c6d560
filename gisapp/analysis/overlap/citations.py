"""Plan citations for overlap results: the sentences of the plans that give a target its weight.

A red-line target carries the floor of 《中山市工业产业结构调整规划》 (``zhongshan-industrial-
restructuring.txt`` line 156, :data:`gisapp.plans.redline.REDLINE_TARGET`); a structure target carries the
plan and structure named in its layer's metadata.
"""

from __future__ import annotations

from typing import Any

from gisapp.analysis.overlap.targets import ControlLayer
from gisapp.plans.redline import LAYER_ID as REDLINE_ID
from gisapp.plans.redline import REDLINE_TARGET


def plan_rules(targets: list[ControlLayer]) -> list[dict[str, Any]]:
    """The plan sentences that apply to the targets (for results and reports).

    Returns:
        for a red-line target, the floor of ``zhongshan-industrial-restructuring.txt`` line 156
        (:data:`gisapp.plans.redline.REDLINE_TARGET`); for structure targets, the plan and structure
        named in their metadata. Each item: ``{target, plan, section, line, sentence, note}``.
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
