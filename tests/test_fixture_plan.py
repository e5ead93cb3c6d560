"""A plan for a city the app does not bundle (佛山市, an illustrative fixture) is one zone file plus
``gisapp build``: it is built, validated, and seen on the map, in search and in OGC API - Features."""

import json
import shutil
from pathlib import Path

import pytest

from gisapp.cli import main
from gisapp.core import paths
from gisapp.plans.validate import validate_all
from gisapp.store.layerstore import LayerStore, read_layer, read_meta

FIXTURE = Path(__file__).parent / "fixtures" / "plans" / "foshan-illustrative-structure.yaml"
LAYER = "fs-fixture-structure"
FOSHAN_DISTRICTS = ["禅城区", "南海区", "顺德区", "三水区", "高明区"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):  # type: ignore[no-untyped-def]
    """``(zones, store)``: the bundled zone files plus the fixture, built by ``gisapp build --keep-towns --store``
    into a copy of the bundled store (keeping its towns skips the 20 s town tiling; nothing else is reused)."""
    root = tmp_path_factory.mktemp("fixture-plan")
    zones, store = root / "zones", root / "layers"
    shutil.copytree(paths.zones_dir(), zones)
    shutil.copy(FIXTURE, zones / FIXTURE.name)
    shutil.copytree(paths.layers_dir(), store)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GISAPP_ZONES_DIR", str(zones))
        assert main(["build", "--keep-towns", "--store", str(store)]) == 0
    return zones, store


def test_build_adds_the_layer_and_the_new_city(built) -> None:  # type: ignore[no-untyped-def]
    _, store = built
    gdf = read_layer(LAYER, store)
    assert list(gdf["id"]) == [
        f"{LAYER}-central-core",
        f"{LAYER}-south-wing",
        f"{LAYER}-west-wing",
        f"{LAYER}-shunde-node",
    ]
    assert list(gdf["geometry_basis"]) == ["official", "official", "official", "illustrative"]
    assert gdf.loc[3, "member_districts"] == "顺德区"
    meta = read_meta(LAYER, store)
    assert meta.kind == "structure" and meta.title == "佛山市示例规划（测试用，非真实规划）：一核两翼（示例）"
    cities = read_layer("base-city", store)
    assert list(cities["name"]) == ["广州市", "深圳市", "佛山市", "中山市"]
    assert read_meta("base-city", store).title == "市界（广州、深圳、佛山、中山）"
    districts = read_layer("base-district", store)
    assert sorted(districts.loc[districts["city"] == "佛山市", "name"]) == sorted(FOSHAN_DISTRICTS)
    assert read_meta("base-district", store).title == "区界（广州 11 区、深圳 9 区、佛山 5 区）"
    # the bundled layers are untouched by the extra city
    for layer_id in ("zs-services-structure", "gz-services-structure", "zs-towns"):
        assert (store / f"{layer_id}.geojson").read_bytes() == (
            paths.REPO_ROOT / "layers" / f"{layer_id}.geojson"
        ).read_bytes()


def test_validate_includes_the_fixture_plan(built, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    zones, store = built
    report = validate_all(zones_dir=zones, layers_dir=store)
    assert report.errors == []
    assert report.counts["foshan-fixture-plan.txt"] == {
        "elements": 4,
        "drawn": 4,
        "stand_ins": 1,
        "unplaced": 0,
        "lists": {},
    }
    warnings = [f.message for f in report.findings if f.level == "warning" and f.check == "sentence"]
    assert "plan text foshan-fixture-plan.txt not found: sentences and lists not checked" in warnings
    monkeypatch.setenv("GISAPP_LAYERS_DIR", str(store))
    assert main(["validate", "--zones", str(zones)]) == 0
    out = capsys.readouterr().out
    assert "foshan-fixture-plan.txt: 4 elements, 4 drawn (1 of them" in out and out.rstrip().endswith(
        "OK: all checks passed"
    )


@pytest.fixture(scope="module")
def client(built):  # type: ignore[no-untyped-def]
    from gisapp.web import create_app

    _, store = built
    app = create_app({"GISAPP_LAYERS_DIR": str(store), "TESTING": True})
    return app.test_client()


def test_api_layers_lists_it(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/api/layers")
    assert resp.status_code == 200
    ids = (
        [entry["id"] for entry in resp.get_json()["layers"]]
        if isinstance(resp.get_json(), dict)
        else [entry["id"] for entry in resp.get_json()]
    )
    assert LAYER in ids


def test_map_draws_it(client) -> None:  # type: ignore[no-untyped-def]
    tree = client.get("/api/map/layers").get_json()
    assert LAYER in [entry["id"] for entry in tree["layers"]]
    resp = client.get(f"/api/map/layers/{LAYER}/features")
    assert resp.status_code == 200 and resp.headers["X-Feature-Count"] == "4"
    features = json.loads(resp.get_data(as_text=True))["features"]
    assert sorted(f["properties"]["id"] for f in features) == sorted(
        f"{LAYER}-{e}" for e in ("central-core", "south-wing", "west-wing", "shunde-node")
    )
    assert sorted(f["properties"]["label"]["zh"] for f in features if f["properties"].get("label")) == sorted(
        ["禅南中心城区（示例）", "顺德南翼（示例）", "高明三水西翼（示例）"]
    )  # the stand-in point (顺德示例节点) is drawn hollow, without a label


def test_search_finds_it(client) -> None:  # type: ignore[no-untyped-def]
    results = client.get("/api/map/search", query_string={"q": "顺德南翼"}).get_json()["results"]
    assert [(r["layer"], r["id"]) for r in results][:1] == [(LAYER, f"{LAYER}-south-wing")]


def test_ogc_collections_list_it(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/ogc/collections", query_string={"f": "json"})
    assert resp.status_code == 200
    # one collection per geometry type when the layer mixes them (QGIS draws one type per collection)
    ids = [c["id"] for c in resp.get_json()["collections"] if c["id"].startswith(LAYER)]
    assert ids == [LAYER] or ids == [f"{LAYER}-polygons", f"{LAYER}-points"]
    items = [client.get(f"/ogc/collections/{i}/items", query_string={"f": "json"}).get_json() for i in ids]
    assert sum(page["numberMatched"] for page in items) == 4


def test_figure_of_the_new_plan_knows_its_city(built) -> None:  # type: ignore[no-untyped-def]
    """The figure takes the plan's city from its zone file (``meta.extra``), not from a table in code."""
    from gisapp.report.figures.plandata import load_plan, plan_city

    _, store = built
    layers = LayerStore(store)
    plan = load_plan("foshan-fixture-plan", layers)
    assert plan.city == "佛山市"
    assert plan_city([layers.meta(LAYER)], layers) == ("佛山市", "Foshan")
    assert layers.meta(LAYER).extra["related_layers"] == []
