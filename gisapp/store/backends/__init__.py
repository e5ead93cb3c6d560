"""Spatially indexed backends for large layers (GeoPackage embedded, PostGIS when configured).

Small bundled layers stay GeoJSON files in git (:mod:`gisapp.store.layerstore`); a layer of a
million 图斑 lives in a backend that answers bbox queries, pages and vector tiles without reading
the whole layer. :mod:`gisapp.store.backends.base` holds the one interface both backends implement.
"""
