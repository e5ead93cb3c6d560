"""Zonal statistics of a raster over a polygon layer (rasterio + exactextract).

Two kinds:

* **categorical** (land cover, land-use classes): the area of every class in every zone, with
  partial pixels weighted by the fraction of the pixel the zone covers (exactextract's exact
  coverage fractions);
* **continuous** (elevation, density …): per zone the pixel count, the coverage-weighted count,
  mean (coverage-weighted), min and max.

CRS: the zones are transformed to the raster's CRS (with pyproj, through geopandas); the raster is
never resampled, so class values stay exact. A raster must declare its CRS. Pixel areas are not
taken from the raster's own units: every covered pixel's footprint (its four corners, through the
raster's affine transform) is projected to EPSG:4547 and measured there (planar), and divided by
the GK areal scale factor at its centre (:meth:`pyproj.Proj.get_factors`) for the ellipsoidal
(GRS80) area. So a raster in EPSG:4326, UTM or EPSG:4547 gives the same areas.

Nodata: pixels equal to the band's nodata value and masked pixels (or, with the ``nodata``
argument, pixels equal to that value instead) and NaN are left out of every statistic; the part of a zone on nodata or outside the
raster is reported as ``nodata_or_outside_*`` so that nothing disappears silently.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, cast

import geopandas as gpd
import numpy as np
import rasterio
import shapely
from pyproj import CRS, Proj, Transformer
from rasterio.errors import RasterioIOError

from gisapp.analysis.accounting.areas import METHOD_ELLIPSOIDAL, METHOD_PLANAR, ellipsoidal_m2
from gisapp.analysis.accounting.results import (
    CategoricalZone,
    ClassArea,
    ContinuousZone,
    RasterInfo,
    ZonalMethods,
    ZonalStats,
)
from gisapp.core.crs import PROJECTED, WGS84
from gisapp.core.errors import InputError
from gisapp.core.frames import polygon_rows
from gisapp.io import gdalpolicy

MODES = ("categorical", "continuous")
#: Pixels covered by less than this fraction (reprojection slivers along a zone's edge) do not count
#: for ``pixel_count``, ``min`` and ``max``; they still count by their weight in areas and the mean.
MIN_COVERAGE = 1e-6
#: Largest band read into memory, in pixels.
MAX_PIXELS = 200_000_000
#: The only raster drivers an uploaded raster may be opened with (GDAL's VRT would read any file).
RASTER_DRIVERS = ("GTiff",)
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_GK = Proj(PROJECTED)

gdalpolicy.apply()


def open_raster(path: Path) -> rasterio.io.DatasetReader:
    """Open a GeoTIFF with rasterio, with GDAL's GTiff driver only (:data:`RASTER_DRIVERS`).

    The file must start with a TIFF header; anything else (a VRT, whose XML names other files or
    URLs, a PNG …) is refused before GDAL sees it.

    Raises:
        InputError: ``missing_file``, ``unreadable_raster`` (415 when not a TIFF, 422 when GDAL cannot
            read it), ``missing_crs`` (a raster without a CRS).
    """
    from gisapp.io.readers.safety import scrub

    path = Path(path)
    if not path.is_file():
        raise InputError(f"no such file: {path.name}", code="missing_file")
    with path.open("rb") as f:
        head = f.read(4)
    if head not in _TIFF_MAGIC:
        raise InputError(
            f"the raster {path.name} is not a GeoTIFF (only GeoTIFF is accepted)", code="unreadable_raster", status=415
        )
    try:
        ds = rasterio.open(path, driver=RASTER_DRIVERS[0])
    except (RasterioIOError, rasterio.errors.RasterioError) as exc:
        msg = scrub(str(exc), path.parent, path.name)
        raise InputError(f"cannot read the raster {path.name}: {msg}", code="unreadable_raster", status=422) from exc
    if ds.driver not in RASTER_DRIVERS:
        ds.close()
        raise InputError(f"the raster {path.name} is not a GeoTIFF", code="unreadable_raster", status=415)
    if ds.crs is None:
        ds.close()
        raise InputError(f"the raster {Path(path).name} has no CRS; declare one", code="missing_crs")
    return ds


def _pixel_areas(ds: rasterio.io.DatasetReader, cell_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Planar (EPSG:4547) and ellipsoidal (GRS80) area in m² of the pixels ``cell_ids`` (row * width + col)."""
    rows, cols = np.divmod(cell_ids.astype(np.int64), ds.width)
    t = ds.transform
    corners_c = np.stack([cols, cols + 1, cols + 1, cols], axis=1).astype(float)
    corners_r = np.stack([rows, rows, rows + 1, rows + 1], axis=1).astype(float)
    xs = t.c + t.a * corners_c + t.b * corners_r
    ys = t.f + t.d * corners_c + t.e * corners_r
    to_gk = Transformer.from_crs(CRS(ds.crs), PROJECTED, always_xy=True)
    gx, gy = to_gk.transform(xs.ravel(), ys.ravel())
    gx, gy = np.asarray(gx).reshape(xs.shape), np.asarray(gy).reshape(ys.shape)
    planar = 0.5 * np.abs(
        gx[:, 0] * gy[:, 1]
        - gx[:, 1] * gy[:, 0]
        + gx[:, 1] * gy[:, 2]
        - gx[:, 2] * gy[:, 1]
        + gx[:, 2] * gy[:, 3]
        - gx[:, 3] * gy[:, 2]
        + gx[:, 3] * gy[:, 0]
        - gx[:, 0] * gy[:, 3]
    )
    to_ll = Transformer.from_crs(PROJECTED, WGS84, always_xy=True)
    lon, lat = to_ll.transform(gx.mean(axis=1), gy.mean(axis=1))
    scale = np.asarray(_GK.get_factors(lon, lat).areal_scale)
    return planar, planar / scale


