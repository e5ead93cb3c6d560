"""The parcel readers: one :class:`Reader` per input format, in one registry, :data:`READERS`.

A reader turns a submission's bytes into a :class:`gisapp.io.readers.RawInput` (geometries as
written, no CRS decision). :func:`gisapp.io.readers.read_input` picks the reader (the one asked for,
else the one :func:`gisapp.io.readers.sniff.detect_format` recognises) and runs it, in a
resource-limited child process when the reader is GDAL-backed (:attr:`Reader.isolate`) and the
limits ask for it. The reader modules are imported only when a reader runs.

To add a format: write ``gisapp/io/readers/<format>.py`` with a ``read_…`` function, add a
:class:`Reader` to :data:`READERS` with its file-name extensions (hints for detection) and
media types, and teach :mod:`gisapp.io.readers.sniff` its magic bytes if it has any.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gisapp.core.limits import Limits
from gisapp.core.registry import Registry

if TYPE_CHECKING:
    from gisapp.io.readers import RawInput


@dataclass(frozen=True)
class ReadOptions:
    """What a reader gets besides the bytes.

    Attributes:
        filename: the submitted file's name (``""`` for a request body or pasted text).
        layer: the layer to read from a multi-layer source (GeoPackage, KML folder, DXF layer).
        limits: the request's bounds (:class:`gisapp.core.limits.Limits`, resolved).
        preferred: layer names taken when ``layer`` is None and a GeoPackage or FileGDB has several
            polygon layers (the first present wins; ``("DLTB",)`` for a 三调 database's 地类图斑).
    """

    filename: str
    layer: str | None
    limits: Limits
    preferred: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reader:
    """An input format users can send, and how to read it.

    Attributes:
        key: the name users give (``input_format=gpkg``, ``--input-format gpkg``): the registry key.
        title: English name.
        extensions: file-name endings that hint at this format when the content does not decide
            (a zip is recognised by its content and members, never by its name).
        media_types: the media types of the format (informative; detection uses the bytes).
        read: ``read(data, options) -> RawInput``; raises :class:`~gisapp.core.errors.InputError`.
        isolate: True for GDAL-backed formats, read in a resource-limited child process when
            ``limits.isolate`` is set (:mod:`gisapp.io.isolation`).
    """

    key: str
    title: str
    extensions: tuple[str, ...]
    media_types: tuple[str, ...]
    read: Callable[[bytes, ReadOptions], RawInput]
    isolate: bool = False

    def describe(self) -> dict[str, object]:
        """The format as JSON: key, name, extensions, media types."""
        return {
            "key": self.key,
            "name": self.title,
            "extensions": list(self.extensions),
            "media_types": list(self.media_types),
        }


def _geojson(data: bytes, o: ReadOptions) -> RawInput:
    from gisapp.io.readers.geojson import read_geojson

    return read_geojson(data, limits=o.limits)


def _shapefile(data: bytes, o: ReadOptions) -> RawInput:
    from gisapp.io.readers.shapefile import read_zipped_shapefile

    return read_zipped_shapefile(data, o.filename, limits=o.limits)


def _gpkg(data: bytes, o: ReadOptions) -> RawInput:
    from gisapp.io.readers.ogr import read_ogr

    return read_ogr(data, "gpkg", o.filename, o.layer, limits=o.limits)


def _filegdb(data: bytes, o: ReadOptions) -> RawInput:
    from gisapp.io.readers.ogr import read_ogr

    return read_ogr(data, "filegdb", o.filename, o.layer, limits=o.limits, preferred=o.preferred)


def _kml(data: bytes, o: ReadOptions) -> RawInput:
    from gisapp.io.readers.ogr import read_ogr

    return read_ogr(data, "kml", o.filename, o.layer, limits=o.limits)


def _geoparquet(data: bytes, o: ReadOptions) -> RawInput:
    from gisapp.io.readers.parquet import read_geoparquet

    return read_geoparquet(data)


def _dxf(data: bytes, o: ReadOptions) -> RawInput:
    from gisapp.io.readers.dxf import read_dxf

    return read_dxf(data, o.layer)


def _points(data: bytes, o: ReadOptions) -> RawInput:
    from gisapp.io.readers.points import read_points_text

    return read_points_text(data, limits=o.limits)


#: Every input format, in the order listed to users (``input_format=``, ``--input-format``).
READERS: Registry[Reader] = Registry(
    "input format",
    (
        Reader("geojson", "GeoJSON", (".geojson", ".json"), ("application/geo+json", "application/json"), _geojson),
        Reader(
            "shapefile",
            "ESRI Shapefile (zipped)",
            (".zip",),
            ("application/zip", "application/x-zip-compressed"),
            _shapefile,
            isolate=True,
        ),
        Reader("gpkg", "GeoPackage", (".gpkg",), ("application/geopackage+sqlite3",), _gpkg, isolate=True),
        Reader(
            "filegdb",
            "Esri File Geodatabase (zipped .gdb folder)",
            (".gdb.zip",),
            ("application/zip", "application/x-zip-compressed"),
            _filegdb,
            isolate=True,
        ),
        Reader(
            "kml",
            "KML / KMZ",
            (".kml", ".kmz"),
            ("application/vnd.google-earth.kml+xml", "application/vnd.google-earth.kmz"),
            _kml,
            isolate=True,
        ),
        Reader(
            "geoparquet",
            "GeoParquet",
            (".parquet", ".geoparquet"),
            ("application/vnd.apache.parquet",),
            _geoparquet,
            isolate=True,
        ),
        Reader("dxf", "DXF", (".dxf",), ("image/vnd.dxf", "application/dxf"), _dxf, isolate=True),
        Reader("points", "boundary points (界址点) CSV/TXT", (".csv", ".txt"), ("text/csv", "text/plain"), _points),
        Reader("text", "pasted coordinates or WKT", (), ("text/plain",), _points),
    ),
    aliases={"gdb": "filegdb", "fgdb": "filegdb", "openfilegdb": "filegdb"},
    code="unknown_format",
)


def name_hints() -> dict[str, str]:
    """``{extension: reader key}`` for detection by file name (zips excluded: their content decides)."""
    return {ext: r.key for r in READERS.values() for ext in r.extensions if not ext.endswith(".zip")}


__all__ = ["READERS", "ReadOptions", "Reader", "name_hints"]
