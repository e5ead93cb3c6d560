"""The file writers: one :class:`Writer` per format, in one registry, :data:`WRITERS`.

Every output path (``gisapp export``, ``gisapp overlap -o``, ``/api/export``, ``/api/overlap``)
offers exactly the formats of :data:`WRITERS`; the overlap paths add the report writers of
:data:`gisapp.report.overlap_report.REPORTS` (``json``, ``html``, ``pdf``), which render an analysis rather than
a table of features. All formats are written by GDAL through pyogrio, except GeoParquet
(geopandas/pyarrow) and CSV (pandas):

========== ================================ ===========================================
key        file                             metadata goes into
========== ================================ ===========================================
geojson    ``.geojson``                     a ``metadata`` foreign member
gpkg       ``.gpkg`` (GeoPackage 1.2)       layer ``IDENTIFIER``/``DESCRIPTION`` and GDAL layer metadata
shp        ``.shp.zip`` (shp/shx/dbf/prj/   ``<name>.meta.json`` and ``<name>.fields.csv`` in the zip
           cpg + sidecars)
kml        ``.kml`` (KML 2.2, LIBKML)       the ``<Document>``'s ``<description>``
csv        ``.csv`` (WKT geometry) + ``.csvt``  a sidecar ``<file>.meta.json`` (CLI); ``Link`` header (HTTP);
           (field types) and ``.prj`` (CRS)  downloads zip the four files (:meth:`Writer.sidecars`)
fgb        ``.fgb`` (FlatGeobuf)            header ``title``/``description`` and layer metadata
parquet    ``.parquet`` (GeoParquet)        file key-value metadata ``gisapp``
gdb        ``.gdb.zip`` (Esri File          feature class alias (title) and its ``DOCUMENTATION``
           Geodatabase, zipped folder)      XML (description and the record as JSON)
========== ================================ ===========================================

A writer encodes a frame *as given*: CRS transformation and coordinate rounding happen before
(:func:`gisapp.io.formats.export_frame`). To add a format, subclass :class:`Writer` (set the class
attributes, implement :meth:`Writer.encode`) and add an instance to :data:`WRITERS`.
Shapefile rules (10-character field names, 254-byte strings, GBK) are in
:func:`shapefile_field_names` and :func:`shapefile_frame`.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
import unicodedata
import zipfile
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, TypeVar
from xml.sax.saxutils import escape

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from gisapp.core.crs import WGS84
from gisapp.core.errors import InputError
from gisapp.core.registry import Registry
from gisapp.io.export import neutralise_formulas

_Frame = TypeVar("_Frame", bound=pd.DataFrame)  # a DataFrame or GeoDataFrame, returned as the same type

SHP_FIELD_LEN = 10
SHP_STRING_BYTES = 254
#: Text encodings of Shapefile (``.cpg``) and CSV output.
ENCODINGS = ("utf-8", "gbk")


@dataclass
class WriteOptions:
    """How to write one file (what :meth:`Writer.write` takes besides the frame).

    Attributes:
        layer: the layer name inside the file and the stem of member files (``zs-towns_epsg4547``).
        metadata: the record written into the file (see :func:`gisapp.io.formats.export_metadata`);
            writers add what they changed under ``metadata["export"]`` (``encoding``,
            ``field_names``, ``text_changes``, ``repaired_geometries``).
        precision: decimals of coordinates written as text (GeoJSON, CSV WKT); the frame is
            expected to be rounded already.
        encoding: ``utf-8`` or ``gbk``: Shapefile (``.cpg``) and CSV text.
        bom: CSV only: start with a UTF-8 byte-order mark (Excel).
    """

    layer: str
    metadata: dict[str, Any] = field(default_factory=dict)
    precision: int = 7
    encoding: str = "utf-8"
    bom: bool = False

    def export_info(self) -> dict[str, Any]:
        """``metadata["export"]`` (created empty when missing), where writers record what they did."""
        info: dict[str, Any] = self.metadata.setdefault("export", {})
        return info


def describe_format(entry: Any, **flags: Any) -> dict[str, Any]:
    """A format on offer as JSON: ``key``, ``name`` (its title), ``extension``, ``media_type``, then ``flags``.

    Args:
        entry: a :class:`Writer` or a report writer (anything with ``key``, ``title``, ``extension``, ``media_type``).
    """
    return {
        "key": entry.key,
        "name": entry.title,
        "extension": entry.extension,
        "media_type": entry.media_type,
        **flags,
    }


class Writer(ABC):
    """A file format users can ask for, and how to write a frame in it.

    Class attributes:
        key: the name users type (``gpkg``): the registry key.
        title: English name (``GeoPackage``).
        extension: file-name ending, with the dot (``.shp.zip``).
        media_type: HTTP ``Content-Type`` without parameters.
        binary: False for text formats that may go to stdout.
        lonlat_only: True when the format defines coordinates as WGS 84 lon/lat (KML).
        multi_layer: True when one file can hold several layers (GeoPackage).
        charset: True for text formats: their ``Content-Type`` carries ``charset``.
        honours_encoding: True when :attr:`WriteOptions.encoding` applies (CSV, Shapefile);
            other text formats are always UTF-8.
        holds_crs: False when the file cannot say its CRS (CSV): the file name then always names it.
    """

    key: ClassVar[str]
    title: ClassVar[str]
    extension: ClassVar[str]
    media_type: ClassVar[str]
    binary: ClassVar[bool]
    lonlat_only: ClassVar[bool] = False
    multi_layer: ClassVar[bool] = False
    charset: ClassVar[bool] = False
    honours_encoding: ClassVar[bool] = False
    holds_crs: ClassVar[bool] = True

    @abstractmethod
    def encode(self, frame: gpd.GeoDataFrame, options: WriteOptions, workdir: Path) -> bytes:
        """The file's bytes.

        Args:
            frame: the features, in the CRS and precision to write (any CRS; KML: lon/lat).
            options: layer name, metadata, precision, encoding, BOM.
            workdir: an empty scratch directory, removed afterwards (GDAL writes to files).

        Raises:
            InputError: when the frame cannot be written in this format (e.g. ``mixed_geometry``).
        """

    def sidecars(self, frame: gpd.GeoDataFrame, options: WriteOptions) -> dict[str, bytes]:
        """Files that go beside the main file for other tools to read it whole: ``{suffix: bytes}``
        (suffix replaces the extension, e.g. ``.prj``); none by default (see :class:`CsvWriter`)."""
        return {}

    def write(self, frame: gpd.GeoDataFrame, target: str | Path | BinaryIO, options: WriteOptions) -> None:
        """Write ``frame`` to a file path or a binary buffer.

        Args:
            frame: see :meth:`encode`.
            target: a path (written whole, not atomically: see ``gisapp.cli.export`` for that) or a
                writable binary file object.
            options: see :class:`WriteOptions`.

        Raises:
            InputError: see :meth:`encode`.
        """
        data = self.to_bytes(frame, options)
        if isinstance(target, str | Path):
            Path(target).write_bytes(data)
        else:
            target.write(data)

    def to_bytes(self, frame: gpd.GeoDataFrame, options: WriteOptions) -> bytes:
        """The file as bytes (:meth:`encode` in a scratch directory)."""
        with tempfile.TemporaryDirectory(prefix="gisapp-export-") as tmp:
            return self.encode(frame, options, Path(tmp))

    def content_type(self, encoding: str = "utf-8") -> str:
        """The HTTP ``Content-Type``: the media type, with ``charset`` for text formats.

        Args:
            encoding: the :attr:`WriteOptions.encoding` the file was written with.
        """
        if not self.charset:
            return self.media_type
        return f"{self.media_type}; charset={encoding if self.honours_encoding else 'utf-8'}"

    def describe(self) -> dict[str, Any]:
        """The format as JSON (``/api/export/formats``): key, name, extension, media type, flags."""
        return describe_format(self, binary=self.binary, lonlat_only=self.lonlat_only, multi_layer=self.multi_layer)

    def __repr__(self) -> str:
        """``<Writer gpkg>``."""
        return f"<Writer {self.key}>"


# --------------------------------------------------------------------------- the writers


class GeoJsonWriter(Writer):
    """GeoJSON (GDAL); RFC 7946 when the frame is EPSG:4326; the metadata as a foreign member."""

    key, title, extension, media_type = "geojson", "GeoJSON", ".geojson", "application/geo+json"
    binary, charset = False, True

    def encode(self, frame: gpd.GeoDataFrame, options: WriteOptions, workdir: Path) -> bytes:
        """See :meth:`Writer.encode` (GCJ-02/BD-09 files are labelled EPSG:4326, structure as RFC 7946)."""
        path = workdir / f"{options.layer}.geojson"
        rfc = frame.crs is not None and frame.crs.to_epsg() == 4326
        pyogrio.write_dataframe(
            frame,
            path,
            driver="GeoJSON",
            layer=options.layer,
            layer_options={
                "RFC7946": "YES" if rfc else "NO",
                "COORDINATE_PRECISION": str(options.precision),
                "WRITE_BBOX": "NO",
                "DESCRIPTION": _description(options.metadata),
            },
        )
        doc = json.loads(path.read_text("utf-8"))
        ordered: dict[str, Any] = {"type": doc.pop("type"), "name": doc.pop("name", options.layer)}
        if "crs" in doc:
            ordered["crs"] = doc.pop("crs")
        ordered["metadata"] = options.metadata
        ordered.update(doc)
        return json.dumps(ordered, ensure_ascii=False).encode("utf-8")


class _OgrWriter(Writer):
    """A GDAL format that takes a title option, a DESCRIPTION and layer metadata."""

    driver: ClassVar[str]
    title_option: ClassVar[str]
    #: GDAL dataset creation options (e.g. the GeoPackage version).
    dataset_options: ClassVar[dict[str, str]] = {}

    def encode(self, frame: gpd.GeoDataFrame, options: WriteOptions, workdir: Path) -> bytes:
        """See :meth:`Writer.encode`: title and description as layer options, the record as layer metadata."""
        path = workdir / f"{options.layer}{self.extension}"
        md = options.metadata
        pyogrio.write_dataframe(
            frame,
            path,
            driver=self.driver,
            layer=options.layer,
            layer_options={self.title_option: md.get("title") or options.layer, "DESCRIPTION": _description(md)},
            layer_metadata=_meta_strings(md),
            dataset_options=dict(self.dataset_options) or None,
        )
        return path.read_bytes()


class GeoPackageWriter(_OgrWriter):
    """GeoPackage 1.2 (OGC 12-128r15): layer ``IDENTIFIER``/``DESCRIPTION`` and GDAL layer metadata.

    Version 1.2, not GDAL's default 1.4: GDAL 3.6 (Debian 12, QGIS 3.22) warns on every open of a 1.4
    file ("version 1.4 … not supported"); a 1.2 file opens silently with every GDAL since 2.2.
    """

    key, title, extension, media_type = "gpkg", "GeoPackage", ".gpkg", "application/geopackage+sqlite3"
    binary, multi_layer = True, True
    driver, title_option = "GPKG", "IDENTIFIER"
    dataset_options: ClassVar[dict[str, str]] = {"VERSION": "1.2"}


class FlatGeobufWriter(_OgrWriter):
    """FlatGeobuf: header ``title``/``description`` and layer metadata."""

    key, title, extension, media_type = "fgb", "FlatGeobuf", ".fgb", "application/flatgeobuf"
    binary = True
    driver, title_option = "FlatGeobuf", "TITLE"


class KmlWriter(Writer):
    """KML 2.2 (LIBKML), WGS 84 lon/lat only; invalid polygons repaired (GDAL refuses them) and listed."""

    key, title, extension, media_type = "kml", "KML 2.2", ".kml", "application/vnd.google-earth.kml+xml"
    binary, lonlat_only, charset = False, True, True

    def encode(self, frame: gpd.GeoDataFrame, options: WriteOptions, workdir: Path) -> bytes:
        """See :meth:`Writer.encode` (the frame must be lon/lat: it is labelled WGS 84)."""
        path = workdir / f"{options.layer}.kml"
        frame = _int32(frame).set_crs(WGS84, allow_override=True)
        bad = ~shapely.is_valid(frame.geometry.to_numpy())
        if bad.any():  # GDAL's KML writers refuse invalid polygons: repair those few, and say so
            geoms = frame.geometry.to_numpy().copy()
            geoms[bad] = shapely.make_valid(geoms[bad], method="structure", keep_collapsed=False)
            frame[frame.geometry.name] = geoms
            ids = frame["id"] if "id" in frame else frame.index
            options.export_info()["repaired_geometries"] = [str(v) for v in np.asarray(ids)[bad]]
        pyogrio.write_dataframe(
            frame,
            path,
            driver="LIBKML",
            layer=options.layer,
            layer_options={
                "NAME": options.metadata.get("title") or options.layer,
                "DESCRIPTION": _description(options.metadata),
            },
        )
        return path.read_bytes()


class CsvWriter(Writer):
    """CSV, geometry as WKT in a ``wkt`` column; spreadsheet formulas neutralised; UTF-8 (BOM) or GBK.

    A CSV cannot hold its CRS or field types: :meth:`sidecars` gives the ``.csvt`` (GDAL's field
    types, the ``wkt`` column typed ``WKT``) and ``.prj`` (the CRS as WKT1) that GDAL's CSV
    driver, and QGIS through it, read beside ``<name>.csv``; the file name names the CRS.
    """

    key, title, extension, media_type = "csv", "CSV with WKT geometry", ".csv", "text/csv"
    binary, charset, honours_encoding, holds_crs = False, True, True, False

    def sidecars(self, frame: gpd.GeoDataFrame, options: WriteOptions) -> dict[str, bytes]:
        """``.csvt`` (one GDAL type per column: Integer, Integer64, Real, Integer(Boolean), Date, DateTime,
        String, WKT) and ``.prj`` (WKT1 with its EPSG code, as GDAL writes it; omitted when the frame has no CRS)."""
        types = [_csvt_type(frame[c].dtype) for c in frame.columns if c != frame.geometry.name] + ["WKT"]
        out = {".csvt": (",".join(f'"{t}"' for t in types) + "\n").encode("ascii")}
        if frame.crs is not None:
            from pyproj.enums import WktVersion

            out[".prj"] = frame.crs.to_wkt(WktVersion.WKT1_GDAL).encode("utf-8")
        return out

    def encode(self, frame: gpd.GeoDataFrame, options: WriteOptions, workdir: Path) -> bytes:
        """See :meth:`Writer.encode` (GBK: characters it lacks are substituted and listed)."""
        df = pd.DataFrame(frame.drop(columns=frame.geometry.name))
        df["wkt"] = shapely.to_wkt(frame.geometry.to_numpy(), rounding_precision=options.precision, trim=True)
        report: dict[str, Any] = {}
        if options.encoding != "utf-8":
            df = _recode(df, options.encoding, report)
        info = options.export_info()
        info["encoding"] = options.encoding
        info["text_changes"] = report
        buf = io.StringIO()
        neutralise_formulas(df).to_csv(buf, index=False, lineterminator="\n")
        prefix = b"\xef\xbb\xbf" if options.bom and options.encoding == "utf-8" else b""
        return prefix + buf.getvalue().encode(options.encoding)


class ShapefileWriter(Writer):
    """ESRI Shapefile, zipped with ``.fields.csv`` (original field names) and ``.meta.json``."""

    key, title, extension, media_type = "shp", "ESRI Shapefile (zipped)", ".shp.zip", "application/zip"
    binary, honours_encoding = True, True

    def encode(self, frame: gpd.GeoDataFrame, options: WriteOptions, workdir: Path) -> bytes:
        """See :meth:`Writer.encode`.

        Raises:
            InputError: ``mixed_geometry`` when the frame holds more than one geometry family.
        """
        stem, encoding = options.layer, options.encoding
        report: dict[str, Any] = {}
        shp = shapefile_frame(frame, encoding, report)
        mapping = shapefile_field_names([col for col in shp.columns if col != shp.geometry.name])
        shp = shp.rename(columns=mapping)
        gdal_encoding = {"utf-8": "UTF-8", "gbk": "GBK"}[encoding]
        pyogrio.write_dataframe(shp, workdir / f"{stem}.shp", driver="ESRI Shapefile", encoding=gdal_encoding)
        info = options.export_info()
        info["encoding"] = gdal_encoding
        info["field_names"] = mapping
        info["text_changes"] = {
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
            w.writerow([orig, short, str(frame[orig].dtype)])
        (workdir / f"{stem}.fields.csv").write_text(fields.getvalue(), "utf-8")
        (workdir / f"{stem}.meta.json").write_text(json.dumps(options.metadata, ensure_ascii=False, indent=2), "utf-8")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg", ".fields.csv", ".meta.json"):
                p = workdir / f"{stem}{ext}"
                if p.exists():
                    zf.write(p, p.name)
        return buf.getvalue()


class GeoParquetWriter(Writer):
    """GeoParquet (pyarrow, WKB encoded on threads: :mod:`gisapp.io.geoparquet`); the metadata as the file's key-value entry ``gisapp``."""

    key, title, extension, media_type = "parquet", "GeoParquet", ".parquet", "application/vnd.apache.parquet"
    binary = True

    def encode(self, frame: gpd.GeoDataFrame, options: WriteOptions, workdir: Path) -> bytes:
        """See :meth:`Writer.encode` (geometry in the frame's CRS, recorded in the file; written once).

        Raises:
            InputError: ``format_unavailable`` without pyarrow.
        """
        try:
            from gisapp.io.geoparquet import encode_geoparquet, wkb_column
        except ImportError as exc:  # pragma: no cover - pyarrow is a pinned requirement
            raise InputError("GeoParquet needs the pyarrow package on the server", code="format_unavailable") from exc
        name = frame.geometry.name
        column = wkb_column(np.asarray(frame.geometry.to_numpy(), dtype=object))
        return encode_geoparquet(
            pd.DataFrame(frame.copy(deep=False)),
            column,
            frame.crs,
            metadata=self.metadata_entry(options),
            attrs=frame.attrs,
            name=name,
        )

    @staticmethod
    def metadata_entry(options: WriteOptions) -> dict[bytes, bytes]:
        """The file's own key-value entry: ``{b"gisapp": the record as UTF-8 JSON}``."""
        return {b"gisapp": json.dumps(options.metadata, ensure_ascii=False).encode("utf-8")}


