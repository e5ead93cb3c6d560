"""The drafting measured on the five bundled plans (benchmarks/plan_draft_bench.py): floors that guard what
the draft reaches today, and issue 17's acceptance thresholds (not met yet: xfail, strict, so the test
turns red-to-green visibly when they are)."""

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


def test_drafting_is_fast(scores) -> None:  # type: ignore[no-untyped-def]
    assert all(s.seconds < 15 for s in scores.values())


def test_floors_of_today(scores) -> None:  # type: ignore[no-untyped-def]
    zs = scores["zhongshan-services-2021-2025.txt"]
    assert (zs.enumerated_exact, zs.enumerated_zones) == (5, 5)  # 双核支撑、多区联动: every listed zone exact
    assert zs.precision >= 0.80
    total_found = sum(s.found for s in scores.values())
    total_reviewed = sum(s.reviewed for s in scores.values())
    assert total_found / total_reviewed >= 0.70
    assert scores["guangzhou-services-2021-2025.txt"].recall >= 0.85


@pytest.mark.xfail(strict=True, reason="issue 17 acceptance not met yet: see benchmarks/plan_draft_bench.py")
def test_issue_17_acceptance(scores) -> None:  # type: ignore[no-untyped-def]
    for s in scores.values():
        assert s.recall >= 0.90 and s.precision >= 0.80 and s.enumerated_exact == s.enumerated_zones, s.plan
