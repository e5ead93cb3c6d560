"""``gisapp validate``: passes on the bundled data, fails naming the element when something is wrong."""

import shutil

import pytest
import yaml

from gisapp.cli import main
from gisapp.core import paths
from gisapp.plans.gazetteer import gazetteer_path
from gisapp.plans.validate import format_report, list_items_in_text, sentence_at_line, validate_all


@pytest.fixture(scope="module")
def report():
    return validate_all()


def test_bundled_data_passes(report):
    assert report.ok, [f"{f.subject}: {f.message}" for f in report.errors]
    assert "zhongshan-services-2021-2025.txt" in report.counts
    # how many drawn elements are only points for a whole town, district or city (±5 km or more)
    stand_ins = {plan: (c["drawn"], c["stand_ins"], c["unplaced"]) for plan, c in report.counts.items()}
    assert stand_ins == {
        # issue 13: whole-city stand-ins are unplaced (10 + 7), missing elements added, areas drawn as areas
        "guangzhou-services-2021-2025.txt": (101, 65, 10),
        "shenzhen-services-2021-2025.txt": (88, 44, 7),
        "zhongshan-industrial-restructuring.txt": (18, 7, 0),
        "zhongshan-services-2021-2025.txt": (53, 40, 0),
        "zhongshan-torch-zone-2021-2025.txt": (29, 22, 4),
    }
    assert (
        "shenzhen-services-2021-2025.txt: 95 elements, 88 drawn (44 of them points located only to a town, "
        "district or city, ±5 km or more), 7 unplaced"
    ) in format_report(report)


def test_sentence_may_run_on_but_must_start_on_its_line():
    lines = ["甲乙丙", "丁戊 己", "庚"]
    assert sentence_at_line(lines, 1, "乙丙丁戊己")
    assert sentence_at_line(lines, 2, "戊己庚")
    assert not sentence_at_line(lines, 2, "丙丁")  # starts on line 1
    assert not sentence_at_line(lines, 4, "庚")


def test_list_items_are_split_at_chinese_separators():
    lines = ["越秀区: 北京路、 花果山超高清", "视频小镇ꎮ"]
    assert list_items_in_text(lines, 1, 2, drop=["越秀区:"]) == ["北京路", "花果山超高清视频小镇"]


def _zones_copy(tmp_path):
    target = tmp_path / "zones"
    shutil.copytree(paths.zones_dir(), target)
    return target


def test_removing_an_inventory_element_fails_naming_it(tmp_path):
    zones = _zones_copy(tmp_path)
    path = zones / "zhongshan-services-2021-2025-detail.yaml"
    data = yaml.safe_load(path.read_text("utf-8"))
    data["elements"] = [e for e in data["elements"] if e["name"] != "海雅粤港澳创客中心"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    r = validate_all(zones_dir=zones)
    assert not r.ok
    msgs = [f.message for f in r.errors]
    assert any("'海雅粤港澳创客中心'" in m and "has no element" in m and "多节点支撑体系" in m for m in msgs), msgs


@pytest.mark.skipif(
    not (paths.plans_dir() / "zhongshan-services-2021-2025.txt").is_file(),
    reason="plan texts (../shared/plans) not found",
)
def test_a_sentence_not_in_the_plan_fails(tmp_path):
    zones = _zones_copy(tmp_path)
    path = zones / "zhongshan-services-2021-2025-detail.yaml"
    path.write_text(
        path.read_text("utf-8").replace("以起步区为核心打造中央智慧区。", "以起步区为核心打造中央商务区。"), "utf-8"
    )
    r = validate_all(zones_dir=zones)
    assert [f.subject for f in r.errors] == ["zhongshan-services-2021-2025-detail.yaml: cuiheng-start-area"]


def test_a_moved_place_fails_naming_the_place_and_its_elements(tmp_path):
    path = tmp_path / "gazetteer.csv"
    text = gazetteer_path().read_text("utf-8")
    path.write_text(text.replace("中山北站,113.3829,22.5574", "中山北站,113.2000,22.3000"), "utf-8")
    r = validate_all(gazetteer_file=path)
    errs = [f for f in r.errors if f.check == "gazetteer"]
    assert len(errs) == 1 and errs[0].subject == "中山北站"
    assert "zhongshan-north-station-tod" in errs[0].message and "石岐街道" in errs[0].message


def test_overlaps_are_reported_not_failed(tmp_path):
    zones = tmp_path / "zones"
    zones.mkdir()
    shutil.copy(paths.zones_dir() / "zhongshan-services-2021-2025.yaml", zones / "a.yaml")
    path = zones / "a.yaml"
    text = path.read_text("utf-8").replace("towns: [坦洲镇, 三乡镇, 神湾镇]", "towns: [坦洲镇, 三乡镇, 神湾镇, 板芙镇]")
    path.write_text(text, "utf-8")
    r = validate_all(zones_dir=zones)
    overlaps = [
        f
        for f in r.findings
        if f.check == "overlap" and "zs-services-structure-south-city-industry-zone" in f.data.values()
    ]
    assert len(overlaps) == 1 and overlaps[0].level == "info"
    assert {overlaps[0].data["a"], overlaps[0].data["b"]} == {
        "zs-services-structure-south-city-industry-zone",
        "zs-services-structure-central-innovation-zone",
    }
    assert overlaps[0].data["km2"] > 50  # 板芙镇 (≈ 84 km²) lies in both


def test_cli_validate_exit_codes(tmp_path, capsys):
    assert main(["validate"]) == 0
    assert "OK: all checks passed" in capsys.readouterr().out
    path = tmp_path / "gazetteer.csv"
    path.write_text(
        gazetteer_path().read_text("utf-8").replace("中山北站,113.3829,22.5574", "中山北站,113.2,22.3"), "utf-8"
    )
    assert main(["validate", "--gazetteer", str(path)]) == 1
    out = capsys.readouterr().out
    assert "中山北站" in out and "FAILED" in out
    bad = tmp_path / "bad.csv"
    bad.write_text("name,lon\n", "utf-8")
    assert main(["validate", "--gazetteer", str(bad)]) == 2
    assert "missing columns" in capsys.readouterr().err
