"""How well ``gisapp plan draft`` recovers the reviewed zone files of the five bundled plans (issue 17).

For each plan the draft is made from the text alone (``../shared/plans/<plan>``) and compared with every
reviewed file in ``zones/`` naming that plan:

* **recall** — reviewed elements the draft found: a drafted name equal to the element's name or one of
  its ``plan_names`` (NFKC, quotes and spaces ignored; a name is an element's identity, whichever mention
  the draft quotes), or one containing the other (4+ characters) with the drafted line within
  :data:`LINE_TOLERANCE` lines of the element's ``plan_line``;
* **precision** — drafted elements that match a reviewed element that way;
* **member lists** — reviewed zones drawn as ``union_of_towns`` / ``union_of_districts`` whose members the
  plan *enumerates* (its sentence names every member, or a gazetteer place whose ``within`` gives them):
  how many the draft lists exactly (same units, any order); ``all zones`` counts every union zone. The
  element's own name is not a listing (南沙粤港澳全面合作示范区 lists no district);
* **same place** (information, not a target) — reviewed elements whose drafted geometry has the same
  method and the same towns/districts/places as the reviewed one.

Run: ``python benchmarks/plan_draft_bench.py`` (prints a table; ``--json`` for JSON). The test
``tests/test_plan_draft_bench.py`` runs the same comparison.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from gisapp.core import paths  # noqa: E402
from gisapp.plans.draft.extract import normalise_name  # noqa: E402
from gisapp.plans.draft.lexicon import Lexicon  # noqa: E402
from gisapp.plans.draft.pipeline import draft_plan  # noqa: E402

#: How far (lines) a drafted element's line may be from the reviewed element's ``plan_line``.
LINE_TOLERANCE = 12
PLANS: dict[str, str] = {
    "zhongshan-services-2021-2025.txt": "中山市",
    "zhongshan-industrial-restructuring.txt": "中山市",
    "zhongshan-torch-zone-2021-2025.txt": "中山市",
    "shenzhen-services-2021-2025.txt": "深圳市",
    "guangzhou-services-2021-2025.txt": "广州市",
}


@dataclass
class PlanScore:
    """The comparison of one plan's draft with its reviewed zone files."""

    plan: str
    reviewed: int
    drafted: int
    found: int
    correct: int
    enumerated_zones: int
    enumerated_exact: int
    union_zones: int
    union_exact: int
    placed_same: int
    seconds: float

    @property
    def recall(self) -> float:
        """Reviewed elements found / reviewed elements."""
        return self.found / self.reviewed if self.reviewed else 1.0

    @property
    def precision(self) -> float:
        """Drafted elements that match a reviewed one / drafted elements."""
        return self.correct / self.drafted if self.drafted else 1.0


def reviewed_elements(plan: str, zones_dir: Path) -> list[dict[str, Any]]:
    """Every element of the reviewed zone files naming ``plan``."""
    out: list[dict[str, Any]] = []
    for path in sorted(zones_dir.glob("*.yaml")):
        data = yaml.safe_load(path.read_text("utf-8"))
        if data.get("plan") == plan:
            out += data["elements"]
    return out


def matches(drafted: dict[str, Any], reviewed: dict[str, Any]) -> bool:
    """Whether a drafted element is the reviewed one (name rule and line tolerance, see the module doc)."""
    names = {normalise_name(reviewed["name"])} | {normalise_name(n) for n in reviewed.get("plan_names", [])}
    name = normalise_name(drafted["name"])
    if name in names:
        return True
    if abs(int(drafted["plan_line"]) - int(reviewed.get("plan_line", 0))) > LINE_TOLERANCE:
        return False
    return any(len(name) >= 4 and len(n) >= 4 and (name in n or n in name) for n in names)


