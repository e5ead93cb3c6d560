"""``gisapp plan draft``: readers, sections, extraction and proposals, the draft refusal of validate/build,
and the review API (file confinement, CSRF-safe JSON saves). The browser flow is in test_plan_draft_browser.py."""

import json
import shutil
from pathlib import Path

import pytest
import yaml

from gisapp.cli import main
from gisapp.core import paths
from gisapp.plans.draft.pipeline import draft_plan
from gisapp.plans.draft.readers import read_plan_lines
from gisapp.plans.draft.sections import find_sections
from gisapp.plans.zoneschema import Definition

FIXTURE = Path(__file__).parent / "fixtures" / "plans" / "nanhai-services-2026-2030-fixture.txt"
ZS_SERVICES = paths.plans_dir() / "zhongshan-services-2021-2025.txt"
needs_plans = pytest.mark.skipif(
    not ZS_SERVICES.is_file(), reason="the bundled plan texts (../shared/plans) are absent"
)


@pytest.fixture(scope="module")
def fixture_draft():  # type: ignore[no-untyped-def]
    return draft_plan(FIXTURE)


def test_fixture_draft_validates_and_is_all_draft(fixture_draft) -> None:  # type: ignore[no-untyped-def]
    data = fixture_draft.data
    Definition.model_validate(data)
    assert data["city"] == "佛山市" and data["structure"] == "一廊两翼多平台"
    assert data["id"] == "nanhai-services-2026-2030-fixture"
    assert {el["status"] for el in data["elements"]} == {"draft"}
    by_name = {el["name"]: el for el in data["elements"]}
    corridor = by_name["广佛同城服务走廊"]
    assert corridor["role"] == "corridor" and corridor["plan_line"] == 15
    assert corridor["geometry"]["method"] == "union_of_districts"
    assert corridor["geometry"]["districts"] == ["南海区", "禅城区"]
    east = by_name["东翼金融商务区"]["geometry"]
    assert east["method"] == "point_in_units" and east["districts"] == ["南海区"]
    assert "桂城街道、大沥镇、里水镇, units the town layer lacks" in east["basis_note"]
    assert (
        by_name["千灯湖创投小镇"]["sentence"]
        == "加快建设千灯湖创投小镇、大沥商贸物流基地，发展现代金融、总部经济和商贸流通。"
    )
    assert {"南海科技金融中心", "三山国际商务港", "狮山智能制造服务基地", "丹灶氢能产业服务园"} <= set(by_name)


@needs_plans
def test_zhongshan_zones_get_the_plans_member_lists() -> None:
    data = draft_plan(ZS_SERVICES).data
    members = {el["name"]: el["geometry"].get("towns") for el in data["elements"] if el["role"] == "zone"}
    assert members["东部两业融合创新示范区"] == ["中山港街道", "民众街道"]
    assert members["西北部生产性服务业标杆区"] == [
        "小榄镇",
        "东凤镇",
        "古镇镇",
        "黄圃镇",
        "三角镇",
        "南头镇",
        "横栏镇",
        "阜沙镇",
    ]
    assert members["南部产城融合优先发展区"] == ["坦洲镇", "三乡镇", "神湾镇"]
    assert members["中部科技创新深度合作区"] == ["南区街道", "大涌镇", "板芙镇"]


@needs_plans
def test_sections_of_the_zhongshan_plan() -> None:
    sections = find_sections(read_plan_lines(ZS_SERVICES))
    assert [(s.first, s.last, s.kind) for s in sections] == [(255, 312, "section")]


def test_readers_docx_and_pdf(tmp_path: Path) -> None:
    import docx
    from reportlab.pdfgen import canvas

    d = docx.Document()
    d.add_paragraph("第一行")
    d.add_paragraph("区域范围：包括南海区、禅城区。")
    d.save(str(tmp_path / "p.docx"))
    assert read_plan_lines(tmp_path / "p.docx") == ["第一行", "区域范围：包括南海区、禅城区。"]
    c = canvas.Canvas(str(tmp_path / "p.pdf"))
    c.drawString(72, 720, "Plan line one")
    c.save()
    assert read_plan_lines(tmp_path / "p.pdf") == ["Plan line one"]
    (tmp_path / "p.rtf").write_text("x")
    assert main(["plan", "draft", str(tmp_path / "p.rtf"), "-o", str(tmp_path / "x.yaml")]) == 2


