"""Print-ready figures (issue 12 §6): page sizes, text in the PDF, a PNG that is not blank, labels
that do not overlap, stand-ins listed not drawn, the CLI and the HTTP endpoint with their errors."""

from __future__ import annotations

import datetime as dt
import io
import itertools

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader

from gisapp import cli
from gisapp.core.errors import InputError
from gisapp.report.figures import fonts, make_figure, parse_bbox, plan_ids
from gisapp.report.figures.plandata import load_plan
from gisapp.store.layerstore import list_layers, read_layer
from tests.helpers import BUNDLED

DATE = dt.date(2026, 1, 2)
SERVICES = "zhongshan-services-2021-2025"
TORCH = "zhongshan-torch-zone-2021-2025"
A4_PT = (841.89, 595.28)
A3_PT = (1190.55, 841.89)


@pytest.fixture(scope="module")
def services_pdf():
    return make_figure(SERVICES, fmt="pdf", size="A4", date=DATE, store=BUNDLED)


def pdf_text(data: bytes) -> tuple[str, tuple[float, float]]:
    page = PdfReader(io.BytesIO(data)).pages[0]
    return page.extract_text(), (float(page.mediabox.width), float(page.mediabox.height))


def test_five_plans():
    assert plan_ids(BUNDLED) == [
        "guangzhou-services-2021-2025",
        "shenzhen-services-2021-2025",
        "zhongshan-industrial-restructuring",
        "zhongshan-services-2021-2025",
        "zhongshan-torch-zone-2021-2025",
    ]


def _stand_in_count(plan_id: str) -> int:
    """Points of a plan's stored structure layers located only to a whole town, district or city (≥ 5 km)."""
    total = 0
    for meta in list_layers():
        if meta.kind == "structure" and meta.plan.removesuffix(".txt") == plan_id:
            gdf = read_layer(meta.id)
            total += int(((gdf.geom_type == "Point") & (gdf["uncertainty_m"].fillna(0) >= 5000)).sum())
    return total


def test_pdf_page_and_text(services_pdf):
    text, (w, h) = pdf_text(services_pdf.data)
    assert w == pytest.approx(A4_PT[0], abs=0.5) and h == pytest.approx(A4_PT[1], abs=0.5)
    compact = text.replace(" ", "").replace("\n", "")
    for expected in (
        '中山市服务业发展"十四五"规划',  # title
        "双核支撑、多区联动",  # structure
        "图例",
        "核心（范围）",
        "区（各区分色）",
        "带（范围）",
        "示意范围·虚线",
        "示意图形，非官方",  # weakest basis of a layer
        "示意，非官方",
        f"未定位要素（{_stand_in_count(SERVICES)}项",  # every stand-in of the plan's layers
        "zhongshan-services-2021-2025.txt",  # citation
        "2026-01-02",
        "EPSG:4547",
        "翠亨新区",  # labels written on the map
        "西北部生产性服务业标杆区",
    ):
        assert expected in compact, expected


def test_stand_ins_listed_not_drawn(services_pdf):
    plan = load_plan(SERVICES, BUNDLED)
    expected = _stand_in_count(SERVICES)
    assert expected >= 19 and len(plan.stand_ins) == services_pdf.stand_ins == expected
    unc = [
        u
        for pl in plan.layers
        for u, g in zip(pl.gdf["uncertainty_m"], pl.gdf.geometry, strict=True)
        if g.geom_type == "Point"
    ]
    assert unc and max(unc) < 5000  # the points left to draw are located (中山北站TOD商务圈 ±1 km …)
    towns = set(read_layer("zs-towns")["name"])
    units = {s.unit for s in plan.stand_ins}
    assert units and all(u for u in units)
    assert any(u in towns or u == "中山市" or "、" in u for u in units), units  # a town, towns, or the city


def test_labels_do_not_overlap(services_pdf):
    boxes = services_pdf.label_boxes
    assert len(boxes) >= 15
    for a, b in itertools.combinations(boxes, 2):
        assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    assert services_pdf.labelled >= 10  # 2 cores, 4 zones, belts, platform, node


def test_png_a4_not_blank():
    r = make_figure(TORCH, fmt="png", size="A4", date=DATE, store=BUNDLED)
    img = Image.open(io.BytesIO(r.data)).convert("RGB")
    assert img.size == (2338, 1653)  # 297 × 210 mm at 200 dpi
    px = np.asarray(img, dtype=float)
    assert px.std() > 20
    non_white = (px.min(axis=2) < 240).mean()
    assert 0.15 < non_white < 0.9


