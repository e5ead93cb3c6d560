"""OGC API – Features (Part 1 Core, Part 2 CRS) over the layer store, built on pygeoapi.

pygeoapi (PyPI ``pygeoapi``, MIT) implements the standard: request parsing, paging links,
``crs``/``bbox-crs`` handling, the OpenAPI 3 document, JSON and HTML encodings. This package
holds only what is ours:

* :mod:`gisapp.ogcapi.provider` — a pygeoapi feature provider that reads a stored layer;
* :mod:`gisapp.ogcapi.config` — the pygeoapi configuration built from the layer store (one
  collection per layer) and the :class:`pygeoapi.api.API` object per base URL.

We use pygeoapi's building blocks rather than ``pygeoapi.flask_app``, because that module
reads its configuration from the ``PYGEOAPI_CONFIG`` file at import time and fixes one server
URL; the thin Flask routes are in :mod:`gisapp.web.routes_ogc`. Nothing here imports Flask.
"""
