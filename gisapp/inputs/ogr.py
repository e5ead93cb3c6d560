"""GeoPackage and KML/KMZ readers (GDAL through pyogrio).

* GeoPackage: the polygon layer (``layer=`` when there are several); CRS from its ``srs``.
* KML/KMZ: WGS 84 lon/lat by definition (OGC KML 2.2); every folder with polygons is read
  and the folder name kept as ``kml_folder``.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio

from gisapp.crsinfer import WGS84_CRS
from gisapp.errors import InputError
from gisapp.inputs import MAX_UNZIPPED_BYTES, RawInput

_POLY = ("Polygon", "MultiPolygon", "Polygon Z", "MultiPolygon Z", "Unknown", "Unknown (any)", "Geometry")


def _unzip_member(data: bytes, suffix: str) -> bytes:
    zf = zipfile.ZipFile(io.BytesIO(data))
    members = [i for i in zf.infolist() if i.filename.lower().endswith(suffix)]
    if not members:
        raise InputError(f"the zip holds no {suffix} file", code="invalid_zip")
    if members[0].file_size > MAX_UNZIPPED_BYTES:
        raise InputError("the zipped file expands to more than 2 GiB", code="invalid_zip", status=413)
    return zf.read(members[0])


def read_ogr(data: bytes, kind: str, filename: str = "", layer: str | None = None) -> RawInput:
    """Read a GeoPackage (``kind="gpkg"``) or KML/KMZ (``kind="kml"``).

    Args:
        data: the file's bytes (a KMZ or zipped GeoPackage is unzipped first).
        kind: ``gpkg`` or ``kml``.
        filename: original name, for messages.
        layer: the layer (GeoPackage table, KML folder) to read; default: every polygon layer
            of a KML, the only polygon layer of a GeoPackage.

    Returns:
        a :class:`~gisapp.inputs.RawInput`.

    Raises:
        InputError: ``unreadable_file``; ``ambiguous_layer`` (several polygon layers, no
            ``layer``); ``layer_not_found``; ``no_polygons``.
    """
    if data.startswith(b"PK\x03\x04"):
        data = _unzip_member(data, ".kml" if kind == "kml" else ".gpkg")
    suffix = ".kml" if kind == "kml" else ".gpkg"
    label = filename or f"the {kind.upper()} upload"
    with tempfile.TemporaryDirectory(prefix="gisapp-ogr-") as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            layers = [(str(n), str(t)) for n, t in pyogrio.list_layers(path)]
        except Exception as exc:
            raise InputError(f"cannot read {label}: {exc}", code="unreadable_file") from exc
        if layer is not None:
            if layer not in [n for n, _ in layers]:
                names = ", ".join(n for n, _ in layers)
                raise InputError(f"{label} has no layer '{layer}' (layers: {names})", code="layer_not_found")
            chosen = [layer]
        else:
            chosen = [n for n, t in layers if t in _POLY or t is None or "Polygon" in t]
            if kind == "gpkg" and len(chosen) > 1:
                raise InputError(
                    f"{label} has several polygon layers ({', '.join(chosen)}): choose one with layer=",
                    code="ambiguous_layer",
                )
        frames = []
        for name in chosen:
            try:
                gdf = pyogrio.read_dataframe(path, layer=name)
            except Exception as exc:
                raise InputError(f"cannot read layer '{name}' of {label}: {exc}", code="unreadable_file") from exc
            gdf = gdf[gdf.geometry.notna()]
            if kind == "kml":
                gdf["kml_folder"] = name
            if len(gdf):
                frames.append(gdf)
    if not frames:
        raise InputError(f"{label} holds no features with geometry", code="no_polygons")
    crs = WGS84_CRS if kind == "kml" else frames[0].crs
    gdf = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
    notes = [f"layers read: {', '.join(chosen)}"] if len(chosen) > 1 or kind == "gpkg" else []
    return RawInput(
        geometries=np.asarray(gdf.geometry.to_numpy(), dtype=object),
        properties=pd.DataFrame(gdf.drop(columns=gdf.geometry.name)),
        crs=crs,
        crs_source="KML (WGS 84 by definition)" if kind == "kml" else ("GeoPackage srs" if crs is not None else ""),
        format=kind,
        notes=notes,
    )