class FileGdbWriter(Writer):
    """Esri File Geodatabase (GDAL's OpenFileGDB driver), a ``<layer>.gdb`` folder zipped.

    One feature class per geometry family: the first of polygons, lines, points is named after the
    export (``options.layer`` made a valid FileGDB name: letters, digits, ``_``, starting with a
    letter); the others add ``_line`` / ``_point``. The title becomes the feature class alias and
    the description and the whole metadata record its ``DOCUMENTATION`` (ArcGIS item metadata).
    64-bit integers that fit are written as 32-bit Integer (older ArcGIS releases read no other);
    the names actually used are listed under ``metadata["export"]["layers"]``, and field names
    GDAL had to change (reserved words such as ``group`` → ``group_``) under ``field_names``.
    """

    key, title, extension, media_type = "gdb", "Esri File Geodatabase (zipped)", ".gdb.zip", "application/zip"
    binary, multi_layer = True, True

    def encode(self, frame: gpd.GeoDataFrame, options: WriteOptions, workdir: Path) -> bytes:
        """See :meth:`Writer.encode`.

        Raises:
            InputError: ``unsupported_geometry`` for geometry collections (a feature class holds one
                geometry family).
        """
        name = filegdb_name(options.layer)
        folder = workdir / f"{options.layer}.gdb"  # the zip's name: x.gdb.zip holds x.gdb/
        frame = _int32(frame)
        for col in frame.columns:
            if frame[col].dtype == bool:
                frame[col] = frame[col].astype(np.int16)
        kinds = frame.geom_type.fillna("").str.replace("Multi", "", regex=False)
        if (kinds == "GeometryCollection").any():
            raise InputError(
                "a File Geodatabase feature class holds one geometry family: this selection has geometry "
                "collections (filter it with --where, or choose gpkg)",
                code="unsupported_geometry",
            )
        family = kinds.map({"Polygon": "polygon", "LineString": "line", "Point": "point", "": ""})
        present = [f for f in ("polygon", "line", "point") if (family == f).any()] or ["polygon"]
        layers: list[str] = []
        for i, fam in enumerate(present):
            part = frame[(family == fam) | ((family == "") & (i == 0))]
            layer = name if i == 0 else f"{name}_{fam}"
            md = options.metadata
            pyogrio.write_dataframe(
                part,
                folder,
                driver="OpenFileGDB",
                layer=layer,
                append=bool(layers),
                promote_to_multi=bool(part.geom_type.fillna("").str.startswith("Multi").any()),
                layer_options={
                    "LAYER_ALIAS": str(md.get("title") or options.layer),
                    "DOCUMENTATION": _gdb_documentation(md),
                },
            )
            layers.append(layer)
        written = [str(f) for f in pyogrio.read_info(folder, layer=name)["fields"]]
        columns = [str(c) for c in frame.columns if c != frame.geometry.name]
        info = options.export_info()
        info["layers"] = layers
        info["field_names"] = {c: w for c, w in zip(columns, written) if c != w}
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for p in sorted(folder.iterdir()):
                zf.write(p, f"{folder.name}/{p.name}")
        return buf.getvalue()


