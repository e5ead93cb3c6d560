"""Readers of parcel files, one module per format, behind one entry point: :func:`read_input`.

The formats are the :class:`~gisapp.io.readers.readers.Reader` entries of
:data:`gisapp.io.readers.readers.READERS` (key, file-name extensions, media types, ``read``).

Every reader returns a :class:`RawInput`: the geometries *as written in the file* (no CRS
transformation, no repair), their attributes, and the CRS the file *declares* (or ``None``).
Deciding the CRS (declared, user-given or inferred), converting GCJ-02/BD-09, repairing and
measuring are later steps (:mod:`gisapp.core.crsinfer`, :mod:`gisapp.analysis.parcels`).

Safety (issue 11): importing this package applies the process-wide GDAL policy
(:mod:`gisapp.io.gdalpolicy`: only the needed drivers, no network); every reader gets the request's
:class:`gisapp.core.limits.Limits` (zip expansion counted while extracting, features, vertices, text
lines); GDAL-backed formats are checked before GDAL sees them (:mod:`gisapp.io.readers.safety`) and,
with ``limits.isolate``, read in a resource-limited child process (:mod:`gisapp.io.isolation`).
Attributes are returned JSON-safe (dates as ISO 8601 text).

Formats (see ``docs/overlap.md`` for what each accepts):

========================  ==========  =============================================  ==========================
format                    key         recognised by                                  module
========================  ==========  =============================================  ==========================
GeoJSON                   geojson     text starting with ``{``; ``.geojson/.json``   :mod:`.geojson`
zipped Shapefile          shapefile   zip holding a ``.shp``                         :mod:`.shapefile`
GeoPackage                gpkg        ``SQLite format 3`` header; ``.gpkg``          :mod:`.ogr`
Esri File Geodatabase     filegdb     zip holding a ``.gdb`` folder                  :mod:`.ogr`
KML / KMZ                 kml         ``<kml``; zip holding a ``.kml``               :mod:`.ogr`
GeoParquet                geoparquet  ``PAR1`` header; ``.parquet``                  :mod:`.parquet`
DXF                       dxf         ``0 SECTION`` header; ``.dxf``                 :mod:`.dxf`
boundary points (界址点)  points      ``[地块坐标]``; CSV/TXT of point no., X, Y      :mod:`.points`
pasted coordinates / WKT  text        any other text                                 :mod:`.points`
========================  ==========  =============================================  ==========================
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pyproj import CRS

from gisapp.core.errors import InputError
from gisapp.core.limits import DEFAULT_LIMITS, Limits, resolve
from gisapp.io import gdalpolicy

gdalpolicy.apply()

#: Upper bound on what an uploaded zip may expand to (bytes), by default: see :class:`gisapp.core.limits.Limits`.
MAX_UNZIPPED_BYTES = DEFAULT_LIMITS.max_unzipped_bytes


@dataclass
class RawInput:
    """Geometries and attributes as read from a file, before any CRS or geometry handling.

    Attributes:
        geometries: object array of shapely geometries in the file's own coordinates
            (``None`` for a feature without geometry).
        properties: one row per geometry (the file's attributes, Chinese decoded).
        crs: the CRS the file declares, or ``None`` when it declares none.
        crs_source: where that declaration comes from (``".prj"``, ``"GeoJSON crs member"``,
            ``"RFC 7946 default"`` …); ``""`` when none.
        crs_is_default: True when ``crs`` is only a format's default (GeoJSON without a
            ``crs`` member), which the coordinates may contradict (then the CRS is inferred).
        format: the key of the reader that read it (:data:`gisapp.io.readers.readers.READERS`).
        ids: per geometry an id the format itself carries (GeoJSON ``id``, DXF label), or None.
        notes: what the reader decided, one sentence each (e.g. the .dbf encoding).
    """

    geometries: np.ndarray
    properties: pd.DataFrame
    crs: CRS | None
    crs_source: str
    format: str
    crs_is_default: bool = False
    ids: list[str | None] | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class SourceInfo:
    """What was submitted: for the report and the result's ``input`` member.

    Attributes:
        filename: the file name given (``""`` for a request body or pasted text).
        format: the format read (a key of :data:`gisapp.io.readers.readers.READERS`).
        bytes: size of the submission in bytes.
        sha256: SHA-256 of the submitted bytes, hex.
        notes: the reader's notes (encoding, layers, labels).
    """

    filename: str
    format: str
    bytes: int
    sha256: str
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-ready dict."""
        return {
            "filename": self.filename,
            "format": self.format,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "notes": list(self.notes),
        }


def sha256_hex(data: bytes) -> str:
    """Return the SHA-256 of ``data`` as 64 hex digits."""
    return hashlib.sha256(data).hexdigest()


