"""The result models pin the JSON: the exported JSON Schema of each report names exactly the keys of
the real report, in the same order, with the same JSON types."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
import shapely
from rasterio.transform import from_origin

from gisapp.analysis.accounting import service
from gisapp.analysis.accounting.results import (
    AccountingReport,
    AdjustmentReport,
    VersionComparison,
    ZonalStats,
)
from gisapp.analysis.zonalstats import zonal_stats
from gisapp.cli import main
from gisapp.core.crs import PROJECTED
from tests.helpers import BUNDLED, ZHONGSHANGANG, feature_collection, square_4547
from tests.test_zonalstats import P, _origin, write, zones_for

JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (float,),
    "boolean": (bool,),
    "null": (type(None),),
    "array": (list,),
    "object": (dict,),
}


def conforms(value: Any, schema: dict[str, Any], defs: dict[str, Any], path: str = "$") -> None:
    """Assert that ``value`` has exactly the keys (in order) and JSON types ``schema`` names."""
    if "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
    if "anyOf" in schema:
        errors = []
        for option in schema["anyOf"]:
            try:
                conforms(value, option, defs, path)
                return
            except AssertionError as exc:
                errors.append(str(exc))
        raise AssertionError(f"{path}: no variant fits: {errors}")
    if "const" in schema:
        assert value == schema["const"], path
    if "enum" in schema:
        assert value in schema["enum"], path
    kind = schema.get("type")
    if kind is None:
        return  # Any
    expected = JSON_TYPES[kind]
    assert isinstance(value, expected) and not (kind in ("integer", "number") and isinstance(value, bool)), (
        f"{path}: {type(value).__name__} is not {kind}"
    )
    if kind == "object" and "properties" in schema:
        assert list(value) == list(schema["properties"]), f"{path}: keys {list(value)} != {list(schema['properties'])}"
        for key, sub in schema["properties"].items():
            conforms(value[key], sub, defs, f"{path}.{key}")
    if kind == "array" and "items" in schema:
        for i, item in enumerate(value):
            conforms(item, schema["items"], defs, f"{path}[{i}]")


def check(model: type, value: dict[str, Any]) -> None:
    schema = model.model_json_schema(mode="serialization", by_alias=True)
    conforms(value, schema, schema.get("$defs", {}))


def landuse_body() -> dict[str, Any]:
    lu = feature_collection(
        [
            square_4547(*ZHONGSHANGANG, 1000, dy=500),
            square_4547(*ZHONGSHANGANG, 1000, dx=3000),
            square_4547(*ZHONGSHANGANG, 800, dx=-2000),
        ],
        crs="EPSG:4547",
        props=[{"DLBM": "100102"}, {"DLBM": "0901"}, {"DLBM": "0601"}],
    )
    return {"landuse": lu, "class_field": "DLBM"}


def test_report_keys_and_types_are_the_models(client, tmp_path):
    # the stored line with floor, headroom, tiers, units and zones; every key in order, every type
    r = service.report(store=BUNDLED)
    assert r["floor"] is not None and r["by_zone"] and r["by_unit"]
    check(AccountingReport, r)
    assert list(r["verdicts"]) == ["pass", "fail", "not_reported", "not_evaluated"]
    # the same through the CLI (insertion order kept by json.dumps) and the API with a land-use layer
    out = tmp_path / "r.json"
    assert main(["accounting", "report", "--format", "json", "-o", str(out)]) == 0
    check(AccountingReport, json.loads(out.read_text("utf-8")))
    resp = client.post("/api/accounting/report", json=landuse_body())
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["landuse"]["by_class"] and body["landuse"]["by_unit"] and body["landuse"]["by_zone"]
    # Flask sorts keys: compare as sets here, the CLI above pins the order
    keys = set(AccountingReport.model_json_schema(mode="serialization")["properties"])
    assert set(body) == keys
    check(
        AccountingReport,
        service.report(store=BUNDLED, landuse_data=json.dumps(landuse_body()["landuse"]), class_field="DLBM"),
    )


def test_adjust_and_compare_keys_are_the_models():
    first = service.report(store=BUNDLED)["blocks"][0]["block_id"]
    add = feature_collection([square_4547(*ZHONGSHANGANG, 1000, dx=-6000, dy=-6000)], crs="EPSG:4547")
    r = service.adjust("zhongshan-industrial-redline", {"remove_ids": [first], "add": add}, store=BUNDLED)
    check(AdjustmentReport, r)
    assert list(r)[-4:] == ["stored_layer_unchanged", "layer", "illustrative", "warning"]
    c = service.compare("zhongshan-industrial-redline", json.dumps(add), store=BUNDLED)
    check(VersionComparison, c)
    assert c["by_unit"] and c["by_tier"]


@pytest.mark.parametrize("mode", ["categorical", "continuous"])
def test_zonal_keys_are_the_model(tmp_path, mode):
    x0, ytop = _origin()
    arr = np.where(np.arange(100)[None, :] < 50, 1, 2).repeat(100, axis=0).astype("uint8")
    path = write(tmp_path / "s.tif", arr, PROJECTED, from_origin(x0, ytop, P, P), nodata=255)
    z = shapely.box(x0 + 10 * P, ytop - 15 * P, x0 + 60 * P, ytop - 5 * P)
    far = shapely.box(x0 - 50 * P, ytop - 50 * P, x0 - 40 * P, ytop - 40 * P)  # no data: None statistics
    stats = zonal_stats(path, zones_for([z, far], ["Z", "F"]), mode=mode)
    assert isinstance(stats, ZonalStats)
    r = stats.to_json_dict()
    assert "zones_source" not in r  # only the CLI sets it
    check(ZonalStats, {**r, "zones_source": "x"})
    with_source = stats.model_copy(update={"zones_source": "zs-towns"}).to_json_dict()
    assert list(with_source)[-1] == "zones_source" and with_source["zones_source"] == "zs-towns"
    if mode == "continuous":
        assert r["zones"][1]["mean"] is None and r["zones"][0]["pixel_count"] == 500
    else:
        assert [c["value"] for c in r["zones"][0]["classes"]] == ["1", "2"]