def filegdb_name(layer: str) -> str:
    """A valid File Geodatabase table name for ``layer``: ``[A-Za-z0-9_]`` and CJK kept, others ``_``,
    a leading letter (``L_`` prepended otherwise), at most 160 characters (``zs-towns`` → ``zs_towns``)."""
    name = re.sub(r"[^0-9A-Za-z_\u4e00-\u9fff]", "_", layer) or "layer"
    if not (name[0].isalpha()):
        name = "L_" + name
    return name[:160]


def _gdb_documentation(metadata: dict[str, Any]) -> str:
    """ArcGIS item metadata XML: title, description (:func:`_description`) and the record as JSON."""
    return (
        "<metadata><dataIdInfo><idCitation><resTitle>"
        f"{escape(str(metadata.get('title', '')))}</resTitle></idCitation>"
        f"<idAbs>{escape(_description(metadata))}</idAbs></dataIdInfo>"
        f"<gisapp>{escape(json.dumps(metadata, ensure_ascii=False))}</gisapp></metadata>"
    )


#: Every file format on offer, in the order listed to users.
WRITERS: Registry[Writer] = Registry(
    "format",
    (
        GeoJsonWriter(),
        GeoPackageWriter(),
        ShapefileWriter(),
        KmlWriter(),
        CsvWriter(),
        FlatGeobufWriter(),
        GeoParquetWriter(),
        FileGdbWriter(),
    ),
    aliases={
        "filegdb": "gdb",
        "fgdb": "gdb",
        "openfilegdb": "gdb",
        "json": "geojson",
        "shapefile": "shp",
        "geopackage": "gpkg",
        "flatgeobuf": "fgb",
        "geoparquet": "parquet",
    },
)


