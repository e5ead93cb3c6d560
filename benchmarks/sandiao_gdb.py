"""A synthetic 三调-style File Geodatabase: DLTB (地类图斑) and XZQ (行政区) for the large-layer benchmarks.

Run on demand: ``python benchmarks/sandiao_gdb.py [--count 1000000] [--zip] [--out PATH]`` (about a minute
per million 图斑 on one core; 200 MB of FileGDB per million). Deterministic for a given ``--seed``.

**What it holds** (field names of the 第三次全国国土调查 database standard, 《第三次全国国土调查技术规程》
TD/T 1055-2019 and its 数据库标准; land-use codes GB/T 21010-2017 as in ``data/landuse/gbt21010-2017.yaml``):

* ``DLTB`` (alias 地类图斑), polygons in EPSG:4526 (CGCS2000 / 3-degree Gauss-Krüger zone 38, the zone
  number before the easting, as 三调 data are held) or EPSG:4547 (CM 114°E, no zone number):
  ``BSM`` (标识码, 32-bit int), ``DLBM`` (地类编码), ``DLMC`` (地类名称), ``TBMJ`` (图斑面积, m²: the GRS80
  ellipsoidal area of the polygon times 1 + N(0, 0.2 %), 2 decimals, as an official area differs a little
  from a recomputed one), ``KCMJ`` (扣除地类面积, m²: 2 % of TBMJ for 耕地 01xx, else 0), ``QSDWMC``
  (权属单位名称), ``ZLDWMC`` (坐落单位名称), ``ZLDWDM`` (坐落单位代码, 19 digits: town code + village + 7 zeros).
* ``XZQ`` (alias 行政区): ``XZQDM`` (9-digit town code, 442000xxx), ``XZQMC`` (town name), the union of its 图斑,
  so the towns tile the layer exactly.

**How it is made.** A jittered square grid (mean 图斑 ``--mean-area-m2``, default 5 000 m² ≈ 7.5 亩; every
vertex moved up to ±25 % of a side, shared by its four neighbours, so the 图斑 tile the plane without gaps
or overlaps) centred on 中山 (113.38°E, 22.52°N); 1 M 图斑 cover about 5 000 km², a PRD city and a half,
split into 6 × 6 towns of about 140 km² with wavy borders and 3 × 3 villages per town. Land use is drawn
per 1.5 km landscape block (城镇 near a town's centre, else 村庄, 农田与鱼塘, 山林 or 水域), then per 图斑
from that landscape's mix. **The shares are illustrative**, chosen to look like a Pearl River Delta city
(many 坑塘水面 fish ponds, 农村宅基地 and 工业用地 scattered in the villages, 水田 and 果园, forested hills);
they are not taken from any 三调 bulletin. Town and village names are made up (样例…), so nothing here can
be mistaken for official data.
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
import yaml
from pyproj import Transformer

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from gisapp.core.crs import geodesic_area_m2  # noqa: E402

DEFAULT_OUT = REPO / "var" / "bench"
CENTRE_LONLAT = (113.38, 22.52)  # 中山
TOWNS_X, TOWNS_Y = 6, 6
VILLAGES = 3  # per side, per town
LANDSCAPE_BLOCK_M = 1_500.0

#: Land-use mix (relative weights by number of 图斑) of each landscape; codes of GB/T 21010-2017.
#: Illustrative shares for a Pearl River Delta city, not from a bulletin (see the module docstring).
LANDSCAPES: dict[str, dict[str, float]] = {
    "城镇": {
        "0701": 33, "0601": 18, "0604": 3, "0501": 5, "0505": 3, "1004": 12, "0803": 4, "0805": 1,
        "0809": 2, "0810": 4, "0801": 2, "1003": 3, "1201": 2, "1104": 2, "1101": 1, "0702": 5,
    },
    "村庄": {
        "0702": 33, "0601": 12, "1006": 8, "1104": 10, "0101": 8, "0201": 5, "1107": 4, "1202": 3,
        "0301": 3, "1004": 5, "0701": 4, "0404": 3, "0905": 1, "1003": 1,
    },
    "农田与鱼塘": {
        "1104": 35, "0101": 20, "0102": 5, "0103": 3, "0201": 8, "0204": 2, "1107": 8, "1006": 6,
        "1202": 5, "0702": 5, "0404": 3,
    },
    "山林": {
        "0301": 50, "0305": 10, "0307": 8, "0201": 10, "0404": 8, "1103": 4, "1006": 5, "0602": 2, "0905": 3,
    },
    "水域": {"1101": 70, "1106": 10, "1109": 5, "1104": 10, "1107": 5},
}  # fmt: skip
URBAN_TYPES = ("05", "06", "07", "08", "09", "10")  # 国有 in this synthetic data, except the rural codes below
RURAL_CODES = {"0702", "1006"}
TOWN_FIRST = "东西南北沙石横黄坦三民港古板大小阜神"
TOWN_SECOND = "岗湾圃洲溪头涌围角朗"
VILLAGE_NAMES = ["东村", "西村", "南村", "北村", "新村", "沙边", "涌口", "围仔", "岗背"]


def _names() -> dict[str, str]:
    """GB/T 21010-2017 second-level names by code, from ``data/landuse/gbt21010-2017.yaml``."""
    data = yaml.safe_load((REPO / "data" / "landuse" / "gbt21010-2017.yaml").read_text("utf-8"))
    return {c["code"]: c["name"] for c in data["classes"]}


def _town_names() -> list[str]:
    out: list[str] = []
    for a in TOWN_FIRST:
        for b in TOWN_SECOND:
            if a != b:
                out.append(f"样例{a}{b}镇")
    rng = np.random.default_rng(7)
    return [out[i] for i in rng.permutation(len(out))[: TOWNS_X * TOWNS_Y]]


def generate(count: int, mean_area_m2: float, epsg: int, seed: int) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Build the DLTB and XZQ frames (see the module docstring).

    Args:
        count: number of 图斑.
        mean_area_m2: mean 图斑 area, m² (planar, before jitter).
        epsg: 4526 (3° GK zone 38 with the zone number) or 4547 (CM 114°E).
        seed: random seed.

    Returns:
        ``(dltb, xzq)`` in ``EPSG:<epsg>``.
    """
    rng = np.random.default_rng(seed)
    side = math.sqrt(mean_area_m2)
    nx = math.ceil(math.sqrt(count))
    ny = math.ceil(count / nx)
    cx, cy = Transformer.from_crs(4326, 4547, always_xy=True).transform(*CENTRE_LONLAT)
    x0, y0 = cx - nx * side / 2, cy - ny * side / 2
    if epsg == 4526:
        x0 += 38_000_000.0  # zone number 38 before the easting (false easting 38 500 000 m)
    elif epsg != 4547:
        raise ValueError("epsg must be 4526 or 4547")
    # shared, jittered vertices: (ny + 1) × (nx + 1)
    gx, gy = np.meshgrid(np.arange(nx + 1, dtype=float), np.arange(ny + 1, dtype=float))
    vx = x0 + (gx + rng.uniform(-0.25, 0.25, gx.shape)) * side
    vy = y0 + (gy + rng.uniform(-0.25, 0.25, gy.shape)) * side
    k = np.arange(count)
    i, j = k % nx, k // nx
    ring_i = np.stack([i, i + 1, i + 1, i, i], axis=1)
    ring_j = np.stack([j, j, j + 1, j + 1, j], axis=1)
    coords = np.stack([vx[ring_j, ring_i], vy[ring_j, ring_i]], axis=2)
    geoms = shapely.polygons(coords)

    # towns (wavy borders in grid space) and villages
    wave_i = i + 0.04 * nx * np.sin(j / max(ny, 1) * 2 * math.pi * 3)
    wave_j = j + 0.04 * ny * np.sin(i / max(nx, 1) * 2 * math.pi * 2)
    ti = np.clip((wave_i / nx * TOWNS_X).astype(int), 0, TOWNS_X - 1)
    tj = np.clip((wave_j / ny * TOWNS_Y).astype(int), 0, TOWNS_Y - 1)
    town = tj * TOWNS_X + ti
    fx = np.clip(wave_i / nx * TOWNS_X - ti, 0, 0.999)
    fy = np.clip(wave_j / ny * TOWNS_Y - tj, 0, 0.999)
    village = (fy * VILLAGES).astype(int) * VILLAGES + (fx * VILLAGES).astype(int)

    # landscapes per 1.5 km block: urban near the town centre (fx, fy ≈ 0.5), otherwise a draw
    block = (j * side // LANDSCAPE_BLOCK_M).astype(np.int64) * 100_000 + (i * side // LANDSCAPE_BLOCK_M).astype(
        np.int64
    )
    blocks, block_of = np.unique(block, return_inverse=True)
    first = np.zeros(len(blocks), dtype=np.int64)
    first[block_of[::-1]] = np.arange(count)[::-1]  # a representative 图斑 per block
    dist = np.hypot(fx[first] - 0.5, fy[first] - 0.5)
    p_urban = 0.08 + 0.8 * np.exp(-((dist / 0.18) ** 2))
    draw = rng.random(len(blocks))
    kinds = list(LANDSCAPES)
    rest = np.array([0.40, 0.32, 0.20, 0.08])  # 村庄, 农田与鱼塘, 山林, 水域 among the non-urban blocks
    other = np.searchsorted(np.cumsum(rest), rng.random(len(blocks)) * rest.sum())
    landscape = np.where(draw < p_urban, 0, 1 + np.minimum(other, 3))[block_of]
    codes = np.empty(count, dtype=object)
    for n, kind in enumerate(kinds):
        sel = np.flatnonzero(landscape == n)
        mix = LANDSCAPES[kind]
        weights = np.array(list(mix.values()), dtype=float)
        codes[sel] = rng.choice(np.array(list(mix), dtype=object), size=len(sel), p=weights / weights.sum())
    names = _names()
    missing = sorted({c for mix in LANDSCAPES.values() for c in mix} - set(names))
    if missing:
        raise ValueError(f"codes not in GB/T 21010-2017: {missing}")

    t0 = time.perf_counter()
    area = geodesic_area_m2(gpd.GeoSeries(geoms, crs=f"EPSG:{epsg}"))
    print(f"[sandiao] ellipsoidal areas of {count:,} 图斑: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    tbmj = np.round(area * (1 + rng.normal(0, 0.002, count)), 2)
    is_farm = np.array([c.startswith("01") for c in codes])
    kcmj = np.where(is_farm, np.round(tbmj * 0.02, 2), 0.0)

    town_names = _town_names()
    xzqdm = np.array([f"442000{100 + t:03d}" for t in range(TOWNS_X * TOWNS_Y)], dtype=object)
    zldwdm = np.array(
        [f"{xzqdm[t]}{v + 1:03d}0000000" for t in range(TOWNS_X * TOWNS_Y) for v in range(VILLAGES**2)], dtype=object
    )
    zldwmc = np.array(
        [f"{town_names[t][2:-1]}{VILLAGE_NAMES[v]}" for t in range(TOWNS_X * TOWNS_Y) for v in range(VILLAGES**2)],
        dtype=object,
    )
    tv = town * VILLAGES**2 + village
    state = np.array([c.startswith(URBAN_TYPES) and c not in RURAL_CODES for c in codes])
    qsdwmc = np.where(
        state, np.array([f"{n}国有土地" for n in town_names], dtype=object)[town], zldwmc[tv] + "股份合作经济联合社"
    )
    dltb = gpd.GeoDataFrame(
        {
            "BSM": np.arange(1, count + 1, dtype=np.int32),  # Esri Integer (32 bit)
            "DLBM": codes.astype(str),
            "DLMC": np.array([names[c] for c in codes], dtype=object).astype(str),
            "TBMJ": tbmj,
            "KCMJ": kcmj,
            "QSDWMC": qsdwmc.astype(str),
            "ZLDWMC": zldwmc[tv].astype(str),
            "ZLDWDM": zldwdm[tv].astype(str),
        },
        geometry=geoms,
        crs=f"EPSG:{epsg}",
    )
    t0 = time.perf_counter()
    parts = [shapely.coverage_union_all(geoms[town == t]) for t in range(TOWNS_X * TOWNS_Y)]
    print(f"[sandiao] town boundaries: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    keep = [n for n, p in enumerate(parts) if not p.is_empty]
    xzq = gpd.GeoDataFrame(
        {"XZQDM": xzqdm[keep].astype(str), "XZQMC": np.array(town_names, dtype=object)[keep].astype(str)},
        geometry=[parts[n] for n in keep],
        crs=f"EPSG:{epsg}",
    )
    return dltb, xzq


def write_gdb(dltb: gpd.GeoDataFrame, xzq: gpd.GeoDataFrame, path: Path, *, zipped: bool) -> Path:
    """Write both layers to the File Geodatabase ``path`` (a ``.gdb`` folder; replaced) with GDAL's
    OpenFileGDB driver; with ``zipped`` also ``<path>.zip`` (the folder at the archive's root). Returns
    the path written last."""
    if path.exists():
        shutil.rmtree(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pyogrio.write_dataframe(
        dltb,
        path,
        layer="DLTB",
        driver="OpenFileGDB",
        geometry_type="MultiPolygon",
        layer_options={"LAYER_ALIAS": "地类图斑"},
    )
    pyogrio.write_dataframe(
        xzq, path, layer="XZQ", driver="OpenFileGDB", geometry_type="MultiPolygon", append=False,
        layer_options={"LAYER_ALIAS": "行政区"},
    )  # fmt: skip
    if not zipped:
        return path
    archive = shutil.make_archive(str(path), "zip", root_dir=path.parent, base_dir=path.name)
    return Path(archive)


def default_path(count: int, epsg: int) -> Path:
    """Where the benchmarks keep a generated database: ``var/bench/sandiao-<count>-<epsg>.gdb`` (git-ignored)."""
    return DEFAULT_OUT / f"sandiao-{count}-{epsg}.gdb"


def main(argv: list[str] | None = None) -> int:
    """Command line: generate and write; prints the path and the land-use shares by area."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=1_000_000, help="number of 图斑 (default 1 000 000)")
    ap.add_argument("--mean-area-m2", type=float, default=5_000.0, help="mean 图斑 area in m² (default 5000)")
    ap.add_argument("--epsg", type=int, choices=(4526, 4547), default=4526, help="CRS of the layers (default 4526)")
    ap.add_argument("--seed", type=int, default=2019)
    ap.add_argument("--out", type=Path, help="the .gdb folder (default var/bench/sandiao-<count>-<epsg>.gdb)")
    ap.add_argument("--zip", action="store_true", help="also write <out>.zip (a zipped .gdb)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    dltb, xzq = generate(args.count, args.mean_area_m2, args.epsg, args.seed)
    t1 = time.perf_counter()
    out = write_gdb(dltb, xzq, args.out or default_path(args.count, args.epsg), zipped=args.zip)
    t2 = time.perf_counter()
    shares = dltb.groupby(["DLBM", "DLMC"])["TBMJ"].sum().sort_values(ascending=False) / dltb["TBMJ"].sum() * 100
    print(f"{out}  ({len(dltb):,} 图斑, {len(xzq)} towns, {dltb['TBMJ'].sum() / 1e6:,.1f} km²; "
          f"generated {t1 - t0:.1f} s, written {t2 - t1:.1f} s)")  # fmt: skip
    print(pd.DataFrame({"share_pct": shares.round(2)}).head(12).to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