def test_a3_english():
    r = make_figure("guangzhou-services-2021-2025", fmt="pdf", size="A3", lang="en", date=DATE, store=BUNDLED)
    text, (w, h) = pdf_text(r.data)
    assert w == pytest.approx(A3_PT[0], abs=0.5) and h == pytest.approx(A3_PT[1], abs=0.5)
    for expected in ("Legend", "core", "Not located", "2026-01-02", "schematic"):
        assert expected in text, expected
    gz = read_layer("gz-services-structure")
    points = gz[gz.geom_type == "Point"]
    assert r.stand_ins == int((points["uncertainty_m"] >= 5000).sum()) == 65  # every stand-in is listed
    assert r.numbered or r.labelled >= 20


def test_bbox_and_choices():
    assert parse_bbox(None) is None
    x0, y0, x1, y1 = parse_bbox("113.2,22.4,113.6,22.8")
    assert 30_000 < x1 - x0 < 45_000 and 40_000 < y1 - y0 < 46_000  # 0.4° lon ≈ 41 km, 0.4° lat ≈ 44 km
    for bad in ("1,2,3", "a,b,c,d", "113,22,112,23", "113,22,113.0001,22.0001", "nan,1,2,3", "0,0,90,10"):
        with pytest.raises(InputError) as exc:
            parse_bbox(bad)
        assert exc.value.code == "invalid_bbox"
    for kwargs, code in (
        ({"size": "A5"}, "invalid_size"),
        ({"fmt": "svg"}, "invalid_format"),
        ({"lang": "fr"}, "invalid_lang"),
    ):
        with pytest.raises(InputError) as exc:
            make_figure(TORCH, **kwargs, store=BUNDLED)
        assert exc.value.code == code
    with pytest.raises(InputError) as exc:
        make_figure("no-such-plan", store=BUNDLED)
    assert exc.value.code == "unknown_plan" and exc.value.status == 404


def test_cli(tmp_path, capsys):
    out = tmp_path / "torch.png"
    assert cli.main(["figure", TORCH, "-o", str(out), "--bbox", "113.40,22.48,113.60,22.62"]) == 0
    assert Image.open(out).size == (2338, 1653)
    assert capsys.readouterr().out.startswith(f"{out}: A4 PNG")
    for argv in (
        ["figure", "nope", "-o", str(tmp_path / "x.pdf")],
        ["figure", TORCH, "-o", str(tmp_path / "x.svg")],
        ["figure", TORCH, "-o", str(tmp_path / "x.pdf"), "--size", "B5"],
        ["figure", TORCH, "-o", str(tmp_path / "x.pdf"), "--bbox", "1,2"],
    ):
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("gisapp: error: ")
    assert not (tmp_path / "x.pdf").exists()


def test_http(client):
    r = client.get(f"/api/figure?plan={TORCH}&format=png&size=A4")
    assert r.status_code == 200 and r.mimetype == "image/png"
    assert Image.open(io.BytesIO(r.data)).size == (2338, 1653)
    r = client.get(f"/api/figure?plan={TORCH}&bbox=113.40,22.48,113.60,22.62&lang=en")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert "Legend" in pdf_text(r.data)[0]
    for query, status, code in (
        ("plan=nope", 404, "unknown_plan"),
        ("", 400, "missing_plan"),
        (f"plan={TORCH}&bbox=1,2,3", 400, "invalid_bbox"),
        (f"plan={TORCH}&size=A0", 400, "invalid_size"),
        (f"plan={TORCH}&format=gif", 400, "invalid_format"),
    ):
        r = client.get(f"/api/figure?{query}")
        assert r.status_code == status and r.is_json and r.get_json()["error"] == code, query


def test_no_cjk_font(monkeypatch, client, tmp_path):
    monkeypatch.setattr(fonts, "_registered", None)
    monkeypatch.setattr(fonts, "CANDIDATES", (("/nonexistent/font.ttc", "X", True),))
    monkeypatch.delenv("GISAPP_CJK_FONT", raising=False)
    r = client.get(f"/api/figure?plan={TORCH}")
    assert r.status_code == 424 and r.get_json()["error"] == "no_cjk_font"
    assert "fonts-wqy-zenhei" in r.get_json()["message"]
    assert cli.main(["figure", TORCH, "-o", str(tmp_path / "x.pdf")]) == 2


def test_base_layers_are_drawn_once_each() -> None:
    """The figure's base is what the map draws: no hidden three-city boundaries under the delta-wide ones
    (they were drawn and listed twice), no label-only layer as a water polygon."""
    from gisapp.report.figures.plandata import base_layers

    assert [(m.id, c) for m, c in base_layers(BUNDLED)] == [
        ("base-water", "water"),
        ("base-prd-city", "city"),
        ("base-prd-district", "district"),
        ("base-province", "province"),
        ("zs-towns", "towns"),
    ]