# --------------------------------------------------------------------------- text and field rules


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


def _csvt_type(dtype: Any) -> str:
    """GDAL's ``.csvt`` type of a pandas column type (GDAL CSV driver documentation, "CSVT")."""
    if pd.api.types.is_bool_dtype(dtype):
        return "Integer(Boolean)"
    if pd.api.types.is_integer_dtype(dtype):
        return "Integer64" if np.dtype(dtype).itemsize > 4 else "Integer"
    if pd.api.types.is_float_dtype(dtype):
        return "Real"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "DateTime"
    return "String"


def _int32(df: _Frame) -> _Frame:
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
    e = metadata.get("export", {})
    for key in ("crs", "coordinate_decimals", "warning"):
        if e.get(key) not in (None, ""):
            out[key] = str(e[key])
    out["gisapp_metadata"] = json.dumps(metadata, ensure_ascii=False)
    return out


def _description(metadata: dict[str, Any]) -> str:
    """A human-readable description: title, basis, source, licence, datum, CRS, warning."""
    e = metadata.get("export", {})
    parts = [
        metadata.get("title", ""),
        f"geometry_basis: {metadata.get('geometry_basis', '')}",
        f"source: {metadata.get('source', '')}",
        f"licence: {metadata.get('licence', '')}",
        f"datum: {metadata.get('datum', '')}",
    ]
    if "crs" in e:
        parts.append(f"CRS: {e['crs']} ({e['crs_name']}), {e['coordinate_decimals']} decimals")
    if metadata.get("description"):
        parts.append(metadata["description"])
    if e.get("warning"):
        parts.append(e["warning"])
    return "\n".join(p for p in parts if p)


def shapefile_frame(out: gpd.GeoDataFrame, encoding: str, report: dict[str, Any]) -> gpd.GeoDataFrame:
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


__all__ = [
    "ENCODINGS",
    "WRITERS",
    "CsvWriter",
    "FileGdbWriter",
    "FlatGeobufWriter",
    "GeoJsonWriter",
    "GeoPackageWriter",
    "GeoParquetWriter",
    "KmlWriter",
    "ShapefileWriter",
    "WriteOptions",
    "Writer",
    "filegdb_name",
    "shapefile_field_names",
    "shapefile_frame",
]
