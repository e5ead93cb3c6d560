"""The filed report: HTML (rendered in headless Chromium) and the server-made PDF, text extracted."""

from __future__ import annotations

import io
import json
import shutil
import subprocess

import pytest
from pypdf import PdfReader

from gisapp.analysis import service
from gisapp.core import paths
from gisapp.report.overlap_report import render, report_model
from gisapp.store.layerstore import LayerStore
from tests.fixtures.overlap import builders as b

SENTENCE = "划定不少于250平方公里的工业用地保护红线"
STORE = LayerStore(paths.layers_dir())


IDS = ("ZD-2024-001", "ZD-2024-002", "ZD-2024-003")


@pytest.fixture(scope="module")
def analysed():
    doc = json.loads(b.geojson_bytes("EPSG:4526"))
    for feat, pid in zip(doc["features"], IDS):
        feat["properties"]["parcel_id"] = pid
    data = json.dumps(doc, ensure_ascii=False).encode()
    return service.overlap_check(
        data, "宗地.geojson", ["zs-industrial-redline", "zs-services-structure"], store=LayerStore(paths.layers_dir())
    )


def test_pdf_text_has_parcel_ids_sentence_crs_and_hash(analysed):
    result, info = analysed
    pdf = render(result, info, "pdf", store=STORE).body
    assert pdf.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    flat = text.replace("\n", "")
    for pid in IDS:
        assert pid in flat
    assert SENTENCE in flat and "zhongshan-industrial-restructuring.txt" in flat and "156" in flat
    assert info["input"]["sha256"] in flat
    assert "EPSG:4526" in flat and "压占分析报告" in flat
    assert "ILLUSTRATIVE" in flat  # the bundled red line is illustrative, and the report says so


def test_html_report_content(analysed):
    result, info = analysed
    html = render(result, info, "html", store=STORE).body.decode()
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html and "http" not in html.split("</style>")[0]
    assert SENTENCE in html and info["input"]["sha256"] in html and "宗地.geojson" in html
    assert html.count('class="parcel-row"') == 6
    assert "<svg" in html and 'class="parcels"' in html and 'class="target-0"' in html
    model = report_model(result, info, STORE)
    assert [layer.key for layer in model["map"].layers] == ["towns", "target-0", "target-1", "parcels"]
    assert len(model["map"].layers[-1].rings) == 3 and {t for _, _, t in model["map"].labels} == set(IDS)


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian chromium")
def test_html_report_renders_in_headless_chromium(analysed, tmp_path):
    result, info = analysed
    page = tmp_path / "report.html"
    page.write_bytes(render(result, info, "html", store=STORE).body)
    base = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
    dom = subprocess.run([*base, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=60)
    assert SENTENCE in dom.stdout and dom.stdout.count('class="parcel-row"') == 6
    pdf = tmp_path / "chromium.pdf"
    subprocess.run(
        [*base, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", page.as_uri()], capture_output=True, timeout=60
    )
    assert pdf.read_bytes().startswith(b"%PDF") and len(PdfReader(pdf).pages) >= 1