def _check_raster(ds: rasterio.io.DatasetReader, band: int, name: str) -> None:
    """Refuse a missing band, a rotated or south-up raster, one too large, or one not on the Earth."""
    if not 1 <= band <= ds.count:
        raise InputError(f"band {band} does not exist (the raster has {ds.count})", code="invalid_band")
    t = ds.transform
    if t.b != 0 or t.d != 0 or t.e >= 0:
        raise InputError(
            "rotated or south-up rasters are not supported; warp it north-up first", code="unsupported_raster"
        )
    if ds.width * ds.height > MAX_PIXELS:
        raise InputError(f"the raster has more than {MAX_PIXELS} pixels", code="raster_too_large", status=413)
    from gisapp.core.crsinfer import check_earth_crs

    check_earth_crs(CRS(ds.crs), f"the raster {name}")


def _read_band(
    ds: rasterio.io.DatasetReader, band: int, nodata: float | None, name: str
) -> tuple[np.ndarray, np.ndarray, float | None]:
    """``(values, nodata mask, nodata value)`` of one band: the band's nodata and masks, or ``nodata`` instead; NaN is nodata."""
    nd = nodata if nodata is not None else ds.nodatavals[band - 1]
    try:
        if nodata is None:  # the band's own nodata and masks
            arr = ds.read(band, masked=True)
            raw, mask = arr.data, np.ma.getmaskarray(arr)
        else:  # the override replaces the band's nodata value
            raw = ds.read(band)
            mask = np.zeros(raw.shape, dtype=bool)
    except (RasterioIOError, rasterio.errors.RasterioError, MemoryError) as exc:
        raise InputError(
            f"cannot read band {band} of the raster {name}: it is damaged or too large",
            code="unreadable_raster",
            status=422,
        ) from exc
    if nd is not None:
        mask = mask | (np.isnan(raw) if np.isnan(nd) else raw == nd)
    if np.issubdtype(raw.dtype, np.floating):
        mask = mask | np.isnan(raw)
    return raw, mask, nd


