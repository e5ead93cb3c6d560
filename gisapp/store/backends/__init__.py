"""Spatially indexed backends for large layers (GeoPackage embedded, PostGIS when configured).

Small bundled layers stay GeoJSON files in git (:mod:`gisapp.store.layerstore`); a layer of a
million 图斑 lives in a backend that answers bbox queries, pages and vector tiles without reading
the whole layer. :mod:`gisapp.store.backends.base` holds the one interface both backends implement;
:func:`open_backend` picks one from the settings.
"""

from __future__ import annotations

from pathlib import Path

from gisapp.store.backends.base import FeatureBackend

#: Sub-folder of the layer store holding the GeoPackage backend's files.
GPKG_FOLDER = "large"


def open_backend(directory: Path, database_url: str | None) -> FeatureBackend:
    """The large-layer backend of a layer store.

    Args:
        directory: the layer store's folder; the GeoPackage backend keeps ``<directory>/large/<id>.gpkg``.
        database_url: ``GISAPP_DATABASE_URL`` (a PostgreSQL+PostGIS connection URL), or None/"" for the
            embedded GeoPackage backend.

    Returns:
        a :class:`~gisapp.store.backends.postgis.PostgisBackend` when ``database_url`` is set, else a
        :class:`~gisapp.store.backends.gpkg.GpkgBackend`.
    """
    if database_url:
        from gisapp.store.backends.postgis import (  # type: ignore[import-not-found,unused-ignore]  # written by another branch
            PostgisBackend,  # only when configured
        )

        return PostgisBackend(database_url)  # type: ignore[no-any-return,unused-ignore]  # module of another helper
    from gisapp.store.backends.gpkg import GpkgBackend

    return GpkgBackend(Path(directory) / GPKG_FOLDER)