def json_safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Attributes made JSON-safe: date/time columns become ISO 8601 text (missing → None).

    GDAL gives KML's ``timestamp``/``begin``/``end`` (and .dbf/GeoPackage date fields) as
    datetimes, with NaT where empty, which no JSON encoder accepts.
    """
    out = frame
    for col in frame.columns:
        series = frame[col]
        if pd.api.types.is_datetime64_any_dtype(series.dtype) or pd.api.types.is_timedelta64_dtype(series.dtype):
            text = series.astype(object).map(lambda v: None if pd.isna(v) else v.isoformat())
        elif series.dtype == object and series.map(lambda v: hasattr(v, "isoformat")).any():
            text = series.map(lambda v: v.isoformat() if hasattr(v, "isoformat") else (None if _is_nat(v) else v))
        else:
            continue
        if out is frame:
            out = frame.copy()
        out[col] = text.astype(object)
    return out


def _is_nat(value: Any) -> bool:
    try:
        return value is pd.NaT or bool(pd.isna(value)) and not isinstance(value, str)
    except (TypeError, ValueError):
        return False


def check_size(raw: RawInput, limits: Limits | None = None) -> None:
    """Check a read input against the feature and vertex bounds of ``limits``.

    Raises:
        InputError: ``too_many_features`` / ``too_many_vertices`` (413).
    """
    import shapely

    lim = resolve(limits)
    n = len(raw.geometries)
    if lim.max_features is not None and n > lim.max_features:
        raise InputError(f"too many features ({n} > {lim.max_features})", code="too_many_features", status=413)
    if lim.max_vertices is not None and n:
        geoms = np.asarray(raw.geometries, dtype=object).copy()
        geoms[pd.isna(geoms)] = None
        vertices = int(shapely.get_num_coordinates(geoms).sum())
        if vertices > lim.max_vertices:
            raise InputError(
                f"too many vertices ({vertices} > {lim.max_vertices})", code="too_many_vertices", status=413
            )


def read_input(
    data: bytes | str,
    filename: str | None = None,
    fmt: str | None = None,
    layer: str | None = None,
    limits: Limits | None = None,
    preferred: tuple[str, ...] = (),
) -> tuple[RawInput, SourceInfo]:
    """Read parcels from the bytes of any supported file (or pasted text).

    Args:
        data: the file's bytes, or text (pasted coordinates, GeoJSON).
        filename: the original file name, used as a hint for the format (``.zip``, ``.dxf`` …).
        fmt: force a format (a key of :data:`gisapp.io.readers.readers.READERS`); default: detected
            (:func:`gisapp.io.readers.sniff.detect_format`).
        layer: layer name for multi-layer sources (GeoPackage, FileGDB feature class, KML folders, DXF layer).
        limits: bounds for this request (:class:`gisapp.core.limits.Limits`; default
            :data:`gisapp.core.limits.DEFAULT_LIMITS`).
        preferred: layer names read when ``layer`` is None and a FileGDB has several polygon layers
            (e.g. ``("DLTB",)``).

    Returns:
        ``(raw, source)``: the geometries as written and a :class:`SourceInfo` with the SHA-256.

    Raises:
        InputError: ``empty_input``; ``unknown_format`` for an unsupported ``fmt``; and each
            reader's errors (``invalid_geojson``, ``unreadable_file``, ``invalid_zip``,
            ``invalid_points`` …); ``too_many_features``/``too_many_vertices``/``zip_too_large`` (413);
            ``too_complex``/``too_slow`` (422, isolated reads).
    """
    from gisapp.io.readers.readers import READERS
    from gisapp.io.readers.sniff import detect_format

    raw_bytes = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if not raw_bytes.strip():
        raise InputError("empty input: send a parcel file or coordinates", code="empty_input")
    reader = READERS.get_entry(fmt) if fmt is not None else None
    lim = resolve(limits)
    kind = reader.key if reader is not None else detect_format(raw_bytes, filename, lim)
    if lim.isolate and READERS[kind].isolate:
        from gisapp.io.isolation import run_isolated

        raw = run_isolated(_read, (kind, raw_bytes, filename or "", layer, lim, preferred), lim)
    else:
        raw = _read(kind, raw_bytes, filename or "", layer, lim, preferred)
    check_size(raw, lim)
    source = SourceInfo(filename or "", raw.format, len(raw_bytes), sha256_hex(raw_bytes), list(raw.notes))
    return raw, source


def _read(
    kind: str, data: bytes, filename: str, layer: str | None, limits: Limits, preferred: tuple[str, ...] = ()
) -> RawInput:
    """Run reader ``kind`` (module-level, so that :func:`gisapp.io.isolation.run_isolated` can pickle it)."""
    from gisapp.io.readers.readers import READERS, ReadOptions

    return READERS[kind].read(data, ReadOptions(filename, layer, limits, preferred))