def _placement(element: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    g = element["geometry"]
    keys = ("towns", "districts", "places")
    refs = tuple(sorted(x for k in keys for x in g.get(k) or [])) + ((g["place"],) if g.get("place") else ())
    return g["method"], refs


def _members(element: dict[str, Any]) -> list[str] | None:
    g = element["geometry"]
    if g["method"] == "union_of_towns":
        return sorted(g["towns"])
    if g["method"] == "union_of_districts":
        return sorted(g["districts"])
    return None


def enumerated(element: dict[str, Any], lex: Lexicon) -> bool:
    """Whether the plan's sentence of a reviewed union zone names all its members (directly or via places)."""
    members = _members(element)
    if members is None:
        return False
    sentence = element["sentence"]
    for own in sorted([element["name"], *element.get("plan_names", [])], key=len, reverse=True):
        sentence = sentence.replace(own, "")  # the members are listed, not named by the element's own name
    named: set[str] = set()
    for unit in (*lex.towns, *lex.districts):
        from gisapp.plans.draft.lexicon import short_unit_name

        if unit in sentence or short_unit_name(unit) in sentence:
            named.add(unit)
    for name, place in lex.places.items():
        if len(name) >= 3 and name in sentence:
            named |= {u for u in place.within.split("、") if u}
    return set(members) <= named


def baseline_elements(path: Path) -> list[dict[str, Any]]:
    """The baseline draft: every fragment of the same sections (split at punctuation and 、) that ends with
    a place suffix, without the draft's rules (no verb stripping, no goal or proper-name tests)."""
    import re

    from gisapp.plans.draft.extract import suffix_role
    from gisapp.plans.draft.readers import read_plan_lines
    from gisapp.plans.draft.sections import find_sections
    from gisapp.plans.draft.text import PlanText

    lines = read_plan_lines(path)
    pt = PlanText.from_lines(lines)
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for sec in find_sections(lines):
        idx = [i for i, n in enumerate(pt.origin) if sec.first <= n <= sec.last]
        if not idx:
            continue
        pos = idx[0]
        for frag in re.split(r"([，。；：、\n])", pt.text[idx[0] : idx[-1] + 1]):
            if 3 <= len(frag) <= 30 and suffix_role(frag) and frag not in seen:
                seen.add(frag)
                out.append({"name": frag, "plan_line": pt.line_of(pos), "geometry": {"method": "unplaced"}})
            pos += len(frag)
    return out


def baseline_score(plan: str, plans_dir: Path, zones_dir: Path) -> tuple[float, float]:
    """``(recall, precision)`` of :func:`baseline_elements` for one plan (the same matching)."""
    drafted = baseline_elements(plans_dir / plan)
    reviewed = reviewed_elements(plan, zones_dir)
    found = sum(1 for r in reviewed if any(matches(d, r) for d in drafted))
    correct = sum(1 for d in drafted if any(matches(d, r) for r in reviewed))
    return found / max(1, len(reviewed)), correct / max(1, len(drafted))


def score_plan(plan: str, city: str, plans_dir: Path, zones_dir: Path) -> PlanScore:
    """Draft one plan and compare it with its reviewed zone files."""
    t0 = time.perf_counter()
    draft = draft_plan(plans_dir / plan, city=city)
    seconds = time.perf_counter() - t0
    drafted = draft.data["elements"]
    reviewed = reviewed_elements(plan, zones_dir)
    found = {i for i, r in enumerate(reviewed) if any(matches(d, r) for d in drafted)}
    correct = sum(1 for d in drafted if any(matches(d, r) for r in reviewed))
    lex = Lexicon.load(city)
    zones = [r for r in reviewed if _members(r) is not None and r["role"] in ("zone", "core")]
    enum = [r for r in zones if enumerated(r, lex)]

    def exact(r: dict[str, Any]) -> bool:
        return any(matches(d, r) and _members(d) == _members(r) for d in drafted)

    placed_same = sum(1 for r in reviewed if any(matches(d, r) and _placement(d) == _placement(r) for d in drafted))
    return PlanScore(
        plan=plan,
        reviewed=len(reviewed),
        drafted=len(drafted),
        found=len(found),
        correct=correct,
        enumerated_zones=len(enum),
        enumerated_exact=sum(1 for r in enum if exact(r)),
        union_zones=len(zones),
        union_exact=sum(1 for r in zones if exact(r)),
        placed_same=placed_same,
        seconds=seconds,
    )


def run(plans_dir: Path | None = None, zones_dir: Path | None = None) -> list[PlanScore]:
    """Score every bundled plan (the plan texts must be present)."""
    plans_dir = plans_dir or paths.plans_dir()
    zones_dir = zones_dir or paths.zones_dir()
    return [score_plan(p, c, plans_dir, zones_dir) for p, c in PLANS.items()]


def table(scores: list[PlanScore]) -> str:
    """The scores as a text table, with the totals and the acceptance thresholds of issue 17."""
    head = (
        f"{'plan':42} {'reviewed':>8} {'drafted':>7} {'recall':>7} {'precision':>9} {'enum. exact':>11} "
        f"{'all zones':>9} {'same place':>10} {'s':>5}"
    )
    rows = [head, "-" * len(head)]
    for s in scores:
        rows.append(
            f"{s.plan:42} {s.reviewed:8} {s.drafted:7} {s.recall:7.1%} {s.precision:9.1%} "
            f"{s.enumerated_exact:>5}/{s.enumerated_zones:<5} {s.union_exact:>4}/{s.union_zones:<4} "
            f"{s.placed_same / s.reviewed:10.1%} {s.seconds:5.1f}"
        )
    rev, dra = sum(s.reviewed for s in scores), sum(s.drafted for s in scores)
    fou, cor = sum(s.found for s in scores), sum(s.correct for s in scores)
    rows.append("-" * len(head))
    rows.append(f"{'all five plans':42} {rev:8} {dra:7} {fou / rev:7.1%} {cor / dra:9.1%}")
    rows.append("acceptance (issue 17): recall ≥ 90 %, precision ≥ 80 %, every enumerated member list exact")
    return "\n".join(rows)


def main() -> int:
    """Print the table (or JSON with ``--json``)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    scores = run()
    if args.json:
        print(json.dumps([asdict(s) | {"recall": s.recall, "precision": s.precision} for s in scores], indent=2))
        return 0
    print(table(scores))
    print("\nbaseline (every suffix-ended fragment of the same sections, no rules):")
    for s in scores:
        r, p = baseline_score(s.plan, paths.plans_dir(), paths.zones_dir())
        print(f"  {s.plan:42} recall {r:6.1%}  precision {p:6.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
