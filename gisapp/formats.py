"""Export of layers, filtered subsets and analysis results to the files other GIS tools read.

Formats (all written by GDAL through pyogrio, except GeoParquet, written by geopandas/pyarrow):

========== ================================ ===========================================
key        file                             metadata goes into
========== ================================ ===========================================
geojson    ``.geojson``                     a ``metadata`` foreign member
gpkg       ``.gpkg`` (GeoPackage 1.x)       layer ``IDENTIFIER``/``DESCRIPTION`` and GDAL layer metadata
shp        ``.shp.zip`` (shp/shx/dbf/prj/   ``<name>.meta.json`` and ``<name>.fields.csv`` in the zip
           cpg + sidecars)
kml        ``.kml`` (KML 2.2, LIBKML)       the ``<Document>``'s ``<description>``
csv        ``.csv`` (WKT geometry)          a sidecar ``<file>.meta.json`` (CLI); ``Link`` header (HTTP)
fgb        ``.fgb`` (FlatGeobuf)            header ``title``/``description`` and layer metadata
parquet    ``.parquet`` (GeoParquet)        file key-value metadata ``gisapp``
========== ================================ ===========================================

CRSs (:data:`OUTPUT_CRS`): EPSG:4326 (default; GeoJSON is then RFC 7946), EPSG:4490
(CGCS2000 geographic; relabelled, not transformed, see :mod:`gisapp.crs`), EPSG:4547 and
EPSG:4526 (CGCS2000 3-degree Gauss-Kruger CM 114E, without and with the zone-38 prefix on the
easting; metres), and ``gcj02``/``bd09`` (the obfuscated lon/lat of AMap/Tencent and Baidu,
converted with :mod:`gisapp.chinacrs`; the file is labelled EPSG:4326 because neither has a
code, and its name and metadata say GCJ-02/BD-09). Geographic files hold x = longitude,
y = latitude; projected ones x = easting, y = northing (GIS order, as GDAL writes them).

Coordinates are rounded to :func:`default_precision` decimals (7 for degrees ≈ 1 cm, 2 for
metres = 1 cm) unless ``precision`` says otherwise; the metadata states the figure.
Shapefile rules (10-character field names, 254-byte strings, GBK) are in :func:`shapefile_field_names`
and :func:`_shapefile_frame`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from gisapp.chinacrs import convert_frame
from gisapp.crs import WGS84, to_wgs84
from gisapp.errors import InputError
from gisapp.export import neutralise_formulas
from gisapp.layerstore import LayerMeta

#: Property names that carry a feature's provenance (DESIGN.md, "Honesty of geometry").
PROVENANCE_FIELDS = (
    "geometry_basis",
    "geometry_method",
    "source",
    "plan",
    "plan_title",
    "section",
    "plan_line",
    "sentence",
    "basis_note",
    "uncertainty_m",
    "area_source",
    "area_status",
)

SHP_FIELD_LEN = 10
SHP_STRING_BYTES = 254
ENCODINGS = ("utf-8", "gbk")


@dataclass(frozen=True)
class OutputCrs:
    """A CRS users can ask for.

    Attributes:
        key: the name users type (``EPSG:4547``, ``gcj02``).
        name: English name.
        epsg: the EPSG code written into the file (4326 for GCJ-02/BD-09, nominal).
        datum: :mod:`gisapp.chinacrs` datum to convert to (``gcj02``/``bd09``), else ``None``.
        slug: file-name tag (``epsg4547``, ``gcj02``).
        geographic: True for lon/lat in degrees, False for metres.
    """

    key: str
    name: str
    epsg: int
    datum: str | None
    slug: str
    geographic: bool


OUTPUT_CRS: dict[str, OutputCrs] = {
    c.key.lower(): c
    for c in (
        OutputCrs("EPSG:4326", "WGS 84 longitude/latitude", 4326, None, "epsg4326", True),
        OutputCrs("EPSG:4490", "CGCS2000 longitude/latitude", 4490, None, "epsg4490", True),
        OutputCrs("EPSG:4547", "CGCS2000 / 3-degree Gauss-Kruger CM 114E (metres)", 4547, None, "epsg4547", False),
        OutputCrs(
            "EPSG:4526", "CGCS2000 / 3-degree Gauss-Kruger zone 38 (metres, easting 38…)", 4526, None, "epsg4526", False
        ),
        OutputCrs("gcj02", "GCJ-02 (AMap/高德, Tencent) longitude/latitude — NOT WGS 84", 4326, "gcj02", "gcj02", True),
        OutputCrs("bd09", "BD-09 (Baidu) longitude/latitude — NOT WGS 84", 4326, "bd09", "bd09", True),
    )
}
_CRS_ALIASES = {"wgs84": "epsg:4326", "crs84": "epsg:4326", "4326": "epsg:4326", "cgcs2000": "epsg:4490"}
_CRS_ALIASES.update({str(c.epsg): k for k, c in OUTPUT_CRS.items() if c.datum is None})


@dataclass(frozen=True)
class ExportFormat:
    """A file format users can ask for.

    Attributes:
        key: the name users type (``gpkg``).
        name: English name.
        extension: file-name ending, with the dot (``.shp.zip``).
        media_type: HTTP ``Content-Type``.
        binary: False for text formats that may go to stdout.
        lonlat_only: True when the format defines coordinates as WGS 84 lon/lat (KML).
    """

    key: str
    name: str
    extension: str
    media_type: str
    binary: bool
    lonlat_only: bool = False


FORMATS: dict[str, ExportFormat] = {
    f.key: f
    for f in (
        ExportFormat("geojson", "GeoJSON", ".geojson", "application/geo+json", False),
        ExportFormat("gpkg", "GeoPackage", ".gpkg", "application/geopackage+sqlite3", True),
        ExportFormat("shp", "ESRI Shapefile (zipped)", ".shp.zip", "application/zip", True),
        ExportFormat("kml", "KML 2.2", ".kml", "application/vnd.google-earth.kml+xml", False, lonlat_only=True),
        ExportFormat("csv", "CSV with WKT geometry", ".csv", "text/csv", False),
        ExportFormat("fgb", "FlatGeobuf", ".fgb", "application/flatgeobuf", True),
        ExportFormat("parquet", "GeoParquet", ".parquet", "application/vnd.apache.parquet", True),
    )
}


@dataclass
class ExportResult:
    """One exported file.

    Attributes:
        filename: suggested file name (``<name>[_<crs slug>]<extension>``).
        media_type: HTTP ``Content-Type`` (text types carry their charset).
        data: the file's bytes.
        metadata: what was written into the file as metadata (see :func:`export_metadata`).
    """

    filename: str
    media_type: str
    data: bytes
    metadata: dict[str, Any] = field(default_factory=dict)


def parse_output_crs(value: str | None) -> OutputCrs:
    """Return the :class:`OutputCrs` for a user's CRS name (case-insensitive; ``None`` = EPSG:4326).

    Accepts the keys of :data:`OUTPUT_CRS`, a bare EPSG number, ``wgs84``/``CRS84``/``cgcs2000``, and
    OGC URIs (``http://www.opengis.net/def/crs/EPSG/0/4547``).

    Raises:
        InputError: ``unknown_crs`` for anything else.
    """
    if value is None or value == "":
        return OUTPUT_CRS["epsg:4326"]
    key = value.strip().lower()
    m = re.match(
        r"^(?:https?://www\.opengis\.net/def/crs/(epsg|ogc)/[^/]+/|urn:ogc:def:crs:(epsg|ogc):[^:]*:)(\w+)$", key
    )
    if m:
        key = "crs84" if m.group(3) == "crs84" else m.group(3)
    key = _CRS_ALIASES.get(key, key)
    if key not in OUTPUT_CRS:
        choices = ", ".join(c.key for c in OUTPUT_CRS.values())
        raise InputError(f"unsupported output CRS {value!r}: use one of {choices}", code="unknown_crs")
    return OUTPUT_CRS[key]


def parse_format(value: str | None) -> ExportFormat:
    """Return the :class:`ExportFormat` for a user's format name (``None`` = GeoJSON).

    Raises:
        InputError: ``unknown_format`` for a name not in :data:`FORMATS`.
    """
    key = (value or "geojson").strip().lower()
    key = {
        "json": "geojson",
        "shapefile": "shp",
        "geopackage": "gpkg",
        "flatgeobuf": "fgb",
        "geoparquet": "parquet",
    }.get(key, key)
    if key not in FORMATS:
        raise InputError(f"unknown format {value!r}: use one of {', '.join(FORMATS)}", code="unknown_format")
    return FORMATS[key]


def default_precision(out_crs: OutputCrs) -> int:
    """Decimals kept by default: 7 for degrees (about 1 cm at 22.5°N), 2 for metres (1 cm)."""
    return 7 if out_crs.geographic else 2


def parse_where(expressions: list[str] | None) -> list[tuple[str, str]]:
    """Parse ``FIELD=VALUE`` filters (all must hold; a value may list alternatives as ``A|B``).

    Returns:
        ``[(field, value), …]`` in the given order.

    Raises:
        InputError: ``invalid_filter`` when an expression has no ``=`` or an empty field name.
    """
    out = []
    for expr in expressions or []:
        name, sep, value = expr.partition("=")
        if not sep or not name.strip():
            raise InputError(f"invalid filter {expr!r}: write FIELD=VALUE", code="invalid_filter")
        out.append((name.strip(), value.strip()))
    return out


def parse_bbox(value: str | None) -> tuple[float, float, float, float] | None:
    """Parse ``minx,miny,maxx,maxy`` (``None`` or ``""`` = no bbox).

    Raises:
        InputError: ``invalid_bbox`` unless it is four finite numbers with min < max.
    """
    if not value:
        return None
    try:
        nums = tuple(float(v) for v in value.split(","))
    except ValueError as exc:
        raise InputError(f"invalid bbox {value!r}: write minx,miny,maxx,maxy", code="invalid_bbox") from exc
    if len(nums) != 4 or not all(np.isfinite(nums)) or nums[0] >= nums[2] or nums[1] >= nums[3]:
        raise InputError(f"invalid bbox {value!r}: write minx,miny,maxx,maxy with min < max", code="invalid_bbox")
    return nums  # type: ignore[return-value]


def select_features(
    gdf: gpd.GeoDataFrame,
    where: list[tuple[str, str]] | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    bbox_crs: str | None = None,
) -> gpd.GeoDataFrame:
    """Return the features that match every ``where`` filter and intersect ``bbox``.

    Args:
        gdf: features with a CRS.
        where: ``[(field, value)]``; a feature matches when its value, written as text, equals
            ``value`` or one of its ``|``-separated alternatives (numbers compare numerically).
        bbox: ``(minx, miny, maxx, maxy)`` in ``bbox_crs``.
        bbox_crs: any CRS name :func:`parse_output_crs` knows except GCJ-02/BD-09 (default EPSG:4326,
            lon/lat; EPSG:4547/4526 as easting, northing).

    Raises:
        InputError: ``unknown_field`` for a field the layer lacks; ``unknown_crs``.
    """
    mask = np.ones(len(gdf), dtype=bool)
    for name, value in where or []:
        if name not in gdf.columns or name == gdf.geometry.name:
            fields = ", ".join(c for c in gdf.columns if c != gdf.geometry.name)
            raise InputError(f"no field {name!r} in this layer; fields: {fields}", code="unknown_field")
        mask &= _matches(gdf[name], value.split("|"))
    if bbox is not None:
        c = parse_output_crs(bbox_crs)
        if c.datum:
            raise InputError("give the bbox in EPSG:4326, 4490, 4547 or 4526, not GCJ-02/BD-09", code="unknown_crs")
        box = gpd.GeoSeries([shapely.box(*bbox)], crs=f"EPSG:{c.epsg}").to_crs(gdf.crs).iloc[0]
        mask &= gdf.geometry.intersects(box).to_numpy()
    return gdf[mask]


def _matches(col: pd.Series, values: list[str]) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        nums = pd.to_numeric(pd.Series(values), errors="coerce").dropna().to_numpy()
        return col.isin(nums).to_numpy()
    return col.astype(str).isin(values).to_numpy()


def export_metadata(
    meta: LayerMeta | dict[str, Any],
    fmt: ExportFormat,
    out_crs: OutputCrs,
    precision: int,
    feature_count: int,
    filters: dict[str, Any] | None = None,
    columns: list[str] | None = None,
) -> dict[str, Any]:
    """The metadata every export carries: the layer's own (source, licence, datum, basis …) plus the export's.

    Args:
        meta: the layer's :class:`LayerMeta` (or the same keys as a dict, for analysis results).
        fmt, out_crs, precision: what was written.
        feature_count: features in the file.
        filters: the selection applied (``where``, ``bbox``…), if any.
        columns: the file's attribute names (to list the provenance fields present).

    Returns:
        a JSON-serialisable dict: the layer metadata keys, then ``export`` with ``format``,
        ``crs``, ``crs_name``, ``axis_order``, ``coordinate_decimals``, ``rfc7946``, ``warning``,
        ``filters``, ``feature_count``, ``provenance_fields``, ``exported_at`` (UTC), ``generator``.
    """
    base = meta.to_dict() if isinstance(meta, LayerMeta) else dict(meta)
    base.pop("feature_count", None)
    warning = ""
    if out_crs.datum:
        warning = (
            f"坐标为 {out_crs.datum.upper()}（非 WGS 84）: coordinates are {out_crs.datum.upper()}, not WGS 84; "
            "the CRS label EPSG:4326 in the file is nominal. Use only on maps in the same datum."
        )
    rfc = fmt.key == "geojson" and out_crs.key == "EPSG:4326"
    base["export"] = {
        "format": fmt.name,
        "crs": out_crs.key,
        "crs_name": out_crs.name,
        "file_crs_label": f"EPSG:{out_crs.epsg}",
        "axis_order": "x=longitude, y=latitude" if out_crs.geographic else "x=easting, y=northing (metres)",
        "coordinate_decimals": precision,
        "rfc7946": rfc,
        "warning": warning,
        "filters": filters or {},
        "feature_count": feature_count,
        "provenance_fields": [c for c in (columns or []) if c in PROVENANCE_FIELDS],
        "exported_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "generator": "gisapp (gisapp.formats)",
    }
    if fmt.key == "geojson" and not rfc:
        base["export"]["note"] = "NOT RFC 7946 GeoJSON: " + (
            "coordinates are not WGS 84" if out_crs.datum else f"CRS is {out_crs.key} (legacy 'crs' member)"
        )
    return base


def transform_frame(gdf: gpd.GeoDataFrame, out_crs: OutputCrs, precision: int) -> gpd.GeoDataFrame:
    """Return ``gdf`` in ``out_crs``, coordinates rounded to ``precision`` decimals.

    Args:
        gdf: features in any CRS.
        out_crs: target; GCJ-02/BD-09 are converted from WGS 84 with :mod:`gisapp.chinacrs` and
            labelled EPSG:4326; EPSG:4490 is relabelled (see :func:`gisapp.crs.to_wgs84`).
        precision: decimals kept (0–15).

    Raises:
        InputError: ``missing_crs`` when ``gdf`` has no CRS.
    """
    wgs = to_wgs84(gdf)
    if out_crs.datum:
        out = convert_frame(wgs, "wgs84", out_crs.datum)
    elif out_crs.epsg == 4490:
        out = wgs.set_crs("EPSG:4490", allow_override=True)
    elif out_crs.epsg == 4326:
        out = wgs.copy()
    else:
        out = wgs.to_crs(f"EPSG:{out_crs.epsg}")
    geoms = shapely.transform(out.geometry.to_numpy(), lambda xy: np.round(xy, precision))
    geoms = shapely.remove_repeated_points(geoms)  # rounding can make neighbours equal
    # Rounding (or the BD-09 shift) can make two nearly touching edges cross, e.g. the < 1 cm wide
    # spike of the schematic 南头镇 cell. The geometry is kept as it is (faithful to the source
    # within the stated precision) and listed; only KML, whose writer refuses it, repairs it.
    broke = ~shapely.is_valid(geoms) & shapely.is_valid(wgs.geometry.to_numpy())
    out.attrs["invalid_after_rounding"] = [str(v) for v in np.asarray(out["id"] if "id" in out else out.index)[broke]]
    out[out.geometry.name] = shapely.orient_polygons(geoms)
    return out


def shapefile_field_names(columns: list[str]) -> dict[str, str]:
    """Map attribute names to Shapefile (dBASE) names of at most 10 characters, predictably.

    Rule, in column order: a name of ≤ 10 ASCII characters is kept; otherwise non-ASCII
    characters become ``_`` and the name is cut to 10; if that name is already taken
    (case-insensitively), it is cut to 7 and ``_NN`` (01, 02, …) is appended.
    E.g. ``official_area_km2`` → ``official_a``, ``geometry_basis`` → ``geometry_b``.

    Returns:
        ``{original: shapefile_name}`` for every column.
    """
    used: set[str] = set()
    out: dict[str, str] = {}
    for col in columns:
        ascii_name = "".join(ch if ord(ch) < 128 else "_" for ch in col) or "field"
        name = ascii_name[:SHP_FIELD_LEN]
        n = 0
        while name.lower() in used:
            n += 1
            name = f"{ascii_name[:7]}_{n:02d}"
        used.add(name.lower())
        out[col] = name
    return out


def _to_encoding(text: str, encoding: str) -> tuple[str, bool]:
    """Make ``text`` encodable: characters the encoding lacks are NFKC-normalised (``²`` → ``2``), else ``?``."""
    try:
        text.encode(encoding)
        return text, False
    except UnicodeEncodeError:
        pass
    chars = []
    for ch in text:
        try:
            ch.encode(encoding)
            chars.append(ch)
        except UnicodeEncodeError:
            alt = unicodedata.normalize("NFKC", ch)
            try:
                alt.encode(encoding)
                chars.append(alt)
            except UnicodeEncodeError:
                chars.append("?")
    return "".join(chars), True


def _text_columns(df: pd.DataFrame) -> list[str]:
    geom = df.geometry.name if isinstance(df, gpd.GeoDataFrame) else None
    return [c for c in df.columns if c != geom and (isinstance(df[c].dtype, pd.StringDtype) or df[c].dtype == object)]


def _recode(df: pd.DataFrame, encoding: str, report: dict[str, Any], max_bytes: int | None = None) -> pd.DataFrame:
    """Make every text value encodable in ``encoding`` (and ≤ ``max_bytes``); record changes in ``report``."""
    df = df.copy()
    ids = df["id"].astype(str).tolist() if "id" in df.columns else [str(i) for i in range(len(df))]
    for col in _text_columns(df):
        values = df[col].tolist()
        for i, v in enumerate(values):
            if not isinstance(v, str):
                continue
            new, changed = _to_encoding(v, encoding) if encoding != "utf-8" else (v, False)
            if changed:
                report.setdefault("substituted", []).append({"feature": ids[i], "field": col})
            if max_bytes is not None and len(new.encode(encoding)) > max_bytes:
                new = new.encode(encoding)[:max_bytes].decode(encoding, errors="ignore")
                report.setdefault("truncated", []).append({"feature": ids[i], "field": col})
            values[i] = new
        df[col] = pd.Series(values, index=df.index, dtype=object)
    return df


def _int32(df: pd.DataFrame) -> pd.DataFrame:
    """Cast int64 columns whose values fit to int32 (KML and dBASE write int64 as text or Real)."""
    df = df.copy()
    for c in df.columns:
        if df[c].dtype == np.int64 and (len(df) == 0 or df[c].abs().max() < 2**31):
            df[c] = df[c].astype(np.int32)
    return df


def _meta_strings(metadata: dict[str, Any]) -> dict[str, str]:
    """Flat string key/values for GDAL metadata domains (plus the whole record as ``gisapp_metadata`` JSON)."""
    keys = ("id", "title", "title_en", "source", "licence", "datum", "geometry_basis", "description", "plan")
    out = {k: str(metadata.get(k, "")) for k in keys if metadata.get(k) not in (None, "")}
    out["crs"] = metadata["export"]["crs"]
    out["coordinate_decimals"] = str(metadata["export"]["coordinate_decimals"])
    if metadata["export"]["warning"]:
        out["warning"] = metadata["export"]["warning"]
    out["gisapp_metadata"] = json.dumps(metadata, ensure_ascii=False)
    return out


def _description(metadata: dict[str, Any]) -> str:
    """A human-readable description: title, basis, source, licence, datum, CRS, warning."""
    e = metadata["export"]
    parts = [
        metadata.get("title", ""),
        f"geometry_basis: {metadata.get('geometry_basis', '')}",
        f"source: {metadata.get('source', '')}",
        f"licence: {metadata.get('licence', '')}",
        f"datum: {metadata.get('datum', '')}",
        f"CRS: {e['crs']} ({e['crs_name']}), {e['coordinate_decimals']} decimals",
    ]
    if metadata.get("description"):
        parts.append(metadata["description"])
    if e["warning"]:
        parts.append(e["warning"])
    return "\n".join(p for p in parts if p)


def export_frame(
    gdf: gpd.GeoDataFrame,
    meta: LayerMeta | dict[str, Any],
    fmt: str | ExportFormat = "geojson",
    crs: str | OutputCrs | None = None,
    *,
    encoding: str = "utf-8",
    bom: bool = False,
    precision: int | None = None,
    name: str | None = None,
    filters: dict[str, Any] | None = None,
) -> ExportResult:
    """Write features to one file in a format and CRS other GIS tools read.

    Args:
        gdf: the features (any CRS; stored layers are EPSG:4326).
        meta: the layer's metadata (:class:`LayerMeta`) or an equivalent dict for analysis results.
        fmt: a key of :data:`FORMATS` or an :class:`ExportFormat`.
        crs: a CRS name for :func:`parse_output_crs` (default EPSG:4326).
        encoding: ``utf-8`` or ``gbk`` — text encoding of Shapefile (``.cpg``) and CSV.
        bom: CSV only: start with a byte-order mark (Excel).
        precision: decimals to keep (0–15); default :func:`default_precision`.
        name: base of the file and layer name (default ``meta.id``).
        filters: the selection applied, recorded in the metadata.

    Returns:
        :class:`ExportResult` with ``filename``, ``media_type``, ``data`` and ``metadata``.

    Raises:
        InputError: ``unknown_format``, ``unknown_crs``, ``unknown_encoding``, ``invalid_precision``,
        ``lonlat_only`` (KML in a projected CRS), ``mixed_geometry`` (Shapefile with points and
        polygons), ``empty_export`` (no feature selected), ``missing_crs``.
    """
    f = fmt if isinstance(fmt, ExportFormat) else parse_format(fmt)
    c = crs if isinstance(crs, OutputCrs) else parse_output_crs(crs)
    enc = encoding.lower().replace("_", "-")
    enc = {"utf8": "utf-8", "cp936": "gbk", "936": "gbk"}.get(enc, enc)
    if enc not in ENCODINGS:
        raise InputError(f"unknown encoding {encoding!r}: use utf-8 or gbk", code="unknown_encoding")
    if precision is None:
        precision = default_precision(c)
    if not 0 <= int(precision) <= 15:
        raise InputError(f"precision {precision} out of range: use 0–15 decimals", code="invalid_precision")
    precision = int(precision)
    if f.lonlat_only and not c.geographic:
        raise InputError(
            f"{f.name} holds WGS 84 longitude/latitude only: choose EPSG:4326 (or gcj02/bd09), not {c.key}",
            code="lonlat_only",
        )
    if len(gdf) == 0:
        raise InputError("no feature matches the selection; nothing to export", code="empty_export")
    base_name = name or (meta.id if isinstance(meta, LayerMeta) else str(meta.get("id", "export")))
    stem = base_name if c.key == "EPSG:4326" else f"{base_name}_{c.slug}"
    out = transform_frame(gdf, c, precision)
    columns = [col for col in out.columns if col != out.geometry.name]
    metadata = export_metadata(meta, f, c, precision, len(out), filters, columns)
    if out.attrs.get("invalid_after_rounding"):
        metadata["export"]["invalid_after_rounding"] = out.attrs["invalid_after_rounding"]
    writer = {
        "geojson": _write_geojson,
        "gpkg": _write_gpkg,
        "shp": _write_shp,
        "kml": _write_kml,
        "csv": _write_csv,
        "fgb": _write_fgb,
        "parquet": _write_parquet,
    }[f.key]
    with tempfile.TemporaryDirectory(prefix="gisapp-export-") as tmp:
        data = writer(out, Path(tmp), stem, metadata, c, precision, enc, bom)
    media = f.media_type
    if f.key == "csv":
        media += f"; charset={enc}"
    elif f.key in ("geojson", "kml"):
        media += "; charset=utf-8"
    return ExportResult(stem + f.extension, media, data, metadata)


def _write_geojson(
    out: gpd.GeoDataFrame, tmp: Path, stem: str, metadata: dict[str, Any], c: OutputCrs, precision: int, *_: Any
) -> bytes:
    path = tmp / f"{stem}.geojson"
    rfc = c.epsg == 4326  # also GCJ-02/BD-09: same structure, labelled not-RFC in the metadata
    pyogrio.write_dataframe(
        out,
        path,
        driver="GeoJSON",
        layer=stem,
        layer_options={
            "RFC7946": "YES" if rfc else "NO",
            "COORDINATE_PRECISION": str(precision),
            "WRITE_BBOX": "NO",
            "DESCRIPTION": _description(metadata),
        },
    )
    doc = json.loads(path.read_text("utf-8"))
    ordered: dict[str, Any] = {"type": doc.pop("type"), "name": doc.pop("name", stem)}
    if "crs" in doc:
        ordered["crs"] = doc.pop("crs")
    ordered["metadata"] = metadata
    ordered.update(doc)
    return json.dumps(ordered, ensure_ascii=False).encode("utf-8")


def _write_with_metadata(
    out: gpd.GeoDataFrame, path: Path, driver: str, title_option: str, stem: str, metadata: dict[str, Any]
) -> bytes:
    """Write with pyogrio, the layer's title/description as layer options and metadata as layer metadata."""
    pyogrio.write_dataframe(
        out,
        path,
        driver=driver,
        layer=stem,
        layer_options={title_option: metadata.get("title") or stem, "DESCRIPTION": _description(metadata)},
        layer_metadata=_meta_strings(metadata),
    )
    return path.read_bytes()


def _write_gpkg(
    out: gpd.GeoDataFrame, tmp: Path, stem: str, metadata: dict[str, Any], c: OutputCrs, precision: int, *_: Any
) -> bytes:
    return _write_with_metadata(out, tmp / f"{stem}.gpkg", "GPKG", "IDENTIFIER", stem, metadata)


def _write_fgb(
    out: gpd.GeoDataFrame, tmp: Path, stem: str, metadata: dict[str, Any], c: OutputCrs, precision: int, *_: Any
) -> bytes:
    return _write_with_metadata(out, tmp / f"{stem}.fgb", "FlatGeobuf", "TITLE", stem, metadata)


def _write_kml(
    out: gpd.GeoDataFrame, tmp: Path, stem: str, metadata: dict[str, Any], c: OutputCrs, precision: int, *_: Any
) -> bytes:
    path = tmp / f"{stem}.kml"
    frame = _int32(out).set_crs(WGS84, allow_override=True)
    bad = ~shapely.is_valid(frame.geometry.to_numpy())
    if bad.any():  # GDAL's KML writers refuse invalid polygons: repair those few, and say so
        geoms = frame.geometry.to_numpy().copy()
        geoms[bad] = shapely.make_valid(geoms[bad], method="structure", keep_collapsed=False)
        frame[frame.geometry.name] = geoms
        ids = frame["id"] if "id" in frame else frame.index
        metadata["export"]["repaired_geometries"] = [str(v) for v in np.asarray(ids)[bad]]
    pyogrio.write_dataframe(
        frame,
        path,
        driver="LIBKML",
        layer=stem,
        layer_options={"NAME": metadata.get("title") or stem, "DESCRIPTION": _description(metadata)},
    )
    return path.read_bytes()


def _write_csv(
    out: gpd.GeoDataFrame,
    tmp: Path,
    stem: str,
    metadata: dict[str, Any],
    c: OutputCrs,
    precision: int,
    encoding: str,
    bom: bool,
) -> bytes:
    df = pd.DataFrame(out.drop(columns=out.geometry.name))
    df["wkt"] = shapely.to_wkt(out.geometry.to_numpy(), rounding_precision=precision, trim=True)
    report: dict[str, Any] = {}
    if encoding != "utf-8":
        df = _recode(df, encoding, report)
    metadata["export"]["encoding"] = encoding
    metadata["export"]["text_changes"] = report
    buf = io.StringIO()
    neutralise_formulas(df).to_csv(buf, index=False, lineterminator="\n")
    text = buf.getvalue()
    prefix = b"\xef\xbb\xbf" if bom and encoding == "utf-8" else b""
    return prefix + text.encode(encoding)


def _shapefile_frame(out: gpd.GeoDataFrame, encoding: str, report: dict[str, Any]) -> gpd.GeoDataFrame:
    """Rename fields to ≤ 10 characters, make text fit the encoding and 254 bytes, promote to multi-part."""
    families = {t.replace("Multi", "") for t in out.geom_type.dropna().unique()}
    if len(families) > 1:
        raise InputError(
            f"a Shapefile holds one geometry type, this selection has {', '.join(sorted(families))}: "
            "filter it (--where) or choose gpkg",
            code="mixed_geometry",
        )
    frame = _int32(out)
    frame = gpd.GeoDataFrame(
        _recode(frame, encoding, report, SHP_STRING_BYTES), geometry=out.geometry.name, crs=out.crs
    )
    for col in frame.columns:
        if frame[col].dtype == bool:
            frame[col] = frame[col].astype(np.int32)
    return frame


def _write_shp(
    out: gpd.GeoDataFrame,
    tmp: Path,
    stem: str,
    metadata: dict[str, Any],
    c: OutputCrs,
    precision: int,
    encoding: str,
    bom: bool,
) -> bytes:
    report: dict[str, Any] = {}
    frame = _shapefile_frame(out, encoding, report)
    mapping = shapefile_field_names([col for col in frame.columns if col != frame.geometry.name])
    frame = frame.rename(columns=mapping)
    gdal_encoding = {"utf-8": "UTF-8", "gbk": "GBK"}[encoding]
    pyogrio.write_dataframe(frame, tmp / f"{stem}.shp", driver="ESRI Shapefile", encoding=gdal_encoding)
    metadata["export"]["encoding"] = gdal_encoding
    metadata["export"]["field_names"] = mapping
    metadata["export"]["text_changes"] = {
        **report,
        "rule": (
            f"text longer than {SHP_STRING_BYTES} bytes in {gdal_encoding} is cut at a character boundary "
            "(listed under 'truncated'); characters the encoding lacks are NFKC-normalised (² → 2) or "
            "replaced by '?' (listed under 'substituted'). GeoPackage keeps every value whole."
        ),
    }
    fields = io.StringIO()
    w = csv.writer(fields, lineterminator="\n")
    w.writerow(["field", "shapefile_field", "dtype"])
    for orig, short in mapping.items():
        w.writerow([orig, short, str(out[orig].dtype)])
    (tmp / f"{stem}.fields.csv").write_text(fields.getvalue(), "utf-8")
    (tmp / f"{stem}.meta.json").write_text(json.dumps(metadata, ensure_ascii=False, indent=2), "utf-8")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg", ".fields.csv", ".meta.json"):
            p = tmp / f"{stem}{ext}"
            if p.exists():
                zf.write(p, p.name)
    return buf.getvalue()


def _write_parquet(
    out: gpd.GeoDataFrame, tmp: Path, stem: str, metadata: dict[str, Any], c: OutputCrs, precision: int, *_: Any
) -> bytes:
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - pyarrow is a pinned requirement
        raise InputError("GeoParquet needs the pyarrow package on the server", code="format_unavailable") from exc
    path = tmp / f"{stem}.parquet"
    out.to_parquet(path, index=False)
    table = pq.read_table(path)
    schema_meta = dict(table.schema.metadata or {})
    schema_meta[b"gisapp"] = json.dumps(metadata, ensure_ascii=False).encode("utf-8")
    pq.write_table(table.replace_schema_metadata(schema_meta), path)
    return path.read_bytes()


def describe_crs(out_crs: OutputCrs) -> str:
    """Human-readable CRS line for messages: ``EPSG:4547 (CGCS2000 / …)``."""
    return f"{out_crs.key} ({out_crs.name})"


__all__ = [
    "FORMATS",
    "OUTPUT_CRS",
    "ExportFormat",
    "ExportResult",
    "OutputCrs",
    "default_precision",
    "describe_crs",
    "export_frame",
    "export_metadata",
    "parse_bbox",
    "parse_format",
    "parse_output_crs",
    "parse_where",
    "select_features",
    "shapefile_field_names",
    "transform_frame",
]