def _extract(ds: rasterio.io.DatasetReader, raw: np.ndarray, mask: np.ndarray, zones: gpd.GeoDataFrame) -> Any:
    """exactextract's values, coverage fractions and cell ids of every zone (rows in zone order)."""
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource

    b = ds.bounds
    wkt = CRS(ds.crs).to_wkt()
    data = np.ma.MaskedArray(raw, mask=mask)
    src = NumPyRasterSource(
        data.filled(0).astype("float64"), b.left, b.bottom, b.right, b.top, nodata=None, name="val", srs_wkt=wkt
    )
    valid = NumPyRasterSource((~mask).astype("float64"), b.left, b.bottom, b.right, b.top, name="ok", srs_wkt=wkt)
    z = zones.to_crs(ds.crs)
    zz = gpd.GeoDataFrame({"zone_index": np.arange(len(z))}, geometry=z.geometry.to_numpy(), crs=z.crs)
    return exact_extract(
        [src, valid], zz, ["values", "coverage", "cell_id"], include_cols=["zone_index"], output="pandas"
    )


def _class_areas(
    vals: np.ndarray, wp: np.ndarray, we: np.ndarray, zone_p: float, class_labels: dict[str, str] | None
) -> list[ClassArea]:
    """Coverage-weighted area of every value in a zone (``wp``, ``we``: planar / ellipsoidal m² per pixel)."""
    classes = []
    for v in np.unique(vals):
        sel = vals == v
        key = _value_text(v)
        p, e = float(wp[sel].sum()), float(we[sel].sum())
        classes.append(
            ClassArea(
                value=key,
                label=(class_labels or {}).get(key, ""),
                planar_m2=round(p, 2),
                planar_ha=round(p / 1e4, 4),
                ellipsoidal_m2=round(e, 2),
                ellipsoidal_ha=round(e / 1e4, 4),
                share_pct=round(p / zone_p * 100, 4) if zone_p else 0.0,
            )
        )
    return classes


def _continuous(vals: np.ndarray, cov: np.ndarray) -> dict[str, Any]:
    """Pixel count (coverage ≥ :data:`MIN_COVERAGE`), weighted count, weighted mean, min and max."""
    has = cov >= MIN_COVERAGE
    return {
        "pixel_count": int(has.sum()),
        "weighted_count": round(float(cov.sum()), 6),
        "mean": round(float((vals * cov).sum() / cov.sum()), 6) if cov.sum() > 0 else None,
        "min": float(vals[has].min()) if has.any() else None,
        "max": float(vals[has].max()) if has.any() else None,
    }


def _zone_rows(
    ds: rasterio.io.DatasetReader,
    res: Any,
    zones: gpd.GeoDataFrame,
    labels: list[str],
    mode: str,
    class_labels: dict[str, str] | None,
) -> list[CategoricalZone] | list[ContinuousZone]:
    zone_geoms_gk = zones.to_crs(PROJECTED).geometry.to_numpy()
    zone_p = shapely.area(zone_geoms_gk)
    zone_e = ellipsoidal_m2(zone_geoms_gk)
    cat: list[CategoricalZone] = []
    con: list[ContinuousZone] = []
    for k in range(len(zones)):
        r = res.iloc[k]
        ok = np.asarray(r["ok_values"], dtype=float) > 0.5
        vals = np.asarray(r["val_values"], dtype=float)[ok]
        cov = np.asarray(r["val_coverage"], dtype=float)[ok]
        cells = np.asarray(r["val_cell_id"])[ok]
        pa, ea = _pixel_areas(ds, cells) if len(cells) else (np.zeros(0), np.zeros(0))
        wp, we = cov * pa, cov * ea
        base: dict[str, Any] = {
            "zone": labels[k],
            "zone_planar_m2": round(float(zone_p[k]), 2),
            "zone_ellipsoidal_m2": round(float(zone_e[k]), 2),
            "nodata_or_outside_planar_m2": round(max(float(zone_p[k] - wp.sum()), 0.0), 2),
            "nodata_or_outside_ellipsoidal_m2": round(max(float(zone_e[k] - we.sum()), 0.0), 2),
        }
        if mode == "categorical":
            cat.append(CategoricalZone(**base, classes=_class_areas(vals, wp, we, zone_p[k], class_labels)))
        else:
            con.append(ContinuousZone(**base, **_continuous(vals, cov)))
    return cat if mode == "categorical" else con


