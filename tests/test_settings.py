"""Settings are read in one place, and every route, the OGC API and the CLI go through the app's LayerStore."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from gisapp.cli import main
from gisapp.core import paths
from gisapp.core.errors import InputError
from gisapp.core.settings import SETTINGS, Settings, settings_table
from gisapp.store.layerstore import LayerMeta, LayerStore, write_layer
from gisapp.web import create_app
from tests.helpers import make_meta

REPO = Path(__file__).resolve().parent.parent


def _one_layer_store(directory: Path) -> Path:
    """A store with one polygon layer ``only-one`` (a 1 km square in 中山, WGS 84)."""
    gdf = gpd.GeoDataFrame(
        {"id": ["a"], "name": ["唯一图斑"]}, geometry=[shapely.box(113.38, 22.52, 113.39, 22.53)], crs="EPSG:4326"
    )
    meta = make_meta("only-one", "唯一图层", kind="structure", description="a one-layer store")
    write_layer(gdf, meta, directory)
    return directory


def test_settings_precedence_override_env_default(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("GISAPP_MAX_ANALYSES", raising=False)
    monkeypatch.setenv("GISAPP_LAYERS_DIR", str(tmp_path / "env"))
    s = Settings.load()
    assert s.layers_dir == (tmp_path / "env").resolve()
    assert s.max_analyses == 3  # default
    s = Settings.load({"GISAPP_LAYERS_DIR": str(tmp_path / "cfg"), "GISAPP_MAX_ANALYSES": "5"})
    assert s.layers_dir == (tmp_path / "cfg").resolve() and s.max_analyses == 5
    assert Settings.load({"GISAPP_ISOLATE_READS": "no"}).isolate_reads is False
    with pytest.raises(InputError, match="GISAPP_MAX_ANALYSES"):
        Settings.load({"GISAPP_MAX_ANALYSES": "many"})


def test_settings_table_in_docs_is_current() -> None:
    text = (REPO / "docs" / "settings.md").read_text("utf-8")
    assert settings_table() in text
    assert len(SETTINGS) == text.count("| `GISAPP_")


def test_core_reads_no_environment() -> None:
    """Only gisapp/core/settings.py reads the environment (and storetxn its fault-injection hook for tests)."""
    readers = []
    for path in sorted((REPO / "gisapp").rglob("*.py")):
        text = path.read_text("utf-8")
        if "os.environ" in text or "getenv(" in text:
            readers.append(str(path.relative_to(REPO)))
    assert readers == ["gisapp/core/settings.py", "gisapp/store/storetxn.py"]  # storetxn: the kill-test hook only


def test_two_apps_on_two_stores_see_their_own_layers_everywhere(tmp_path) -> None:
    one = _one_layer_store(tmp_path / "one")
    bundled = create_app({"TESTING": True, "GISAPP_LAYERS_DIR": str(paths.layers_dir())}).test_client()
    single = create_app({"TESTING": True, "GISAPP_LAYERS_DIR": str(one)}).test_client()
    n_bundled = len(LayerStore(paths.layers_dir()).list())
    assert n_bundled > 10
    for client, ids in ((single, {"only-one"}), (bundled, None)):
        health = client.get("/api/health").json
        layers = {m["id"] for m in client.get("/api/layers").json["layers"]}
        ogc = {c["id"] for c in client.get("/ogc/collections?f=json").json["collections"]}
        mapped = {e["id"] for e in client.get("/api/map/layers").json["layers"]}
        if ids is None:
            assert health["layers"] == n_bundled and len(layers) == n_bundled and "only-one" not in layers
            assert "only-one" not in ogc and "zs-towns" in ogc and "zs-towns" in mapped
        else:
            assert health == {"status": "ok", "layers": 1}
            assert layers == ogc == mapped == ids
    items = single.get("/ogc/collections/only-one/items?f=json").json
    assert [f["properties"]["name"] for f in items["features"]] == ["唯一图斑"]
    assert single.get("/ogc/collections/zs-towns?f=json").status_code == 404
    assert single.get("/api/layers/zs-towns").status_code == 404
    assert bundled.get("/api/layers/only-one").status_code == 404
    hits = single.get("/api/map/search?q=唯一").json
    assert [h["name"] for h in hits["results"]][:1] == ["唯一图斑"]
    assert single.get("/api/metrics/only-one").json["features"][0]["area_km2"] == pytest.approx(1.14, abs=0.02)


def test_a_new_layer_shows_without_restart(tmp_path) -> None:
    """The store's cache is invalidated by the files: a layer written after start-up is listed at once."""
    one = _one_layer_store(tmp_path / "one")
    client = create_app({"TESTING": True, "GISAPP_LAYERS_DIR": str(one)}).test_client()
    assert client.get("/api/health").json["layers"] == 1
    assert {c["id"] for c in client.get("/ogc/collections?f=json").json["collections"]} == {"only-one"}
    meta = json.loads((one / "only-one.meta.json").read_text("utf-8"))
    meta["id"], meta["title"] = "second-one", "第二图层"
    gdf = gpd.read_file(one / "only-one.geojson")
    write_layer(gdf, LayerMeta(**meta), one)
    assert client.get("/api/health").json["layers"] == 2
    assert {c["id"] for c in client.get("/ogc/collections?f=json").json["collections"]} == {"only-one", "second-one"}
    assert {e["id"] for e in client.get("/api/map/layers").json["layers"]} == {"only-one", "second-one"}


def test_cli_uses_the_store_of_its_invocation(tmp_path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    one = _one_layer_store(tmp_path / "one")
    monkeypatch.setenv("GISAPP_LAYERS_DIR", str(one))
    assert main(["layers"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("only-one")
