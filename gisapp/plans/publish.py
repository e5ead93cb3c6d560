"""Replacing a control layer in two steps: preview (validation report + diff against the stored version), then publish.

Used by the admin page (``/admin``, :mod:`gisapp.web.routes_admin`): a 管理 user uploads an official
red line (:func:`gisapp.plans.redline.import_redline`) or 镇街 layer (:func:`gisapp.plans.towns.replace_towns`),
reads what :func:`preview_import` reports, and publishes it with :func:`publish_import` — the same
transactions as ``gisapp redline import`` / ``gisapp towns replace`` (:mod:`gisapp.plans.build`), so
every version is kept and ``gisapp store rollback`` (or the page) restores the previous one.

Areas are planar in EPSG:4547 (CGCS2000 / 3-degree Gauss-Kruger CM 114E, the red line's own
``area_km2``), in km², rounded to 6 decimals (1 m²).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely

from gisapp.core.crs import PROJECTED
from gisapp.core.errors import InputError, LayerNotFound
from gisapp.plans.controllines import CONTROL_LINES
from gisapp.store.layerstore import LayerMeta, LayerStore
from gisapp.store.storetxn import Manifest

#: What can be imported: kind → (layer id, Chinese and English title): the industrial red line, the
#: 镇街, and the other control lines of :data:`gisapp.plans.controllines.CONTROL_LINES` (三区三线).
IMPORT_KINDS: dict[str, tuple[str, str, str]] = {
    "redline": ("zs-industrial-redline", "工业用地保护红线", "industrial land protection red line"),
    "towns": ("zs-towns", "镇街", "towns (镇街)"),
    **{k.key: (k.layer_id, k.title, k.title_en) for k in CONTROL_LINES.values() if k.key != "industrial"},
}


def _kind(kind: str) -> tuple[str, str, str]:
    try:
        return IMPORT_KINDS[kind]
    except KeyError:
        names = ", ".join(IMPORT_KINDS)
        raise InputError(f"unknown import kind {kind!r}: use one of {names}", code="unknown_import_kind") from None


def validate_import(
    kind: str, path: Path, directory: Path, options: dict[str, str]
) -> tuple[gpd.GeoDataFrame, LayerMeta]:
    """Read and fully check an upload (nothing is written).

    Args:
        kind: ``redline``, ``towns``, ``farmland``, ``ecology`` or ``udb`` (:data:`IMPORT_KINDS`).
        path: the file (GeoJSON, GeoPackage, zipped Shapefile …; it must declare its CRS).
        directory: the layer store (its ``base-city`` outline bounds the check).
        options: ``id_field``, ``tier_field`` (red line), ``name_field`` (towns; a control line's display
            name); empty values ignored.

    Returns:
        the layer as it would be stored (EPSG:4326) and its metadata.

    Raises:
        InputError: every check of the importer (``not_polygons``, ``outside_city``, ``duplicate_ids`` …),
            or ``unknown_import_kind``.
    """
    from gisapp.store import layercheck

    _kind(kind)
    outline = layercheck.city_outline(directory)
    if kind == "redline":
        from gisapp.plans.redline import import_redline

        return import_redline(path, options.get("id_field") or None, options.get("tier_field") or None, outline)
    if kind != "towns":
        from gisapp.plans.controllines import import_line

        return import_line(
            kind, path, options.get("id_field") or None, options.get("name_field") or None, None, outline
        )
    from gisapp.plans.towns import replace_towns

    return replace_towns(path, options.get("name_field") or "name", outline)


def _areas_by(frame: gpd.GeoDataFrame | None, towns: gpd.GeoDataFrame | None, key: str) -> dict[str, float]:
    """km² of ``frame`` per town (by intersection with ``towns``) or per value of column ``key``."""
    if frame is None or frame.empty:
        return {}
    geoms = frame.geometry.to_crs(PROJECTED)
    out: dict[str, float] = {}
    if key == "town":
        if towns is None:
            return {}
        cells = towns.geometry.to_crs(PROJECTED)
        union = shapely.union_all(geoms.to_numpy())
        for name, cell in zip(towns["name"].astype(str), cells.to_numpy()):
            a = float(shapely.area(shapely.intersection(union, cell)))
            if a > 0:
                out[name] = out.get(name, 0.0) + a / 1e6
        return out
    values = frame[key].astype(str).replace("", "（未分级）") if key in frame.columns else ["（未分级）"] * len(frame)
    for v, area in zip(values, geoms.area.to_numpy()):
        out[str(v)] = out.get(str(v), 0.0) + float(area) / 1e6
    return out


def _net(old: dict[str, float], new: dict[str, float]) -> list[dict[str, Any]]:
    rows = []
    for k in sorted(set(old) | set(new)):
        o, n = old.get(k, 0.0), new.get(k, 0.0)
        rows.append({"key": k, "old_km2": round(o, 6), "new_km2": round(n, 6), "net_km2": round(n - o, 6)})
    return rows


def layer_diff(
    old: gpd.GeoDataFrame | None, new: gpd.GeoDataFrame, id_column: str, towns: gpd.GeoDataFrame | None
) -> dict[str, Any]:
    """What replacing ``old`` by ``new`` changes.

    Args:
        old: the stored layer (EPSG:4326) or None; new: the candidate (EPSG:4326).
        id_column: the feature key (``block_id`` for the red line, ``name`` for towns: then ``by_town`` is
            each unit's own area).
        towns: the 镇街 layer the red line's areas are split by (None: no per-town split).

    Returns:
        ``{added, removed, changed, unchanged (counts and ids), total: {old_km2, new_km2, net_km2},
        by_town: [{key, old_km2, new_km2, net_km2}], by_tier: [...]}`` (km², planar EPSG:4547).
    """
    old_ids = dict(zip(old[id_column].astype(str), old.geometry)) if old is not None and id_column in old else {}
    new_ids = dict(zip(new[id_column].astype(str), new.geometry))
    added = sorted(set(new_ids) - set(old_ids))
    removed = sorted(set(old_ids) - set(new_ids))
    common = sorted(set(new_ids) & set(old_ids))
    changed = [i for i in common if not shapely.equals_exact(old_ids[i], new_ids[i], tolerance=1e-7)]
    old_total = float(old.geometry.to_crs(PROJECTED).area.sum()) / 1e6 if old is not None and len(old) else 0.0
    new_total = float(new.geometry.to_crs(PROJECTED).area.sum()) / 1e6
    return {
        "added": added,
        "removed": removed,
        "changed": changed,
        "unchanged": len(common) - len(changed),
        "total": {
            "old_km2": round(old_total, 6),
            "new_km2": round(new_total, 6),
            "net_km2": round(new_total - old_total, 6),
        },
        "by_town": (
            _net(_areas_by(old, None, id_column), _areas_by(new, None, id_column))  # a town layer: each unit itself
            if id_column == "name"
            else _net(_areas_by(old, towns, "town"), _areas_by(new, towns, "town"))
        ),
        "by_tier": _net(_areas_by(old, None, "tier"), _areas_by(new, None, "tier")) if "tier" in new.columns else [],
    }


def preview_import(kind: str, path: Path, directory: Path, options: dict[str, str]) -> dict[str, Any]:
    """Validate an upload and compare it with the stored layer (nothing is written).

    Returns:
        ``{kind, layer, title, file, report: {features, geometry_types, crs, checks, basis}, diff}``
        (:func:`layer_diff`; a red line is split by the stored ``zs-towns``).

    Raises:
        InputError: a failed check (see :func:`validate_import`).
    """
    layer_id, title, title_en = _kind(kind)
    new, meta = validate_import(kind, path, directory, options)
    store = LayerStore(directory)
    try:
        old: gpd.GeoDataFrame | None = store.read(layer_id)
    except LayerNotFound:
        old = None
    towns = None if kind == "towns" else (store.read("zs-towns") if store.exists("zs-towns") else None)
    id_column = "name" if kind == "towns" else "block_id"
    checks = [
        "可读取且声明了坐标系 readable, CRS declared",
        "均为有效面要素 valid polygons only",
        "23 个镇街各一次 each of the 23 镇街 once" if kind == "towns" else "编号唯一 ids unique",
        "位于中山市范围内 inside 中山市",
    ]
    return {
        "kind": kind,
        "layer": layer_id,
        "title": title,
        "title_en": title_en,
        "file": path.name,
        "report": {
            "valid": True,
            "features": int(len(new)),
            "geometry_types": sorted(set(new.geometry.geom_type)),
            "crs": "EPSG:4326 (stored), areas in EPSG:4547",
            "basis": meta.geometry_basis,
            "checks": checks,
        },
        "diff": layer_diff(old, new, id_column, towns),
    }


def publish_import(
    kind: str, path: Path, directory: Path, options: dict[str, str], log: Callable[[str], None] = lambda _m: None
) -> Manifest | None:
    """Store a checked upload as a new version (``gisapp redline import`` / ``gisapp towns replace``).

    Returns:
        the new version's manifest (None when identical to the stored layer).

    Raises:
        InputError: a failed check (nothing is written).
    """
    from gisapp.plans.build import import_line_to_store, import_redline_to_store, replace_towns_in_store

    _kind(kind)
    if kind == "redline":
        return import_redline_to_store(
            path, options.get("id_field") or None, options.get("tier_field") or None, directory, log=log
        )
    if kind != "towns":
        id_field, name_field = options.get("id_field") or None, options.get("name_field") or None
        return import_line_to_store(kind, path, id_field, name_field, None, directory, log=log)
    return replace_towns_in_store(path, options.get("name_field") or "name", directory, log=log)


def version_figures(directory: Path) -> list[dict[str, Any]]:
    """Every kept version of the store, newest first, with the red line's total area in it.

    Returns:
        ``[{version, time, command, changed, redline_km2 (None when that version did not change it
        and the figure is not at hand), current}]`` — the current version's figure is read from the store.
    """
    from gisapp.store.storetxn import VersionedStore

    vs = VersionedStore(directory)
    out = []
    redline_id = IMPORT_KINDS["redline"][0]
    for i, m in enumerate(vs.history()):
        # a saved version n holds the files version n+1 replaced, i.e. version n's own copy of them
        source = directory if i == 0 else vs.versions_dir / f"{m.version:06d}"
        f = source / f"{redline_id}.geojson"
        km2 = None
        if f.exists():
            km2 = round(float(gpd.read_file(f).geometry.to_crs(PROJECTED).area.sum()) / 1e6, 6)
        out.append(
            {
                "version": m.version,
                "time": m.time,
                "command": m.command,
                "changed": m.changed,
                "current": i == 0,
                "redline_km2": km2,
            }
        )
    return out


#: Upload types the admin page accepts (what :func:`gisapp.store.layercheck.read_file` reads).
UPLOAD_SUFFIXES = (".geojson", ".json", ".gpkg", ".zip")


def stage_upload(data: bytes, filename: str, target: Path, limits: Any = None) -> Path:
    """Write an uploaded file into the empty folder ``target`` with the upload checks of :mod:`gisapp.io.readers.safety`.

    A zip is extracted with counted bytes (a zipped Shapefile: the ``.shp`` is returned; a zipped
    File Geodatabase: its ``.gdb`` folder); a GeoPackage is inspected (no views, no foreign triggers).

    Args:
        data: the uploaded bytes; filename: its name (only the suffix is used); target: the folder.
        limits: :class:`gisapp.core.limits.Limits` for zips (default limits when None).

    Returns:
        the path the importer reads.

    Raises:
        InputError: ``unsupported_format`` for another suffix, ``empty_input``, the zip and GeoPackage checks.
    """
    from gisapp.io.readers import safety

    suffix = Path(filename or "").suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise InputError(
            f"upload a {', '.join(UPLOAD_SUFFIXES)} file (a Shapefile zipped with its .prj)", code="unsupported_format"
        )
    if not data:
        raise InputError("the upload is empty", code="empty_input")
    target.mkdir(parents=True, exist_ok=True)
    if suffix == ".zip":
        if safety.gdb_folder(safety.open_zip(data, limits).namelist()) is not None:
            return safety.extract_gdb(data, target / "upload.gdb", limits)
        written = safety.extract(data, target, limits)
        main = [p for p in written if p.suffix.lower() in _DRIVERS]
        if not main:
            raise InputError("the zip holds no .shp, .gpkg or .geojson file", code="invalid_zip")
        return _checked(main[0], filename, target)
    stem = re.sub(r"[^\w-]", "_", Path(filename).stem)[:64] or "upload"  # the store history names the file
    path = target / f"{stem}{suffix}"
    path.write_bytes(data)
    return _checked(path, filename, target)


#: The GDAL driver each staged file must be opened with (as the upload Readers require).
_DRIVERS = {
    ".shp": ("ESRI Shapefile",),
    ".gpkg": ("GPKG",),
    ".geojson": ("GeoJSON",),
    ".json": ("GeoJSON",),
}


def _checked(path: Path, filename: str, folder: Path) -> Path:
    """``path`` once a GeoPackage's schema is checked and GDAL opens it with its format's own driver
    (:func:`gisapp.io.readers.safety.check_gpkg`, :func:`~gisapp.io.readers.safety.check_driver`), in a
    zip as at the top level.

    Raises:
        InputError: ``invalid_gpkg``, ``unsupported_format`` (415), ``unreadable_file``.
    """
    from gisapp.io.readers import safety

    if path.suffix.lower() == ".gpkg":
        safety.check_gpkg(path, filename)
    safety.check_driver(path, None, _DRIVERS[path.suffix.lower()], filename, folder)
    return path
