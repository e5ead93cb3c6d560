"""Export of layers, filtered subsets and analysis results to the files other GIS tools read.

This module prepares a frame for a writer: it picks the output CRS, transforms and rounds the
coordinates, and builds the metadata record; the file formats themselves are the writers of
:data:`gisapp.io.writers.WRITERS` (GeoJSON, GeoPackage, zipped Shapefile, KML, CSV, FlatGeobuf,
GeoParquet), and :func:`export_frame` joins the two.

CRSs (:data:`OUTPUT_CRS`): EPSG:4326 (default; GeoJSON is then RFC 7946), EPSG:4490
(CGCS2000 geographic; relabelled, not transformed, see :mod:`gisapp.core.crs`), EPSG:4547 and
EPSG:4526 (CGCS2000 3-degree Gauss-Kruger CM 114E, without and with the zone-38 prefix on the
easting; metres), and ``gcj02``/``bd09`` (the obfuscated lon/lat of AMap/Tencent and Baidu,
converted with :mod:`gisapp.core.chinacrs`; the file is labelled EPSG:4326 because neither has a
code, and its name and metadata say GCJ-02/BD-09). Geographic files hold x = longitude,
y = latitude; projected ones x = easting, y = northing (GIS order, as GDAL writes them).

Coordinates are rounded to :func:`default_precision` decimals (7 for degrees ≈ 1 cm, 2 for
metres = 1 cm) unless ``precision`` says otherwise; the metadata states the figure. Rounding keeps
every geometry valid (:func:`round_valid`: snap rounding where plain rounding would break one; the
ids are listed under ``export.snap_rounded``).
Shapefile rules (10-character field names, 254-byte strings, GBK) are in
:func:`gisapp.io.writers.shapefile_field_names`.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from gisapp.core import bbox as core_bbox
from gisapp.core.chinacrs import convert_frame
from gisapp.core.crs import to_wgs84
from gisapp.core.errors import InputError
from gisapp.io.writers import ENCODINGS, WRITERS, WriteOptions, Writer, shapefile_field_names
from gisapp.store.layerstore import LayerMeta

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


@dataclass(frozen=True)
class OutputCrs:
    """A CRS users can ask for.

    Attributes:
        key: the name users type (``EPSG:4547``, ``gcj02``).
        name: English name.
        epsg: the EPSG code written into the file (4326 for GCJ-02/BD-09, nominal).
        datum: :mod:`gisapp.core.chinacrs` datum to convert to (``gcj02``/``bd09``), else ``None``.
        slug: file-name tag (``epsg4547``, ``gcj02``).
        geographic: True for lon/lat in degrees, False for metres.
        wkt: the CRS as WKT when it has no EPSG code (``epsg`` is then 0), else ``""``.
    """

    key: str
    name: str
    epsg: int
    datum: str | None
    slug: str
    geographic: bool
    wkt: str = ""

    def pyproj(self) -> CRS:
        """The CRS written into files (EPSG:4326 for GCJ-02/BD-09, nominal)."""
        return CRS.from_wkt(self.wkt) if self.wkt else CRS.from_epsg(self.epsg)


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


@dataclass
class ExportResult:
    """One exported file.

    Attributes:
        filename: suggested file name (``<name>[_<crs slug>][_gbk]<extension>``).
        media_type: HTTP ``Content-Type`` (text types carry their charset).
        data: the file's bytes.
        metadata: what was written into the file as metadata (see :func:`export_metadata`).
        sidecars: ``{suffix: bytes}`` of files that belong beside it (CSV: ``.csvt``, ``.prj``;
            :meth:`gisapp.io.writers.Writer.sidecars`).
    """

    filename: str
    media_type: str
    data: bytes
    metadata: dict[str, Any] = field(default_factory=dict)
    sidecars: dict[str, bytes] = field(default_factory=dict)

    def sidecar_names(self) -> dict[str, str]:
        """``{file name: suffix}`` of the sidecars: the main file's name with its extension replaced."""
        stem = self.filename.rsplit(".", 1)[0]
        return {stem + suffix: suffix for suffix in self.sidecars}

    def zipped(self) -> ExportResult:
        """The file, its sidecars and the metadata (``<stem>.meta.json``) in one zip, ``<file name>.zip``;
        itself when it has no sidecars (every format but CSV holds its CRS and field types)."""
        if not self.sidecars:
            return self
        stem = self.filename.rsplit(".", 1)[0]
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(self.filename, self.data)
            for name, suffix in self.sidecar_names().items():
                zf.writestr(name, self.sidecars[suffix])
            zf.writestr(stem + ".meta.json", json.dumps(self.metadata, ensure_ascii=False, indent=2))
        return ExportResult(self.filename + ".zip", "application/zip", buf.getvalue(), self.metadata)


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