def zonal_stats(
    raster: Path,
    zones: gpd.GeoDataFrame,
    *,
    mode: str = "categorical",
    label_field: str = "name",
    band: int = 1,
    nodata: float | None = None,
    class_labels: dict[str, str] | None = None,
    raster_name: str | None = None,
) -> ZonalStats:
    """Zonal statistics of one band of ``raster`` over ``zones``.

    Args:
        raster: a raster file rasterio can open (GeoTIFF …), in any CRS it declares.
        zones: polygons in any CRS; ``label_field`` names each zone (else its row number).
        mode: ``categorical`` (area per class) or ``continuous`` (count/mean/min/max).
        label_field: the zones' name column.
        band: 1-based band number.
        nodata: value to treat as nodata, overriding the band's own.
        class_labels: optional ``{class value as text: label}`` for categorical output.
        raster_name: the name to report for the raster (default: the file's name), e.g. an upload's.

    Returns:
        the :class:`~gisapp.analysis.accounting.results.ZonalStats`: ``zones`` are
        :class:`~gisapp.analysis.accounting.results.CategoricalZone` rows (areas per class) or
        :class:`~gisapp.analysis.accounting.results.ContinuousZone` rows (``mean``/``min``/``max`` None without data).

    Raises:
        InputError: ``invalid_mode``, ``invalid_band``, ``not_polygons``, ``missing_crs`` and the errors of
            :func:`open_raster`.
    """
    if mode not in MODES:
        raise InputError(f"mode must be one of {', '.join(MODES)}", code="invalid_mode")
    zones = polygon_rows(zones, "zone layer")
    name = Path(raster).name
    with open_raster(raster) as ds:
        _check_raster(ds, band, name)
        raw, mask, nd = _read_band(ds, band, nodata, name)
        res = _extract(ds, raw, mask, zones)
        labels = [str(v) for v in zones[label_field]] if label_field in zones else [str(i) for i in range(len(zones))]
        rows = _zone_rows(ds, res, zones, labels, mode, class_labels)
        info = RasterInfo(
            path=raster_name if raster_name is not None else name,
            crs=CRS(ds.crs).to_string(),
            width=ds.width,
            height=ds.height,
            res=[abs(ds.transform.a), abs(ds.transform.e)],
            nodata=None if nd is None else float(nd),
            dtype=ds.dtypes[band - 1],
        )
    return ZonalStats(
        raster=info, mode=cast(Literal["categorical", "continuous"], mode), band=band, methods=METHODS, zones=rows
    )


#: How the areas are computed, as every result states it.
METHODS = ZonalMethods(
    coverage="exact pixel coverage fractions (exactextract); zones transformed to the raster's CRS",
    planar=METHOD_PLANAR + ": each pixel's footprint projected and measured",
    ellipsoidal=METHOD_ELLIPSOIDAL + ": pixel planar area / GK areal scale factor at its centre",
    nodata="nodata and masked pixels are left out; the zone area they cover is reported as nodata_or_outside_*",
)


def _value_text(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def flatten(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per zone (continuous) or per zone × class (categorical), for CSV and tables.

    Args:
        result: :meth:`ZonalStats.to_json_dict` of a :func:`zonal_stats` result.
    """
    rows = []
    for z in result["zones"]:
        if result["mode"] == "categorical":
            for c in z["classes"]:
                rows.append({"zone": z["zone"], **c})
            rows.append(
                {
                    "zone": z["zone"],
                    "value": "nodata/outside",
                    "label": "无数据或栅格外",
                    "planar_m2": z["nodata_or_outside_planar_m2"],
                    "planar_ha": round(z["nodata_or_outside_planar_m2"] / 1e4, 4),
                    "ellipsoidal_m2": z["nodata_or_outside_ellipsoidal_m2"],
                    "ellipsoidal_ha": round(z["nodata_or_outside_ellipsoidal_m2"] / 1e4, 4),
                    "share_pct": round(z["nodata_or_outside_planar_m2"] / z["zone_planar_m2"] * 100, 4)
                    if z["zone_planar_m2"]
                    else 0.0,
                }
            )
        else:
            rows.append({k: v for k, v in z.items()})
    return rows