def test_cli_draft_then_validate_and_build_refuse(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    zones = tmp_path / "zones"
    zones.mkdir()
    out = zones / "nanhai-draft.yaml"
    assert main(["plan", "draft", str(FIXTURE), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert err.startswith(f"wrote {out}: 11 draft elements from 1 sections (point_in_units 10, union_of_districts 1)")
    data = yaml.safe_load(out.read_text("utf-8"))
    assert data["id"] == "nanhai-draft" and len(data["elements"]) == 11
    assert main(["plan", "draft", str(FIXTURE), "-o", str(out)]) == 2  # exists, no --force
    assert "exists: pass --force" in capsys.readouterr().err
    monkeypatch.setenv("GISAPP_ZONES_DIR", str(zones))
    assert main(["validate", "--zones", str(zones)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("gisapp: error: nanhai-draft.yaml: 11 element(s) still 'status: draft'")
    assert main(["build", "--keep-towns", "--store", str(tmp_path / "store")]) == 2
    assert "still 'status: draft'" in capsys.readouterr().err
    assert not (tmp_path / "store" / "nanhai-draft.geojson").exists()
    assert main(["plan", "review", "nanhai-draft.yaml"]) == 0
    assert capsys.readouterr().out.strip() == "http://127.0.0.1:5000/plans/review?file=nanhai-draft.yaml"
    assert main(["plan", "review", "../x.yaml"]) == 2


@pytest.fixture()
def review_client(tmp_path: Path):  # type: ignore[no-untyped-def]
    from gisapp.web import create_app

    zones = tmp_path / "zones"
    zones.mkdir()
    (zones / "d.yaml").write_text(yaml.safe_dump(draft_plan(FIXTURE).data, allow_unicode=True), "utf-8")
    (tmp_path / "secret.yaml").write_text("id: x\n", "utf-8")
    app = create_app({"GISAPP_ZONES_DIR": str(zones), "GISAPP_PLANS_DIR": str(FIXTURE.parent), "TESTING": True})
    return app.test_client(), zones


def test_review_api_reads_and_confines(review_client) -> None:  # type: ignore[no-untyped-def]
    client, _ = review_client
    body = client.get("/api/plans/review?file=d.yaml").get_json()
    assert body["counts"] == {"draft": 11, "accepted": 0, "rejected": 0}
    assert body["lines"][14] == "1、广佛同城服务走廊"
    feats = {f["properties"]["name"]: f for f in body["features"]["features"]}
    assert feats["广佛同城服务走廊"]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert feats["东翼金融商务区"]["geometry"]["type"] == "Point"
    for bad, status in (("../secret.yaml", 400), ("sub/d.yaml", 400), ("d.txt", 400), ("nope.yaml", 404), ("", 400)):
        resp = client.get("/api/plans/review", query_string={"file": bad})
        assert resp.status_code == status and resp.get_json()["error"] in ("invalid_file", "unknown_file"), bad
    assert client.get("/plans/review?file=..%2Fsecret.yaml").status_code == 400


def test_review_api_saves_decisions(review_client) -> None:  # type: ignore[no-untyped-def]
    client, zones = review_client
    data = yaml.safe_load((zones / "d.yaml").read_text("utf-8"))
    ids = [el["id"] for el in data["elements"]]
    url = "/api/plans/review?file=d.yaml"
    form = client.post(url, data={"elements": "x"})
    assert form.status_code == 415
    cross = client.post(url, json={"elements": []}, headers={"Origin": "http://evil.example"})
    assert cross.status_code == 403 and cross.get_json()["error"] == "forbidden_origin"
    bad = client.post(url, json={"elements": [{"id": ids[0], "status": "maybe"}]})
    assert bad.status_code == 422 and "status" in bad.get_json()["message"]
    assert client.post(url, json={"elements": [{"id": "nope", "status": "accepted"}]}).status_code == 400
    assert yaml.safe_load((zones / "d.yaml").read_text("utf-8")) == data  # nothing written on errors
    half = client.post(url, json={"elements": [{"id": ids[0], "status": "rejected"}]}).get_json()
    assert half == {"file": "d.yaml", "counts": {"draft": 10, "accepted": 0, "rejected": 1}, "publishable": False}
    rest = [{"id": i, "status": "accepted"} for i in ids[1:]]
    rest[0]["name"] = "广佛同城服务走廊（已审核）"
    done = client.post(url, data=json.dumps({"elements": rest}), content_type="application/json").get_json()
    assert done["publishable"] is True and done["counts"] == {"draft": 0, "accepted": 10, "rejected": 1}
    text = (zones / "d.yaml").read_text("utf-8")
    assert text.startswith("# Drafted by `gisapp plan draft`") and "广佛同城服务走廊（已审核）" in text


def test_existing_zone_files_default_to_accepted() -> None:
    from gisapp.plans.zoneschema import parse_definition

    for path in sorted(paths.zones_dir().glob("*.yaml")):
        _, definition = parse_definition(path)
        assert {el.status for el in definition.elements} == {"accepted"}, path.name


def test_rejected_elements_are_not_compiled(tmp_path: Path) -> None:
    from gisapp.plans.structures import compile_structure
    from gisapp.store.layerstore import read_layer

    src = paths.zones_dir() / "zhongshan-services-2021-2025.yaml"
    data = yaml.safe_load(src.read_text("utf-8"))
    data["elements"][0]["status"] = "rejected"
    path = tmp_path / src.name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    towns = read_layer("zs-towns", paths.layers_dir())
    gdf, _ = compile_structure(path, towns)
    assert list(gdf["id"]) == [f"zs-services-structure-{el['id']}" for el in data["elements"][1:]]
    shutil.rmtree(tmp_path, ignore_errors=True)


@needs_plans
def test_every_drafted_sentence_is_verbatim_where_validate_looks() -> None:
    """The evidence of every drafted element passes validate's quotation check (Markdown marks and PDF
    punctuation kept as in the plan; long sentences cut within the 8 lines validate reads)."""
    from gisapp.plans.validate import sentence_at_line

    for name in ("zhongshan-torch-zone-2021-2025.txt", "guangzhou-services-2021-2025.txt"):
        lines = read_plan_lines(paths.plans_dir() / name)
        elements = draft_plan(paths.plans_dir() / name).data["elements"]
        bad = [e["id"] for e in elements if not sentence_at_line(lines, e["plan_line"], e["sentence"])]
        assert bad == [], name