def parse_format(value: str | None) -> Writer:
    """Return the :class:`~gisapp.io.writers.Writer` for a user's format name (``None`` = GeoJSON).

    Names are those of :data:`gisapp.io.writers.WRITERS`, case-insensitive, plus the aliases
    ``json``, ``shapefile``, ``geopackage``, ``flatgeobuf``, ``geoparquet``.

    Raises:
        UnknownName: (an :class:`InputError`) ``unknown_format``, listing the registry's names.
    """
    return WRITERS.get_entry(value, default="geojson")


def frame_crs(crs: Any) -> OutputCrs:
    """The :class:`OutputCrs` of a frame's own CRS (to write a frame without transforming it).

    Args:
        crs: a pyproj CRS or anything it accepts (a result's ``frame.crs``).

    Returns:
        the entry of :data:`OUTPUT_CRS` with the same EPSG code (not GCJ-02/BD-09), else one
        made for it: ``key`` ``EPSG:<n>`` (or the CRS name when it has no code), slug ``epsg<n>``.

    Raises:
        InputError: ``missing_crs`` for ``None``.
    """
    if crs is None:
        raise InputError("the features have no CRS", code="missing_crs")
    c = CRS.from_user_input(crs)
    epsg = c.to_epsg()
    known = OUTPUT_CRS.get(f"epsg:{epsg}")
    if known is not None:
        return known
    key = f"EPSG:{epsg}" if epsg else c.name
    return OutputCrs(key, c.name, epsg or 0, None, f"epsg{epsg}" if epsg else "crs", c.is_geographic, c.to_wkt())


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
    """Parse ``minx,miny,maxx,maxy`` in any CRS (``None`` or ``""`` = no bbox).

    Raises:
        InputError: ``invalid_bbox`` unless four finite numbers with min < max (:func:`gisapp.core.bbox.parse_bbox`).
    """
    box = core_bbox.parse_bbox(value, strict=True)
    return None if box is None else (box[0], box[1], box[2], box[3])


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
        if gdf.crs is None:
            raise ValueError("select_features: the frame has no CRS to compare a bbox with")
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
    fmt: Writer,
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
        "format": fmt.title,
        "crs": out_crs.key,
        "crs_name": out_crs.name,
        "file_crs_label": f"EPSG:{out_crs.epsg}" if out_crs.epsg else out_crs.key,
        "axis_order": "x=longitude, y=latitude" if out_crs.geographic else "x=easting, y=northing (metres)",
        "coordinate_decimals": precision,
        "rfc7946": rfc,
        "warning": warning,
        "filters": filters or {},
        "feature_count": feature_count,
        "provenance_fields": [c for c in (columns or []) if c in PROVENANCE_FIELDS],
        "exported_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "generator": "gisapp (gisapp.io.formats)",
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
        out_crs: target; GCJ-02/BD-09 are converted from WGS 84 with :mod:`gisapp.core.chinacrs` and
            labelled EPSG:4326; EPSG:4490 is relabelled (see :func:`gisapp.core.crs.to_wgs84`); a frame
            already in a projected ``out_crs`` is only rounded.
        precision: decimals kept (0–15).

    Raises:
        InputError: ``missing_crs`` when ``gdf`` has no CRS.
    """
    if gdf.crs is None:
        raise InputError("the features have no CRS", code="missing_crs")
    if out_crs.datum is None and out_crs.epsg not in (4326, 4490) and gdf.crs.equals(out_crs.pyproj()):
        out = gdf.copy()  # already there (an analysis result in its own CRS): no round trip through WGS 84
    else:
        wgs = to_wgs84(gdf)
        if out_crs.datum:
            out = convert_frame(wgs, "wgs84", out_crs.datum)
        elif out_crs.epsg == 4490:
            out = wgs.set_crs("EPSG:4490", allow_override=True)
        elif out_crs.epsg == 4326:
            out = wgs.copy()
        else:
            out = wgs.to_crs(out_crs.pyproj())
    geoms, snapped = round_valid(out.geometry.to_numpy(), precision)
    ids = np.asarray(out["id"] if "id" in out else out.index)
    collapsed = snapped & shapely.is_empty(geoms) & ~shapely.is_empty(out.geometry.to_numpy())
    if collapsed.any():
        raise InputError(
            f"{precision} decimals are too few: {int(collapsed.sum())} feature(s) would vanish "
            f"({', '.join(str(v) for v in ids[collapsed][:5])}); keep more decimals",
            code="invalid_precision",
        )
    out.attrs["snap_rounded"] = [str(v) for v in ids[snapped]]
    out[out.geometry.name] = shapely.orient_polygons(geoms)
    return out


def round_valid(geoms: np.ndarray, precision: int) -> tuple[np.ndarray, np.ndarray]:
    """Round coordinates to ``precision`` decimals, keeping every geometry valid.

    Plain rounding of each vertex (``np.round``) can make two nearly touching edges cross or a ring
    collapse (the narrow spike of a schematic town cell, a BD-09 shift): an invalid polygon that QGIS
    Processing and GEOS reject. Those geometries (and any invalid before rounding) are snap-rounded
    instead: :func:`shapely.set_precision` on a grid of ``10**-precision`` (GEOS snap rounding;
    valid output, vertices on the grid, narrow parts that collapse dropped). Valid rounded geometries
    keep the plain rounding (the same vertices, repeated ones removed).

    Args:
        geoms: shapely geometries in any CRS (degrees or metres: ``precision`` counts decimals of its unit).
        precision: decimals kept (0–15).

    Returns:
        ``(geometries, snapped)``: the rounded geometries, and a boolean array marking those snap-rounded
        (a geometry that collapses entirely comes back empty).
    """
    rounded = shapely.transform(geoms, lambda xy: np.round(xy, precision))
    snapped = ~shapely.is_valid(rounded) & ~shapely.is_missing(geoms)
    keep = ~snapped & ~shapely.is_missing(geoms)
    rounded[keep] = shapely.remove_repeated_points(rounded[keep])
    if snapped.any():
        src = geoms[snapped]
        bad = ~shapely.is_valid(src)
        src[bad] = shapely.make_valid(src[bad], method="structure", keep_collapsed=False)
        grid = 10.0**-precision
        fixed = shapely.set_precision(src, grid)
        # put the snapped vertices on the same decimal values as plain rounding (differences of 1 ulp)
        again = shapely.transform(fixed, lambda xy: np.round(xy, precision))
        rounded[snapped] = np.where(shapely.is_valid(again), again, fixed)
    return rounded, snapped


def export_frame(
    gdf: gpd.GeoDataFrame,
    meta: LayerMeta | dict[str, Any],
    fmt: str | Writer | None = "geojson",
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
        fmt: a name :func:`parse_format` knows (``None`` = GeoJSON), or a :class:`~gisapp.io.writers.Writer`.
        crs: a CRS name for :func:`parse_output_crs` (default EPSG:4326), or an :class:`OutputCrs`
            (e.g. :func:`frame_crs` to keep the frame's own CRS).
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
    f = fmt if isinstance(fmt, Writer) else parse_format(fmt)
    c = crs if isinstance(crs, OutputCrs) else parse_output_crs(crs)
    enc = parse_encoding(encoding)
    if precision is None:
        precision = default_precision(c)
    if not 0 <= int(precision) <= 15:
        raise InputError(f"precision {precision} out of range: use 0–15 decimals", code="invalid_precision")
    precision = int(precision)
    if f.lonlat_only and not c.geographic:
        raise InputError(
            f"{f.title} holds WGS 84 longitude/latitude only: choose EPSG:4326 (or gcj02/bd09), not {c.key}",
            code="lonlat_only",
        )
    if len(gdf) == 0:
        raise InputError("no feature matches the selection; nothing to export", code="empty_export")
    base_name = name or (meta.id if isinstance(meta, LayerMeta) else str(meta.get("id", "export")))
    # the CRS is named unless it is the default WGS 84 in a format that says so itself; GBK files are
    # named so (a UTF-8 and a GBK download of the same layer are different files)
    stem = base_name if c.key == "EPSG:4326" and f.holds_crs else f"{base_name}_{c.slug}"
    if f.honours_encoding and enc != "utf-8":
        stem += f"_{enc}"
    out = transform_frame(gdf, c, precision)
    columns = [col for col in out.columns if col != out.geometry.name]
    metadata = export_metadata(meta, f, c, precision, len(out), filters, columns)
    if out.attrs.get("snap_rounded"):
        metadata["export"]["snap_rounded"] = out.attrs["snap_rounded"]
    options = WriteOptions(stem, metadata, precision, enc, bom)
    data = f.to_bytes(out, options)
    return ExportResult(stem + f.extension, f.content_type(enc), data, metadata, f.sidecars(out, options))


def parse_encoding(value: str | None) -> str:
    """Return ``utf-8`` or ``gbk`` for a user's encoding name (``utf8``, ``UTF_8``, ``cp936``, ``936`` …).

    Raises:
        InputError: ``unknown_encoding`` for any other name.
    """
    enc = (value or "utf-8").lower().replace("_", "-")
    enc = {"utf8": "utf-8", "cp936": "gbk", "936": "gbk"}.get(enc, enc)
    if enc not in ENCODINGS:
        raise InputError(f"unknown encoding {value!r}: use utf-8 or gbk", code="unknown_encoding")
    return enc


def describe_crs(out_crs: OutputCrs) -> str:
    """Human-readable CRS line for messages: ``EPSG:4547 (CGCS2000 / …)``."""
    return f"{out_crs.key} ({out_crs.name})"


__all__ = [
    "ENCODINGS",
    "OUTPUT_CRS",
    "ExportResult",
    "OutputCrs",
    "default_precision",
    "describe_crs",
    "export_frame",
    "export_metadata",
    "frame_crs",
    "parse_encoding",
    "parse_bbox",
    "parse_format",
    "parse_output_crs",
    "parse_where",
    "select_features",
    "shapefile_field_names",
    "transform_frame",
]
