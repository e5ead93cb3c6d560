"""Format detection from the first bytes of a submission (and the file name as a hint)."""

from __future__ import annotations

import re

from gisapp.core.errors import InputError
from gisapp.core.limits import Limits
from gisapp.io.readers.readers import name_hints

_EXCHANGE_MARKERS = tuple(m.encode(enc) for m in ("[属性描述]", "[地块坐标]") for enc in ("utf-8", "gbk"))
_DXF_RE = re.compile(rb"^\s*0\s*\r?\n\s*(SECTION|\$ACADVER)", re.S)


def _zip_kind(data: bytes, limits: Limits | None) -> str:
    from gisapp.io.readers.safety import gdb_folder, open_zip

    names = [n.lower() for n in open_zip(data, limits).namelist()]
    if gdb_folder(names) is not None:
        return "filegdb"
    for suffix, kind in ((".shp", "shapefile"), (".kml", "kml"), (".gpkg", "gpkg"), (".dxf", "dxf")):
        if any(n.endswith(suffix) for n in names):
            return kind
    for suffix in (".geojson", ".json"):
        if any(n.endswith(suffix) for n in names):
            return "geojson"
    raise InputError(
        "the zip holds no .shp, .kml, .gpkg, .dxf or .geojson file and no .gdb folder "
        "(a Shapefile needs at least .shp, .shx and .dbf, and its .prj)",
        code="invalid_zip",
    )


def detect_format(data: bytes, filename: str | None = None, limits: Limits | None = None) -> str:
    """Return the format of a submission: a key of :data:`gisapp.io.readers.readers.READERS`.

    Content wins over the file name: a zip is opened and its members decide (a ``.gdb`` folder
    is a File Geodatabase); ``SQLite format 3``
    is a GeoPackage, ``PAR1`` a (Geo)Parquet file, ``<kml`` KML, a DXF group-code header DXF,
    ``{``/``[`` GeoJSON, ``[地块坐标]`` a boundary-point exchange file. Other text is a
    boundary-point list or pasted coordinates. Without a file name, undecodable bytes are
    treated as (invalid) GeoJSON, the endpoint's historic default.

    ``limits`` bounds a zip's member count (:func:`gisapp.io.readers.safety.open_zip`).

    Raises:
        InputError: ``invalid_zip`` (zip without a usable member, unsafe names), ``zip_too_large``
            (413), ``unsupported_format``
            (a lone ``.shp``/``.dbf``, or a ``.dwg``).
    """
    head = data[:64]
    name = (filename or "").lower()
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(data, limits)
    if head.startswith(b"SQLite format 3\x00"):
        return "gpkg"
    if head.startswith(b"PAR1"):
        return "geoparquet"
    if head.startswith(b"AutoCAD Binary DXF"):
        return "dxf"
    if name.endswith((".shp", ".dbf", ".shx", ".prj")):
        raise InputError(
            "a Shapefile is several files: upload them together as one .zip (.shp, .shx, .dbf, .prj, .cpg)",
            code="unsupported_format",
        )
    if name.endswith(".dwg"):
        raise InputError("DWG is not supported: save the drawing as DXF", code="unsupported_format")
    text_head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if text_head[:1] in (b"{", b"["):
        if text_head.startswith(b"[") and any(m in data[:4096] for m in _EXCHANGE_MARKERS):
            return "points"
        return "geojson"
    if text_head[:1] == b"<" and b"<kml" in data[:4096].lower():
        return "kml"
    if _DXF_RE.match(data[:256]):
        return "dxf"
    for ext, kind in name_hints().items():
        if name.endswith(ext):
            return kind
    return "points" if _is_text(data[:4096]) else "geojson"


def _is_text(chunk: bytes) -> bool:
    for encoding in ("utf-8", "gb18030"):
        try:
            chunk.decode(encoding)
            return True
        except UnicodeDecodeError as exc:
            if len(chunk) == 4096 and exc.start >= len(chunk) - 4:  # a character cut at the end of the sample
                return True
    return False
