"""GeoPackage, File Geodatabase and KML/KMZ readers (GDAL through pyogrio).

* GeoPackage: the polygon layer (``layer=`` when there are several); CRS from its ``srs``.
* Esri File Geodatabase: a zipped ``.gdb`` folder (``x.gdb.zip``, or any zip whose one ``.gdb``
  folder holds the tables), read with GDAL's OpenFileGDB driver; the polygon feature class
  (``layer=`` when there are several, e.g. a 三调 database's DLTB, XZQ, CJDCQ); CRS from the
  feature class's spatial reference.
* KML/KMZ: WGS 84 lon/lat by definition (OGC KML 2.2); every folder with polygons is read
  and the folder name kept as ``kml_folder``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio

from gisapp.core.crsinfer import WGS84_CRS
from gisapp.core.errors import READ_ERRORS, InputError
from gisapp.core.limits import Limits, resolve
from gisapp.io.readers import RawInput, json_safe_frame
from gisapp.io.readers.safety import check_driver, check_gpkg, check_kml, extract_gdb, read_member, scrub

_POLY = ("Polygon", "MultiPolygon", "Polygon Z", "MultiPolygon Z", "Unknown", "Unknown (any)", "Geometry")
#: The GDAL drivers that may open each format (checked after opening; all others are deregistered).
DRIVERS = {"gpkg": ("GPKG",), "kml": ("LIBKML", "KML"), "filegdb": ("OpenFileGDB",)}
#: What each format is called in messages and where its CRS comes from.
_LABELS = {
    "gpkg": ("GPKG", "GeoPackage srs"),
    "kml": ("KML", ""),
    "filegdb": ("File Geodatabase", "FileGDB spatial reference"),
}


def read_ogr(
    data: bytes,
    kind: str,
    filename: str = "",
    layer: str | None = None,
    limits: Limits | None = None,
    preferred: tuple[str, ...] = (),
) -> RawInput:
    """Read a GeoPackage (``kind="gpkg"``), a zipped File Geodatabase (``"filegdb"``) or KML/KMZ (``"kml"``).

    The bytes are checked before GDAL opens them (:mod:`gisapp.io.readers.safety`: a KML's root
    element is ``kml``, without DTD or entities; a GeoPackage's schema has no views, foreign
    triggers or virtual tables; a File Geodatabase is extracted from its zip with every byte
    counted, only the ``.gdb`` folder's table files), and GDAL must then have used the format's
    own driver (:data:`DRIVERS`).

    Args:
        data: the file's bytes (a KMZ, zipped GeoPackage or zipped ``.gdb`` folder is unzipped
            first, bytes counted).
        kind: ``gpkg``, ``filegdb`` or ``kml``.
        filename: original name, for messages.
        layer: the layer (GeoPackage table, FileGDB feature class, KML folder) to read; default:
            every polygon layer of a KML, the only polygon layer of a GeoPackage or FileGDB.
        limits: the request's :class:`~gisapp.core.limits.Limits` (default: :data:`~gisapp.core.limits.DEFAULT_LIMITS`).
        preferred: layer names read when ``layer`` is None and there are several polygon layers
            (the first present wins; e.g. ``("XZQ",)`` for a 三调 database's 行政区 layer).

    Returns:
        a :class:`~gisapp.io.readers.RawInput`; date/time attributes as ISO 8601 text.

    Raises:
        InputError: ``unreadable_file``; ``invalid_kml``/``invalid_gpkg`` (422); ``unsupported_format``
            (415, GDAL saw another format); ``invalid_zip``/``zip_too_large``; ``ambiguous_layer``
            (several polygon layers, no ``layer``); ``layer_not_found``; ``no_polygons``.
    """
    lim = resolve(limits)
    suffix = {"kml": ".kml", "gpkg": ".gpkg", "filegdb": ".gdb"}[kind]
    title, crs_label = _LABELS[kind]
    label = filename or f"the {title} upload"
    if kind == "filegdb" and not data.startswith(b"PK\x03\x04"):
        raise InputError(f"{label}: send a File Geodatabase as a zipped .gdb folder", code="invalid_zip")
    if data.startswith(b"PK\x03\x04") and kind != "filegdb":
        data, member = read_member(data, suffix, lim)
        label = f"{label} ({member})"
    if kind == "kml":
        check_kml(data, label)
    with tempfile.TemporaryDirectory(prefix="gisapp-ogr-") as tmp:
        path = Path(tmp) / f"upload{suffix}"
        if kind == "filegdb":
            extract_gdb(data, path, lim)
        else:
            path.write_bytes(data)
        if kind == "gpkg":
            check_gpkg(path, label)
        try:
            layers = [(str(n), str(t)) for n, t in pyogrio.list_layers(path)]
        except READ_ERRORS as exc:
            raise InputError(f"cannot read {label}: {scrub(str(exc), tmp, label)}", code="unreadable_file") from exc
        if not layers:
            raise InputError(f"{label} holds no layers", code="no_polygons", status=422)
        check_driver(path, layers[0][0], DRIVERS[kind], label, tmp)
        if kind == "filegdb":  # tables without geometry are listed with no geometry type
            layers = [(n, t) for n, t in layers if t not in ("None", "")]
        if layer is not None:
            if layer not in [n for n, _ in layers]:
                names = ", ".join(n for n, _ in layers)
                raise InputError(f"{label} has no layer {layer[:80]!r} (layers: {names[:300]})", code="layer_not_found")
            chosen = [layer]
        else:
            chosen = [n for n, t in layers if t in _POLY or t is None or "Polygon" in t]
            wanted = [n for n in preferred if n in chosen]
            if len(chosen) > 1 and wanted:
                chosen = wanted[:1]
            if kind in ("gpkg", "filegdb") and len(chosen) > 1:
                raise InputError(
                    f"{label} has several polygon layers ({', '.join(chosen)[:300]}): choose one with layer=",
                    code="ambiguous_layer",
                )
        frames = []
        total = 0
        for name in chosen:
            if lim.max_features is not None:
                try:
                    count = int(pyogrio.read_info(path, layer=name).get("features") or 0)
                except READ_ERRORS:  # the read below reports it
                    count = 0
                total += max(count, 0)
                if total > lim.max_features:
                    raise InputError(
                        f"too many features in {label} ({total} > {lim.max_features})",
                        code="too_many_features",
                        status=413,
                    )
            try:
                gdf = pyogrio.read_dataframe(path, layer=name)
            except READ_ERRORS as exc:
                msg = scrub(str(exc), tmp, label)
                raise InputError(f"cannot read layer {name[:80]!r} of {label}: {msg}", code="unreadable_file") from exc
            gdf = gdf[gdf.geometry.notna()]
            if kind == "kml":
                gdf["kml_folder"] = name
            if len(gdf):
                frames.append(gdf)
    if not frames:
        raise InputError(f"{label} holds no features with geometry", code="no_polygons")
    crs = WGS84_CRS if kind == "kml" else frames[0].crs
    gdf = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
    notes = [f"layers read: {', '.join(chosen)}"] if len(chosen) > 1 or kind != "kml" else []
    return RawInput(
        geometries=np.asarray(gdf.geometry.to_numpy(), dtype=object),
        properties=json_safe_frame(pd.DataFrame(gdf.drop(columns=gdf.geometry.name))),
        crs=crs,
        crs_source="KML (WGS 84 by definition)" if kind == "kml" else (crs_label if crs is not None else ""),
        format=kind,
        notes=notes,
    )
