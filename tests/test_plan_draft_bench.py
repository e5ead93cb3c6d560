"""Issue 17's acceptance, measured on the five bundled plans (benchmarks/plan_draft_bench.py): drafted from
the text alone and compared with the reviewed zone files — recall ≥ 90 %, precision ≥ 80 %, and every member
list the plan enumerates drafted exactly (all four zones of 双核支撑、多区联动 among them)."""

import importlib.util
import sys
from pathlib import Path

import pytest

from gisapp.core import paths

ROOT = Path(__file__).resolve().parents[1]
if not (paths.plans_dir() / "zhongshan-services-2021-2025.txt").is_file():
    pytest.skip("the bundled plan texts (../shared/plans) are absent", allow_module_level=True)


@pytest.fixture(scope="module")
def scores():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("plan_draft_bench", ROOT / "benchmarks" / "plan_draft_bench.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["plan_draft_bench"] = module
    spec.loader.exec_module(module)
    return {s.plan: s for s in module.run()}


def test_every_plan_meets_the_acceptance(scores) -> None:  # type: ignore[no-untyped-def]
    assert len(scores) == 5
    for s in scores.values():
        assert s.recall >= 0.90, (s.plan, s.found, s.reviewed)
        assert s.precision >= 0.80, (s.plan, s.correct, s.drafted)
        assert s.enumerated_exact == s.enumerated_zones, s.plan


def test_the_four_zones_of_the_services_plan(scores) -> None:  # type: ignore[no-untyped-def]
    zs = scores["zhongshan-services-2021-2025.txt"]
    assert (zs.enumerated_exact, zs.enumerated_zones) == (4, 4)
    assert (scores["zhongshan-torch-zone-2021-2025.txt"].enumerated_exact) == 2


def test_drafting_runs_in_seconds(scores) -> None:  # type: ignore[no-untyped-def]
    assert all(s.seconds < 10 for s in scores.values())
